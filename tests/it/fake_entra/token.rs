//! `POST /{t}/oauth2/v2.0/token` (Entra) and `POST /oidc/token` (generic OIDC): the
//! authorization code grant with PKCE (RFC 6749 §4.1.3, RFC 7636 §4.6) and, for Entra, the
//! client credentials grant for Microsoft Graph (RFC 6749 §4.4). Errors are Entra's JSON.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State as AxumState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use subtle::ConstantTimeEq as _;

use super::Shared;
use super::authorize::{app_not_found, is_alias, tenant_not_found};
use super::claims::{self, GRAPH_APP_ID, GRAPH_RESOURCE, IdTokenRequest};
use super::client_auth::{self, ClientAuth};
use super::crypto::{CryptoError, b64url, random_b64, sha256};
use super::model::{PendingCode, State, Subject};
use super::wire::{EntraError, Params, no_store, now};

#[derive(Clone, Copy)]
enum Flavour<'a> {
    Entra { segment: &'a str },
    Oidc,
}

pub async fn entra(
    AxumState(shared): AxumState<Arc<Shared>>,
    Path(segment): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = Params::parse(&body);
    respond(token(
        &shared,
        Flavour::Entra { segment: &segment },
        &headers,
        &params,
    ))
}

pub async fn oidc(
    AxumState(shared): AxumState<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = Params::parse(&body);
    respond(token(&shared, Flavour::Oidc, &headers, &params))
}

/// Entra answers a GET on the token endpoint with AADSTS900561.
pub async fn wrong_method() -> Response {
    EntraError::bad_request(
        "invalid_request",
        900561,
        "The endpoint only accepts POST, OPTIONS requests. Received a GET request.",
    )
    .to_json()
}

fn respond(result: Result<serde_json::Value, EntraError>) -> Response {
    match result {
        Ok(body) => {
            let mut response = (StatusCode::OK, axum::Json(body)).into_response();
            no_store(response.headers_mut());
            response
        }
        Err(error) => error.to_json(),
    }
}

fn server_error(error: CryptoError) -> EntraError {
    EntraError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "server_error",
        50000,
        format!("There was an error issuing a token: {error}"),
    )
}

fn invalid_grant(code: u32, message: impl Into<String>) -> EntraError {
    EntraError::bad_request("invalid_grant", code, message)
}

fn token(
    shared: &Shared,
    flavour: Flavour<'_>,
    headers: &HeaderMap,
    params: &Params,
) -> Result<serde_json::Value, EntraError> {
    let mut state = shared.lock();
    if let Some(forced) = state.knobs.token_errors.pop_front() {
        let status = StatusCode::from_u16(forced.status).unwrap_or(StatusCode::BAD_REQUEST);
        let code = forced
            .description
            .strip_prefix("AADSTS")
            .and_then(|rest| rest.split(':').next())
            .and_then(|digits| digits.parse().ok())
            .unwrap_or(0);
        let message = forced
            .description
            .split_once(": ")
            .map(|(_, m)| m.to_owned())
            .unwrap_or(forced.description.clone());
        return Err(EntraError::new(status, &forced.error, code, message));
    }
    let (label, audiences) = match flavour {
        Flavour::Entra { segment } => {
            if !is_alias(segment) && state.tenant(segment).is_none() {
                return Err(tenant_not_found(segment));
            }
            let endpoint = format!("{}/{segment}/oauth2/v2.0/token", shared.authority);
            (segment, vec![endpoint])
        }
        Flavour::Oidc => {
            let endpoint = format!("{}/token", shared.oidc_issuer());
            // RFC 7523 §3: the audience may be the token endpoint or the issuer.
            ("oidc", vec![endpoint, shared.oidc_issuer()])
        }
    };
    let grant_type = params
        .get("grant_type")
        .ok_or_else(|| EntraError::missing("grant_type"))?;
    let client_id =
        client_auth::client_id(params, headers).ok_or_else(|| EntraError::missing("client_id"))?;
    let Some(app) = state.app(&client_id) else {
        return Err(app_not_found(&client_id, label));
    };
    let auth = client_auth::authenticate(app, params, headers, &audiences, now())?;
    match (grant_type, flavour) {
        ("authorization_code", _) => {
            code_grant(shared, &mut state, flavour, &client_id, &auth, params)
        }
        ("client_credentials", Flavour::Entra { segment }) => {
            client_credentials(&state, segment, &client_id, &auth, params)
        }
        (other, _) => Err(EntraError::bad_request(
            "unsupported_grant_type",
            70003,
            format!("The app requested an unsupported grant type '{other}'."),
        )),
    }
}

