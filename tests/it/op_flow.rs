//! The OpenID Provider end to end, driven by an independent relying party: the
//! `openidconnect` crate's client side, talking to the broker over HTTP.

use std::time::Duration;

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreIdTokenVerifier, CoreProviderMetadata,
};
use openidconnect::{
    AccessToken, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, RefreshToken, Scope, TokenResponse as _,
};
use serde_json::Value;

use crate::support::broker::{PASSWORD, TestBroker, USER, WEB_SECRET};
use crate::support::browser::{Browser, sign_in};
pub use crate::support::oauth::jwt_part;
use idbroker::upstream::http_client::OidcHttp;

fn http() -> OidcHttp {
    OidcHttp::new(Duration::from_secs(10)).unwrap()
}

/// Discovery, login through the page, code + PKCE, ID token verified against `/jwks`.
#[tokio::test]
async fn public_client_signs_in_with_pkce_and_verifies_tokens() {
    let tb = TestBroker::start().await;
    let http = http();
    let meta =
        CoreProviderMetadata::discover_async(IssuerUrl::new(tb.base.clone()).unwrap(), &http)
            .await
            .unwrap();
    let client = CoreClient::from_provider_metadata(meta, ClientId::new("spa".into()), None)
        .set_redirect_uri(RedirectUrl::new("http://127.0.0.1:9000/callback".into()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();

    let mut browser = Browser::new();
    let back = sign_in(&mut browser, &tb.base, auth_url.as_str(), USER, PASSWORD).await;
    assert_eq!(back.status, 303, "{}", back.body);
    let loc = back.location.clone().unwrap();
    assert!(loc.starts_with("http://127.0.0.1:9000/callback?"), "{loc}");
    assert_eq!(
        back.location_param("state").as_deref(),
        Some(state.secret().as_str())
    );
    // RFC 9207: the issuer in the authorization response.
    assert_eq!(
        back.location_param("iss").as_deref(),
        Some(tb.base.as_str())
    );
    let code = back.location_param("code").unwrap();

    let tokens = client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    let id_token = tokens.id_token().expect("an ID token");
    let claims = id_token
        .claims(&client.id_token_verifier(), &nonce)
        .expect("the ID token verifies against /jwks with our nonce");
    assert_eq!(claims.issuer().as_str(), tb.base);
    assert_eq!(claims.email().map(|e| e.as_str()), Some(USER));
    assert!(claims.auth_time().is_some());
    let amr: Vec<String> = claims
        .auth_method_refs()
        .unwrap()
        .iter()
        .map(|a| a.as_str().to_owned())
        .collect();
    assert_eq!(amr, vec!["pwd"]);
    let sub = claims.subject().as_str().to_owned();
    let user = tb
        .broker
        .internals()
        .store
        .user_by_email(USER)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(sub, user.id, "sub is the stable broker user id");

    // The access token is an RFC 9068 JWT.
    let at = tokens.access_token().secret().clone();
    let header: Value = jwt_part(&at, 0);
    assert_eq!(header["typ"], "at+jwt");
    let at_claims: Value = jwt_part(&at, 1);
    assert_eq!(at_claims["client_id"], "spa");
    assert_eq!(at_claims["sub"], sub);

    // /userinfo with the access token.
    let info: Value = reqwest::Client::new()
        .get(tb.url("/userinfo"))
        .bearer_auth(&at)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["sub"], sub);
    assert_eq!(info["email"], USER);
    assert_eq!(info["name"], "Alice Example");

    // The code is single-use: a second redemption fails and revokes the first's tokens.
    let (_, verifier2) = PkceCodeChallenge::new_random_sha256();
    let again = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier2)
        .request_async(&http)
        .await;
    assert!(again.is_err(), "a replayed code must fail");
    let status = reqwest::Client::new()
        .get(tb.url("/userinfo"))
        .bearer_auth(&at)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(
        status, 401,
        "the first redemption's access token is revoked"
    );
    let refresh = tokens.refresh_token().unwrap().clone();
    let after_replay = client
        .exchange_refresh_token(&refresh)
        .unwrap()
        .request_async(&http)
        .await;
    assert!(
        after_replay.is_err(),
        "the first redemption's refresh token is revoked"
    );
}

