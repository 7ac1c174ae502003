//! RFC 8628: `/device_authorization` (JSON, for the device) and the `/device` pages (for the
//! user's browser).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::cookies::Names;
use super::error::{ApiError, PageError};
use super::extract::{ApiForm, Browser, ClientAuthForm, PageForm, PageQuery, client_credentials};
use super::pages;
use crate::secret::random_handle;
use crate::service::Broker;
use crate::service::device::DeviceEntry;

#[derive(Deserialize)]
pub struct AuthorizationForm {
    #[serde(flatten)]
    client: ClientAuthForm,
    scope: Option<String>,
}

/// `POST /device_authorization` (RFC 8628 §3.1, §3.2): client authentication as at /token.
pub async fn authorization(
    State(broker): State<Arc<Broker>>,
    headers: HeaderMap,
    ApiForm(f): ApiForm<AuthorizationForm>,
) -> Result<Response, ApiError> {
    let creds = client_credentials(&headers, &f.client)?;
    let client = broker.tokens().authenticate_client(&creds).await?;
    let body = broker
        .devices()
        .device_authorization(&client, f.scope.as_deref())
        .await?;
    let mut resp = Json(body).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

#[derive(Deserialize)]
pub struct EntryQuery {
    user_code: Option<String>,
}

/// `GET /device[?user_code=…]`: the code entry page. Gives the browser its binding cookie
/// (the form's CSRF token is derived from it).
pub async fn page(
    State(broker): State<Arc<Broker>>,
    Browser(ctx): Browser,
    jar: CookieJar,
    PageQuery(q): PageQuery<EntryQuery>,
) -> Response {
    let names = Names::for_issuer(&broker.policy().issuer);
    let (browser, jar) = match ctx.browser.filter(|b| !b.is_empty() && b.len() <= 128) {
        Some(b) => (b, jar),
        None => {
            let b = random_handle();
            let jar = jar.add(names.build(names.browser, b.clone(), Some(365 * 86_400)));
            (b, jar)
        }
    };
    let view = broker
        .devices()
        .device_entry_page(&browser, q.user_code.as_deref());
    (jar, pages::device_entry(&view)).into_response()
}

#[derive(Deserialize)]
pub struct EntryForm {
    csrf: String,
    #[serde(default)]
    user_code: String,
}

/// `POST /device`: the code entered; on to the login page.
pub async fn enter(
    State(broker): State<Arc<Broker>>,
    Browser(ctx): Browser,
    PageForm(f): PageForm<EntryForm>,
) -> Result<Response, PageError> {
    match broker
        .devices()
        .device_entry(&f.user_code, &f.csrf, &ctx)
        .await?
    {
        DeviceEntry::Show(view) => Ok(pages::device_entry(&view)),
        DeviceEntry::Login(tx) => Ok(Redirect::to(&format!("/login?tx={tx}")).into_response()),
    }
}

#[derive(Deserialize)]
pub struct DecisionForm {
    tx: String,
    csrf: String,
    decision: String,
}

/// `POST /device/decision`: approve or deny.
pub async fn decision(
    State(broker): State<Arc<Broker>>,
    Browser(ctx): Browser,
    PageForm(f): PageForm<DecisionForm>,
) -> Result<Response, PageError> {
    let approve = match f.decision.as_str() {
        "approve" => true,
        "deny" => false,
        _ => {
            return Ok(pages::message(
                StatusCode::BAD_REQUEST,
                "error-title",
                "error-form-unreadable",
                true,
            ));
        }
    };
    let approved = broker
        .devices()
        .device_decision(&f.tx, &f.csrf, approve, &ctx)
        .await?;
    Ok(if approved {
        pages::message(
            StatusCode::OK,
            "device-connected-title",
            "device-connected",
            false,
        )
    } else {
        pages::message(
            StatusCode::OK,
            "device-denied-title",
            "device-denied",
            false,
        )
    })
}
