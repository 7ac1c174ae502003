//! `/userinfo` (OIDC Core §5.3): GET or POST, with the access token in the
//! `Authorization: Bearer` header (RFC 6750 §2.1) or, on POST, as `access_token` in a
//! form-encoded body (§2.2); never in the query (§2.3). `op::bearer` decides which.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, Method, header};
use axum::response::{IntoResponse, Response};

use super::error::ResourceError;
use super::extract::bearer;
use crate::op::bearer::{self as presented, Presented};
use crate::service::Broker;

pub async fn userinfo(
    State(broker): State<Arc<Broker>>,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Result<Response, ResourceError> {
    let header = bearer(&headers);
    let in_body = if method == Method::POST && is_form(&headers) {
        params(&body, "access_token")
    } else {
        Vec::new()
    };
    let in_query = query
        .as_deref()
        .is_some_and(|q| !params(q.as_bytes(), "access_token").is_empty());
    let token = presented::access_token(&Presented {
        header: header.as_deref(),
        body: &in_body,
        in_query,
    })?;
    Ok(Json(broker.tokens().userinfo(token).await?).into_response())
}

/// RFC 6750 §2.2: "The HTTP request entity-header includes the "Content-Type" header field
/// set to "application/x-www-form-urlencoded"" (parameters such as `charset` allowed).
fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| {
            m.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// Every value of `name` in a form-encoded string.
fn params(encoded: &[u8], name: &str) -> Vec<String> {
    url::form_urlencoded::parse(encoded)
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .collect()
}
