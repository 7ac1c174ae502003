//! Server-rendered pages (askama templates in `broker/templates/`, escaped by default).

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::service::admin::console::{ConsoleAdmin, OrgAdmins};
use crate::service::admin::import::TenantUsersPage;
use crate::service::admin::organizations::OrgView;
use crate::service::admin::users::UserView;
use crate::service::login_flow::{LoginView, Step};
use crate::store::AuditRecord;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    step: Step,
    tx: &'a str,
    csrf: &'a str,
    identifier: &'a str,
    client_name: &'a str,
    upstream_name: &'a str,
    error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage<'a> {
    title: &'a str,
    message: &'a str,
    is_error: bool,
    link: Option<(&'a str, &'a str)>,
}

#[derive(Template)]
#[template(path = "logout_confirm.html")]
pub struct LogoutConfirmPage<'a> {
    pub csrf: &'a str,
    pub client_name: Option<&'a str>,
    pub id_token_hint: Option<&'a str>,
    pub client_id: Option<&'a str>,
    pub post_logout_redirect_uri: Option<&'a str>,
    pub state: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "device.html")]
struct DeviceEntryPage<'a> {
    csrf: &'a str,
    user_code: &'a str,
    error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "device_consent.html")]
struct DeviceConsentPage<'a> {
    tx: &'a str,
    csrf: &'a str,
    client_name: &'a str,
    user_email: &'a str,
    user_code: &'a str,
}

/// The `/device` code entry page (RFC 8628 §3.3).
pub fn device_entry(view: &crate::service::device::DeviceEntryView) -> Response {
    render(
        if view.error.is_some() {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        },
        &DeviceEntryPage {
            csrf: &view.csrf,
            user_code: &view.user_code,
            error: view.error,
        },
    )
}

/// The approve/deny page after signing in for a device.
pub fn device_consent(view: &crate::service::login_flow::DeviceConsentView) -> Response {
    render(
        StatusCode::OK,
        &DeviceConsentPage {
            tx: &view.tx,
            csrf: &view.csrf,
            client_name: &view.client_name,
            user_email: &view.user_email,
            user_code: &view.user_code,
        },
    )
}

pub struct SessionLine {
    pub method: String,
    pub since: String,
    pub user_agent: Option<String>,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "account.html")]
pub struct AccountPage<'a> {
    pub name: &'a str,
    pub email: &'a str,
    pub organization: Option<&'a str>,
    pub method: String,
    pub signed_in_at: String,
    pub user_id: &'a str,
    pub sessions: Vec<SessionLine>,
    pub csrf: &'a str,
}

/// The admin console's header: who is signed in, and whether they are an operator.
pub struct ConsoleHeader<'a> {
    pub email: &'a str,
    pub operator: bool,
    pub csrf: &'a str,
}

impl<'a> ConsoleHeader<'a> {
    pub fn of(admin: &'a ConsoleAdmin) -> ConsoleHeader<'a> {
        ConsoleHeader {
            email: &admin.email,
            operator: admin.is_operator(),
            csrf: &admin.csrf,
        }
    }
}

/// One organisation as a row of the console's table, its facts already in words.
pub struct OrgRow {
    pub id: String,
    pub origin: &'static str,
    pub in_force: bool,
    pub out_of_force: Option<String>,
    pub domains: String,
    pub tenant: String,
    pub consent: String,
    pub users: usize,
    pub sso: &'static str,
    pub last_sync: String,
}

impl OrgRow {
    fn of(o: &OrgView, users: usize) -> OrgRow {
        OrgRow {
            id: o.id.clone(),
            origin: if o.origin == "runtime" {
                "created here"
            } else {
                "policy file"
            },
            in_force: o.in_force,
            out_of_force: o.out_of_force.clone(),
            domains: o.domains.join(", "),
            tenant: o.tenant_id.clone().unwrap_or_else(|| "—".into()),
            consent: match &o.state.consent {
                None => "not yet".into(),
                Some(c) if c.granted => format!("granted {}", format_time(c.at)),
                Some(c) => format!(
                    "refused ({}) {}",
                    c.error.as_deref().unwrap_or("unknown"),
                    format_time(c.at)
                ),
            },
            users,
            sso: match o.sso {
                "all_synced_users" => "all synced users",
                "per_user" => "per user",
                _ => "off",
            },
            last_sync: match &o.state.last_sync {
                None => "never".into(),
                Some(s) => format!(
                    "{} {}: {}{}",
                    s.operation,
                    format_time(s.at),
                    s.outcome.as_str(),
                    s.error
                        .as_deref()
                        .map(|e| format!(" ({e})"))
                        .unwrap_or_default()
                ),
            },
        }
    }
}

#[derive(Template)]
#[template(path = "console_orgs.html")]
pub struct ConsoleOrgsPage<'a> {
    pub header: ConsoleHeader<'a>,
    pub rows: Vec<OrgRow>,
    pub notice: Option<&'a str>,
}

