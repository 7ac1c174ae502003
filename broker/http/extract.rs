//! Extractors whose rejections speak the endpoint's language: OAuth JSON for the API
//! endpoints, an HTML page for the browser ones (axum's plain-text 4xx never reaches a user).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::rejection::{BytesRejection, FormRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use axum_extra::extract::CookieJar;
use axum_extra::headers::authorization::{Basic, Bearer, Credentials};
use axum_extra::headers::{Authorization, Header, HeaderMapExt};
use secrecy::SecretString;
use serde::Deserialize;
use serde::de::DeserializeOwned;

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

/// RFC 8707 §2: `resource` may be repeated, unlike every other parameter (RFC 6749 §3.2,
/// which the forms enforce by refusing a repeated field). So no form has a `resource` field:
/// its values are read apart from the raw query or body, every one, in order.
pub fn resources(raw: &[u8]) -> Vec<String> {
    form_urlencoded::parse(raw)
        .filter(|(k, _)| k == "resource")
        .map(|(_, v)| v.into_owned())
        .collect()
}

/// Why a form with its resources could not be read.
enum ResourceFormRejection {
    Body(BytesRejection),
    Form(FormRejection),
}

/// The body read once: parsed as the form `T` (by `axum::Form`, with its checks and limits),
/// and scanned for its `resource` values.
async fn form_with_resources<T, S>(
    req: Request,
    state: &S,
) -> Result<(T, Vec<String>), ResourceFormRejection>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    let (parts, body) = req.into_parts();
    let bytes = Bytes::from_request(Request::from_parts(parts.clone(), body), state)
        .await
        .map_err(ResourceFormRejection::Body)?;
    let found = resources(&bytes);
    let axum::Form(form) =
        axum::Form::<T>::from_request(Request::from_parts(parts, Body::from(bytes)), state)
            .await
            .map_err(ResourceFormRejection::Form)?;
    Ok((form, found))
}

/// [`ApiForm`] with the body's `resource` values (see [`resources`]).
pub struct ApiResourceForm<T>(pub T, pub Vec<String>);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiResourceForm<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match form_with_resources(req, state).await {
            Ok((form, found)) => Ok(ApiResourceForm(form, found)),
            Err(ResourceFormRejection::Form(r)) => Err(r.into()),
            Err(ResourceFormRejection::Body(r)) => {
                Err(ApiError(ServiceError::Op(OpError::invalid_request(
                    format!("the request body could not be read: {}", r.body_text()),
                ))))
            }
        }
    }
}

/// [`PageForm`] with the body's `resource` values (see [`resources`]).
pub struct PageResourceForm<T>(pub T, pub Vec<String>);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for PageResourceForm<T> {
    type Rejection = PageError;

    async fn from_request(req: Request, state: &S) -> Result<Self, PageError> {
        match form_with_resources(req, state).await {
            Ok((form, found)) => Ok(PageResourceForm(form, found)),
            Err(ResourceFormRejection::Form(r)) => Err(r.into()),
            Err(ResourceFormRejection::Body(_)) => Err(PageError(ServiceError::Restart(
                "error-form-unreadable".into(),
            ))),
        }
    }
}

/// A form body for a browser endpoint; malformed → an error page.
#[derive(FromRequest)]
#[from_request(via(axum::Form), rejection(PageError))]
pub struct PageForm<T>(pub T);

impl From<FormRejection> for PageError {
    fn from(_: FormRejection) -> Self {
        PageError(ServiceError::Restart("error-form-unreadable".into()))
    }
}

/// A query string for a browser endpoint; malformed → an error page.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(PageError))]
pub struct PageQuery<T>(pub T);

