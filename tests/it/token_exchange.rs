//! RFC 8693 token exchange with an Entra token (SPEC "Desktop apps and agents"): an agent
//! trades the Entra token it got silently for broker tokens. The token must pass the same
//! checks as the interactive flow's ID token and map by (tid, oid) to an imported user for
//! whom SSO applies; every refusal is `invalid_grant` with an audit record naming the reason.

use idbroker::clock::Clock;
use reqwest::StatusCode;
use serde_json::Value;

use crate::fake_entra::{EntraUser, FakeEntra, Misbehave, NewUser};
use crate::support::broker::{TestBroker, USER, WEB_SECRET, password_hash};
use crate::support::oauth::claims;

/// The broker's app registration at the fake Entra (the `aud` of exchangeable tokens).
const APP: &str = "0b7c4d1e-5f60-4a7b-8c9d-0e1f2a3b4c5d";
/// The agent's own app registration at Entra (the `azp` of an access token for APP).
const AGENT_APP: &str = "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a";
const GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ID_TOKEN: &str = "urn:ietf:params:oauth:token-type:id_token";
const JWT: &str = "urn:ietf:params:oauth:token-type:jwt";
const ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";
/// An API the agent may ask tokens for (`apis[]`).
const ORDERS_API: &str = "https://orders.example.com";

struct World {
    fake: FakeEntra,
    tb: TestBroker,
    tid: String,
    /// Imported, linked, SSO on: the exchange succeeds.
    ada: EntraUser,
    /// Imported, linked, SSO off for her (per_user): refused.
    ben: EntraUser,
    /// Imported, linked, SSO on, but disabled in the directory: refused.
    dora: EntraUser,
    /// In the tenant, never imported: refused.
    cy: EntraUser,
    /// A user of a tenant no organisation names.
    eve_tid: String,
    eve: EntraUser,
}

async fn world() -> World {
    let fake = FakeEntra::start().await;
    let tid = fake.add_tenant("contoso.com");
    let t = fake.tenant(&tid);
    let ada = t.add_user(NewUser::new("ada@contoso.com", "Ada Lovelace"));
    let ben = t.add_user(NewUser::new("ben@contoso.com", "Ben Per-User"));
    let dora = t.add_user(NewUser::new("dora@contoso.com", "Dora Disabled"));
    let cy = t.add_user(NewUser::new("cy@contoso.com", "Cy Not Imported"));
    let eve_tid = fake.add_tenant("fabrikam.com");
    // Same mail as ada: a token of another tenant must not reach ada whatever its email says.
    let eve = fake
        .tenant(&eve_tid)
        .add_user(NewUser::new("ada@contoso.com", "Eve Elsewhere"));
    let clients = r#"  - id: agent
    name: Contoso Time Tracker
    native: true
    redirect_uris: ["http://127.0.0.1/callback"]
    grants: [token_exchange, refresh_token]
    scopes: [openid, email, profile, offline_access]
  - id: agent-web
    secret_env: WEB_SECRET
    grants: [token_exchange]
    scopes: [openid, email]
"#;
    let extra = format!(
        r#"upstreams:
  - id: entra
    kind: entra
    client_id: {APP}
    client_secret_env: ENTRA_SECRET
    authority: {authority}
    graph: {graph}
    exchange_apps: [{AGENT_APP}]
organizations:
  - id: contoso
    domains: [contoso.com]
    upstream: entra
    tenant_id: {tid}
    sso: per_user
apis:
  - id: orders
    identifier: {ORDERS_API}
    scopes: [orders.read]
    clients: {{agent: [orders.read]}}
  - id: billing
    identifier: urn:example:billing
"#,
        authority = fake.authority(),
        graph = fake.graph(),
    );
    let hash = password_hash();
    let users = format!(
        r#"users:
  - email: {USER}
    name: Alice Example
    password_hash: "{hash}"
  - email: ada@contoso.com
    name: Ada Lovelace
    organization: contoso
    link: {{tid: {tid}, oid: {ada}}}
    sso: true
  - email: ben@contoso.com
    name: Ben Per-User
    organization: contoso
    password_hash: "{hash}"
    link: {{tid: {tid}, oid: {ben}}}
    sso: false
  - email: dora@contoso.com
    name: Dora Disabled
    organization: contoso
    link: {{tid: {tid}, oid: {dora}}}
    sso: true
    disabled: true
"#,
        ada = ada.id,
        ben = ben.id,
        dora = dora.id,
    );
    let tb = TestBroker::start_with_clients(clients, &extra, Some(&users), Clock::System).await;
    fake.register_app(APP, &[&tb.url("/upstream/callback")]);
    fake.add_app_secret(APP, "entra-app-secret-value");
    World {
        fake,
        tb,
        tid,
        ada,
        ben,
        dora,
        cy,
        eve_tid,
        eve,
    }
}

