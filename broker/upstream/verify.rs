//! Verification of an upstream ID token (OIDC Core §3.1.3.7), with Entra's multi-tenant
//! rules. Every check that can fail has its own [`VerifyError`] variant, audited by name.
//!
//! The signature is checked with jsonwebtoken against the upstream's JWKS, with an
//! algorithm allow-list of asymmetric algorithms only: `none` and HMAC are refused before
//! any key is looked at (an HMAC "signed" with a public key is the classic confusion
//! attack). The claims are then checked here, explicitly, rather than by openidconnect's
//! verifier, which does not check `nbf` and cannot express "`iss` must be the issuer of the
//! token's own `tid`, and `tid` must be the organisation's tenant".

use jsonwebtoken::jwk::JwkSet;
use serde::Deserialize;

use crate::clock::UnixTime;
use crate::directory::UpstreamLink;
use crate::secret::ct_eq;

/// Clock skew tolerated on `exp`, `nbf` and `iat` (OIDC Core §3.1.3.7: "small").
pub const LEEWAY_SECS: u64 = 120;

pub use crate::jose::UPSTREAM_TOKEN_ALGS as ALLOWED_ALGS;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the token is not a well-formed JWT")]
    Malformed,
    #[error("the token's algorithm is not allowed")]
    AlgorithmNotAllowed,
    #[error("no key of the upstream matches the token's kid")]
    UnknownKey,
    #[error("the signature does not verify")]
    BadSignature,
    #[error("the token was issued by someone else")]
    WrongIssuer,
    #[error("the token comes from another tenant")]
    WrongTenant,
    #[error("the token is for another application")]
    WrongAudience,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the nonce does not match this sign-in")]
    NonceMismatch,
    #[error("the token lacks the claim {0}")]
    MissingClaim(&'static str),
}

impl VerifyError {
    /// The audit reason code.
    pub fn reason(&self) -> &'static str {
        match self {
            VerifyError::Malformed => "token_malformed",
            VerifyError::AlgorithmNotAllowed => "alg_not_allowed",
            VerifyError::UnknownKey => "unknown_kid",
            VerifyError::BadSignature => "bad_signature",
            VerifyError::WrongIssuer => "wrong_issuer",
            VerifyError::WrongTenant => "wrong_tenant",
            VerifyError::WrongAudience => "wrong_audience",
            VerifyError::Expired => "token_expired",
            VerifyError::NotYetValid => "token_not_yet_valid",
            VerifyError::NonceMismatch => "nonce_mismatch",
            VerifyError::MissingClaim(_) => "claim_missing",
        }
    }
}

/// What the token must say.
#[derive(Debug, Clone)]
pub struct Expected<'a> {
    /// The exact issuer (for Entra, `{authority}/{tenant_id}/v2.0`).
    pub issuer: &'a str,
    /// For Entra: the organisation's tenant id, which `tid` must equal.
    pub tenant_id: Option<&'a str>,
    /// Our client id at the upstream.
    pub audience: &'a str,
    /// The nonce we sent (OIDC Core §3.1.3.7 step 11). `None` only for a token we did not
    /// ask for ourselves (RFC 8693 token exchange): there is no nonce to compare with.
    pub nonce: Option<&'a str>,
}

/// The claims idbroker reads from an upstream ID token.
#[derive(Debug, Clone, Deserialize)]
pub struct UpstreamClaims {
    pub iss: String,
    pub sub: String,
    #[serde(deserialize_with = "crate::jose::one_or_many")]
    pub aud: Vec<String>,
    pub exp: u64,
    pub iat: Option<u64>,
    pub nbf: Option<u64>,
    pub nonce: Option<String>,
    pub azp: Option<String>,
    pub tid: Option<String>,
    pub oid: Option<String>,
    pub email: Option<String>,
    pub preferred_username: Option<String>,
    pub name: Option<String>,
}

/// Who the upstream says signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedIdentity {
    /// The immutable key: (`tid`, `oid`) for Entra, (`iss`, `sub`) otherwise.
    pub link: UpstreamLink,
    /// The upstream's email claim (Entra: `email`, else `preferred_username`), lower-cased.
    /// Used only to name a just-in-time user, never to match one.
    pub email: Option<String>,
    pub name: Option<String>,
}

