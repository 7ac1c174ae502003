//! Client authentication at the token endpoint: `client_secret_basic` (RFC 6749 §2.3.1),
//! `client_secret_post`, and `private_key_jwt` (RFC 7523 §2.2 and §3, as Entra's "certificate
//! credentials" describe it: header `x5t#S256` or `x5t`, `aud` = the token endpoint, `iss` =
//! `sub` = client id, `exp`, `jti`), or none for a public client.

use axum::http::{HeaderMap, StatusCode, header};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use subtle::ConstantTimeEq as _;

use super::crypto::{self, RsaAlg, b64url, sha1, sha256};
use super::model::AppRegistration;
use super::wire::{EntraError, Params};

pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Entra tolerates this much clock skew on client assertions.
const SKEW: u64 = 300;

/// How the client proved who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientAuth {
    /// `appidacr` "0".
    Public,
    /// `appidacr` "1"; the secret is kept to key the `Hs256ClientSecret` misbehaviour.
    Secret(String),
    /// `appidacr` "2".
    Certificate,
}

impl ClientAuth {
    pub fn appidacr(&self) -> &'static str {
        match self {
            ClientAuth::Public => "0",
            ClientAuth::Secret(_) => "1",
            ClientAuth::Certificate => "2",
        }
    }

    pub fn secret(&self) -> Option<&str> {
        match self {
            ClientAuth::Secret(s) => Some(s),
            _ => None,
        }
    }
}

/// `client_id` and secret from an `Authorization: Basic` header; both parts are
/// form-urlencoded before base64 (RFC 6749 §2.3.1).
pub fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))?;
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unescape = |s: &str| -> String {
        form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Some((unescape(id), unescape(secret)))
}

/// The client id of a token request: the form field or the Basic user name.
pub fn client_id(params: &Params, headers: &HeaderMap) -> Option<String> {
    params
        .get("client_id")
        .map(str::to_owned)
        .or_else(|| basic_credentials(headers).map(|(id, _)| id))
}

/// Authenticates `app`. `audiences` are the `aud` values a client assertion may carry.
pub fn authenticate(
    app: &AppRegistration,
    params: &Params,
    headers: &HeaderMap,
    audiences: &[String],
    now: u64,
) -> Result<ClientAuth, EntraError> {
    let basic = basic_credentials(headers);
    if let Some((id, _)) = &basic
        && params.get("client_id").is_some_and(|form_id| form_id != id)
    {
        return Err(EntraError::bad_request(
            "invalid_request",
            900023,
            "Specified client_id does not match the client_id in the Authorization header.",
        ));
    }
    let secret = basic
        .map(|(_, s)| s)
        .or_else(|| params.get("client_secret").map(str::to_owned));
    let assertion = params.get("client_assertion");
    match (secret, assertion) {
        (Some(_), Some(_)) => Err(EntraError::bad_request(
            "invalid_request",
            9002313,
            "Invalid request. Request is malformed or invalid. Only one client credential may be presented.",
        )),
        (None, None) if app.is_confidential() => Err(EntraError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        )),
        (None, None) => Ok(ClientAuth::Public),
        (Some(_), None) | (None, Some(_)) if !app.is_confidential() => {
            Err(EntraError::bad_request(
                "invalid_request",
                700025,
                "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.",
            ))
        }
        (Some(secret), None) => check_secret(app, &secret),
        (None, Some(assertion)) => {
            if params.get("client_assertion_type") != Some(JWT_BEARER) {
                return Err(EntraError::bad_request(
                    "invalid_request",
                    7000216,
                    "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type. The client_assertion_type must be 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'.",
                ));
            }
            check_assertion(app, assertion, audiences, now)
        }
    }
}

