//! Self-tests of the fake: it must behave like Entra and Graph where the broker depends on it,
//! and each knob must really produce its defect. The client side is reqwest; tokens are
//! verified with jsonwebtoken and hashes computed with sha2, independently of the fake's own
//! aws-lc-rs code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, errors::ErrorKind};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{
    ClientAssertion, FakeEntra, JWT_BEARER, Misbehave, NewUser, OidcUser, Outage, RsaAlg, Surface,
    Thumbprint, pairwise_sub,
};
use crate::support::net::{free_port, http_client, location, query_map};

const CLIENT: &str = "11111111-2222-3333-4444-555555555555";
const SECRET: &str = "client-secret-value";
const REDIRECT: &str = "http://127.0.0.1:8080/upstream/callback";
const GRAPH_DEFAULT: &str = "https://graph.microsoft.com/.default";

struct Env {
    fake: FakeEntra,
    http: reqwest::Client,
    tid: String,
    alice: super::EntraUser,
}

/// A fake with tenant `contoso.com`, user Alice and a confidential app with a secret.
async fn env() -> Env {
    let fake = FakeEntra::start().await;
    let tid = fake.add_tenant("contoso.com");
    let alice = fake
        .tenant(&tid)
        .add_user(NewUser::new("alice@contoso.com", "Alice Adams"));
    fake.register_app(CLIENT, &[REDIRECT]);
    fake.add_app_secret(CLIENT, SECRET);
    Env {
        fake,
        http: http_client(),
        tid,
        alice,
    }
}

struct Pkce {
    verifier: String,
    challenge: String,
}

fn pkce() -> Pkce {
    let verifier = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    Pkce {
        verifier,
        challenge,
    }
}

fn url_with(base: &str, pairs: &[(&str, &str)]) -> String {
    let mut url = url::Url::parse(base).unwrap();
    url.query_pairs_mut().extend_pairs(pairs);
    url.to_string()
}

/// Standard authorize parameters; `overrides` replace or (with an empty value) remove entries.
fn authorize_url(
    fake: &FakeEntra,
    segment: &str,
    pkce: &Pkce,
    overrides: &[(&str, &str)],
) -> String {
    let mut pairs: Vec<(&str, &str)> = vec![
        ("client_id", CLIENT),
        ("response_type", "code"),
        ("redirect_uri", REDIRECT),
        ("scope", "openid profile email"),
        ("state", "state-123"),
        ("nonce", "nonce-456"),
        ("login_hint", "alice@contoso.com"),
        ("domain_hint", "contoso.com"),
        ("code_challenge", &pkce.challenge),
        ("code_challenge_method", "S256"),
    ];
    for (k, v) in overrides {
        pairs.retain(|(name, _)| name != k);
        if !v.is_empty() {
            pairs.push((k, v));
        }
    }
    url_with(&fake.authorize_endpoint(segment), &pairs)
}

async fn get(http: &reqwest::Client, url: &str) -> reqwest::Response {
    http.get(url).send().await.unwrap()
}

/// Runs /authorize and returns the query of the redirect back to the app.
async fn authorize_redirect(
    env: &Env,
    segment: &str,
    pkce: &Pkce,
    overrides: &[(&str, &str)],
) -> std::collections::HashMap<String, String> {
    let response = get(
        &env.http,
        &authorize_url(&env.fake, segment, pkce, overrides),
    )
    .await;
    assert_eq!(response.status(), 302, "authorize should redirect");
    let location = location(&response);
    assert!(location.starts_with(REDIRECT), "redirected to {location}");
    query_map(&location)
}

async fn redeem(
    env: &Env,
    segment: &str,
    code: &str,
    verifier: &str,
) -> (reqwest::StatusCode, Value) {
    let response = env
        .http
        .post(env.fake.token_endpoint(segment))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT),
            ("client_secret", SECRET),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

/// A full sign-in of Alice at her tenant; returns the token response.
async fn sign_in(env: &Env, overrides: &[(&str, &str)]) -> Value {
    let pkce = pkce();
    let query = authorize_redirect(env, &env.tid, &pkce, overrides).await;
    let (status, body) = redeem(env, &env.tid, &query["code"], &pkce.verifier).await;
    assert_eq!(status, 200, "token response: {body}");
    body
}

fn parts(token: &str) -> (Value, Value, String) {
    let mut it = token.split('.');
    let header =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(it.next().unwrap()).unwrap()).unwrap();
    let claims =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(it.next().unwrap()).unwrap()).unwrap();
    let sig = it.next().unwrap().to_owned();
    assert!(it.next().is_none());
    (header, claims, sig)
}

async fn jwks(env: &Env, segment: &str) -> Value {
    let url = format!("{}/{segment}/discovery/v2.0/keys", env.fake.authority());
    get(&env.http, &url).await.json().await.unwrap()
}

/// Verifies an RS256 token against a JWKS document with jsonwebtoken.
fn verify(
    token: &str,
    jwks: &Value,
    aud: &str,
    iss: &str,
) -> Result<Value, jsonwebtoken::errors::Error> {
    let set: JwkSet = serde_json::from_value(jwks.clone()).unwrap();
    let kid = jsonwebtoken::decode_header(token)?.kid.unwrap_or_default();
    let Some(jwk) = set.find(&kid) else {
        panic!("kid {kid} is not in the JWKS");
    };
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[aud]);
    validation.set_issuer(&[iss]);
    validation.validate_nbf = true;
    validation.leeway = 0;
    jsonwebtoken::decode::<Value>(token, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
        .map(|data| data.claims)
}

fn assert_entra_error(body: &Value, error: &str, code: u32) {
    assert_eq!(body["error"], error, "{body}");
    let description = body["error_description"].as_str().unwrap();
    assert!(
        description.starts_with(&format!("AADSTS{code}: ")),
        "description: {description}"
    );
    assert!(description.contains("Trace ID: "), "{description}");
    assert_eq!(body["error_codes"], serde_json::json!([code]));
    for field in ["timestamp", "trace_id", "correlation_id"] {
        assert!(
            body[field].as_str().is_some_and(|s| !s.is_empty()),
            "{field} in {body}"
        );
    }
    let ts = body["timestamp"].as_str().unwrap();
    assert_eq!(ts.len(), "2016-01-09 02:02:12Z".len(), "timestamp {ts}");
    assert!(
        ts.ends_with('Z') && ts.as_bytes()[10] == b' ',
        "timestamp {ts}"
    );
}

