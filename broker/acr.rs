//! Authentication context classes: the `acr` values the broker asserts in ID tokens
//! (OIDC Core §2), which sign-ins achieve which class, and what to assert for a request.
//!
//! A class says how the user signed in, as the broker knows it: with the local password, or
//! through the organisation's identity provider (whose own checks, MFA included, the broker
//! does not see). The values are URNs, as OIDC Core §2 asks of `acr` values ("absolute URIs
//! or RFC 6711 registered names"); they are not ordered levels, since neither class is
//! stronger than the other in general. A class is a set membership: a sign-in *achieves*
//! a list of classes, and satisfies a request for any of them. A later sign-in method adds
//! its class to [`SUPPORTED`] and to what [`achieved`] returns: a password with a second
//! factor would achieve `[MFA, PASSWORD]`, so it still satisfies a request for `PASSWORD`.
//!
//! A leaf of the crate: `policy` checks client settings against [`SUPPORTED`], `op` lists
//! them in discovery, the services decide with [`decide`]. Pure: no I/O, no clock.

use crate::directory::Authentication;

/// A sign-in with the broker's own password step (`amr: ["pwd"]`).
pub const PASSWORD: &str = "urn:idbroker:acr:pwd";
/// A sign-in at the organisation's identity provider, through SSO or a token exchange of
/// its token (`amr: ["fed"]`).
pub const SSO: &str = "urn:idbroker:acr:sso";

/// A sign-in with two factors at the broker (`amr` has `mfa`, RFC 8176 §2): a password and a
/// one-time code, or a passkey with user verification.
pub const MFA: &str = "urn:idbroker:acr:mfa";

/// Every value the broker can assert: `acr_values_supported` (OIDC Discovery §3), and the
/// only values a client's `default_acr_values` / `required_acr_values` may name.
pub const SUPPORTED: &[&str] = &[PASSWORD, SSO, MFA];

/// The classes a sign-in achieves, the most specific first (empty when its methods are
/// unknown: no class is claimed for them).
pub fn achieved(auth: &Authentication) -> &'static [&'static str] {
    let has = |method: &str| auth.amr.iter().any(|m| m == method);
    if has("fed") {
        &[SSO]
    } else if has("mfa") && has("pwd") {
        &[MFA, PASSWORD]
    } else if has("mfa") {
        &[MFA]
    } else if has("pwd") {
        &[PASSWORD]
    } else {
        &[]
    }
}

/// What to do about `acr` for one grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Nobody asked: the ID token has no `acr`.
    Unasked,
    /// Put this value in the ID token.
    Assert(&'static str),
    /// The client requires a class this sign-in did not achieve: refuse
    /// (`unmet_authentication_requirements` at `/authorize`, OpenID Connect Core Error
    /// Code unmet_authentication_requirements 1.0 §2).
    Unmet,
}

/// Decides the `acr` of a grant from how the user signed in (`auth`), the request's
/// `acr_values` (`requested`, in order of preference; OIDC Core §3.1.2.1), and the client's
/// `default_acr_values` (used when the request names none, OIDC Registration §2) and
/// `required_acr_values` (one of them must be achieved).
///
/// Requested and default values are voluntary (OIDC Core §3.1.2.1: "requested as a
/// Voluntary Claim"): the first one achieved is asserted, and when none is, the class the
/// sign-in did achieve is, never one it did not. Required values are essential: a sign-in
/// achieving none of them is refused rather than given a token that claims another class
/// (OIDC Core §5.5.1.1: "MUST treat that outcome as a failed authentication attempt").
pub fn decide(
    auth: &Authentication,
    requested: &[String],
    default: &[String],
    required: &[String],
) -> Decision {
    let achieved = achieved(auth);
    let allowed = |v: &str| required.is_empty() || required.iter().any(|r| r == v);
    if !required.is_empty() && !achieved.iter().any(|a| allowed(a)) {
        return Decision::Unmet;
    }
    let wanted = if requested.is_empty() {
        default
    } else {
        requested
    };
    if wanted.is_empty() && required.is_empty() {
        return Decision::Unasked;
    }
    let pick = wanted
        .iter()
        .find_map(|w| achieved.iter().find(|a| **a == w.as_str() && allowed(a)))
        .or_else(|| achieved.iter().find(|a| allowed(a)));
    match pick {
        Some(value) => Decision::Assert(value),
        None => Decision::Unasked,
    }
}