fn check_secret(app: &AppRegistration, secret: &str) -> Result<ClientAuth, EntraError> {
    let matches = app
        .secrets
        .iter()
        .any(|s| bool::from(s.as_bytes().ct_eq(secret.as_bytes())));
    if matches {
        Ok(ClientAuth::Secret(secret.to_owned()))
    } else {
        Err(EntraError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000215,
            format!(
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{}'.",
                app.client_id
            ),
        ))
    }
}

fn invalid_client(code: u32, message: impl Into<String>) -> EntraError {
    EntraError::new(StatusCode::UNAUTHORIZED, "invalid_client", code, message)
}

fn check_assertion(
    app: &AppRegistration,
    assertion: &str,
    audiences: &[String],
    now: u64,
) -> Result<ClientAuth, EntraError> {
    let Some(jws) = crypto::parse_compact(assertion) else {
        return Err(invalid_client(50027, "JWT token is invalid or malformed."));
    };
    let header = &jws.header;
    let Some(alg) = header["alg"].as_str().and_then(RsaAlg::from_name) else {
        return Err(invalid_client(
            5002738,
            format!(
                "Invalid JWT token. '{}' is not a supported signature algorithm. Supported signing algorithms are: 'RS256, RS384, RS512, PS256, PS384, PS512'",
                header["alg"].as_str().unwrap_or("")
            ),
        ));
    };
    // The certificate is found by thumbprint: `x5t#S256` (SHA-256) or `x5t` (SHA-1).
    let by_s256 = header["x5t#S256"].as_str();
    let by_sha1 = header["x5t"].as_str();
    let thumbprint = by_s256.or(by_sha1).unwrap_or("");
    let certificate = app.certificates.iter().find(|cert| {
        by_s256.is_some_and(|t| t == b64url(&sha256(cert)))
            || by_sha1.is_some_and(|t| t == b64url(&sha1(cert)))
    });
    let Some(certificate) = certificate else {
        return Err(invalid_client(
            700027,
            format!(
                "The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '{thumbprint}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '{}'.]",
                app.client_id
            ),
        ));
    };
    if !crypto::verify_with_certificate(
        certificate,
        alg,
        jws.signing_input.as_bytes(),
        &jws.signature,
    ) {
        return Err(invalid_client(
            700027,
            "Client assertion failed signature validation.",
        ));
    }
    let claims = &jws.claims;
    let aud_ok = match &claims["aud"] {
        serde_json::Value::String(aud) => audiences.contains(aud),
        serde_json::Value::Array(auds) => auds
            .iter()
            .filter_map(|a| a.as_str())
            .any(|a| audiences.iter().any(|x| x == a)),
        _ => false,
    };
    if !aud_ok {
        return Err(invalid_client(
            700023,
            "Client assertion audience claim does not match Realm issuer. Review the documentation at https://docs.microsoft.com/azure/active-directory/develop/active-directory-certificate-credentials .",
        ));
    }
    if claims["iss"].as_str() != Some(app.client_id.as_str()) {
        return Err(invalid_client(
            700021,
            "Client assertion application identifier doesn't match 'client_id' parameter.",
        ));
    }
    if claims["sub"] != claims["iss"] {
        return Err(invalid_client(
            50048,
            "Subject mismatches Issuer claim in the client assertion.",
        ));
    }
    if claims["jti"].as_str().is_none_or(str::is_empty) {
        return Err(invalid_client(
            50027,
            "JWT token is invalid or malformed. The 'jti' claim is required.",
        ));
    }
    let Some(exp) = claims["exp"].as_u64() else {
        return Err(invalid_client(
            50027,
            "JWT token is invalid or malformed. The 'exp' claim is required.",
        ));
    };
    let nbf = claims["nbf"].as_u64().unwrap_or(0);
    if now >= exp + SKEW || nbf > now + SKEW {
        return Err(invalid_client(
            700024,
            format!(
                "Client assertion is not within its valid time range. Current time: {now}, assertion valid from {nbf}, expiry time of assertion {exp}."
            ),
        ));
    }
    Ok(ClientAuth::Certificate)
}
