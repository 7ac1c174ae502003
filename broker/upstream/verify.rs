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
    /// RFC 8693 exchange: the token was obtained by an application the policy does not list.
    #[error("the token was obtained by an application not allowed to exchange it")]
    AppNotAllowed,
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
            VerifyError::AppNotAllowed => "app_not_allowed",
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
    /// The organisation's `domains`, taken as the domains verified in its Entra tenant: an
    /// address in `preferred_username` (the UPN, whose suffix Entra requires to be a
    /// verified domain of the tenant) counts as verified when its domain is one of them.
    pub verified_domains: &'a [String],
    /// The claim that lists the user's groups (`groups`; a generic provider's may differ).
    pub groups_claim: &'a str,
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
    /// OIDC Core §5.1 `email_verified` (generic OIDC providers).
    pub email_verified: Option<bool>,
    /// Entra's optional claim: the `email` domain is verified by the tenant that owns it.
    pub xms_edov: Option<bool>,
    /// Entra v1 tokens: the client application that obtained the token (v2: `azp`).
    pub appid: Option<String>,
    /// Entra's unique token identifier; `jti` elsewhere (RFC 7519 §4.1.7).
    pub uti: Option<String>,
    pub jti: Option<String>,
    /// Every other claim: the groups claim, whose name a generic provider chooses, and
    /// Entra's overage markers (`_claim_names`, `hasgroups`).
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// What an upstream ID token says of the user's groups.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum GroupsClaim {
    /// No groups claim: the app registration does not emit one, or the user has none.
    #[default]
    Absent,
    /// The groups, as the token lists them (Entra: object ids).
    Listed(Vec<String>),
    /// Too many to list: Entra left them out (`_claim_names.groups` in a JWT past 200
    /// groups, or `hasgroups: true`); Graph has them.
    Overage,
}

/// The most groups read from a token's claim; a longer list is refused as malformed.
pub const MAX_TOKEN_GROUPS: usize = 10_000;

/// Reads the groups of `claims` from the claim named `name`.
pub fn groups_claim(claims: &UpstreamClaims, name: &str) -> GroupsClaim {
    use serde_json::Value;
    let overage = claims
        .other
        .get("_claim_names")
        .and_then(|n| n.get("groups"))
        .is_some()
        || claims.other.get("hasgroups") == Some(&Value::Bool(true));
    if overage {
        return GroupsClaim::Overage;
    }
    match claims.other.get(name) {
        Some(Value::Array(items)) if items.len() <= MAX_TOKEN_GROUPS => GroupsClaim::Listed(
            items
                .iter()
                .filter_map(Value::as_str)
                .map(|g| g.trim().to_owned())
                .filter(|g| !g.is_empty() && g.len() <= 256)
                .collect(),
        ),
        // Some providers send one group as a string.
        Some(Value::String(g)) if !g.trim().is_empty() && g.len() <= 256 => {
            GroupsClaim::Listed(vec![g.trim().to_owned()])
        }
        _ => GroupsClaim::Absent,
    }
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
    /// Whether the upstream vouches for `email` (see [`email_is_verified`]).
    pub email_verified: bool,
    /// The application that obtained the token: `azp`, else Entra's v1 `appid`.
    pub client_app: Option<String>,
    /// The token's own id (`uti`, else `jti`), for replay detection.
    pub token_id: Option<String>,
    pub exp: UnixTime,
    pub groups: GroupsClaim,
    /// The standard claims of OIDC Core §5.1 the token carries, for the `profile` scope.
    pub profile: crate::directory::Profile,
}

/// The OIDC Core §5.1 profile claims of `claims` (strings of at most 256 characters;
/// `picture` only as an `https` URL).
pub fn profile_claims(claims: &UpstreamClaims) -> crate::directory::Profile {
    let text = |name: &str| {
        claims
            .other
            .get(name)
            .and_then(serde_json::Value::as_str)
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.chars().count() <= 256)
            .map(str::to_owned)
    };
    crate::directory::Profile {
        given_name: text("given_name"),
        family_name: text("family_name"),
        preferred_username: claims
            .preferred_username
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.chars().count() <= 256)
            .map(str::to_owned),
        locale: text("locale"),
        zoneinfo: text("zoneinfo"),
        picture: text("picture").filter(|p| p.starts_with("https://")),
    }
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
    let email_verified = email
        .as_deref()
        .is_some_and(|e| email_is_verified(claims, expected, e));
    Ok(VerifiedIdentity {
        link,
        email,
        name: claims.name.clone(),
        email_verified,
        client_app: claims.azp.clone().or_else(|| claims.appid.clone()),
        token_id: claims.uti.clone().or_else(|| claims.jti.clone()),
        exp: claims.exp,
        groups: groups_claim(claims, expected.groups_claim),
        profile: profile_claims(claims),
    })
}

/// Whether the upstream vouches for `address` (the identity's lower-cased email).
///
/// - Generic OIDC: `email_verified: true` (OIDC Core §5.1) with the `email` claim.
/// - Entra: the `email` claim only with `xms_edov: true` (the mail attribute can hold any
///   address, unproven, unless Entra says its domain is verified); the `preferred_username`
///   (the UPN) when its domain is one of the organisation's `domains`.
pub fn email_is_verified(claims: &UpstreamClaims, expected: &Expected<'_>, address: &str) -> bool {
    let same = |claim: &Option<String>| {
        claim
            .as_deref()
            .is_some_and(|c| c.trim().eq_ignore_ascii_case(address))
    };
    match expected.tenant_id {
        None => same(&claims.email) && claims.email_verified == Some(true),
        Some(_) => {
            let by_edov = same(&claims.email) && claims.xms_edov == Some(true);
            let domain = address.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
            let by_upn = same(&claims.preferred_username)
                && expected.verified_domains.iter().any(|d| d == domain);
            by_edov || by_upn
        }
    }
}

