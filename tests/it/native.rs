//! Native apps through the system browser (RFC 8252): loopback redirects on any port with
//! exact scheme, host and path (§7.3), `[::1]` as well as 127.0.0.1, private-use URI schemes
//! when registered (§7.1), PKCE S256 mandatory, no client secret.

use idbroker::clock::Clock;
use idbroker::op::pkce;
use reqwest::StatusCode;
use serde_json::Value;

use crate::support::broker::{PASSWORD, TestBroker, USER};
use crate::support::browser::{Browser, sign_in};

const VERIFIER: &str = "native-verifier-native-verifier-native-verifier-01";

const DESKTOP: &str = r#"  - id: desktop
    name: Contoso Desktop
    native: true
    redirect_uris:
      - "http://127.0.0.1/callback"
      - "http://[::1]/callback"
      - "com.contoso.desktop:/oauth2redirect"
    grants: [authorization_code, refresh_token]
    scopes: [openid, email, profile, offline_access]
"#;

async fn broker() -> TestBroker {
    TestBroker::start_with_clients(DESKTOP, "", None, Clock::System).await
}

fn authorize_url(base: &str, client: &str, redirect_uri: &str) -> String {
    let mut url = url::Url::parse(&format!("{base}/authorize")).unwrap();
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", client)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("scope", "openid email")
        .append_pair("state", "native-state")
        .append_pair("code_challenge", &pkce::s256_challenge(VERIFIER))
        .append_pair("code_challenge_method", "S256");
    url.to_string()
}

async fn redeem(tb: &TestBroker, code: &str, redirect_uri: &str) -> (StatusCode, Value) {
    let resp = reqwest::Client::new()
        .post(tb.url("/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", "desktop"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .unwrap();
    (resp.status(), resp.json().await.unwrap())
}

/// Signs in for `redirect_uri` and returns the code the broker redirected there with.
async fn code_for(tb: &TestBroker, redirect_uri: &str) -> String {
    let mut b = Browser::new();
    let back = sign_in(
        &mut b,
        &tb.base,
        &authorize_url(&tb.base, "desktop", redirect_uri),
        USER,
        PASSWORD,
    )
    .await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.body);
    let loc = back.location.clone().unwrap();
    assert!(
        loc.starts_with(&format!("{redirect_uri}?")),
        "redirected to {loc}, expected {redirect_uri}"
    );
    assert_eq!(
        back.location_param("state").as_deref(),
        Some("native-state")
    );
    back.location_param("code").unwrap()
}

/// The broker refuses `redirect_uri` for `client` with a page, never a redirect.
async fn assert_refused(tb: &TestBroker, client: &str, redirect_uri: &str) {
    let mut b = Browser::new();
    let page = b.get(&authorize_url(&tb.base, client, redirect_uri)).await;
    assert_eq!(
        page.status,
        StatusCode::BAD_REQUEST,
        "{redirect_uri}: {}",
        page.body
    );
    assert!(page.location.is_none(), "{redirect_uri} redirected");
}

#[tokio::test]
async fn a_loopback_redirect_on_any_port_signs_a_native_app_in() {
    let tb = broker().await;
    // The port the app happened to bind (RFC 8252 §7.3): not registered, still matches.
    for port in [53123, 1024, 65535] {
        let redirect_uri = format!("http://127.0.0.1:{port}/callback");
        let code = code_for(&tb, &redirect_uri).await;
        // The token request must repeat the very same redirect URI, port included.
        let other_port = format!("http://127.0.0.1:{}/callback", port - 1);
        let (s, body) = redeem(&tb, &code, &other_port).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["error"], "invalid_grant");
        let (s, body) = redeem(&tb, &code, &redirect_uri).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert!(body["id_token"].is_string());
        assert!(body["refresh_token"].is_string());
    }
    // Without a port at all (as registered) too.
    let code = code_for(&tb, "http://127.0.0.1/callback").await;
    let (s, body) = redeem(&tb, &code, "http://127.0.0.1/callback").await;
    assert_eq!(s, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn an_ipv6_loopback_redirect_on_any_port_works() {
    let tb = broker().await;
    let redirect_uri = "http://[::1]:40123/callback";
    let code = code_for(&tb, redirect_uri).await;
    let (s, body) = redeem(&tb, &code, redirect_uri).await;
    assert_eq!(s, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn loopback_redirects_must_match_scheme_host_and_path_exactly() {
    let tb = broker().await;
    for uri in [
        "http://127.0.0.1:53123/other",
        "http://127.0.0.1:53123/callback/",
        "http://127.0.0.1:53123/callbackx",
        "http://127.0.0.1:53123/callback?x=1",
        "http://127.0.0.1:53123/callback#frag",
        "https://127.0.0.1:53123/callback",
        "http://127.0.0.2:53123/callback",
        "http://localhost:53123/callback",
        "http://[::1]:53123/other",
        "http://[::2]:53123/callback",
        "http://user@127.0.0.1:53123/callback",
        "http://evil.example:53123/callback",
    ] {
        assert_refused(&tb, "desktop", uri).await;
    }
    // Only native clients get the any-port relaxation: spa registered :9000 exactly.
    assert_refused(&tb, "spa", "http://127.0.0.1:9001/callback").await;
}

#[tokio::test]
async fn a_registered_private_use_scheme_redirect_works_and_others_do_not() {
    let tb = broker().await;
    let redirect_uri = "com.contoso.desktop:/oauth2redirect";
    let code = code_for(&tb, redirect_uri).await;
    let (s, body) = redeem(&tb, &code, redirect_uri).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    for uri in [
        "com.contoso.desktop:/other",
        "com.contoso.desktop://oauth2redirect",
        "com.evil.app:/oauth2redirect",
        "com.contoso.desktop:/oauth2redirect?x=1",
    ] {
        assert_refused(&tb, "desktop", uri).await;
    }
}

#[tokio::test]
async fn native_apps_must_use_pkce_s256_and_no_secret() {
    let tb = broker().await;
    let redirect_uri = "http://127.0.0.1:53123/callback";
    // No PKCE: the redirect URI matched, so the error goes back to the app (RFC 6749
    // §4.1.2.1) — on the port it listens on.
    let mut url = url::Url::parse(&tb.url("/authorize")).unwrap();
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", "desktop")
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("scope", "openid")
        .append_pair("state", "s1");
    let mut b = Browser::new();
    let page = b.get(url.as_str()).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert!(page.location.as_deref().unwrap().starts_with(redirect_uri));
    assert_eq!(
        page.location_param("error").as_deref(),
        Some("invalid_request")
    );
    assert_eq!(page.location_param("state").as_deref(), Some("s1"));
    // `plain` is refused too.
    url.query_pairs_mut()
        .append_pair("code_challenge", VERIFIER)
        .append_pair("code_challenge_method", "plain");
    let page = b.get(url.as_str()).await;
    assert_eq!(
        page.location_param("error").as_deref(),
        Some("invalid_request")
    );

    // A code redeemed without its verifier fails; with a secret, the client fails.
    let code = code_for(&tb, redirect_uri).await;
    let resp = reqwest::Client::new()
        .post(tb.url("/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", "desktop"),
            ("code", code.as_str()),
            ("redirect_uri", redirect_uri),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");
    let resp = reqwest::Client::new()
        .post(tb.url("/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", "desktop"),
            ("client_secret", "a-secret-shipped-in-the-app"),
            ("code", code.as_str()),
            ("redirect_uri", redirect_uri),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    // Neither refusal consumed the code.
    let (s, body) = redeem(&tb, &code, redirect_uri).await;
    assert_eq!(s, StatusCode::OK, "{body}");
}
