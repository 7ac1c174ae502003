//! The one outbound HTTP client: reqwest 0.13 on rustls (aws-lc-rs), with timeouts and no
//! redirects (openidconnect's UPGRADE notes: following redirects on token or discovery
//! requests is an SSRF risk). [`OidcHttp`] adapts it to openidconnect's `AsyncHttpClient`,
//! replacing openidconnect's own reqwest integration: openidconnect's default features pull
//! in reqwest 0.12 with rustls on *ring*, a second HTTP stack and a second rustls crypto
//! provider next to ours (aws-lc-rs). With two providers compiled in, rustls cannot choose a
//! process default and panics when a TLS configuration is built without naming one, so
//! openidconnect is used with `default-features = false` and this client.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("the request could not be built: {0}")]
    Build(String),
    #[error("the upstream did not answer: {0}")]
    Transport(String),
}

/// A shared, hardened client. Cloning is cheap (reqwest clients are reference-counted).
#[derive(Clone, Debug)]
pub struct OidcHttp {
    client: reqwest::Client,
}

impl OidcHttp {
    pub fn new(timeout: Duration) -> Result<OidcHttp, HttpError> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .timeout(timeout)
            .user_agent(concat!("idbroker/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| HttpError::Build(e.to_string()))?;
        Ok(OidcHttp { client })
    }

    pub fn reqwest(&self) -> &reqwest::Client {
        &self.client
    }

    async fn execute(
        &self,
        request: openidconnect::HttpRequest,
    ) -> Result<openidconnect::HttpResponse, HttpError> {
        let (parts, body) = request.into_parts();
        let url = parts.uri.to_string();
        let response = self
            .client
            .request(parts.method, url)
            .headers(parts.headers)
            .body(body)
            .send()
            .await
            .map_err(|e| HttpError::Transport(without_url(&e)))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .map_err(|e| HttpError::Transport(without_url(&e)))?;
        let mut out = http::Response::builder()
            .status(status)
            .body(body.to_vec())
            .map_err(|e| HttpError::Build(e.to_string()))?;
        *out.headers_mut() = headers;
        Ok(out)
    }
}

/// reqwest errors print the URL, which may carry a code or token in its query: drop it.
fn without_url(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_body() || e.is_decode() {
        "bad response body"
    } else {
        "request failed"
    };
    kind.to_owned()
}

impl<'c> openidconnect::AsyncHttpClient<'c> for OidcHttp {
    type Error = HttpError;
    type Future =
        Pin<Box<dyn Future<Output = Result<openidconnect::HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: openidconnect::HttpRequest) -> Self::Future {
        Box::pin(self.execute(request))
    }
}
