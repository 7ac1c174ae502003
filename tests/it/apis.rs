//! APIs as audiences (issue #14): RFC 8707 resource indicators at `/authorize` and `/token`,
//! access tokens addressed to an API (RFC 9068 §3), and introspection by an API (RFC 7662).
//! The relying party is the `openidconnect` crate where a library would be used; raw requests
//! where the test needs what a library would not send.

use std::time::Duration;

use idbroker::clock::Clock;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse,
    RedirectUrl, Scope, TokenResponse as _,
};
use serde_json::{Value, json};

use crate::support::broker::{
    BILLING_API_SECRET, ORDERS_API_SECRET, PASSWORD, TestBroker, USER, WEB_SECRET,
};
use crate::support::browser::{Browser, Page, sign_in};
use crate::support::oauth::{SPA_CB, claims, redeem_spa_code, spa_authorize_url};
use idbroker::upstream::http_client::OidcHttp;

const ORDERS: &str = "https://orders.example.com";
const BILLING: &str = "urn:example:billing";
const QUIET: &str = "https://quiet.example.com";
const WEB_CB: &str = "https://web.example.com/callback";

/// Three APIs: `orders` (web may read and write, spa only read), `billing` (web only), and
/// `quiet`, which web may target with no scope and which has no introspection secret.
const APIS: &str = r#"apis:
  - id: orders
    identifier: https://orders.example.com
    scopes: [orders.read, orders.write]
    clients: {web: [orders.read, orders.write], spa: [orders.read]}
    secret_env: ORDERS_API_SECRET
  - id: billing
    identifier: urn:example:billing
    scopes: [billing.read]
    clients: {web: [billing.read]}
    secret_env: BILLING_API_SECRET
  - id: quiet
    identifier: https://quiet.example.com
    clients: {web: []}
"#;

async fn start() -> TestBroker {
    TestBroker::start_with(APIS, None, Clock::System).await
}

fn http() -> OidcHttp {
    OidcHttp::new(Duration::from_secs(10)).unwrap()
}

/// `web`'s authorization request for `scope`, with each of `resources`.
fn web_authorize_url(base: &str, redirect_uri: &str, scope: &str, resources: &[&str]) -> String {
    let mut url = url::Url::parse(&format!("{base}/authorize")).unwrap();
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("response_type", "code")
            .append_pair("client_id", "web")
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("scope", scope)
            .append_pair("state", "web-state")
            .append_pair("nonce", "web-nonce");
        for r in resources {
            q.append_pair("resource", r);
        }
    }
    url.into()
}

/// Signs alice in for `web` with `scope` and `resources`; the code.
async fn web_code(tb: &TestBroker, scope: &str, resources: &[&str]) -> String {
    let url = web_authorize_url(&tb.base, WEB_CB, scope, resources);
    let back = sign_in(&mut Browser::new(), &tb.base, &url, USER, PASSWORD).await;
    back.location_param("code")
        .unwrap_or_else(|| panic!("no code: {:?} {}", back.location, back.body))
}

/// A `/token` request of `web` (client_secret_basic).
async fn web_token(tb: &TestBroker, form: &[(&str, &str)]) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(tb.url("/token"))
        .basic_auth("web", Some(WEB_SECRET))
        .form(form)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn redeem_web_code(tb: &TestBroker, code: &str, extra: &[(&str, &str)]) -> (u16, Value) {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", WEB_CB),
    ];
    form.extend_from_slice(extra);
    web_token(tb, &form).await
}

/// `/introspect` as `who` with HTTP Basic.
async fn introspect(tb: &TestBroker, who: &str, secret: &str, token: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(tb.url("/introspect"))
        .basic_auth(who, Some(secret))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

fn str_of(v: &Value, key: &str) -> String {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("no {key} in {v}"))
        .to_owned()
}

/// The claims of the access token in a token response.
fn at_claims(body: &Value) -> Value {
    claims(&str_of(body, "access_token"))
}

/// The authorization request's error, sent back to the client's redirect URI with its state.
#[track_caller]
fn assert_redirected_error(page: &Page, redirect_uri: &str, error: &str) {
    assert_eq!(page.status, 303, "{}", page.body);
    let loc = page.location.as_deref().unwrap_or_default();
    assert!(loc.starts_with(redirect_uri), "{loc}");
    assert_eq!(
        page.location_param("error").as_deref(),
        Some(error),
        "{loc}"
    );
    assert!(page.location_param("code").is_none(), "{loc}");
    assert!(page.location_param("state").is_some(), "{loc}");
}

