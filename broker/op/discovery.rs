//! The provider's metadata document (OIDC Discovery 1.0 §3, RFC 8414 §2): what it offers,
//! derived from the policy and the published keys.

use serde_json::json;

use crate::policy::{GrantType, Policy};

/// The metadata for `policy`, whose keys sign with `signing_algs`.
pub fn metadata(policy: &Policy, signing_algs: &[&str]) -> serde_json::Value {
    let iss = &policy.issuer;
    let mut grants: Vec<&str> = vec![
        GrantType::AuthorizationCode.as_str(),
        GrantType::RefreshToken.as_str(),
        GrantType::ClientCredentials.as_str(),
    ];
    // RFC 8628 and RFC 8693 are advertised only when some client may use them.
    let allowed = |g: GrantType| policy.clients.values().any(|c| c.allows_grant(g));
    let device = allowed(GrantType::DeviceCode);
    if device {
        grants.push(GrantType::DeviceCode.as_str());
    }
    if allowed(GrantType::TokenExchange) {
        grants.push(GrantType::TokenExchange.as_str());
    }
    grants.sort_unstable();
    let assertion_algs: Vec<String> = crate::jose::CLIENT_ASSERTION_ALGS
        .iter()
        .map(|a| format!("{a:?}"))
        .collect();
    let mut doc = json!({
        "issuer": iss.as_str(),
        "authorization_endpoint": iss.join("/authorize"),
        "token_endpoint": iss.join("/token"),
        "userinfo_endpoint": iss.join("/userinfo"),
        "jwks_uri": iss.join("/jwks"),
        "revocation_endpoint": iss.join("/revoke"),
        "introspection_endpoint": iss.join("/introspect"),
        "end_session_endpoint": iss.join("/logout"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": grants,
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": signing_algs,
        "scopes_supported": ["openid", "email", "profile", "offline_access", "groups", "roles"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt"],
        // OIDC Discovery §3: the algorithms a private_key_jwt assertion may be signed with.
        "token_endpoint_auth_signing_alg_values_supported": assertion_algs,
        "revocation_endpoint_auth_signing_alg_values_supported": assertion_algs,
        "introspection_endpoint_auth_signing_alg_values_supported": assertion_algs,
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "amr", "acr", "azp", "sid", "email", "email_verified", "name", "given_name", "family_name", "preferred_username", "locale", "zoneinfo", "picture", "updated_at", "idp", "org", "groups", "groups_overflow", "roles"],
        // OIDC Core §3.1.2.1 `acr_values`, and clients' default_acr_values /
        // required_acr_values: the classes of `crate::acr`.
        "acr_values_supported": crate::acr::SUPPORTED,
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "authorization_response_iss_parameter_supported": true,
        "frontchannel_logout_supported": false,
        "backchannel_logout_supported": false,
    });
    // The APIs' scopes after the broker's own, so that an application can find them.
    let mut api_scopes: Vec<&str> = policy
        .apis
        .iter()
        .flat_map(|a| a.scopes.iter().map(String::as_str))
        .collect();
    api_scopes.sort_unstable();
    if let Some(list) = doc["scopes_supported"].as_array_mut() {
        list.extend(api_scopes.into_iter().map(|s| json!(s)));
    }
    if device {
        // RFC 8628 §4.
        doc["device_authorization_endpoint"] = json!(iss.join("/device_authorization"));
    }
    doc
}
