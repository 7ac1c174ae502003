//! The `profile` scope's standard claims (OIDC Core §5.1): from the policy for its users,
//! from the upstream's ID token for SSO users, in the ID token and at `/userinfo`.

use idbroker::clock::Clock;
use serde_json::Value;

use crate::sso::{Options, world};
use crate::support::broker::{TestBroker, USER, password_hash};
use crate::support::oauth::{claims, sign_in};

async fn userinfo(tb: &TestBroker, token: &Value) -> Value {
    reqwest::Client::new()
        .get(tb.url("/userinfo"))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_policy_users_profile_claims_come_with_the_profile_scope() {
    let users = format!(
        r#"users:
  - email: {USER}
    name: Alice Example
    given_name: Alice
    family_name: Example
    locale: de-CH
    zoneinfo: Europe/Zurich
    picture: https://cdn.example.com/alice.png
    password_hash: "{hash}"
"#,
        hash = password_hash()
    );
    let tb = TestBroker::start_with("", Some(&users), Clock::System).await;
    let t = sign_in(&tb, "spa", "openid%20profile", USER).await;
    for got in [
        claims(t["id_token"].as_str().unwrap()),
        userinfo(&tb, &t).await,
    ] {
        assert_eq!(got["given_name"], "Alice", "{got}");
        assert_eq!(got["family_name"], "Example");
        assert_eq!(got["locale"], "de-CH");
        assert_eq!(got["zoneinfo"], "Europe/Zurich");
        assert_eq!(got["picture"], "https://cdn.example.com/alice.png");
        assert_eq!(got["preferred_username"], USER, "the sign-in identifier");
        assert!(got["updated_at"].as_u64().is_some());
    }
    // Without the scope: none of them.
    let t = sign_in(&tb, "spa", "openid", USER).await;
    let id = claims(t["id_token"].as_str().unwrap());
    for name in [
        "given_name",
        "family_name",
        "locale",
        "preferred_username",
        "updated_at",
    ] {
        assert!(
            id.get(name).is_none(),
            "{name} without the profile scope: {id}"
        );
    }
}

#[tokio::test]
async fn an_sso_users_preferred_username_is_the_upstreams() {
    let w = world(Options::default()).await;
    w.fake
        .tenant(&w.tid)
        .set_upn(&w.ada_oid(), "ada.lovelace@contoso.com");
    let t = sign_in(&w.tb, "spa", "openid%20profile", "ada@contoso.com").await;
    let id = claims(t["id_token"].as_str().unwrap());
    assert_eq!(id["preferred_username"], "ada.lovelace@contoso.com");
    assert_eq!(
        userinfo(&w.tb, &t).await["preferred_username"],
        "ada.lovelace@contoso.com"
    );
}
