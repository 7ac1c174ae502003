//! A software WebAuthn authenticator for protocol tests: one ES256 discoverable credential
//! with user verification, `none` attestation (WebAuthn L3 §8.7), its counter, and the JSON
//! a browser would post (`passkey.js`'s shape). Built from the spec's byte layouts (§6.1
//! authenticator data, §6.5.1 attested credential data, RFC 8152 §13.1.1 COSE EC2 key), so
//! the broker's verifier is tested against bytes it did not make.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub struct SoftAuthenticator {
    pub origin: String,
    pub rp_id: String,
    pub credential_id: Vec<u8>,
    pub user_handle: Vec<u8>,
    key: EcdsaKeyPair,
    pub counter: u32,
}

fn b64u(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The `publicKey` member of options JSON as the broker writes it (`data-options`).
pub fn public_key(options: &str) -> Value {
    let v: Value = serde_json::from_str(options).expect("options JSON");
    v["publicKey"].clone()
}

/// CBOR (RFC 8949 §3.1) head of a major type with argument `n`.
fn cbor_head(major: u8, n: usize, out: &mut Vec<u8>) {
    let m = major << 5;
    match n {
        0..=23 => out.push(m | n as u8),
        24..=0xff => out.extend([m | 24, n as u8]),
        _ => {
            out.push(m | 25);
            out.extend((n as u16).to_be_bytes());
        }
    }
}
fn cbor_text(s: &str, out: &mut Vec<u8>) {
    cbor_head(3, s.len(), out);
    out.extend(s.as_bytes());
}
fn cbor_bytes(b: &[u8], out: &mut Vec<u8>) {
    cbor_head(2, b.len(), out);
    out.extend(b);
}

/// User present and user verified (§6.1 flags UP, UV).
const UP_UV: u8 = 0x01 | 0x04;
const AT: u8 = 0x40;

impl SoftAuthenticator {
    /// Answers creation `options` (the account page's `data-options`) at `origin`: a new
    /// credential and the `RegisterPublicKeyCredential` JSON to post.
    pub fn register(options: &str, origin: &str) -> (SoftAuthenticator, String) {
        let pk = public_key(options);
        let challenge = pk["challenge"].as_str().expect("challenge").to_owned();
        let rp_id = pk["rp"]["id"].as_str().expect("rp.id").to_owned();
        let user_handle = URL_SAFE_NO_PAD
            .decode(pk["user"]["id"].as_str().expect("user.id"))
            .expect("user.id base64url");
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let key =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref()).unwrap();
        let mut credential_id = vec![0u8; 16];
        aws_lc_rs::rand::fill(&mut credential_id).unwrap();
        let mut auth = SoftAuthenticator {
            origin: origin.to_owned(),
            rp_id,
            credential_id,
            user_handle,
            key,
            counter: 0,
        };
        let json = auth.attestation(&challenge);
        (auth, json)
    }

    fn client_data(&self, kind: &str, challenge: &str) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "type": kind,
            "challenge": challenge,
            "origin": self.origin,
            "crossOrigin": false,
        }))
        .unwrap()
    }

    fn auth_data(&self, flags: u8, attested: Option<&[u8]>) -> Vec<u8> {
        let mut out = Sha256::digest(self.rp_id.as_bytes()).to_vec();
        out.push(flags);
        out.extend(self.counter.to_be_bytes());
        if let Some(a) = attested {
            out.extend(a);
        }
        out
    }

    fn attestation(&mut self, challenge: &str) -> String {
        let public = self.key.public_key().as_ref(); // 0x04 || x || y
        let (x, y) = (&public[1..33], &public[33..65]);
        // COSE_Key, EC2 P-256 ES256: {1: 2, 3: -7, -1: 1, -2: x, -3: y}.
        let mut cose = vec![0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21];
        cbor_bytes(x, &mut cose);
        cose.push(0x22);
        cbor_bytes(y, &mut cose);
        let mut attested = vec![0u8; 16]; // AAGUID: none
        attested.extend((self.credential_id.len() as u16).to_be_bytes());
        attested.extend(&self.credential_id);
        attested.extend(&cose);
        let auth_data = self.auth_data(UP_UV | AT, Some(&attested));
        let mut object = vec![0xa3];
        cbor_text("fmt", &mut object);
        cbor_text("none", &mut object);
        cbor_text("attStmt", &mut object);
        object.push(0xa0);
        cbor_text("authData", &mut object);
        cbor_bytes(&auth_data, &mut object);
        let client_data = self.client_data("webauthn.create", challenge);
        json!({
            "id": b64u(&self.credential_id),
            "rawId": b64u(&self.credential_id),
            "type": "public-key",
            "response": {
                "attestationObject": b64u(&object),
                "clientDataJSON": b64u(&client_data),
            },
            "extensions": {},
        })
        .to_string()
    }

    /// Answers request `options` (a login page's `data-options`): the counter moves on,
    /// and the assertion JSON to post.
    pub fn assert(&mut self, options: &str) -> String {
        self.counter += 1;
        let challenge = public_key(options)["challenge"]
            .as_str()
            .expect("challenge")
            .to_owned();
        self.assertion_with(&challenge, UP_UV)
    }

    /// An assertion for `challenge` with `flags`, signed (counter as it stands).
    pub fn assertion_with(&self, challenge: &str, flags: u8) -> String {
        let client_data = self.client_data("webauthn.get", challenge);
        let auth_data = self.auth_data(flags, None);
        let mut signed = auth_data.clone();
        signed.extend(Sha256::digest(&client_data));
        let signature = self.key.sign(&SystemRandom::new(), &signed).unwrap();
        json!({
            "id": b64u(&self.credential_id),
            "rawId": b64u(&self.credential_id),
            "type": "public-key",
            "response": {
                "authenticatorData": b64u(&auth_data),
                "clientDataJSON": b64u(&client_data),
                "signature": b64u(signature.as_ref()),
                "userHandle": b64u(&self.user_handle),
            },
            "extensions": {},
        })
        .to_string()
    }
}

