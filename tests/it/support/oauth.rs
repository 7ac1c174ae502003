//! The application side of the tests that need no RP library: the `spa` public client's
//! authorization request, its code redemption with PKCE, the identifier step of the login
//! page, and reading a JWT's claims (unverified; the OP tests verify with a real RP).

use reqwest::StatusCode;
use serde_json::Value;

use super::broker::{PASSWORD, TestBroker};
use super::browser::{Browser, Page};

/// The `spa` client's registered redirect URI.
pub const SPA_CB: &str = "http://127.0.0.1:9000/callback";
/// The PKCE code verifier of [`spa_authorize_url`]'s challenge (RFC 7636 §4.1).
pub const VERIFIER: &str = "verifier-verifier-verifier-verifier-verifier-0001";

/// An authorization request of `spa` with `scope` (space-encoded), state `app-state`, nonce
/// `app-nonce` and PKCE S256.
pub fn spa_authorize_url(base: &str, scope: &str) -> String {
    format!(
        "{base}/authorize?response_type=code&client_id=spa&redirect_uri={SPA_CB}&scope={scope}&state=app-state&nonce=app-nonce&code_challenge={}&code_challenge_method=S256",
        idbroker::op::pkce::s256_challenge(VERIFIER)
    )
}

/// Opens the login page of a `spa` request and submits `who` at the identifier step.
pub async fn identify(b: &mut Browser, tb: &TestBroker, who: &str) -> Page {
    let first = b
        .get(&spa_authorize_url(&tb.base, "openid%20email%20profile"))
        .await;
    let page = b.follow(&tb.base, first).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    b.post(
        &tb.url("/login/identifier"),
        &[
            ("tx", &page.field("tx")),
            ("csrf", &page.field("csrf")),
            ("identifier", who),
        ],
    )
    .await
}

/// Redeems a code of `spa` (with [`VERIFIER`]) and returns the token response.
pub async fn redeem_spa_code(tb: &TestBroker, code: &str) -> Value {
    redeem_spa_code_at(&tb.base, code).await
}

/// [`redeem_spa_code`] at the broker listening at `base`.
pub async fn redeem_spa_code_at(base: &str, code: &str) -> Value {
    let resp = reqwest::Client::new()
        .post(format!("{base}/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", "spa"),
            ("code", code),
            ("redirect_uri", SPA_CB),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

/// Part `i` of a compact JWS, decoded as JSON (0: header, 1: claims).
pub fn jwt_part(jwt: &str, i: usize) -> Value {
    use base64::Engine;
    let part = jwt.split('.').nth(i).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// The claims of a JWT, unverified.
pub fn claims(jwt: &str) -> Value {
    jwt_part(jwt, 1)
}

/// An authorization request of `client` (redirecting to [`SPA_CB`], PKCE with [`VERIFIER`]).
pub fn authorize_url(base: &str, client: &str, scope: &str) -> String {
    format!(
        "{base}/authorize?response_type=code&client_id={client}&redirect_uri={SPA_CB}&scope={scope}&state=s&nonce=n&code_challenge={}&code_challenge_method=S256",
        idbroker::op::pkce::s256_challenge(VERIFIER)
    )
}

/// Signs `who` in at `client` with `scope` (space-encoded): through the fake for SSO users,
/// with the password for local ones. Returns the token response.
pub async fn sign_in(tb: &TestBroker, client: &str, scope: &str, who: &str) -> Value {
    let mut b = Browser::new();
    let first = b.get(&authorize_url(&tb.base, client, scope)).await;
    let page = b.follow(&tb.base, first).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let (tx, csrf) = (page.field("tx"), page.field("csrf"));
    let step = b
        .post(
            &tb.url("/login/identifier"),
            &[("tx", &tx), ("csrf", &csrf), ("identifier", who)],
        )
        .await;
    let done = if step.status == StatusCode::SEE_OTHER {
        let back = b.get(step.location.as_deref().unwrap()).await;
        b.get(back.location.as_deref().unwrap()).await
    } else {
        b.post(
            &tb.url("/login/password"),
            &[("tx", &tx), ("csrf", &csrf), ("password", PASSWORD)],
        )
        .await
    };
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let code = done.location_param("code").unwrap();
    let resp = reqwest::Client::new()
        .post(tb.url("/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", client),
            ("code", &code),
            ("redirect_uri", SPA_CB),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}