/// Checks the signature of `token` against `jwks` and returns its claims, unchecked.
pub fn check_signature(token: &str, jwks: &JwkSet) -> Result<UpstreamClaims, VerifyError> {
    use crate::jose::{JwsRefusal, verify_with_jwks};
    verify_with_jwks(token, jwks, ALLOWED_ALGS).map_err(|r| match r {
        JwsRefusal::Malformed => VerifyError::Malformed,
        JwsRefusal::AlgorithmNotAllowed => VerifyError::AlgorithmNotAllowed,
        JwsRefusal::UnknownKey => VerifyError::UnknownKey,
        JwsRefusal::BadSignature => VerifyError::BadSignature,
        JwsRefusal::ClaimsShape => VerifyError::MissingClaim("iss/sub/aud/exp"),
    })
}

/// The `tid` claim of a JWT, read *without* verifying anything. Only for choosing which
/// organisation's keys and rules to verify the token against (RFC 8693 token exchange):
/// the choice is then confirmed by the signature, `iss` and `tid` checks.
pub fn unverified_tid(token: &str) -> Option<String> {
    use base64::Engine as _;
    #[derive(Deserialize)]
    struct Tid {
        tid: Option<String>,
    }
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let tid = serde_json::from_slice::<Tid>(&bytes).ok()?.tid?;
    // A GUID; anything else cannot be an organisation's tenant.
    (tid.len() <= 64).then(|| tid.to_ascii_lowercase())
}

