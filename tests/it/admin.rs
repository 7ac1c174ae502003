//! The admin API against the fake Entra ID and Graph: authentication, the consent link and
//! its callback, fetching users (paging, throttling, revoked consent), importing exactly the
//! selected users, the per-user SSO switch, passwords and password links, disable, revoke,
//! the audit query, and the whole path from consent to an imported user signing in by SSO.

use std::sync::atomic::AtomicU64;
use std::time::Instant;

use idbroker::clock::{Clock, system_now};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::fake_entra::{EntraUser, FakeEntra};
use crate::support::broker::{PASSWORD, TestBroker, USER, password_hash, test_env};
use crate::support::browser::{Browser, Page, sign_in};
use crate::support::oauth::{claims, identify, redeem_spa_code, spa_authorize_url};

pub(crate) const APP: &str = "0b7c4d1e-5f60-4a7b-8c9d-0e1f2a3b4c5d";
const APP_SECRET: &str = "entra-app-secret-value";

pub(crate) fn admin_token() -> String {
    test_env("IDBROKER_ADMIN_TOKEN").unwrap()
}

pub(crate) struct World {
    pub(crate) fake: FakeEntra,
    pub(crate) tb: TestBroker,
    pub(crate) tid: String,
    /// The tenant's users (`user001@contoso.com`…), in Graph order.
    pub(crate) entra: Vec<EntraUser>,
    pub(crate) api: Api,
}

pub(crate) struct Api {
    pub(crate) http: reqwest::Client,
    pub(crate) base: String,
    pub(crate) token: Option<String>,
}

impl Api {
    pub(crate) async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value)
    }
    pub(crate) async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(reqwest::Method::GET, path, None).await
    }
    pub(crate) async fn post(&self, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        self.call(reqwest::Method::POST, path, body).await
    }
    pub(crate) async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(reqwest::Method::PUT, path, Some(body)).await
    }
    pub(crate) fn with_token(&self, token: Option<&str>) -> Api {
        Api {
            http: self.http.clone(),
            base: self.base.clone(),
            token: token.map(str::to_owned),
        }
    }
}

/// A broker with the admin API on, one Entra organisation (`contoso`, `sso`) whose tenant
/// has `users` users, and the broker's app registered (not yet consented).
async fn world_with(sso: &str, users: usize, clock: Clock) -> World {
    world_full(sso, users, clock, "").await
}

/// `org_extra` is appended to the contoso organisation (e.g. `    sync: {interval: 1h}\n`).
pub(crate) async fn world_full(sso: &str, users: usize, clock: Clock, org_extra: &str) -> World {
    let fake = FakeEntra::start().await;
    let tid = fake.add_tenant("contoso.com");
    let entra = fake.tenant(&tid).add_users(users);
    let extra = format!(
        r#"admin: {{token_env: IDBROKER_ADMIN_TOKEN}}
upstreams:
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
    sso: {sso}
{org_extra}  - id: local
    domains: [example.com]
"#,
        authority = fake.authority(),
        graph = fake.graph(),
    );
    let users_yaml = format!(
        r#"users:
  - email: {USER}
    name: Alice Example
    organization: local
    password_hash: "{hash}"
  - email: nopass@example.com
    name: No Password
    organization: local
"#,
        hash = password_hash()
    );
    let tb = TestBroker::start_with(&extra, Some(&users_yaml), clock).await;
    fake.register_app(
        APP,
        &[
            &tb.url("/upstream/callback"),
            &tb.url("/admin/consent/callback"),
        ],
    );
    fake.add_app_secret(APP, APP_SECRET);
    let api = Api {
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        base: tb.base.clone(),
        token: Some(admin_token()),
    };
    World {
        fake,
        tb,
        tid,
        entra,
        api,
    }
}

pub(crate) async fn world(sso: &str, users: usize) -> World {
    world_with(sso, users, Clock::System).await
}

/// Runs the consent link through the fake (which grants at once) and visits the callback.
async fn consent(w: &World) -> Page {
    let (status, body) = w
        .api
        .post("/admin/api/organizations/contoso/consent-link", None)
        .await;
    assert_eq!(status, 200, "{body}");
    let mut b = Browser::new();
    let at_entra = b.get(body["url"].as_str().unwrap()).await;
    assert!(at_entra.status.is_redirection(), "{}", at_entra.body);
    let callback = at_entra.location.unwrap();
    assert!(
        callback.starts_with(&w.tb.url("/admin/consent/callback")),
        "{callback}"
    );
    b.get(&callback).await
}

fn query_param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn ids(users: &[&EntraUser]) -> Value {
    json!(users.iter().map(|u| u.id.clone()).collect::<Vec<_>>())
}

