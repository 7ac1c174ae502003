//! Extractors whose rejections speak the endpoint's language: OAuth JSON for the API
//! endpoints, an HTML page for the browser ones (axum's plain-text 4xx never reaches a user).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;
use axum_extra::extract::CookieJar;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use secrecy::SecretString;
use serde::Deserialize;

use super::cookies;
use super::error::{ApiError, PageError};
use crate::op::OpError;
use crate::service::authorize::BrowserContext;
use crate::service::client_auth::ClientCredentials;
use crate::service::{Broker, ServiceError};

/// A form body for an API endpoint; malformed → `invalid_request` JSON.
#[derive(FromRequest)]
#[from_request(via(axum::Form), rejection(ApiError))]
pub struct ApiForm<T>(pub T);

impl From<FormRejection> for ApiError {
    fn from(r: FormRejection) -> Self {
        ApiError(ServiceError::Op(OpError::invalid_request(format!(
            "the request body is not a valid form: {}",
            r.body_text()
        ))))
    }
}

/// A form body for a browser endpoint; malformed → an error page.
#[derive(FromRequest)]
#[from_request(via(axum::Form), rejection(PageError))]
pub struct PageForm<T>(pub T);

impl From<FormRejection> for PageError {
    fn from(_: FormRejection) -> Self {
        PageError(ServiceError::Restart(
            "The form could not be read. Go back and try again.".into(),
        ))
    }
}

/// A query string for a browser endpoint; malformed → an error page.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(PageError))]
pub struct PageQuery<T>(pub T);

impl From<QueryRejection> for PageError {
    fn from(_: QueryRejection) -> Self {
        PageError(ServiceError::Restart(
            "The address is malformed (a parameter is repeated or invalid).".into(),
        ))
    }
}

/// The browser's cookies and origin, for the login, logout and account pages.
pub struct Browser(pub BrowserContext);

impl FromRequestParts<Arc<Broker>> for Browser {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        broker: &Arc<Broker>,
    ) -> Result<Self, Self::Rejection> {
        let jar = CookieJar::from_headers(&parts.headers);
        let names = cookies::Names::for_issuer(&broker.policy().issuer);
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(256).collect());
        Ok(Browser(BrowserContext {
            browser: jar.get(names.browser).map(|c| c.value().to_owned()),
            session: jar.get(names.session).map(|c| c.value().to_owned()),
            device: jar.get(names.device).map(|c| c.value().to_owned()),
            ip: client_ip(parts, broker).map(|ip| ip.to_string()),
            user_agent,
        }))
    }
}

/// The client's address: the peer, or — only when the peer is a trusted proxy — the
/// nearest address in `X-Forwarded-For` that is not itself a trusted proxy.
pub fn client_ip(parts: &Parts, broker: &Broker) -> Option<IpAddr> {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())?;
    let trusted = &broker.policy().trusted_proxies;
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    // The de-facto `X-Forwarded-For` when present (what nearly every proxy appends to), else
    // RFC 7239 `Forwarded`. Preferring the one a proxy did not write would let a client
    // choose its own address, so a proxy that writes only `Forwarded` must strip any
    // `X-Forwarded-For` it receives (docs/src/policy.md, `trusted_proxies` under "Top level").
    let mut forwarded: Vec<IpAddr> = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse::<IpAddr>().ok())
        .collect();
    if forwarded.is_empty() {
        forwarded = forwarded_for(&parts.headers);
    }
    Some(
        forwarded
            .into_iter()
            .rev()
            .find(|ip| !trusted.contains(ip))
            .unwrap_or(peer),
    )
}

/// The `for=` addresses of RFC 7239 `Forwarded` headers, in order (§5.2: an IPv4 address,
/// or a quoted `"[IPv6]"` with an optional port; obfuscated identifiers are skipped).
fn forwarded_for(headers: &axum::http::HeaderMap) -> Vec<IpAddr> {
    headers
        .get_all(header::FORWARDED)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .flat_map(|element| element.split(';'))
        .filter_map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            if !k.eq_ignore_ascii_case("for") {
                return None;
            }
            let v = v.trim().trim_matches('"');
            if let Some(rest) = v.strip_prefix('[') {
                return rest.split(']').next()?.parse().ok();
            }
            // IPv4, possibly with a port.
            v.split(':').next()?.parse().ok()
        })
        .collect()
}

