//! Server-rendered pages (askama templates in `broker/templates/`, escaped by default).

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::chrome::{Chrome, For, machine_time};
use crate::i18n::Msg;
use crate::service::admin::console::{ConsoleAdmin, OrgAdmins};
use crate::service::admin::import::TenantUsersPage;
use crate::service::admin::organizations::OrgView;
use crate::service::admin::users::{PasswordLink, UserView};
use crate::service::login_flow::{LoginView, Step};
use crate::service::reset::ResetView;
use crate::store::AuditRecord;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    c: Chrome,
    step: Step,
    tx: &'a str,
    csrf: &'a str,
    identifier: &'a str,
    upstream_name: &'a str,
    error: Option<Msg>,
    /// The passkey challenge: its state handle and request options (JSON).
    passkey: Option<&'a crate::service::passkeys::PasskeyOffer>,
    totp: Option<super::qr::TotpSetupView>,
    recovery_codes: &'a [String],
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    c: Chrome,
    title: String,
    message: String,
    is_error: bool,
    link: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "logout_confirm.html")]
pub struct LogoutConfirmPage<'a> {
    pub c: Chrome,
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
    c: Chrome,
    csrf: &'a str,
    user_code: &'a str,
    error: Option<Msg>,
}

#[derive(Template)]
#[template(path = "device_consent.html")]
struct DeviceConsentPage<'a> {
    c: Chrome,
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
            c: Chrome::current(For::default()),
            csrf: &view.csrf,
            user_code: &view.user_code,
            error: view.error.map(Msg::new),
        },
    )
}

/// The approve/deny page after signing in for a device.
pub fn device_consent(view: &crate::service::login_flow::DeviceConsentView) -> Response {
    render(
        StatusCode::OK,
        &DeviceConsentPage {
            c: Chrome::current(For::default()),
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
    /// In words (UTC), and for `<time datetime>`.
    pub since: (String, String),
    /// "Chrome on Linux".
    pub device: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "account.html")]
pub struct AccountPage<'a> {
    pub c: Chrome,
    pub name: &'a str,
    pub email: &'a str,
    pub organization: Option<&'a str>,
    pub method: String,
    /// In words (UTC), and for `<time datetime>`.
    pub signed_in_at: (String, String),
    pub user_id: &'a str,
    pub sessions: Vec<SessionLine>,
    pub csrf: &'a str,
    pub passkeys: PasskeysSection<'a>,
    /// One-time codes: since when (in words, and for `<time datetime>`), if set up.
    pub totp_since: Option<(String, String)>,
}

/// The account page's passkeys.
pub struct PasskeysSection<'a> {
    /// Passkeys are for this user (a local sign-in).
    pub allowed: bool,
    /// The sign-in is recent enough to add or remove one.
    pub fresh: bool,
    pub keys: Vec<PasskeyLine>,
    pub registration: Option<&'a crate::service::passkeys::PasskeyOffer>,
}

/// One passkey on the account page.
pub struct PasskeyLine {
    pub id: String,
    pub name: String,
    pub created: (String, String),
    pub last_used: Option<(String, String)>,
}

/// `/account/mfa/totp`: the set-up (`setup`), or the recovery codes once it is done.
#[derive(Template)]
#[template(path = "account_totp.html")]
pub struct AccountTotpPage<'a> {
    pub c: Chrome,
    pub setup: Option<super::qr::TotpSetupView>,
    pub csrf: &'a str,
    pub error: Option<Msg>,
    pub recovery_codes: &'a [String],
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

/// Words that may hold one moment, cut around it so that the page marks the moment up as
/// `<time datetime>` (and the page's script shows it in the reader's zone) while the
/// catalogs keep the whole sentence, the moment where the language puts it (`{ $time }`).
pub struct Said {
    pub before: String,
    /// In words (UTC), and for `<time datetime>`.
    pub at: Option<(String, String)>,
    pub after: String,
}

