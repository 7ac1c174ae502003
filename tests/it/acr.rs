//! `acr` in ID tokens (OIDC Core §2, §3.1.2.1): asked for with `acr_values` or by the
//! client's `default_acr_values`, required by its `required_acr_values`, and never a class
//! the sign-in did not achieve.

use idbroker::acr::{PASSWORD, SSO};
use idbroker::clock::Clock;
use reqwest::StatusCode;
use serde_json::Value;

use crate::sso::{Options, world};
use crate::support::broker::{PASSWORD as USER_PASSWORD, TestBroker, USER, test_loader};
use crate::support::browser::{Browser, Page, sign_in};
use crate::support::oauth::{VERIFIER, claims};

/// Clients asking for a class by default, and requiring one.
const CLIENTS: &str = r#"  - id: pwd-default
    redirect_uris: [http://127.0.0.1:9101/callback]
    default_acr_values: [urn:idbroker:acr:pwd]
  - id: needs-pwd
    redirect_uris: [http://127.0.0.1:9102/callback]
    required_acr_values: [urn:idbroker:acr:pwd]
  - id: needs-sso
    redirect_uris: [http://127.0.0.1:9103/callback]
    required_acr_values: [urn:idbroker:acr:sso]
"#;

fn callback(client: &str) -> &'static str {
    match client {
        "spa" => "http://127.0.0.1:9000/callback",
        "pwd-default" => "http://127.0.0.1:9101/callback",
        "needs-pwd" => "http://127.0.0.1:9102/callback",
        "needs-sso" => "http://127.0.0.1:9103/callback",
        other => panic!("no client {other}"),
    }
}

/// An authorization request of the public `client` with PKCE, `extra` appended as it is.
fn authorize_url(base: &str, client: &str, extra: &str) -> String {
    format!(
        "{base}/authorize?response_type=code&client_id={client}&redirect_uri={}&scope=openid%20offline_access&state=app-state&nonce=app-nonce&code_challenge={}&code_challenge_method=S256{extra}",
        callback(client),
        idbroker::op::pkce::s256_challenge(VERIFIER)
    )
}

async fn redeem(base: &str, client: &str, code: &str) -> Value {
    let resp = reqwest::Client::new()
        .post(format!("{base}/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", client),
            ("code", code),
            ("redirect_uri", callback(client)),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

async fn refresh(base: &str, client: &str, rt: &str) -> Value {
    let resp = reqwest::Client::new()
        .post(format!("{base}/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", client),
            ("refresh_token", rt),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

/// With the browser's session: the redirect back to `client` for a request with `extra`.
async fn again(b: &mut Browser, tb: &TestBroker, client: &str, extra: &str) -> Page {
    let back = b.get(&authorize_url(&tb.base, client, extra)).await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.body);
    back
}

/// The ID token's `acr` (Null when absent), and the access token's, of a code.
async fn acr_of(tb: &TestBroker, client: &str, back: &Page) -> (Value, Value, Value) {
    let code = back.location_param("code").expect("a code");
    let tokens = redeem(&tb.base, client, &code).await;
    let id = claims(tokens["id_token"].as_str().unwrap());
    let at = claims(tokens["access_token"].as_str().unwrap());
    (id["acr"].clone(), at["acr"].clone(), tokens)
}

#[tokio::test]
async fn acr_values_and_a_clients_defaults_put_the_class_achieved_in_the_id_token() {
    let tb = TestBroker::start_with_clients(CLIENTS, "", None, Clock::System).await;
    let meta: Value = reqwest::get(tb.url("/.well-known/openid-configuration"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        meta["acr_values_supported"],
        serde_json::json!([PASSWORD, SSO, idbroker::acr::MFA])
    );
    assert!(
        meta["claims_supported"]
            .as_array()
            .unwrap()
            .contains(&Value::from("acr"))
    );

    // Nobody asks: no acr.
    let mut b = Browser::new();
    let back = sign_in(
        &mut b,
        &tb.base,
        &authorize_url(&tb.base, "spa", ""),
        USER,
        USER_PASSWORD,
    )
    .await;
    let (id, at, _) = acr_of(&tb, "spa", &back).await;
    assert_eq!((id, at), (Value::Null, Value::Null));

    // acr_values asks for the password class: the ID token and access token carry it, and
    // a refreshed ID token repeats it.
    let back = again(&mut b, &tb, "spa", &format!("&acr_values={PASSWORD}")).await;
    let (id, at, tokens) = acr_of(&tb, "spa", &back).await;
    assert_eq!(id, PASSWORD);
    assert_eq!(at, PASSWORD);
    let refreshed = refresh(&tb.base, "spa", tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(
        claims(refreshed["id_token"].as_str().unwrap())["acr"],
        PASSWORD
    );

    // Asking for SSO (and for values the broker does not know) after a password sign-in:
    // voluntary, so a token, with the class the sign-in achieved, never the one asked for.
    let back = again(&mut b, &tb, "spa", &format!("&acr_values=1%20{SSO}%202")).await;
    let (id, _, _) = acr_of(&tb, "spa", &back).await;
    assert_eq!(id, PASSWORD);

    // A client's default_acr_values stand for a request without acr_values.
    let back = again(&mut b, &tb, "pwd-default", "").await;
    assert_eq!(acr_of(&tb, "pwd-default", &back).await.0, PASSWORD);

    // A requirement the password sign-in meets.
    let back = again(&mut b, &tb, "needs-pwd", "").await;
    assert_eq!(acr_of(&tb, "needs-pwd", &back).await.0, PASSWORD);
}

/// A client that requires the SSO class, reached with a password sign-in: no code, but
/// `unmet_authentication_requirements` at its redirect URI (OIDC Core §5.5.1.1, and the
/// error code registered by OpenID Connect Core Error Code
/// unmet_authentication_requirements 1.0), for a fresh sign-in and from a live session
/// alike, and an audit record saying why.
#[tokio::test]
async fn a_client_requiring_sso_refuses_a_password_sign_in_with_unmet_authentication_requirements()
{
    let tb = TestBroker::start_with_clients(CLIENTS, "", None, Clock::System).await;
    let mut b = Browser::new();
    let back = sign_in(
        &mut b,
        &tb.base,
        &authorize_url(&tb.base, "needs-sso", ""),
        USER,
        USER_PASSWORD,
    )
    .await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.body);
    let location = back.location.clone().unwrap();
    assert!(
        location.starts_with("http://127.0.0.1:9103/callback?"),
        "{location}"
    );
    assert_eq!(
        back.location_param("error").as_deref(),
        Some("unmet_authentication_requirements")
    );
    assert_eq!(back.location_param("state").as_deref(), Some("app-state"));
    assert_eq!(
        back.location_param("iss").as_deref(),
        Some(tb.base.as_str())
    );
    assert!(back.location_param("code").is_none());

    // The session is live (the user did sign in): other clients get codes from it, and this
    // one the same refusal, with prompt=none too (and acr_values cannot talk it round).
    let ok = again(&mut b, &tb, "spa", "").await;
    assert!(ok.location_param("code").is_some());
    for extra in [
        "",
        "&prompt=none",
        &format!("&acr_values={SSO}%20{PASSWORD}"),
    ] {
        let back = again(&mut b, &tb, "needs-sso", extra).await;
        assert_eq!(
            back.location_param("error").as_deref(),
            Some("unmet_authentication_requirements"),
            "{extra}"
        );
    }

    let refused: Vec<Value> = tb
        .audit_lines()
        .await
        .into_iter()
        .filter(|l| l["event"] == "authorize" && l["reason"] == "acr_unmet")
        .collect();
    assert_eq!(refused.len(), 4, "{refused:?}");
    assert_eq!(refused[0]["client_id"], "needs-sso");
}

/// The SSO class through the fake Entra: a sign-in there meets a client's requirement of
/// it, and `acr_values` asking for the password class gets the SSO class, which is what
/// happened.
#[tokio::test]
async fn an_sso_sign_in_meets_a_requirement_of_the_sso_class() {
    let w = world(Options::default()).await;
    // Add the clients to the policy the world started with, by a reload.
    let text = std::fs::read_to_string(&w.tb.policy_path).unwrap();
    std::fs::write(
        &w.tb.policy_path,
        text.replacen("clients:\n", &format!("clients:\n{CLIENTS}"), 1),
    )
    .unwrap();
    assert_eq!(
        idbroker::reload::reload_once(&w.tb.broker, &w.tb.policy_path, &test_loader()).await,
        idbroker::reload::Outcome::Applied
    );
    let tb = &w.tb;
    let mut b = Browser::new();
    let first = b.get(&authorize_url(&tb.base, "needs-sso", "")).await;
    let page = b.follow(&tb.base, first).await;
    let step = b
        .post(
            &tb.url("/login/identifier"),
            &[
                ("tx", &page.field("tx")),
                ("csrf", &page.field("csrf")),
                ("identifier", "ada@contoso.com"),
            ],
        )
        .await;
    assert_eq!(step.status, StatusCode::SEE_OTHER, "{}", step.body);
    let upstream = b.get(step.location.as_deref().unwrap()).await;
    let back = b.get(upstream.location.as_deref().unwrap()).await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.body);
    let (id, at, _) = acr_of(tb, "needs-sso", &back).await;
    assert_eq!((id.as_str(), at.as_str()), (Some(SSO), Some(SSO)));

    let back = again(&mut b, tb, "spa", &format!("&acr_values={PASSWORD}")).await;
    assert_eq!(acr_of(tb, "spa", &back).await.0, SSO);
    // And a client that requires the password class refuses this sign-in.
    let back = again(&mut b, tb, "needs-pwd", "").await;
    assert_eq!(
        back.location_param("error").as_deref(),
        Some("unmet_authentication_requirements")
    );
}
