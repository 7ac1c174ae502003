//! `/token` (RFC 6749 §3.2), `/revoke` (RFC 7009), `/introspect` (RFC 7662).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::error::{ApiError, oauth_json};
use super::extract::{ApiForm, Browser, ClientAuthFields, client_credentials};
use crate::op::{ErrorCode, OpError};
use crate::service::token::TokenParams;
use crate::service::{Broker, ServiceError};

#[derive(Deserialize)]
pub struct TokenForm {
    grant_type: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    refresh_token: Option<String>,
    scope: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    client_assertion_type: Option<String>,
    client_assertion: Option<String>,
    device_code: Option<String>,
    subject_token: Option<String>,
    subject_token_type: Option<String>,
    requested_token_type: Option<String>,
    actor_token: Option<String>,
    audience: Option<String>,
    resource: Option<String>,
}

pub async fn token(
    State(broker): State<Arc<Broker>>,
    Browser(ctx): Browser,
    headers: HeaderMap,
    ApiForm(f): ApiForm<TokenForm>,
) -> Result<Response, ApiError> {
    let creds = client_credentials(
        &headers,
        ClientAuthFields {
            client_id: f.client_id.as_deref(),
            client_secret: f.client_secret.as_deref(),
            client_assertion_type: f.client_assertion_type.as_deref(),
            client_assertion: f.client_assertion.as_deref(),
        },
    )?;
    let client = broker.tokens().authenticate_client(&creds).await?;
    let params = TokenParams {
        grant_type: f.grant_type,
        code: f.code,
        redirect_uri: f.redirect_uri,
        code_verifier: f.code_verifier,
        refresh_token: f.refresh_token,
        scope: f.scope,
        device_code: f.device_code,
        subject_token: f.subject_token,
        subject_token_type: f.subject_token_type,
        requested_token_type: f.requested_token_type,
        actor_token: f.actor_token,
        audience: f.audience,
        resource: f.resource,
        ip: ctx.ip,
    };
    match broker.tokens().token(client, &params).await {
        Ok(body) => Ok(no_store(Json(body))),
        // RFC 8628 §3.5 answers access_denied as a §5.2 error response: 400, not 403.
        Err(ServiceError::Op(e)) if e.code == ErrorCode::AccessDenied => Ok(oauth_json(
            StatusCode::BAD_REQUEST,
            e.code.as_str(),
            &e.description,
        )),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct TokenHintForm {
    token: Option<String>,
    #[allow(dead_code)]
    token_type_hint: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    client_assertion_type: Option<String>,
    client_assertion: Option<String>,
}

pub async fn revoke(
    State(broker): State<Arc<Broker>>,
    headers: HeaderMap,
    ApiForm(f): ApiForm<TokenHintForm>,
) -> Result<Response, ApiError> {
    let creds = client_credentials(
        &headers,
        ClientAuthFields {
            client_id: f.client_id.as_deref(),
            client_secret: f.client_secret.as_deref(),
            client_assertion_type: f.client_assertion_type.as_deref(),
            client_assertion: f.client_assertion.as_deref(),
        },
    )?;
    let client = broker.tokens().authenticate_client(&creds).await?;
    let token = f
        .token
        .ok_or_else(|| OpError::invalid_request("token is missing"))?;
    broker.tokens().revoke(&client, &token).await?;
    Ok(no_store(()))
}

pub async fn introspect(
    State(broker): State<Arc<Broker>>,
    headers: HeaderMap,
    ApiForm(f): ApiForm<TokenHintForm>,
) -> Result<Response, ApiError> {
    let creds = client_credentials(
        &headers,
        ClientAuthFields {
            client_id: f.client_id.as_deref(),
            client_secret: f.client_secret.as_deref(),
            client_assertion_type: f.client_assertion_type.as_deref(),
            client_assertion: f.client_assertion.as_deref(),
        },
    )?;
    let client = broker
        .tokens()
        .authenticate_confidential_client(&creds)
        .await?;
    let token = f
        .token
        .ok_or_else(|| OpError::invalid_request("token is missing"))?;
    Ok(no_store(Json(
        broker.tokens().introspect(&client, &token).await?,
    )))
}

/// RFC 6749 §5.1: token responses carry `Cache-Control: no-store` and `Pragma: no-cache`.
fn no_store(body: impl IntoResponse) -> Response {
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    resp
}