impl From<QueryRejection> for PageError {
    fn from(_: QueryRejection) -> Self {
        PageError(ServiceError::Restart("error-address-malformed".into()))
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
            let text = v
                .to_str()
                .map_err(|_| bad("malformed Authorization header"))?;
            if uses_scheme::<Basic>(text) {
                // The crate takes only spaces between `Basic` and the credentials (RFC 9110
                // §11.4: `1*SP`); hyper has already cut trailing whitespace off the value
                // (RFC 9110 §5.5). A tab there reads as malformed, as the grammar says.
                let Authorization(basic) = Authorization::<Basic>::decode(&mut std::iter::once(v))
                    .map_err(|_| bad("malformed Basic credentials"))?;
                // RFC 6749 §2.3.1: the client id and secret are encoded with
                // application/x-www-form-urlencoded before base64, so they are form-decoded
                // after it.
                Some((form_decode(basic.username()), form_decode(basic.password())))
            } else {
                // Another scheme is not client authentication.
                None
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

/// Whether an `Authorization` value uses the scheme `C` (RFC 9110 §11.1: the scheme is
/// case-insensitive; §11.4: a space follows it).
fn uses_scheme<C: Credentials>(value: &str) -> bool {
    value
        .split_once(' ')
        .is_some_and(|(scheme, _)| scheme.eq_ignore_ascii_case(C::SCHEME))
}

/// The bearer token of `Authorization: Bearer …` (RFC 6750 §2.1); `None` for another
/// scheme or an empty token. Whitespace around the token is not part of it (the crate trims
/// only before it).
pub fn bearer(headers: &axum::http::HeaderMap) -> Option<String> {
    let Authorization(bearer) = headers.typed_get::<Authorization<Bearer>>()?;
    Some(bearer.token().trim_end())
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::{bearer, forwarded_for, secret_credentials};
    use crate::service::ServiceError;
    use axum::http::{HeaderMap, HeaderValue, header};
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use secrecy::ExposeSecret;

    fn with_authorization(value: &[u8]) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_bytes(value).unwrap(),
        );
        h
    }

    /// `Authorization` as the hand-written parser read it before the typed headers: the
    /// Basic id and secret (form-decoded), `None` for another scheme, or the error.
    fn basic_as_before(headers: &HeaderMap) -> Result<Option<(String, String)>, &'static str> {
        let Some(v) = headers.get(header::AUTHORIZATION) else {
            return Ok(None);
        };
        let v = v.to_str().map_err(|_| "malformed Authorization header")?;
        match v.split_once(' ') {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("basic") => {
                let raw = STANDARD
                    .decode(rest.trim())
                    .map_err(|_| "malformed Basic credentials")?;
                let raw = String::from_utf8(raw).map_err(|_| "malformed Basic credentials")?;
                let (id, secret) = raw.split_once(':').ok_or("malformed Basic credentials")?;
                Ok(Some((super::form_decode(id), super::form_decode(secret))))
            }
            _ => Ok(None),
        }
    }

    fn basic_now(headers: &HeaderMap) -> Result<Option<(String, String)>, String> {
        match secret_credentials(headers, None, None) {
            Ok(c) if c.basic => Ok(Some((
                c.client_id.unwrap_or_default(),
                c.client_secret
                    .map(|s| s.expose_secret().to_owned())
                    .unwrap_or_default(),
            ))),
            Ok(_) => Ok(None),
            Err(super::ApiError(ServiceError::Op(e))) => Err(e.description.into_owned()),
            Err(_) => Err("another error".into()),
        }
    }

    fn b64(s: &str) -> String {
        STANDARD.encode(s)
    }

    /// RFC 6749 §2.3.1 through the typed header: the same credentials, the same refusals
    /// and the same schemes ignored as the hand-written parser, but for whitespace the
    /// grammar does not allow.
    #[test]
    fn basic_credentials_read_as_before() {
        let values = [
            format!("Basic {}", b64("app:s3cret")),
            format!("basic {}", b64("app:s3cret")),
            format!("BASIC   {}", b64("app:")),
            format!("Basic {}", b64("a%20b+c:p%2Bq%3Ar:s")),
            format!("Basic {}", b64(":")),
            format!("Basic {}", b64("no colon")),
            format!("Basic {}", STANDARD.encode([0xff, b':', b'x'])),
            "Basic !!!".into(),
            "Basic YXBwOnM".into(),
            "Basic ".into(),
            "Basic".into(),
            "Basicfoo bar".into(),
            format!("Basic\t{}", b64("app:s")),
            "Bearer abc".into(),
            "Digest username=x".into(),
            "".into(),
        ];
        for v in &values {
            let h = with_authorization(v.as_bytes());
            let before = basic_as_before(&h).map_err(str::to_owned);
            assert_eq!(basic_now(&h), before, "{v:?}");
        }
        // Not visible ASCII: refused whatever the scheme.
        let h = with_authorization(b"Bearer caf\xe9");
        assert_eq!(basic_now(&h), Err("malformed Authorization header".into()));
        assert_eq!(basic_now(&HeaderMap::new()), Ok(None));
        // Where they differ: whitespace other than spaces before the credentials, or after
        // them (which hyper removes from a received value anyway).
        for v in [
            format!("Basic \t{}", b64("app:s")),
            format!("Basic {} ", b64("app:s")),
        ] {
            let h = with_authorization(v.as_bytes());
            assert!(basic_as_before(&h).is_ok_and(|c| c.is_some()), "{v:?}");
            assert_eq!(
                basic_now(&h),
                Err("malformed Basic credentials".into()),
                "{v:?}"
            );
        }
    }

    /// RFC 6750 §2.1 through the typed header reads exactly what the hand-written parser
    /// read.
    #[test]
    fn bearer_tokens_read_as_before() {
        fn before(headers: &HeaderMap) -> Option<&str> {
            let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
            let (scheme, token) = v.split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| token.trim())
                .filter(|t| !t.is_empty())
        }
        for v in [
            &b"Bearer abc.def"[..],
            b"bearer abc",
            b"BEARER    abc  ",
            b"Bearer \tabc\t",
            b"Bearer a b",
            b"Bearer ",
            b"Bearer  \t ",
            b"Bearer",
            b"Bearerabc",
            b"Bearer\tabc",
            b"Basic abc",
            b"Bearer caf\xe9",
            b"",
        ] {
            let h = with_authorization(v);
            assert_eq!(bearer(&h).as_deref(), before(&h), "{:?}", v.escape_ascii());
        }
        assert_eq!(bearer(&HeaderMap::new()), None);
    }

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
