//! Pure checks of single values in the policy: durations, identifiers, URLs, GUIDs, domain
//! names, password hashes. Each returns the parsed value or a plain one-line reason that the
//! validator prefixes with the field's path. No I/O here.

use std::net::IpAddr;
use std::time::Duration;

use argon2::{ARGON2ID_IDENT, Params, PasswordHash};
use url::{Host, Url};

/// How the schema asks durations to be written.
const DURATION_HINT: &str = "write it like 60s, 10m, 8h or 30d";

/// A duration in the policy's one spelling: whole numbers with a unit `s`, `m`, `h` or `d`,
/// optionally combined without spaces (`1h30m`). Deliberately stricter than humantime, which
/// also reads `10 minutes`, `1.5h` and `2months` (a 30.44-day month).
pub(super) fn duration(text: &str) -> Result<Duration, String> {
    let not_a_duration = || format!("{text:?} is not a duration; {DURATION_HINT}");
    if text.is_empty() {
        return Err(not_a_duration());
    }
    let mut total: u64 = 0;
    let mut number: Option<u64> = None;
    for c in text.chars() {
        if let Some(digit) = c.to_digit(10) {
            let n = number.unwrap_or(0);
            number = Some(
                n.checked_mul(10)
                    .and_then(|n| n.checked_add(u64::from(digit)))
                    .ok_or_else(|| format!("{text:?} is far too long a duration"))?,
            );
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return Err(not_a_duration()),
        };
        let n = number.take().ok_or_else(not_a_duration)?;
        total = n
            .checked_mul(unit)
            .and_then(|s| total.checked_add(s))
            .ok_or_else(|| format!("{text:?} is far too long a duration"))?;
    }
    if number.is_some() {
        // Digits without a unit, e.g. `600`: seconds or minutes? Make the writer say.
        return Err(format!(
            "{text:?} has no unit; {DURATION_HINT} (s, m, h or d)"
        ));
    }
    Ok(Duration::from_secs(total))
}

/// A duration within `[min, max]`, or a reason naming the bound it broke and why.
pub(super) fn duration_within(
    text: &str,
    min: Duration,
    max: Duration,
    why_max: &str,
) -> Result<Duration, String> {
    let d = duration(text)?;
    if d.is_zero() {
        return Err(format!("{text} is zero; it must be at least {}", show(min)));
    }
    if d < min {
        return Err(format!(
            "{text} is too short; it must be at least {}",
            show(min)
        ));
    }
    if d > max {
        let why = if why_max.is_empty() {
            String::new()
        } else {
            format!(" ({why_max})")
        };
        return Err(format!(
            "{text} is too long; it must be at most {}{why}",
            show(max)
        ));
    }
    Ok(d)
}

/// A duration in the policy's own spelling, using the largest unit that divides it.
pub(super) fn show(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0 => "0s".into(),
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// Client, upstream and organisation ids: `[A-Za-z0-9._-]{1,64}`. They appear in URLs, logs
/// and store keys, so nothing that needs escaping.
pub(super) fn id(text: &str) -> Result<(), String> {
    if text.is_empty() {
        return Err("must not be empty".into());
    }
    if text.chars().count() > 64 {
        return Err(format!("{text:?} is longer than 64 characters"));
    }
    if let Some(bad) = text
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(format!(
            "{text:?} contains {bad:?}; use only letters, digits, '.', '_' and '-'"
        ));
    }
    Ok(())
}

/// The name of an environment variable (`[A-Za-z_][A-Za-z0-9_]*`). The value is never echoed
/// when it is not a name: it may be a secret pasted into the wrong key.
pub(super) fn env_name(text: &str) -> Result<(), String> {
    let mut chars = text.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if !first_ok || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') || text.len() > 255 {
        return Err(
            "takes the name of an environment variable (like HELPDESK_SECRET), not \
                    the secret itself"
                .into(),
        );
    }
    Ok(())
}

/// A GUID as Entra writes tenant, object and application ids; returned lower-case.
pub(super) fn guid(text: &str) -> Result<String, String> {
    crate::directory::entra_guid(text).ok_or_else(|| {
        format!("{text:?} is not a GUID; write it like 72f988bf-86f1-41af-91ab-2d7cd011db47")
    })
}

