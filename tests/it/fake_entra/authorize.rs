//! `GET /{t}/oauth2/v2.0/authorize` (Entra) and `GET /oidc/authorize` (generic OIDC): the
//! authorization code flow's first leg (RFC 6749 §4.1.1, RFC 7636 §4.3, OIDC Core §3.1.2).
//! There is no sign-in page: the user named by `login_hint` is signed in at once.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State as AxumState};
use axum::response::{Html, IntoResponse, Response};

use super::Shared;
use super::crypto::{guid, random_b64};
use super::model::{AuthorizeRecord, EntraUser, PendingCode, State, Subject};
use super::wire::{EntraError, Params, html_escape, now, redirect_with};

/// The tenant aliases Entra accepts in place of a tenant id.
pub fn is_alias(segment: &str) -> bool {
    matches!(segment, "common" | "organizations")
}

#[derive(Clone, Copy)]
enum Flavour<'a> {
    Entra { segment: &'a str },
    Oidc,
}

pub async fn entra(
    AxumState(shared): AxumState<Arc<Shared>>,
    Path(segment): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let params = Params::from_query(query.as_deref());
    authorize(&shared, Flavour::Entra { segment: &segment }, &params)
}

pub async fn oidc(
    AxumState(shared): AxumState<Arc<Shared>>,
    RawQuery(query): RawQuery,
) -> Response {
    let params = Params::from_query(query.as_deref());
    authorize(&shared, Flavour::Oidc, &params)
}

/// How the answer travels back (OAuth 2.0 Multiple Response Types §2.1; Form Post Response
/// Mode §2).
#[derive(Clone, Copy, PartialEq, Eq)]
enum ResponseMode {
    Query,
    FormPost,
}

fn deliver(mode: ResponseMode, redirect_uri: &str, pairs: &[(&str, String)]) -> Response {
    match mode {
        ResponseMode::Query => redirect_with(redirect_uri, pairs),
        ResponseMode::FormPost => {
            let inputs: String = pairs
                .iter()
                .map(|(k, v)| {
                    format!(
                        "<input type=\"hidden\" name=\"{}\" value=\"{}\"/>",
                        html_escape(k),
                        html_escape(v)
                    )
                })
                .collect();
            Html(format!(
                "<html><head><title>Working...</title></head><body><form method=\"POST\" name=\"hiddenform\" action=\"{}\">{inputs}<noscript><p>Script is disabled. Click Submit to continue.</p><input type=\"submit\" value=\"Submit\" /></noscript></form><script language=\"javascript\">document.forms[0].submit();</script></body></html>",
                html_escape(redirect_uri)
            ))
            .into_response()
        }
    }
}

fn deliver_error(
    mode: ResponseMode,
    redirect_uri: &str,
    error: &EntraError,
    state: Option<&str>,
) -> Response {
    let mut pairs = vec![
        ("error", error.error.clone()),
        ("error_description", error.short_description()),
    ];
    if let Some(state) = state {
        pairs.push(("state", state.to_owned()));
    }
    deliver(mode, redirect_uri, &pairs)
}

fn record(params: &Params, tenant: &str) -> AuthorizeRecord {
    let get = |name: &str| params.get(name).map(str::to_owned);
    AuthorizeRecord {
        tenant: tenant.to_owned(),
        client_id: get("client_id"),
        redirect_uri: get("redirect_uri"),
        scope: get("scope"),
        state: get("state"),
        nonce: get("nonce"),
        login_hint: get("login_hint"),
        domain_hint: get("domain_hint"),
        prompt: get("prompt"),
        code_challenge: get("code_challenge"),
        code_challenge_method: get("code_challenge_method"),
    }
}

