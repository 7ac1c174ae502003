//! RFC 8628 device authorization grant end to end: `/device_authorization`, the `/device`
//! page, sign-in through the unified login page (password and Entra SSO), approve/deny, and
//! every `/token` answer of §3.5: authorization_pending, slow_down (interval + 5 s),
//! access_denied, expired_token, then the tokens exactly once.

use std::sync::atomic::AtomicU64;

use idbroker::clock::{Clock, system_now};
use reqwest::StatusCode;
use serde_json::Value;

use crate::fake_entra::{FakeEntra, NewUser};
use crate::support::broker::{PASSWORD, TestBroker, USER, WEB_SECRET, password_hash};
use crate::support::browser::{Browser, Page};
use crate::support::oauth::claims;
use crate::support::redis_server::RedisServer;

const GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
const APP: &str = "0b7c4d1e-5f60-4a7b-8c9d-0e1f2a3b4c5d";

const TV: &str = r#"  - id: tv
    name: Living Room TV
    grants: [device_code, refresh_token]
    scopes: [openid, email, profile, offline_access]
  - id: kiosk
    name: Lobby Kiosk
    secret_env: WEB_SECRET
    grants: [device_code]
    scopes: [openid, email]
"#;

fn manual_clock() -> Clock {
    Clock::Manual(AtomicU64::new(system_now()))
}

async fn broker(clock: Clock) -> TestBroker {
    TestBroker::start_with_clients(TV, "", None, clock).await
}

async fn post(url: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let resp = reqwest::Client::new()
        .post(url)
        .form(form)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let cc = resp
        .headers()
        .get("cache-control")
        .map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(cc.as_deref(), Some("no-store"), "{url}");
    (status, resp.json().await.unwrap())
}

/// `/device_authorization` for `tv`.
async fn start_device(tb: &TestBroker, scope: &str) -> Value {
    let (status, body) = post(
        &tb.url("/device_authorization"),
        &[("client_id", "tv"), ("scope", scope)],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// One poll of `/token` by `client`.
async fn poll_as(tb: &TestBroker, client: &str, device_code: &str) -> (StatusCode, Value) {
    post(
        &tb.url("/token"),
        &[
            ("grant_type", GRANT),
            ("client_id", client),
            ("device_code", device_code),
        ],
    )
    .await
}

async fn poll(tb: &TestBroker, device_code: &str) -> (StatusCode, Value) {
    poll_as(tb, "tv", device_code).await
}

/// Asserts an RFC 8628 §3.5 error answer (400 + code).
fn assert_error((status, body): (StatusCode, Value), error: &str) {
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], error, "{body}");
    assert!(body.get("access_token").is_none());
}