// ---------------------------------------------------------------- discovery and keys

#[tokio::test]
async fn discovery_for_a_tenant_names_its_issuer_and_endpoints() {
    let env = env().await;
    let a = env.fake.authority();
    let t = &env.tid;
    let url = format!("{a}/{t}/v2.0/.well-known/openid-configuration");
    let doc: Value = get(&env.http, &url).await.json().await.unwrap();
    assert_eq!(doc["issuer"], format!("{a}/{t}/v2.0"));
    assert_eq!(
        doc["authorization_endpoint"],
        format!("{a}/{t}/oauth2/v2.0/authorize")
    );
    assert_eq!(doc["token_endpoint"], format!("{a}/{t}/oauth2/v2.0/token"));
    assert_eq!(doc["jwks_uri"], format!("{a}/{t}/discovery/v2.0/keys"));
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        serde_json::json!(["RS256"])
    );
    assert!(
        doc["token_endpoint_auth_methods_supported"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("private_key_jwt"))
    );
    // Like Entra: PKCE works but is not advertised.
    assert!(doc.get("code_challenge_methods_supported").is_none());
}

#[tokio::test]
async fn discovery_for_a_verified_domain_speaks_of_the_tenant_by_its_id() {
    let env = env().await;
    let a = env.fake.authority();
    let t = &env.tid;
    let url = format!("{a}/Contoso.com/v2.0/.well-known/openid-configuration");
    let doc: Value = get(&env.http, &url).await.json().await.unwrap();
    assert_eq!(doc["issuer"], format!("{a}/{t}/v2.0"));
    assert_eq!(doc["token_endpoint"], format!("{a}/{t}/oauth2/v2.0/token"));
    let unknown = format!("{a}/fabrikam.com/v2.0/.well-known/openid-configuration");
    let response = get(&env.http, &unknown).await;
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn discovery_for_common_and_organizations_has_the_tenantid_template_issuer() {
    let env = env().await;
    let a = env.fake.authority();
    for alias in ["common", "organizations"] {
        let url = format!("{a}/{alias}/v2.0/.well-known/openid-configuration");
        let doc: Value = get(&env.http, &url).await.json().await.unwrap();
        assert_eq!(doc["issuer"], format!("{a}/{{tenantid}}/v2.0"), "{alias}");
        assert_eq!(
            doc["token_endpoint"],
            format!("{a}/{alias}/oauth2/v2.0/token")
        );
        assert_eq!(doc["jwks_uri"], format!("{a}/{alias}/discovery/v2.0/keys"));
    }
}

#[tokio::test]
async fn discovery_for_an_unknown_tenant_is_aadsts90002() {
    let env = env().await;
    let unknown = uuid::Uuid::new_v4();
    let url = format!(
        "{}/{unknown}/v2.0/.well-known/openid-configuration",
        env.fake.authority()
    );
    let response = get(&env.http, &url).await;
    assert_eq!(response.status(), 400);
    assert_entra_error(&response.json().await.unwrap(), "invalid_tenant", 90002);
}

#[tokio::test]
async fn jwks_publishes_rsa_signing_keys_with_certificate_thumbprints() {
    let env = env().await;
    let doc = jwks(&env, &env.tid).await;
    let keys = doc["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    let key = &keys[0];
    assert_eq!(key["kty"], "RSA");
    assert_eq!(key["use"], "sig");
    assert_eq!(key["e"], "AQAB");
    assert!(
        URL_SAFE_NO_PAD
            .decode(key["n"].as_str().unwrap())
            .unwrap()
            .len()
            >= 256
    );
    assert_eq!(key["kid"], key["x5t"]);
    let cert = STANDARD.decode(key["x5c"][0].as_str().unwrap()).unwrap();
    let sha1 = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, &cert);
    assert_eq!(key["x5t"], URL_SAFE_NO_PAD.encode(sha1.as_ref()));
    assert_eq!(key["issuer"], env.fake.issuer(&env.tid));
}

#[tokio::test]
async fn rotated_key_is_published_next_to_the_old_one_and_signs_new_tokens() {
    let env = env().await;
    let old = env.fake.active_kid();
    let new = env.fake.rotate_signing_key();
    assert_ne!(old, new);
    let doc = jwks(&env, "common").await;
    let kids: Vec<_> = doc["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].clone())
        .collect();
    assert_eq!(
        kids,
        vec![Value::from(old.clone()), Value::from(new.clone())]
    );

    let token = sign_in(&env, &[]).await;
    let id_token = token["id_token"].as_str().unwrap();
    assert_eq!(parts(id_token).0["kid"], new);
    verify(
        id_token,
        &jwks(&env, &env.tid).await,
        CLIENT,
        &env.fake.issuer(&env.tid),
    )
    .unwrap();

    env.fake.retire_signing_key(&old);
    assert_eq!(env.fake.published_kids(), vec![new]);
}

// ---------------------------------------------------------------- authorize + token

#[tokio::test]
async fn round_trip_with_pkce_yields_an_id_token_that_verifies_against_the_jwks() {
    let env = env().await;
    let pkce = pkce();
    let query = authorize_redirect(&env, &env.tid, &pkce, &[]).await;
    assert_eq!(query["state"], "state-123");
    assert!(query.contains_key("session_state"));

    let auth = env.fake.last_authorization().unwrap();
    assert_eq!(auth.login_hint.as_deref(), Some("alice@contoso.com"));
    assert_eq!(auth.domain_hint.as_deref(), Some("contoso.com"));
    assert_eq!(auth.tenant, env.tid);

    let (status, body) = redeem(&env, &env.tid, &query["code"], &pkce.verifier).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["expires_in"].as_u64().unwrap() > 0);
    assert!(body["access_token"].as_str().is_some());
    let id_token = body["id_token"].as_str().unwrap();

    let (header, _, _) = parts(id_token);
    assert_eq!(header["typ"], "JWT");
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["kid"], env.fake.active_kid());

    let iss = env.fake.issuer(&env.tid);
    let claims = verify(id_token, &jwks(&env, &env.tid).await, CLIENT, &iss).unwrap();
    assert_eq!(claims["aud"], CLIENT);
    assert_eq!(claims["iss"], iss);
    assert_eq!(claims["tid"], env.tid);
    assert_eq!(claims["oid"], env.alice.id);
    assert_eq!(claims["name"], "Alice Adams");
    assert_eq!(claims["preferred_username"], "alice@contoso.com");
    assert_eq!(claims["email"], "alice@contoso.com");
    assert_eq!(claims["nonce"], "nonce-456");
    assert_eq!(claims["ver"], "2.0");
    for opaque in ["uti", "rh", "aio"] {
        assert!(
            claims[opaque].as_str().is_some_and(|s| !s.is_empty()),
            "{opaque}"
        );
    }
    let (iat, nbf, exp) = (
        claims["iat"].as_u64().unwrap(),
        claims["nbf"].as_u64().unwrap(),
        claims["exp"].as_u64().unwrap(),
    );
    assert!(
        iat == nbf && exp > iat + 600,
        "iat {iat} nbf {nbf} exp {exp}"
    );
    // Pairwise subject: not the oid, stable for the same app and user.
    assert_ne!(claims["sub"], claims["oid"]);
    assert_eq!(claims["sub"], pairwise_sub(CLIENT, &env.tid, &env.alice.id));
    let again = sign_in(&env, &[]).await;
    let again = parts(again["id_token"].as_str().unwrap()).1;
    assert_eq!(again["sub"], claims["sub"]);
    assert_ne!(again["uti"], claims["uti"]);
}

