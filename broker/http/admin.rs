//! The admin API (`/admin/api/…`, JSON, bearer token) and the two public pages it leads to:
//! the admin-consent callback and the password-set page. Handlers authenticate (the
//! [`Admin`] extractor, always first, so a bad token is a 401 whatever the body), call one
//! use case of `broker.admin()` and map [`AdminError`] here.

use std::sync::Arc;

use crate::i18n::Msg;
use axum::Json;
use axum::Router;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use secrecy::SecretString;
use serde::Deserialize;

use super::error::oauth_json;
use super::extract::{PageForm, PageQuery, bearer, client_ip};
use super::pages;
use crate::directory::OrganizationSpec;
use crate::service::Broker;
use crate::service::admin::audit::AuditQuery;
use crate::service::admin::consent::{CONSENT_CALLBACK_PATH, ConsentCallback, ConsentOutcome};
use crate::service::admin::users::PASSWORD_SET_PATH;
use crate::service::admin::{AdminCtx, AdminError};
use crate::upstream::graph::GraphError;

pub fn routes() -> Router<Arc<Broker>> {
    Router::new()
        .route(
            "/admin/api/organizations",
            get(organizations).post(create_organization),
        )
        .route(
            "/admin/api/organizations/{org}",
            get(organization)
                .put(replace_organization)
                .delete(delete_organization),
        )
        .route(
            "/admin/api/organizations/{org}/consent-link",
            post(consent_link),
        )
        .route(
            "/admin/api/organizations/{org}/fetch-users",
            post(fetch_users),
        )
        .route(
            "/admin/api/organizations/{org}/tenant-users",
            get(tenant_users),
        )
        .route("/admin/api/organizations/{org}/import", post(import))
        .route("/admin/api/organizations/{org}/sync", post(sync))
        .route("/admin/api/users", get(users))
        .route("/admin/api/users/{id}", get(user))
        .route("/admin/api/users/{id}/sso", put(set_sso))
        .route("/admin/api/users/{id}/password", put(set_password))
        .route("/admin/api/users/{id}/password-link", post(password_link))
        .route("/admin/api/users/{id}/disable", post(disable))
        .route("/admin/api/users/{id}/enable", post(enable))
        .route("/admin/api/users/{id}/revoke", post(revoke))
        .route("/admin/api/users/{id}/factors", get(factors))
        .route(
            "/admin/api/users/{id}/passkeys/{credential}",
            axum::routing::delete(remove_passkey),
        )
        .route("/admin/api/users/{id}/totp", delete(remove_totp))
        .route("/admin/api/audit", get(audit))
        .route("/admin/api/store/export", get(export_store))
        .route("/admin/api/{*rest}", axum::routing::any(unknown))
        .route(CONSENT_CALLBACK_PATH, get(consent_callback))
        .route(PASSWORD_SET_PATH, get(password_page).post(password_submit))
}

/// An [`AdminError`] answered as JSON (`{"error", "error_description"}`, as RFC 6749 §5.2).
#[derive(Debug)]
pub struct AdminApiError(pub AdminError);

impl From<AdminError> for AdminApiError {
    fn from(e: AdminError) -> Self {
        AdminApiError(e)
    }
}

impl From<JsonRejection> for AdminApiError {
    fn from(r: JsonRejection) -> Self {
        AdminApiError(AdminError::BadRequest(format!(
            "the body is not the expected JSON: {}",
            r.body_text()
        )))
    }
}

impl From<QueryRejection> for AdminApiError {
    fn from(r: QueryRejection) -> Self {
        AdminApiError(AdminError::BadRequest(format!(
            "the query is malformed: {}",
            r.body_text()
        )))
    }
}