async fn user_view(w: &World, id: &str) -> Value {
    let (status, body) = w.api.get(&format!("/admin/api/users/{id}")).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Signs `who` in through the fake Entra; returns the broker's ID token claims.
pub(crate) async fn sso_sign_in(w: &World, who: &str) -> Value {
    let tokens = sso_tokens(w, who, "openid%20email%20profile").await;
    claims(tokens["id_token"].as_str().unwrap())
}

/// Signs `who` in through the fake Entra with `scope`; returns the broker's token response.
pub(crate) async fn sso_tokens(w: &World, who: &str, scope: &str) -> Value {
    let mut b = Browser::new();
    let first = b.get(&spa_authorize_url(&w.tb.base, scope)).await;
    let page = b.follow(&w.tb.base, first).await;
    let step = b
        .post(
            &w.tb.url("/login/identifier"),
            &[
                ("tx", &page.field("tx")),
                ("csrf", &page.field("csrf")),
                ("identifier", who),
            ],
        )
        .await;
    assert_eq!(
        step.status,
        StatusCode::SEE_OTHER,
        "{who}: not sent upstream: {}",
        step.body
    );
    let upstream = step.location.unwrap();
    assert!(upstream.starts_with(&w.fake.authority()), "{upstream}");
    let back = b.get(&upstream).await;
    assert!(back.status.is_redirection(), "{}", back.body);
    let done = b.get(&back.location.unwrap()).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let code = done.location_param("code").expect("a code for the app");
    redeem_spa_code(&w.tb, &code).await
}

// ------------------------------------------------------------------------ authentication

#[tokio::test]
async fn admin_api_needs_the_bearer_token_and_a_refusal_changes_nothing() {
    let w = world("per_user", 0).await;
    let before = user_view(&w, "nopass@example.com").await;
    for token in [
        None,
        Some("wrong-token-0123456789abcdef0123456789abcdef"),
        Some(""),
    ] {
        let api = w.api.with_token(token);
        let (status, body) = api.get("/admin/api/organizations").await;
        assert_eq!(status, 401, "{token:?}: {body}");
        assert_eq!(body["error"], "invalid_token");
        let (status, _) = api
            .put(
                "/admin/api/users/nopass@example.com/password",
                json!({"password": "a-new-password"}),
            )
            .await;
        assert_eq!(status, 401);
        let (status, _) = api
            .put(
                "/admin/api/users/nopass@example.com/sso",
                json!({"enabled": true}),
            )
            .await;
        assert_eq!(status, 401);
        // Authentication comes before the body: a malformed body is still a 401.
        let (status, _) = api
            .call(
                reqwest::Method::POST,
                "/admin/api/organizations/contoso/import",
                Some(json!("x")),
            )
            .await;
        assert_eq!(status, 401);
        let (status, _) = api
            .post("/admin/api/users/alice@example.com/disable", None)
            .await;
        assert_eq!(status, 401);
    }
    let resp = reqwest::Client::new()
        .get(w.tb.url("/admin/api/users"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert!(
        resp.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    assert_eq!(user_view(&w, "nopass@example.com").await, before);
    assert!(!user_view(&w, USER).await["disabled"].as_bool().unwrap());

    let audit = w.tb.audit_lines().await;
    let refusals = audit.iter().filter(|l| l["event"] == "admin.auth").count();
    assert_eq!(refusals, 16, "every refusal audited");
    assert!(
        audit.iter().all(|l| !l.to_string().contains("wrong-token")),
        "no token in the audit"
    );
    let (status, _) = w.api.get("/admin/api/nonsense").await;
    assert_eq!(status, 404);
}

// ------------------------------------------------------------------------ consent

#[tokio::test]
async fn consent_link_has_entra_shape_and_the_callback_records_the_grant_once() {
    let w = world("per_user", 0).await;
    let (_, org) = w.api.get("/admin/api/organizations/contoso").await;
    assert_eq!(org["consent_granted"], false);
    assert!(org["consent"].is_null());

    let (status, body) = w
        .api
        .post("/admin/api/organizations/contoso/consent-link", None)
        .await;
    assert_eq!(status, 200, "{body}");
    let url = body["url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("{}/{}/adminconsent?", w.fake.authority(), w.tid)),
        "{url}"
    );
    assert_eq!(query_param(url, "client_id").as_deref(), Some(APP));
    assert_eq!(
        query_param(url, "redirect_uri").unwrap(),
        w.tb.url("/admin/consent/callback")
    );
    let state = query_param(url, "state").unwrap();
    assert!(state.len() >= 32, "{state}");
    // Two links, two states.
    let (_, again) = w
        .api
        .post("/admin/api/organizations/contoso/consent-link", None)
        .await;
    assert_ne!(
        query_param(again["url"].as_str().unwrap(), "state").unwrap(),
        state
    );

    let mut b = Browser::new();
    let at_entra = b.get(url).await;
    let callback = at_entra.location.unwrap();
    assert_eq!(
        query_param(&callback, "admin_consent").as_deref(),
        Some("True")
    );
    let page = b.get(&callback).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Consent granted"), "{}", page.body);
    assert!(w.fake.tenant(&w.tid).has_consent(APP));

    let (_, org) = w.api.get("/admin/api/organizations/contoso").await;
    assert_eq!(org["consent_granted"], true, "{org}");
    assert_eq!(org["consent"]["tenant"], w.tid.as_str());

    // The same callback again: its state was used.
    let replay = b.get(&callback).await;
    assert_eq!(replay.status, 400);
    assert!(replay.body.contains("already used"), "{}", replay.body);

    // Organisations without Entra get no link; unknown ones a 404.
    let (status, _) = w
        .api
        .post("/admin/api/organizations/local/consent-link", None)
        .await;
    assert_eq!(status, 400);
    let (status, _) = w
        .api
        .post("/admin/api/organizations/nope/consent-link", None)
        .await;
    assert_eq!(status, 404);
    let audit = w.tb.audit_lines().await;
    assert!(
        audit
            .iter()
            .any(|l| l["event"] == "admin.consent.callback" && l["outcome"] == "success")
    );
    assert!(
        audit
            .iter()
            .any(|l| l["event"] == "admin.consent.callback" && l["reason"] == "unknown_state")
    );
}

#[tokio::test]
async fn declined_consent_is_recorded_with_entras_error() {
    let w = world("per_user", 0).await;
    w.fake.next_admin_consent_declined();
    let page = consent(&w).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("not granted"), "{}", page.body);
    assert!(page.body.contains("access_denied"), "{}", page.body);
    let (_, org) = w.api.get("/admin/api/organizations/contoso").await;
    assert_eq!(org["consent_granted"], false);
    assert_eq!(org["consent"]["error"], "access_denied");
    assert!(
        org["consent"]["error_description"]
            .as_str()
            .unwrap()
            .contains("AADSTS65004")
    );
    assert!(!w.fake.tenant(&w.tid).has_consent(APP));
}

#[tokio::test]
async fn consent_from_another_tenant_or_with_a_made_up_state_is_refused() {
    let w = world("per_user", 0).await;
    let other = w.fake.add_tenant("fabrikam.com");
    let (_, body) = w
        .api
        .post("/admin/api/organizations/contoso/consent-link", None)
        .await;
    let state = query_param(body["url"].as_str().unwrap(), "state").unwrap();
    let mut b = Browser::new();
    let page = b
        .get(&format!(
            "{}?admin_consent=True&tenant={other}&state={state}",
            w.tb.url("/admin/consent/callback")
        ))
        .await;
    assert_eq!(page.status, 400, "{}", page.body);
    assert!(
        page.body.contains("different Microsoft Entra tenant"),
        "{}",
        page.body
    );
    let made_up = b
        .get(&format!(
            "{}?admin_consent=True&tenant={}&state=made-up-state",
            w.tb.url("/admin/consent/callback"),
            w.tid
        ))
        .await;
    assert_eq!(made_up.status, 400);
    let (_, org) = w.api.get("/admin/api/organizations/contoso").await;
    assert_eq!(org["consent_granted"], false);
    assert!(org["consent"].is_null(), "{org}");
}

// ------------------------------------------------------------------------ fetch

#[tokio::test]
async fn fetch_follows_every_page_despite_a_429() {
    let w = world("per_user", 25).await;
    consent(&w).await;
    w.tb.broker.internals().graph.set_page_size(10);
    w.fake.graph_throttle(1, 429);
    let started = Instant::now();
    let (status, body) = w
        .api
        .post("/admin/api/organizations/contoso/fetch-users", None)
        .await;
    let elapsed = started.elapsed();
    assert_eq!(status, 200, "{body}");
    let got: Vec<&str> = body
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    let want: Vec<&str> = w.entra.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(got, want);
    let first = &body[0];
    assert_eq!(first["displayName"], "User 001");
    assert_eq!(first["mail"], "user001@contoso.com");
    assert_eq!(first["userPrincipalName"], "user001@contoso.com");
    assert_eq!(first["accountEnabled"], true);
    assert_eq!(first["imported"], false);
    // One throttled try, then three pages of 10, 10, 5.
    let requests = w.fake.requests_to("/v1.0/users");
    assert_eq!(requests.len(), 4);
    assert!(
        requests
            .iter()
            .all(|r| r.query_param("$select") == Some(idbroker::upstream::graph::USER_SELECT))
    );
    // One app-only token for all of it.
    assert_eq!(w.fake.requests_to("/oauth2/v2.0/token").len(), 1);
    assert!(
        elapsed.as_millis() >= 1000,
        "Retry-After honoured: {elapsed:?}"
    );
    eprintln!("MEASURE fetch 25 users, 3 pages + one 429 (Retry-After 1 s): {elapsed:?}");

    let (_, org) = w.api.get("/admin/api/organizations/contoso").await;
    assert_eq!(org["last_sync"]["operation"], "fetch");
    assert_eq!(org["last_sync"]["outcome"], "success");
    assert_eq!(org["last_sync"]["users"], 25);

    // Unthrottled, 999 per page: one request; the token is reused from the cache.
    w.tb.broker.internals().graph.set_page_size(999);
    let started = Instant::now();
    let (status, body) = w
        .api
        .post("/admin/api/organizations/contoso/fetch-users", None)
        .await;
    eprintln!(
        "MEASURE fetch 25 users, 1 page, cached token: {:?}",
        started.elapsed()
    );
    assert_eq!(status, 200);
    assert_eq!(body.as_array().unwrap().len(), 25);
    assert_eq!(w.fake.requests_to("/v1.0/users").len(), 5);
    assert_eq!(w.fake.requests_to("/oauth2/v2.0/token").len(), 1);
}

#[tokio::test]
async fn fetch_of_1000_users_over_two_default_pages() {
    let w = world("per_user", 1000).await;
    consent(&w).await;
    let started = Instant::now();
    let (status, body) = w
        .api
        .post("/admin/api/organizations/contoso/fetch-users", None)
        .await;
    let elapsed = started.elapsed();
    assert_eq!(status, 200);
    assert_eq!(body.as_array().unwrap().len(), 1000);
    assert_eq!(w.fake.requests_to("/v1.0/users").len(), 2, "999 + 1");
    eprintln!("MEASURE fetch 1000 users, 2 pages of $top=999: {elapsed:?}");
}

#[tokio::test]
async fn throttling_that_does_not_end_is_a_clear_error_after_bounded_attempts() {
    let w = world("per_user", 3).await;
    consent(&w).await;
    w.fake.graph_throttle(100, 503);
    let started = Instant::now();
    let (status, body) = w
        .api
        .post("/admin/api/organizations/contoso/fetch-users", None)
        .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"], "throttled");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("4 attempts"),
        "{body}"
    );
    assert_eq!(w.fake.requests_to("/v1.0/users").len(), 4);
    eprintln!(
        "MEASURE 4 throttled attempts (Retry-After 1 s): {:?}",
        started.elapsed()
    );
    let (_, org) = w.api.get("/admin/api/organizations/contoso").await;
    assert_eq!(org["last_sync"]["outcome"], "failure");
    assert_eq!(
        org["consent_granted"], true,
        "throttling says nothing about consent"
    );
}

#[tokio::test]
async fn fetch_without_or_after_revoked_consent_says_consent_is_missing() {
    let w = world("per_user", 3).await;
    // Never consented: no service principal, the token endpoint refuses (AADSTS7000229).
    let (status, body) = w
        .api
        .post("/admin/api/organizations/contoso/fetch-users", None)
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"], "consent_missing");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("consent missing or revoked")
    );

    consent(&w).await;
    let (status, _) = w
        .api
        .post("/admin/api/organizations/contoso/fetch-users", None)
        .await;
    assert_eq!(status, 200);
    // Revoked: the cached token still works at the token level, Graph answers 403.
    w.fake.tenant(&w.tid).revoke_consent(APP);
    let (status, body) = w
        .api
        .post("/admin/api/organizations/contoso/fetch-users", None)
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"], "consent_missing");
    let (_, org) = w.api.get("/admin/api/organizations/contoso").await;
    assert_eq!(org["consent_granted"], false);
    assert_eq!(org["consent"]["error"], "consent_missing");
    assert_eq!(org["last_sync"]["outcome"], "failure");
}

// ------------------------------------------------------------------------ import

#[tokio::test]
async fn import_takes_exactly_the_selected_users_and_twice_changes_nothing() {
    let w = world("per_user", 25).await;
    consent(&w).await;
    let (a, b) = (&w.entra[3], &w.entra[17]);
    let (status, report) = w
        .api
        .post(
            "/admin/api/organizations/contoso/import",
            Some(json!({"user_ids": ids(&[a, b])})),
        )
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["created"].as_array().unwrap().len(), 2, "{report}");
    let (_, listed) = w.api.get("/admin/api/users?organization=contoso").await;
    let mut emails: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    emails.sort();
    assert_eq!(emails, vec!["user004@contoso.com", "user018@contoso.com"]);
    let ada = &listed[0];
    assert_eq!(ada["source"], "import");
    assert_eq!(ada["link"]["kind"], "entra");
    assert_eq!(ada["link"]["tid"], w.tid.as_str());
    assert_eq!(ada["has_password"], false);
    assert_eq!(ada["sso"], false);
    assert_eq!(
        ada["sign_in_method"], "none",
        "per_user with the switch off, no password"
    );

    let (_, fetched) = w
        .api
        .post("/admin/api/organizations/contoso/fetch-users", None)
        .await;
    let imported: Vec<&str> = fetched
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["imported"] == true)
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert_eq!(imported, vec![a.id.as_str(), b.id.as_str()]);

    let directory_before = w.tb.broker.internals().store.list_users().await.unwrap();
    let (_, again) = w
        .api
        .post(
            "/admin/api/organizations/contoso/import",
            Some(json!({"user_ids": ids(&[b, a])})),
        )
        .await;
    assert_eq!(again["created"], json!([]));
    assert_eq!(again["updated"], json!([]));
    assert_eq!(again["unchanged"].as_array().unwrap().len(), 2);
    assert_eq!(
        w.tb.broker.internals().store.list_users().await.unwrap(),
        directory_before
    );

    // A renamed user follows Entra on the next import; ids never change.
    w.fake.tenant(&w.tid).rename(&a.id, "Ada Renamed");
    w.fake
        .tenant(&w.tid)
        .set_mail(&a.id, Some("ada.renamed@contoso.com"));
    let (_, third) = w
        .api
        .post(
            "/admin/api/organizations/contoso/import",
            Some(json!({"user_ids": ids(&[a])})),
        )
        .await;
    assert_eq!(third["updated"].as_array().unwrap().len(), 1, "{third}");
    let renamed = user_view(&w, "ada.renamed@contoso.com").await;
    assert_eq!(renamed["name"], "Ada Renamed");
    assert_eq!(renamed["id"], report["created"][0]["user_id"]);

    // Unknown object ids are reported and import nothing; malformed ones are a 400.
    let (status, r) = w
        .api
        .post(
            "/admin/api/organizations/contoso/import",
            Some(json!({"user_ids": ["00000000-0000-0000-0000-000000000000"]})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        r["not_found"],
        json!(["00000000-0000-0000-0000-000000000000"])
    );
    let (status, _) = w
        .api
        .post(
            "/admin/api/organizations/contoso/import",
            Some(json!({"user_ids": ["alice"]})),
        )
        .await;
    assert_eq!(status, 400);
    let (status, _) = w
        .api
        .post(
            "/admin/api/organizations/contoso/import",
            Some(json!({"user_ids": []})),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        w.tb.broker
            .internals()
            .store
            .list_users()
            .await
            .unwrap()
            .len(),
        4
    );
}