#[tokio::test]
async fn claims_follow_the_requested_scopes_and_the_user_record() {
    let env = env().await;
    let token = sign_in(&env, &[("scope", "openid")]).await;
    let claims = parts(token["id_token"].as_str().unwrap()).1;
    for absent in ["oid", "name", "preferred_username", "email"] {
        assert!(
            claims.get(absent).is_none(),
            "{absent} without profile/email scope"
        );
    }
    assert_eq!(claims["tid"], env.tid);

    let bob = env
        .fake
        .tenant(&env.tid)
        .add_user(NewUser::new("bob@contoso.com", "Bob Brown").mail(None));
    let token = sign_in(&env, &[("login_hint", "bob@contoso.com")]).await;
    let claims = parts(token["id_token"].as_str().unwrap()).1;
    assert_eq!(claims["oid"], bob.id);
    assert!(claims.get("email").is_none(), "no mail, no email claim");
}

#[tokio::test]
async fn authorize_without_a_trusted_client_or_redirect_uri_shows_a_page_not_a_redirect() {
    let env = env().await;
    let pkce = pkce();
    let cases = [
        (
            vec![("client_id", "99999999-0000-0000-0000-000000000000")],
            "AADSTS700016",
        ),
        (
            vec![("redirect_uri", "https://evil.example/cb")],
            "AADSTS50011",
        ),
        (vec![("client_id", "")], "AADSTS900144"),
    ];
    for (overrides, code) in cases {
        let response = get(
            &env.http,
            &authorize_url(&env.fake, &env.tid, &pkce, &overrides),
        )
        .await;
        assert_eq!(response.status(), 400, "{code}");
        assert!(response.headers().get("location").is_none(), "{code}");
        let page = response.text().await.unwrap();
        assert!(page.contains(code), "{code} in {page}");
    }
}

/// Parameter overrides, expected `error`, expected AADSTS code.
type AuthorizeCase<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);

#[tokio::test]
async fn authorize_errors_after_redirect_validation_go_back_with_the_state() {
    let env = env().await;
    let pkce = pkce();
    let cases: [AuthorizeCase<'_>; 7] = [
        (
            &[("login_hint", "nobody@contoso.com")],
            "invalid_request",
            "AADSTS50034",
        ),
        (&[("login_hint", "")], "invalid_request", "AADSTS50034"),
        (
            &[("response_type", "token")],
            "unsupported_response_type",
            "AADSTS70005",
        ),
        (
            &[("scope", "profile email")],
            "invalid_scope",
            "AADSTS70011",
        ),
        (&[("code_challenge", "")], "invalid_request", "AADSTS900144"),
        (
            &[("code_challenge_method", "plain")],
            "invalid_request",
            "AADSTS9002313",
        ),
        (
            &[("code_challenge", "short")],
            "invalid_request",
            "AADSTS501491",
        ),
    ];
    for (overrides, error, code) in cases {
        let query = authorize_redirect(&env, &env.tid, &pkce, overrides).await;
        assert_eq!(query["error"], error, "{overrides:?}");
        assert!(query["error_description"].starts_with(code), "{query:?}");
        assert_eq!(query["state"], "state-123");
        assert!(!query.contains_key("code"));
    }
}

#[tokio::test]
async fn a_disabled_user_is_not_signed_in() {
    let env = env().await;
    env.fake.tenant(&env.tid).disable(&env.alice.id);
    let query = authorize_redirect(&env, &env.tid, &pkce(), &[]).await;
    assert_eq!(query["error"], "access_denied");
    assert!(query["error_description"].starts_with("AADSTS50057"));
}

#[tokio::test]
async fn forced_authorize_error_is_redirected_instead_of_a_code() {
    let env = env().await;
    env.fake.next_authorize_error(
        "access_denied",
        "AADSTS50105: The signed in user is not assigned to a role for the application.",
    );
    let query = authorize_redirect(&env, &env.tid, &pkce(), &[]).await;
    assert_eq!(query["error"], "access_denied");
    assert!(query["error_description"].starts_with("AADSTS50105: "));
    assert_eq!(query["state"], "state-123");
    // One-shot: the next sign-in works.
    sign_in(&env, &[]).await;
}

#[tokio::test]
async fn common_endpoint_signs_in_a_user_of_any_tenant_with_the_home_tenant_issuer() {
    let env = env().await;
    let fabrikam = env.fake.add_tenant("fabrikam.com");
    let carol = env
        .fake
        .tenant(&fabrikam)
        .add_user(NewUser::new("carol@fabrikam.com", "Carol"));
    let pkce = pkce();
    let query = authorize_redirect(
        &env,
        "common",
        &pkce,
        &[("login_hint", "carol@fabrikam.com")],
    )
    .await;
    let (status, body) = redeem(&env, "common", &query["code"], &pkce.verifier).await;
    assert_eq!(status, 200, "{body}");
    let id_token = body["id_token"].as_str().unwrap();
    let claims = verify(
        id_token,
        &jwks(&env, "common").await,
        CLIENT,
        &env.fake.issuer(&fabrikam),
    )
    .unwrap();
    assert_eq!(claims["tid"], fabrikam);
    assert_eq!(claims["oid"], carol.id);
}

