//! Resource indicators (RFC 8707): which API an access token is addressed to.
//!
//! An access token has one audience: the API a request names with `resource`, or the API
//! whose scopes it asks for, or else the client itself (RFC 9068 §3). RFC 8707 §2 lets the
//! authorization server decide how many resources one token may serve; the broker issues one
//! token per API, so a request that names two resources, or asks for the scopes of two APIs,
//! is refused with `invalid_target`. A grant (a code, a refresh-token family) keeps the one
//! API it was made for, and a later token request may name that API only (§2.2).

use std::sync::Arc;

use super::scope::{self, sanitize};
use super::{ErrorCode, OpError};
use crate::policy::{Api, Client, Policy, resource_key};

fn invalid_target(d: impl Into<std::borrow::Cow<'static, str>>) -> OpError {
    OpError::new(ErrorCode::InvalidTarget, d)
}

/// The one `resource` of a request, if any (RFC 8707 §2: the parameter may be repeated; the
/// broker addresses each token to one API, so a second value is `invalid_target`).
pub fn single(values: &[String]) -> Result<Option<&str>, OpError> {
    match values {
        [] => Ok(None),
        [one] => Ok(Some(one.as_str())),
        _ => Err(invalid_target(
            "one resource per request: each access token is addressed to one API",
        )),
    }
}

/// The API a request for `scopes` by `client` targets, with `resource` if it names one, or
/// `None` when the token is for the client itself.
///
/// - RFC 8707 §2: a `resource` that is not an absolute URI without a fragment, that no API
///   has as its identifier, or that the client may not target, is `invalid_target`; so are
///   scopes of two APIs, or scopes of an API other than the named one.
/// - RFC 6749 §5.2 / §4.1.2.1: a scope the client may not ask for is `invalid_scope`: an
///   API's scope not granted to it under the API's `clients`, or another scope not among its
///   own `scopes`.
pub fn target(
    policy: &Policy,
    client: &Client,
    scopes: &[String],
    resource: Option<&str>,
) -> Result<Option<Arc<Api>>, OpError> {
    let named = match resource {
        None => None,
        Some(r) => {
            if resource_key(r).is_err() {
                return Err(invalid_target(
                    "the resource must be an absolute URI without a fragment (RFC 8707 §2)",
                ));
            }
            let api = policy.apis.by_resource(r).ok_or_else(|| {
                invalid_target(format!("the resource \"{}\" is unknown", sanitize(r)))
            })?;
            if api.granted(&client.id).is_none() {
                return Err(invalid_target(format!(
                    "this client may not ask for tokens for the resource \"{}\"",
                    sanitize(r)
                )));
            }
            Some(api)
        }
    };
    let mut api = named;
    let mut own: Vec<String> = Vec::new();
    for s in scopes {
        let Some(of) = policy.apis.of_scope(s) else {
            own.push(s.clone());
            continue;
        };
        match api {
            Some(a) if !Arc::ptr_eq(a, of) => {
                return Err(invalid_target(if named.is_some() {
                    format!(
                        "the scope \"{}\" is not a scope of the requested resource",
                        sanitize(s)
                    )
                } else {
                    "the scopes of two APIs cannot be asked for together: each access token \
                     is addressed to one API"
                        .to_owned()
                }));
            }
            _ => api = Some(of),
        }
        if !api
            .and_then(|a| a.granted(&client.id))
            .is_some_and(|granted| granted.contains(s))
        {
            return Err(OpError::new(
                ErrorCode::InvalidScope,
                format!(
                    "the scope \"{}\" is not allowed for this client",
                    sanitize(s)
                ),
            ));
        }
    }
    scope::check_allowed(&own, &client.scopes)?;
    Ok(api.cloned())
}

/// RFC 8707 §2.2: a token request may name a resource only within its grant, which is made
/// for `granted` (an API's identifier, or `None`: the client itself).
pub fn within_grant(granted: Option<&str>, asked: Option<&str>) -> Result<(), OpError> {
    let Some(asked) = asked else {
        return Ok(());
    };
    let same = granted.is_some_and(|g| {
        resource_key(asked)
            .ok()
            .is_some_and(|a| resource_key(g).is_ok_and(|g| g == a))
    });
    if same {
        Ok(())
    } else {
        Err(invalid_target(format!(
            "the resource \"{}\" is not within this grant",
            sanitize(asked)
        )))
    }
}

/// RFC 8693 §2.1 for token exchange: `audience` names the target by its logical name, which
/// for an API is its identifier (the `aud` of its tokens), and for the requesting client its
/// id (the default, as without it; `resource` may name the client by its id too, as it could
/// before APIs existed). With `resource` as well, both must name the same API. Returns the
/// resource to resolve with [`target`].
pub fn exchange_target<'a>(
    client_id: &str,
    audience: Option<&'a str>,
    resources: &'a [String],
) -> Result<Option<&'a str>, OpError> {
    let resource = single(resources)?.filter(|r| *r != client_id);
    let audience = audience.filter(|a| *a != client_id);
    match (audience, resource) {
        (Some(a), Some(r)) if within_grant(Some(a), Some(r)).is_err() => Err(invalid_target(
            "audience and resource name different targets",
        )),
        (a, r) => Ok(r.or(a)),
    }
}