/// OIDC Core §3.1.3.7 steps 2, 3, 9, 10, 11 and Entra's tenant rule, on signed claims.
pub fn check_claims(
    claims: &UpstreamClaims,
    expected: &Expected<'_>,
    now: UnixTime,
) -> Result<VerifiedIdentity, VerifyError> {
    // Step 2: iss must exactly match. For Entra the expected issuer is the organisation's
    // tenant's, so a token of any other tenant fails here already.
    if claims.iss != expected.issuer {
        return Err(VerifyError::WrongIssuer);
    }
    // Entra: tid must be present and be the organisation's tenant (and thus agree with iss).
    if let Some(tenant) = expected.tenant_id {
        match claims.tid.as_deref() {
            None => return Err(VerifyError::MissingClaim("tid")),
            Some(tid) if !tid.eq_ignore_ascii_case(tenant) => return Err(VerifyError::WrongTenant),
            Some(_) => {}
        }
    }
    // Step 3: our client id must be an audience; with several audiences, azp must be us.
    if !claims.aud.iter().any(|a| a == expected.audience) {
        return Err(VerifyError::WrongAudience);
    }
    if claims.aud.len() > 1 && claims.azp.as_deref() != Some(expected.audience) {
        return Err(VerifyError::WrongAudience);
    }
    // Steps 9 and 10: exp in the future; nbf and iat not in the future (with leeway).
    if claims.exp + LEEWAY_SECS <= now {
        return Err(VerifyError::Expired);
    }
    if claims.nbf.is_some_and(|nbf| nbf > now + LEEWAY_SECS)
        || claims.iat.is_some_and(|iat| iat > now + LEEWAY_SECS)
    {
        return Err(VerifyError::NotYetValid);
    }
    // Step 11: the nonce we sent, constant-time compared.
    if let Some(sent) = expected.nonce {
        match claims.nonce.as_deref() {
            Some(n) if ct_eq(n.as_bytes(), sent.as_bytes()) => {}
            _ => return Err(VerifyError::NonceMismatch),
        }
    }
    let link = match expected.tenant_id {
        Some(_) => UpstreamLink::Entra {
            tid: claims
                .tid
                .clone()
                .ok_or(VerifyError::MissingClaim("tid"))?
                .to_ascii_lowercase(),
            oid: claims
                .oid
                .clone()
                .ok_or(VerifyError::MissingClaim("oid"))?
                .to_ascii_lowercase(),
        },
        None => UpstreamLink::Oidc {
            iss: claims.iss.clone(),
            sub: claims.sub.clone(),
        },
    };
    let email = match expected.tenant_id {
        Some(_) => claims
            .email
            .clone()
            .or_else(|| claims.preferred_username.clone()),
        None => claims.email.clone(),
    }
    .map(|e| e.trim().to_lowercase());
    Ok(VerifiedIdentity {
        link,
        email,
        name: claims.name.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::Algorithm;

    const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

    fn claims() -> UpstreamClaims {
        UpstreamClaims {
            iss: format!("https://login.example/{TENANT}/v2.0"),
            sub: "pairwise-sub".into(),
            aud: vec!["app".into()],
            exp: 2000,
            iat: Some(1000),
            nbf: Some(1000),
            nonce: Some("n-1".into()),
            azp: None,
            tid: Some(TENANT.into()),
            oid: Some("00000000-0000-0000-0000-0000000000AA".into()),
            email: None,
            preferred_username: Some("Ada@Contoso.com".into()),
            name: Some("Ada".into()),
        }
    }

    fn expected(iss: &str) -> Expected<'_> {
        Expected {
            issuer: iss,
            tenant_id: Some(TENANT),
            audience: "app",
            nonce: Some("n-1"),
        }
    }

    fn check(edit: impl FnOnce(&mut UpstreamClaims), now: u64, want: Result<(), VerifyError>) {
        let iss = format!("https://login.example/{TENANT}/v2.0");
        let mut c = claims();
        edit(&mut c);
        let got = check_claims(&c, &expected(&iss), now).map(|_| ());
        assert_eq!(got, want);
    }

    #[test]
    fn claim_rules_table() {
        check(|_| {}, 1500, Ok(()));
        check(
            |c| c.iss = "https://login.example/other/v2.0".into(),
            1500,
            Err(VerifyError::WrongIssuer),
        );
        check(
            |c| c.tid = Some("11111111-2222-3333-4444-555555555555".into()),
            1500,
            Err(VerifyError::WrongTenant),
        );
        check(
            |c| c.tid = None,
            1500,
            Err(VerifyError::MissingClaim("tid")),
        );
        check(
            |c| c.aud = vec!["other".into()],
            1500,
            Err(VerifyError::WrongAudience),
        );
        check(
            |c| c.aud = vec!["app".into(), "x".into()],
            1500,
            Err(VerifyError::WrongAudience),
        );
        check(
            |c| {
                c.aud = vec!["app".into(), "x".into()];
                c.azp = Some("app".into())
            },
            1500,
            Ok(()),
        );
        check(|_| {}, 2000 + LEEWAY_SECS, Err(VerifyError::Expired));
        check(|_| {}, 2000 + LEEWAY_SECS - 1, Ok(()));
        check(
            |c| c.nbf = Some(1500 + LEEWAY_SECS + 1),
            1500,
            Err(VerifyError::NotYetValid),
        );
        check(
            |c| c.iat = Some(1500 + LEEWAY_SECS + 1),
            1500,
            Err(VerifyError::NotYetValid),
        );
        check(
            |c| c.nonce = Some("n-2".into()),
            1500,
            Err(VerifyError::NonceMismatch),
        );
        check(|c| c.nonce = None, 1500, Err(VerifyError::NonceMismatch));
        check(
            |c| c.oid = None,
            1500,
            Err(VerifyError::MissingClaim("oid")),
        );
    }

    #[test]
    fn identity_is_tid_and_oid_never_the_email() {
        let iss = format!("https://login.example/{TENANT}/v2.0");
        let id = check_claims(&claims(), &expected(&iss), 1500).unwrap();
        assert_eq!(
            id.link,
            UpstreamLink::Entra {
                tid: TENANT.into(),
                oid: "00000000-0000-0000-0000-0000000000aa".into()
            }
        );
        assert_eq!(id.email.as_deref(), Some("ada@contoso.com"));
    }

    #[test]
    fn none_and_hmac_are_refused_before_any_key() {
        let jwks = JwkSet { keys: vec![] };
        // {"alg":"none"} . {} . (empty)
        let none = "eyJhbGciOiJub25lIn0.e30.";
        assert!(matches!(
            check_signature(none, &jwks),
            Err(VerifyError::AlgorithmNotAllowed)
        ));
        let hs = jsonwebtoken::encode(
            &jsonwebtoken::Header::new(Algorithm::HS256),
            &serde_json::json!({"iss": "x"}),
            &jsonwebtoken::EncodingKey::from_secret(b"public key bytes"),
        )
        .unwrap();
        assert_eq!(
            check_signature(&hs, &jwks).unwrap_err(),
            VerifyError::AlgorithmNotAllowed
        );
    }
}