/// Stands for `{ $time }` while a message is formatted; no catalog writes it.
const TIME_MARK: &str = "\u{E000}";

impl Said {
    /// Words without a moment.
    pub fn words(text: String) -> Said {
        Said {
            before: text,
            at: None,
            after: String::new(),
        }
    }

    /// Message `m`, its `{ $time }` the moment `unix`.
    pub fn with_time(c: &Chrome, m: Msg, unix: u64) -> Said {
        let text = c.msg(&m.arg("time", TIME_MARK));
        match text.split_once(TIME_MARK) {
            Some((before, after)) => Said {
                before: before.to_owned(),
                at: Some(moment(c, unix)),
                after: after.replace(TIME_MARK, ""),
            },
            // A catalog that leaves the moment out.
            None => Said::words(text),
        }
    }
}

/// The last Graph operation of an organisation: its names are data (`fetch`, `import`;
/// `success`, `failure`), shown as they are.
pub struct LastSync {
    pub operation: String,
    /// In words (UTC), and for `<time datetime>`.
    pub at: (String, String),
    pub outcome: &'static str,
    pub error: Option<String>,
}

/// One organisation as a row of the console's table, its facts already in words.
pub struct OrgRow {
    pub id: String,
    /// Defined in the policy file (read-only in the console), not at run time.
    pub from_file: bool,
    /// Where it is defined, in words.
    pub origin: String,
    pub in_force: bool,
    /// Why a runtime organisation is out of force, in words.
    pub out_of_force: Option<String>,
    pub domains: String,
    pub tenant: String,
    pub consent: Said,
    pub users: usize,
    pub sso: String,
    /// `None`: never synced.
    pub last_sync: Option<LastSync>,
}

impl OrgRow {
    fn of(c: &Chrome, o: &OrgView, users: usize) -> OrgRow {
        let from_file = o.origin != "runtime";
        OrgRow {
            id: o.id.clone(),
            from_file,
            origin: c.t(if from_file {
                "console-origin-file"
            } else {
                "console-origin-runtime"
            }),
            in_force: o.in_force,
            out_of_force: o
                .out_of_force
                .as_ref()
                .map(|why| c.t1("console-out-of-force", "detail", why)),
            domains: o.domains.join(", "),
            tenant: o.tenant_id.clone().unwrap_or_else(|| "—".into()),
            consent: match &o.state.consent {
                None => Said::words(c.t("console-consent-not-yet")),
                Some(s) if s.granted => {
                    Said::with_time(c, Msg::new("console-consent-granted"), s.at)
                }
                Some(s) => Said::with_time(
                    c,
                    Msg::new("console-consent-refused")
                        .arg("error", s.error.as_deref().unwrap_or("—")),
                    s.at,
                ),
            },
            users,
            sso: c.t(sso_words(o.sso)),
            last_sync: o.state.last_sync.as_ref().map(|s| LastSync {
                operation: s.operation.clone(),
                at: moment(c, s.at),
                outcome: s.outcome.as_str(),
                error: s.error.clone(),
            }),
        }
    }
}

/// The message of an organisation's `sso` setting.
fn sso_words(sso: &str) -> &'static str {
    match sso {
        "all_synced_users" => "console-sso-all",
        "per_user" => "console-sso-per-user",
        _ => "console-sso-off",
    }
}

#[derive(Template)]
#[template(path = "console_orgs.html")]
pub struct ConsoleOrgsPage<'a> {
    pub c: Chrome,
    pub header: ConsoleHeader<'a>,
    pub rows: Vec<OrgRow>,
    pub notice: Option<Msg>,
}

impl<'a> ConsoleOrgsPage<'a> {
    pub fn new(
        admin: &'a ConsoleAdmin,
        orgs: &[(OrgView, usize)],
        notice: Option<Msg>,
    ) -> ConsoleOrgsPage<'a> {
        let c = Chrome::current(For::default());
        ConsoleOrgsPage {
            header: ConsoleHeader::of(admin),
            rows: orgs.iter().map(|(o, n)| OrgRow::of(&c, o, *n)).collect(),
            notice,
            c,
        }
    }
}