/// The client authentication parameters of an endpoint's form (RFC 6749 §2.3.1, RFC 7523
/// §2.2), embedded in each endpoint's form with `#[serde(flatten)]`. Only `Option<String>`
/// fields, here and in the forms that embed it: under `flatten` serde buffers every value
/// as a string, which a number or a bool would not accept. A repeated parameter is still
/// refused, as in a plain form.
#[derive(Default, Deserialize)]
pub struct ClientAuthForm {
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub client_assertion_type: Option<String>,
    pub client_assertion: Option<String>,
}

/// Client credentials from `Authorization: Basic` (RFC 6749 §2.3.1, values form-encoded
/// before base64), from the form's secret, or a `private_key_jwt` assertion (RFC 7523 §2.2).
/// One method per request (RFC 6749 §2.3): any two together are refused.
pub fn client_credentials(
    headers: &axum::http::HeaderMap,
    form: &ClientAuthForm,
) -> Result<ClientCredentials, ApiError> {
    let creds = secret_credentials(
        headers,
        form.client_id.as_deref(),
        form.client_secret.as_deref(),
    )?;
    with_client_assertion(
        creds,
        form.client_assertion_type.as_deref(),
        form.client_assertion.as_deref(),
    )
}

fn secret_credentials(
    headers: &axum::http::HeaderMap,
    form_id: Option<&str>,
    form_secret: Option<&str>,
) -> Result<ClientCredentials, ApiError> {
    let bad = |d: &'static str| ApiError(ServiceError::Op(OpError::invalid_client(d)));
    let basic = match headers.get(header::AUTHORIZATION) {
        None => None,
        Some(v) => {
            let v = v
                .to_str()
                .map_err(|_| bad("malformed Authorization header"))?;
            match v.split_once(' ') {
                Some((scheme, rest)) if scheme.eq_ignore_ascii_case("basic") => {
                    let raw = STANDARD
                        .decode(rest.trim())
                        .map_err(|_| bad("malformed Basic credentials"))?;
                    let raw =
                        String::from_utf8(raw).map_err(|_| bad("malformed Basic credentials"))?;
                    let (id, secret) = raw
                        .split_once(':')
                        .ok_or_else(|| bad("malformed Basic credentials"))?;
                    Some((form_decode(id), form_decode(secret)))
                }
                _ => None,
            }
        }
    };
    match basic {
        Some((id, secret)) => {
            if form_secret.is_some() {
                return Err(ApiError(ServiceError::Op(OpError::invalid_request(
                    "use one client authentication method, not two",
                ))));
            }
            if form_id.is_some_and(|f| f != id) {
                return Err(bad("client_id does not match the Authorization header"));
            }
            Ok(ClientCredentials {
                client_id: Some(id),
                client_secret: Some(SecretString::from(secret)),
                basic: true,
                ..ClientCredentials::default()
            })
        }
        None => Ok(ClientCredentials {
            client_id: form_id.map(str::to_owned),
            client_secret: form_secret.map(|s| SecretString::from(s.to_owned())),
            basic: false,
            ..ClientCredentials::default()
        }),
    }
}

/// Adds a `private_key_jwt` client assertion from the form (RFC 7523 §2.2) to the
/// credentials. A secret as well (Basic or form) is refused: one method per request
/// (RFC 6749 §2.3).
fn with_client_assertion(
    mut creds: ClientCredentials,
    assertion_type: Option<&str>,
    assertion: Option<&str>,
) -> Result<ClientCredentials, ApiError> {
    if assertion_type.is_none() && assertion.is_none() {
        return Ok(creds);
    }
    if creds.client_secret.is_some() {
        return Err(ApiError(ServiceError::Op(OpError::invalid_client(
            "client authentication failed",
        ))));
    }
    creds.client_assertion_type = assertion_type.map(str::to_owned);
    creds.client_assertion = assertion.map(|a| SecretString::from(a.to_owned()));
    Ok(creds)
}

fn form_decode(s: &str) -> String {
    form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// The bearer token of `Authorization: Bearer …` (RFC 6750 §2.1).
pub fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::forwarded_for;
    use axum::http::{HeaderMap, HeaderValue, header};

    #[test]
    fn forwarded_header_addresses_in_order() {
        let mut h = HeaderMap::new();
        h.append(
            header::FORWARDED,
            HeaderValue::from_static(
                "for=192.0.2.43, for=\"[2001:db8:cafe::17]:4711\";proto=https, for=_hidden",
            ),
        );
        h.append(
            header::FORWARDED,
            HeaderValue::from_static("For=198.51.100.17:80;by=203.0.113.1"),
        );
        let got: Vec<String> = forwarded_for(&h).iter().map(|a| a.to_string()).collect();
        assert_eq!(got, ["192.0.2.43", "2001:db8:cafe::17", "198.51.100.17"]);
    }
}
