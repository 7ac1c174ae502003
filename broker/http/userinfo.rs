//! `/userinfo` (OIDC Core §5.3): GET or POST with a bearer token (RFC 6750 §2.1).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::extract::bearer;
use crate::op::{ErrorCode, OpError};
use crate::service::Broker;

pub async fn userinfo(
    State(broker): State<Arc<Broker>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let token = bearer(&headers).ok_or_else(|| {
        OpError::new(
            ErrorCode::InvalidToken,
            "send the access token as a Bearer token",
        )
    })?;
    Ok(Json(broker.tokens().userinfo(&token).await?).into_response())
}