/// One user as a row of an organisation's page.
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub name: String,
    /// How the user signs in now, in words.
    pub method: String,
    pub sso: bool,
    pub disabled: bool,
    /// One-time codes set up.
    pub totp: bool,
    /// Passkeys registered.
    pub passkeys: usize,
}

/// What an organisation's page says on top, after an action.
pub enum OrgNotice {
    /// What was done (`console-done-…`).
    Done(Msg),
    /// A password link, shown this once.
    PasswordLink(PasswordLink),
}

#[derive(Template)]
#[template(path = "console_org.html")]
pub struct ConsoleOrgPage<'a> {
    pub c: Chrome,
    pub header: ConsoleHeader<'a>,
    pub org: OrgRow,
    pub entra: bool,
    pub per_user: bool,
    pub users: Vec<UserRow>,
    pub admins: OrgAdmins,
    pub notice: Option<Said>,
    /// The password link the notice gives, shown after it.
    pub link: Option<String>,
    pub error: Option<Msg>,
}

impl<'a> ConsoleOrgPage<'a> {
    /// The rows with what each user has besides a password.
    pub fn with_factors(
        mut self,
        factors: &std::collections::HashMap<String, crate::service::admin::factors::FactorCount>,
    ) -> ConsoleOrgPage<'a> {
        for row in &mut self.users {
            if let Some(f) = factors.get(&row.id) {
                row.totp = f.totp;
                row.passkeys = f.passkeys;
            }
        }
        self
    }

    pub fn new(
        admin: &'a ConsoleAdmin,
        org: &OrgView,
        users: &[UserView],
        admins: OrgAdmins,
        notice: Option<OrgNotice>,
        error: Option<Msg>,
    ) -> ConsoleOrgPage<'a> {
        let c = Chrome::current(For::default());
        let (notice, link) = match notice {
            None => (None, None),
            Some(OrgNotice::Done(m)) => (Some(Said::words(c.msg(&m))), None),
            Some(OrgNotice::PasswordLink(l)) => (
                Some(Said::with_time(
                    &c,
                    Msg::new("console-password-link"),
                    l.expires_at,
                )),
                Some(l.url),
            ),
        };
        ConsoleOrgPage {
            header: ConsoleHeader::of(admin),
            org: OrgRow::of(&c, org, users.len()),
            entra: org.tenant_id.is_some(),
            per_user: org.sso == "per_user",
            users: users
                .iter()
                .map(|u| UserRow {
                    id: u.id.clone(),
                    email: u.email.clone(),
                    name: u.name.clone(),
                    method: c.t(match u.sign_in_method {
                        "sso" => "console-method-sso",
                        "password" => "console-method-password",
                        _ => "console-method-none",
                    }),
                    sso: u.sso,
                    disabled: u.disabled,
                    totp: false,
                    passkeys: 0,
                })
                .collect(),
            admins,
            notice,
            link,
            error,
            c,
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
    pub c: Chrome,
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
            c: Chrome::current(For::default()),
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

/// An audit record as a row of the audit page. Its fields are data, shown as they are.
pub struct AuditRow {
    /// In words (UTC), and for `<time datetime>`.
    pub time: (String, String),
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
    pub c: Chrome,
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
        let c = Chrome::current(For::default());
        let or_dash = |s: Option<&String>| s.cloned().unwrap_or_else(|| "—".into());
        ConsoleAuditPage {
            header: ConsoleHeader::of(admin),
            filters,
            rows: records
                .iter()
                .map(|r| AuditRow {
                    time: moment(&c, r.time),
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
            c,
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
    pub c: Chrome,
    pub header: ConsoleHeader<'a>,
    pub upstreams: &'a [&'a str],
    pub fields: NewOrgFields<'a>,
    /// Why the form was refused: the policy's problems (each naming its field), or another
    /// reason.
    pub problems: &'a [Msg],
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
    login_with_codes(view, &[])
}

/// The login page, showing the recovery codes of a set-up that just succeeded (once).
pub fn login_with_codes(view: &LoginView, recovery_codes: &[String]) -> Response {
    let status = match (view.retry_after, view.error) {
        (Some(_), _) => StatusCode::TOO_MANY_REQUESTS,
        _ => StatusCode::OK,
    };
    let mut c = Chrome::current(For {
        ui_locales: view.ui_locales.as_deref(),
        client: Some(&view.client_id),
        organization: view.organization.as_deref(),
    });
    // The brand's own reset page wins; else the broker's, back to this login afterwards.
    if c.forgot_password.is_none() && view.reset {
        c.forgot_password = Some(format!("{FORGOT_PATH}?tx={}", view.tx));
    }
    let resp = render(
        status,
        &LoginPage {
            c,
            step: view.step,
            tx: &view.tx,
            csrf: &view.csrf,
            identifier: &view.identifier,
            upstream_name: view.upstream_name.as_deref().unwrap_or_default(),
            error: view.error.map(Msg::new),
            passkey: view.passkey.as_deref(),
            totp: view.totp.as_deref().map(super::qr::TotpSetupView::new),
            recovery_codes,
        },
    );
    with_retry_after(resp, view.retry_after)
}

/// A rate-limit refusal says when retrying makes sense (RFC 9110 §10.2.3).
fn with_retry_after(mut resp: Response, retry_after: Option<u64>) -> Response {
    if let Some(secs) = retry_after
        && let Ok(v) = HeaderValue::from_str(&secs.to_string())
    {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

/// The self-service reset's page (see `service/reset.rs`).
pub const FORGOT_PATH: &str = "/password/forgot";

#[derive(Template)]
#[template(path = "password_forgot.html")]
struct ForgotPage<'a> {
    c: Chrome,
    view: &'a ResetView,
    minutes: String,
    error: Option<Msg>,
}

/// The reset page: the form, or what happens next once it was sent.
pub fn password_forgot(view: &ResetView) -> Response {
    let status = match (view.retry_after, view.error) {
        (Some(_), _) => StatusCode::TOO_MANY_REQUESTS,
        (None, Some(_)) => StatusCode::BAD_REQUEST,
        (None, None) => StatusCode::OK,
    };
    let resp = render(
        status,
        &ForgotPage {
            c: Chrome::current(For {
                ui_locales: view.ui_locales.as_deref(),
                client: Some(&view.client_id),
                organization: view.organization.as_deref(),
            }),
            view,
            minutes: view.minutes.to_string(),
            error: view.error.map(Msg::new),
        },
    );
    with_retry_after(resp, view.retry_after)
}

/// A page that says one thing: a title and a message, both from the catalogs.
pub fn message(
    status: StatusCode,
    title: impl Into<Msg>,
    message: impl Into<Msg>,
    is_error: bool,
) -> Response {
    let c = Chrome::current(For::default());
    render(
        status,
        &MessagePage {
            title: c.msg(&title.into()),
            message: c.msg(&message.into()),
            is_error,
            link: None,
            c,
        },
    )
}

/// [`message`] with a link: its address and its text.
pub fn message_with_link(
    status: StatusCode,
    title: impl Into<Msg>,
    message: impl Into<Msg>,
    link: (&str, impl Into<Msg>),
) -> Response {
    let c = Chrome::current(For::default());
    render(
        status,
        &MessagePage {
            title: c.msg(&title.into()),
            message: c.msg(&message.into()),
            is_error: false,
            link: Some((link.0.to_owned(), c.msg(&link.1.into()))),
            c,
        },
    )
}

#[derive(Template)]
#[template(path = "password_set.html")]
struct PasswordSetPage<'a> {
    c: Chrome,
    email: &'a str,
    token: &'a str,
    min_chars: usize,
    error: Option<Msg>,
}

/// The page of a password-set link (the admin API's `password-link`).
pub fn password_set(status: StatusCode, email: &str, token: &str, error: Option<Msg>) -> Response {
    render(
        status,
        &PasswordSetPage {
            c: Chrome::current(For::default()),
            email,
            token,
            min_chars: crate::service::admin::users::PASSWORD_MIN_CHARS,
            error,
        },
    )
}

/// The page after signing out: "You have been signed out of <product>."
pub fn signed_out(policy: &crate::policy::Policy) -> Response {
    message_with_link(
        StatusCode::OK,
        "signed-out-title",
        Msg::new("signed-out").arg("product", policy.branding.product_name.clone()),
        ("/account", "sign-in-again"),
    )
}

/// A moment for a page: in the page's language (UTC), and for `<time datetime>`.
pub fn moment(c: &Chrome, unix: u64) -> (String, String) {
    (c.date_time(unix), machine_time(unix))
}

#[cfg(test)]
mod tests {
    use askama::Template;

    use super::*;
    use crate::directory::UserSource;
    use crate::i18n::Catalogs;
    use crate::service::admin::AdminCtx;
    use crate::service::admin::console::Reach;
    use crate::service::admin::import::FetchedUser;
    use crate::store::{ConsentState, OrgState, Outcome, SyncState};

    #[test]
    fn moments_of_known_dates() {
        let c = Chrome::current(For::default());
        assert_eq!(
            moment(&c, 0),
            (
                "January 1, 1970, 00:00 UTC".into(),
                "1970-01-01T00:00:00Z".into()
            )
        );
        assert_eq!(
            moment(&c, 1_795_392_000),
            (
                "November 23, 2026, 00:00 UTC".into(),
                "2026-11-23T00:00:00Z".into()
            )
        );
        assert_eq!(
            moment(&c, 951_782_400 + 3661).0,
            "February 29, 2000, 01:01 UTC"
        );
        assert_eq!(moment(&c, u64::MAX), ("unknown".into(), String::new()));
    }

    fn admin(reach: Reach) -> ConsoleAdmin {
        ConsoleAdmin {
            email: "ops@example.com".into(),
            user_id: "u1".into(),
            reach,
            csrf: "csrf-token".into(),
            ctx: AdminCtx {
                ip: None,
                user_agent: None,
                actor: Some("ops@example.com".into()),
            },
        }
    }

    fn org(id: &str, origin: &'static str, sso: &'static str, state: OrgState) -> OrgView {
        OrgView {
            id: id.into(),
            origin,
            in_force: origin == "policy_file",
            out_of_force: (origin == "runtime").then(|| "the file defines it".to_owned()),
            spec: None,
            domains: vec![format!("{id}.com")],
            upstream: Some("entra".into()),
            tenant_id: Some("tid".into()),
            sso,
            password_fallback: false,
            jit: false,
            sync_interval_secs: None,
            consent_granted: state.consent.as_ref().is_some_and(|c| c.granted),
            state,
        }
    }

    fn user(email: &str, method: &'static str, sso: bool, disabled: bool) -> UserView {
        UserView {
            id: format!("id-{email}"),
            email: email.into(),
            name: "A Name".into(),
            organization: Some("contoso".into()),
            source: UserSource::Admin,
            disabled,
            sso,
            link: None,
            has_password: true,
            sign_in_method: method,
            sso_upstream: None,
            password_allowed: true,
            created_at: 0,
            updated_at: 0,
        }
    }

    /// The message ids that stand in `html` as whole words: a page that printed an id.
    fn ids_in(html: &str) -> Vec<String> {
        let word = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
        let ids: Vec<String> = Catalogs::shipped().ids().map(str::to_owned).collect();
        ids.into_iter()
            .filter(|id| {
                html.match_indices(id.as_str()).any(|(at, _)| {
                    !html[..at].chars().next_back().is_some_and(word)
                        && !html[at + id.len()..].chars().next().is_some_and(word)
                })
            })
            .collect()
    }

    #[test]
    fn an_id_on_a_page_is_found_as_a_whole_word_only() {
        assert_eq!(ids_in("<p>console-never</p>"), ["console-never"]);
        assert!(ids_in("<p class=\"console-never-x\">x-console-never</p>").is_empty());
    }

    fn check(name: &str, html: &str, says: &[&str]) {
        let printed = ids_in(html);
        assert!(printed.is_empty(), "{name} prints ids {printed:?}:\n{html}");
        for words in says {
            assert!(html.contains(words), "{name} lacks {words:?}:\n{html}");
        }
    }

    #[test]
    fn the_console_pages_say_words_not_message_ids() {
        let ops = admin(Reach::Everything);
        let carol = admin(Reach::Organizations(["contoso".to_owned()].into()));
        let t = 1_796_468_520; // 2026-12-05 11:02 UTC
        let granted = OrgState {
            consent: Some(ConsentState {
                granted: true,
                at: t,
                tenant: None,
                error: None,
                error_description: None,
            }),
            last_sync: Some(SyncState {
                at: t,
                operation: "import".into(),
                outcome: Outcome::Failure,
                users: None,
                error: Some("graph said no".into()),
            }),
        };
        let refused = OrgState {
            consent: Some(ConsentState {
                granted: false,
                at: t,
                tenant: None,
                error: Some("access_denied".into()),
                error_description: None,
            }),
            last_sync: None,
        };
        let orgs = [
            (
                org("contoso", "policy_file", "per_user", granted.clone()),
                3,
            ),
            (org("northwind", "runtime", "all_synced_users", refused), 0),
            (org("local", "policy_file", "off", OrgState::default()), 1),
        ];
        for (who, notice) in [
            (&ops, Some(Msg::new("console-done-deleted"))),
            (&carol, None),
        ] {
            let html = ConsoleOrgsPage::new(who, &orgs, notice).render().unwrap();
            check(
                "the organisations",
                &html,
                &[
                    "<h1>Organisations</h1>",
                    "policy file",
                    "created here",
                    "Out of force: the policy file wins. the file defines it",
                    "granted <time datetime=\"2026-12-05T11:02:00Z\">December 5, 2026, 11:02 UTC</time>",
                    "refused (access_denied) <time",
                    "import <time datetime=\"2026-12-05T11:02:00Z\">December 5, 2026, 11:02 UTC</time>: failure (graph said no)",
                    "never",
                    "per user",
                    "all synced users",
                    "Audit log",
                ],
            );
        }
        let html = ConsoleOrgsPage::new(&ops, &[], None).render().unwrap();
        check(
            "no organisation",
            &html,
            &["There is no organisation you may administer."],
        );

        let users = [
            user("dave@contoso.com", "password", false, false),
            user("carol@contoso.com", "sso", true, true),
            user("nobody@contoso.com", "none", false, false),
        ];
        let admins = OrgAdmins {
            file: vec!["carol@contoso.com".into()],
            granted: vec!["dave@contoso.com".into()],
        };
        let notices = [
            Some(OrgNotice::Done(Msg::new("console-done-imported-one"))),
            Some(OrgNotice::Done(
                Msg::new("console-done-imported").arg("count", "2"),
            )),
            Some(OrgNotice::PasswordLink(PasswordLink {
                url: "https://id.example/password/set?token=abc".into(),
                expires_at: t,
            })),
            None,
        ];
        for notice in notices {
            let html = ConsoleOrgPage::new(
                &ops,
                &orgs[0].0,
                &users,
                admins.clone(),
                notice,
                Some(Msg::new("console-form-expired")),
            )
            .render()
            .unwrap();
            check(
                "an organisation",
                &html,
                &[
                    "ops@example.com (operator)",
                    "Users (3)",
                    "single sign-on",
                    "carol@contoso.com <span class=\"muted\">· in the policy file",
                    "dave@contoso.com <span class=\"muted\">· granted here",
                    "Single sign-on for dave@contoso.com: off; switch it on",
                    "Single sign-on for carol@contoso.com: on; switch it off",
                    "The form expired; go back, reload the page and try again.",
                ],
            );
        }
        let html = ConsoleOrgPage::new(
            &carol,
            &orgs[1].0,
            &[],
            OrgAdmins::default(),
            Some(OrgNotice::PasswordLink(PasswordLink {
                url: "https://id.example/password/set?token=abc".into(),
                expires_at: t,
            })),
            None,
        )
        .render()
        .unwrap();
        check(
            "a runtime organisation",
            &html,
            &[
                "here, in the console",
                "None besides the operators.",
                "No user of this organisation is in the directory yet.",
                "A password link, valid once until <time datetime=\"2026-12-05T11:02:00Z\">",
                "/password/set?token=abc",
            ],
        );

        let page = TenantUsersPage {
            users: vec![
                FetchedUser {
                    id: "oid1".into(),
                    display_name: Some("User One".into()),
                    mail: Some("user001@contoso.com".into()),
                    user_principal_name: None,
                    account_enabled: Some(false),
                    imported: false,
                },
                FetchedUser {
                    id: "oid2".into(),
                    display_name: None,
                    mail: None,
                    user_principal_name: Some("upn@contoso.com".into()),
                    account_enabled: None,
                    imported: true,
                },
            ],
            next: Some("token".into()),
        };
        let html = ConsoleTenantUsersPage::new(&ops, "contoso", Some("us"), &page)
            .render()
            .unwrap();
        check(
            "the tenant's users",
            &html,
            &[
                "Users of the contoso tenant",
                "disabled in the tenant",
                "imported",
                "Next page",
            ],
        );
        let empty = TenantUsersPage {
            users: Vec::new(),
            next: None,
        };
        let html = ConsoleTenantUsersPage::new(&carol, "contoso", None, &empty)
            .render()
            .unwrap();
        check("no tenant user", &html, &["No user of the tenant matches."]);

        let mut record = AuditRecord::success("admin.user.sso", t);
        record.actor = Some("ops@example.com".into());
        let filters = || AuditFilters {
            organization: "contoso",
            user: "",
            event: "admin.",
            period: "7d",
        };
        let html = ConsoleAuditPage::new(&ops, &[record], filters())
            .render()
            .unwrap();
        check(
            "the audit log",
            &html,
            &[
                "<h1>Audit log</h1>",
                "last 7 days",
                "<time datetime=\"2026-12-05T11:02:00Z\">December 5, 2026, 11:02 UTC</time>",
                "admin.user.sso",
            ],
        );
        let html = ConsoleAuditPage::new(&carol, &[], filters())
            .render()
            .unwrap();
        check("an empty audit log", &html, &["No record matches."]);

        let problems = [
            Msg::new("error-detail").arg("detail", "organization.id: a problem"),
            Msg::new("console-form-expired"),
        ];
        for editing in [None, Some("northwind")] {
            let html = ConsoleNewOrgPage {
                c: Chrome::current(For::default()),
                header: ConsoleHeader::of(&ops),
                upstreams: &["entra"],
                fields: NewOrgFields {
                    id: "northwind",
                    domains: "northwind.com",
                    upstream: "entra",
                    tenant: "",
                    sso: "per_user",
                    password_fallback: true,
                    jit: false,
                    sync_interval: "1h",
                },
                problems: &problems,
                editing,
            }
            .render()
            .unwrap();
            check(
                "the organisation form",
                &html,
                &[
                    "organization.id: a problem",
                    "Email domains",
                    "all synced users",
                    if editing.is_some() {
                        "Delete organisation northwind"
                    } else {
                        "Create organisation"
                    },
                ],
            );
        }
    }
}
