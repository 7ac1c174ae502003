//! `/admin`: the admin console, server-rendered and working without JavaScript. A
//! first-party client of the broker, like `/account`: an admin signs in through the normal
//! login page (by SSO when their organisation uses it), so no bearer token reaches a browser.
//! Every form carries the session's CSRF token; every action calls the same use case as the
//! bearer-token API, through `broker.admin().console_*`, which decides what the admin may do.

use std::sync::Arc;

use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::account::{CallbackQuery, first_party_callback, start_sign_in};
use super::error::PageError;
use super::extract::{Browser, PageForm, PageQuery};
use super::pages::{
    self, ConsoleHeader, ConsoleNewOrgPage, ConsoleOrgPage, ConsoleOrgsPage, NewOrgFields,
    OrgNotice,
};
use crate::directory::{OrganizationSpec, SyncSpec};
use crate::i18n::Msg;
use crate::service::Broker;
use crate::service::account::Landing;
use crate::service::admin::AdminError;
use crate::service::admin::console::{ConsoleAccess, ConsoleAdmin};

/// The console's admin, from the browser's session; when there is none, the page that
/// stands in instead: sign in first, or "not an administrator".
pub struct Console(pub ConsoleAdmin);

impl FromRequestParts<Arc<Broker>> for Console {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        broker: &Arc<Broker>,
    ) -> Result<Console, Response> {
        let Browser(ctx) = match Browser::from_request_parts(parts, broker).await {
            Ok(b) => b,
            Err(never) => match never {},
        };
        let access = broker
            .admin()
            .console_access(ctx.session.as_deref(), ctx.ip, ctx.user_agent)
            .await
            .map_err(page_error)?;
        match access {
            ConsoleAccess::Admin(admin) => Ok(Console(*admin)),
            ConsoleAccess::SignIn => Err(start_sign_in(
                broker,
                CookieJar::from_headers(&parts.headers),
                Landing::Admin,
            )),
            ConsoleAccess::NotAnAdmin(email) => Err(pages::message(
                StatusCode::FORBIDDEN,
                "console-not-admin-title",
                Msg::new("console-not-admin").arg("email", email),
                true,
            )),
        }
    }
}

pub async fn callback(
    State(broker): State<Arc<Broker>>,
    jar: CookieJar,
    PageQuery(q): PageQuery<CallbackQuery>,
) -> Result<Response, PageError> {
    first_party_callback(&broker, jar, q, Landing::Admin).await
}

/// What a page shows after an action (`?done=…`), as a fixed set of messages.
#[derive(Deserialize)]
pub struct Notice {
    done: Option<String>,
    /// How many (imported users).
    n: Option<usize>,
}

impl Notice {
    fn msg(&self) -> Option<Msg> {
        match (self.done.as_deref(), self.n) {
            // Two messages, not one with a plural: the catalogs' arguments are text.
            (Some("imported"), Some(1)) => Some(Msg::new("console-done-imported-one")),
            (Some("imported"), Some(n)) => {
                Some(Msg::new("console-done-imported").arg("count", n.to_string()))
            }
            (done, _) => notice_id(done).map(Msg::new),
        }
    }
}

/// The message of `?done=…`.
fn notice_id(done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "created" => "console-done-created",
        "sync" => "console-done-sync",
        "sso-on" => "console-done-sso-on",
        "sso-off" => "console-done-sso-off",
        "disabled" => "console-done-disabled",
        "enabled" => "console-done-enabled",
        "revoked" => "console-done-revoked",
        "admin-granted" => "console-done-admin-granted",
        "changed" => "console-done-changed",
        "deleted" => "console-done-deleted",
        "admin-removed" => "console-done-admin-removed",
        "totp-removed" => "console-done-totp-removed",
        "passkeys-removed" => "console-done-passkeys-removed",
        _ => return None,
    })
}

pub async fn organizations(
    State(broker): State<Arc<Broker>>,
    Console(admin): Console,
    PageQuery(q): PageQuery<Notice>,
) -> Response {
    match broker.admin().console_organizations(&admin).await {
        Ok(orgs) => pages::render(
            StatusCode::OK,
            &ConsoleOrgsPage::new(&admin, &orgs, notice_id(q.done.as_deref()).map(Msg::new)),
        ),
        Err(e) => page_error(e),
    }
}