/// Opens `/device`, enters `code`, and returns the answer to the entry form.
async fn enter_code(b: &mut Browser, tb: &TestBroker, code: &str) -> Page {
    let page = b.get(&tb.url("/device")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let csrf = page.field("csrf");
    b.post(&tb.url("/device"), &[("csrf", &csrf), ("user_code", code)])
        .await
}

/// From the code entry to the approve/deny page, signing in with a password.
async fn sign_in_for_device(b: &mut Browser, tb: &TestBroker, user_code: &str) -> Page {
    let entered = enter_code(b, tb, user_code).await;
    assert_eq!(entered.status, StatusCode::SEE_OTHER, "{}", entered.body);
    let login = b.follow(&tb.base, entered).await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
    assert!(
        login.body.contains("Living Room TV"),
        "the login page names the app"
    );
    let (tx, csrf) = (login.field("tx"), login.field("csrf"));
    let step = b
        .post(
            &tb.url("/login/identifier"),
            &[("tx", &tx), ("csrf", &csrf), ("identifier", USER)],
        )
        .await;
    assert!(step.body.contains("name=\"password\""), "{}", step.body);
    b.post(
        &tb.url("/login/password"),
        &[("tx", &tx), ("csrf", &csrf), ("password", PASSWORD)],
    )
    .await
}

async fn decide(b: &mut Browser, tb: &TestBroker, consent: &Page, decision: &str) -> Page {
    b.post(
        &tb.url("/device/decision"),
        &[
            ("tx", &consent.field("tx")),
            ("csrf", &consent.field("csrf")),
            ("decision", decision),
        ],
    )
    .await
}

#[tokio::test]
async fn the_whole_device_flow_polls_slows_down_and_issues_tokens_once() {
    let tb = broker(manual_clock()).await;
    let clock = tb.broker.internals().clock;
    let d = start_device(&tb, "openid email offline_access").await;
    // RFC 8628 §3.2.
    let user_code = d["user_code"].as_str().unwrap().to_owned();
    assert_eq!(user_code.len(), 9, "{user_code}");
    assert_eq!(&user_code[4..5], "-");
    assert!(
        user_code
            .chars()
            .filter(|c| *c != '-')
            .all(|c| "BCDFGHJKLMNPQRSTVWXZ".contains(c)),
        "{user_code}"
    );
    assert_eq!(d["verification_uri"], tb.url("/device").as_str());
    assert_eq!(
        d["verification_uri_complete"],
        format!("{}?user_code={user_code}", tb.url("/device")).as_str()
    );
    assert_eq!(d["expires_in"], 600);
    assert_eq!(d["interval"], 5);
    let device_code = d["device_code"].as_str().unwrap().to_owned();
    assert!(device_code.len() >= 43);

    // The user has done nothing yet.
    assert_error(poll(&tb, &device_code).await, "authorization_pending");
    // Polling again at once: slow_down, and the interval grows by 5 s (§3.5).
    let (s, body) = poll(&tb, &device_code).await;
    assert_error((s, body.clone()), "slow_down");
    clock.advance(5);
    // 5 s is no longer enough: the interval is now 10 s.
    assert_error(poll(&tb, &device_code).await, "slow_down");
    clock.advance(15);
    assert_error(poll(&tb, &device_code).await, "authorization_pending");

    // verification_uri_complete prefills the code but does not submit it (§5.4).
    let mut b = Browser::new();
    let prefilled = b
        .get(d["verification_uri_complete"].as_str().unwrap())
        .await;
    assert_eq!(prefilled.status, StatusCode::OK);
    assert_eq!(prefilled.field("user_code"), user_code);

    // Typed sloppily (lower case, no dash) it still works.
    let sloppy = user_code.replace('-', "").to_lowercase();
    let consent = sign_in_for_device(&mut b, &tb, &sloppy).await;
    assert_eq!(consent.status, StatusCode::OK, "{}", consent.body);
    assert!(consent.body.contains("Living Room TV"), "{}", consent.body);
    assert!(consent.body.contains(USER), "{}", consent.body);
    assert!(consent.body.contains(&user_code), "{}", consent.body);
    assert!(
        consent.location.is_none(),
        "no code redirect for a device login"
    );

    // Signed in but not yet approved: still pending.
    clock.advance(20);
    assert_error(poll(&tb, &device_code).await, "authorization_pending");

    let done = decide(&mut b, &tb, &consent, "approve").await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(done.body.contains("Device connected"), "{}", done.body);
    // The decision form is single use.
    let again = decide(&mut b, &tb, &consent, "deny").await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST, "{}", again.body);

    clock.advance(20);
    let (status, tokens) = poll(&tb, &device_code).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["scope"], "openid email offline_access");
    assert!(tokens["refresh_token"].is_string());
    let id = claims(tokens["id_token"].as_str().unwrap());
    let alice = tb
        .broker
        .internals()
        .store
        .user_by_email(USER)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(id["sub"], alice.id.as_str());
    assert_eq!(id["aud"], "tv");
    assert_eq!(id["email"], USER);
    assert_eq!(id["amr"], serde_json::json!(["pwd"]));
    // Tokens exactly once.
    clock.advance(20);
    assert_error(poll(&tb, &device_code).await, "invalid_grant");

    let audit = tb.audit_lines().await;
    let decision = audit
        .iter()
        .find(|l| l["event"] == "device.decision")
        .unwrap();
    assert_eq!(decision["outcome"], "success");
    assert_eq!(decision["client_id"], "tv");
    assert_eq!(decision["user_id"], alice.id.as_str());
    assert!(
        audit
            .iter()
            .any(|l| l["event"] == "token.device" && l["outcome"] == "success")
    );
    assert!(
        audit
            .iter()
            .any(|l| l["event"] == "login.password" && l["client_id"] == "tv")
    );
}

#[tokio::test]
async fn a_denied_device_gets_access_denied() {
    let tb = broker(manual_clock()).await;
    let d = start_device(&tb, "openid").await;
    let device_code = d["device_code"].as_str().unwrap();
    let mut b = Browser::new();
    let consent = sign_in_for_device(&mut b, &tb, d["user_code"].as_str().unwrap()).await;
    let done = decide(&mut b, &tb, &consent, "deny").await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(done.body.contains("not connected"), "{}", done.body);
    assert_error(poll(&tb, device_code).await, "access_denied");
    tb.broker.internals().clock.advance(10);
    assert_error(poll(&tb, device_code).await, "access_denied");
    let audit = tb.audit_lines().await;
    let decision = audit
        .iter()
        .find(|l| l["event"] == "device.decision")
        .unwrap();
    assert_eq!(decision["outcome"], "failure");
    assert_eq!(decision["reason"], "denied_by_user");
}

