//! `/.well-known/openid-configuration` (OIDC Discovery 1.0 §3) and `/jwks` (RFC 7517).
//! Both documents are serialised once per policy and key set, and served as they are.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::service::Broker;

pub async fn openid_configuration(State(broker): State<Arc<Broker>>) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=300"),
            ),
        ],
        Bytes::from_owner(broker.discovery_document()),
    )
        .into_response()
}

pub async fn jwks(State(broker): State<Arc<Broker>>) -> Response {
    let body = broker.jwks_json();
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/jwk-set+json"),
            ),
            // Short, so a rotated key is seen within minutes; RPs refetch on an unknown kid.
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=300"),
            ),
        ],
        Bytes::from_owner(body),
    )
        .into_response()
}