#[tokio::test]
async fn import_2_of_25_and_exactly_those_2_sign_in_with_sso() {
    let w = world("all_synced_users", 25).await;
    consent(&w).await;
    let (a, b, c) = (&w.entra[0], &w.entra[1], &w.entra[2]);
    let (status, _) = w
        .api
        .post(
            "/admin/api/organizations/contoso/import",
            Some(json!({"user_ids": ids(&[a, b])})),
        )
        .await;
    assert_eq!(status, 200);
    for u in [a, b] {
        let email = u.mail.clone().unwrap();
        assert_eq!(user_view(&w, &email).await["sign_in_method"], "sso");
        let id = sso_sign_in(&w, &email).await;
        assert_eq!(id["email"], email.as_str());
        assert_eq!(id["amr"], json!(["fed"]));
    }
    // The third user of the tenant was not imported: the same password step as anyone unknown.
    let mut browser = Browser::new();
    let step = identify(&mut browser, &w.tb, c.mail.as_deref().unwrap()).await;
    assert_eq!(step.status, StatusCode::OK);
    assert!(step.body.contains("name=\"password\""), "{}", step.body);
}

// ------------------------------------------------------------------------ users

#[tokio::test]
async fn per_user_sso_switch_changes_the_login_decision_at_once() {
    let w = world("per_user", 2).await;
    consent(&w).await;
    let u = &w.entra[0];
    let email = u.mail.clone().unwrap();
    w.api
        .post(
            "/admin/api/organizations/contoso/import",
            Some(json!({"user_ids": ids(&[u])})),
        )
        .await;
    let mut b = Browser::new();
    let step = identify(&mut b, &w.tb, &email).await;
    assert_eq!(
        step.status,
        StatusCode::OK,
        "switch off: the failing password step"
    );

    let (status, view) = w
        .api
        .put(
            &format!("/admin/api/users/{email}/sso"),
            json!({"enabled": true}),
        )
        .await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["sso"], true);
    assert_eq!(view["sign_in_method"], "sso");
    assert_eq!(view["sso_upstream"], "entra");
    assert_eq!(view["password_allowed"], false);
    let id = sso_sign_in(&w, &email).await;
    assert_eq!(id["sub"], view["id"]);

    // By broker id too; off again is "none" (no password) and the login page says nothing.
    let (_, view) = w
        .api
        .put(
            &format!("/admin/api/users/{}/sso", view["id"].as_str().unwrap()),
            json!({"enabled": false}),
        )
        .await;
    assert_eq!(view["sign_in_method"], "none");
    assert_eq!(view["password_allowed"], false);
    let mut b = Browser::new();
    assert_eq!(identify(&mut b, &w.tb, &email).await.status, StatusCode::OK);

    let (status, _) = w
        .api
        .put(
            "/admin/api/users/nobody@contoso.com/sso",
            json!({"enabled": true}),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = w
        .api
        .put(
            &format!("/admin/api/users/{email}/sso"),
            json!({"on": true}),
        )
        .await;
    assert_eq!(status, 400);
    let audit = w.tb.audit_lines().await;
    assert_eq!(
        audit
            .iter()
            .filter(|l| l["event"] == "admin.user.sso" && l["outcome"] == "success")
            .count(),
        2
    );
}