/// An email domain for home realm discovery: a DNS name in ASCII, returned lower-case.
pub(super) fn domain(text: &str) -> Result<String, String> {
    let d = text.trim().to_ascii_lowercase();
    if d.is_empty() {
        return Err("must not be empty".into());
    }
    if !d.is_ascii() {
        return Err(format!(
            "{text:?} is not ASCII; write an internationalised domain in its xn-- form"
        ));
    }
    if d.ends_with('.') {
        return Err(format!(
            "{text:?} ends with '.'; leave the trailing dot out"
        ));
    }
    if d.contains('@') {
        return Err(format!(
            "{text:?} is not a domain; write only the part after '@'"
        ));
    }
    // RFC 1035 §2.3.4 (253 characters in text form), RFC 1123 §2.1 (labels may start with a
    // digit).
    let labels_ok = d.len() <= 253
        && d.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if !labels_ok {
        return Err(format!(
            "{text:?} is not a valid domain name; write it like contoso.com"
        ));
    }
    Ok(d)
}

/// A normalised email address (trimmed, lower-case) with exactly one `@` between a non-empty
/// local part and a valid domain.
pub(super) fn email(text: &str) -> Result<String, String> {
    let e = text.trim().to_lowercase();
    let mut parts = e.split('@');
    let (Some(local), Some(dom), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(format!(
            "{text:?} is not an email address; it needs exactly one '@'"
        ));
    };
    if local.is_empty() || local.chars().any(char::is_whitespace) {
        return Err(format!("{text:?} is not an email address"));
    }
    domain(dom).map_err(|why| format!("{text:?} has a bad domain: {why}"))?;
    Ok(e)
}

/// A scope token, RFC 6749 §3.3: `1*( %x21 / %x23-5B / %x5D-7E )`.
pub(super) fn scope(text: &str) -> Result<(), String> {
    let ok = !text.is_empty()
        && text
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{text:?} is not a scope; a scope is one word without spaces, quotes or backslashes \
             (RFC 6749 §3.3)"
        ))
    }
}

/// An argon2id password hash in PHC form, as made by `idbroker hash-secret`. The hash is
/// never echoed.
pub(super) fn argon2id_phc(text: &str) -> Result<(), String> {
    const HINT: &str = "make one with `idbroker hash-secret`";
    let hash =
        PasswordHash::new(text).map_err(|e| format!("is not a PHC password hash ({e}); {HINT}"))?;
    if hash.algorithm != ARGON2ID_IDENT {
        return Err(format!(
            "uses {}, but only argon2id hashes are accepted; {HINT}",
            hash.algorithm
        ));
    }
    let params = Params::try_from(&hash)
        .map_err(|e| format!("has invalid argon2 parameters ({e}); {HINT}"))?;
    if hash.salt.is_none() || hash.hash.is_none() {
        return Err(format!("has no salt or no hash part; {HINT}"));
    }
    // Every sign-in attempt pays this cost, so an absurd hash is a denial of service.
    // The broker's verifier refuses the same (`password::MAX_*`): a hash it would not check.
    use crate::password::{MAX_M_COST, MAX_P_COST, MAX_T_COST};
    if params.m_cost() > MAX_M_COST || params.t_cost() > MAX_T_COST || params.p_cost() > MAX_P_COST
    {
        return Err(format!(
            "asks for more than 256 MiB, 16 passes or 16 lanes per verification; \
             use m=19456,t=2,p=1 ({HINT})"
        ));
    }
    Ok(())
}

/// Where an `http` URL is still acceptable: the loopback interface (RFC 8252 §7.3, and local
/// development).
fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

fn absolute_url(text: &str) -> Result<Url, String> {
    Url::parse(text).map_err(|e| match e {
        url::ParseError::RelativeUrlWithoutBase => {
            format!("{text:?} is not an absolute URL; write it with its scheme and host")
        }
        other => format!("{text:?} is not a URL ({other})"),
    })
}

/// The broker's own issuer: [`super::Issuer::parse`], and `https` unless it runs on loopback
/// (OIDC Discovery §3 requires https issuers).
pub(super) fn issuer(text: &str) -> Result<super::Issuer, String> {
    let issuer = super::Issuer::parse(text).map_err(|why| format!("{text:?}: {why}"))?;
    let url = absolute_url(text)?;
    if url.scheme() == "http" && !is_loopback_host(&url) {
        return Err(format!(
            "{text:?} uses http on a public host; use https (http only works for 127.0.0.1, \
             [::1] or localhost)"
        ));
    }
    Ok(issuer)
}