/// RFC 7662 §2.2, §4: an API learns about the access tokens addressed to it, and only those.
pub fn api_sees(api: &Api, aud: &str) -> bool {
    aud == api.identifier
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        let yaml = r#"issuer: http://127.0.0.1:8080
clients:
  - id: web
    secret_env: S
    redirect_uris: [https://web.example.com/cb]
    grants: [authorization_code, client_credentials]
    scopes: [openid, email, reports.read]
  - id: spa
    redirect_uris: [http://127.0.0.1:9000/cb]
apis:
  - id: orders
    identifier: https://orders.example.com
    scopes: [orders.read, orders.write]
    clients: {web: [orders.read, orders.write], spa: [orders.read]}
  - id: billing
    identifier: urn:example:billing
    scopes: [billing.read]
    clients: {web: [billing.read]}
  - id: audit
    identifier: https://audit.example.com/api
    clients: {spa: []}
"#;
        let env = |n: &str| (n == "S").then(|| "s".to_owned());
        crate::policy::load_str_with_env(std::path::Path::new("t.yaml"), yaml, &env).unwrap()
    }

    fn scopes(s: &str) -> Vec<String> {
        scope::parse(Some(s))
    }

    /// The audience chosen, as the API's id (`-` for the client), or the error code.
    #[track_caller]
    fn check(client: &str, scope: &str, resource: Option<&str>, expect: &str) {
        let p = policy();
        let c = p.client(client).unwrap();
        let got = match target(&p, c, &scopes(scope), resource) {
            Ok(Some(api)) => api.id.clone(),
            Ok(None) => "-".to_owned(),
            Err(e) => e.code.as_str().to_owned(),
        };
        assert_eq!(got, expect, "{client} {scope:?} {resource:?}");
    }

    #[test]
    fn the_audience_of_a_request() {
        // No resource, no API scope: the client itself, as before APIs existed.
        check("web", "openid email", None, "-");
        check("web", "", None, "-");
        // An API scope makes its API the default audience.
        check("web", "openid orders.write", None, "orders");
        check("spa", "orders.read", None, "orders");
        // A resource, with or without its scopes; compared as a parsed URI.
        check(
            "web",
            "openid",
            Some("https://orders.example.com"),
            "orders",
        );
        check(
            "web",
            "orders.read",
            Some("https://orders.example.com/"),
            "orders",
        );
        check(
            "web",
            "billing.read",
            Some("urn:example:billing"),
            "billing",
        );
        check(
            "spa",
            "openid",
            Some("https://audit.example.com/api"),
            "audit",
        );
    }

    #[test]
    fn refusals_name_target_or_scope() {
        // RFC 8707 §2: malformed, unknown, or not granted.
        check("web", "openid", Some("/orders"), "invalid_target");
        check(
            "web",
            "openid",
            Some("https://orders.example.com#x"),
            "invalid_target",
        );
        check(
            "web",
            "openid",
            Some("https://unknown.example.com"),
            "invalid_target",
        );
        check(
            "web",
            "openid",
            Some("https://audit.example.com/api"),
            "invalid_target",
        );
        // One audience per token: two APIs' scopes, or a scope of another API.
        check("web", "orders.read billing.read", None, "invalid_target");
        check(
            "web",
            "orders.read",
            Some("urn:example:billing"),
            "invalid_target",
        );
        // RFC 6749 §5.2: a scope the client was not granted.
        check("spa", "orders.write", None, "invalid_scope");
        check(
            "spa",
            "orders.read",
            Some("https://orders.example.com"),
            "orders",
        );
        check("spa", "billing.read", None, "invalid_scope");
        check("spa", "reports.read", None, "invalid_scope");
        check(
            "web",
            "openid admin",
            Some("https://orders.example.com"),
            "invalid_scope",
        );
    }

    #[test]
    fn one_resource_per_request() {
        assert_eq!(single(&[]).unwrap(), None);
        assert_eq!(single(&["urn:a".into()]).unwrap(), Some("urn:a"));
        let two = ["urn:a".to_owned(), "urn:b".to_owned()];
        assert_eq!(single(&two).unwrap_err().code, ErrorCode::InvalidTarget);
    }

    #[test]
    fn token_requests_stay_within_their_grant() {
        let orders = Some("https://orders.example.com");
        assert!(within_grant(orders, None).is_ok());
        assert!(within_grant(orders, Some("https://orders.example.com/")).is_ok());
        assert!(within_grant(None, None).is_ok());
        for (granted, asked) in [
            (orders, "urn:example:billing"),
            (None, "https://orders.example.com"),
            (orders, "not a uri"),
        ] {
            let e = within_grant(granted, Some(asked)).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidTarget, "{granted:?} {asked}");
        }
    }

    #[test]
    fn exchange_audience_maps_onto_apis() {
        let none: [String; 0] = [];
        let orders = ["https://orders.example.com".to_owned()];
        assert_eq!(exchange_target("agent", None, &none).unwrap(), None);
        assert_eq!(
            exchange_target("agent", Some("agent"), &none).unwrap(),
            None
        );
        let itself = ["agent".to_owned()];
        assert_eq!(exchange_target("agent", None, &itself).unwrap(), None);
        assert_eq!(
            exchange_target("agent", Some("urn:x"), &none).unwrap(),
            Some("urn:x")
        );
        assert_eq!(
            exchange_target("agent", Some("https://orders.example.com/"), &orders).unwrap(),
            Some("https://orders.example.com")
        );
        assert_eq!(
            exchange_target("agent", Some("urn:x"), &orders)
                .unwrap_err()
                .code,
            ErrorCode::InvalidTarget
        );
    }

    #[test]
    fn an_api_sees_only_tokens_addressed_to_it() {
        let p = policy();
        let orders = p.apis.get("orders").unwrap();
        assert!(api_sees(orders, "https://orders.example.com"));
        assert!(!api_sees(orders, "urn:example:billing"));
        assert!(!api_sees(orders, "web"));
    }
}