impl IntoResponse for AdminApiError {
    fn into_response(self) -> Response {
        let e = self.0;
        let text = e.to_string();
        match e {
            AdminError::Disabled | AdminError::NotFound(_) => {
                oauth_json(StatusCode::NOT_FOUND, "not_found", &text)
            }
            AdminError::Forbidden => oauth_json(StatusCode::FORBIDDEN, "forbidden", &text),
            AdminError::Unauthorized => {
                let mut resp = oauth_json(StatusCode::UNAUTHORIZED, "invalid_token", &text);
                // RFC 6750 §3.
                resp.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"idbroker-admin\""),
                );
                resp
            }
            AdminError::BadRequest(_) | AdminError::Refused(_) => {
                oauth_json(StatusCode::BAD_REQUEST, "invalid_request", &text)
            }
            AdminError::Conflict(_) => oauth_json(StatusCode::CONFLICT, "conflict", &text),
            AdminError::Invalid(problems) => {
                let body = serde_json::json!({
                    "error": "invalid_organization",
                    "error_description": text,
                    "problems": problems,
                });
                (StatusCode::BAD_REQUEST, Json(body)).into_response()
            }
            AdminError::Graph(g) => {
                let status = match g {
                    GraphError::ConsentMissing => StatusCode::CONFLICT,
                    GraphError::Throttled(_) => StatusCode::SERVICE_UNAVAILABLE,
                    GraphError::Config(_) => StatusCode::INTERNAL_SERVER_ERROR,
                    GraphError::Unavailable(_) | GraphError::Refused(_) => StatusCode::BAD_GATEWAY,
                };
                if status.is_server_error() {
                    tracing::warn!(error = %g, "Graph request failed");
                }
                let mut resp = oauth_json(status, g.code(), &text);
                if matches!(g, GraphError::Throttled(_)) {
                    resp.headers_mut()
                        .insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
                }
                resp
            }
            AdminError::Store(e) => {
                tracing::error!(error = %e, "store unavailable");
                let mut resp = oauth_json(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "temporarily_unavailable",
                    "the store is unavailable; retry shortly",
                );
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
                resp
            }
            AdminError::RateLimited(secs) => {
                let mut resp = oauth_json(
                    StatusCode::TOO_MANY_REQUESTS,
                    "temporarily_unavailable",
                    &text,
                );
                if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                    resp.headers_mut().insert(header::RETRY_AFTER, v);
                }
                resp
            }
            AdminError::Password(crate::password::PasswordError::Busy) => super::error::busy_json(),
            AdminError::Password(e) => {
                tracing::error!(error = %e, "internal error");
                oauth_json(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "server_error",
                    "the server could not complete the request",
                )
            }
        }
    }
}

/// An authenticated admin call: the bearer token matched.
pub struct Admin(pub AdminCtx);

impl FromRequestParts<Arc<Broker>> for Admin {
    type Rejection = AdminApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        broker: &Arc<Broker>,
    ) -> Result<Self, Self::Rejection> {
        let ctx = AdminCtx {
            ip: client_ip(parts, broker).map(|ip| ip.to_string()),
            user_agent: parts
                .headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(|s| s.chars().take(256).collect()),
            actor: None,
        };
        let what = format!("{} {}", parts.method, parts.uri.path());
        broker
            .admin()
            .authenticate(bearer(&parts.headers).as_deref(), &ctx, &what)
            .await?;
        Ok(Admin(ctx))
    }
}

/// A JSON body whose rejection is the admin API's JSON error.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(AdminApiError))]
pub struct AdminJson<T>(pub T);

#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AdminApiError))]
pub struct AdminQuery<T>(pub T);

type ApiResult = Result<Response, AdminApiError>;

fn ok<T: serde::Serialize>(value: T) -> ApiResult {
    Ok(Json(value).into_response())
}

async fn organizations(State(b): State<Arc<Broker>>, Admin(ctx): Admin) -> ApiResult {
    ok(b.admin().organizations(&ctx).await?)
}

async fn organization(
    State(b): State<Arc<Broker>>,
    Admin(ctx): Admin,
    Path(org): Path<String>,
) -> ApiResult {
    ok(b.admin().organization(&org, &ctx).await?)
}

