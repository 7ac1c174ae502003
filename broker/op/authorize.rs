//! Validation of an authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1-2,
//! RFC 7636 §4.3).
//!
//! The order matters: until the client and its redirect URI are known to be valid, errors
//! are shown to the user and never sent anywhere (RFC 6749 §4.1.2.1: "MUST NOT
//! automatically redirect the user-agent to the invalid redirection URI"). After that,
//! errors go back to the client by redirect.

use std::sync::Arc;

use url::Url;

use super::{ErrorCode, OpError, pkce, redirect_uri, resource, scope};
use crate::policy::{Client, GrantType, Policy};

/// The parameters of `/authorize` as received (query or form).
#[derive(Debug, Clone, Default)]
pub struct AuthorizeParams {
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub response_type: Option<String>,
    pub response_mode: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub prompt: Option<String>,
    pub max_age: Option<String>,
    pub login_hint: Option<String>,
    pub request: Option<String>,
    pub request_uri: Option<String>,
    /// RFC 8707 §2: every `resource` value, in order (the parameter may be repeated).
    pub resource: Vec<String>,
    /// OIDC Core §3.1.2.1.
    pub acr_values: Option<String>,
    /// OIDC Core §3.1.2.1: the languages of the pages, in order of preference.
    pub ui_locales: Option<String>,
    /// The user's organisation by an email domain, as Entra's `domain_hint`: its brand shows
    /// from the first page.
    pub domain_hint: Option<String>,
}

/// What `prompt` asks for (OIDC Core §3.1.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Prompt {
    /// Reuse a live session, or show the login page.
    #[default]
    Default,
    /// Never show a page: reuse the session or fail with `login_required`.
    None,
    /// Always authenticate again.
    Login,
}

/// A request that passed validation.
#[derive(Debug, Clone)]
pub struct ValidRequest {
    pub client: Arc<Client>,
    /// The registered redirect URI to answer to (with the request's port for loopback).
    pub redirect_uri: Url,
    pub scope: Vec<String>,
    /// The API the tokens will be addressed to (its identifier), or `None` for the client.
    pub resource: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub prompt: Prompt,
    pub max_age: Option<u64>,
    pub login_hint: Option<String>,
    /// The requested authentication context classes the broker knows, in order of
    /// preference (see `crate::acr`).
    pub acr_values: Vec<String>,
    pub ui_locales: Option<String>,
    /// Lower-cased.
    pub domain_hint: Option<String>,
}

/// Why a request was refused, and where the refusal may be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeError {
    /// The client or redirect URI is not valid: show a page, redirect nowhere. A message id
    /// of the catalogs (`broker/i18n/catalogs`).
    Page(&'static str),
    /// The client and redirect URI are valid: redirect there with `error`.
    Redirect {
        redirect_uri: Box<Url>,
        state: Option<String>,
        error: OpError,
    },
}

/// Upper bound for any single parameter; longer values are refused (`invalid_request`).
const MAX_PARAM: usize = 2048;
/// Upper bounds of the parameters a login transaction stores as they are (`state`,
/// `nonce`, `login_hint`): an unauthenticated `/authorize` must not be able to park
/// kilobytes per request in the store. Longer values are refused with `invalid_request`.
pub const MAX_STATE: usize = 512;
pub const MAX_NONCE: usize = 512;
pub const MAX_LOGIN_HINT: usize = 256;
pub const MAX_UI_LOCALES: usize = 256;

