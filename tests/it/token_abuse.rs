//! Tokens under hostile use (issue #10): what another client, a guessed refresh secret or a
//! stolen refresh token can and cannot do. The relying party is the `openidconnect` crate;
//! `/revoke` and `/introspect` are spoken directly (openidconnect refuses an http revocation
//! URL), as are requests with forged tokens.

use std::time::Duration;

use idbroker::clock::Clock;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, IssuerUrl, Nonce, OAuth2TokenResponse, RedirectUrl, RefreshToken, Scope,
};
use serde_json::{Value, json};

use crate::support::broker::{PASSWORD, TestBroker, USER, WEB_SECRET};
use crate::support::browser::{Browser, sign_in};
use idbroker::upstream::http_client::OidcHttp;

/// A second confidential client, which must learn nothing about `web`'s tokens.
const API_CLIENT: &str = r#"  - id: api
    secret_env: PARTNER_SECRET
    grants: [client_credentials]
    scopes: [reports.read]
"#;
const API_SECRET: &str = "partner-secret-value";

type WebClient = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

fn http() -> OidcHttp {
    OidcHttp::new(Duration::from_secs(10)).unwrap()
}

async fn web_client(tb: &TestBroker, http: &OidcHttp) -> WebClient {
    let meta = CoreProviderMetadata::discover_async(IssuerUrl::new(tb.base.clone()).unwrap(), http)
        .await
        .unwrap();
    CoreClient::from_provider_metadata(
        meta,
        ClientId::new("web".into()),
        Some(ClientSecret::new(WEB_SECRET.into())),
    )
    .set_redirect_uri(RedirectUrl::new("https://web.example.com/callback".into()).unwrap())
}

/// Signs alice in for `web` and redeems the code: (access token, refresh token, code).
async fn web_sign_in(
    tb: &TestBroker,
    client: &WebClient,
    http: &OidcHttp,
) -> (String, String, String) {
    let (auth_url, _, _) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .url();
    let back = sign_in(
        &mut Browser::new(),
        &tb.base,
        auth_url.as_str(),
        USER,
        PASSWORD,
    )
    .await;
    let code = back.location_param("code").unwrap();
    let tokens = client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .unwrap()
        .request_async(http)
        .await
        .unwrap();
    (
        tokens.access_token().secret().clone(),
        tokens.refresh_token().unwrap().secret().clone(),
        code,
    )
}

/// A refresh through the RP library: the new (access token, refresh token), or an error.
async fn rp_refresh(client: &WebClient, http: &OidcHttp, rt: &str) -> Option<(String, String)> {
    let t = client
        .exchange_refresh_token(&RefreshToken::new(rt.into()))
        .unwrap()
        .request_async(http)
        .await
        .ok()?;
    Some((
        t.access_token().secret().clone(),
        t.refresh_token().unwrap().secret().clone(),
    ))
}

/// A raw `/token` request of `web` (for tokens the RP library would never send).
async fn web_token(tb: &TestBroker, form: &[(&str, &str)]) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(tb.url("/token"))
        .basic_auth("web", Some(WEB_SECRET))
        .form(form)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn introspect_as(tb: &TestBroker, client: &str, secret: &str, token: &str) -> Value {
    let r = reqwest::Client::new()
        .post(tb.url("/introspect"))
        .basic_auth(client, Some(secret))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

async fn revoke_as(tb: &TestBroker, client: &str, secret: &str, token: &str) {
    let r = reqwest::Client::new()
        .post(tb.url("/revoke"))
        .basic_auth(client, Some(secret))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "RFC 7009 §2.2: 200 whatever the token");
}