#[tokio::test]
async fn users_list_shows_the_effective_sign_in_method() {
    let w = world("per_user", 0).await;
    let (status, all) = w.api.get("/admin/api/users").await;
    assert_eq!(status, 200);
    let method = |email: &str| {
        all.as_array()
            .unwrap()
            .iter()
            .find(|u| u["email"] == email)
            .map(|u| u["sign_in_method"].clone())
            .unwrap()
    };
    assert_eq!(method(USER), "password");
    assert_eq!(method("nopass@example.com"), "none");
    assert!(
        all.to_string().find("argon2").is_none(),
        "no hash in the API"
    );
    let (status, _) = w.api.get("/admin/api/users?organization=nope").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn password_set_directly_and_by_a_single_use_expiring_link() {
    let clock = Clock::Manual(AtomicU64::new(system_now()));
    let w = world_with("per_user", 0, clock).await;
    // Directly: too short is refused, then set, and the user signs in with it.
    let (status, _) = w
        .api
        .put(
            "/admin/api/users/nopass@example.com/password",
            json!({"password": "short"}),
        )
        .await;
    assert_eq!(status, 400);
    let (status, view) = w
        .api
        .put(
            "/admin/api/users/nopass@example.com/password",
            json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["sign_in_method"], "password");
    // The login page takes this user's password, and the view says so.
    assert_eq!(view["password_allowed"], true);
    let mut b = Browser::new();
    let done = sign_in(
        &mut b,
        &w.tb.base,
        &spa_authorize_url(&w.tb.base, "openid"),
        "nopass@example.com",
        PASSWORD,
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert!(done.location_param("code").is_some());

    // By link: the page shows whose password it sets; one use only.
    let (status, link) = w
        .api
        .post(&format!("/admin/api/users/{USER}/password-link"), None)
        .await;
    assert_eq!(status, 200, "{link}");
    let url = link["url"].as_str().unwrap();
    assert!(url.starts_with(&w.tb.url("/password/set?token=")), "{url}");
    let token = query_param(url, "token").unwrap();
    let mut b = Browser::new();
    let page = b.get(url).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains(USER));
    let form = |pw: &'static str, confirm: &'static str| {
        [
            ("token", token.clone()),
            ("password", pw.to_owned()),
            ("confirm", confirm.to_owned()),
        ]
    };
    let post = |f: [(&'static str, String); 3]| {
        let url = w.tb.url("/password/set");
        async move {
            reqwest::Client::new()
                .post(url)
                .form(&f)
                .send()
                .await
                .unwrap()
        }
    };
    // A mismatch does not spend the link.
    let r = post(form("a brand new password", "a different password")).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("differ"));
    let r = post(form("a brand new password", "a brand new password")).await;
    assert_eq!(r.status(), 200);
    let r = post(form("another new password", "another new password")).await;
    assert_eq!(r.status(), 400, "single use");
    let mut b = Browser::new();
    let done = sign_in(
        &mut b,
        &w.tb.base,
        &spa_authorize_url(&w.tb.base, "openid"),
        USER,
        "a brand new password",
    )
    .await;
    assert_eq!(
        done.status,
        StatusCode::SEE_OTHER,
        "the new password works: {}",
        done.body
    );

    // Expiry: a 60 s link, 61 s later.
    let (_, link) = w
        .api
        .post(
            &format!("/admin/api/users/{USER}/password-link"),
            Some(json!({"expires_in": 60})),
        )
        .await;
    w.tb.broker.internals().clock.advance(61);
    let mut b = Browser::new();
    let page = b.get(link["url"].as_str().unwrap()).await;
    assert_eq!(page.status, 400);
    assert!(page.body.contains("expired"), "{}", page.body);
    let audit = w.tb.audit_lines().await;
    assert!(
        audit.iter().all(|l| !l.to_string().contains("brand new")),
        "no password in the audit"
    );
    assert!(
        audit
            .iter()
            .any(|l| l["event"] == "user.password.set_by_link" && l["outcome"] == "success")
    );
}

/// Signs alice in with offline_access; returns (refresh token, access token).
pub(crate) async fn alice_tokens(tb: &TestBroker) -> (String, String) {
    let mut b = Browser::new();
    let done = sign_in(
        &mut b,
        &tb.base,
        &spa_authorize_url(&tb.base, "openid%20offline_access"),
        USER,
        PASSWORD,
    )
    .await;
    let tokens = redeem_spa_code(tb, &done.location_param("code").unwrap()).await;
    (
        tokens["refresh_token"].as_str().unwrap().to_owned(),
        tokens["access_token"].as_str().unwrap().to_owned(),
    )
}

async fn refresh(tb: &TestBroker, rt: &str) -> StatusCode {
    reqwest::Client::new()
        .post(tb.url("/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", "spa"),
            ("refresh_token", rt),
        ])
        .send()
        .await
        .unwrap()
        .status()
}

