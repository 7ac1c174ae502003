//! How failures become responses. Which form an error takes is decided here: JSON for the
//! API endpoints (RFC 6749 §5.2), an HTML page for the browser ones. Internal causes are
//! logged here and never shown.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::pages;
use crate::i18n::Msg;
use crate::op::{ErrorCode, OpError};
use crate::password::{BUSY_RETRY_AFTER, PasswordError};
use crate::service::ServiceError;

/// An error answered as OAuth JSON: `{"error": …, "error_description": …}`.
#[derive(Debug)]
pub struct ApiError(pub ServiceError);

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        ApiError(e)
    }
}

impl From<OpError> for ApiError {
    fn from(e: OpError) -> Self {
        ApiError(ServiceError::Op(e))
    }
}

/// RFC 6749 §5.2 status codes (401 for `invalid_client`, with a challenge when the client
/// used Basic), RFC 6750 §3.1 for `invalid_token`.
fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::InvalidClient | ErrorCode::InvalidToken => StatusCode::UNAUTHORIZED,
        ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::AccessDenied => StatusCode::FORBIDDEN,
        _ => StatusCode::BAD_REQUEST,
    }
}

pub fn oauth_json(status: StatusCode, code: &str, description: &str) -> Response {
    let body = serde_json::json!({ "error": code, "error_description": description });
    let mut resp = (status, Json(body)).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// Sets `Retry-After` (RFC 9110 §10.2.3) in seconds.
fn retry_after(mut resp: Response, secs: u64) -> Response {
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

/// The password hashing queue is full (`PasswordError::Busy`): `429`, retry shortly.
pub fn busy_json() -> Response {
    retry_after(
        oauth_json(
            StatusCode::TOO_MANY_REQUESTS,
            "temporarily_unavailable",
            "the server is busy; retry later",
        ),
        BUSY_RETRY_AFTER,
    )
}

/// [`busy_json`] for a browser.
pub fn busy_page() -> Response {
    retry_after(
        pages::message(
            StatusCode::TOO_MANY_REQUESTS,
            "error-busy-title",
            "error-busy",
            true,
        ),
        BUSY_RETRY_AFTER,
    )
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self.0 {
            ServiceError::Op(e) => {
                let mut resp = oauth_json(status_of(e.code), e.code.as_str(), &e.description);
                if e.code == ErrorCode::InvalidClient {
                    resp.headers_mut().insert(
                        header::WWW_AUTHENTICATE,
                        HeaderValue::from_static("Basic realm=\"idbroker\""),
                    );
                }
                if e.code == ErrorCode::InvalidToken {
                    resp.headers_mut().insert(
                        header::WWW_AUTHENTICATE,
                        HeaderValue::from_static("Bearer error=\"invalid_token\""),
                    );
                }
                resp
            }
            ServiceError::RateLimited(secs) => {
                let mut resp = oauth_json(
                    StatusCode::TOO_MANY_REQUESTS,
                    // RFC 6749 has no rate-limit code; this one says "retry later" (§4.1.2.1).
                    "temporarily_unavailable",
                    "too many requests; retry later",
                );
                if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                    resp.headers_mut().insert(header::RETRY_AFTER, v);
                }
                resp
            }
            ServiceError::Restart(msg) => {
                oauth_json(StatusCode::BAD_REQUEST, "invalid_request", &msg.english())
            }
            ServiceError::SignIn {
                unavailable: true,
                message,
                ..
            } => oauth_json(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                &message.english(),
            ),
            ServiceError::SignIn { message, .. } => {
                oauth_json(StatusCode::BAD_REQUEST, "invalid_grant", &message.english())
            }
            ServiceError::Store(e) => {
                tracing::error!(error = %e, "store unavailable");
                let mut resp = oauth_json(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "temporarily_unavailable",
                    "the service is temporarily unavailable; retry shortly",
                );
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
                resp
            }
            ServiceError::Password(PasswordError::Busy) => busy_json(),
            e @ (ServiceError::Keys(_) | ServiceError::Password(_)) => {
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

/// An error of a protected resource (`/userinfo`): an [`ApiError`] whose refusals of the
/// token, or of how it was sent, carry a `Bearer` challenge (RFC 6750 §3: `invalid_token`
/// with 401, `invalid_request` with 400, §3.1).
#[derive(Debug)]
pub struct ResourceError(pub ApiError);

impl From<ServiceError> for ResourceError {
    fn from(e: ServiceError) -> Self {
        ResourceError(ApiError(e))
    }
}

impl From<OpError> for ResourceError {
    fn from(e: OpError) -> Self {
        ResourceError(ApiError(ServiceError::Op(e)))
    }
}

impl IntoResponse for ResourceError {
    fn into_response(self) -> Response {
        let invalid_request =
            matches!(&self.0.0, ServiceError::Op(e) if e.code == ErrorCode::InvalidRequest);
        let mut resp = self.0.into_response();
        if invalid_request {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer error=\"invalid_request\""),
            );
        }
        resp
    }
}

/// An error answered as an HTML page (browser endpoints).
#[derive(Debug)]
pub struct PageError(pub ServiceError);

impl From<ServiceError> for PageError {
    fn from(e: ServiceError) -> Self {
        PageError(e)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self.0 {
            ServiceError::Restart(msg) => {
                pages::message(StatusCode::BAD_REQUEST, "error-title", msg, true)
            }
            // The OAuth error's description is for the application's developer: as it is.
            ServiceError::Op(e) => pages::message(
                status_of(e.code),
                "error-title",
                Msg::new("error-detail").arg("detail", e.description),
                true,
            ),
            ServiceError::SignIn {
                unavailable,
                title,
                message,
            } => pages::message(
                if unavailable {
                    StatusCode::SERVICE_UNAVAILABLE
                } else {
                    StatusCode::FORBIDDEN
                },
                title,
                message,
                true,
            ),
            ServiceError::RateLimited(_) => pages::message(
                StatusCode::TOO_MANY_REQUESTS,
                "error-too-many-title",
                "error-too-many",
                true,
            ),
            ServiceError::Store(e) => {
                tracing::error!(error = %e, "store unavailable");
                let mut resp = pages::message(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "error-store-title",
                    "error-store",
                    true,
                );
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
                resp
            }
            ServiceError::Password(PasswordError::Busy) => busy_page(),
            e @ (ServiceError::Keys(_) | ServiceError::Password(_)) => {
                tracing::error!(error = %e, "internal error");
                pages::message(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "error-internal-title",
                    "error-internal",
                    true,
                )
            }
        }
    }
}