/// An upstream's issuer, authority or Graph base: an `https` URL (or `http` on loopback, for
/// tests) without query or fragment.
pub(super) fn service_url(text: &str) -> Result<Url, String> {
    let url = absolute_url(text)?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback_host(&url) => {}
        "http" => {
            return Err(format!("{text:?} uses http on a public host; use https"));
        }
        other => return Err(format!("{text:?} has scheme {other}; use https")),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("{text:?} has no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("{text:?} must not have a query or a fragment"));
    }
    Ok(url)
}

/// A redirect URI a client registers (also used for post-logout redirect URIs).
///
/// - RFC 6749 §3.1.2: absolute, without fragment.
/// - Web clients: `https`, or `http` on a loopback host for local development.
/// - Native clients (RFC 8252): claimed `https` (§7.2); a private-use scheme in reverse-domain
///   form (§7.1); or `http` on the loopback IP literal with no port, since any port matches at
///   run time (§7.3). `localhost` is refused for them (§8.3).
pub(super) fn redirect_uri(text: &str, native: bool) -> Result<Url, String> {
    let url = absolute_url(text)?;
    if url.fragment().is_some() {
        return Err(format!(
            "{text:?} has a fragment (#...); a redirect URI must not have one (RFC 6749 §3.1.2)"
        ));
    }
    match url.scheme() {
        "https" => {
            if url.host_str().is_none_or(str::is_empty) {
                return Err(format!("{text:?} has no host"));
            }
        }
        "http" if native => {
            let loopback_ip = match url.host() {
                Some(Host::Ipv4(ip)) => ip == std::net::Ipv4Addr::LOCALHOST,
                Some(Host::Ipv6(ip)) => ip == std::net::Ipv6Addr::LOCALHOST,
                _ => false,
            };
            if matches!(url.host(), Some(Host::Domain(d)) if d.eq_ignore_ascii_case("localhost")) {
                return Err(format!(
                    "{text:?} uses localhost; a native app must use the loopback IP literal, \
                     http://127.0.0.1/... or http://[::1]/... (RFC 8252 §8.3)"
                ));
            }
            if !loopback_ip {
                return Err(format!(
                    "{text:?} uses http on a host other than 127.0.0.1 or [::1]; a native app \
                     uses https, a loopback IP or a private-use scheme (RFC 8252 §7)"
                ));
            }
            if url.port().is_some() {
                return Err(format!(
                    "{text:?} has a port; register a native app's loopback redirect without \
                     one, since any port matches at run time (RFC 8252 §7.3)"
                ));
            }
        }
        "http" => {
            if !is_loopback_host(&url) {
                return Err(format!(
                    "{text:?} uses http on a public host; use https (http only works for \
                     127.0.0.1, [::1] or localhost)"
                ));
            }
        }
        scheme if native => {
            // RFC 8252 §7.1: a reverse domain name under the app's control, so it has a dot.
            if !scheme.contains('.') {
                return Err(format!(
                    "{text:?} has the private-use scheme {scheme:?}; it must be a reverse \
                     domain name such as com.example.app (RFC 8252 §7.1)"
                ));
            }
        }
        scheme => {
            return Err(format!(
                "{text:?} has the scheme {scheme:?}; private-use schemes are only for native \
                 apps (set native: true, RFC 8252 §7.1), web apps use https"
            ));
        }
    }
    Ok(url)
}

/// A Redis URL; the text is never echoed, since it may carry a password.
pub(super) fn redis_url(text: &str) -> Result<(), String> {
    const HINT: &str = "write it like redis://127.0.0.1:6379/0 or rediss://host:6380/0";
    let url = Url::parse(text).map_err(|e| format!("is not a URL ({e}); {HINT}"))?;
    match url.scheme() {
        "redis" | "rediss" => Ok(()),
        _ => Err(format!("must start with redis:// or rediss://; {HINT}")),
    }
}

/// `store.url` of a Redis store: one URL, or for Sentinel and Cluster (`several`) one or
/// more separated by commas.
pub(super) fn redis_urls(text: &str, several: bool) -> Result<(), String> {
    if !several && text.contains(',') {
        return Err(
            "holds several URLs; only topology sentinel or cluster takes a list".to_owned(),
        );
    }
    for one in text.split(',') {
        redis_url(one.trim())?;
    }
    Ok(())
}

