//! `private_key_jwt` client authentication (OIDC Core §9, RFC 7523 §2.2/§3) at `/token`,
//! `/revoke` and `/introspect`: a client registered with an ES256 public key signs its own
//! assertions (keys made by rcgen, JWTs by jsonwebtoken). Every refusal is the same
//! `invalid_client` 401.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::support::broker::{PASSWORD, TestBroker, USER, WEB_SECRET};
use crate::support::browser::{Browser, sign_in};
use crate::support::oauth::claims;
use idbroker::clock::Clock;

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const SVC_CB: &str = "https://svc.example.com/callback";

/// A P-256 key pair: the private key to sign with, the public JWK to register.
struct EcKey {
    encoding: EncodingKey,
    x: String,
    y: String,
    public_pem: String,
}

fn ec_key() -> EcKey {
    let kp = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let raw = kp.public_key_raw();
    assert_eq!((raw.len(), raw[0]), (65, 4), "uncompressed P-256 point");
    EcKey {
        encoding: EncodingKey::from_ec_pem(kp.serialize_pem().as_bytes()).unwrap(),
        x: URL_SAFE_NO_PAD.encode(&raw[1..33]),
        y: URL_SAFE_NO_PAD.encode(&raw[33..65]),
        public_pem: kp.public_key_pem(),
    }
}

fn jwk_yaml(k: &EcKey, kid: &str) -> String {
    format!(
        "{{kty: EC, crv: P-256, kid: {kid}, x: {}, y: {}}}",
        k.x, k.y
    )
}

fn now() -> u64 {
    idbroker::clock::system_now()
}

/// The claims of a good assertion of `client` for `aud`.
fn good_claims(client: &str, aud: &str) -> Value {
    let now = now();
    json!({
        "iss": client, "sub": client, "aud": aud,
        "iat": now, "exp": now + 60,
        "jti": uuid::Uuid::new_v4().to_string(),
    })
}

fn sign(key: &EcKey, kid: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &key.encoding).unwrap()
}

struct World {
    tb: TestBroker,
    svc: EcKey,
    other: EcKey,
}

async fn world() -> World {
    world_with("").await
}

async fn world_with(extra: &str) -> World {
    let svc = ec_key();
    let other = ec_key();
    let clients = format!(
        "  - id: svc
    jwks: {{keys: [{svc_jwk}]}}
    redirect_uris: [{SVC_CB}]
    grants: [authorization_code, client_credentials, device_code]
    scopes: [openid, email, reports.read]
  - id: other
    jwks:
      keys:
        - {other_jwk}
    grants: [client_credentials]
    scopes: [reports.read]
",
        svc_jwk = jwk_yaml(&svc, "k1"),
        other_jwk = jwk_yaml(&other, "o1"),
    );
    let tb = TestBroker::start_with_clients(&clients, extra, None, Clock::System).await;
    World { tb, svc, other }
}

