//! One-time codes as a second factor (TOTP, RFC 6238) as pure rules: the parameters every
//! authenticator app supports, checking a code at a given time, the `otpauth://` URL,
//! recovery codes, and whether a sign-in must use a second factor.
//!
//! A leaf like `acr`: the services call it with the time from the broker's clock and keep
//! what it returns (the secret, the time step accepted, the codes' digests) in the store.

use totp_rs::{Algorithm, Builder, Secret, Totp};

use crate::directory::User;
use crate::policy::{Client, Policy};
use crate::secret::{digest, random_bytes};

/// Digits of a code (RFC 4226 §5.3: at least 6; what every app shows).
pub const DIGITS: u8 = 6;
/// The time step X in seconds (RFC 6238 §5.2 recommends 30).
pub const STEP_SECS: u64 = 30;
/// Steps accepted either side of the current one for clock drift (RFC 6238 §6: "at most one
/// time step").
pub const SKEW: u16 = 1;
/// How many recovery codes an enrolment gives.
pub const RECOVERY_CODES: usize = 10;
/// Characters of one recovery code (before the display's dash).
const RECOVERY_LEN: usize = 10;
/// Crockford's base32 alphabet in lower case: no i, l, o, u, easy to read back and type.
const RECOVERY_ALPHABET: &[u8] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// The secret or the names do not make a valid code generator.
#[derive(Debug, thiserror::Error)]
#[error("one-time code setup refused: {0}")]
pub struct MfaError(String);

/// A fresh shared secret: 160 random bits (RFC 4226 §4 R6), base32 without padding.
pub fn new_secret() -> String {
    Secret::from(random_bytes::<20>()).to_base32()
}

/// The generator of `secret` (base32) for `account` at `issuer`. A colon is the label's
/// separator in the `otpauth` URL, so one in either name becomes a space.
fn generator(secret: &str, issuer: &str, account: &str) -> Result<Totp, MfaError> {
    let secret = Secret::try_from_base32(secret).map_err(|e| MfaError(e.to_string()))?;
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(DIGITS)
        .with_skew(SKEW)
        .with_step_duration(STEP_SECS)
        .with_secret(secret)
        .with_issuer(Some(issuer.replace(':', " ")))
        .with_account_name(account.replace(':', " "))
        .build()
        .map_err(|e| MfaError(e.to_string()))
}

/// The `otpauth://totp/…` URL an authenticator app reads from the QR code.
pub fn otpauth_url(secret: &str, issuer: &str, account: &str) -> Result<String, MfaError> {
    generator(secret, issuer, account)?
        .to_url()
        .map_err(|e| MfaError(e.to_string()))
}

/// The time step of `code` if it is right at `now` (± [`SKEW`] steps), else `None`. Spaces
/// the user typed are ignored. Whether the step was used before is the caller's check
/// (RFC 6238 §5.2).
pub fn check(secret: &str, code: &str, now: u64) -> Option<u64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != usize::from(DIGITS) || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // The names are not part of the code (RFC 6238 §4): any valid ones do.
    generator(secret, "idbroker", "user")
        .ok()?
        .check(&code, now)
}

/// The code of `secret` at `now` (for tests and tools).
pub fn code_at(secret: &str, now: u64) -> Option<String> {
    Some(
        generator(secret, "idbroker", "user")
            .ok()?
            .generate(now)
            .to_string(),
    )
}

/// Whether `input` is shaped like a one-time code rather than a recovery code.
pub fn is_code_shaped(input: &str) -> bool {
    let digits = input.chars().filter(|c| !c.is_whitespace()).count();
    digits == usize::from(DIGITS)
        && input
            .chars()
            .all(|c| c.is_ascii_digit() || c.is_whitespace())
}

/// Ten fresh recovery codes as shown to the user (`xxxxx-xxxxx`), and their digests to
/// store. Each has 50 random bits, so a plain SHA-256 is enough to keep them (no password
/// hashing: nothing to guess offline).
pub fn new_recovery_codes() -> (Vec<String>, Vec<String>) {
    let shown: Vec<String> = (0..RECOVERY_CODES)
        .map(|_| {
            let bytes = random_bytes::<RECOVERY_LEN>();
            let code: String = bytes
                .iter()
                .map(|b| char::from(RECOVERY_ALPHABET[usize::from(b & 31)]))
                .collect();
            format!("{}-{}", &code[..5], &code[5..])
        })
        .collect();
    let digests = shown.iter().filter_map(|c| recovery_digest(c)).collect();
    (shown, digests)
}

/// The digest of a recovery code as typed (case, dashes and spaces ignored), or `None`
/// when it cannot be one.
pub fn recovery_digest(input: &str) -> Option<String> {
    let code: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let valid = code.len() == RECOVERY_LEN && code.bytes().all(|b| RECOVERY_ALPHABET.contains(&b));
    valid.then(|| digest(&code))
}