/// Checks and burns the code: a code is single-use whatever the outcome (RFC 6749 §4.1.2).
fn take_code(
    state: &mut State,
    flavour: Flavour<'_>,
    client_id: &str,
    params: &Params,
) -> Result<PendingCode, EntraError> {
    let code = params
        .get("code")
        .ok_or_else(|| EntraError::missing("code"))?;
    let code_lifetime = state.knobs.code_lifetime;
    let Some(pending) = state.codes.get_mut(code) else {
        return Err(invalid_grant(
            70000,
            "The provided value for the 'code' parameter is not valid.",
        ));
    };
    if pending.redeemed {
        return Err(invalid_grant(
            54005,
            "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.",
        ));
    }
    pending.redeemed = true;
    let pending = pending.clone();
    let right_flavour = matches!(
        (&pending.subject, flavour),
        (Subject::Entra { .. }, Flavour::Entra { .. }) | (Subject::Oidc { .. }, Flavour::Oidc)
    );
    if !right_flavour || pending.client_id != client_id {
        return Err(invalid_grant(
            70000,
            "The provided value for the 'code' parameter is not valid. The code was not issued to this client.",
        ));
    }
    if let (Flavour::Entra { segment }, Subject::Entra { tid, .. }) = (flavour, &pending.subject) {
        let same_tenant = pending.tenant_segment == segment
            || (is_alias(&pending.tenant_segment) && segment == tid);
        if !same_tenant {
            return Err(invalid_grant(
                700005,
                "Provided Authorization Code is intended to use against other tenant, thus rejected.",
            ));
        }
    }
    if now().saturating_sub(pending.issued_at) > code_lifetime {
        return Err(invalid_grant(
            70008,
            "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.",
        ));
    }
    let redirect_uri = params
        .get("redirect_uri")
        .ok_or_else(|| EntraError::missing("redirect_uri"))?;
    if redirect_uri != pending.redirect_uri {
        return Err(invalid_grant(
            70000,
            "The provided value for the 'redirect_uri' is not valid. The value must exactly match the redirect URI used to obtain the authorization code.",
        ));
    }
    // RFC 7636 §4.6: BASE64URL(SHA256(code_verifier)) == code_challenge.
    let verifier = params.get("code_verifier").unwrap_or_default();
    let computed = b64url(&sha256(verifier.as_bytes()));
    if !bool::from(computed.as_bytes().ct_eq(pending.code_challenge.as_bytes())) {
        return Err(invalid_grant(
            501481,
            "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
        ));
    }
    Ok(pending)
}

fn code_grant(
    shared: &Shared,
    state: &mut State,
    flavour: Flavour<'_>,
    client_id: &str,
    auth: &ClientAuth,
    params: &Params,
) -> Result<serde_json::Value, EntraError> {
    let pending = take_code(state, flavour, client_id, params)?;
    let now = now();
    let request = IdTokenRequest {
        client_id,
        scopes: &pending.scopes,
        nonce: pending.nonce.as_deref(),
        client_secret: auth.secret(),
        now,
    };
    let granted: Vec<&str> = pending
        .scopes
        .iter()
        .map(String::as_str)
        .filter(|s| matches!(*s, "openid" | "profile" | "email"))
        .collect();
    match &pending.subject {
        Subject::Entra { tid, oid } => {
            let user = state.tenant(tid).and_then(|t| t.user(oid)).cloned();
            let Some(user) = user else {
                return Err(invalid_grant(
                    50034,
                    "The user account does not exist in the directory.",
                ));
            };
            if !user.account_enabled {
                return Err(invalid_grant(50057, "The user account is disabled."));
            }
            let id_token = claims::entra_id_token(state, &shared.authority, tid, &user, &request)
                .map_err(server_error)?;
            let access_token = claims::graph_user_token(state, tid, &user, client_id, now)
                .map_err(server_error)?;
            let scope = format!(
                "{} https://graph.microsoft.com/User.Read",
                granted.join(" ")
            );
            Ok(json!({
                "token_type": "Bearer",
                "scope": scope.trim_start(),
                "expires_in": 3599,
                "ext_expires_in": 3599,
                "access_token": access_token,
                "id_token": id_token,
            }))
        }
        Subject::Oidc { sub } => {
            let id_token = claims::oidc_id_token(state, &shared.oidc_issuer(), sub, &request)
                .map_err(server_error)?;
            Ok(json!({
                "token_type": "Bearer",
                "scope": granted.join(" "),
                "expires_in": 3600,
                "access_token": random_b64(32),
                "id_token": id_token,
            }))
        }
    }
}

fn client_credentials(
    state: &State,
    segment: &str,
    client_id: &str,
    auth: &ClientAuth,
    params: &Params,
) -> Result<serde_json::Value, EntraError> {
    match segment {
        "common" => {
            return Err(EntraError::bad_request(
                "invalid_request",
                9001023,
                "The grant type isn't supported over the /common or /consumers endpoints. Please use the /organizations or tenant-specific endpoint.",
            ));
        }
        "organizations" => {
            return Err(EntraError::bad_request(
                "invalid_request",
                50059,
                "No tenant-identifying information found in either the request or implied by any provided credentials.",
            ));
        }
        _ => {}
    }
    let scope = params
        .get("scope")
        .ok_or_else(|| EntraError::missing("scope"))?;
    let scopes: Vec<&str> = scope.split_whitespace().collect();
    let resource = match scopes.as_slice() {
        [single] => single.strip_suffix("/.default"),
        _ => None,
    };
    let Some(resource) = resource else {
        return Err(EntraError::bad_request(
            "invalid_scope",
            1002012,
            format!(
                "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
            ),
        ));
    };
    if resource.trim_end_matches('/') != GRAPH_RESOURCE && resource != GRAPH_APP_ID {
        return Err(EntraError::bad_request(
            "invalid_resource",
            500011,
            format!(
                "The resource principal named {resource} was not found in the tenant named {segment}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant."
            ),
        ));
    }
    let service_principal = state
        .tenant(segment)
        .and_then(|t| t.service_principals.get(client_id))
        .cloned();
    let Some(service_principal) = service_principal else {
        return Err(EntraError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000229,
            format!(
                "The client application {client_id} is missing service principal in the tenant {segment}. See instructions here: https://go.microsoft.com/fwlink/?linkid=2225119"
            ),
        ));
    };
    let (access_token, lifetime) = claims::graph_app_token(
        state,
        segment,
        client_id,
        &service_principal,
        auth.appidacr(),
        now(),
    )
    .map_err(server_error)?;
    Ok(json!({
        "token_type": "Bearer",
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": access_token,
    }))
}