impl<'a> ConsoleOrgsPage<'a> {
    pub fn new(
        admin: &'a ConsoleAdmin,
        orgs: &[(OrgView, usize)],
        notice: Option<&'a str>,
    ) -> ConsoleOrgsPage<'a> {
        ConsoleOrgsPage {
            header: ConsoleHeader::of(admin),
            rows: orgs.iter().map(|(o, n)| OrgRow::of(o, *n)).collect(),
            notice,
        }
    }
}

/// One user as a row of an organisation's page.
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub name: String,
    pub method: &'static str,
    pub sso: bool,
    pub disabled: bool,
}

#[derive(Template)]
#[template(path = "console_org.html")]
pub struct ConsoleOrgPage<'a> {
    pub header: ConsoleHeader<'a>,
    pub org: OrgRow,
    pub entra: bool,
    pub per_user: bool,
    pub users: Vec<UserRow>,
    pub admins: OrgAdmins,
    pub notice: Option<&'a str>,
    pub error: Option<&'a str>,
}

impl<'a> ConsoleOrgPage<'a> {
    pub fn new(
        admin: &'a ConsoleAdmin,
        org: &OrgView,
        users: &[UserView],
        admins: OrgAdmins,
        notice: Option<&'a str>,
        error: Option<&'a str>,
    ) -> ConsoleOrgPage<'a> {
        ConsoleOrgPage {
            header: ConsoleHeader::of(admin),
            org: OrgRow::of(org, users.len()),
            entra: org.tenant_id.is_some(),
            per_user: org.sso == "per_user",
            users: users
                .iter()
                .map(|u| UserRow {
                    id: u.id.clone(),
                    email: u.email.clone(),
                    name: u.name.clone(),
                    method: match u.sign_in_method {
                        "sso" => "single sign-on",
                        "password" => "password",
                        _ => "none",
                    },
                    sso: u.sso,
                    disabled: u.disabled,
                })
                .collect(),
            admins,
            notice,
            error,
        }
    }
}

/// A user of the tenant as a row of the import list.
pub struct TenantUserRow {
    pub id: String,
    /// What the box is labelled with: the mail, else the UPN.
    pub email: String,
    pub name: String,
    pub imported: bool,
    pub enabled: bool,
}

#[derive(Template)]
#[template(path = "console_tenant_users.html")]
pub struct ConsoleTenantUsersPage<'a> {
    pub header: ConsoleHeader<'a>,
    pub org: &'a str,
    pub search: &'a str,
    pub users: Vec<TenantUserRow>,
    /// The next page's link (relative), if any.
    pub next: Option<String>,
}

impl<'a> ConsoleTenantUsersPage<'a> {
    pub fn new(
        admin: &'a ConsoleAdmin,
        org: &'a str,
        search: Option<&'a str>,
        page: &TenantUsersPage,
    ) -> ConsoleTenantUsersPage<'a> {
        let search = search.unwrap_or_default();
        let enc = |s: &str| -> String { form_urlencoded::byte_serialize(s.as_bytes()).collect() };
        ConsoleTenantUsersPage {
            header: ConsoleHeader::of(admin),
            org,
            search,
            users: page
                .users
                .iter()
                .map(|u| TenantUserRow {
                    id: u.id.clone(),
                    email: u
                        .mail
                        .clone()
                        .or_else(|| u.user_principal_name.clone())
                        .unwrap_or_else(|| u.id.clone()),
                    name: u.display_name.clone().unwrap_or_default(),
                    imported: u.imported,
                    enabled: u.account_enabled != Some(false),
                })
                .collect(),
            next: page.next.as_deref().map(|token| {
                format!(
                    "/admin/organizations/{}/tenant-users?search={}&page={}",
                    enc(org),
                    enc(search),
                    enc(token)
                )
            }),
        }
    }
}

/// The audit page's filters, as typed.
pub struct AuditFilters<'a> {
    pub organization: &'a str,
    pub user: &'a str,
    pub event: &'a str,
    pub period: &'a str,
}

/// An audit record as a row of the audit page.
pub struct AuditRow {
    pub time: String,
    pub event: String,
    pub outcome: String,
    pub actor: String,
    pub subject: String,
    pub organization: String,
    pub ip: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "console_audit.html")]
