//! Signing algorithms: RS256 always on offer beside the configured algorithm (OIDC Core
//! §15.1, OIDC Discovery §3), published at `/jwks`, and created when a reloaded policy names
//! another algorithm; each client's choice of algorithm for its ID and access tokens, and
//! every check of our own tokens accepting whichever of our keys signed one, by its `kid`,
//! and nothing else.

use std::time::Duration;

use idbroker::clock::Clock;
use idbroker::policy::SigningAlg;
use idbroker::upstream::http_client::OidcHttp;
use jsonwebtoken::EncodingKey;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreIdToken, CoreJwsSigningAlgorithm, CoreProviderMetadata,
};
use openidconnect::{
    AuthorizationCode, ClientId, CsrfToken, EndpointMaybeSet, EndpointNotSet, EndpointSet,
    IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope,
    TokenResponse as _,
};
use serde_json::Value;

use crate::support::broker::{PASSWORD, TestBroker, USER, WEB_SECRET, policy_yaml, test_loader};
use crate::support::browser::{Browser, sign_in};
use crate::support::oauth::jwt_part;

async fn get_json(url: &str) -> Value {
    let resp = reqwest::get(url).await.unwrap();
    assert_eq!(resp.status(), 200, "{url}");
    resp.json().await.unwrap()
}