async fn exchange(tb: &TestBroker, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let resp = reqwest::Client::new()
        .post(tb.url("/token"))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    assert_eq!(
        resp.headers().get("cache-control").unwrap(),
        "no-store",
        "token responses are not cached"
    );
    (status, resp.json().await.unwrap())
}

/// The agent's exchange of `token` (typed `token_type`).
async fn agent_exchange(tb: &TestBroker, token: &str, token_type: &str) -> (StatusCode, Value) {
    exchange(
        tb,
        &[
            ("grant_type", GRANT),
            ("client_id", "agent"),
            ("subject_token", token),
            ("subject_token_type", token_type),
        ],
    )
    .await
}

async fn exchange_audit(tb: &TestBroker) -> Vec<Value> {
    tb.audit_lines()
        .await
        .into_iter()
        .filter(|l| l["event"] == "token.exchange")
        .collect()
}

/// Asserts a refusal: 400 invalid_grant, and the last audit record says why.
async fn assert_refused(w: &World, (status, body): (StatusCode, Value), reason: &str) {
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "invalid_grant", "{body}");
    assert!(body.get("access_token").is_none());
    let audit = exchange_audit(&w.tb).await;
    let last = audit.last().expect("an audit record of the refusal");
    assert_eq!(last["outcome"], "failure", "{last}");
    assert_eq!(last["reason"], reason, "{last}");
    assert_eq!(last["client_id"], "agent", "{last}");
}