/// Refresh rotation, reuse detection revoking the family, revoke and introspect, with a
/// confidential client using client_secret_basic.
#[tokio::test]
async fn refresh_rotation_reuse_detection_revoke_and_introspect() {
    let tb = TestBroker::start().await;
    let http = http();
    let meta =
        CoreProviderMetadata::discover_async(IssuerUrl::new(tb.base.clone()).unwrap(), &http)
            .await
            .unwrap();
    let client = CoreClient::from_provider_metadata(
        meta,
        ClientId::new("web".into()),
        Some(ClientSecret::new(WEB_SECRET.into())),
    )
    .set_redirect_uri(RedirectUrl::new("https://web.example.com/callback".into()).unwrap());
    let (auth_url, _state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("offline_access".into()))
        .url();
    let mut browser = Browser::new();
    let back = sign_in(&mut browser, &tb.base, auth_url.as_str(), USER, PASSWORD).await;
    let code = back.location_param("code").unwrap();
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .request_async(&http)
        .await
        .unwrap();
    tokens
        .id_token()
        .unwrap()
        .claims(&client.id_token_verifier(), &nonce)
        .unwrap();
    let r1 = tokens.refresh_token().unwrap().clone();

    // Rotation: r1 → r2; r2 works, and is different.
    let t2 = client
        .exchange_refresh_token(&r1)
        .unwrap()
        .request_async(&http)
        .await
        .unwrap();
    let r2 = t2.refresh_token().unwrap().clone();
    assert_ne!(r1.secret(), r2.secret());
    let t3 = client
        .exchange_refresh_token(&r2)
        .unwrap()
        .request_async(&http)
        .await
        .unwrap();
    let r3 = t3.refresh_token().unwrap().clone();

    // Introspection of the live refresh token and access token.
    let intro = introspect(&tb, r3.secret()).await;
    assert_eq!(intro["active"], true, "{intro}");
    let intro_at = introspect(&tb, t3.access_token().secret()).await;
    assert_eq!(intro_at["active"], true);
    assert_eq!(intro_at["client_id"], "web");
    assert_eq!(intro_at["username"], USER);

    // Reuse of r1 (already rotated twice): refused, and the whole family is revoked.
    let reuse = client
        .exchange_refresh_token(&r1)
        .unwrap()
        .request_async(&http)
        .await;
    assert!(reuse.is_err());
    let after = client
        .exchange_refresh_token(&r3)
        .unwrap()
        .request_async(&http)
        .await;
    assert!(
        after.is_err(),
        "reuse detection revokes the current token too"
    );
    assert_eq!(introspect(&tb, r3.secret()).await["active"], false);
    let audit = tb.audit_lines().await;
    assert!(
        audit.iter().any(|r| r["reason"] == "refresh_token_reused"),
        "reuse is audited"
    );

    // Revocation (RFC 7009) of a fresh login's access token.
    let mut browser = Browser::new();
    let (auth_url, _, _) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .url();
    let back = sign_in(&mut browser, &tb.base, auth_url.as_str(), USER, PASSWORD).await;
    let tokens = client
        .exchange_code(AuthorizationCode::new(back.location_param("code").unwrap()))
        .unwrap()
        .request_async(&http)
        .await
        .unwrap();
    let at: AccessToken = tokens.access_token().clone();
    // openidconnect refuses a revocation URL over http, so RFC 7009 is spoken directly here.
    revoke(&tb, at.secret(), "access_token").await;
    assert_eq!(introspect(&tb, at.secret()).await["active"], false);
    let rt: RefreshToken = tokens.refresh_token().unwrap().clone();
    revoke(&tb, rt.secret(), "refresh_token").await;
    assert!(
        client
            .exchange_refresh_token(&rt)
            .unwrap()
            .request_async(&http)
            .await
            .is_err()
    );
}