/// Whether a password sign-in of `user` for `client` must add a second factor, so that a
/// user without one sets it up: the user (`users[].mfa`), their organisation
/// (`organizations[].mfa`), the client (`clients[].mfa`, or `urn:idbroker:acr:mfa` among its
/// `required_acr_values`), or everyone local (`mfa.required`). A request's `acr_values` is
/// voluntary (OIDC Core §3.1.2.1) and forces nothing: a user with codes is asked for one
/// anyway, and the ID token's `acr` says what the sign-in achieved.
pub fn required(policy: &Policy, user: &User, client: Option<&Client>) -> bool {
    let asks_mfa = |values: &[String]| values.iter().any(|v| v == crate::acr::MFA);
    policy.mfa.required
        || policy.mfa_users.contains(&user.email)
        || user
            .organization
            .as_deref()
            .and_then(|o| policy.org_by_id.get(o))
            .is_some_and(|o| o.mfa_required)
        || client.is_some_and(|c| c.mfa_required || asks_mfa(&c.acr.required))
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 6238 Appendix B's SHA-1 secret "12345678901234567890", in base32.
    const RFC_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

    #[test]
    fn codes_match_rfc_6238_appendix_b() {
        // Appendix B gives 8 digits; the last 6 are the 6-digit code (RFC 4226 §5.3).
        for (time, eight) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_234_567_890, "89005924"),
        ] {
            assert_eq!(code_at(RFC_SECRET, time).unwrap(), eight[2..]);
            assert_eq!(check(RFC_SECRET, &eight[2..], time), Some(time / 30));
        }
    }

    #[test]
    fn the_neighbouring_steps_are_accepted_and_no_further() {
        let now = 1_750_000_000;
        let code = code_at(RFC_SECRET, now).unwrap();
        assert_eq!(check(RFC_SECRET, &code, now + 30), Some(now / 30));
        assert_eq!(check(RFC_SECRET, &code, now - 30), Some(now / 30));
        assert_eq!(check(RFC_SECRET, &code, now + 60), None);
        assert_eq!(check(RFC_SECRET, &code, now - 60), None);
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert_eq!(check(RFC_SECRET, &spaced, now), Some(now / 30));
        for bad in ["", "12345", "1234567", "abcdef", "１２３４５６"] {
            assert_eq!(check(RFC_SECRET, bad, now), None, "{bad}");
        }
    }

    #[test]
    fn the_url_names_issuer_and_account() {
        let url = otpauth_url(RFC_SECRET, "Example: Login", "ana@example.com").unwrap();
        assert!(
            url.starts_with("otpauth://totp/Example%20%20Login:ana%40example.com?"),
            "{url}"
        );
        assert!(url.contains(&format!("secret={RFC_SECRET}")), "{url}");
        assert!(url.contains("issuer=Example"), "{url}");
    }

    #[test]
    fn recovery_codes_are_ten_distinct_and_typed_loosely() {
        let (shown, digests) = new_recovery_codes();
        assert_eq!(shown.len(), RECOVERY_CODES);
        assert_eq!(digests.len(), RECOVERY_CODES);
        let mut unique = digests.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), RECOVERY_CODES);
        let typed = shown[0].to_uppercase().replace('-', " ");
        assert_eq!(recovery_digest(&typed).as_ref(), Some(&digests[0]));
        assert_eq!(recovery_digest("short"), None);
        assert_eq!(recovery_digest("iiiii-lllll"), None);
        assert!(is_code_shaped("123 456"));
        assert!(!is_code_shaped(&shown[0]));
    }

    #[test]
    fn a_second_factor_is_required_by_user_organisation_client_request_or_for_everyone() {
        let yaml = |extra: &str| {
            format!(
                "issuer: https://login.example.com\n\
                 organizations:\n  - id: strict\n    domains: [strict.example]\n    mfa: required\n  \
                 - id: relaxed\n    domains: [relaxed.example]\n\
                 clients:\n  - id: payroll\n    redirect_uris: [https://p.example/cb]\n    mfa: required\n  \
                 - id: hr\n    redirect_uris: [https://h.example/cb]\n    required_acr_values: [urn:idbroker:acr:mfa]\n  \
                 - id: wiki\n    redirect_uris: [https://w.example/cb]\n\
                 users:\n  - email: ann@relaxed.example\n    organization: relaxed\n    mfa: required\n  \
                 - email: bob@relaxed.example\n    organization: relaxed\n  \
                 - email: cy@strict.example\n    organization: strict\n{extra}"
            )
        };
        let user = |email: &str, org: &str| -> User {
            serde_json::from_value(serde_json::json!({
                "id": email, "email": email, "name": "x", "organization": org,
                "password_hash": null, "link": null, "sso": false, "disabled": false,
                "source": "policy", "created_at": 0, "updated_at": 0, "tokens_valid_after": 0,
            }))
            .unwrap()
        };
        let path = std::path::Path::new("test.yaml");
        let policy = crate::policy::load_str(path, &yaml("")).unwrap();
        let client = |id: &str| policy.client(id).map(|c| &**c);
        let (ann, bob, cy) = (
            user("ann@relaxed.example", "relaxed"),
            user("bob@relaxed.example", "relaxed"),
            user("cy@strict.example", "strict"),
        );
        assert!(required(&policy, &ann, client("wiki")), "the user");
        assert!(required(&policy, &cy, client("wiki")), "the organisation");
        assert!(!required(&policy, &bob, client("wiki")), "nobody asks");
        assert!(required(&policy, &bob, client("payroll")), "the client");
        assert!(required(&policy, &bob, client("hr")), "the client's acr");
        let everyone = crate::policy::load_str(path, &yaml("mfa: {required: true}\n")).unwrap();
        assert!(required(&everyone, &bob, None), "everyone local");
    }

    #[test]
    fn a_new_secret_has_160_bits() {
        let s = new_secret();
        assert_eq!(Secret::try_from_base32(&s).unwrap().as_ref().len(), 20);
        assert_ne!(s, new_secret());
    }
}