#[tokio::test]
async fn a_code_is_single_use_and_bound_to_redirect_uri_verifier_and_tenant() {
    let env = env().await;

    let pkce_a = pkce();
    let query = authorize_redirect(&env, &env.tid, &pkce_a, &[]).await;
    let (status, body) = redeem(
        &env,
        &env.tid,
        &query["code"],
        "wrong-verifier-wrong-verifier-wrong-verifier",
    )
    .await;
    assert_eq!(status, 400);
    assert_entra_error(&body, "invalid_grant", 501481);

    let pkce_b = pkce();
    let query = authorize_redirect(&env, &env.tid, &pkce_b, &[]).await;
    let (status, _) = redeem(&env, &env.tid, &query["code"], &pkce_b.verifier).await;
    assert_eq!(status, 200);
    let (status, body) = redeem(&env, &env.tid, &query["code"], &pkce_b.verifier).await;
    assert_eq!(status, 400);
    assert_entra_error(&body, "invalid_grant", 54005);

    let pkce_c = pkce();
    let query = authorize_redirect(&env, &env.tid, &pkce_c, &[]).await;
    let response = env
        .http
        .post(env.fake.token_endpoint(&env.tid))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT),
            ("client_secret", SECRET),
            ("code", query["code"].as_str()),
            ("redirect_uri", "http://127.0.0.1:8080/other"),
            ("code_verifier", pkce_c.verifier.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_entra_error(&response.json().await.unwrap(), "invalid_grant", 70000);

    let other = env.fake.add_tenant("fabrikam.com");
    let pkce_d = pkce();
    let query = authorize_redirect(&env, &env.tid, &pkce_d, &[]).await;
    let (status, body) = redeem(&env, &other, &query["code"], &pkce_d.verifier).await;
    assert_eq!(status, 400);
    assert_entra_error(&body, "invalid_grant", 700005);

    env.fake.set_code_lifetime(0);
    let pkce_e = pkce();
    let query = authorize_redirect(&env, &env.tid, &pkce_e, &[]).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, body) = redeem(&env, &env.tid, &query["code"], &pkce_e.verifier).await;
    assert_eq!(status, 400);
    assert_entra_error(&body, "invalid_grant", 70008);
}

#[tokio::test]
async fn client_secret_is_checked_in_the_body_or_basic_header_with_entra_errors() {
    let env = env().await;
    let token_endpoint = env.fake.token_endpoint(&env.tid);
    let pkce = pkce();
    let query = authorize_redirect(&env, &env.tid, &pkce, &[]).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", query["code"].as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", pkce.verifier.as_str()),
    ];

    let response = env
        .http
        .post(&token_endpoint)
        .form(
            &[
                &form[..],
                &[("client_id", CLIENT), ("client_secret", "wrong")],
            ]
            .concat(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_entra_error(&response.json().await.unwrap(), "invalid_client", 7000215);

    let response = env
        .http
        .post(&token_endpoint)
        .form(&[&form[..], &[("client_id", CLIENT)]].concat())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_entra_error(&response.json().await.unwrap(), "invalid_client", 7000218);

    // The failed attempts did not redeem the code: client authentication comes first.
    let response = env
        .http
        .post(&token_endpoint)
        .basic_auth(CLIENT, Some(SECRET))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let response = env.http.get(&token_endpoint).send().await.unwrap();
    assert_eq!(response.status(), 400);
    assert_entra_error(&response.json().await.unwrap(), "invalid_request", 900561);
}

#[tokio::test]
async fn forced_token_error_is_answered_once_in_entra_shape() {
    let env = env().await;
    env.fake.next_token_error(
        503,
        "temporarily_unavailable",
        "AADSTS90006: The service is temporarily unavailable.",
    );
    let pkce = pkce();
    let query = authorize_redirect(&env, &env.tid, &pkce, &[]).await;
    let (status, body) = redeem(&env, &env.tid, &query["code"], &pkce.verifier).await;
    assert_eq!(status, 503);
    assert_entra_error(&body, "temporarily_unavailable", 90006);
    sign_in(&env, &[]).await;
}

// ---------------------------------------------------------------- misbehaviour knobs

/// Signs Alice in with `knob` queued; returns the raw ID token.
async fn id_token_with(env: &Env, knob: Misbehave) -> String {
    env.fake.next_id_token(knob);
    let body = sign_in(env, &[]).await;
    body["id_token"].as_str().unwrap().to_owned()
}

fn error_kind(result: Result<Value, jsonwebtoken::errors::Error>) -> ErrorKind {
    result.expect_err("the token should not verify").into_kind()
}

#[tokio::test]
async fn each_misbehaviour_knob_produces_its_defect_once() {
    let env = env().await;
    let keys = jwks(&env, &env.tid).await;
    let iss = env.fake.issuer(&env.tid);
    let check = |token: &str| verify(token, &keys, CLIENT, &iss);

    let token = id_token_with(&env, Misbehave::UnknownKey).await;
    let kid = parts(&token).0["kid"].clone();
    assert!(
        !env.fake.published_kids().iter().any(|k| *k == kid),
        "kid {kid} published"
    );
    assert_eq!(parts(&token).0["alg"], "RS256");

    let token = id_token_with(&env, Misbehave::AlgNone).await;
    let (header, claims, sig) = parts(&token);
    assert_eq!(header["alg"], "none");
    assert!(sig.is_empty() && token.ends_with('.'));
    assert_eq!(claims["oid"], env.alice.id);

    let token = id_token_with(&env, Misbehave::Hs256ClientSecret).await;
    assert_eq!(parts(&token).0["alg"], "HS256");
    let mut hs = Validation::new(Algorithm::HS256);
    hs.set_audience(&[CLIENT]);
    hs.set_issuer(&[&iss]);
    jsonwebtoken::decode::<Value>(&token, &DecodingKey::from_secret(SECRET.as_bytes()), &hs)
        .expect("MAC'd with the client secret");

    let token = id_token_with(&env, Misbehave::WrongIssuer).await;
    assert_eq!(error_kind(check(&token)), ErrorKind::InvalidIssuer);
    assert_eq!(
        parts(&token).1["iss"],
        format!("https://sts.windows.net/{}/", env.tid)
    );

    let token = id_token_with(&env, Misbehave::WrongAudience).await;
    assert_eq!(error_kind(check(&token)), ErrorKind::InvalidAudience);

    let token = id_token_with(&env, Misbehave::Expired).await;
    assert_eq!(error_kind(check(&token)), ErrorKind::ExpiredSignature);

    let token = id_token_with(&env, Misbehave::NotYetValid).await;
    assert_eq!(error_kind(check(&token)), ErrorKind::ImmatureSignature);
    let claims = parts(&token).1;
    assert!(claims["iat"].as_u64().unwrap() > wire_now() + 600);

    let token = id_token_with(&env, Misbehave::WrongNonce).await;
    let claims = check(&token).unwrap();
    assert!(claims["nonce"].as_str().is_some_and(|n| n != "nonce-456"));

    let token = id_token_with(&env, Misbehave::MissingNonce).await;
    let claims = check(&token).unwrap();
    assert!(claims.get("nonce").is_none());

    let token = id_token_with(&env, Misbehave::TamperedSignature).await;
    assert_eq!(error_kind(check(&token)), ErrorKind::InvalidSignature);
    assert_eq!(parts(&token).1["aud"], CLIENT);

    // Knobs are consumed: the next token is clean.
    let body = sign_in(&env, &[]).await;
    let claims = check(body["id_token"].as_str().unwrap()).unwrap();
    assert_eq!(claims["nonce"], "nonce-456");
}

fn wire_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn other_tenant_knob_returns_a_valid_token_of_tenant_b_for_the_same_email() {
    let env = env().await;
    let tenant_b = env.fake.add_tenant("evil.example");
    let mallory = env
        .fake
        .tenant(&tenant_b)
        .add_user(NewUser::new("mallory@evil.example", "Mallory").mail(Some("alice@contoso.com")));
    let token = id_token_with(&env, Misbehave::OtherTenant(tenant_b.clone())).await;
    let keys = jwks(&env, "common").await;
    let claims = verify(&token, &keys, CLIENT, &env.fake.issuer(&tenant_b)).unwrap();
    assert_eq!(claims["tid"], tenant_b);
    assert_eq!(claims["oid"], mallory.id);
    assert_eq!(claims["email"], "alice@contoso.com");
    assert_eq!(
        error_kind(verify(&token, &keys, CLIENT, &env.fake.issuer(&env.tid))),
        ErrorKind::InvalidIssuer
    );
}

// ---------------------------------------------------------------- client credentials

async fn client_credentials(
    env: &Env,
    segment: &str,
    auth: &[(&str, &str)],
) -> (reqwest::StatusCode, Value) {
    let form = [
        &[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT),
            ("scope", GRAPH_DEFAULT),
        ][..],
        auth,
    ]
    .concat();
    let response = env
        .http
        .post(env.fake.token_endpoint(segment))
        .form(&form)
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

#[tokio::test]
async fn client_credentials_need_admin_consent_and_a_default_scope() {
    let env = env().await;
    let secret = [("client_secret", SECRET)];
    let (status, body) = client_credentials(&env, &env.tid, &secret).await;
    assert_eq!(status, 401);
    assert_entra_error(&body, "invalid_client", 7000229);

    env.fake.tenant(&env.tid).grant_consent(CLIENT);
    let (status, body) = client_credentials(&env, &env.tid, &secret).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3599);
    let claims = parts(body["access_token"].as_str().unwrap()).1;
    assert_eq!(claims["tid"], env.tid);
    assert_eq!(claims["appid"], CLIENT);
    assert_eq!(claims["idtyp"], "app");
    assert_eq!(
        claims["roles"],
        serde_json::json!(["User.Read.All", "GroupMember.Read.All"])
    );

    let (status, body) = client_credentials(&env, "common", &secret).await;
    assert_eq!(status, 400);
    assert_entra_error(&body, "invalid_request", 9001023);

    let response = env
        .http
        .post(env.fake.token_endpoint(&env.tid))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT),
            ("client_secret", SECRET),
            ("scope", "https://graph.microsoft.com/User.Read.All"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_entra_error(&response.json().await.unwrap(), "invalid_scope", 1002012);
}