/// An RP library signs in with a resource: the ID token is still the client's and verifies;
/// the access token is addressed to the API, which sees it at `/introspect`, while another
/// API learns nothing (RFC 7662 §2.2: `{"active": false}`, exactly as for an unknown token).
#[tokio::test]
async fn a_token_for_an_api_is_seen_by_that_api_only() {
    let tb = start().await;
    let http = http();
    let meta =
        CoreProviderMetadata::discover_async(IssuerUrl::new(tb.base.clone()).unwrap(), &http)
            .await
            .unwrap();
    let client = CoreClient::from_provider_metadata(
        meta,
        ClientId::new("web".into()),
        Some(ClientSecret::new(WEB_SECRET.into())),
    )
    .set_redirect_uri(RedirectUrl::new(WEB_CB.into()).unwrap());
    let (auth_url, _, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("orders.read".into()))
        .add_extra_param("resource", ORDERS)
        .url();
    let back = sign_in(
        &mut Browser::new(),
        &tb.base,
        auth_url.as_str(),
        USER,
        PASSWORD,
    )
    .await;
    let code = back.location_param("code").expect("a code");
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .request_async(&http)
        .await
        .unwrap();
    let id = tokens
        .id_token()
        .unwrap()
        .claims(&client.id_token_verifier(), &nonce)
        .expect("the ID token is still the client's, and verifies");
    assert_eq!(id.audiences()[0].as_str(), "web");

    let at = tokens.access_token().secret().clone();
    let c = claims(&at);
    assert_eq!(c["aud"], ORDERS, "RFC 9068 §3: aud is the resource");
    assert_eq!(c["client_id"], "web");
    assert_eq!(c["scope"], "openid email orders.read");
    let granted: Vec<String> = tokens
        .scopes()
        .unwrap()
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(granted, ["openid", "email", "orders.read"]);

    // The API it is for sees it.
    let (status, seen) = introspect(&tb, "orders", ORDERS_API_SECRET, &at).await;
    assert_eq!(status, 200, "{seen}");
    assert_eq!(seen["active"], true, "{seen}");
    assert_eq!(seen["aud"], ORDERS);
    assert_eq!(seen["client_id"], "web");
    assert_eq!(seen["scope"], "openid email orders.read");
    assert_eq!(seen["username"], USER);
    // Another API learns nothing, not even that the token is live.
    let (status, other) = introspect(&tb, "billing", BILLING_API_SECRET, &at).await;
    assert_eq!(status, 200);
    assert_eq!(other, json!({"active": false}));
    // The client it was issued to still sees it (RFC 7662 §2.1, as before).
    let (_, own) = introspect(&tb, "web", WEB_SECRET, &at).await;
    assert_eq!(own["active"], true, "{own}");

    // It carries openid, so /userinfo answers it.
    let r = reqwest::Client::new()
        .get(tb.url("/userinfo"))
        .bearer_auth(&at)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let info: Value = r.json().await.unwrap();
    assert_eq!(info["email"], USER);
}