pub(crate) async fn userinfo(tb: &TestBroker, at: &str) -> StatusCode {
    reqwest::Client::new()
        .get(tb.url("/userinfo"))
        .bearer_auth(at)
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn revoke_ends_sessions_refresh_and_access_tokens() {
    let w = world("per_user", 0).await;
    let (rt, at) = alice_tokens(&w.tb).await;
    assert_eq!(userinfo(&w.tb, &at).await, 200);
    let (status, body) = w
        .api
        .post(&format!("/admin/api/users/{USER}/revoke"), None)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["sessions"], 1);
    assert_eq!(body["refresh_token_families"], 1);
    assert_eq!(refresh(&w.tb, &rt).await, 400);
    assert_eq!(userinfo(&w.tb, &at).await, 401);
    // Not disabled: signing in again works (after the revoked second).
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (rt2, _) = alice_tokens(&w.tb).await;
    assert_eq!(refresh(&w.tb, &rt2).await, 200);
}

#[tokio::test]
async fn disable_refuses_sign_in_and_revokes_then_enable_restores() {
    let w = world("per_user", 0).await;
    let (rt, _) = alice_tokens(&w.tb).await;
    let (status, view) = w
        .api
        .post(&format!("/admin/api/users/{USER}/disable"), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(view["disabled"], true);
    assert_eq!(view["sign_in_method"], "none");
    assert_eq!(refresh(&w.tb, &rt).await, 400);
    let mut b = Browser::new();
    let done = sign_in(
        &mut b,
        &w.tb.base,
        &spa_authorize_url(&w.tb.base, "openid"),
        USER,
        PASSWORD,
    )
    .await;
    assert!(done.location.is_none(), "a disabled user signed in");
    let (_, view) = w
        .api
        .post(&format!("/admin/api/users/{USER}/enable"), None)
        .await;
    assert_eq!(view["disabled"], false);
    assert_eq!(view["sign_in_method"], "password");
}

#[tokio::test]
async fn audit_query_filters_by_user_organization_and_since() {
    let w = world("per_user", 2).await;
    consent(&w).await;
    let u = &w.entra[0];
    let email = u.mail.clone().unwrap();
    w.api
        .post(
            "/admin/api/organizations/contoso/import",
            Some(json!({"user_ids": ids(&[u])})),
        )
        .await;
    w.api
        .put(
            &format!("/admin/api/users/{email}/sso"),
            json!({"enabled": true}),
        )
        .await;
    w.api
        .put(
            "/admin/api/users/nopass@example.com/sso",
            json!({"enabled": true}),
        )
        .await;

    let (status, by_user) = w.api.get(&format!("/admin/api/audit?user={email}")).await;
    assert_eq!(status, 200);
    let events: Vec<&str> = by_user
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        vec!["admin.user.sso", "admin.user.import"],
        "newest first"
    );
    let uid = user_view(&w, &email).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, by_id) = w.api.get(&format!("/admin/api/audit?user={uid}")).await;
    assert_eq!(
        by_id.as_array().unwrap().len(),
        by_user.as_array().unwrap().len() + 1,
        "the GET above is audited too"
    );

    let (_, by_org) = w.api.get("/admin/api/audit?organization=contoso").await;
    let records = by_org.as_array().unwrap();
    assert!(records.iter().all(|r| r["organization"] == "contoso"));
    assert!(
        records
            .iter()
            .any(|r| r["event"] == "admin.consent.callback")
    );
    assert!(records.iter().any(|r| r["event"] == "admin.users.import"));
    assert!(
        !records
            .iter()
            .any(|r| r["identifier"] == "nopass@example.com")
    );

    let future = system_now() + 3600;
    let (_, none) = w.api.get(&format!("/admin/api/audit?since={future}")).await;
    assert_eq!(none, json!([]));
    let (status, _) = w.api.get("/admin/api/audit?since=yesterday").await;
    assert_eq!(status, 400);
}