/// A trusted proxy address.
pub(super) fn ip(text: &str) -> Result<IpAddr, String> {
    text.parse().map_err(|_| {
        if text.contains('/') {
            format!("{text:?} is a range; list each proxy's address on its own")
        } else {
            format!("{text:?} is not an IP address")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_use_one_strict_spelling() {
        let ok = [
            ("60s", 60),
            ("10m", 600),
            ("8h", 28_800),
            ("30d", 2_592_000),
            ("1h30m", 5400),
            ("0s", 0),
        ];
        for (text, secs) in ok {
            assert_eq!(duration(text), Ok(Duration::from_secs(secs)), "{text}");
        }
        for bad in [
            "",
            "10",
            "10 minutes",
            "1.5h",
            "-5m",
            "2M",
            "m",
            "10m ",
            "5w",
        ] {
            assert!(duration(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(duration("99999999999999999999d").is_err());
        assert!(duration("999999999999999999d").is_err());
    }

    #[test]
    fn shown_durations_read_back() {
        for secs in [1, 59, 60, 90, 3600, 5400, 86_400, 2_592_000] {
            let d = Duration::from_secs(secs);
            assert_eq!(duration(&show(d)), Ok(d));
        }
        assert_eq!(show(Duration::from_secs(600)), "10m");
    }

    #[test]
    fn guids_are_normalised_to_lower_case() {
        assert_eq!(
            guid("72F988BF-86F1-41AF-91AB-2D7CD011DB47").as_deref(),
            Ok("72f988bf-86f1-41af-91ab-2d7cd011db47")
        );
        for bad in [
            "72f988bf86f141af91ab2d7cd011db47",
            "72f988bf-86f1-41af-91ab-2d7cd011db4",
            "72f988bg-86f1-41af-91ab-2d7cd011db47",
            "{72f988bf-86f1-41af-91ab-2d7cd011db47}",
        ] {
            assert!(guid(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn domains_and_emails() {
        assert_eq!(domain(" Contoso.COM ").as_deref(), Ok("contoso.com"));
        for bad in [
            "",
            "contoso.com.",
            "-a.com",
            "a..com",
            "bücher.de",
            "a_b.com",
            "x@y.com",
        ] {
            assert!(domain(bad).is_err(), "{bad}");
        }
        assert_eq!(email(" Ops@Example.COM ").as_deref(), Ok("ops@example.com"));
        for bad in [
            "ops",
            "a@b@c.com",
            "@example.com",
            "ops@",
            "o ps@example.com",
        ] {
            assert!(email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn env_names_never_echo_a_pasted_secret() {
        assert!(env_name("HELPDESK_SECRET").is_ok());
        assert!(env_name("_X1").is_ok());
        let why = env_name("hunter2!").unwrap_err();
        assert!(!why.contains("hunter2"), "{why}");
        assert!(env_name("1ABC").is_err());
        assert!(env_name("").is_err());
    }

    #[test]
    fn redirect_uri_rules() {
        let ok = [
            ("https://app.example.com/cb", false),
            ("http://127.0.0.1:9000/callback", false),
            ("http://localhost:3000/cb", false),
            ("http://[::1]:8080/cb", false),
            ("http://127.0.0.1/cb", true),
            ("http://[::1]/cb", true),
            ("com.example.app:/cb", true),
            ("https://app.example.com/cb", true),
        ];
        for (uri, native) in ok {
            assert!(redirect_uri(uri, native).is_ok(), "{uri} native={native}");
        }
        let bad = [
            ("http://app.example.com/cb", false, "public host"),
            ("https://app.example.com/cb#x", false, "fragment"),
            ("/cb", false, "absolute"),
            ("com.example.app:/cb", false, "native"),
            ("http://localhost/cb", true, "localhost"),
            ("http://127.0.0.1:8080/cb", true, "port"),
            ("http://127.0.0.2/cb", true, "127.0.0.1"),
            ("myapp:/cb", true, "reverse"),
            ("javascript:alert(1)", false, "native"),
        ];
        for (uri, native, why) in bad {
            let got = redirect_uri(uri, native).unwrap_err();
            assert!(got.contains(why), "{uri}: {got}");
        }
    }

    #[test]
    fn argon2id_hashes_only() {
        let good = crate::password::hash_blocking("pw").unwrap();
        assert_eq!(argon2id_phc(&good), Ok(()));
        let argon2i = good.replacen("$argon2id$", "$argon2i$", 1);
        assert!(argon2id_phc(&argon2i).unwrap_err().contains("argon2id"));
        assert!(argon2id_phc("$2b$12$abcdefghijklmnopqrstuv").is_err());
        assert!(argon2id_phc("not a hash").is_err());
        let huge = good.replacen("m=19456", "m=4194304", 1);
        assert!(argon2id_phc(&huge).unwrap_err().contains("256 MiB"));
    }
}