/// Without `resource`, asking for an API's scope addresses the token to that API; asking for
/// no API scope leaves `aud` the client itself, as before APIs existed.
#[tokio::test]
async fn an_api_scope_makes_its_api_the_default_audience() {
    let tb = start().await;
    let url = spa_authorize_url(&tb.base, "openid%20orders.read");
    let back = sign_in(&mut Browser::new(), &tb.base, &url, USER, PASSWORD).await;
    let body = redeem_spa_code(&tb, &back.location_param("code").unwrap()).await;
    let c = at_claims(&body);
    assert_eq!(c["aud"], ORDERS);
    assert_eq!(c["scope"], "openid orders.read");
    assert_eq!(c["client_id"], "spa");
    assert_eq!(claims(&str_of(&body, "id_token"))["aud"], "spa");
    let (_, seen) = introspect(
        &tb,
        "orders",
        ORDERS_API_SECRET,
        &str_of(&body, "access_token"),
    )
    .await;
    assert_eq!(seen["active"], true, "{seen}");

    let code = web_code(&tb, "openid email", &[]).await;
    let (status, body) = redeem_web_code(&tb, &code, &[]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(at_claims(&body)["aud"], "web");
    let at = str_of(&body, "access_token");
    let (_, seen) = introspect(&tb, "orders", ORDERS_API_SECRET, &at).await;
    assert_eq!(
        seen,
        json!({"active": false}),
        "a token for the client is no API's"
    );
}

/// RFC 8707 §2 at `/authorize`: a malformed, unknown or ungranted resource, two resources, or
/// the scopes of two APIs are `invalid_target`; an ungranted API scope is `invalid_scope`.
/// Each goes back to the registered redirect URI (RFC 6749 §4.1.2.1), never to an
/// unregistered one.
#[tokio::test]
async fn authorize_refuses_targets_and_scopes_not_granted() {
    let tb = start().await;
    let mut b = Browser::new();
    for (scope, resources, error) in [
        (
            "openid",
            &["https://unknown.example.com"][..],
            "invalid_target",
        ),
        ("openid", &["/orders"][..], "invalid_target"),
        (
            "openid",
            &["https://orders.example.com#frag"][..],
            "invalid_target",
        ),
        ("openid", &[ORDERS, BILLING][..], "invalid_target"),
        ("openid orders.read billing.read", &[][..], "invalid_target"),
        ("openid billing.read", &[ORDERS][..], "invalid_target"),
        ("openid nonsense.scope", &[ORDERS][..], "invalid_scope"),
    ] {
        let page = b
            .get(&web_authorize_url(&tb.base, WEB_CB, scope, resources))
            .await;
        assert_redirected_error(&page, WEB_CB, error);
    }
    // spa: billing is not granted to it at all, orders only for reading.
    let spa = |scope: &str, resource: Option<&str>| {
        let mut url = spa_authorize_url(&tb.base, scope);
        if let Some(r) = resource {
            url.push_str(&format!("&resource={}", urlencode(r)));
        }
        url
    };
    let page = b.get(&spa("openid", Some(BILLING))).await;
    assert_redirected_error(&page, SPA_CB, "invalid_target");
    let page = b.get(&spa("openid%20orders.write", None)).await;
    assert_redirected_error(&page, SPA_CB, "invalid_scope");
    let page = b.get(&spa("openid%20billing.read", None)).await;
    assert_redirected_error(&page, SPA_CB, "invalid_scope");
    // An unregistered redirect URI: a page, whatever the resource.
    let page = b
        .get(&web_authorize_url(
            &tb.base,
            "https://evil.example.com/cb",
            "openid",
            &["https://unknown.example.com"],
        ))
        .await;
    assert_eq!(page.status, 400, "{}", page.body);
    assert!(page.location.is_none());
    // Granted ones start a login.
    let page = b
        .get(&web_authorize_url(
            &tb.base,
            WEB_CB,
            "openid orders.write",
            &[ORDERS],
        ))
        .await;
    assert_eq!(page.status, 303);
    assert!(page.location.unwrap().starts_with("/login?tx="));
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// RFC 8707 §2.2 at `/token`: a code redeems only for the resource it was issued for (or
/// none), and a refused redemption consumes nothing.
#[tokio::test]
async fn a_code_redeems_only_within_its_resource() {
    let tb = start().await;
    let code = web_code(&tb, "openid orders.read", &[ORDERS]).await;
    for resources in [&[BILLING][..], &["urn:unknown"][..], &[ORDERS, ORDERS][..]] {
        let extra: Vec<(&str, &str)> = resources.iter().map(|r| ("resource", *r)).collect();
        let (status, body) = redeem_web_code(&tb, &code, &extra).await;
        assert_eq!(status, 400, "{resources:?}: {body}");
        assert_eq!(body["error"], "invalid_target", "{resources:?}: {body}");
    }
    let (status, body) =
        redeem_web_code(&tb, &code, &[("resource", "https://orders.example.com/")]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(at_claims(&body)["aud"], ORDERS);

    // A code issued for the client itself cannot be turned into a token for an API.
    let code = web_code(&tb, "openid", &[]).await;
    let (status, body) = redeem_web_code(&tb, &code, &[("resource", ORDERS)]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_target")),
        "{body}"
    );
    let (status, body) = redeem_web_code(&tb, &code, &[]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(at_claims(&body)["aud"], "web");
}

/// A refresh keeps the grant's resource and may narrow the scope within it, never name
/// another resource (RFC 8707 §2.2) or add a scope (RFC 6749 §6).
#[tokio::test]
async fn refresh_keeps_the_resource_and_narrows_the_scope() {
    let tb = start().await;
    let code = web_code(
        &tb,
        "openid offline_access orders.read orders.write",
        &[ORDERS],
    )
    .await;
    let (status, body) = redeem_web_code(&tb, &code, &[]).await;
    assert_eq!(status, 200, "{body}");
    let mut rt = str_of(&body, "refresh_token");

    let (status, body) = web_token(
        &tb,
        &[("grant_type", "refresh_token"), ("refresh_token", &rt)],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let c = at_claims(&body);
    assert_eq!(c["aud"], ORDERS);
    assert_eq!(c["scope"], "openid offline_access orders.read orders.write");
    rt = str_of(&body, "refresh_token");

    let (status, body) = web_token(
        &tb,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &rt),
            ("scope", "orders.read"),
            ("resource", ORDERS),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let c = at_claims(&body);
    assert_eq!(
        (c["aud"].as_str(), c["scope"].as_str()),
        (Some(ORDERS), Some("orders.read"))
    );
    assert_eq!(body["scope"], "orders.read");
    rt = str_of(&body, "refresh_token");

    for (extra, error) in [
        (("resource", BILLING), "invalid_target"),
        (("resource", QUIET), "invalid_target"),
        (("scope", "billing.read"), "invalid_scope"),
    ] {
        let (status, body) = web_token(
            &tb,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &rt),
                extra,
            ],
        )
        .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some(error)),
            "{extra:?}: {body}"
        );
    }
    // Those refusals spent nothing: the same refresh token still works.
    let (status, body) = web_token(
        &tb,
        &[("grant_type", "refresh_token"), ("refresh_token", &rt)],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(at_claims(&body)["aud"], ORDERS);
}

/// Machine to machine: `client_credentials` with a resource or an API's scopes gets a token
/// addressed to the API, which introspects it; the same refusals as elsewhere.
#[tokio::test]
async fn client_credentials_tokens_are_addressed_to_the_api() {
    let tb = start().await;
    let cc = |extra: Vec<(&'static str, &'static str)>| {
        let mut form = vec![("grant_type", "client_credentials")];
        form.extend(extra);
        form
    };
    let (status, body) = web_token(
        &tb,
        &cc(vec![("resource", ORDERS), ("scope", "orders.write")]),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let c = at_claims(&body);
    assert_eq!(c["aud"], ORDERS);
    assert_eq!(c["sub"], "web");
    assert_eq!(c["client_id"], "web");
    assert_eq!(c["scope"], "orders.write");
    let at = str_of(&body, "access_token");
    let (_, seen) = introspect(&tb, "orders", ORDERS_API_SECRET, &at).await;
    assert_eq!(seen["active"], true, "{seen}");
    assert_eq!(seen["sub"], "web");
    let (_, other) = introspect(&tb, "billing", BILLING_API_SECRET, &at).await;
    assert_eq!(other, json!({"active": false}));

    // The scope alone names the API.
    let (status, body) = web_token(&tb, &cc(vec![("scope", "billing.read")])).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(at_claims(&body)["aud"], BILLING);
    // A resource with no scope: addressed to it, with no scope.
    let (status, body) = web_token(&tb, &cc(vec![("resource", QUIET)])).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (at_claims(&body)["aud"].as_str(), body["scope"].as_str()),
        (Some(QUIET), Some(""))
    );
    // Neither: the client itself, as before.
    let (status, body) = web_token(&tb, &cc(vec![("scope", "reports.read")])).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(at_claims(&body)["aud"], "web");

    for (extra, error) in [
        (
            vec![("resource", "https://unknown.example.com")],
            "invalid_target",
        ),
        (
            vec![("resource", ORDERS), ("resource", BILLING)],
            "invalid_target",
        ),
        (
            vec![("scope", "orders.read billing.read")],
            "invalid_target",
        ),
        (
            vec![("resource", BILLING), ("scope", "orders.read")],
            "invalid_target",
        ),
        (vec![("scope", "orders.delete")], "invalid_scope"),
    ] {
        let (status, body) = web_token(&tb, &cc(extra.clone())).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some(error)),
            "{extra:?}: {body}"
        );
    }
}