// ------------------------------------------------------------------------ re-sync

#[tokio::test]
async fn resync_follows_entra_and_deprovisioning_revokes_a_live_refresh_token() {
    let w = world("all_synced_users", 5).await;
    consent(&w).await;
    let (a, b, c, d) = (&w.entra[0], &w.entra[1], &w.entra[2], &w.entra[3]);
    w.api
        .post(
            "/admin/api/organizations/contoso/import",
            Some(json!({"user_ids": ids(&[a, b, c])})),
        )
        .await;
    let a_email = a.mail.clone().unwrap();
    let tokens = sso_tokens(&w, &a_email, "openid%20offline_access").await;
    let rt = tokens["refresh_token"].as_str().unwrap().to_owned();
    let (status, rt) = refresh_spa(&w.tb, &rt).await;
    assert_eq!(status, 200, "live before the sync");
    assert!(!rt.is_empty());

    // In Entra: a is disabled, b deleted, c renamed; d (never imported) is renamed too.
    let t = w.fake.tenant(&w.tid);
    t.disable(&a.id);
    t.delete(&b.id);
    t.rename(&c.id, "Carol Renamed");
    t.rename(&d.id, "Not Imported");
    let before =
        w.tb.broker
            .internals()
            .store
            .list_users()
            .await
            .unwrap()
            .len();
    let (status, report) = w
        .api
        .post("/admin/api/organizations/contoso/sync", None)
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["checked"], 3);
    assert_eq!(
        report["deprovisioned"].as_array().unwrap().len(),
        2,
        "{report}"
    );
    assert_eq!(report["updated"].as_array().unwrap().len(), 1, "{report}");
    assert_eq!(
        w.tb.broker
            .internals()
            .store
            .list_users()
            .await
            .unwrap()
            .len(),
        before,
        "nobody created"
    );

    assert_eq!(
        refresh_spa(&w.tb, &rt).await.0,
        400,
        "the live refresh token is revoked"
    );
    let a_view = user_view(&w, &a_email).await;
    assert_eq!(a_view["disabled"], true);
    // Revoked, not merely refused for a disabled user: re-enabling would not revive it.
    let live =
        w.tb.broker
            .internals()
            .store
            .refresh_families_of_user(a_view["id"].as_str().unwrap(), system_now())
            .await
            .unwrap();
    assert!(live.is_empty(), "{live:?}");
    assert_eq!(
        user_view(&w, b.mail.as_deref().unwrap()).await["disabled"],
        true
    );
    assert_eq!(
        user_view(&w, c.mail.as_deref().unwrap()).await["name"],
        "Carol Renamed"
    );
    let audit = w.tb.audit_lines().await;
    let deprov: Vec<_> = audit
        .iter()
        .filter(|l| l["event"] == "sync.user.deprovision")
        .collect();
    assert_eq!(deprov.len(), 2);
    assert!(deprov.iter().any(|l| l["reason"] == "disabled_in_entra"));
    assert!(deprov.iter().any(|l| l["reason"] == "deleted_in_entra"));
    assert_eq!(
        audit
            .iter()
            .filter(|l| l["event"] == "sync.user.update")
            .count(),
        1
    );

    // A failing sync changes nothing and says so on the organisation.
    t.rename(&c.id, "Carol Again");
    w.fake.graph_throttle(100, 503);
    let (status, _) = w
        .api
        .post("/admin/api/organizations/contoso/sync", None)
        .await;
    assert_eq!(status, 503);
    assert_eq!(
        user_view(&w, c.mail.as_deref().unwrap()).await["name"],
        "Carol Renamed"
    );
    let (_, org) = w.api.get("/admin/api/organizations/contoso").await;
    assert_eq!(org["last_sync"]["operation"], "resync");
    assert_eq!(org["last_sync"]["outcome"], "failure");
    let metrics = reqwest::get(w.tb.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("idbroker_sync_total"),
        "counted for metrics"
    );
}