async fn create_organization(
    State(b): State<Arc<Broker>>,
    Admin(ctx): Admin,
    AdminJson(spec): AdminJson<OrganizationSpec>,
) -> ApiResult {
    let view = b.admin().create_organization(spec, &ctx).await?;
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

async fn replace_organization(
    State(b): State<Arc<Broker>>,
    Admin(ctx): Admin,
    Path(org): Path<String>,
    AdminJson(spec): AdminJson<OrganizationSpec>,
) -> ApiResult {
    ok(b.admin().replace_organization(&org, spec, &ctx).await?)
}

async fn delete_organization(
    State(b): State<Arc<Broker>>,
    Admin(ctx): Admin,
    Path(org): Path<String>,
) -> ApiResult {
    b.admin().delete_organization(&org, &ctx).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn consent_link(
    State(b): State<Arc<Broker>>,
    Admin(ctx): Admin,
    Path(org): Path<String>,
) -> ApiResult {
    let url = b.admin().consent_link(&org, &ctx).await?;
    ok(serde_json::json!({ "url": url }))
}

async fn fetch_users(
    State(b): State<Arc<Broker>>,
    Admin(ctx): Admin,
    Path(org): Path<String>,
) -> ApiResult {
    ok(b.admin().fetch_users(&org, &ctx).await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TenantUsersQuery {
    search: Option<String>,
    page: Option<String>,
}

async fn tenant_users(
    State(b): State<Arc<Broker>>,
    Admin(ctx): Admin,
    Path(org): Path<String>,
    AdminQuery(q): AdminQuery<TenantUsersQuery>,
) -> ApiResult {
    ok(b.admin()
        .tenant_users(&org, q.search.as_deref(), q.page.as_deref(), &ctx)
        .await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportBody {
    user_ids: Vec<String>,
}

async fn import(
    State(b): State<Arc<Broker>>,
    Admin(ctx): Admin,
    Path(org): Path<String>,
    AdminJson(body): AdminJson<ImportBody>,
) -> ApiResult {
    ok(b.admin().import(&org, &body.user_ids, &ctx).await?)
}

async fn sync(
    State(b): State<Arc<Broker>>,
    Admin(ctx): Admin,
    Path(org): Path<String>,
) -> ApiResult {
    ok(b.admin().resync(&org, &ctx).await?)
}

#[derive(Deserialize)]
struct UsersQuery {
    organization: Option<String>,
}

async fn users(
    State(b): State<Arc<Broker>>,
    Admin(ctx): Admin,
    AdminQuery(q): AdminQuery<UsersQuery>,
) -> ApiResult {
    let org = q.organization.as_deref().filter(|o| !o.is_empty());
    ok(b.admin().users(org, &ctx).await?)
}

async fn user(
    State(b): State<Arc<Broker>>,
    Admin(ctx): Admin,
    Path(id): Path<String>,
) -> ApiResult {
    ok(b.admin().user(&id, &ctx).await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SsoBody {
    enabled: bool,
}

async fn set_sso(
    State(b): State<Arc<Broker>>,
    Admin(ctx): Admin,
    Path(id): Path<String>,
    AdminJson(body): AdminJson<SsoBody>,
) -> ApiResult {
    ok(b.admin().set_sso(&id, body.enabled, &ctx).await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordBody {
    password: SecretString,
}

async fn set_password(
    State(b): State<Arc<Broker>>,
    Admin(ctx): Admin,
    Path(id): Path<String>,
    AdminJson(body): AdminJson<PasswordBody>,
) -> ApiResult {
    ok(b.admin().set_password(&id, body.password, &ctx).await?)
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct PasswordLinkBody {
    /// Seconds until the link expires.
    expires_in: Option<u64>,
}

async fn password_link(
    State(b): State<Arc<Broker>>,
    Admin(ctx): Admin,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult {
    // The body is optional: none, or `{"expires_in": seconds}`.
    let ttl = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        serde_json::from_slice::<PasswordLinkBody>(&body)
            .map_err(|e| AdminError::BadRequest(format!("the body is not the expected JSON: {e}")))?
            .expires_in
    };
    ok(b.admin().password_link(&id, ttl, &ctx).await?)
}

async fn disable(
    State(b): State<Arc<Broker>>,
    Admin(ctx): Admin,
    Path(id): Path<String>,
) -> ApiResult {
    ok(b.admin().disable(&id, true, &ctx).await?)
}

async fn enable(
    State(b): State<Arc<Broker>>,
    Admin(ctx): Admin,
    Path(id): Path<String>,
) -> ApiResult {
    ok(b.admin().disable(&id, false, &ctx).await?)
}

async fn revoke(
    State(b): State<Arc<Broker>>,
    Admin(ctx): Admin,
    Path(id): Path<String>,
) -> ApiResult {
    ok(b.admin().revoke(&id, &ctx).await?)
}

async fn factors(
    State(b): State<Arc<Broker>>,
    Admin(ctx): Admin,
    Path(id): Path<String>,
) -> ApiResult {
    ok(b.admin().factors(&id, &ctx).await?)
}

async fn remove_passkey(
    State(b): State<Arc<Broker>>,
    Admin(ctx): Admin,
    Path((id, credential)): Path<(String, String)>,
) -> ApiResult {
    ok(b.admin().remove_passkey(&id, &credential, &ctx).await?)
}

async fn remove_totp(
    State(b): State<Arc<Broker>>,
    Admin(ctx): Admin,
    Path(id): Path<String>,
) -> ApiResult {
    b.admin().remove_totp(&id, &ctx).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn audit(
    State(b): State<Arc<Broker>>,
    Admin(ctx): Admin,
    AdminQuery(q): AdminQuery<AuditQuery>,
) -> ApiResult {
    ok(b.admin().audit(&q, &ctx).await?)
}

async fn export_store(State(b): State<Arc<Broker>>, Admin(ctx): Admin) -> ApiResult {
    let text = b.admin().export_store(&ctx).await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-ndjson"),
        )],
        text,
    )
        .into_response())
}

async fn unknown(_: Admin) -> ApiResult {
    Err(AdminError::NotFound("no such admin API route".into()).into())
}

/// Entra's redirect back after the admin-consent screen.
async fn consent_callback(
    State(b): State<Arc<Broker>>,
    PageQuery(params): PageQuery<ConsentCallback>,
) -> Response {
    match b.admin().consent_callback(&params).await {
        Ok(ConsentOutcome::Granted { organization }) => {
            let back = format!(
                "/admin/organizations/{}",
                form_urlencoded::byte_serialize(organization.as_bytes()).collect::<String>()
            );
            pages::message_with_link(
                StatusCode::OK,
                "consent-granted-title",
                Msg::new("consent-granted").arg("organization", organization),
                (&back, "consent-back"),
            )
        }
        Ok(ConsentOutcome::NotGranted {
            organization,
            error,
            description,
        }) => pages::message(
            StatusCode::OK,
            "consent-not-granted-title",
            Msg::new("consent-not-granted")
                .arg("organization", organization)
                .arg("error", error)
                .arg("description", description),
            true,
        ),
        Ok(ConsentOutcome::Refused(why)) => pages::message(
            StatusCode::BAD_REQUEST,
            "consent-not-recorded-title",
            why,
            true,
        ),
        Err(e) => page_error(e),
    }
}

#[derive(Deserialize)]
struct TokenQuery {
    #[serde(default)]
    token: String,
}

async fn password_page(
    State(b): State<Arc<Broker>>,
    PageQuery(q): PageQuery<TokenQuery>,
) -> Response {
    match b.admin().password_link_email(&q.token).await {
        Ok(email) => pages::password_set(StatusCode::OK, &email, &q.token, None),
        Err(e) => page_error(e),
    }
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    token: String,
    password: SecretString,
    confirm: SecretString,
}

async fn password_submit(
    State(b): State<Arc<Broker>>,
    PageForm(form): PageForm<PasswordForm>,
) -> Response {
    match b
        .admin()
        .password_link_set(&form.token, form.password, form.confirm)
        .await
    {
        Ok(()) => pages::message(
            StatusCode::OK,
            "password-set-done-title",
            "password-set-done",
            false,
        ),
        Err(AdminError::Refused(why)) if why.id != "password-link-gone" => {
            match b.admin().password_link_email(&form.token).await {
                Ok(email) => {
                    pages::password_set(StatusCode::BAD_REQUEST, &email, &form.token, Some(why))
                }
                Err(e) => page_error(e),
            }
        }
        Err(e) => page_error(e),
    }
}

pub(super) fn page_error(e: AdminError) -> Response {
    match e {
        AdminError::Refused(why) => pages::message(
            StatusCode::BAD_REQUEST,
            "password-link-unusable-title",
            why,
            true,
        ),
        AdminError::NotFound(why) | AdminError::BadRequest(why) => pages::message(
            StatusCode::BAD_REQUEST,
            "password-link-unusable-title",
            Msg::new("error-detail").arg("detail", why),
            true,
        ),
        AdminError::Store(e) => {
            tracing::error!(error = %e, "store unavailable");
            pages::message(
                StatusCode::SERVICE_UNAVAILABLE,
                "error-unavailable-title",
                "error-unavailable",
                true,
            )
        }
        AdminError::Password(crate::password::PasswordError::Busy) => super::error::busy_page(),
        other => {
            tracing::error!(error = %other, "internal error");
            pages::message(
                StatusCode::INTERNAL_SERVER_ERROR,
                "error-internal-title",
                "error-request-failed",
                true,
            )
        }
    }
}