#[tokio::test]
async fn an_entra_id_token_of_an_imported_sso_user_becomes_broker_tokens() {
    let w = world().await;
    let entra = w.fake.silent_id_token(&w.tid, &w.ada.id, APP);
    let (status, body) = agent_exchange(&w.tb, &entra, ID_TOKEN).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // RFC 8693 §2.2.1.
    assert_eq!(body["issued_token_type"], ACCESS_TOKEN);
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["expires_in"].as_u64().unwrap() > 0);
    assert!(body["refresh_token"].is_string(), "the agent may refresh");

    let ada =
        w.tb.broker
            .internals()
            .store
            .user_by_email("ada@contoso.com")
            .await
            .unwrap()
            .unwrap();
    let at = claims(body["access_token"].as_str().unwrap());
    assert_eq!(
        at["sub"],
        ada.id.as_str(),
        "the broker's own user id, not the oid"
    );
    assert_eq!(at["aud"], "agent");
    assert_eq!(at["client_id"], "agent");
    assert_eq!(at["amr"], serde_json::json!(["fed"]));
    assert_eq!(at["idp"], "entra");
    assert_eq!(at["org"], "contoso");
    assert_eq!(at["iss"], w.tb.base.as_str());
    let id = claims(body["id_token"].as_str().unwrap());
    assert_eq!(id["sub"], ada.id.as_str());
    assert_eq!(id["amr"], serde_json::json!(["fed"]));
    assert_eq!(id["email"], "ada@contoso.com");

    // The broker's access token is a real one: /userinfo answers for ada.
    let info: Value = reqwest::Client::new()
        .get(w.tb.url("/userinfo"))
        .bearer_auth(body["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["sub"], ada.id.as_str());

    // And the refresh token rotates like any other.
    let (status, refreshed) = exchange(
        &w.tb,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "agent"),
            ("refresh_token", body["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{refreshed}");
    assert_eq!(
        claims(refreshed["access_token"].as_str().unwrap())["amr"],
        serde_json::json!(["fed"])
    );

    let audit = exchange_audit(&w.tb).await;
    let ok = audit.last().unwrap();
    assert_eq!(ok["outcome"], "success");
    assert_eq!(ok["user_id"], ada.id.as_str());
    assert_eq!(ok["upstream"], "entra");
    assert_eq!(ok["organization"], "contoso");
    assert_eq!(ok["client_id"], "agent");
    assert!(ok["ip"].is_string(), "{ok}");
    // Nothing of the Entra token lands in the audit log.
    let line = serde_json::to_string(ok).unwrap();
    assert!(!line.contains(&entra[..40]));
}

#[tokio::test]
async fn an_entra_access_token_for_the_brokers_app_is_accepted_as_jwt() {
    let w = world().await;
    let entra = w
        .fake
        .silent_access_token(&w.tid, &w.ada.id, APP, AGENT_APP);
    let (status, body) = exchange(
        &w.tb,
        &[
            ("grant_type", GRANT),
            ("client_id", "agent"),
            ("subject_token", &entra),
            ("subject_token_type", JWT),
            ("requested_token_type", ACCESS_TOKEN),
            ("scope", "openid profile"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["scope"], "openid profile");
    let id = claims(body["id_token"].as_str().unwrap());
    assert_eq!(id["name"], "Ada Lovelace");
    assert!(id.get("email").is_none(), "no email scope asked");
}

#[tokio::test]
async fn a_confidential_client_allowed_the_grant_exchanges_with_its_secret() {
    let w = world().await;
    let entra = w.fake.silent_id_token(&w.tid, &w.ada.id, APP);
    let (status, body) = exchange(
        &w.tb,
        &[
            ("grant_type", GRANT),
            ("client_id", "agent-web"),
            ("client_secret", WEB_SECRET),
            ("subject_token", &entra),
            ("subject_token_type", ID_TOKEN),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body.get("refresh_token").is_none(),
        "not allowed refresh_token"
    );
    // A wrong secret is invalid_client before the token is even looked at.
    let (status, body) = exchange(
        &w.tb,
        &[
            ("grant_type", GRANT),
            ("client_id", "agent-web"),
            ("client_secret", "wrong"),
            ("subject_token", &entra),
            ("subject_token_type", ID_TOKEN),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"], "invalid_client");
}

#[tokio::test]
async fn only_clients_allowed_the_grant_may_exchange() {
    let w = world().await;
    let entra = w.fake.silent_id_token(&w.tid, &w.ada.id, APP);
    for (client, secret) in [("spa", None), ("web", Some(WEB_SECRET))] {
        let mut form = vec![
            ("grant_type", GRANT),
            ("client_id", client),
            ("subject_token", entra.as_str()),
            ("subject_token_type", ID_TOKEN),
        ];
        if let Some(s) = secret {
            form.push(("client_secret", s));
        }
        let (status, body) = exchange(&w.tb, &form).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{client}: {body}");
        assert_eq!(body["error"], "unauthorized_client", "{client}: {body}");
    }
    // Nothing was audited as an exchange: the token was never looked at.
    assert!(exchange_audit(&w.tb).await.is_empty());
}

#[tokio::test]
async fn tokens_of_users_who_may_not_sign_in_here_are_refused() {
    let w = world().await;
    // Not imported (only in the tenant).
    let t = w.fake.silent_id_token(&w.tid, &w.cy.id, APP);
    assert_refused(
        &w,
        agent_exchange(&w.tb, &t, ID_TOKEN).await,
        "unknown_user",
    )
    .await;
    // Imported, but SSO does not apply to him (per_user, flag off): he uses his password.
    let t = w.fake.silent_id_token(&w.tid, &w.ben.id, APP);
    assert_refused(
        &w,
        agent_exchange(&w.tb, &t, ID_TOKEN).await,
        "sso_not_enabled",
    )
    .await;
    // Disabled in the directory.
    let t = w.fake.silent_id_token(&w.tid, &w.dora.id, APP);
    assert_refused(&w, agent_exchange(&w.tb, &t, ID_TOKEN).await, "disabled").await;
    // A tenant no organisation names, for a user with ada's very email.
    let t = w.fake.silent_id_token(&w.eve_tid, &w.eve.id, APP);
    assert_refused(
        &w,
        agent_exchange(&w.tb, &t, ID_TOKEN).await,
        "tenant_unknown",
    )
    .await;
    // Same through the misbehaviour knob: a correctly signed token of the other tenant.
    w.fake
        .next_id_token(Misbehave::OtherTenant(w.eve_tid.clone()));
    let t = w.fake.silent_id_token(&w.tid, &w.ada.id, APP);
    assert_refused(
        &w,
        agent_exchange(&w.tb, &t, ID_TOKEN).await,
        "tenant_unknown",
    )
    .await;
}

#[tokio::test]
async fn tokens_that_fail_verification_are_refused() {
    let w = world().await;
    // Another application's token (a token Entra issued for some other API).
    let t = w.fake.silent_id_token(&w.tid, &w.ada.id, AGENT_APP);
    assert_refused(
        &w,
        agent_exchange(&w.tb, &t, ID_TOKEN).await,
        "wrong_audience",
    )
    .await;
    let t = w
        .fake
        .silent_access_token(&w.tid, &w.ada.id, AGENT_APP, APP);
    assert_refused(&w, agent_exchange(&w.tb, &t, JWT).await, "wrong_audience").await;

    let cases = [
        (Misbehave::WrongAudience, "wrong_audience"),
        (Misbehave::Expired, "token_expired"),
        (Misbehave::NotYetValid, "token_not_yet_valid"),
        (Misbehave::WrongIssuer, "wrong_issuer"),
        (Misbehave::TamperedSignature, "bad_signature"),
        (Misbehave::UnknownKey, "unknown_kid"),
        (Misbehave::AlgNone, "alg_not_allowed"),
        (Misbehave::Hs256ClientSecret, "alg_not_allowed"),
    ];
    let n = cases.len();
    for (misbehave, reason) in cases {
        w.fake.next_id_token(misbehave);
        let t = w.fake.silent_id_token(&w.tid, &w.ada.id, APP);
        assert_refused(&w, agent_exchange(&w.tb, &t, ID_TOKEN).await, reason).await;
    }
    // Not a JWT at all, or a JWT without a tenant.
    assert_refused(
        &w,
        agent_exchange(&w.tb, "not-a-jwt", ID_TOKEN).await,
        "tenant_unknown",
    )
    .await;
    // A tid forged into a token signed by nobody the tenant knows.
    let forged = {
        use base64::Engine;
        let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let header = e.encode(br#"{"alg":"RS256","kid":"made-up","typ":"JWT"}"#);
        let body = e.encode(
            serde_json::json!({"tid": w.tid, "oid": w.ada.id, "aud": APP, "iss": "x", "sub": "s", "exp": 4_000_000_000u64})
                .to_string(),
        );
        format!("{header}.{body}.{}", e.encode(b"sig"))
    };
    assert_refused(
        &w,
        agent_exchange(&w.tb, &forged, ID_TOKEN).await,
        "unknown_kid",
    )
    .await;
    // Every refusal was audited; none succeeded.
    let audit = exchange_audit(&w.tb).await;
    assert_eq!(audit.len(), 2 + n + 2);
    assert!(audit.iter().all(|r| r["outcome"] == "failure"));
}

#[tokio::test]
async fn malformed_exchange_requests_are_invalid_request_and_change_nothing() {
    let w = world().await;
    let t = w.fake.silent_id_token(&w.tid, &w.ada.id, APP);
    let base = [("grant_type", GRANT), ("client_id", "agent")];
    let with = |extra: &[(&'static str, &str)]| {
        let mut v: Vec<(&str, String)> = base.iter().map(|(k, v)| (*k, v.to_string())).collect();
        v.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        v
    };
    let cases: Vec<(Vec<(&str, String)>, &str)> = vec![
        (with(&[("subject_token_type", ID_TOKEN)]), "invalid_request"),
        (with(&[("subject_token", &t)]), "invalid_request"),
        (
            with(&[
                ("subject_token", &t),
                (
                    "subject_token_type",
                    "urn:ietf:params:oauth:token-type:saml2",
                ),
            ]),
            "invalid_request",
        ),
        (
            with(&[
                ("subject_token", &t),
                ("subject_token_type", ID_TOKEN),
                ("actor_token", &t),
                ("actor_token_type", ID_TOKEN),
            ]),
            "invalid_request",
        ),
        (
            with(&[
                ("subject_token", &t),
                ("subject_token_type", ID_TOKEN),
                (
                    "requested_token_type",
                    "urn:ietf:params:oauth:token-type:refresh_token",
                ),
            ]),
            "invalid_request",
        ),
        (
            with(&[
                ("subject_token", &t),
                ("subject_token_type", ID_TOKEN),
                ("audience", "https://another.api.example"),
            ]),
            "invalid_target",
        ),
        (
            with(&[
                ("subject_token", &t),
                ("subject_token_type", ID_TOKEN),
                ("scope", "openid admin"),
            ]),
            "invalid_scope",
        ),
    ];
    for (form, error) in cases {
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, body) = exchange(&w.tb, &form).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{form:?}: {body}");
        assert_eq!(body["error"], error, "{form:?}: {body}");
    }
    assert!(exchange_audit(&w.tb).await.is_empty());
    // The same token, asked for properly, still works (nothing was consumed).
    let (status, body) = agent_exchange(&w.tb, &t, ID_TOKEN).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn discovery_advertises_the_exchange_grant() {
    let w = world().await;
    let meta: Value = reqwest::get(w.tb.url("/.well-known/openid-configuration"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let grants = meta["grant_types_supported"].as_array().unwrap();
    assert!(grants.iter().any(|g| g == GRANT), "{grants:?}");
    // A broker whose clients do not use it does not advertise it.
    let plain = TestBroker::start().await;
    let meta: Value = reqwest::get(plain.url("/.well-known/openid-configuration"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let grants = meta["grant_types_supported"].as_array().unwrap();
    assert!(!grants.iter().any(|g| g == GRANT), "{grants:?}");
    assert!(meta.get("device_authorization_endpoint").is_none());
}

/// How often the broker fetched the tenant's keys.
fn jwks_fetches(w: &World) -> usize {
    w.fake.requests_to("/discovery/v2.0/keys").len()
}

/// Entra publishes a new signing key and signs with it at once: the first token with the new
/// `kid`, seconds after the broker loaded the tenant's keys, is accepted. Loading the keys
/// does not count against the refetch floor; only refetches for an unknown `kid` do.
#[tokio::test]
async fn a_signing_key_published_just_after_loading_is_accepted_at_once() {
    let w = world().await;
    let t = w.fake.silent_id_token(&w.tid, &w.ada.id, APP);
    let (status, body) = agent_exchange(&w.tb, &t, ID_TOKEN).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(jwks_fetches(&w), 1, "the keys were loaded with the tenant");

    let new_kid = w.fake.rotate_signing_key();
    let t = w.fake.silent_id_token(&w.tid, &w.ada.id, APP);
    let (status, body) = agent_exchange(&w.tb, &t, ID_TOKEN).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a token signed with {new_kid}: {body}"
    );
    assert_eq!(jwks_fetches(&w), 2, "one refetch for the new kid");
}

/// The floor still holds for made-up `kid`s: a flood of them costs the IdP at most one
/// refetch per 30 s, however many arrive.
#[tokio::test]
async fn a_flood_of_unknown_kids_refetches_the_keys_at_most_once() {
    let w = world().await;
    let t = w.fake.silent_id_token(&w.tid, &w.ada.id, APP);
    assert_eq!(agent_exchange(&w.tb, &t, ID_TOKEN).await.0, StatusCode::OK);
    for _ in 0..10 {
        w.fake.next_id_token(Misbehave::UnknownKey);
        let t = w.fake.silent_id_token(&w.tid, &w.ada.id, APP);
        assert_refused(&w, agent_exchange(&w.tb, &t, ID_TOKEN).await, "unknown_kid").await;
    }
    assert!(jwks_fetches(&w) <= 2, "{} JWKS fetches", jwks_fetches(&w));
}

/// An access token for the broker's app is exchanged only when the app that asked Entra for
/// it (`azp`) is the broker's own registration or listed in the upstream's `exchange_apps`:
/// any other app the user signed in to could otherwise trade its token for broker tokens.
#[tokio::test]
async fn only_tokens_requested_by_allowed_apps_are_exchanged() {
    const OTHER_APP: &str = "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d";
    let w = world().await;
    let t = w
        .fake
        .silent_access_token(&w.tid, &w.ada.id, APP, OTHER_APP);
    assert_refused(&w, agent_exchange(&w.tb, &t, JWT).await, "app_not_allowed").await;
    // The listed agent app, and the broker's own app, are accepted.
    for azp in [AGENT_APP, APP] {
        let t = w.fake.silent_access_token(&w.tid, &w.ada.id, APP, azp);
        let (status, body) = agent_exchange(&w.tb, &t, JWT).await;
        assert_eq!(status, StatusCode::OK, "azp {azp}: {body}");
    }
}

/// A subject token is exchanged once: a copy replayed within its lifetime is refused.
#[tokio::test]
async fn a_subject_token_is_exchanged_only_once() {
    let w = world().await;
    let t = w.fake.silent_id_token(&w.tid, &w.ada.id, APP);
    let (status, body) = agent_exchange(&w.tb, &t, ID_TOKEN).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_refused(
        &w,
        agent_exchange(&w.tb, &t, ID_TOKEN).await,
        "token_replayed",
    )
    .await;
    let t = w
        .fake
        .silent_access_token(&w.tid, &w.ada.id, APP, AGENT_APP);
    assert_eq!(agent_exchange(&w.tb, &t, JWT).await.0, StatusCode::OK);
    assert_refused(&w, agent_exchange(&w.tb, &t, JWT).await, "token_replayed").await;
    // A fresh token for the same user is fine.
    let t = w.fake.silent_id_token(&w.tid, &w.ada.id, APP);
    assert_eq!(agent_exchange(&w.tb, &t, ID_TOKEN).await.0, StatusCode::OK);
}

/// RFC 8693 §2.1 mapped onto the APIs: `audience` (an API's identifier) or `resource`, or an
/// API's scope alone, addresses the exchanged tokens to that API, and their refresh stays
/// with it; an API not granted to the client, or two different targets, is `invalid_target`.
#[tokio::test]
async fn an_exchange_may_address_its_tokens_to_an_api() {
    let w = world().await;
    for target in [
        ("audience", ORDERS_API),
        ("resource", ORDERS_API),
        ("scope", "openid orders.read"),
    ] {
        let t = w.fake.silent_id_token(&w.tid, &w.ada.id, APP);
        let form = [
            ("grant_type", GRANT),
            ("client_id", "agent"),
            ("subject_token", t.as_str()),
            ("subject_token_type", ID_TOKEN),
            target,
        ];
        let (status, body) = exchange(&w.tb, &form).await;
        assert_eq!(status, StatusCode::OK, "{target:?}: {body}");
        let at = claims(body["access_token"].as_str().unwrap());
        assert_eq!(at["aud"], ORDERS_API, "{target:?}");
        assert_eq!(at["client_id"], "agent");

        let (status, refreshed) = exchange(
            &w.tb,
            &[
                ("grant_type", "refresh_token"),
                ("client_id", "agent"),
                ("refresh_token", body["refresh_token"].as_str().unwrap()),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{refreshed}");
        assert_eq!(
            claims(refreshed["access_token"].as_str().unwrap())["aud"],
            ORDERS_API
        );
    }
    let t = w.fake.silent_id_token(&w.tid, &w.ada.id, APP);
    for extra in [
        &[("audience", "urn:example:billing")][..],
        &[("resource", "urn:example:billing")][..],
        &[
            ("audience", ORDERS_API),
            ("resource", "urn:example:billing"),
        ][..],
    ] {
        let mut form = vec![
            ("grant_type", GRANT),
            ("client_id", "agent"),
            ("subject_token", t.as_str()),
            ("subject_token_type", ID_TOKEN),
        ];
        form.extend_from_slice(extra);
        let (status, body) = exchange(&w.tb, &form).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{extra:?}: {body}");
        assert_eq!(body["error"], "invalid_target", "{extra:?}: {body}");
    }
    // The target may still be the client itself, named either way, as before.
    for target in [("audience", "agent"), ("resource", "agent")] {
        let t = w.fake.silent_id_token(&w.tid, &w.ada.id, APP);
        let (status, body) = exchange(
            &w.tb,
            &[
                ("grant_type", GRANT),
                ("client_id", "agent"),
                ("subject_token", t.as_str()),
                ("subject_token_type", ID_TOKEN),
                target,
            ],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{target:?}: {body}");
        assert_eq!(
            claims(body["access_token"].as_str().unwrap())["aud"],
            "agent"
        );
    }
}
