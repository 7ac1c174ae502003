//! Entra's v2.0 OpenID Provider metadata and signing keys, per tenant segment, and the
//! generic OIDC provider's (OIDC Discovery 1.0 §3 and §4).
//!
//! Entra quirks kept on purpose: for `common`/`organizations` the `issuer` is the literal
//! template `{authority}/{tenantid}/v2.0` (so stock discovery that insists on issuer equality
//! fails), and there is no `code_challenge_methods_supported` although PKCE works.

use std::sync::Arc;

use axum::extract::{Path, State as AxumState};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::Shared;
use super::authorize::{is_alias, tenant_not_found};

/// `{authority}/{t}/v2.0` for a tenant, the `{tenantid}` template for the aliases.
fn issuer(authority: &str, segment: &str) -> String {
    if is_alias(segment) {
        format!("{authority}/{{tenantid}}/v2.0")
    } else {
        format!("{authority}/{segment}/v2.0")
    }
}

pub async fn entra_metadata(
    AxumState(shared): AxumState<Arc<Shared>>,
    Path(segment): Path<String>,
) -> Response {
    // Like Entra, a tenant's verified domain names the tenant too, and the document then
    // speaks of the tenant by its id (issuer and endpoints).
    let by_domain = shared
        .lock()
        .tenants
        .iter()
        .find(|t| t.domain.eq_ignore_ascii_case(&segment))
        .map(|t| t.id.clone());
    let segment = by_domain.unwrap_or(segment);
    if !is_alias(&segment) && shared.lock().tenant(&segment).is_none() {
        return tenant_not_found(&segment).to_json();
    }
    let a = &shared.authority;
    let t = &segment;
    axum::Json(json!({
        "token_endpoint": format!("{a}/{t}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{a}/{t}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": issuer(a, t),
        "request_uri_parameter_supported": false,
        "userinfo_endpoint": format!("{}/oidc/userinfo", shared.graph),
        "authorization_endpoint": format!("{a}/{t}/oauth2/v2.0/authorize"),
        "device_authorization_endpoint": format!("{a}/{t}/oauth2/v2.0/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{a}/{t}/oauth2/v2.0/logout"),
        "claims_supported": [
            "sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name",
            "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username",
            "name", "tid", "ver", "at_hash", "c_hash", "email"
        ],
        "kerberos_endpoint": format!("{a}/{t}/kerberos"),
        "tenant_region_scope": if is_alias(t) { serde_json::Value::Null } else { json!("EU") },
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": shared.graph.trim_start_matches("http://").trim_start_matches("https://"),
        "rbac_url": "https://pas.windows.net",
    }))
    .into_response()
}

pub async fn entra_keys(
    AxumState(shared): AxumState<Arc<Shared>>,
    Path(segment): Path<String>,
) -> Response {
    let state = shared.lock();
    if !is_alias(&segment) && state.tenant(&segment).is_none() {
        return tenant_not_found(&segment).to_json();
    }
    let issuer = issuer(&shared.authority, &segment);
    let keys: Vec<_> = state
        .keys
        .published
        .iter()
        .map(|k| k.jwk(&issuer))
        .collect();
    axum::Json(json!({ "keys": keys })).into_response()
}

pub async fn oidc_metadata(AxumState(shared): AxumState<Arc<Shared>>) -> Response {
    let issuer = shared.oidc_issuer();
    axum::Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "form_post"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "profile", "email"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256", "PS256"],
        "code_challenge_methods_supported": ["S256"],
        "grant_types_supported": ["authorization_code"],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "nbf", "auth_time", "nonce", "name", "email", "email_verified"],
    }))
    .into_response()
}

pub async fn oidc_keys(AxumState(shared): AxumState<Arc<Shared>>) -> Response {
    let state = shared.lock();
    let keys: Vec<_> = state.keys.published.iter().map(|k| k.plain_jwk()).collect();
    axum::Json(json!({ "keys": keys })).into_response()
}
