//! Wire helpers: request parameters, Entra's error shapes (JSON on `/token`, redirect on
//! `/authorize` once `redirect_uri` is trusted, an HTML page before that), Graph's error JSON,
//! and the timestamp formats both use.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::json;

use super::crypto::guid;
use super::model::find_pair;

/// Decoded `application/x-www-form-urlencoded` pairs (a query string or a form body).
#[derive(Debug, Clone, Default)]
pub struct Params(pub Vec<(String, String)>);

impl Params {
    pub fn parse(raw: &[u8]) -> Params {
        Params(form_urlencoded::parse(raw).into_owned().collect())
    }

    pub fn from_query(raw: Option<&str>) -> Params {
        Params::parse(raw.unwrap_or_default().as_bytes())
    }

    /// The value of `name`; an empty value counts as absent (as Entra treats it).
    pub fn get(&self, name: &str) -> Option<&str> {
        find_pair(&self.0, name).filter(|v| !v.is_empty())
    }
}

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// (year, month, day, hour, minute, second) in UTC; days-from-civil inverse (H. Hinnant).
fn civil(unix: u64) -> (i64, u32, u32, u64, u64, u64) {
    let days = (unix / 86_400) as i64;
    let secs = unix % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day, secs / 3600, secs % 3600 / 60, secs % 60)
}

/// Entra's error timestamp: `2016-01-09 02:02:12Z`.
pub fn entra_timestamp(unix: u64) -> String {
    let (y, mo, d, h, mi, s) = civil(unix);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}Z")
}

/// Graph's `innerError.date`: `2024-05-01T10:00:00`.
pub fn graph_date(unix: u64) -> String {
    let (y, mo, d, h, mi, s) = civil(unix);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}")
}

/// An error of the Microsoft identity platform: an OAuth `error` plus an `AADSTS` code.
#[derive(Debug, Clone)]
pub struct EntraError {
    pub status: StatusCode,
    pub error: String,
    pub code: u32,
    pub message: String,
}

impl EntraError {
    pub fn new(
        status: StatusCode,
        error: &str,
        code: u32,
        message: impl Into<String>,
    ) -> EntraError {
        EntraError {
            status,
            error: error.to_owned(),
            code,
            message: message.into(),
        }
    }

    pub fn bad_request(error: &str, code: u32, message: impl Into<String>) -> EntraError {
        EntraError::new(StatusCode::BAD_REQUEST, error, code, message)
    }

    /// AADSTS900144: a required parameter is missing.
    pub fn missing(name: &str) -> EntraError {
        EntraError::bad_request(
            "invalid_request",
            900144,
            format!("The request body must contain the following parameter: '{name}'."),
        )
    }

    /// `AADSTS{code}: {message}` (what goes to `error_description`, without the trace lines).
    pub fn short_description(&self) -> String {
        format!("AADSTS{}: {}", self.code, self.message)
    }

    /// The `/token` error body (RFC 6749 §5.2 plus Entra's diagnostics fields).
    pub fn to_json(&self) -> Response {
        let now = now();
        let (trace, correlation) = (guid(), guid());
        let timestamp = entra_timestamp(now);
        let body = json!({
            "error": self.error,
            "error_description": format!(
                "{}\r\nTrace ID: {trace}\r\nCorrelation ID: {correlation}\r\nTimestamp: {timestamp}",
                self.short_description()
            ),
            "error_codes": [self.code],
            "timestamp": timestamp,
            "trace_id": trace,
            "correlation_id": correlation,
            "error_uri": format!("https://login.microsoftonline.com/error?code={}", self.code),
        });
        let mut response = (self.status, axum::Json(body)).into_response();
        no_store(response.headers_mut());
        response
    }

    /// RFC 6749 §4.1.2.1: with an unknown client or redirect URI, never redirect; Entra shows
    /// its own error page.
    pub fn to_page(&self) -> Response {
        let body = format!(
            "<!doctype html><html><head><title>Sign in to your account</title></head><body>\
             <h1>Sorry, but we're having trouble signing you in.</h1><p id=\"error\">{}</p>\
             </body></html>",
            html_escape(&self.short_description())
        );
        (self.status, Html(body)).into_response()
    }
}

/// A 302 to `base` with `pairs` appended to its query.
pub fn redirect_with(base: &str, pairs: &[(&str, String)]) -> Response {
    let mut url = match url::Url::parse(base) {
        Ok(url) => url,
        Err(_) => {
            return EntraError::bad_request(
                "invalid_request",
                90102,
                "The value must be a valid absolute URI.",
            )
            .to_page();
        }
    };
    {
        let mut query = url.query_pairs_mut();
        for (k, v) in pairs {
            query.append_pair(k, v);
        }
    }
    found(url.as_str())
}

pub fn found(location: &str) -> Response {
    let mut response = StatusCode::FOUND.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

pub fn no_store(headers: &mut HeaderMap) {
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store, no-cache"),
    );
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

pub fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Graph's error body `{"error":{"code","message","innerError":{...}}}`.
pub fn graph_error(status: StatusCode, code: &str, message: &str) -> Response {
    let request_id = guid();
    let body = json!({
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": graph_date(now()),
                "request-id": request_id,
                "client-request-id": request_id,
            }
        }
    });
    let mut response = (status, axum::Json(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("request-id", value.clone());
        response.headers_mut().insert("client-request-id", value);
    }
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(
                "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", client_id=\"00000003-0000-0000-c000-000000000000\"",
            ),
        );
    }
    response
}