pub struct ConsoleAuditPage<'a> {
    pub header: ConsoleHeader<'a>,
    pub filters: AuditFilters<'a>,
    pub rows: Vec<AuditRow>,
}

impl<'a> ConsoleAuditPage<'a> {
    pub fn new(
        admin: &'a ConsoleAdmin,
        records: &[AuditRecord],
        filters: AuditFilters<'a>,
    ) -> ConsoleAuditPage<'a> {
        let or_dash = |s: Option<&String>| s.cloned().unwrap_or_else(|| "—".into());
        ConsoleAuditPage {
            header: ConsoleHeader::of(admin),
            filters,
            rows: records
                .iter()
                .map(|r| AuditRow {
                    time: format_time(r.time),
                    event: r.event.clone(),
                    outcome: match &r.reason {
                        Some(reason) => format!("{} ({reason})", r.outcome.as_str()),
                        None => r.outcome.as_str().to_owned(),
                    },
                    actor: or_dash(r.actor.as_ref()),
                    subject: or_dash(r.identifier.as_ref().or(r.user_id.as_ref())),
                    organization: or_dash(r.organization.as_ref()),
                    ip: or_dash(r.ip.as_ref()),
                    detail: r.detail.clone().unwrap_or_default(),
                })
                .collect(),
        }
    }
}

/// The create form's values, as typed.
pub struct NewOrgFields<'a> {
    pub id: &'a str,
    pub domains: &'a str,
    pub upstream: &'a str,
    pub tenant: &'a str,
    pub sso: &'a str,
    pub password_fallback: bool,
    pub jit: bool,
    pub sync_interval: &'a str,
}

#[derive(Template)]
#[template(path = "console_new_org.html")]
pub struct ConsoleNewOrgPage<'a> {
    pub header: ConsoleHeader<'a>,
    pub upstreams: &'a [&'a str],
    pub fields: NewOrgFields<'a>,
    pub problems: &'a [String],
    /// The runtime organisation being changed; `None` for a new one.
    pub editing: Option<&'a str>,
}

/// Renders a template as a 200/`status` HTML response; a rendering failure is a 500 page.
pub fn render<T: Template>(status: StatusCode, page: &T) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a page failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

pub fn login(view: &LoginView) -> Response {
    let status = match (view.retry_after, view.error) {
        (Some(_), _) => StatusCode::TOO_MANY_REQUESTS,
        _ => StatusCode::OK,
    };
    let mut resp = render(
        status,
        &LoginPage {
            step: view.step,
            tx: &view.tx,
            csrf: &view.csrf,
            identifier: &view.identifier,
            client_name: &view.client_name,
            upstream_name: view.upstream_name.as_deref().unwrap_or("your organisation"),
            error: view.error,
        },
    );
    if let Some(secs) = view.retry_after
        && let Ok(v) = HeaderValue::from_str(&secs.to_string())
    {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

pub fn message(status: StatusCode, title: &str, message: &str, is_error: bool) -> Response {
    render(
        status,
        &MessagePage {
            title,
            message,
            is_error,
            link: None,
        },
    )
}

pub fn message_with_link(
    status: StatusCode,
    title: &str,
    message: &str,
    link: (&str, &str),
) -> Response {
    render(
        status,
        &MessagePage {
            title,
            message,
            is_error: false,
            link: Some(link),
        },
    )
}

#[derive(Template)]
#[template(path = "password_set.html")]
struct PasswordSetPage<'a> {
    email: &'a str,
    token: &'a str,
    error: Option<&'a str>,
}

/// The page of a password-set link (the admin API's `password-link`).
pub fn password_set(status: StatusCode, email: &str, token: &str, error: Option<&str>) -> Response {
    render(
        status,
        &PasswordSetPage {
            email,
            token,
            error,
        },
    )
}

/// Formats unix seconds as `YYYY-MM-DD HH:MM UTC`; a time out of range reads "unknown".
pub fn format_time(t: u64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    i64::try_from(t)
        .ok()
        .and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok())
        .and_then(|at| at.format(format).ok())
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    #[test]
    fn format_time_known_dates() {
        assert_eq!(super::format_time(0), "1970-01-01 00:00 UTC");
        assert_eq!(super::format_time(1_795_392_000), "2026-11-23 00:00 UTC");
        assert_eq!(
            super::format_time(951_782_400 + 3661),
            "2000-02-29 01:01 UTC"
        );
        assert_eq!(super::format_time(u64::MAX), "unknown");
    }
}
