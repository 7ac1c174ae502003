//! `private_key_jwt` client authentication (OIDC Core §9; RFC 7523 §2.2 and §3): the rules
//! a client assertion must meet. Pure: the caller passes the client's keys and `now`, and
//! makes the `jti` single-use in the store.
//!
//! The signature is checked with jsonwebtoken against the client's registered JWK Set,
//! with an allow-list of asymmetric algorithms: `none` and HMAC are refused before any key
//! is looked at (an HMAC "signed" with a public key is the classic confusion attack).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::JwkSet;
use serde::Deserialize;

use crate::clock::UnixTime;

/// RFC 7523 §2.2: the `client_assertion_type` of a JWT client assertion.
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

pub use crate::jose::CLIENT_ASSERTION_ALGS as ALLOWED_ALGS;

/// Clock skew tolerated on `exp`, `nbf` and `iat`.
pub const LEEWAY_SECS: u64 = 60;

/// The longest an assertion may live (`exp - iat`). RFC 7523 §3 lets the server limit
/// this; a short bound also bounds how long a `jti` must be remembered.
pub const MAX_LIFETIME_SECS: u64 = 300;

/// An assertion longer than this is refused unread.
const MAX_ASSERTION_BYTES: usize = 16 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssertionError {
    #[error("the assertion is not a well-formed JWT")]
    Malformed,
    #[error("the assertion's algorithm is not allowed")]
    AlgorithmNotAllowed,
    #[error("no registered key matches the assertion's kid")]
    UnknownKey,
    #[error("the signature does not verify")]
    BadSignature,
    #[error("iss and sub must both be the client id")]
    WrongIssuer,
    #[error("the assertion is not for this server")]
    WrongAudience,
    #[error("the assertion has expired")]
    Expired,
    #[error("the assertion is not valid yet")]
    NotYetValid,
    #[error("the assertion lives longer than 5 minutes")]
    TooLong,
    #[error("the assertion has no jti")]
    MissingJti,
}

impl AssertionError {
    /// A stable reason code for logs.
    pub fn reason(&self) -> &'static str {
        match self {
            AssertionError::Malformed => "assertion_malformed",
            AssertionError::AlgorithmNotAllowed => "alg_not_allowed",
            AssertionError::UnknownKey => "unknown_kid",
            AssertionError::BadSignature => "bad_signature",
            AssertionError::WrongIssuer => "wrong_issuer",
            AssertionError::WrongAudience => "wrong_audience",
            AssertionError::Expired => "assertion_expired",
            AssertionError::NotYetValid => "assertion_not_yet_valid",
            AssertionError::TooLong => "assertion_lifetime_too_long",
            AssertionError::MissingJti => "jti_missing",
        }
    }
}

/// What a verified assertion tells the caller: the `jti` to burn, and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedAssertion {
    pub jti: String,
    pub exp: UnixTime,
}

#[derive(Debug, Deserialize)]
struct AssertionClaims {
    iss: String,
    sub: String,
    #[serde(deserialize_with = "crate::jose::one_or_many")]
    aud: Vec<String>,
    exp: u64,
    iat: Option<u64>,
    nbf: Option<u64>,
    jti: Option<String>,
}

/// The `iss` of an assertion, read *without* verifying anything: only to find which
/// client's keys to verify it with when the form has no `client_id` (RFC 7523 §3 makes it
/// optional). [`verify`] then confirms it.
pub fn unverified_issuer(assertion: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Iss {
        iss: String,
    }
    if assertion.len() > MAX_ASSERTION_BYTES {
        return None;
    }
    let payload = assertion.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    Some(serde_json::from_slice::<Iss>(&bytes).ok()?.iss)
}