impl World {
    fn token_url(&self) -> String {
        self.tb.url("/token")
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        reqwest::Client::new()
            .post(self.tb.url(path))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// client_credentials with `assertion` (and `extra` form fields).
    async fn cc(&self, assertion: &str, extra: &[(&str, &str)]) -> reqwest::Response {
        let mut form = vec![
            ("grant_type", "client_credentials"),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", assertion),
        ];
        form.extend_from_slice(extra);
        self.post("/token", &form).await
    }
}

async fn assert_invalid_client(resp: reqwest::Response, case: &str) {
    assert_eq!(resp.status(), 401, "{case}");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client", "{case}: {body}");
}

/// A valid assertion gets a client_credentials token, with or without `client_id`, and
/// with the issuer as audience too; discovery advertises the method.
#[tokio::test]
async fn client_credentials_with_a_signed_assertion() {
    let w = world().await;
    let a = sign(&w.svc, Some("k1"), &good_claims("svc", &w.token_url()));
    let resp = w.cc(&a, &[("scope", "reports.read")]).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    let at = claims(body["access_token"].as_str().unwrap());
    assert_eq!(at["client_id"], "svc");
    assert_eq!(body["scope"], "reports.read");

    // client_id in the form, the issuer as aud, and no kid (the only key).
    let a = sign(&w.svc, None, &good_claims("svc", &w.tb.base));
    let resp = w.cc(&a, &[("client_id", "svc")]).await;
    assert_eq!(resp.status(), 200);

    // aud as an array holding the token endpoint.
    let mut c = good_claims("other", "x");
    c["aud"] = json!(["https://elsewhere.example", w.token_url()]);
    let resp = w.cc(&sign(&w.other, Some("o1"), &c), &[]).await;
    assert_eq!(resp.status(), 200);

    let disc: Value = reqwest::get(w.tb.url("/.well-known/openid-configuration"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let methods = disc["token_endpoint_auth_methods_supported"]
        .as_array()
        .unwrap();
    assert!(methods.contains(&json!("private_key_jwt")), "{disc}");
    assert_eq!(
        disc["token_endpoint_auth_signing_alg_values_supported"],
        json!(["RS256", "PS256", "ES256", "EdDSA"])
    );
}

/// Authorization code redeemed with an assertion instead of a secret; the refresh-less
/// token then introspects and revokes with assertions too.
#[tokio::test]
async fn authorization_code_redeemed_with_an_assertion() {
    let w = world().await;
    let verifier = "verifier-verifier-verifier-verifier-verifier-0002";
    let url = format!(
        "{}/authorize?response_type=code&client_id=svc&redirect_uri={SVC_CB}&scope=openid%20email&state=s&nonce=n&code_challenge={}&code_challenge_method=S256",
        w.tb.base,
        idbroker::op::pkce::s256_challenge(verifier)
    );
    let back = sign_in(&mut Browser::new(), &w.tb.base, &url, USER, PASSWORD).await;
    let code = back.location_param("code").unwrap();

    // Without any credential the confidential client is refused.
    let resp = w
        .post(
            "/token",
            &[
                ("grant_type", "authorization_code"),
                ("client_id", "svc"),
                ("code", &code),
                ("redirect_uri", SVC_CB),
                ("code_verifier", verifier),
            ],
        )
        .await;
    assert_invalid_client(resp, "no credential").await;

    let a = sign(&w.svc, Some("k1"), &good_claims("svc", &w.token_url()));
    let resp = w
        .post(
            "/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", SVC_CB),
                ("code_verifier", verifier),
                ("client_assertion_type", ASSERTION_TYPE),
                ("client_assertion", &a),
            ],
        )
        .await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    let id = claims(body["id_token"].as_str().unwrap());
    assert_eq!(id["aud"], "svc");
    assert_eq!(id["email"], USER);
    let access = body["access_token"].as_str().unwrap().to_owned();

    let a = sign(&w.svc, Some("k1"), &good_claims("svc", &w.tb.base));
    let resp = w
        .post(
            "/introspect",
            &[
                ("token", &access),
                ("client_assertion_type", ASSERTION_TYPE),
                ("client_assertion", &a),
            ],
        )
        .await;
    assert_eq!(resp.status(), 200);
    let intro: Value = resp.json().await.unwrap();
    assert_eq!(intro["active"], true, "{intro}");

    let a = sign(&w.svc, Some("k1"), &good_claims("svc", &w.tb.base));
    let resp = w
        .post(
            "/revoke",
            &[
                ("token", &access),
                ("client_assertion_type", ASSERTION_TYPE),
                ("client_assertion", &a),
            ],
        )
        .await;
    assert_eq!(resp.status(), 200);
    // A revoke with a bad assertion is refused like any other endpoint.
    let resp = w
        .post(
            "/revoke",
            &[
                ("token", &access),
                ("client_assertion_type", ASSERTION_TYPE),
                ("client_assertion", &a),
            ],
        )
        .await;
    assert_invalid_client(resp, "replayed at /revoke").await;
}

/// Every way an assertion can be wrong is the same 401 invalid_client.
#[tokio::test]
async fn bad_assertions_are_invalid_client() {
    let w = world().await;
    let aud = w.token_url();
    let good = || good_claims("svc", &aud);

    // Signed by a key that is not the client's (under the client's kid).
    let a = sign(&w.other, Some("k1"), &good());
    assert_invalid_client(w.cc(&a, &[]).await, "wrong key").await;

    // alg none: no signature at all.
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT","kid":"k1"}"#),
        URL_SAFE_NO_PAD.encode(good().to_string())
    );
    assert_invalid_client(w.cc(&unsigned, &[]).await, "alg none").await;

    // HS256 keyed with the public key (PEM and raw coordinates): the confusion attack.
    for secret in [
        w.svc.public_pem.as_bytes().to_vec(),
        format!("{}{}", w.svc.x, w.svc.y).into_bytes(),
    ] {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("k1".into());
        let a = jsonwebtoken::encode(&header, &good(), &EncodingKey::from_secret(&secret)).unwrap();
        assert_invalid_client(w.cc(&a, &[]).await, "HS256 with the public key").await;
    }

    // Wrong audience.
    let a = sign(
        &w.svc,
        Some("k1"),
        &good_claims("svc", "https://other.example/token"),
    );
    assert_invalid_client(w.cc(&a, &[]).await, "wrong aud").await;

    // Expired (beyond the leeway).
    let mut c = good();
    c["iat"] = json!(now() - 600);
    c["exp"] = json!(now() - 300);
    assert_invalid_client(w.cc(&sign(&w.svc, Some("k1"), &c), &[]).await, "expired").await;

    // Lives longer than 5 minutes.
    let mut c = good();
    c["exp"] = json!(now() + 3600);
    assert_invalid_client(w.cc(&sign(&w.svc, Some("k1"), &c), &[]).await, "too long").await;