/// The `(kid, alg, kty)` of every key of the broker's `/jwks`.
async fn published(tb: &TestBroker) -> Vec<(String, String, String)> {
    let jwks = get_json(&tb.url("/jwks")).await;
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["kid"].as_str().unwrap().to_owned(),
                k["alg"].as_str().unwrap().to_owned(),
                k["kty"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn discovered_algs(tb: &TestBroker) -> Value {
    let meta = get_json(&tb.url("/.well-known/openid-configuration")).await;
    meta["id_token_signing_alg_values_supported"].clone()
}

#[tokio::test]
async fn discovery_offers_rs256_beside_the_configured_algorithm_and_jwks_publishes_both() {
    // The test policy says `keys: {algorithm: ES256}`, the default.
    let tb = TestBroker::start().await;
    assert_eq!(
        discovered_algs(&tb).await,
        serde_json::json!(["ES256", "RS256"])
    );
    let mut keys = published(&tb).await;
    keys.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert_eq!((keys[0].1.as_str(), keys[0].2.as_str()), ("ES256", "EC"));
    assert_eq!((keys[1].1.as_str(), keys[1].2.as_str()), ("RS256", "RSA"));

    // A reload naming EdDSA: its key is created, RS256 stays beside it, and the ES256 key
    // stays published for the tokens it signed.
    let yaml = policy_yaml(&tb.base, tb.dir.path(), "", None)
        .replace("algorithm: ES256", "algorithm: EdDSA");
    std::fs::write(&tb.policy_path, yaml).unwrap();
    assert_eq!(
        idbroker::reload::reload_once(&tb.broker, &tb.policy_path, &test_loader()).await,
        idbroker::reload::Outcome::Applied
    );
    assert_eq!(
        discovered_algs(&tb).await,
        serde_json::json!(["EdDSA", "RS256"])
    );
    let algs: Vec<String> = published(&tb).await.into_iter().map(|k| k.1).collect();
    assert_eq!(algs.len(), 3, "{algs:?}");
    for alg in ["ES256", "EdDSA", "RS256"] {
        assert!(algs.iter().any(|a| a == alg), "{alg} in {algs:?}");
    }
}

#[tokio::test]
async fn a_policy_of_rs256_keeps_one_key_and_offers_rs256_alone() {
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let yaml =
        policy_yaml(&base, dir.path(), "", None).replace("algorithm: ES256", "algorithm: RS256");
    let tb = TestBroker::start_yaml(dir, listener, &yaml, idbroker::clock::Clock::System).await;
    assert_eq!(discovered_algs(&tb).await, serde_json::json!(["RS256"]));
    let keys = published(&tb).await;
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert_eq!(keys[0].1, "RS256");
}

/// A public client whose ID and access tokens are RS256, and a confidential one whose
/// client-credentials access tokens are.
const RS_CLIENTS: &str = r#"  - id: rs-spa
    redirect_uris: [http://127.0.0.1:9001/callback]
    grants: [authorization_code, refresh_token]
    scopes: [openid, email, profile, offline_access]
    id_token_signed_response_alg: RS256
    access_token_signed_response_alg: RS256
  - id: rs-api
    secret_env: PARTNER_SECRET
    grants: [client_credentials]
    scopes: [reports.read]
    access_token_signed_response_alg: RS256
"#;
const RS_API_SECRET: &str = "partner-secret-value";

fn http() -> OidcHttp {
    OidcHttp::new(Duration::from_secs(10)).unwrap()
}

/// What a sign-in through the `openidconnect` RP brought back.
struct SignedIn {
    client: CoreClient<
        EndpointSet,
        EndpointNotSet,
        EndpointNotSet,
        EndpointNotSet,
        EndpointMaybeSet,
        EndpointMaybeSet,
    >,
    nonce: Nonce,
    id_token: CoreIdToken,
    access_token: String,
    /// The `alg` of the ID token a refresh brought.
    refreshed_alg: String,
}

/// Signs the user in for the public client `client_id` (redirect URI `redirect`) through the
/// `openidconnect` RP, then refreshes once.
async fn rp_sign_in(tb: &TestBroker, client_id: &str, redirect: &str) -> SignedIn {
    let http = http();
    let meta =
        CoreProviderMetadata::discover_async(IssuerUrl::new(tb.base.clone()).unwrap(), &http)
            .await
            .unwrap();
    let client = CoreClient::from_provider_metadata(meta, ClientId::new(client_id.into()), None)
        .set_redirect_uri(RedirectUrl::new(redirect.into()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, _state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("offline_access".into()))
        .set_pkce_challenge(challenge)
        .url();
    let back = sign_in(
        &mut Browser::new(),
        &tb.base,
        auth_url.as_str(),
        USER,
        PASSWORD,
    )
    .await;
    let code = back.location_param("code").expect("a code");
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    // A refreshed ID token is signed the same way (OIDC Core §12.2).
    let refreshed = client
        .exchange_refresh_token(tokens.refresh_token().unwrap())
        .unwrap()
        .request_async(&http)
        .await
        .unwrap();
    let refreshed_alg = jwt_part(&refreshed.id_token().unwrap().to_string(), 0)["alg"]
        .as_str()
        .unwrap()
        .to_owned();
    SignedIn {
        id_token: tokens.id_token().expect("an ID token").clone(),
        access_token: tokens.access_token().secret().clone(),
        client,
        nonce,
        refreshed_alg,
    }
}

/// Issue 14: a client configured for RS256 gets RS256 ID tokens that the `openidconnect`
/// RP verifies, even one that accepts RS256 alone (the default of OIDC Registration §2); a
/// client left at the default still gets ES256, which such an RP refuses.
#[tokio::test]
async fn a_client_configured_for_rs256_gets_rs256_id_tokens_and_the_default_stays_es256() {
    let tb = TestBroker::start_with_clients(RS_CLIENTS, "", None, Clock::System).await;
    let keys = tb.broker.internals().keys;
    let rs_kid = keys.current_kid(SigningAlg::RS256).unwrap();
    let es_kid = keys.current_kid(SigningAlg::ES256).unwrap();
    let rs256_only = || vec![CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256];

    let rs = rp_sign_in(&tb, "rs-spa", "http://127.0.0.1:9001/callback").await;
    let header = jwt_part(&rs.id_token.to_string(), 0);
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["kid"], rs_kid.as_str());
    let strict = rs.client.id_token_verifier().set_allowed_algs(rs256_only());
    let claims = rs
        .id_token
        .claims(&strict, &rs.nonce)
        .expect("an RS256-only RP verifies it against /jwks");
    assert_eq!(claims.audiences()[0].as_str(), "rs-spa");
    assert_eq!(rs.refreshed_alg, "RS256");
    // access_token_signed_response_alg: RS256 as well.
    let at_header = jwt_part(&rs.access_token, 0);
    assert_eq!(at_header["alg"], "RS256");
    assert_eq!(at_header["typ"], "at+jwt");

    let es = rp_sign_in(&tb, "spa", "http://127.0.0.1:9000/callback").await;
    let header = jwt_part(&es.id_token.to_string(), 0);
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["kid"], es_kid.as_str());
    es.id_token
        .claims(&es.client.id_token_verifier(), &es.nonce)
        .expect("the RP verifies ES256 as discovery offers it");
    let strict = es.client.id_token_verifier().set_allowed_algs(rs256_only());
    assert!(es.id_token.claims(&strict, &es.nonce).is_err());
    assert_eq!(es.refreshed_alg, "ES256");
    assert_eq!(jwt_part(&es.access_token, 0)["alg"], "ES256");
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

async fn introspect(tb: &TestBroker, client: &str, secret: &str, token: &str) -> Value {
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

async fn client_credentials(tb: &TestBroker, client: &str, secret: &str) -> String {
    let r: Value = reqwest::Client::new()
        .post(tb.url("/token"))
        .basic_auth(client, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["access_token"].as_str().unwrap().to_owned()
}

/// The PEM of the broker's signing key of `alg`.
fn key_pem(tb: &TestBroker, alg: SigningAlg) -> (String, Vec<u8>) {
    let kid = tb.broker.internals().keys.current_kid(alg).unwrap();
    let pem = std::fs::read(tb.dir.path().join(format!("keys/{kid}.pem"))).unwrap();
    (kid, pem)
}

/// `token`'s claims under a new header `alg`/`kid` (typ `at+jwt`), signed with `key`, or
/// with no signature for `none`.
fn resign(
    token: &str,
    alg: &str,
    kid: &str,
    key: Option<(jsonwebtoken::Algorithm, &EncodingKey)>,
) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = serde_json::json!({"alg": alg, "typ": "at+jwt", "kid": kid});
    let input = format!(
        "{}.{}",
        b64.encode(header.to_string()),
        token.split('.').nth(1).unwrap()
    );
    let signature = match key {
        Some((a, k)) => jsonwebtoken::crypto::sign(input.as_bytes(), k, a).unwrap(),
        None => String::new(),
    };
    format!("{input}.{signature}")
}

/// Access tokens signed per `access_token_signed_response_alg` pass `/userinfo` and
/// `/introspect` whichever of our keys signed them; the same claims under a header that
/// names another algorithm than the key's (with a real signature of another key, an HMAC
/// keyed with the public key, RSA-PSS with the RSA key, or `none`) are refused (RFC 8725
/// §3.1: the key decides the algorithm).
#[tokio::test]
async fn access_tokens_of_either_key_verify_and_alg_or_kid_swaps_are_refused() {
    let tb = TestBroker::start_with_clients(RS_CLIENTS, "", None, Clock::System).await;

    // A user's RS256 access token: /userinfo takes it.
    let rs = rp_sign_in(&tb, "rs-spa", "http://127.0.0.1:9001/callback").await;
    assert_eq!(jwt_part(&rs.access_token, 0)["alg"], "RS256");
    assert_eq!(userinfo_status(&tb, &rs.access_token).await, 200);
    // A user's ES256 access token too.
    let es = rp_sign_in(&tb, "spa", "http://127.0.0.1:9000/callback").await;
    assert_eq!(userinfo_status(&tb, &es.access_token).await, 200);

    // Client-credentials tokens of an RS256 client and an ES256 one: each introspects its own.
    let rs_cc = client_credentials(&tb, "rs-api", RS_API_SECRET).await;
    assert_eq!(jwt_part(&rs_cc, 0)["alg"], "RS256");
    let seen = introspect(&tb, "rs-api", RS_API_SECRET, &rs_cc).await;
    assert_eq!(seen["active"], true, "{seen}");
    assert_eq!(seen["client_id"], "rs-api");
    let es_cc = client_credentials(&tb, "web", WEB_SECRET).await;
    assert_eq!(jwt_part(&es_cc, 0)["alg"], "ES256");
    assert_eq!(
        introspect(&tb, "web", WEB_SECRET, &es_cc).await["active"],
        true
    );

    let (rs_kid, rs_pem) = key_pem(&tb, SigningAlg::RS256);
    let (es_kid, es_pem) = key_pem(&tb, SigningAlg::ES256);
    let rs_key = EncodingKey::from_rsa_pem(&rs_pem).unwrap();
    let es_key = EncodingKey::from_ec_pem(&es_pem).unwrap();
    let jwks: Value = reqwest::get(tb.url("/jwks"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let rs_public = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == rs_kid.as_str())
        .unwrap()
        .to_string();
    let hmac_with_public = EncodingKey::from_secret(rs_public.as_bytes());
    use jsonwebtoken::Algorithm as A;
    let forged = [
        // The ES256 key's real signature under the RS256 key's kid.
        (
            "ES256 under the RS256 kid",
            resign(
                &rs.access_token,
                "ES256",
                &rs_kid,
                Some((A::ES256, &es_key)),
            ),
        ),
        // The RS256 key's real signature under the ES256 key's kid.
        (
            "RS256 under the ES256 kid",
            resign(
                &es.access_token,
                "RS256",
                &es_kid,
                Some((A::RS256, &rs_key)),
            ),
        ),
        // An algorithm we never sign with, with the right key.
        (
            "PS256 with the RSA key",
            resign(
                &rs.access_token,
                "PS256",
                &rs_kid,
                Some((A::PS256, &rs_key)),
            ),
        ),
        // HMAC keyed with the published public key (the classic confusion).
        (
            "HS256 keyed with the public JWK",
            resign(
                &rs.access_token,
                "HS256",
                &rs_kid,
                Some((A::HS256, &hmac_with_public)),
            ),
        ),
        ("none", resign(&rs.access_token, "none", &rs_kid, None)),
    ];
    for (what, token) in &forged {
        assert_eq!(
            userinfo_status(&tb, token).await,
            401,
            "/userinfo took {what}"
        );
    }
    let forged_cc = [
        (
            "ES256 under the RS256 kid",
            resign(&rs_cc, "ES256", &rs_kid, Some((A::ES256, &es_key))),
        ),
        (
            "PS256 with the RSA key",
            resign(&rs_cc, "PS256", &rs_kid, Some((A::PS256, &rs_key))),
        ),
        (
            "HS256 keyed with the public JWK",
            resign(
                &rs_cc,
                "HS256",
                &rs_kid,
                Some((A::HS256, &hmac_with_public)),
            ),
        ),
        ("none", resign(&rs_cc, "none", &rs_kid, None)),
    ];
    for (what, token) in &forged_cc {
        let seen = introspect(&tb, "rs-api", RS_API_SECRET, token).await;
        assert_eq!(
            seen,
            serde_json::json!({"active": false}),
            "/introspect took {what}"
        );
    }
    // The genuine tokens are still good (nothing above was cached as verified).
    assert_eq!(userinfo_status(&tb, &rs.access_token).await, 200);
    assert_eq!(
        introspect(&tb, "rs-api", RS_API_SECRET, &rs_cc).await["active"],
        true
    );
}