async fn userinfo_status(tb: &TestBroker, at: &str) -> u16 {
    reqwest::Client::new()
        .get(tb.url("/userinfo"))
        .bearer_auth(at)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// `{family}.{secret}` with the same family and a secret this family never issued.
fn with_wrong_secret(rt: &str) -> String {
    let (family, _) = rt.split_once('.').unwrap();
    format!("{family}.{}", "Wr0ngSecret".repeat(4))
}

/// Issue #10 item 4 (RFC 7662 §2.1, §4): a client sees only its own tokens as active; any
/// other client's token, access or refresh, is `{"active": false}` and nothing more.
#[tokio::test]
async fn introspection_shows_a_client_only_its_own_tokens() {
    let tb = TestBroker::start_with_clients(API_CLIENT, "", None, Clock::System).await;
    let http = http();
    let web = web_client(&tb, &http).await;
    let (at, rt, _) = web_sign_in(&tb, &web, &http).await;

    // The owner sees both as active, with their details.
    let own = introspect_as(&tb, "web", WEB_SECRET, &at).await;
    assert_eq!(own["active"], true, "{own}");
    assert_eq!(own["username"], USER);
    let own = introspect_as(&tb, "web", WEB_SECRET, &rt).await;
    assert_eq!(own["active"], true, "{own}");

    // Another confidential client learns nothing: not the user, not the scope.
    for token in [&at, &rt] {
        let seen = introspect_as(&tb, "api", API_SECRET, token).await;
        assert_eq!(
            seen,
            json!({"active": false}),
            "api must not see web's token"
        );
    }

    // The same the other way round: api's own client_credentials token.
    let r = reqwest::Client::new()
        .post(tb.url("/token"))
        .basic_auth("api", Some(API_SECRET))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "reports.read"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let api_at = body["access_token"].as_str().unwrap();
    assert_eq!(
        introspect_as(&tb, "api", API_SECRET, api_at).await["active"],
        true
    );
    assert_eq!(
        introspect_as(&tb, "web", WEB_SECRET, api_at).await,
        json!({"active": false})
    );
    // Introspection by another client changed nothing for the owner.
    assert_eq!(
        introspect_as(&tb, "web", WEB_SECRET, &at).await["active"],
        true
    );
    assert!(rp_refresh(&web, &http, &rt).await.is_some());
}

/// Issue #10 item 5: knowing a family id is not enough to revoke the family. A secret the
/// family never issued is `invalid_grant` at `/token`, is ignored at `/revoke`, and changes
/// nothing; a secret it really issued and spent still revokes it (reuse detection).
#[tokio::test]
async fn only_a_secret_the_family_issued_can_revoke_it() {
    let tb = TestBroker::start().await;
    let http = http();
    let web = web_client(&tb, &http).await;
    let (_, r1, _) = web_sign_in(&tb, &web, &http).await;
    let forged = with_wrong_secret(&r1);

    // /revoke with the family id and a wrong secret: 200, and nothing happens.
    revoke_as(&tb, "web", WEB_SECRET, &forged).await;
    let (_, r2) = rp_refresh(&web, &http, &r1)
        .await
        .expect("the real token still refreshes after a forged /revoke");

    // /token with the family id and a wrong secret: invalid_grant, and nothing happens.
    let (status, body) = web_token(
        &tb,
        &[("grant_type", "refresh_token"), ("refresh_token", &forged)],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (_, r3) = rp_refresh(&web, &http, &r2)
        .await
        .expect("the real token still refreshes after a forged refresh");
    assert_eq!(
        introspect_as(&tb, "web", WEB_SECRET, &r3).await["active"],
        true
    );
    let audit = tb.audit_lines().await;
    assert!(
        !audit.iter().any(|r| r["reason"] == "refresh_token_reused"),
        "a forged secret is not a reuse"
    );

    // A genuinely spent secret (r1, rotated twice) is a reuse: the family is revoked.
    let (status, body) = web_token(
        &tb,
        &[("grant_type", "refresh_token"), ("refresh_token", &r1)],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert!(
        rp_refresh(&web, &http, &r3).await.is_none(),
        "the family is revoked"
    );
    let audit = tb.audit_lines().await;
    assert!(audit.iter().any(|r| r["reason"] == "refresh_token_reused"));

    // /revoke with a spent secret of a fresh family revokes it too (the owner asked).
    let (_, s1, _) = web_sign_in(&tb, &web, &http).await;
    let (_, s2) = rp_refresh(&web, &http, &s1).await.unwrap();
    revoke_as(&tb, "web", WEB_SECRET, &with_wrong_secret(&s2)).await;
    assert_eq!(
        introspect_as(&tb, "web", WEB_SECRET, &s2).await["active"],
        true
    );
    revoke_as(&tb, "web", WEB_SECRET, &s1).await;
    assert_eq!(
        introspect_as(&tb, "web", WEB_SECRET, &s2).await["active"],
        false
    );
}

/// Issue #10 item 8: when reuse detection revokes a family, the access tokens minted from it
/// (at the code redemption and at each refresh) die with it, at `/introspect` and
/// `/userinfo`; a replayed code does exactly the same.
#[tokio::test]
async fn a_revoked_family_takes_its_access_tokens_with_it() {
    let tb = TestBroker::start().await;
    let http = http();
    let web = web_client(&tb, &http).await;

    // Refresh reuse.
    let (at1, r1, _) = web_sign_in(&tb, &web, &http).await;
    let (at2, r2) = rp_refresh(&web, &http, &r1).await.unwrap();
    let (at3, _) = rp_refresh(&web, &http, &r2).await.unwrap();
    for at in [&at1, &at2, &at3] {
        assert_eq!(userinfo_status(&tb, at).await, 200);
    }
    assert!(rp_refresh(&web, &http, &r1).await.is_none(), "r1 is reused");
    for (i, at) in [&at1, &at2, &at3].into_iter().enumerate() {
        assert_eq!(
            introspect_as(&tb, "web", WEB_SECRET, at).await,
            json!({"active": false}),
            "access token {} of the family after reuse",
            i + 1
        );
        assert_eq!(
            userinfo_status(&tb, at).await,
            401,
            "access token {}",
            i + 1
        );
    }

    // Code replay: the refreshed access tokens die too, not only the first.
    let (at1, r1, code) = web_sign_in(&tb, &web, &http).await;
    let (at2, _) = rp_refresh(&web, &http, &r1).await.unwrap();
    assert_eq!(userinfo_status(&tb, &at2).await, 200);
    let replay = web
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .request_async(&http)
        .await;
    assert!(replay.is_err());
    for at in [&at1, &at2] {
        assert_eq!(
            introspect_as(&tb, "web", WEB_SECRET, at).await["active"],
            false
        );
        assert_eq!(userinfo_status(&tb, at).await, 401);
    }

    // An unrelated family of the same user and client is untouched.
    let (at_other, r_other, _) = web_sign_in(&tb, &web, &http).await;
    let (at_a, r_a, _) = web_sign_in(&tb, &web, &http).await;
    let (_, _) = rp_refresh(&web, &http, &r_a).await.unwrap();
    assert!(rp_refresh(&web, &http, &r_a).await.is_none());
    assert_eq!(userinfo_status(&tb, &at_a).await, 401);
    assert_eq!(userinfo_status(&tb, &at_other).await, 200);
    assert!(rp_refresh(&web, &http, &r_other).await.is_some());
}

/// Issue #10 item 5, the bound on what a family remembers: whoever refreshes with a stolen
/// token cannot rotate the victim's secret out of the family's memory. A family rotates at
/// most `SPENT_SECRETS_KEPT` times per window (an hour by default); the next rotation is
/// refused and changes nothing, and the victim's copy still revokes the family.
#[tokio::test]
async fn a_stolen_refresh_token_cannot_outrun_reuse_detection() {
    let tb = TestBroker::start().await;
    let http = http();
    let web = web_client(&tb, &http).await;
    let (_, stolen, _) = web_sign_in(&tb, &web, &http).await;

    // The thief spins the family as fast as it can.
    let mut current = stolen.clone();
    let mut thief_at = String::new();
    for i in 0..idbroker::store::SPENT_SECRETS_KEPT {
        let (at, rt) = rp_refresh(&web, &http, &current)
            .await
            .unwrap_or_else(|| panic!("rotation {i} within the bound"));
        (thief_at, current) = (at, rt);
    }
    let (status, body) = web_token(
        &tb,
        &[("grant_type", "refresh_token"), ("refresh_token", &current)],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    let audit = tb.audit_lines().await;
    assert!(audit.iter().any(|r| r["reason"] == "refresh_too_frequent"));
    assert_eq!(
        introspect_as(&tb, "web", WEB_SECRET, &current).await["active"],
        true,
        "the refusal changed nothing"
    );

    // The victim's next refresh presents its (stolen, long spent) copy: reuse, revocation.
    assert!(rp_refresh(&web, &http, &stolen).await.is_none());
    assert!(
        rp_refresh(&web, &http, &current).await.is_none(),
        "the thief is out"
    );
    assert_eq!(userinfo_status(&tb, &thief_at).await, 401);
}

/// `/introspect` remembers access tokens whose signature it checked (issue 12), but only
/// under the key set that checked them: a token of a key removed from the folder is refused
/// as soon as the keys are reloaded, even though it was introspected before.
#[tokio::test]
async fn a_remembered_token_of_a_removed_key_is_refused_after_the_reload() {
    let tb = TestBroker::start().await;
    let (status, issued) = web_token(&tb, &[("grant_type", "client_credentials")]).await;
    assert_eq!(status, 200, "{issued}");
    let at = issued["access_token"].as_str().unwrap().to_owned();
    for _ in 0..2 {
        assert_eq!(
            introspect_as(&tb, "web", WEB_SECRET, &at).await["active"],
            true
        );
    }
    // A new key signs from now on; the old one is deleted, as after a compromise.
    let policy = tb.broker.policy();
    let old: Vec<_> = std::fs::read_dir(&policy.keys.dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    idbroker::keys::rotate(&policy.keys, tb.broker.now()).unwrap();
    for path in old {
        std::fs::remove_file(path).unwrap();
    }
    assert!(tb.broker.internals().keys.reload().unwrap());
    assert_eq!(
        introspect_as(&tb, "web", WEB_SECRET, &at).await["active"],
        false,
        "a token of a removed key was still accepted"
    );
    // Tokens of the new key are remembered and accepted as before.
    let (_, issued) = web_token(&tb, &[("grant_type", "client_credentials")]).await;
    let fresh = issued["access_token"].as_str().unwrap().to_owned();
    for _ in 0..2 {
        assert_eq!(
            introspect_as(&tb, "web", WEB_SECRET, &fresh).await["active"],
            true
        );
    }
}