#[tokio::test]
async fn scheduled_resync_runs_for_organisations_with_an_interval() {
    let w = world_full(
        "all_synced_users",
        2,
        Clock::System,
        "    sync: {interval: 1h}\n",
    )
    .await;
    let deadline = Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (_, org) = w.api.get("/admin/api/organizations/contoso").await;
        if org["last_sync"]["operation"] == "resync" {
            // Not consented yet: the scheduled run fails and says why.
            assert_eq!(org["last_sync"]["outcome"], "failure", "{org}");
            assert_eq!(org["consent"]["error"], "consent_missing");
            break;
        }
        assert!(Instant::now() < deadline, "no scheduled sync ran: {org}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

async fn refresh_spa(tb: &TestBroker, rt: &str) -> (StatusCode, String) {
    let resp = reqwest::Client::new()
        .post(tb.url("/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", "spa"),
            ("refresh_token", rt),
        ])
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let body: Value = resp.json().await.unwrap();
    (
        status,
        body["refresh_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

// ------------------------------------------------------------------------ the whole path

#[tokio::test]
async fn consent_fetch_import_switch_on_and_the_user_signs_in_by_sso() {
    let w = world("per_user", 25).await;
    w.tb.broker.internals().graph.set_page_size(10);
    let started = Instant::now();
    // 1. Connect the tenant.
    let page = consent(&w).await;
    assert!(page.body.contains("Consent granted"));
    // 2. See its users.
    let (status, users) = w
        .api
        .post("/admin/api/organizations/contoso/fetch-users", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(users.as_array().unwrap().len(), 25);
    // 3. Import one.
    let pick = users[12]["id"].as_str().unwrap().to_owned();
    let email = users[12]["mail"].as_str().unwrap().to_owned();
    let (_, report) = w
        .api
        .post(
            "/admin/api/organizations/contoso/import",
            Some(json!({"user_ids": [pick]})),
        )
        .await;
    assert_eq!(report["created"][0]["email"], email.as_str());
    // 4. Switch SSO on for them.
    let (_, view) = w
        .api
        .put(
            &format!("/admin/api/users/{email}/sso"),
            json!({"enabled": true}),
        )
        .await;
    assert_eq!(view["sign_in_method"], "sso");
    // 5. They sign in through Entra and the app gets the broker's own subject.
    let id = sso_sign_in(&w, &email).await;
    assert_eq!(id["sub"], view["id"]);
    assert_eq!(id["email"], email.as_str());
    eprintln!(
        "MEASURE whole path consent→fetch(25, 3 pages)→import→switch→SSO sign-in: {:?}",
        started.elapsed()
    );
    let (_, org) = w.api.get("/admin/api/organizations").await;
    let contoso = org
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == "contoso")
        .unwrap();
    assert_eq!(contoso["consent_granted"], true);
    assert_eq!(contoso["last_sync"]["operation"], "import");
    let sso = w.tb.audit_lines().await;
    assert!(sso.iter().any(|l| l["event"] == "login.sso"
        && l["outcome"] == "success"
        && l["user_id"] == view["id"]));
}

/// docs/openapi.yaml's schemas of the Graph-backed answers are their real shapes.
#[tokio::test]
async fn openapi_schemas_match_graph_answers() {
    use crate::cli::assert_matches_schema;
    let w = world("per_user", 3).await;
    consent(&w).await;
    let (status, fetched) = w
        .api
        .post("/admin/api/organizations/contoso/fetch-users", None)
        .await;
    assert_eq!(status, 200, "{fetched}");
    for u in fetched.as_array().unwrap() {
        assert_matches_schema("FetchedUser", u);
    }
    let (status, report) = w
        .api
        .post(
            "/admin/api/organizations/contoso/import",
            Some(json!({"user_ids": ids(&[&w.entra[0]])})),
        )
        .await;
    assert_eq!(status, 200, "{report}");
    assert_matches_schema("ImportReport", &report);
    assert_matches_schema("ImportedUser", &report["created"][0]);
    let (status, org) = w.api.get("/admin/api/organizations/contoso").await;
    assert_eq!(status, 200, "{org}");
    assert_matches_schema("Organization", &org);
    assert_matches_schema("ConsentState", &org["consent"]);
    assert_matches_schema("SyncState", &org["last_sync"]);
    let (status, sync) = w
        .api
        .post("/admin/api/organizations/contoso/sync", None)
        .await;
    assert_eq!(status, 200, "{sync}");
    assert_matches_schema("SyncReport", &sync);
    let (_, users) = w.api.get("/admin/api/users?organization=contoso").await;
    assert_matches_schema("User", &users[0]);
    assert_eq!(users[0]["link"]["kind"], "entra");
}

/// The consent callback page in chromium: granted, declined, and a replay refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consent_callback_page_in_chromium() {
    let w = world("per_user", 0).await;
    for expect in ["granted", "declined"] {
        if expect == "declined" {
            w.fake.next_admin_consent_declined();
        }
        let (status, body) = w
            .api
            .post("/admin/api/organizations/contoso/consent-link", None)
            .await;
        assert_eq!(status, 200, "{body}");
        crate::browser::run_script(
            "consent.mjs",
            &[body["url"].as_str().unwrap(), "contoso", expect],
        )
        .await;
        let (_, org) = w.api.get("/admin/api/organizations/contoso").await;
        assert_eq!(
            org["consent_granted"],
            expect == "granted",
            "recorded as {expect}: {org}"
        );
    }
}

/// Users the policy file declares are the file's: a re-sync neither renames nor disables
/// them (the next reload would undo it), even when Entra no longer knows their object id.
#[tokio::test]
async fn resync_leaves_policy_file_users_alone() {
    let w = world("all_synced_users", 1).await;
    consent(&w).await;
    let now = system_now();
    let pinned = idbroker::store::User {
        id: "policy-user-1".into(),
        email: "pinned@contoso.com".into(),
        name: "Pinned By The File".into(),
        organization: Some("contoso".into()),
        password_hash: None,
        link: Some(idbroker::store::UpstreamLink::Entra {
            tid: w.tid.clone(),
            oid: "00000000-0000-4000-8000-00000000dead".into(),
        }),
        sso: true,
        disabled: false,
        source: idbroker::store::UserSource::Policy,
        created_at: now,
        updated_at: now,
        tokens_valid_after: 0,
        policy_password_hash: None,
        email_verified: true,
        profile: Default::default(),
    };
    w.tb.broker
        .internals()
        .store
        .create_user(&pinned)
        .await
        .unwrap()
        .unwrap();
    let (status, report) = w
        .api
        .post("/admin/api/organizations/contoso/sync", None)
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["checked"], 0, "{report}");
    let after =
        w.tb.broker
            .internals()
            .store
            .user_by_id("policy-user-1")
            .await
            .unwrap()
            .unwrap();
    assert!(!after.disabled);
}