/// RFC 7009 §2.1 revocation with client_secret_basic; §2.2: 200 whatever the token was.
async fn revoke(tb: &TestBroker, token: &str, hint: &str) {
    let resp = reqwest::Client::new()
        .post(tb.url("/revoke"))
        .basic_auth("web", Some(WEB_SECRET))
        .form(&[("token", token), ("token_type_hint", hint)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

/// client_credentials with client_secret_post; the token has no user and no ID token.
#[tokio::test]
async fn client_credentials_grant() {
    let tb = TestBroker::start().await;
    let resp = reqwest::Client::new()
        .post(tb.url("/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "web"),
            ("client_secret", WEB_SECRET),
            ("scope", "reports.read"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let body: Value = resp.json().await.unwrap();
    assert!(body.get("id_token").is_none());
    assert!(body.get("refresh_token").is_none());
    assert_eq!(body["scope"], "reports.read");
    let claims: Value = jwt_part(body["access_token"].as_str().unwrap(), 1);
    assert_eq!(claims["sub"], "web");
    assert_eq!(claims["client_id"], "web");

    // The openidconnect client's own client_credentials request (client_secret_basic).
    let http = http();
    let meta =
        CoreProviderMetadata::discover_async(IssuerUrl::new(tb.base.clone()).unwrap(), &http)
            .await
            .unwrap();
    let client = CoreClient::from_provider_metadata(
        meta,
        ClientId::new("web".into()),
        Some(ClientSecret::new(WEB_SECRET.into())),
    );
    let t = client
        .exchange_client_credentials()
        .unwrap()
        .add_scope(Scope::new("reports.read".into()))
        .request_async(&http)
        .await
        .unwrap();
    assert!(!t.access_token().secret().is_empty());
}

/// The ID token verifies with a verifier built from the published JWKS by hand, too.
#[tokio::test]
async fn jwks_and_discovery_documents() {
    let tb = TestBroker::start().await;
    let disc: Value = reqwest::get(tb.url("/.well-known/openid-configuration"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(disc["issuer"], tb.base);
    assert_eq!(
        disc["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(disc["authorization_response_iss_parameter_supported"], true);
    let jwks: Value = reqwest::get(tb.url("/jwks"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    assert!(!keys.is_empty());
    for k in keys {
        assert!(k["kid"].is_string());
        assert!(k.get("d").is_none(), "no private part is ever published");
    }
    let _unused: Option<CoreIdTokenVerifier> = None;
}

/// RP-initiated logout with id_token_hint and a registered post_logout_redirect_uri ends
/// the session, and the next /authorize shows the login page again.
#[tokio::test]
async fn rp_initiated_logout() {
    let tb = TestBroker::start().await;
    let http = http();
    let meta =
        CoreProviderMetadata::discover_async(IssuerUrl::new(tb.base.clone()).unwrap(), &http)
            .await
            .unwrap();
    let client = CoreClient::from_provider_metadata(meta, ClientId::new("spa".into()), None)
        .set_redirect_uri(RedirectUrl::new("http://127.0.0.1:9000/callback".into()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, _, _) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge)
        .url();
    let mut browser = Browser::new();
    let back = sign_in(&mut browser, &tb.base, auth_url.as_str(), USER, PASSWORD).await;
    let tokens = client
        .exchange_code(AuthorizationCode::new(back.location_param("code").unwrap()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    let id_token = tokens.id_token().unwrap().to_string();
    let rt = tokens.refresh_token().unwrap().clone();

    // SSO: a second /authorize reuses the session (straight back with a code).
    let (challenge, _) = PkceCodeChallenge::new_random_sha256();
    let (auth_url2, _, _) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge)
        .url();
    let sso = browser.get(auth_url2.as_str()).await;
    assert!(
        sso.location
            .as_deref()
            .unwrap()
            .starts_with("http://127.0.0.1:9000/callback?code=")
    );

    // An unregistered post_logout_redirect_uri is refused with a page, no redirect.
    let bad = browser
        .get(&format!(
            "{}/logout?id_token_hint={id_token}&post_logout_redirect_uri=https://evil.example/",
            tb.base
        ))
        .await;
    assert_eq!(bad.status, 400);
    assert!(bad.location.is_none());

    let out = browser
        .get(&format!(
            "{}/logout?id_token_hint={id_token}&post_logout_redirect_uri=http://127.0.0.1:9000/&state=bye",
            tb.base
        ))
        .await;
    assert_eq!(out.status, 303, "{}", out.body);
    assert_eq!(
        out.location.as_deref(),
        Some("http://127.0.0.1:9000/?state=bye")
    );
    // The session is over: /authorize shows the login page again.
    let again = browser.get(auth_url2.as_str()).await;
    assert!(again.location.as_deref().unwrap().starts_with("/login?tx="));
    // And the refresh token of that session is revoked.
    assert!(
        client
            .exchange_refresh_token(&rt)
            .unwrap()
            .request_async(&http)
            .await
            .is_err()
    );
}

/// A logout request without proof (no id_token_hint) asks the user first.
#[tokio::test]
async fn logout_without_hint_asks_for_confirmation() {
    let tb = TestBroker::start().await;
    let mut browser = Browser::new();
    let page = browser.get(&tb.url("/account")).await;
    let back = crate::support::browser::sign_in(
        &mut browser,
        &tb.base,
        &format!("{}{}", tb.base, page.location.unwrap()),
        USER,
        PASSWORD,
    )
    .await;
    let _ = browser.follow(&tb.base, back).await;
    let confirm = browser.get(&tb.url("/logout")).await;
    assert_eq!(confirm.status, 200);
    assert!(confirm.body.contains("Sign out?"));
    let csrf = confirm.field("csrf");
    // A forged confirmation (wrong csrf) changes nothing.
    let forged = browser
        .post(&tb.url("/logout"), &[("csrf", "forged")])
        .await;
    assert!(forged.body.contains("Sign out?"));
    let account = browser.get(&tb.url("/account")).await;
    assert_eq!(account.status, 200, "still signed in");
    let done = browser.post(&tb.url("/logout"), &[("csrf", &csrf)]).await;
    assert!(done.body.contains("You are signed out"), "{}", done.body);
    let account = browser.get(&tb.url("/account")).await;
    assert_eq!(
        account.status, 303,
        "signed out: the account page starts a sign-in"
    );
}

/// The account page signs in as a client of the broker: its callback accepts only the
/// `state` it sent (RFC 6749 §10.12), then redeems the code with its PKCE verifier (RFC 7636
/// §4.5).
#[tokio::test]
async fn the_account_page_signs_in_with_its_own_state_and_pkce() {
    let tb = TestBroker::start().await;
    let mut browser = Browser::new();
    let start = browser.get(&tb.url("/account")).await;
    assert_eq!(start.status, 303);
    assert_eq!(
        start.location_param("code_challenge_method").as_deref(),
        Some("S256")
    );
    let state = start.location_param("state").unwrap();
    let authorize = format!("{}{}", tb.base, start.location.unwrap());
    let back = sign_in(&mut browser, &tb.base, &authorize, USER, PASSWORD).await;
    let callback = back.location.unwrap();
    let callback = if callback.starts_with('/') {
        format!("{}{callback}", tb.base)
    } else {
        callback
    };
    assert!(callback.contains("/account/callback?"), "{callback}");
    assert!(callback.contains(&format!("state={state}")), "{callback}");
    // Another state is refused before the code is redeemed.
    let forged = browser.get(&callback.replace(&state, "forged")).await;
    assert_eq!(forged.status, 400);
    assert!(
        forged.body.contains("The sign-in expired"),
        "{}",
        forged.body
    );
    let done = browser.get(&callback).await;
    assert_eq!(
        (done.status.as_u16(), done.location.as_deref()),
        (303, Some("/account")),
        "{}",
        done.body
    );
    let account = browser.get(&tb.url("/account")).await;
    assert_eq!(account.status, 200);
}

/// The account page's own name reads as part of a sentence on the login page ("to continue to
/// your account", not "Your account"), and is not made the subject of the sign-out question.
#[tokio::test]
async fn the_account_page_is_named_mid_sentence() {
    let tb = TestBroker::start().await;
    let mut browser = Browser::new();
    let page = browser.get(&tb.url("/account")).await;
    let login = browser.follow(&tb.base, page).await;
    assert_eq!(login.status, 200);
    assert!(
        login.body.contains("to continue to your account"),
        "{}",
        login.body
    );
    let page = browser.get(&tb.url("/account")).await;
    let back = crate::support::browser::sign_in(
        &mut browser,
        &tb.base,
        &format!("{}{}", tb.base, page.location.unwrap()),
        USER,
        PASSWORD,
    )
    .await;
    let _ = browser.follow(&tb.base, back).await;
    let confirm = browser
        .get(&tb.url("/logout?client_id=idbroker-account"))
        .await;
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    assert!(
        confirm.body.contains("Do you want to sign out?"),
        "{}",
        confirm.body
    );
}

async fn introspect(tb: &TestBroker, token: &str) -> Value {
    reqwest::Client::new()
        .post(tb.url("/introspect"))
        .basic_auth("web", Some(WEB_SECRET))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}