#[tokio::test]
async fn an_expired_device_code_gets_expired_token_and_its_user_code_stops_working() {
    let tb = broker(manual_clock()).await;
    let d = start_device(&tb, "openid").await;
    let device_code = d["device_code"].as_str().unwrap();
    tb.broker.internals().clock.advance(600);
    assert_error(poll(&tb, device_code).await, "expired_token");
    let mut b = Browser::new();
    let entered = enter_code(&mut b, &tb, d["user_code"].as_str().unwrap()).await;
    assert_eq!(entered.status, StatusCode::BAD_REQUEST, "{}", entered.body);
    assert!(
        entered.body.contains("not valid or has expired"),
        "{}",
        entered.body
    );
    assert!(entered.location.is_none());
}

#[tokio::test]
async fn an_approval_after_expiry_issues_nothing() {
    let tb = broker(manual_clock()).await;
    let d = start_device(&tb, "openid").await;
    let mut b = Browser::new();
    let consent = sign_in_for_device(&mut b, &tb, d["user_code"].as_str().unwrap()).await;
    tb.broker.internals().clock.advance(601);
    let late = decide(&mut b, &tb, &consent, "approve").await;
    assert_eq!(late.status, StatusCode::BAD_REQUEST, "{}", late.body);
    assert_error(
        poll(&tb, d["device_code"].as_str().unwrap()).await,
        "expired_token",
    );
}