/// The values of an `acr_values` parameter the broker knows, in the request's order
/// (OIDC Core §3.1.2.1: space-separated). Others cannot be achieved and are dropped, so a
/// stored login transaction holds at most [`SUPPORTED`].
pub fn parse_requested(acr_values: Option<&str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in acr_values.unwrap_or("").split(' ') {
        if SUPPORTED.contains(&v) && !out.iter().any(|o| o == v) {
            out.push(v.to_owned());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(amr: &str) -> Authentication {
        Authentication {
            auth_time: 1,
            amr: amr.split('+').map(str::to_owned).collect(),
            idp: (amr == "fed").then(|| "entra".to_owned()),
            organization: None,
            acr: None,
        }
    }

    fn list(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn decisions() {
        use Decision::*;
        // (amr, requested, default, required, decision)
        type Case = (&'static str, Vals, Vals, Vals, Decision);
        type Vals = &'static [&'static str];
        let cases: &[Case] = &[
            ("pwd", &[], &[], &[], Unasked),
            ("fed", &[], &[], &[], Unasked),
            ("pwd", &[PASSWORD], &[], &[], Assert(PASSWORD)),
            ("fed", &[SSO], &[], &[], Assert(SSO)),
            // Voluntary and not achieved: the class achieved, never the one asked for.
            ("pwd", &[SSO], &[], &[], Assert(PASSWORD)),
            ("fed", &[PASSWORD], &[], &[], Assert(SSO)),
            // The request's order of preference, among what was achieved.
            ("fed", &[PASSWORD, SSO], &[], &[], Assert(SSO)),
            // The client's defaults when the request names none; the request wins.
            ("pwd", &[], &[PASSWORD], &[], Assert(PASSWORD)),
            ("fed", &[SSO], &[PASSWORD], &[], Assert(SSO)),
            // Required: met, or refused.
            ("fed", &[], &[], &[SSO], Assert(SSO)),
            ("pwd", &[], &[], &[SSO], Unmet),
            ("pwd", &[PASSWORD], &[], &[SSO], Unmet),
            ("pwd", &[], &[], &[SSO, PASSWORD], Assert(PASSWORD)),
            // A requested value outside the required ones is not asserted.
            ("fed", &[PASSWORD], &[], &[SSO], Assert(SSO)),
            // An unknown method achieves nothing: no claim, and no requirement is met.
            ("otp", &[PASSWORD], &[], &[], Unasked),
            ("otp", &[], &[], &[PASSWORD], Unmet),
            // A second factor: MFA, and still a password sign-in; a passkey is MFA alone.
            ("pwd+otp+mfa", &[MFA], &[], &[], Assert(MFA)),
            ("pwd+otp+mfa", &[], &[], &[PASSWORD], Assert(PASSWORD)),
            ("pwd+otp+mfa", &[], &[], &[MFA], Assert(MFA)),
            ("pwd", &[], &[], &[MFA], Unmet),
            ("hwk+user+mfa", &[PASSWORD], &[], &[], Assert(MFA)),
            ("hwk+user+mfa", &[], &[], &[PASSWORD], Unmet),
        ];
        for (amr, requested, default, required, expect) in cases {
            assert_eq!(
                decide(
                    &auth(amr),
                    &list(requested),
                    &list(default),
                    &list(required)
                ),
                *expect,
                "amr {amr}, requested {requested:?}, default {default:?}, required {required:?}"
            );
        }
    }

    #[test]
    fn requested_values_keep_the_known_ones_in_order_once() {
        assert_eq!(
            parse_requested(Some(&format!("1 {SSO} urn:x {PASSWORD} {SSO}"))),
            list(&[SSO, PASSWORD])
        );
        assert!(parse_requested(Some("0 1 2")).is_empty());
        assert!(parse_requested(None).is_empty());
    }
}