pub fn validate(policy: &Policy, p: &AuthorizeParams) -> Result<ValidRequest, AuthorizeError> {
    let Some(client_id) = p.client_id.as_deref().filter(|s| !s.is_empty()) else {
        return Err(AuthorizeError::Page("authorize-no-client-id"));
    };
    let Some(client) = policy.client(client_id).cloned() else {
        return Err(AuthorizeError::Page("authorize-unknown-client"));
    };
    // OIDC Core §3.1.2.1: redirect_uri is REQUIRED.
    let Some(requested) = p.redirect_uri.as_deref() else {
        return Err(AuthorizeError::Page("authorize-no-redirect-uri"));
    };
    let Some(redirect_uri) = redirect_uri::match_redirect(&client, requested) else {
        return Err(AuthorizeError::Page("error-unregistered-redirect"));
    };
    let state = p.state.clone();
    let fail = |error: OpError| AuthorizeError::Redirect {
        redirect_uri: Box::new(redirect_uri.clone()),
        state: state.clone().filter(|s| s.len() <= MAX_STATE),
        error,
    };

    for (name, value, max) in [
        ("state", &p.state, MAX_STATE),
        ("nonce", &p.nonce, MAX_NONCE),
        ("scope", &p.scope, MAX_PARAM),
        ("login_hint", &p.login_hint, MAX_LOGIN_HINT),
        ("code_challenge", &p.code_challenge, MAX_PARAM),
        ("acr_values", &p.acr_values, MAX_PARAM),
        ("ui_locales", &p.ui_locales, MAX_UI_LOCALES),
        ("domain_hint", &p.domain_hint, MAX_LOGIN_HINT),
    ] {
        if value.as_ref().is_some_and(|v| v.len() > max) {
            return Err(fail(OpError::invalid_request(format!(
                "{name} is too long (at most {max} bytes)"
            ))));
        }
    }
    // OIDC Core §6.1 / §6.2: request objects are optional; say they are unsupported.
    if p.request.is_some() {
        return Err(fail(OpError::new(
            ErrorCode::RequestNotSupported,
            "request objects are not supported",
        )));
    }
    if p.request_uri.is_some() {
        return Err(fail(OpError::new(
            ErrorCode::RequestUriNotSupported,
            "request_uri is not supported",
        )));
    }
    match p.response_type.as_deref() {
        Some("code") => {}
        None => return Err(fail(OpError::invalid_request("response_type is missing"))),
        Some(_) => {
            return Err(fail(OpError::new(
                ErrorCode::UnsupportedResponseType,
                "only response_type=code is supported",
            )));
        }
    }
    match p.response_mode.as_deref() {
        None | Some("query") => {}
        Some(_) => {
            return Err(fail(OpError::invalid_request(
                "only response_mode=query is supported",
            )));
        }
    }
    if !client.allows_grant(GrantType::AuthorizationCode) {
        return Err(fail(OpError::new(
            ErrorCode::UnauthorizedClient,
            "this client may not use the authorization code flow",
        )));
    }
    let scopes = scope::parse(p.scope.as_deref());
    // RFC 8707 §2 and RFC 6749 §4.1.2.1: `invalid_target` and `invalid_scope` go back to
    // the client, now that its redirect URI is known to be registered.
    let api = resource::single(&p.resource)
        .and_then(|r| resource::target(policy, &client, &scopes, r))
        .map_err(&fail)?;

    // RFC 7636 §4.4.1 and RFC 9700 §2.1.1: PKCE with S256; mandatory for public clients.
    let code_challenge = match (
        p.code_challenge.as_deref(),
        p.code_challenge_method.as_deref(),
    ) {
        (None, None) if client.is_public() => {
            return Err(fail(OpError::invalid_request(
                "PKCE is required: send code_challenge with code_challenge_method=S256",
            )));
        }
        (None, None) => None,
        (None, Some(_)) => {
            return Err(fail(OpError::invalid_request(
                "code_challenge_method without code_challenge",
            )));
        }
        (Some(_), None | Some("plain")) => {
            return Err(fail(OpError::invalid_request(
                "only code_challenge_method=S256 is supported",
            )));
        }
        (Some(c), Some("S256")) if pkce::is_valid_s256_challenge(c) => Some(c.to_owned()),
        (Some(_), Some("S256")) => {
            return Err(fail(OpError::invalid_request(
                "code_challenge is not a valid S256 challenge",
            )));
        }
        (Some(_), Some(_)) => {
            return Err(fail(OpError::invalid_request(
                "only code_challenge_method=S256 is supported",
            )));
        }
    };

    let prompt = parse_prompt(p.prompt.as_deref()).map_err(&fail)?;
    let max_age = match p.max_age.as_deref() {
        None | Some("") => None,
        Some(s) => Some(
            s.parse::<u64>()
                .map_err(|_| fail(OpError::invalid_request("max_age must be a whole number")))?,
        ),
    };
    let login_hint = p
        .login_hint
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);

    Ok(ValidRequest {
        client,
        redirect_uri,
        scope: scopes,
        resource: api.map(|a| a.identifier.clone()),
        state: p.state.clone(),
        nonce: p.nonce.clone(),
        code_challenge,
        prompt,
        max_age,
        login_hint,
        acr_values: crate::acr::parse_requested(p.acr_values.as_deref()),
        ui_locales: p.ui_locales.clone().filter(|s| !s.trim().is_empty()),
        domain_hint: p
            .domain_hint
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_ascii_lowercase),
    })
}

/// OIDC Core §3.1.2.1: `prompt` is a space-delimited list; `none` must stand alone.
/// `consent` and `select_account` are accepted and have no effect (first-party broker, one
/// account per browser session).
fn parse_prompt(prompt: Option<&str>) -> Result<Prompt, OpError> {
    let values: Vec<&str> = prompt
        .unwrap_or("")
        .split(' ')
        .filter(|s| !s.is_empty())
        .collect();
    if values.contains(&"none") {
        if values.len() > 1 {
            return Err(OpError::invalid_request(
                "prompt=none cannot be combined with other values",
            ));
        }
        return Ok(Prompt::None);
    }
    for v in &values {
        if !matches!(*v, "login" | "consent" | "select_account") {
            return Err(OpError::invalid_request("unknown prompt value"));
        }
    }
    Ok(if values.contains(&"login") {
        Prompt::Login
    } else {
        Prompt::Default
    })
}
