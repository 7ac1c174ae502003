//! JOSE helpers shared by everything that checks a JWS signed by someone else's key: an
//! upstream's ID token (or an exchanged Entra token) against its JWKS, and a client's
//! assertion against the keys it registered. One implementation for both, since each step is
//! a classic place to get JWT verification wrong (RFC 8725 §2 and §3.1). A leaf module: it
//! depends on jsonwebtoken and serde only, so `op`, `upstream` and `policy` can all use it.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// Algorithms an upstream ID token or exchanged token may be signed with: asymmetric only
/// (RFC 8725 §3.1: an explicit allow-list, never taken from the token).
pub const UPSTREAM_TOKEN_ALGS: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// Algorithms a client may sign its `private_key_jwt` assertion with (RFC 8725 §3.1:
/// explicit, asymmetric).
pub const CLIENT_ASSERTION_ALGS: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::PS256,
    Algorithm::ES256,
    Algorithm::EdDSA,
];

/// A claim that is one string or an array of strings (`aud`, RFC 7519 §4.1.3), as a list.
pub fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    })
}

/// Why a signature check failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwsRefusal {
    /// Not a compact JWS, or a header that does not parse.
    Malformed,
    /// `alg` outside the caller's allow-list (`none` and HMAC always are), or not the
    /// algorithm the key states.
    AlgorithmNotAllowed,
    /// No key with that `kid` (or several keys and no `kid`).
    UnknownKey,
    BadSignature,
    /// Signed correctly, but the claims do not have the caller's shape.
    ClaimsShape,
}

/// Checks the signature of `token` with the key of `jwks` its header names (RFC 7515 §5.2)
/// and returns its claims, not yet checked: callers apply their own rules, `now` and leeway.
/// The algorithm comes from `allowed`, never from the token alone (RFC 8725 §3.1).
pub fn verify_with_jwks<T: DeserializeOwned>(
    token: &str,
    jwks: &JwkSet,
    allowed: &[Algorithm],
) -> Result<T, JwsRefusal> {
    let header = jsonwebtoken::decode_header(token).map_err(|e| match e.kind() {
        jsonwebtoken::errors::ErrorKind::InvalidAlgorithmName => JwsRefusal::AlgorithmNotAllowed,
        // `alg: none` (and any name jsonwebtoken does not know) fails header parsing itself.
        _ if names_an_alg(token) => JwsRefusal::AlgorithmNotAllowed,
        _ => JwsRefusal::Malformed,
    })?;
    if !allowed.contains(&header.alg) {
        return Err(JwsRefusal::AlgorithmNotAllowed);
    }
    let jwk = match header.kid.as_deref() {
        Some(kid) => jwks.find(kid),
        // A key set of one key may be used without a kid (RFC 7517 §4.5: kid is optional).
        None if jwks.keys.len() == 1 => jwks.keys.first(),
        None => None,
    }
    .ok_or(JwsRefusal::UnknownKey)?;
    // The key's own algorithm, when it states one, must be the token's (no cross-family use).
    if let Some(key_alg) = jwk.common.key_algorithm
        && key_alg.to_string().parse::<Algorithm>().ok() != Some(header.alg)
    {
        return Err(JwsRefusal::AlgorithmNotAllowed);
    }
    let key = DecodingKey::from_jwk(jwk).map_err(|_| JwsRefusal::UnknownKey)?;
    // Only the signature (and that the key's family fits the algorithm) here.
    let mut validation = Validation::new(header.alg);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    jsonwebtoken::decode::<T>(token, &key, &validation)
        .map(|d| d.claims)
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidAlgorithm => JwsRefusal::AlgorithmNotAllowed,
            jsonwebtoken::errors::ErrorKind::Json(_) => JwsRefusal::ClaimsShape,
            _ => JwsRefusal::BadSignature,
        })
}

/// Whether the JOSE header names an `alg` at all, read without jsonwebtoken (which cannot
/// parse a header whose `alg` it does not know, such as `none`).
fn names_an_alg(token: &str) -> bool {
    use base64::Engine as _;
    token
        .split('.')
        .next()
        .and_then(|h| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(h)
                .ok()
        })
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .is_some_and(|h| h.get("alg").is_some_and(|a| a.is_string()))
}