/// RFC 8693 exchange: the application that obtained the token (`azp`, or `appid`; an ID
/// token has neither, its `aud` — already checked to be ours — is that application) must
/// be our own app registration or one the policy lists.
pub fn check_exchange_app(
    identity: &VerifiedIdentity,
    own_client_id: &str,
    allowed: &[String],
) -> Result<(), VerifyError> {
    match identity.client_app.as_deref() {
        None => Ok(()),
        Some(app) if app.eq_ignore_ascii_case(own_client_id) => Ok(()),
        Some(app) if allowed.iter().any(|a| a.eq_ignore_ascii_case(app)) => Ok(()),
        Some(_) => Err(VerifyError::AppNotAllowed),
    }
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
            email_verified: None,
            xms_edov: None,
            appid: None,
            uti: Some("uti-1".into()),
            jti: None,
            other: serde_json::Map::new(),
        }
    }

    fn expected(iss: &str) -> Expected<'_> {
        Expected {
            issuer: iss,
            tenant_id: Some(TENANT),
            audience: "app",
            nonce: Some("n-1"),
            verified_domains: &[],
            groups_claim: "groups",
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
    fn an_email_is_verified_only_when_the_upstream_vouches_for_it() {
        let iss = format!("https://login.example/{TENANT}/v2.0");
        let domains = ["contoso.com".to_owned()];
        let verified = |edit: &dyn Fn(&mut UpstreamClaims), domains: &[String]| {
            let mut c = claims();
            edit(&mut c);
            let e = Expected {
                verified_domains: domains,
                ..expected(&iss)
            };
            let id = check_claims(&c, &e, 1500).unwrap();
            (id.email.unwrap_or_default(), id.email_verified)
        };
        // The UPN, in one of the organisation's domains: verified; in another: not.
        assert_eq!(
            verified(&|_| {}, &domains),
            ("ada@contoso.com".into(), true)
        );
        assert_eq!(verified(&|_| {}, &[]), ("ada@contoso.com".into(), false));
        // The `email` claim is verified only with xms_edov, whatever its domain.
        let mail = |c: &mut UpstreamClaims| c.email = Some("a.l@contoso.com".into());
        assert_eq!(verified(&mail, &domains), ("a.l@contoso.com".into(), false));
        let edov = |c: &mut UpstreamClaims| {
            c.email = Some("a.l@contoso.com".into());
            c.xms_edov = Some(true);
        };
        assert_eq!(verified(&edov, &[]), ("a.l@contoso.com".into(), true));
        // The same address in `email` and the UPN: the UPN rule applies.
        let both = |c: &mut UpstreamClaims| c.email = Some("ADA@contoso.com".into());
        assert_eq!(verified(&both, &domains), ("ada@contoso.com".into(), true));
        // Generic OIDC: `email_verified` only.
        let oidc = Expected {
            tenant_id: None,
            verified_domains: &domains,
            ..expected(&iss)
        };
        let mut c = claims();
        c.email = Some("bob@contoso.com".into());
        assert!(!check_claims(&c, &oidc, 1500).unwrap().email_verified);
        c.email_verified = Some(true);
        assert!(check_claims(&c, &oidc, 1500).unwrap().email_verified);
    }

    #[test]
    fn exchanged_tokens_come_from_our_app_or_a_listed_one() {
        let iss = format!("https://login.example/{TENANT}/v2.0");
        let with = |azp: Option<&str>, appid: Option<&str>| {
            let mut c = claims();
            c.azp = azp.map(str::to_owned);
            c.appid = appid.map(str::to_owned);
            check_claims(&c, &expected(&iss), 1500).unwrap()
        };
        let listed = ["agent".to_owned()];
        assert_eq!(check_exchange_app(&with(None, None), "app", &[]), Ok(()));
        assert_eq!(
            check_exchange_app(&with(Some("APP"), None), "app", &[]),
            Ok(())
        );
        assert_eq!(
            check_exchange_app(&with(Some("agent"), None), "app", &listed),
            Ok(())
        );
        assert_eq!(
            check_exchange_app(&with(Some("agent"), None), "app", &[]),
            Err(VerifyError::AppNotAllowed)
        );
        assert_eq!(
            check_exchange_app(&with(None, Some("other")), "app", &listed),
            Err(VerifyError::AppNotAllowed)
        );
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

    #[test]
    fn groups_are_read_from_the_named_claim_and_overage_is_recognised() {
        let mut c = claims();
        assert_eq!(groups_claim(&c, "groups"), GroupsClaim::Absent);
        c.other
            .insert("groups".into(), serde_json::json!(["g1", " g2 ", "", 7]));
        assert_eq!(
            groups_claim(&c, "groups"),
            GroupsClaim::Listed(vec!["g1".into(), "g2".into()])
        );
        assert_eq!(groups_claim(&c, "roles"), GroupsClaim::Absent);
        c.other.insert("roles".into(), serde_json::json!("admins"));
        assert_eq!(
            groups_claim(&c, "roles"),
            GroupsClaim::Listed(vec!["admins".into()])
        );
        // Entra's JWT overage: `groups` is gone, `_claim_names` points at Graph.
        let mut o = claims();
        o.other
            .insert("_claim_names".into(), serde_json::json!({"groups": "src1"}));
        assert_eq!(groups_claim(&o, "groups"), GroupsClaim::Overage);
        let mut h = claims();
        h.other.insert("hasgroups".into(), serde_json::json!(true));
        assert_eq!(groups_claim(&h, "groups"), GroupsClaim::Overage);
    }
}