/// RFC 7523 §3 and OIDC Core §9: checks the assertion's signature against `jwks` and its
/// claims: `iss` = `sub` = `client_id`, an `aud` among `audiences`, unexpired, short-lived,
/// with a `jti`.
pub fn verify(
    assertion: &str,
    jwks: &JwkSet,
    client_id: &str,
    audiences: &[&str],
    now: UnixTime,
) -> Result<VerifiedAssertion, AssertionError> {
    if assertion.len() > MAX_ASSERTION_BYTES {
        return Err(AssertionError::Malformed);
    }
    let claims: AssertionClaims = crate::jose::verify_with_jwks(assertion, jwks, ALLOWED_ALGS)
        .map_err(|r| match r {
            crate::jose::JwsRefusal::Malformed | crate::jose::JwsRefusal::ClaimsShape => {
                AssertionError::Malformed
            }
            crate::jose::JwsRefusal::AlgorithmNotAllowed => AssertionError::AlgorithmNotAllowed,
            crate::jose::JwsRefusal::UnknownKey => AssertionError::UnknownKey,
            crate::jose::JwsRefusal::BadSignature => AssertionError::BadSignature,
        })?;
    check_claims(&claims, client_id, audiences, now)
}

fn check_claims(
    claims: &AssertionClaims,
    client_id: &str,
    audiences: &[&str],
    now: UnixTime,
) -> Result<VerifiedAssertion, AssertionError> {
    // RFC 7523 §3 items 1 and 2.A; OIDC Core §9: iss and sub are the client_id.
    if claims.iss != client_id || claims.sub != client_id {
        return Err(AssertionError::WrongIssuer);
    }
    // RFC 7523 §3 item 3; OIDC Core §9: "The Audience SHOULD be the URL of the
    // Authorization Server's Token Endpoint" — the issuer is accepted too.
    if !claims.aud.iter().any(|a| audiences.contains(&a.as_str())) {
        return Err(AssertionError::WrongAudience);
    }
    // RFC 7523 §3 item 4.
    if now > claims.exp.saturating_add(LEEWAY_SECS) {
        return Err(AssertionError::Expired);
    }
    // Items 5 and 6: not before `nbf`, not issued in the future.
    if claims.nbf.is_some_and(|nbf| nbf > now + LEEWAY_SECS)
        || claims.iat.is_some_and(|iat| iat > now + LEEWAY_SECS)
    {
        return Err(AssertionError::NotYetValid);
    }
    let lifetime_ok = match claims.iat {
        Some(iat) => claims.exp.saturating_sub(iat) <= MAX_LIFETIME_SECS,
        None => claims.exp <= now + MAX_LIFETIME_SECS + LEEWAY_SECS,
    };
    if !lifetime_ok {
        return Err(AssertionError::TooLong);
    }
    // Item 7 and OIDC Core §9: a jti, which the caller makes single-use.
    let jti = claims
        .jti
        .as_deref()
        .filter(|j| !j.is_empty() && j.len() <= 256)
        .ok_or(AssertionError::MissingJti)?;
    Ok(VerifiedAssertion {
        jti: jti.to_owned(),
        exp: claims.exp,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    use serde_json::json;

    const NOW: UnixTime = 1_800_000_000;
    const AUD: &str = "https://login.example.com/token";

    fn key() -> (EncodingKey, JwkSet, Vec<u8>) {
        let kp = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let raw = kp.public_key_raw();
        let jwks: JwkSet = serde_json::from_value(json!({"keys": [{
            "kty": "EC", "crv": "P-256", "kid": "k1",
            "x": URL_SAFE_NO_PAD.encode(&raw[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&raw[33..65]),
        }]}))
        .unwrap();
        let enc = EncodingKey::from_ec_pem(kp.serialize_pem().as_bytes()).unwrap();
        (enc, jwks, kp.public_key_pem().into_bytes())
    }

    fn claims() -> serde_json::Value {
        json!({"iss": "svc", "sub": "svc", "aud": AUD, "iat": NOW, "exp": NOW + 60, "jti": "j1"})
    }

    fn es256(enc: &EncodingKey, kid: Option<&str>, c: &serde_json::Value) -> String {
        let mut h = Header::new(Algorithm::ES256);
        h.kid = kid.map(str::to_owned);
        jsonwebtoken::encode(&h, c, enc).unwrap()
    }

    fn check(token: &str, jwks: &JwkSet) -> Result<VerifiedAssertion, AssertionError> {
        verify(token, jwks, "svc", &[AUD, "https://login.example.com"], NOW)
    }

    #[test]
    fn a_good_assertion_yields_its_jti() {
        let (enc, jwks, _) = key();
        let got = check(&es256(&enc, Some("k1"), &claims()), &jwks).unwrap();
        assert_eq!(
            got,
            VerifiedAssertion {
                jti: "j1".into(),
                exp: NOW + 60
            }
        );
        // No kid with a single key; aud as a list; the issuer as aud.
        let mut c = claims();
        c["aud"] = json!(["x", "https://login.example.com"]);
        assert!(check(&es256(&enc, None, &c), &jwks).is_ok());
        assert_eq!(
            unverified_issuer(&es256(&enc, None, &c)).as_deref(),
            Some("svc")
        );
    }

    #[test]
    fn each_flaw_has_its_own_reason() {
        let (enc, jwks, public_pem) = key();
        let (other, _, _) = key();
        let with = |f: &dyn Fn(&mut serde_json::Value)| {
            let mut c = claims();
            f(&mut c);
            es256(&enc, Some("k1"), &c)
        };
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode(claims().to_string())
        );
        let mut hs = Header::new(Algorithm::HS256);
        hs.kid = Some("k1".into());
        let hmac =
            jsonwebtoken::encode(&hs, &claims(), &EncodingKey::from_secret(&public_pem)).unwrap();
        let cases: Vec<(String, AssertionError)> = vec![
            ("a.b".into(), AssertionError::Malformed),
            (none, AssertionError::AlgorithmNotAllowed),
            (hmac, AssertionError::AlgorithmNotAllowed),
            (
                es256(&other, Some("k1"), &claims()),
                AssertionError::BadSignature,
            ),
            (
                es256(&enc, Some("k2"), &claims()),
                AssertionError::UnknownKey,
            ),
            (
                with(&|c| c["iss"] = json!("x")),
                AssertionError::WrongIssuer,
            ),
            (
                with(&|c| c["sub"] = json!("x")),
                AssertionError::WrongIssuer,
            ),
            (
                with(&|c| c["aud"] = json!("https://x/token")),
                AssertionError::WrongAudience,
            ),
            (
                with(&|c| {
                    c["iat"] = json!(NOW - 400);
                    c["exp"] = json!(NOW - LEEWAY_SECS - 1);
                }),
                AssertionError::Expired,
            ),
            (
                with(&|c| c["nbf"] = json!(NOW + 600)),
                AssertionError::NotYetValid,
            ),
            (
                with(&|c| c["exp"] = json!(NOW + 3600)),
                AssertionError::TooLong,
            ),
            (
                with(&|c| {
                    c.as_object_mut().unwrap().remove("iat");
                    c["exp"] = json!(NOW + 3600);
                }),
                AssertionError::TooLong,
            ),
            (
                with(&|c| {
                    c.as_object_mut().unwrap().remove("jti");
                }),
                AssertionError::MissingJti,
            ),
            (
                with(&|c| {
                    c.as_object_mut().unwrap().remove("exp");
                }),
                AssertionError::Malformed,
            ),
        ];
        for (token, want) in cases {
            assert_eq!(check(&token, &jwks), Err(want.clone()), "{want:?}");
        }
        // Within the leeway, an assertion just past exp still passes.
        let late = with(&|c| c["exp"] = json!(NOW - 10));
        assert!(check(&late, &jwks).is_ok());
    }

    #[test]
    fn a_key_pinned_to_another_alg_is_refused() {
        let (enc, mut jwks, _) = key();
        jwks.keys[0].common.key_algorithm = Some(jsonwebtoken::jwk::KeyAlgorithm::RS256);
        assert_eq!(
            check(&es256(&enc, Some("k1"), &claims()), &jwks),
            Err(AssertionError::AlgorithmNotAllowed)
        );
    }
}