pub async fn organization(
    State(broker): State<Arc<Broker>>,
    Console(admin): Console,
    Path(org): Path<String>,
    PageQuery(q): PageQuery<Notice>,
) -> Response {
    org_page(&broker, &admin, &org, q.msg().map(OrgNotice::Done), None).await
}

async fn org_page(
    broker: &Broker,
    admin: &ConsoleAdmin,
    org: &str,
    notice: Option<OrgNotice>,
    error: Option<Msg>,
) -> Response {
    match broker.admin().console_organization(admin, org).await {
        Ok(page) => pages::render(
            if error.is_some() {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::OK
            },
            &ConsoleOrgPage::new(admin, &page.view, &page.users, page.admins, notice, error)
                .with_factors(&page.factors),
        ),
        Err(e) => page_error(e),
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

/// POST …/consent: on to the tenant's admin-consent page.
pub async fn consent(
    State(broker): State<Arc<Broker>>,
    Console(admin): Console,
    Path(org): Path<String>,
    PageForm(f): PageForm<CsrfForm>,
) -> Response {
    let result = async {
        admin.check_csrf(&f.csrf)?;
        admin.check_org(&org)?;
        broker.admin().consent_link(&org, &admin.ctx).await
    }
    .await;
    match result {
        Ok(url) => Redirect::to(&url).into_response(),
        Err(e) => action_error(&broker, &admin, &org, e).await,
    }
}

/// POST …/sync: re-sync the imported users with the tenant now.
pub async fn sync(
    State(broker): State<Arc<Broker>>,
    Console(admin): Console,
    Path(org): Path<String>,
    PageForm(f): PageForm<CsrfForm>,
) -> Response {
    let result = async {
        admin.check_csrf(&f.csrf)?;
        admin.check_org(&org)?;
        broker.admin().resync(&org, &admin.ctx).await
    }
    .await;
    match result {
        Ok(_) => back_to(&org, "sync"),
        Err(e) => action_error(&broker, &admin, &org, e).await,
    }
}

#[derive(Deserialize)]
pub struct SwitchForm {
    csrf: String,
    /// The organisation page to come back to.
    org: String,
    /// `on` or `off`.
    to: String,
}

/// POST /admin/users/{id}/sso: the per-user SSO switch.
pub async fn user_sso(
    State(broker): State<Arc<Broker>>,
    Console(admin): Console,
    Path(user): Path<String>,
    PageForm(f): PageForm<SwitchForm>,
) -> Response {
    let on = f.to == "on";
    let result = async {
        admin.check_csrf(&f.csrf)?;
        broker.admin().console_set_sso(&admin, &user, on).await
    }
    .await;
    match result {
        Ok(_) => back_to(&f.org, if on { "sso-on" } else { "sso-off" }),
        Err(e) => action_error(&broker, &admin, &f.org, e).await,
    }
}

/// POST /admin/users/{id}/disabled: disable (and sign out everywhere) or enable a user.
pub async fn user_disabled(
    State(broker): State<Arc<Broker>>,
    Console(admin): Console,
    Path(user): Path<String>,
    PageForm(f): PageForm<SwitchForm>,
) -> Response {
    let disable = f.to == "on";
    let result = async {
        admin.check_csrf(&f.csrf)?;
        broker
            .admin()
            .console_set_disabled(&admin, &user, disable)
            .await
    }
    .await;
    match result {
        Ok(_) => back_to(&f.org, if disable { "disabled" } else { "enabled" }),
        Err(e) => action_error(&broker, &admin, &f.org, e).await,
    }
}

#[derive(Deserialize)]
pub struct TenantQuery {
    search: Option<String>,
    page: Option<String>,
}

/// GET …/tenant-users: one page of the tenant's users from Graph, searchable, with a box
/// per user to import.
pub async fn tenant_users(
    State(broker): State<Arc<Broker>>,
    Console(admin): Console,
    Path(org): Path<String>,
    PageQuery(q): PageQuery<TenantQuery>,
) -> Response {
    let result = async {
        admin.check_org(&org)?;
        broker
            .admin()
            .tenant_users(&org, q.search.as_deref(), q.page.as_deref(), &admin.ctx)
            .await
    }
    .await;
    match result {
        Ok(page) => pages::render(
            StatusCode::OK,
            &pages::ConsoleTenantUsersPage::new(&admin, &org, q.search.as_deref(), &page),
        ),
        Err(e) => action_error(&broker, &admin, &org, e).await,
    }
}

/// POST …/import: the ticked users (`oid`, repeated), imported.
pub async fn import(
    State(broker): State<Arc<Broker>>,
    Console(admin): Console,
    Path(org): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let mut csrf = String::new();
    let mut oids = Vec::new();
    for (k, v) in form_urlencoded::parse(&body) {
        match &*k {
            "csrf" => csrf = v.into_owned(),
            "oid" => oids.push(v.into_owned()),
            _ => {}
        }
    }
    let result = async {
        admin.check_csrf(&csrf)?;
        admin.check_org(&org)?;
        if oids.is_empty() {
            return Err(AdminError::Refused(Msg::new("console-import-none")));
        }
        broker.admin().import(&org, &oids, &admin.ctx).await
    }
    .await;
    match result {
        Ok(report) => {
            let done = report.created.len() + report.updated.len() + report.unchanged.len();
            Redirect::to(&format!(
                "/admin/organizations/{}?done=imported&n={done}",
                percent(&org)
            ))
            .into_response()
        }
        Err(e) => action_error(&broker, &admin, &org, e).await,
    }
}

#[derive(Deserialize)]
pub struct OrgAdminForm {
    csrf: String,
    email: String,
    /// `grant` or `remove`.
    action: String,
}

/// POST …/admins: an operator grants or removes an organisation's console admin.
pub async fn org_admin(
    State(broker): State<Arc<Broker>>,
    Console(admin): Console,
    Path(org): Path<String>,
    PageForm(f): PageForm<OrgAdminForm>,
) -> Response {
    let grant = f.action == "grant";
    let result = async {
        admin.check_csrf(&f.csrf)?;
        broker
            .admin()
            .console_set_org_admin(&admin, &org, &f.email, grant)
            .await
    }
    .await;
    match result {
        Ok(()) => back_to(
            &org,
            if grant {
                "admin-granted"
            } else {
                "admin-removed"
            },
        ),
        Err(e) => action_error(&broker, &admin, &org, e).await,
    }
}

#[derive(Deserialize)]
pub struct UserActionForm {
    csrf: String,
    /// The organisation page to come back to.
    org: String,
}

/// POST /admin/users/{id}/password-link: a single-use link for the user to set a password,
/// shown once on the organisation's page.
pub async fn user_password_link(
    State(broker): State<Arc<Broker>>,
    Console(admin): Console,
    Path(user): Path<String>,
    PageForm(f): PageForm<UserActionForm>,
) -> Response {
    let result = async {
        admin.check_csrf(&f.csrf)?;
        broker.admin().console_password_link(&admin, &user).await
    }
    .await;
    match result {
        Ok(link) => {
            org_page(
                &broker,
                &admin,
                &f.org,
                Some(OrgNotice::PasswordLink(link)),
                None,
            )
            .await
        }
        Err(e) => action_error(&broker, &admin, &f.org, e).await,
    }
}

/// POST /admin/users/{id}/totp/remove: remove the user's one-time codes (a lost phone).
pub async fn user_remove_totp(
    State(broker): State<Arc<Broker>>,
    Console(admin): Console,
    Path(user): Path<String>,
    PageForm(f): PageForm<UserActionForm>,
) -> Response {
    // The admin handle lives to the end of the statement, the action's whole run.
    user_action(
        &broker,
        &admin,
        &f,
        "totp-removed",
        broker.admin().console_remove_totp(&admin, &user),
    )
    .await
}

/// POST /admin/users/{id}/passkeys/remove: remove every passkey of the user.
pub async fn user_remove_passkeys(
    State(broker): State<Arc<Broker>>,
    Console(admin): Console,
    Path(user): Path<String>,
    PageForm(f): PageForm<UserActionForm>,
) -> Response {
    // The admin handle lives to the end of the statement, the action's whole run.
    user_action(
        &broker,
        &admin,
        &f,
        "passkeys-removed",
        broker.admin().console_remove_passkeys(&admin, &user),
    )
    .await
}

/// POST /admin/users/{id}/revoke: end the user's sessions and refresh tokens everywhere.
pub async fn user_revoke(
    State(broker): State<Arc<Broker>>,
    Console(admin): Console,
    Path(user): Path<String>,
    PageForm(f): PageForm<UserActionForm>,
) -> Response {
    // The admin handle lives to the end of the statement, the action's whole run.
    user_action(
        &broker,
        &admin,
        &f,
        "revoked",
        broker.admin().console_revoke(&admin, &user),
    )
    .await
}

/// A user action of an organisation's page: the form's CSRF token is checked before `action`
/// runs; then back to the page saying `done`, or the page saying why it failed.
async fn user_action<T>(
    broker: &Broker,
    admin: &ConsoleAdmin,
    f: &UserActionForm,
    done: &str,
    action: impl std::future::Future<Output = Result<T, AdminError>>,
) -> Response {
    let result = async {
        admin.check_csrf(&f.csrf)?;
        action.await
    }
    .await;
    match result {
        Ok(_) => back_to(&f.org, done),
        Err(e) => action_error(broker, admin, &f.org, e).await,
    }
}

#[derive(Deserialize)]
pub struct AuditForm {
    organization: Option<String>,
    user: Option<String>,
    event: Option<String>,
    /// `1d`, `7d`, `30d` or empty for all time.
    period: Option<String>,
}

/// GET /admin/audit: the audit log, filtered by organisation, user, event and time.
pub async fn audit(
    State(broker): State<Arc<Broker>>,
    Console(admin): Console,
    PageQuery(q): PageQuery<AuditForm>,
) -> Response {
    let days = match q.period.as_deref() {
        Some("1d") => Some(1),
        Some("7d") => Some(7),
        Some("30d") => Some(30),
        _ => None,
    };
    let query = crate::service::admin::audit::AuditQuery {
        user: q.user.clone(),
        organization: q.organization.clone(),
        since: days.map(|d: u64| broker.now().saturating_sub(d * 86_400)),
        limit: Some(AUDIT_PAGE_LIMIT),
    };
    match broker
        .admin()
        .console_audit(&admin, &query, q.event.as_deref())
        .await
    {
        Ok(records) => pages::render(
            StatusCode::OK,
            &pages::ConsoleAuditPage::new(
                &admin,
                &records,
                pages::AuditFilters {
                    organization: q.organization.as_deref().unwrap_or_default(),
                    user: q.user.as_deref().unwrap_or_default(),
                    event: q.event.as_deref().unwrap_or_default(),
                    period: q.period.as_deref().unwrap_or_default(),
                },
            ),
        ),
        Err(e) => page_error(e),
    }
}

/// Records the audit page shows at most.
const AUDIT_PAGE_LIMIT: usize = 500;

pub async fn new_organization(
    State(broker): State<Arc<Broker>>,
    Console(admin): Console,
) -> Response {
    if !admin.is_operator() {
        return page_error(AdminError::Forbidden);
    }
    new_org_page(&broker, &admin, &NewOrgForm::default(), &[])
}

/// The create form as typed (kept when it is shown again with problems).
#[derive(Debug, Default, Deserialize)]
pub struct NewOrgForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    id: String,
    /// Email domains, separated by commas or spaces.
    #[serde(default)]
    domains: String,
    #[serde(default)]
    upstream: String,
    #[serde(default)]
    tenant: String,
    #[serde(default)]
    sso: String,
    password_fallback: Option<String>,
    jit: Option<String>,
    #[serde(default)]
    sync_interval: String,
}

impl NewOrgForm {
    /// The form as it shows a stored organisation.
    fn of(spec: &OrganizationSpec) -> NewOrgForm {
        NewOrgForm {
            csrf: String::new(),
            id: spec.id.clone(),
            domains: spec.domains.join(", "),
            upstream: spec.upstream.clone().unwrap_or_default(),
            tenant: spec.tenant_id.clone().unwrap_or_default(),
            sso: spec.sso.clone().unwrap_or_default(),
            password_fallback: spec.password_fallback.filter(|b| *b).map(|_| "on".into()),
            jit: spec.jit.filter(|b| *b).map(|_| "on".into()),
            sync_interval: spec
                .sync
                .as_ref()
                .map(|s| s.interval.clone())
                .unwrap_or_default(),
        }
    }

    fn spec(&self) -> OrganizationSpec {
        let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        OrganizationSpec {
            id: self.id.trim().to_owned(),
            domains: self
                .domains
                .split([',', ' ', '\n', '\r', '\t'])
                .filter(|d| !d.is_empty())
                .map(str::to_owned)
                .collect(),
            upstream: text(&self.upstream),
            tenant_id: text(&self.tenant),
            sso: text(&self.sso),
            password_fallback: Some(self.password_fallback.is_some()),
            jit: Some(self.jit.is_some()),
            sync: text(&self.sync_interval).map(|interval| SyncSpec { interval }),
            groups: None,
        }
    }
}

pub async fn create_organization(
    State(broker): State<Arc<Broker>>,
    Console(admin): Console,
    PageForm(f): PageForm<NewOrgForm>,
) -> Response {
    if !admin.is_operator() {
        return page_error(AdminError::Forbidden);
    }
    if let Err(e) = admin.check_csrf(&f.csrf) {
        return new_org_page(&broker, &admin, &f, &[reason(e)]);
    }
    match broker
        .admin()
        .create_organization(f.spec(), &admin.ctx)
        .await
    {
        Ok(view) => Redirect::to(&format!(
            "/admin/organizations/{}?done=created",
            percent(&view.id)
        ))
        .into_response(),
        Err(AdminError::Invalid(problems)) => {
            new_org_page(&broker, &admin, &f, &policy_problems(problems))
        }
        Err(e @ (AdminError::Conflict(_) | AdminError::BadRequest(_) | AdminError::Refused(_))) => {
            new_org_page(&broker, &admin, &f, &[reason(e)])
        }
        Err(e) => page_error(e),
    }
}

/// GET …/edit: the form of a runtime organisation, filled in (operators).
pub async fn edit_organization(
    State(broker): State<Arc<Broker>>,
    Console(admin): Console,
    Path(org): Path<String>,
) -> Response {
    match broker.admin().console_runtime_spec(&admin, &org) {
        Ok(spec) => org_form_page(&broker, &admin, &NewOrgForm::of(&spec), &[], Some(&org)),
        Err(e) => page_error(e),
    }
}

/// POST …/edit: the runtime organisation's new settings.
pub async fn replace_organization(
    State(broker): State<Arc<Broker>>,
    Console(admin): Console,
    Path(org): Path<String>,
    PageForm(mut f): PageForm<NewOrgForm>,
) -> Response {
    if let Err(e) = broker.admin().console_runtime_spec(&admin, &org) {
        return page_error(e);
    }
    // The id stays what the address says.
    f.id = org.clone();
    if let Err(e) = admin.check_csrf(&f.csrf) {
        return org_form_page(&broker, &admin, &f, &[reason(e)], Some(&org));
    }
    match broker
        .admin()
        .replace_organization(&org, f.spec(), &admin.ctx)
        .await
    {
        Ok(_) => back_to(&org, "changed"),
        Err(AdminError::Invalid(problems)) => {
            org_form_page(&broker, &admin, &f, &policy_problems(problems), Some(&org))
        }
        Err(e @ (AdminError::Conflict(_) | AdminError::BadRequest(_) | AdminError::Refused(_))) => {
            org_form_page(&broker, &admin, &f, &[reason(e)], Some(&org))
        }
        Err(e) => page_error(e),
    }
}

/// POST …/delete: a runtime organisation deleted (operators); its users stay.
pub async fn delete_organization(
    State(broker): State<Arc<Broker>>,
    Console(admin): Console,
    Path(org): Path<String>,
    PageForm(f): PageForm<CsrfForm>,
) -> Response {
    let result = async {
        admin.check_csrf(&f.csrf)?;
        broker.admin().console_runtime_spec(&admin, &org)?;
        broker.admin().delete_organization(&org, &admin.ctx).await
    }
    .await;
    match result {
        Ok(()) => Redirect::to("/admin?done=deleted").into_response(),
        Err(e) => action_error(&broker, &admin, &org, e).await,
    }
}

fn new_org_page(
    broker: &Broker,
    admin: &ConsoleAdmin,
    f: &NewOrgForm,
    problems: &[Msg],
) -> Response {
    org_form_page(broker, admin, f, problems, None)
}

/// The organisation form: a new one, or (`editing`) a runtime one's settings.
fn org_form_page(
    broker: &Broker,
    admin: &ConsoleAdmin,
    f: &NewOrgForm,
    problems: &[Msg],
    editing: Option<&str>,
) -> Response {
    let policy = broker.policy();
    let mut upstreams: Vec<&str> = policy.upstreams.keys().map(String::as_str).collect();
    upstreams.sort_unstable();
    pages::render(
        if problems.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::BAD_REQUEST
        },
        &ConsoleNewOrgPage {
            c: super::chrome::Chrome::current(super::chrome::For::default()),
            header: ConsoleHeader::of(admin),
            upstreams: &upstreams,
            fields: NewOrgFields {
                id: &f.id,
                domains: &f.domains,
                upstream: &f.upstream,
                tenant: &f.tenant,
                sso: if f.sso.is_empty() { "off" } else { &f.sso },
                password_fallback: f.password_fallback.is_some(),
                jit: f.jit.is_some(),
                sync_interval: &f.sync_interval,
            },
            problems,
            editing,
        },
    )
}