/// An API authenticates at `/introspect` like a confidential client (Basic or form), and
/// only there; a wrong secret, an API without one, or an API at `/token` is `invalid_client`.
/// A refresh token is never introspectable by an API, even one of a grant for it.
#[tokio::test]
async fn api_authentication_at_introspect() {
    let tb = start().await;
    let code = web_code(&tb, "openid offline_access orders.read", &[ORDERS]).await;
    let (_, body) = redeem_web_code(&tb, &code, &[]).await;
    let at = str_of(&body, "access_token");
    let rt = str_of(&body, "refresh_token");

    // client_secret_post works as Basic does.
    let r = reqwest::Client::new()
        .post(tb.url("/introspect"))
        .form(&[
            ("token", at.as_str()),
            ("client_id", "orders"),
            ("client_secret", ORDERS_API_SECRET),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["active"], true);

    let (_, seen) = introspect(&tb, "orders", ORDERS_API_SECRET, &rt).await;
    assert_eq!(
        seen,
        json!({"active": false}),
        "refresh tokens are the client's only"
    );
    let (_, own) = introspect(&tb, "web", WEB_SECRET, &rt).await;
    assert_eq!(own["active"], true, "{own}");

    for (who, secret) in [
        ("orders", "wrong-secret"),
        ("orders", BILLING_API_SECRET),
        ("quiet", "anything"),
        ("nobody", "anything"),
    ] {
        let (status, body) = introspect(&tb, who, secret, &at).await;
        assert_eq!(status, 401, "{who}: {body}");
        assert_eq!(body["error"], "invalid_client", "{who}: {body}");
    }
    // An API is no client: it cannot get tokens, nor revoke them.
    let r = reqwest::Client::new()
        .post(tb.url("/token"))
        .basic_auth("orders", Some(ORDERS_API_SECRET))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = reqwest::Client::new()
        .post(tb.url("/revoke"))
        .basic_auth("orders", Some(ORDERS_API_SECRET))
        .form(&[("token", at.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let (_, still) = introspect(&tb, "orders", ORDERS_API_SECRET, &at).await;
    assert_eq!(still["active"], true);
}

/// Failed API authentications count against the API as a client's do (`token_per_client`):
/// once the window's places are taken, even the right secret is refused until it ends.
#[tokio::test]
async fn failed_api_authentication_is_rate_limited() {
    let extra = format!("{APIS}rate_limits: {{token_per_client: 3, window: 5m}}\n");
    let tb = TestBroker::start_with(&extra, None, Clock::System).await;
    let (_, body) = web_token(
        &tb,
        &[
            ("grant_type", "client_credentials"),
            ("scope", "orders.read"),
        ],
    )
    .await;
    let at = str_of(&body, "access_token");
    let (status, _) = introspect(&tb, "orders", ORDERS_API_SECRET, &at).await;
    assert_eq!(status, 200, "a success takes no place");
    for _ in 0..3 {
        let (status, _) = introspect(&tb, "orders", "guess", &at).await;
        assert_eq!(status, 401);
    }
    let (status, body) = introspect(&tb, "orders", ORDERS_API_SECRET, &at).await;
    assert_eq!(status, 429, "{body}");
    // Another API, and the clients, are not affected.
    let (status, _) = introspect(&tb, "billing", BILLING_API_SECRET, &at).await;
    assert_eq!(status, 200);
    let (status, _) = introspect(&tb, "web", WEB_SECRET, &at).await;
    assert_eq!(status, 200);
}

/// Discovery lists the APIs' scopes beside the broker's own.
#[tokio::test]
async fn discovery_lists_the_api_scopes() {
    let tb = start().await;
    let meta: Value = reqwest::get(tb.url("/.well-known/openid-configuration"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let scopes: Vec<&str> = meta["scopes_supported"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for s in ["openid", "orders.read", "orders.write", "billing.read"] {
        assert!(scopes.contains(&s), "{s} in {scopes:?}");
    }
}