    // iss ≠ sub.
    let mut c = good();
    c["sub"] = json!("other");
    assert_invalid_client(w.cc(&sign(&w.svc, Some("k1"), &c), &[]).await, "iss != sub").await;

    // No jti.
    let mut c = good();
    c.as_object_mut().unwrap().remove("jti");
    assert_invalid_client(w.cc(&sign(&w.svc, Some("k1"), &c), &[]).await, "no jti").await;

    // Unknown kid.
    let a = sign(&w.svc, Some("nope"), &good());
    assert_invalid_client(w.cc(&a, &[]).await, "unknown kid").await;

    // An assertion of another client, presented as svc: client_id ≠ iss.
    let a = sign(&w.other, Some("o1"), &good_claims("other", &aud));
    assert_invalid_client(w.cc(&a, &[("client_id", "svc")]).await, "other client").await;
    // …and svc's key claiming to be other.
    let a = sign(&w.svc, Some("k1"), &good_claims("other", &aud));
    assert_invalid_client(w.cc(&a, &[]).await, "svc key as other").await;

    // Wrong assertion type.
    let a = sign(&w.svc, Some("k1"), &good());
    let resp = w
        .post(
            "/token",
            &[
                ("grant_type", "client_credentials"),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:saml2-bearer",
                ),
                ("client_assertion", &a),
            ],
        )
        .await;
    assert_invalid_client(resp, "wrong assertion type").await;

    // Garbage.
    assert_invalid_client(w.cc("not.a.jwt", &[("client_id", "svc")]).await, "garbage").await;

    // A secret instead of an assertion for a keyed client.
    let resp = w
        .post(
            "/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "svc"),
                ("client_secret", "anything"),
            ],
        )
        .await;
    assert_invalid_client(resp, "secret for a keyed client").await;

    // The assertion that was never used is still good: nothing above burned it.
    assert_eq!(w.cc(&a, &[]).await.status(), 200);
}

/// A jti is single-use: the same assertion a second time is refused.
#[tokio::test]
async fn replayed_assertion_is_refused() {
    let w = world().await;
    let a = sign(&w.svc, Some("k1"), &good_claims("svc", &w.token_url()));
    assert_eq!(w.cc(&a, &[]).await.status(), 200);
    assert_invalid_client(w.cc(&a, &[]).await, "replayed").await;
    // A fresh assertion with the same jti (re-signed) is a replay too.
    let c: Value = claims(&a);
    let again = sign(&w.svc, None, &c);
    assert_invalid_client(w.cc(&again, &[]).await, "same jti, new signature").await;
}

/// A secret and an assertion together are refused, in the form or in Basic.
#[tokio::test]
async fn secret_and_assertion_together_are_refused() {
    let w = world().await;
    let a = sign(&w.svc, Some("k1"), &good_claims("svc", &w.token_url()));
    assert_invalid_client(
        w.cc(&a, &[("client_id", "svc"), ("client_secret", "x")])
            .await,
        "secret + assertion in the form",
    )
    .await;
    let resp = reqwest::Client::new()
        .post(w.token_url())
        .basic_auth("web", Some(WEB_SECRET))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", &a),
        ])
        .send()
        .await
        .unwrap();
    assert_invalid_client(resp, "Basic + assertion").await;
    // Neither attempt used the jti.
    assert_eq!(w.cc(&a, &[]).await.status(), 200);
}

/// Failed assertions count against `token_per_client` like failed secrets: once the limit
/// is reached, even a good assertion is turned away until the window ends.
#[tokio::test]
async fn failed_assertions_count_against_the_client_limit() {
    let w = world_with(
        "rate_limits: {password_per_ip: 100, password_per_identifier: 100, token_per_client: 2, window: 5m}",
    )
    .await;
    for _ in 0..2 {
        let a = sign(&w.other, Some("k1"), &good_claims("svc", &w.token_url()));
        assert_invalid_client(w.cc(&a, &[]).await, "wrong key").await;
    }
    let a = sign(&w.svc, Some("k1"), &good_claims("svc", &w.token_url()));
    assert_eq!(w.cc(&a, &[]).await.status(), 429);
    // Another client is not affected.
    let a = sign(&w.other, Some("o1"), &good_claims("other", &w.token_url()));
    assert_eq!(w.cc(&a, &[]).await.status(), 200);
}

/// RFC 8628 §3.1: the device authorization endpoint authenticates clients as /token does.
#[tokio::test]
async fn device_authorization_with_an_assertion() {
    let w = world().await;
    let a = sign(&w.svc, Some("k1"), &good_claims("svc", &w.token_url()));
    let form = [
        ("scope", "openid"),
        ("client_assertion_type", ASSERTION_TYPE),
        ("client_assertion", a.as_str()),
    ];
    let resp = w.post("/device_authorization", &form).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert!(body["device_code"].is_string(), "{body}");
    assert_invalid_client(
        w.post("/device_authorization", &form).await,
        "replayed at /device_authorization",
    )
    .await;
}