fn authorize(shared: &Shared, flavour: Flavour<'_>, params: &Params) -> Response {
    let mut state = shared.lock();
    let tenant_label = match flavour {
        Flavour::Entra { segment } => segment,
        Flavour::Oidc => "oidc",
    };
    state.authorizations.push(record(params, tenant_label));

    if let Flavour::Entra { segment } = flavour
        && !is_alias(segment)
        && state.tenant(segment).is_none()
    {
        return tenant_not_found(segment).to_page();
    }
    // RFC 6749 §4.1.2.1: an unknown client or an unregistered redirect URI gets an error page,
    // never a redirect.
    let Some(client_id) = params.get("client_id") else {
        return EntraError::missing("client_id").to_page();
    };
    let Some(app) = state.app(client_id) else {
        return app_not_found(client_id, tenant_label).to_page();
    };
    let Some(redirect_uri) = params.get("redirect_uri") else {
        return EntraError::bad_request("invalid_request", 900971, "No reply address provided.")
            .to_page();
    };
    if !app.redirect_uris.iter().any(|r| r == redirect_uri) {
        return EntraError::bad_request(
            "invalid_request",
            50011,
            format!(
                "The redirect URI '{redirect_uri}' specified in the request does not match the redirect URIs configured for the application '{client_id}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal."
            ),
        )
        .to_page();
    }
    let client_id = client_id.to_owned();
    let redirect_uri = redirect_uri.to_owned();
    let state_param = params.get("state");

    let mode = match params.get("response_mode") {
        None | Some("query") => ResponseMode::Query,
        Some("form_post") => ResponseMode::FormPost,
        Some(other) => {
            let error = EntraError::bad_request(
                "invalid_request",
                70007,
                format!(
                    "The response_mode '{other}' is not supported for the authorization code flow by this fake; use 'query' or 'form_post'."
                ),
            );
            return deliver_error(ResponseMode::Query, &redirect_uri, &error, state_param);
        }
    };
    if let Some(forced) = state.knobs.authorize_errors.pop_front() {
        let mut pairs = vec![
            ("error", forced.error),
            ("error_description", forced.description),
        ];
        if let Some(s) = state_param {
            pairs.push(("state", s.to_owned()));
        }
        return deliver(mode, &redirect_uri, &pairs);
    }
    let request = match validate_request(params) {
        Ok(request) => request,
        Err(error) => return deliver_error(mode, &redirect_uri, &error, state_param),
    };
    let subject = match flavour {
        Flavour::Entra { segment } => pick_entra_user(&state, segment, params),
        Flavour::Oidc => pick_oidc_user(&state, params),
    };
    let subject = match subject {
        Ok(subject) => subject,
        Err(error) => return deliver_error(mode, &redirect_uri, &error, state_param),
    };
    let code = match flavour {
        Flavour::Entra { .. } => format!("1.A{}", random_b64(96)),
        Flavour::Oidc => random_b64(32),
    };
    state.codes.insert(
        code.clone(),
        PendingCode {
            client_id,
            redirect_uri: redirect_uri.clone(),
            tenant_segment: tenant_label.to_owned(),
            subject,
            scopes: request.scopes,
            nonce: params.get("nonce").map(str::to_owned),
            code_challenge: request.code_challenge,
            issued_at: now(),
            redeemed: false,
        },
    );
    drop(state);

    let mut pairs = vec![("code", code)];
    if let Some(s) = state_param {
        pairs.push(("state", s.to_owned()));
    }
    if let Flavour::Entra { .. } = flavour {
        pairs.push(("session_state", guid()));
    }
    deliver(mode, &redirect_uri, &pairs)
}

pub fn tenant_not_found(segment: &str) -> EntraError {
    EntraError::bad_request(
        "invalid_tenant",
        90002,
        format!(
            "Tenant '{segment}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."
        ),
    )
}

pub fn app_not_found(client_id: &str, tenant: &str) -> EntraError {
    EntraError::bad_request(
        "unauthorized_client",
        700016,
        format!(
            "Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."
        ),
    )
}

struct ValidRequest {
    scopes: Vec<String>,
    code_challenge: String,
}