/// Flags of an assertion without user verification (user present only).
pub const UP_ONLY: u8 = 0x01;

/// The `data-options` JSON of the element with `id` in `html` (unescaped).
pub fn data_options(html: &str, id: &str) -> Option<String> {
    let start = html.find(&format!("id=\"{id}\""))?;
    let rest = &html[start..];
    let needle = "data-options=\"";
    let at = rest.find(needle)? + needle.len();
    let end = rest[at..].find('"')? + at;
    Some(unescape(&rest[at..end]))
}

/// The value of the input `name` inside the element with `id` (first after it).
pub fn form_field(html: &str, id: &str, name: &str) -> Option<String> {
    let start = html.find(&format!("id=\"{id}\""))?;
    crate::support::browser::field(&html[start..], name)
}

fn unescape(s: &str) -> String {
    s.replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// A broker whose issuer is `http://localhost:{port}`: WebAuthn needs a domain as the RP id
/// (an IP address cannot be one), and browsers treat `localhost` as a secure context.
pub async fn localhost_broker(
    extra: &str,
    users: Option<&str>,
    clock: idbroker::clock::Clock,
) -> crate::support::broker::TestBroker {
    use crate::support::broker::{TestBroker, policy_yaml};
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let base = format!("http://localhost:{port}");
    let yaml = policy_yaml(&base, dir.path(), extra, users);
    TestBroker::start_yaml(dir, listener, &yaml, clock).await
}

/// [`localhost_broker`] with `clients` (a `clients:` block with its list items) before the
/// standard clients.
pub async fn localhost_broker_with(
    clients: &str,
    clock: idbroker::clock::Clock,
) -> crate::support::broker::TestBroker {
    use crate::support::broker::{TestBroker, policy_yaml};
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let base = format!("http://localhost:{port}");
    let yaml = policy_yaml(&base, dir.path(), "", None).replacen("clients:\n", clients, 1);
    TestBroker::start_yaml(dir, listener, &yaml, clock).await
}

/// Signs `who` in to the account page with the test password; the account page.
pub async fn account(
    b: &mut crate::support::browser::Browser,
    tb: &crate::support::broker::TestBroker,
    who: &str,
) -> crate::support::browser::Page {
    let first = b.get(&tb.url("/account")).await;
    let login = b.follow(&tb.base, first).await;
    assert_eq!(login.status, 200, "{}", login.body);
    let (tx, csrf) = (login.field("tx"), login.field("csrf"));
    let step = b
        .post(
            &tb.url("/login/identifier"),
            &[("tx", &tx), ("csrf", &csrf), ("identifier", who)],
        )
        .await;
    assert_eq!(step.status, 200, "{}", step.body);
    let done = b
        .post(
            &tb.url("/login/password"),
            &[
                ("tx", &tx),
                ("csrf", &csrf),
                ("password", crate::support::broker::PASSWORD),
            ],
        )
        .await;
    let page = b.follow(&tb.base, done).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("id=\"account-email\""), "{}", page.body);
    page
}

/// Registers a passkey named `name` from the account page `page` (a fresh sign-in): the
/// answer to the form and the authenticator holding it.
pub async fn register(
    b: &mut crate::support::browser::Browser,
    tb: &crate::support::broker::TestBroker,
    page: &crate::support::browser::Page,
    name: &str,
) -> (crate::support::browser::Page, SoftAuthenticator) {
    let options = data_options(&page.body, "passkey-register").expect("registration options");
    let state = form_field(&page.body, "passkey-register", "state").unwrap();
    let csrf = form_field(&page.body, "passkey-register", "csrf").unwrap();
    let (auth, credential) = SoftAuthenticator::register(&options, &tb.base);
    let answer = b
        .post(
            &tb.url("/account/passkeys"),
            &[
                ("csrf", &csrf),
                ("state", &state),
                ("credential", &credential),
                ("name", name),
            ],
        )
        .await;
    (answer, auth)
}
