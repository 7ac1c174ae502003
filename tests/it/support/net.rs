//! Network helpers for tests: free ports, an HTTP client that does not follow redirects, and
//! reading query parameters out of a `Location` header. Test helpers: a failure here is a broken
//! test environment, so they panic with a message instead of returning errors.
#![allow(clippy::panic)]

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};

/// A port on 127.0.0.1 that was free a moment ago. Prefer binding to port 0 and keeping the
/// listener where you can: another process may take this port before you bind it.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .unwrap_or_else(|e| panic!("cannot bind an ephemeral port on 127.0.0.1: {e}"));
    listener
        .local_addr()
        .unwrap_or_else(|e| panic!("ephemeral listener has no address: {e}"))
        .port()
}

/// A reqwest client that never follows redirects (so a test can read each `Location`), with a
/// short timeout so a hung server fails the test instead of stalling it.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .unwrap_or_else(|e| panic!("cannot build the test HTTP client: {e}"))
}

/// The query parameters of a URL, last value wins.
pub fn query_map(url: &str) -> HashMap<String, String> {
    let parsed = url::Url::parse(url).unwrap_or_else(|e| panic!("not a URL: {url}: {e}"));
    parsed.query_pairs().into_owned().collect()
}

/// The `Location` header of a redirect response, as a string.
pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("no Location header on a {} response", response.status()))
}