#[tokio::test]
async fn device_authorization_and_polling_refusals() {
    let tb = broker(manual_clock()).await;
    let url = tb.url("/device_authorization");
    // A client not allowed the grant.
    let (s, body) = post(&url, &[("client_id", "spa")]).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "unauthorized_client");
    // Unknown client; confidential client without / with a wrong secret.
    for form in [
        vec![("client_id", "nobody")],
        vec![("client_id", "kiosk")],
        vec![("client_id", "kiosk"), ("client_secret", "wrong")],
    ] {
        let (s, body) = post(&url, &form).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{form:?}: {body}");
        assert_eq!(body["error"], "invalid_client");
    }
    // A scope the client may not ask for.
    let (s, body) = post(&url, &[("client_id", "tv"), ("scope", "openid admin")]).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_scope");
    // The confidential kiosk, with its secret: fine.
    let (s, kiosk) = post(
        &url,
        &[("client_id", "kiosk"), ("client_secret", WEB_SECRET)],
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{kiosk}");
    assert_eq!(kiosk["interval"], 5);

    let d = start_device(&tb, "openid").await;
    let code = d["device_code"].as_str().unwrap();
    // Another client polling with tv's device code.
    let (s, body) = post(
        &tb.url("/token"),
        &[
            ("grant_type", GRANT),
            ("client_id", "kiosk"),
            ("client_secret", WEB_SECRET),
            ("device_code", code),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant", "{body}");
    // A client not allowed the grant polling at all.
    let (s, body) = poll_as(&tb, "spa", code).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "unauthorized_client", "{body}");
    // Missing and unknown device codes.
    let (s, body) = post(
        &tb.url("/token"),
        &[("grant_type", GRANT), ("client_id", "tv")],
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_request", "{body}");
    assert_error(poll(&tb, "no-such-device-code").await, "invalid_grant");
    // None of that disturbed the real request: first poll is pending, not slow_down.
    assert_error(poll(&tb, code).await, "authorization_pending");
}

#[tokio::test]
async fn user_code_guessing_is_rate_limited_per_ip() {
    let tb = broker(manual_clock()).await;
    let d = start_device(&tb, "openid").await;
    let mut b = Browser::new();
    for i in 0..10 {
        let page = enter_code(&mut b, &tb, "BCDF-GHJK").await;
        assert_eq!(
            page.status,
            StatusCode::BAD_REQUEST,
            "attempt {i}: {}",
            page.body
        );
        assert!(page.body.contains("not valid"), "{}", page.body);
    }
    // The 11th attempt is refused before any lookup, even with the right code.
    let page = enter_code(&mut b, &tb, d["user_code"].as_str().unwrap()).await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS, "{}", page.body);
    assert!(page.location.is_none());
    let audit = tb.audit_lines().await;
    assert!(
        audit
            .iter()
            .any(|l| l["event"] == "device.code_entry" && l["reason"] == "rate_limited")
    );
    assert_eq!(
        audit
            .iter()
            .filter(|l| l["event"] == "device.code_entry" && l["reason"] == "unknown_user_code")
            .count(),
        10
    );
}

#[tokio::test]
async fn the_code_entry_form_needs_its_csrf_token_and_browser() {
    let tb = broker(manual_clock()).await;
    let d = start_device(&tb, "openid").await;
    let code = d["user_code"].as_str().unwrap();
    let mut b = Browser::new();
    let page = b.get(&tb.url("/device")).await;
    let csrf = page.field("csrf");
    // Wrong token.
    let bad = b
        .post(
            &tb.url("/device"),
            &[("csrf", "forged"), ("user_code", code)],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
    assert!(bad.location.is_none());
    // The right token from another browser (no binding cookie).
    let mut other = Browser::new();
    let bad = other
        .post(&tb.url("/device"), &[("csrf", &csrf), ("user_code", code)])
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
    // The login a code starts is bound to the browser that entered it.
    let entered = b
        .post(&tb.url("/device"), &[("csrf", &csrf), ("user_code", code)])
        .await;
    assert_eq!(entered.status, StatusCode::SEE_OTHER);
    let stolen = other
        .get(&tb.url(entered.location.as_deref().unwrap()))
        .await;
    assert_eq!(stolen.status, StatusCode::BAD_REQUEST, "{}", stolen.body);
}

#[tokio::test]
async fn discovery_advertises_the_device_endpoint_and_grant() {
    let tb = broker(Clock::System).await;
    let meta: Value = reqwest::get(tb.url("/.well-known/openid-configuration"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        meta["device_authorization_endpoint"],
        tb.url("/device_authorization").as_str()
    );
    let grants = meta["grant_types_supported"].as_array().unwrap();
    assert!(grants.iter().any(|g| g == GRANT), "{grants:?}");
}

#[tokio::test]
async fn an_sso_user_approves_a_device_through_entra() {
    let fake = FakeEntra::start().await;
    let tid = fake.add_tenant("contoso.com");
    let ada = fake
        .tenant(&tid)
        .add_user(NewUser::new("ada@contoso.com", "Ada Lovelace"));
    let extra = format!(
        r#"upstreams:
  - id: entra
    kind: entra
    client_id: {APP}
    client_secret_env: ENTRA_SECRET
    authority: {authority}
    graph: {graph}
organizations:
  - id: contoso
    domains: [contoso.com]
    upstream: entra
    tenant_id: {tid}
    sso: all_synced_users
"#,
        authority = fake.authority(),
        graph = fake.graph(),
    );
    let users = format!(
        r#"users:
  - email: {USER}
    name: Alice Example
    password_hash: "{hash}"
  - email: ada@contoso.com
    name: Ada Lovelace
    organization: contoso
    link: {{tid: {tid}, oid: {oid}}}
"#,
        hash = password_hash(),
        oid = ada.id,
    );
    let tb = TestBroker::start_with_clients(TV, &extra, Some(&users), Clock::System).await;
    fake.register_app(APP, &[&tb.url("/upstream/callback")]);
    fake.add_app_secret(APP, "entra-app-secret-value");

    let d = start_device(&tb, "openid profile").await;
    let mut b = Browser::new();
    let entered = enter_code(&mut b, &tb, d["user_code"].as_str().unwrap()).await;
    let login = b.follow(&tb.base, entered).await;
    let step = b
        .post(
            &tb.url("/login/identifier"),
            &[
                ("tx", &login.field("tx")),
                ("csrf", &login.field("csrf")),
                ("identifier", "ada@contoso.com"),
            ],
        )
        .await;
    assert_eq!(step.status, StatusCode::SEE_OTHER, "{}", step.body);
    let upstream = step.location.unwrap();
    assert!(upstream.starts_with(&fake.authority()), "{upstream}");
    let back = b.get(&upstream).await;
    let consent = b.get(&back.location.unwrap()).await;
    assert_eq!(consent.status, StatusCode::OK, "{}", consent.body);
    assert!(consent.body.contains("Living Room TV"), "{}", consent.body);
    let done = decide(&mut b, &tb, &consent, "approve").await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);

    let (status, tokens) = poll(&tb, d["device_code"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let id = claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["amr"], serde_json::json!(["fed"]));
    assert_eq!(id["idp"], "entra");
    assert_eq!(id["name"], "Ada Lovelace");
}

/// Two replicas on one Redis: the device asks replica A, the user enters the code and
/// approves on replica B, the device polls A and B.
#[tokio::test]
async fn the_device_flow_spans_replicas_on_redis() {
    let redis = RedisServer::start();
    let (a, b_rep, _keys) = crate::support::broker::replica_pair(&redis.url(), TV).await;
    let local = |tb: &TestBroker| format!("http://127.0.0.1:{}", tb.port);
    let (a, b_rep) = (&a, &b_rep);

    let (s, d) = post(
        &format!("{}/device_authorization", local(a)),
        &[("client_id", "tv")],
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{d}");
    let code = d["device_code"].as_str().unwrap();
    let poll_on = |tb: &TestBroker| {
        let url = format!("{}/token", local(tb));
        async move {
            post(
                &url,
                &[
                    ("grant_type", GRANT),
                    ("client_id", "tv"),
                    ("device_code", code),
                ],
            )
            .await
        }
    };
    assert_error(poll_on(a).await, "authorization_pending");
    // The poll state is shared: polling B at once is too fast.
    assert_error(poll_on(b_rep).await, "slow_down");

    let mut b = Browser::new();
    let base = local(b_rep);
    let page = b.get(&format!("{base}/device")).await;
    let entered = b
        .post(
            &format!("{base}/device"),
            &[
                ("csrf", &page.field("csrf")),
                ("user_code", d["user_code"].as_str().unwrap()),
            ],
        )
        .await;
    assert_eq!(entered.status, StatusCode::SEE_OTHER, "{}", entered.body);
    let login = b.follow(&base, entered).await;
    let (tx, csrf) = (login.field("tx"), login.field("csrf"));
    b.post(
        &format!("{base}/login/identifier"),
        &[("tx", &tx), ("csrf", &csrf), ("identifier", USER)],
    )
    .await;
    let consent = b
        .post(
            &format!("{base}/login/password"),
            &[("tx", &tx), ("csrf", &csrf), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(consent.status, StatusCode::OK, "{}", consent.body);
    let done = b
        .post(
            &format!("{}/device/decision", local(a)),
            &[
                ("tx", &consent.field("tx")),
                ("csrf", &consent.field("csrf")),
                ("decision", "approve"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let (s, tokens) = poll_on(a).await;
    assert_eq!(s, StatusCode::OK, "{tokens}");
    assert_error(poll_on(b_rep).await, "invalid_grant");
}

/// An API's scope makes its API the audience of the device's tokens, as at `/authorize`;
/// an ungranted one is `invalid_scope` at `/device_authorization`, and a poll naming another
/// resource is `invalid_target` and consumes nothing (RFC 8707 §2.2).
#[tokio::test]
async fn a_device_asking_for_an_api_scope_gets_tokens_for_that_api() {
    let apis = r#"apis:
  - id: orders
    identifier: https://orders.example.com
    scopes: [orders.read]
    clients: {tv: [orders.read]}
"#;
    let tb = TestBroker::start_with_clients(TV, apis, None, Clock::System).await;
    let (status, body) = post(
        &tb.url("/device_authorization"),
        &[
            ("client_id", "kiosk"),
            ("client_secret", WEB_SECRET),
            ("scope", "openid orders.read"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "invalid_scope", "{body}");

    let d = start_device(&tb, "openid offline_access orders.read").await;
    let device_code = d["device_code"].as_str().unwrap().to_owned();
    let mut b = Browser::new();
    let consent = sign_in_for_device(&mut b, &tb, d["user_code"].as_str().unwrap()).await;
    let done = decide(&mut b, &tb, &consent, "approve").await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);

    let poll_for = |resource: &'static str| {
        let tb = &tb;
        let device_code = device_code.clone();
        async move {
            post(
                &tb.url("/token"),
                &[
                    ("grant_type", GRANT),
                    ("client_id", "tv"),
                    ("device_code", &device_code),
                    ("resource", resource),
                ],
            )
            .await
        }
    };
    assert_error(poll_for("urn:example:other").await, "invalid_target");
    let (status, body) = poll_for("https://orders.example.com").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let at = claims(body["access_token"].as_str().unwrap());
    assert_eq!(at["aud"], "https://orders.example.com");
    assert_eq!(at["scope"], "openid offline_access orders.read");
    let (status, refreshed) = post(
        &tb.url("/token"),
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "tv"),
            ("refresh_token", body["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{refreshed}");
    assert_eq!(
        claims(refreshed["access_token"].as_str().unwrap())["aud"],
        "https://orders.example.com"
    );
}