fn validate_request(params: &Params) -> Result<ValidRequest, EntraError> {
    let response_type = params
        .get("response_type")
        .ok_or_else(|| EntraError::missing("response_type"))?;
    if response_type != "code" {
        return Err(EntraError::bad_request(
            "unsupported_response_type",
            70005,
            format!("response_type '{response_type}' is not supported by this fake: use 'code'."),
        ));
    }
    let scope = params
        .get("scope")
        .ok_or_else(|| EntraError::missing("scope"))?;
    let scopes: Vec<String> = scope.split_whitespace().map(str::to_owned).collect();
    // OIDC Core §3.1.2.1: an OpenID request carries the `openid` scope.
    if !scopes.iter().any(|s| s == "openid") {
        return Err(EntraError::bad_request(
            "invalid_scope",
            70011,
            format!(
                "The provided value for the input parameter 'scope' is not valid. The scope '{scope}' does not contain 'openid'."
            ),
        ));
    }
    // RFC 7636 §4.3: this fake insists on PKCE with S256.
    let challenge = params
        .get("code_challenge")
        .ok_or_else(|| EntraError::missing("code_challenge"))?;
    match params.get("code_challenge_method") {
        Some("S256") => {}
        other => {
            return Err(EntraError::bad_request(
                "invalid_request",
                9002313,
                format!(
                    "Invalid request. Request is malformed or invalid. code_challenge_method '{}' is not accepted by this fake: use 'S256'.",
                    other.unwrap_or("plain (default)")
                ),
            ));
        }
    }
    // RFC 7636 §4.2: BASE64URL(SHA256(verifier)) is 43 characters.
    let well_formed = challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !well_formed {
        return Err(EntraError::bad_request(
            "invalid_request",
            501491,
            "Invalid size of Code_Challenge parameter.",
        ));
    }
    if params.get("prompt") == Some("none") && params.get("login_hint").is_none() {
        return Err(EntraError::bad_request(
            "login_required",
            50058,
            "A silent sign-in request was sent but no user is signed in.",
        ));
    }
    Ok(ValidRequest {
        scopes,
        code_challenge: challenge.to_owned(),
    })
}

/// Finds the user named by `login_hint`: in the tenant, or for `common`/`organizations` in any
/// tenant (UPN first, then mail).
fn pick_entra_user(state: &State, segment: &str, params: &Params) -> Result<Subject, EntraError> {
    let hint = params.get("login_hint").unwrap_or_default();
    let found: Option<(&str, &EntraUser)> = if is_alias(segment) {
        state
            .tenants
            .iter()
            .find_map(|t| {
                t.users
                    .iter()
                    .map(|e| &e.user)
                    .find(|u| u.user_principal_name.eq_ignore_ascii_case(hint))
                    .map(|u| (t.id.as_str(), u))
            })
            .or_else(|| {
                state
                    .tenants
                    .iter()
                    .find_map(|t| t.find_by_sign_in_name(hint).map(|u| (t.id.as_str(), u)))
            })
    } else {
        state
            .tenant(segment)
            .and_then(|t| t.find_by_sign_in_name(hint).map(|u| (t.id.as_str(), u)))
    };
    let Some((tid, user)) = found.filter(|_| !hint.is_empty()) else {
        return Err(EntraError::bad_request(
            "invalid_request",
            50034,
            format!(
                "The user account {} does not exist in the '{segment}' directory. To sign into this application, the account must be added to the directory.",
                if hint.is_empty() {
                    "{EmailHidden}"
                } else {
                    hint
                }
            ),
        ));
    };
    if !user.account_enabled {
        return Err(EntraError::bad_request(
            "access_denied",
            50057,
            "The user account is disabled.",
        ));
    }
    Ok(Subject::Entra {
        tid: tid.to_owned(),
        oid: user.id.clone(),
    })
}

/// The OIDC user named by `login_hint` (its `sub` or email); without a hint, the only user.
fn pick_oidc_user(state: &State, params: &Params) -> Result<Subject, EntraError> {
    let user = match params.get("login_hint") {
        Some(hint) => state.oidc_users.iter().find(|u| {
            u.sub == hint
                || u.email
                    .as_deref()
                    .is_some_and(|e| e.eq_ignore_ascii_case(hint))
        }),
        None if state.oidc_users.len() == 1 => state.oidc_users.first(),
        None => None,
    };
    match user {
        Some(user) => Ok(Subject::Oidc {
            sub: user.sub.clone(),
        }),
        None => Err(EntraError::bad_request(
            "access_denied",
            50034,
            "The user account does not exist at this provider.",
        )),
    }
}