/// After an action: back to the organisation's page with a notice (303, so a reload does not
/// post again).
fn back_to(org: &str, done: &str) -> Response {
    Redirect::to(&format!(
        "/admin/organizations/{}?done={done}",
        percent(org)
    ))
    .into_response()
}

/// An action that failed: the organisation's page with the reason, or the error page.
async fn action_error(broker: &Broker, admin: &ConsoleAdmin, org: &str, e: AdminError) -> Response {
    match e {
        AdminError::BadRequest(_)
        | AdminError::Refused(_)
        | AdminError::Conflict(_)
        | AdminError::Graph(_)
        | AdminError::NotFound(_)
            if admin.may_manage(org) =>
        {
            org_page(broker, admin, org, None, Some(reason(e))).await
        }
        other => page_error(other),
    }
}

/// Why an action was refused, for the page: the service's message, or its reason as it is.
fn reason(e: AdminError) -> Msg {
    match e {
        AdminError::Refused(why) => why,
        other => Msg::new("error-detail").arg("detail", other.to_string()),
    }
}

/// The policy's problems with an organisation, each naming its field, as they are.
fn policy_problems(problems: Vec<String>) -> Vec<Msg> {
    problems
        .into_iter()
        .map(|p| Msg::new("error-detail").arg("detail", p))
        .collect()
}

fn page_error(e: AdminError) -> Response {
    match e {
        AdminError::Forbidden => pages::message(
            StatusCode::FORBIDDEN,
            "console-forbidden-title",
            "console-forbidden",
            true,
        ),
        AdminError::NotFound(why) => pages::message(
            StatusCode::NOT_FOUND,
            "error-not-found-title",
            Msg::new("error-detail").arg("detail", why),
            true,
        ),
        e @ (AdminError::BadRequest(_) | AdminError::Refused(_)) => pages::message(
            StatusCode::BAD_REQUEST,
            "console-cannot-title",
            reason(e),
            true,
        ),
        other => super::admin::page_error(other),
    }
}

fn percent(segment: &str) -> String {
    form_urlencoded::byte_serialize(segment.as_bytes()).collect()
}