#[tokio::test]
async fn client_assertions_signed_by_the_registered_certificate_are_accepted() {
    let env = env().await;
    env.fake.tenant(&env.tid).grant_consent(CLIENT);
    let cert = FakeEntra::new_app_certificate("idbroker test app");
    env.fake.register_app_certificate(CLIENT, &cert.cert_der);
    let aud = env.fake.token_endpoint(&env.tid);

    for (alg, thumbprint) in [
        (RsaAlg::Ps256, Thumbprint::S256),
        (RsaAlg::Rs256, Thumbprint::Sha1),
    ] {
        let mut assertion = ClientAssertion::new(CLIENT, &aud, wire_now());
        assertion.alg = alg;
        assertion.thumbprint = thumbprint;
        let jwt = cert.sign_assertion(&assertion).unwrap();
        let (header, claims, _) = parts(&jwt);
        match thumbprint {
            Thumbprint::S256 => assert_eq!(header["x5t#S256"], cert.x5t_s256()),
            _ => assert_eq!(header["x5t"], cert.x5t()),
        }
        assert_eq!(claims["iss"], CLIENT);
        let auth = [
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", jwt.as_str()),
        ];
        let (status, body) = client_credentials(&env, &env.tid, &auth).await;
        assert_eq!(status, 200, "{alg:?}: {body}");
        assert_eq!(
            parts(body["access_token"].as_str().unwrap()).1["appidacr"],
            "2"
        );
    }
    // The PEM files a broker config would point at.
    let dir = tempfile::tempdir().unwrap();
    let (cert_path, key_path) = cert.write_pem_files(dir.path(), "entra-app").unwrap();
    let key_pem = std::fs::read_to_string(key_path).unwrap();
    assert!(key_pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
    let cert_pem = std::fs::read_to_string(cert_path).unwrap();
    let der = STANDARD
        .decode(
            cert_pem
                .lines()
                .filter(|l| !l.starts_with("-----"))
                .collect::<String>(),
        )
        .unwrap();
    assert_eq!(der, cert.cert_der);
}

#[tokio::test]
async fn client_assertions_with_a_wrong_certificate_audience_or_claims_are_refused() {
    let env = env().await;
    env.fake.tenant(&env.tid).grant_consent(CLIENT);
    let cert = FakeEntra::new_app_certificate("registered");
    let stranger = FakeEntra::new_app_certificate("not registered");
    env.fake.register_app_certificate(CLIENT, &cert.cert_der);
    let aud = env.fake.token_endpoint(&env.tid);
    let now = wire_now();
    let base = ClientAssertion::new(CLIENT, &aud, now);

    let mut impostor = base.clone();
    impostor.x5t_s256 = Some(cert.x5t_s256());
    let cases: Vec<(&str, String, u32)> = vec![
        (
            "unregistered certificate",
            stranger.sign_assertion(&base).unwrap(),
            700027,
        ),
        (
            "registered thumbprint, other key",
            stranger.sign_assertion(&impostor).unwrap(),
            700027,
        ),
        (
            "audience of another tenant",
            cert.sign_assertion(&ClientAssertion {
                aud: env.fake.token_endpoint("common"),
                ..base.clone()
            })
            .unwrap(),
            700023,
        ),
        (
            "expired",
            cert.sign_assertion(&ClientAssertion {
                iat: now - 3600,
                nbf: now - 3600,
                exp: now - 1200,
                ..base.clone()
            })
            .unwrap(),
            700024,
        ),
        (
            "issuer is not the client",
            cert.sign_assertion(&ClientAssertion {
                iss: "someone-else".into(),
                ..base.clone()
            })
            .unwrap(),
            700021,
        ),
        (
            "no jti",
            cert.sign_assertion(&ClientAssertion {
                jti: None,
                ..base.clone()
            })
            .unwrap(),
            50027,
        ),
    ];
    for (what, jwt, code) in cases {
        let auth = [
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", jwt.as_str()),
        ];
        let (status, body) = client_credentials(&env, &env.tid, &auth).await;
        assert_eq!(status, 401, "{what}: {body}");
        assert_entra_error(&body, "invalid_client", code);
    }
}

// ---------------------------------------------------------------- admin consent

#[tokio::test]
async fn admin_consent_records_the_grant_and_redirects_with_tenant_and_state() {
    let env = env().await;
    let url = url_with(
        &format!("{}/{}/adminconsent", env.fake.authority(), env.tid),
        &[
            ("client_id", CLIENT),
            ("redirect_uri", REDIRECT),
            ("state", "consent-1"),
        ],
    );
    assert!(!env.fake.tenant(&env.tid).has_consent(CLIENT));
    let response = get(&env.http, &url).await;
    assert_eq!(response.status(), 302);
    let location = location(&response);
    assert!(location.starts_with(REDIRECT));
    let query = query_map(&location);
    assert_eq!(query["admin_consent"], "True");
    assert_eq!(query["tenant"], env.tid);
    assert_eq!(query["state"], "consent-1");
    assert!(env.fake.tenant(&env.tid).has_consent(CLIENT));
    let (status, _) = client_credentials(&env, &env.tid, &[("client_secret", SECRET)]).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn declined_admin_consent_redirects_with_aadsts65004_and_grants_nothing() {
    let env = env().await;
    env.fake.next_admin_consent_declined();
    let url = url_with(
        &format!("{}/{}/adminconsent", env.fake.authority(), env.tid),
        &[
            ("client_id", CLIENT),
            ("redirect_uri", REDIRECT),
            ("state", "consent-2"),
        ],
    );
    let query = query_map(&location(&get(&env.http, &url).await));
    assert_eq!(query["error"], "access_denied");
    assert!(query["error_description"].starts_with("AADSTS65004: "));
    assert_eq!(query["state"], "consent-2");
    assert!(!env.fake.tenant(&env.tid).has_consent(CLIENT));

    let evil = url_with(
        &format!("{}/{}/adminconsent", env.fake.authority(), env.tid),
        &[
            ("client_id", CLIENT),
            ("redirect_uri", "https://evil.example/"),
            ("state", "x"),
        ],
    );
    let response = get(&env.http, &evil).await;
    assert_eq!(response.status(), 400);
    assert!(response.headers().get("location").is_none());
}

// ---------------------------------------------------------------- Graph

async fn app_token(env: &Env) -> String {
    env.fake.tenant(&env.tid).grant_consent(CLIENT);
    let (status, body) = client_credentials(env, &env.tid, &[("client_secret", SECRET)]).await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().unwrap().to_owned()
}

async fn graph_get(env: &Env, url: &str, token: &str) -> reqwest::Response {
    env.http.get(url).bearer_auth(token).send().await.unwrap()
}

const SELECT: &str = "id,displayName,mail,userPrincipalName,accountEnabled";

#[tokio::test]
async fn graph_pages_25_users_in_3_pages_of_10_following_next_links() {
    let env = env().await;
    env.fake.tenant(&env.tid).add_users(24);
    let token = app_token(&env).await;
    let mut url = url_with(
        &format!("{}/v1.0/users", env.fake.graph()),
        &[("$select", SELECT), ("$top", "10")],
    );
    let mut sizes = Vec::new();
    let mut ids = Vec::new();
    loop {
        let response = graph_get(&env, &url, &token).await;
        assert_eq!(response.status(), 200);
        let page: Value = response.json().await.unwrap();
        let value = page["value"].as_array().unwrap();
        sizes.push(value.len());
        for user in value {
            let keys: Vec<_> = user.as_object().unwrap().keys().cloned().collect();
            assert_eq!(keys.len(), 5, "only the $select'ed properties: {keys:?}");
            assert!(user["accountEnabled"].is_boolean());
            ids.push(user["id"].as_str().unwrap().to_owned());
        }
        match page["@odata.nextLink"].as_str() {
            Some(next) => {
                assert!(
                    next.starts_with(&format!("{}/v1.0/users?", env.fake.graph())),
                    "{next}"
                );
                assert!(next.contains("$skiptoken="), "{next}");
                url = next.to_owned();
            }
            None => break,
        }
    }
    assert_eq!(sizes, vec![10, 10, 5]);
    let directory: Vec<_> = env
        .fake
        .tenant(&env.tid)
        .users()
        .into_iter()
        .map(|u| u.id)
        .collect();
    assert_eq!(ids, directory);
    assert_eq!(env.fake.requests_to("/v1.0/users").len(), 3);
}

#[tokio::test]
async fn graph_defaults_to_100_without_account_enabled_and_limits_top() {
    let env = env().await;
    env.fake.tenant(&env.tid).add_users(120);
    let token = app_token(&env).await;
    let base = format!("{}/v1.0/users", env.fake.graph());
    let page: Value = graph_get(&env, &base, &token).await.json().await.unwrap();
    assert_eq!(page["value"].as_array().unwrap().len(), 100);
    assert!(page["@odata.nextLink"].is_string());
    let first = &page["value"][0];
    assert!(
        first.get("accountEnabled").is_none(),
        "not a default property"
    );
    assert!(first.get("userPrincipalName").is_some());

    for (query, code) in [
        (vec![("$top", "1000")], "Request_UnsupportedQuery"),
        (vec![("$top", "0")], "Request_UnsupportedQuery"),
        (vec![("$skip", "10")], "Request_UnsupportedQuery"),
        (
            vec![("$select", "id,favouriteColour")],
            "Request_BadRequest",
        ),
    ] {
        let response = graph_get(&env, &url_with(&base, &query), &token).await;
        assert_eq!(response.status(), 400, "{query:?}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], code, "{body}");
    }
}

#[tokio::test]
async fn graph_filters_users_by_startswith_and_pages_the_filtered_list() {
    let env = env().await;
    env.fake.tenant(&env.tid).add_users(30);
    env.fake
        .tenant(&env.tid)
        .add_user(NewUser::new("o'brien@contoso.com", "Pat O'Brien"));
    let token = app_token(&env).await;
    let base = format!("{}/v1.0/users", env.fake.graph());
    let ids = |v: &Value| -> Vec<String> {
        v["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["userPrincipalName"].as_str().unwrap().to_owned())
            .collect()
    };
    // Case-insensitive, on any of the clauses joined by `or`; paged with the filter kept.
    let filter = "startswith(displayName,'zzz') or startswith(mail,'USER01')";
    let first: Value = graph_get(
        &env,
        &url_with(&base, &[("$filter", filter), ("$top", "6")]),
        &token,
    )
    .await
    .json()
    .await
    .unwrap();
    let next = first["@odata.nextLink"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let second: Value = graph_get(&env, &next, &token).await.json().await.unwrap();
    let mut all = ids(&first);
    all.extend(ids(&second));
    assert_eq!(all.len(), 10, "{all:?}");
    assert!(all.iter().all(|u| u.starts_with("user01")), "{all:?}");
    assert!(second.get("@odata.nextLink").is_none());
    // A doubled quote is a quote.
    let quoted: Value = graph_get(
        &env,
        &url_with(&base, &[("$filter", "startswith(displayName,'pat o''b')")]),
        &token,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(ids(&quoted), ["o'brien@contoso.com"]);
    // What Graph would not take is a 400.
    for bad in [
        "endswith(mail,'x')",
        "startswith(jobTitle,'x')",
        "startswith(mail,'x'",
    ] {
        let response = graph_get(&env, &url_with(&base, &[("$filter", bad)]), &token).await;
        assert_eq!(response.status(), 400, "{bad}");
    }
}

#[tokio::test]
async fn graph_throttling_answers_429_or_503_with_retry_after_then_recovers() {
    let env = env().await;
    let token = app_token(&env).await;
    let url = format!("{}/v1.0/users?$top=10", env.fake.graph());
    for status in [429, 503] {
        env.fake.graph_throttle(2, status);
        for _ in 0..2 {
            let response = graph_get(&env, &url, &token).await;
            assert_eq!(response.status(), status);
            assert_eq!(response.headers()["retry-after"], "1");
            let body: Value = response.json().await.unwrap();
            let code = if status == 429 {
                "TooManyRequests"
            } else {
                "serviceNotAvailable"
            };
            assert_eq!(body["error"]["code"], code);
            assert!(body["error"]["innerError"]["request-id"].is_string());
        }
        assert_eq!(graph_get(&env, &url, &token).await.status(), 200);
    }
}

#[tokio::test]
async fn graph_refuses_missing_malformed_expired_and_foreign_tokens_with_401() {
    let env = env().await;
    let url = format!("{}/v1.0/users", env.fake.graph());
    let id_token = sign_in(&env, &[]).await["id_token"]
        .as_str()
        .unwrap()
        .to_owned();
    env.fake.set_app_token_lifetime(0);
    let expired = app_token(&env).await;
    let tampered = {
        env.fake.set_app_token_lifetime(3599);
        let good = app_token(&env).await;
        let (head, _) = good.rsplit_once('.').unwrap();
        format!("{head}.{}", URL_SAFE_NO_PAD.encode([7u8; 256]))
    };
    let missing = env.http.get(&url).send().await.unwrap();
    assert_eq!(missing.status(), 401);
    assert!(missing.headers().contains_key("www-authenticate"));
    for (what, token) in [
        ("garbage", "not-a-jwt".to_owned()),
        ("expired", expired),
        ("ID token", id_token),
        ("bad signature", tampered),
    ] {
        let response = graph_get(&env, &url, &token).await;
        assert_eq!(response.status(), 401, "{what}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            body["error"]["code"], "InvalidAuthenticationToken",
            "{what}"
        );
    }
}

#[tokio::test]
async fn graph_answers_403_once_consent_is_revoked() {
    let env = env().await;
    let token = app_token(&env).await;
    let url = format!("{}/v1.0/users", env.fake.graph());
    assert_eq!(graph_get(&env, &url, &token).await.status(), 200);
    env.fake.tenant(&env.tid).revoke_consent(CLIENT);
    let response = graph_get(&env, &url, &token).await;
    assert_eq!(response.status(), 403);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "Authorization_RequestDenied");
    // The service principal stays: a new token is issued, without roles, and is refused too.
    let (status, body) = client_credentials(&env, &env.tid, &[("client_secret", SECRET)]).await;
    assert_eq!(status, 200);
    let fresh = body["access_token"].as_str().unwrap();
    assert!(parts(fresh).1.get("roles").is_none());
    assert_eq!(graph_get(&env, &url, fresh).await.status(), 403);
}

#[tokio::test]
async fn directory_changes_show_in_graph() {
    let env = env().await;
    let tenant = env.fake.tenant(&env.tid);
    let bob = tenant.add_user(NewUser::new("bob@contoso.com", "Bob"));
    let carol = tenant.add_user(NewUser::new("carol@contoso.com", "Carol"));
    tenant.rename(&env.alice.id, "Alice Smith");
    tenant.set_mail(&env.alice.id, Some("alice.smith@contoso.com"));
    tenant.set_mail(&bob.id, None);
    tenant.disable(&bob.id);
    tenant.delete(&carol.id);
    let token = app_token(&env).await;
    let url = url_with(
        &format!("{}/v1.0/users", env.fake.graph()),
        &[("$select", SELECT)],
    );
    let page: Value = graph_get(&env, &url, &token).await.json().await.unwrap();
    let users = page["value"].as_array().unwrap();
    assert_eq!(users.len(), 2);
    assert_eq!(users[0]["displayName"], "Alice Smith");
    assert_eq!(users[0]["mail"], "alice.smith@contoso.com");
    assert_eq!(users[1]["id"], bob.id);
    assert!(users[1]["mail"].is_null());
    assert_eq!(users[1]["accountEnabled"], false);
    let one = graph_get(
        &env,
        &format!("{}/v1.0/users/{}", env.fake.graph(), carol.id),
        &token,
    )
    .await;
    assert_eq!(one.status(), 404);
}

// ---------------------------------------------------------------- outages

#[tokio::test]
async fn refuse_closes_the_port_and_up_serves_again_on_the_same_port() {
    let env = env().await;
    let url = format!(
        "{}/{}/v2.0/.well-known/openid-configuration",
        env.fake.authority(),
        env.tid
    );
    // A keep-alive connection exists before the outage.
    assert_eq!(get(&env.http, &url).await.status(), 200);
    env.fake.set_down(true).await;
    let error = env
        .http
        .get(&url)
        .send()
        .await
        .expect_err("the fake is down");
    assert!(error.is_connect() || error.is_request(), "{error:?}");
    let graph = env
        .http
        .get(format!("{}/v1.0/users", env.fake.graph()))
        .send()
        .await;
    assert!(graph.is_err(), "Graph is down too");
    env.fake.set_down(false).await;
    assert_eq!(get(&env.http, &url).await.status(), 200);

    // A port nobody listens on is refused the same way (sanity check of the client).
    let nobody = format!("http://127.0.0.1:{}/", free_port());
    assert!(env.http.get(&nobody).send().await.unwrap_err().is_connect());
}

#[tokio::test]
async fn hang_outlasts_the_client_timeout_and_unavailable_answers_503() {
    let env = env().await;
    let url = format!(
        "{}/{}/v2.0/.well-known/openid-configuration",
        env.fake.authority(),
        env.tid
    );
    env.fake.set_outage(Surface::Login, Outage::Hang).await;
    let started = std::time::Instant::now();
    let error = env
        .http
        .get(&url)
        .timeout(Duration::from_millis(300))
        .send()
        .await
        .expect_err("no answer while hanging");
    assert!(error.is_timeout(), "{error:?}");
    assert!(started.elapsed() >= Duration::from_millis(300));

    env.fake
        .set_outage(Surface::Login, Outage::Unavailable)
        .await;
    let response = get(&env.http, &url).await;
    assert_eq!(response.status(), 503);
    assert_entra_error(
        &response.json().await.unwrap(),
        "temporarily_unavailable",
        90006,
    );

    env.fake
        .set_outage(Surface::Graph, Outage::Unavailable)
        .await;
    let response = env
        .http
        .get(format!("{}/v1.0/users", env.fake.graph()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "1");

    env.fake.set_outage(Surface::Login, Outage::Up).await;
    assert_eq!(get(&env.http, &url).await.status(), 200);
}

// ---------------------------------------------------------------- generic OIDC provider

#[tokio::test]
async fn oidc_mode_has_standard_discovery_and_a_verifiable_round_trip() {
    let env = env().await;
    env.fake.add_oidc_user(OidcUser::new(
        "partner-user-1",
        "dana@partner.example",
        "Dana",
    ));
    let issuer = env.fake.oidc_issuer();
    assert_eq!(issuer, format!("{}/oidc", env.fake.authority()));
    let doc: Value = get(
        &env.http,
        &format!("{issuer}/.well-known/openid-configuration"),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(doc["issuer"], issuer);
    assert_eq!(
        doc["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    let keys: Value = get(&env.http, doc["jwks_uri"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();

    for knob in [None, Some(Misbehave::WrongNonce)] {
        if let Some(knob) = knob.clone() {
            env.fake.next_id_token(knob);
        }
        let pkce = pkce();
        let url = url_with(
            doc["authorization_endpoint"].as_str().unwrap(),
            &[
                ("client_id", CLIENT),
                ("response_type", "code"),
                ("redirect_uri", REDIRECT),
                ("scope", "openid email profile"),
                ("state", "s"),
                ("nonce", "n-1"),
                ("login_hint", "dana@partner.example"),
                ("code_challenge", &pkce.challenge),
                ("code_challenge_method", "S256"),
            ],
        );
        let query = query_map(&location(&get(&env.http, &url).await));
        assert_eq!(query["state"], "s");
        let response = env
            .http
            .post(doc["token_endpoint"].as_str().unwrap())
            .basic_auth(CLIENT, Some(SECRET))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", query["code"].as_str()),
                ("redirect_uri", REDIRECT),
                ("code_verifier", pkce.verifier.as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        let claims = verify(body["id_token"].as_str().unwrap(), &keys, CLIENT, &issuer).unwrap();
        assert_eq!(claims["sub"], "partner-user-1");
        assert_eq!(claims["email"], "dana@partner.example");
        assert_eq!(claims["email_verified"], true);
        assert_eq!(claims["name"], "Dana");
        match knob {
            None => assert_eq!(claims["nonce"], "n-1"),
            Some(_) => assert_ne!(claims["nonce"], "n-1"),
        }
    }
    assert_eq!(env.fake.last_authorization().unwrap().tenant, "oidc");
}

#[tokio::test]
async fn requests_are_recorded_with_their_form_fields() {
    let env = env().await;
    sign_in(&env, &[]).await;
    let token_requests = env.fake.requests_to("/oauth2/v2.0/token");
    assert_eq!(token_requests.len(), 1);
    let request = &token_requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.surface, Surface::Login);
    assert_eq!(request.form_param("grant_type"), Some("authorization_code"));
    assert!(request.form_param("code_verifier").is_some());
    assert!(
        request
            .header("Content-Type")
            .unwrap()
            .starts_with("application/x-www-form-urlencoded")
    );
    let authorize = env.fake.requests_to("/oauth2/v2.0/authorize");
    assert_eq!(
        authorize[0].query_param("login_hint"),
        Some("alice@contoso.com")
    );
}
