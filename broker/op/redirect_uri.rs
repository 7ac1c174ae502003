//! Redirect URI matching. The broker never redirects to a URI that is not registered.
//!
//! RFC 6749 §3.1.2.3 and RFC 9700 §4.1.3: exact matching, no prefixes, no wildcards. Both
//! sides are compared as parsed URLs, which equates only spellings of the same URL
//! (`HTTPS://App.example` and `https://app.example/`). The one relaxation is RFC 8252 §7.3:
//! for a native client, a loopback IP redirect matches with any port.

use url::{Host, Url};

use crate::policy::Client;

/// The registered redirect URI that `requested` matches for `client`, with the port taken from
/// the request in the loopback case. `None` means: show an error page, do not redirect.
pub fn match_redirect(client: &Client, requested: &str) -> Option<Url> {
    let requested = Url::parse(requested).ok()?;
    // RFC 6749 §3.1.2: the endpoint URI MUST NOT include a fragment component.
    if requested.fragment().is_some() {
        return None;
    }
    for registered in &client.redirect_uris {
        if *registered == requested {
            return Some(registered.clone());
        }
        if client.native && is_loopback_ip(registered) && loopback_equal(registered, &requested) {
            return Some(requested);
        }
    }
    None
}

/// A `post_logout_redirect_uri` is matched exactly (OIDC RP-Initiated Logout §3).
pub fn match_post_logout(client: &Client, requested: &str) -> Option<Url> {
    let requested = Url::parse(requested).ok()?;
    client
        .post_logout_redirect_uris
        .iter()
        .find(|r| **r == requested)
        .cloned()
}

/// RFC 8252 §7.3 / §8.3: `http` on the IPv4 or IPv6 loopback literal (not `localhost`).
fn is_loopback_ip(url: &Url) -> bool {
    url.scheme() == "http"
        && match url.host() {
            Some(Host::Ipv4(ip)) => ip.is_loopback(),
            Some(Host::Ipv6(ip)) => ip.is_loopback(),
            _ => false,
        }
}

/// Equal in everything but the port.
fn loopback_equal(registered: &Url, requested: &Url) -> bool {
    requested.scheme() == registered.scheme()
        && requested.host() == registered.host()
        && requested.path() == registered.path()
        && requested.query() == registered.query()
        && requested.username().is_empty()
        && requested.password().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::GrantType;

    fn client(native: bool, uris: &[&str]) -> Client {
        Client {
            id: "c".into(),
            secret: None,
            jwks: None,
            redirect_uris: uris.iter().map(|u| Url::parse(u).unwrap()).collect(),
            post_logout_redirect_uris: vec![],
            grants: vec![GrantType::AuthorizationCode],
            scopes: vec![],
            native,
            signing: Default::default(),
            acr: Default::default(),
            name: "c".into(),
            roles: vec![],
            always_groups: false,
            always_roles: false,
            groups_limit: crate::policy::DEFAULT_GROUPS_LIMIT,
            logo: None,
            mfa_required: false,
        }
    }

    fn check(native: bool, registered: &[&str], requested: &str, expect: Option<&str>) {
        let got = match_redirect(&client(native, registered), requested);
        assert_eq!(
            got.as_ref().map(Url::as_str),
            expect,
            "registered {registered:?}, requested {requested}"
        );
    }

    #[test]
    fn exact_matching_table() {
        let web = &["https://app.example.com/callback"];
        check(false, web, "https://app.example.com/callback", Some(web[0]));
        check(false, web, "HTTPS://APP.example.com/callback", Some(web[0]));
        check(false, web, "https://app.example.com/callback/", None);
        check(false, web, "https://app.example.com/callback?x=1", None);
        check(false, web, "https://app.example.com/callback#f", None);
        check(false, web, "https://app.example.com/callbackx", None);
        check(
            false,
            web,
            "https://app.example.com.evil.com/callback",
            None,
        );
        check(false, web, "https://evil.com/callback", None);
        check(false, web, "https://app.example.com:8443/callback", None);
        check(false, web, "http://app.example.com/callback", None);
        check(false, web, "https://user@app.example.com/callback", None);
        check(false, web, "/callback", None);
        check(false, web, "", None);
    }

    #[test]
    fn loopback_any_port_only_for_native_clients() {
        let reg = &["http://127.0.0.1/cb"];
        check(
            true,
            reg,
            "http://127.0.0.1:53123/cb",
            Some("http://127.0.0.1:53123/cb"),
        );
        check(
            true,
            reg,
            "http://127.0.0.1/cb",
            Some("http://127.0.0.1/cb"),
        );
        check(true, reg, "http://127.0.0.1:53123/other", None);
        check(true, reg, "http://127.0.0.2:53123/cb", None);
        check(true, reg, "http://localhost:53123/cb", None);
        check(true, reg, "https://127.0.0.1:53123/cb", None);
        check(true, reg, "http://127.0.0.1:53123/cb?x=1", None);
        check(false, reg, "http://127.0.0.1:53123/cb", None);
        let v6 = &["http://[::1]/cb"];
        check(
            true,
            v6,
            "http://[::1]:4000/cb",
            Some("http://[::1]:4000/cb"),
        );
        check(true, v6, "http://127.0.0.1:4000/cb", None);
    }

    #[test]
    fn private_use_scheme_is_exact() {
        let reg = &["com.example.app:/oauth2redirect"];
        check(true, reg, "com.example.app:/oauth2redirect", Some(reg[0]));
        check(true, reg, "com.example.app:/other", None);
        check(true, reg, "com.evil.app:/oauth2redirect", None);
    }
}
