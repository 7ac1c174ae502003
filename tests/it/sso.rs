//! Home realm discovery and upstream single sign-on against the fake Entra ID (and its
//! generic OIDC provider): the routing decision per user, the upstream round trip, and every
//! way a returning ID token or `state` must be refused (SPEC "Upstream verification").

use idbroker::clock::Clock;
use idbroker::store::UpstreamLink;
use reqwest::StatusCode;
use serde_json::Value;

use crate::fake_entra::{EntraUser, FakeEntra, Misbehave, NewUser, OidcUser};
use crate::support::broker::{PASSWORD, TestBroker, USER, password_hash};
use crate::support::browser::Browser;
use crate::support::oauth::{SPA_CB, claims, identify, redeem_spa_code, spa_authorize_url};

const SCOPE: &str = "openid%20email%20profile";

/// The broker's app registration at the fake Entra.
const APP: &str = "0b7c4d1e-5f60-4a7b-8c9d-0e1f2a3b4c5d";
const APP_SECRET: &str = "entra-app-secret-value";

pub struct World {
    pub fake: FakeEntra,
    pub tb: TestBroker,
    pub tid: String,
    /// A user of the contoso tenant, linked in the directory by (tid, oid).
    ada: EntraUser,
}

pub struct Options<'a> {
    pub sso: &'a str,
    /// ada's per-user SSO flag.
    pub ada_sso: bool,
    pub jit: bool,
    pub password_fallback: bool,
    /// Replaces `client_secret_env` (e.g. a certificate).
    pub credential: Option<String>,
}

impl Default for Options<'_> {
    fn default() -> Self {
        Options {
            sso: "all_synced_users",
            ada_sso: false,
            jit: false,
            password_fallback: false,
            credential: None,
        }
    }
}

impl World {
    /// ada's object id at the fake Entra.
    pub fn ada_oid(&self) -> String {
        self.ada.id.clone()
    }

    /// Changes ada's directory record, as an admin or a re-sync would.
    pub async fn change_ada(&self, change: impl FnMut(&mut idbroker::store::User)) {
        let ada = self
            .tb
            .broker
            .internals()
            .store
            .user_by_email("ada@contoso.com")
            .await
            .unwrap()
            .unwrap();
        self.tb
            .broker
            .internals()
            .store
            .update_user(&ada.id, change)
            .await
            .unwrap()
            .unwrap();
    }
}

pub async fn world(opts: Options<'_>) -> World {
    let fake = FakeEntra::start().await;
    let tid = fake.add_tenant("contoso.com");
    let ada = fake
        .tenant(&tid)
        .add_user(NewUser::new("ada@contoso.com", "Ada Lovelace"));
    let credential = opts
        .credential
        .unwrap_or_else(|| "client_secret_env: ENTRA_SECRET".into());
    let extra = format!(
        r#"upstreams:
  - id: entra
    kind: entra
    client_id: {APP}
    {credential}
    authority: {authority}
    graph: {graph}
organizations:
  - id: contoso
    domains: [contoso.com]
    upstream: entra
    tenant_id: {tid}
    sso: {sso}
    password_fallback: {fallback}
    jit: {jit}
"#,
        authority = fake.authority(),
        graph = fake.graph(),
        sso = opts.sso,
        fallback = opts.password_fallback,
        jit = opts.jit,
    );
    let users = format!(
        r#"users:
  - email: {USER}
    name: Alice Example
    password_hash: "{hash}"
  - email: ada@contoso.com
    name: Ada Lovelace
    organization: contoso
    password_hash: "{hash}"
    link: {{tid: {tid}, oid: {oid}}}
    sso: {ada_sso}
"#,
        hash = password_hash(),
        oid = ada.id,
        ada_sso = opts.ada_sso,
    );
    let tb = TestBroker::start_with(&extra, Some(&users), Clock::System).await;
    fake.register_app(APP, &[&tb.url("/upstream/callback")]);
    fake.add_app_secret(APP, APP_SECRET);
    World { fake, tb, tid, ada }
}

/// Identifier step, then the round trip through the fake: returns the callback URL the fake
/// sent the browser to (not yet visited).
async fn to_upstream_and_back(b: &mut Browser, w: &World, who: &str) -> String {
    let step = identify(b, &w.tb, who).await;
    assert_eq!(step.status, StatusCode::SEE_OTHER, "{}", step.body);
    let upstream = step.location.clone().unwrap();
    assert!(upstream.starts_with(&w.fake.authority()), "{upstream}");
    let back = b.get(&upstream).await;
    assert!(
        back.status.is_redirection(),
        "fake answered {}: {}",
        back.status,
        back.body
    );
    let callback = back.location.unwrap();
    assert!(
        callback.starts_with(&w.tb.url("/upstream/callback")),
        "{callback}"
    );
    callback
}

async fn sso_audit(tb: &TestBroker) -> Vec<Value> {
    tb.audit_lines()
        .await
        .into_iter()
        .filter(|l| l["event"] == "login.sso")
        .collect()
}

#[tokio::test]
async fn an_sso_user_is_sent_to_their_tenant_and_gets_broker_tokens() {
    let w = world(Options::default()).await;
    let mut b = Browser::new();
    let callback = to_upstream_and_back(&mut b, &w, "Ada@Contoso.com ").await;

    // What went upstream: per-tenant authority, PKCE S256, state, nonce, both hints.
    let sent = w.fake.last_authorization().unwrap();
    assert_eq!(sent.tenant, w.tid);
    assert_eq!(sent.client_id.as_deref(), Some(APP));
    assert_eq!(sent.login_hint.as_deref(), Some("ada@contoso.com"));
    assert_eq!(sent.domain_hint.as_deref(), Some("contoso.com"));
    assert_eq!(sent.code_challenge_method.as_deref(), Some("S256"));
    assert!(sent.nonce.as_deref().is_some_and(|n| n.len() >= 32));
    assert!(sent.state.as_deref().is_some_and(|s| s.len() >= 32));

    let done = b.get(&callback).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert!(done.location.as_deref().unwrap().starts_with(SPA_CB));
    assert_eq!(done.location_param("state").as_deref(), Some("app-state"));
    let tokens = redeem_spa_code(&w.tb, &done.location_param("code").unwrap()).await;
    let id = claims(tokens["id_token"].as_str().unwrap());
    let ada =
        w.tb.broker
            .internals()
            .store
            .user_by_email("ada@contoso.com")
            .await
            .unwrap()
            .unwrap();
    assert_eq!(id["sub"], ada.id.as_str(), "our own stable id, not the oid");
    assert_eq!(
        ada.link,
        Some(UpstreamLink::Entra {
            tid: w.tid.clone(),
            oid: w.ada.id.clone()
        })
    );
    assert_eq!(id["amr"], serde_json::json!(["fed"]));
    assert_eq!(id["nonce"], "app-nonce");
    assert_eq!(id["email"], "ada@contoso.com");
    assert_eq!(id["iss"], w.tb.base.as_str());

    let audit = sso_audit(&w.tb).await;
    let last = audit.last().unwrap();
    assert_eq!(last["outcome"], "success");
    assert_eq!(last["upstream"], "entra");
    assert_eq!(last["organization"], "contoso");
    assert_eq!(last["user_id"], ada.id.as_str());

    // The same `state` a second time: taken already.
    let replay = b.get(&callback).await;
    assert_eq!(replay.status, StatusCode::BAD_REQUEST, "{}", replay.body);
    assert!(replay.location.is_none());
}

#[tokio::test]
async fn sso_replaces_the_password_of_an_sso_user() {
    let w = world(Options::default()).await;
    let mut b = Browser::new();
    let step = identify(&mut b, &w.tb, "ada@contoso.com").await;
    assert_eq!(step.status, StatusCode::SEE_OTHER);
    // Posting the (correct, stored) password anyway on the same transaction fails.
    let first = b.get(&spa_authorize_url(&w.tb.base, SCOPE)).await;
    let page = b.follow(&w.tb.base, first).await;
    let tx = page.field("tx");
    let csrf = page.field("csrf");
    let _ = b
        .post(
            &w.tb.url("/login/identifier"),
            &[
                ("tx", &tx),
                ("csrf", &csrf),
                ("identifier", "ada@contoso.com"),
            ],
        )
        .await;
    let attempt = b
        .post(
            &w.tb.url("/login/password"),
            &[("tx", &tx), ("csrf", &csrf), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(attempt.status, StatusCode::OK);
    assert!(attempt.location.is_none(), "signed in with a password");
    assert!(attempt.body.contains("incorrect"), "{}", attempt.body);
    let audit = w.tb.audit_lines().await;
    assert!(
        audit
            .iter()
            .any(|l| l["event"] == "login.password" && l["reason"] == "sso_required"),
        "{audit:?}"
    );
}

#[tokio::test]
async fn password_fallback_offers_both_and_the_password_works() {
    let w = world(Options {
        password_fallback: true,
        ..Options::default()
    })
    .await;
    let mut b = Browser::new();
    let step = identify(&mut b, &w.tb, "ada@contoso.com").await;
    assert_eq!(step.status, StatusCode::OK);
    assert!(step.body.contains("Microsoft"), "{}", step.body);
    assert!(step.has_field("tx"));
    let done = b
        .post(
            &w.tb.url("/login/password"),
            &[
                ("tx", &step.field("tx")),
                ("csrf", &step.field("csrf")),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert!(done.location_param("code").is_some());
}

#[tokio::test]
async fn per_user_sso_follows_the_users_switch_at_once() {
    let w = world(Options {
        sso: "per_user",
        ..Options::default()
    })
    .await;
    let mut b = Browser::new();
    let step = identify(&mut b, &w.tb, "ada@contoso.com").await;
    assert_eq!(step.status, StatusCode::OK, "switch off: the password step");
    assert!(step.body.contains("name=\"password\""));

    w.change_ada(|u| u.sso = true).await;
    let mut b = Browser::new();
    let step = identify(&mut b, &w.tb, "ada@contoso.com").await;
    assert_eq!(step.status, StatusCode::SEE_OTHER, "switch on: upstream");
}

#[tokio::test]
async fn every_bad_id_token_is_refused_without_a_code() {
    let w = world(Options::default()).await;
    let fabrikam = w.fake.add_tenant("fabrikam.com");
    // A user of another tenant with the same email as ada: must not become ada.
    w.fake
        .tenant(&fabrikam)
        .add_user(NewUser::new("ada@fabrikam.com", "Ada Impostor").mail(Some("ada@contoso.com")));
    let cases = [
        (Misbehave::UnknownKey, "unknown_kid"),
        (Misbehave::AlgNone, "alg_not_allowed"),
        (Misbehave::Hs256ClientSecret, "alg_not_allowed"),
        (Misbehave::WrongIssuer, "wrong_issuer"),
        // Its own tenant's issuer, so not ours.
        (Misbehave::OtherTenant(fabrikam.clone()), "wrong_issuer"),
        (Misbehave::WrongAudience, "wrong_audience"),
        (Misbehave::Expired, "token_expired"),
        (Misbehave::NotYetValid, "token_not_yet_valid"),
        (Misbehave::WrongNonce, "nonce_mismatch"),
        (Misbehave::MissingNonce, "nonce_mismatch"),
        (Misbehave::TamperedSignature, "bad_signature"),
    ];
    let n = cases.len();
    for (misbehave, reason_part) in cases {
        let label = format!("{misbehave:?}");
        let mut b = Browser::new();
        w.fake.next_id_token(misbehave);
        let callback = to_upstream_and_back(&mut b, &w, "ada@contoso.com").await;
        let page = b.get(&callback).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{label}: {}", page.body);
        assert!(page.location.is_none(), "{label}");
        assert!(
            page.body.contains("could not be verified"),
            "{label}: {}",
            page.body
        );
        assert!(
            !b.cookies.keys().any(|k| k.contains("session")),
            "{label}: a session was created"
        );
        let audit = sso_audit(&w.tb).await;
        let last = audit.last().unwrap();
        assert_eq!(last["outcome"], "failure", "{label}");
        assert_eq!(last["reason"], reason_part, "{label}");
    }
    let audit = sso_audit(&w.tb).await;
    assert_eq!(audit.len(), n);
    assert!(audit.iter().all(|l| l["outcome"] == "failure"));
}

#[tokio::test]
async fn the_state_is_bound_to_the_browser_that_began_the_login() {
    let w = world(Options::default()).await;
    let mut alice_browser = Browser::new();
    let callback = to_upstream_and_back(&mut alice_browser, &w, "ada@contoso.com").await;
    // An attacker's browser (login CSRF: a victim lured to the attacker's callback URL).
    let mut other = Browser::new();
    let _ = other.get(&spa_authorize_url(&w.tb.base, SCOPE)).await;
    let page = other.get(&callback).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
    assert!(page.location.is_none());
}

#[tokio::test]
async fn unknown_upstream_identities_are_refused_without_jit_and_created_with_it() {
    for jit in [false, true] {
        let w = world(Options {
            jit,
            ..Options::default()
        })
        .await;
        let grace = w
            .fake
            .tenant(&w.tid)
            .add_user(NewUser::new("grace@contoso.com", "Grace Hopper"));
        let mut b = Browser::new();
        let step = identify(&mut b, &w.tb, "grace@contoso.com").await;
        if !jit {
            // Unknown and no JIT: the same password step as any unknown identifier.
            assert_eq!(step.status, StatusCode::OK);
            assert!(step.body.contains("name=\"password\""));
            continue;
        }
        assert_eq!(step.status, StatusCode::SEE_OTHER, "jit: upstream");
        let mut b2 = Browser::new();
        let cb = to_upstream_and_back(&mut b2, &w, "grace@contoso.com").await;
        let done = b2.get(&cb).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
        let link = UpstreamLink::Entra {
            tid: w.tid.clone(),
            oid: grace.id.clone(),
        };
        let user =
            w.tb.broker
                .internals()
                .store
                .user_by_link(&link)
                .await
                .unwrap()
                .unwrap();
        assert_eq!(user.email, "grace@contoso.com");
        assert_eq!(user.organization.as_deref(), Some("contoso"));
        // A second sign-in maps to the same user.
        let mut b3 = Browser::new();
        let cb = to_upstream_and_back(&mut b3, &w, "grace@contoso.com").await;
        let again = b3.get(&cb).await;
        let tokens = redeem_spa_code(&w.tb, &again.location_param("code").unwrap()).await;
        assert_eq!(
            claims(tokens["id_token"].as_str().unwrap())["sub"],
            user.id.as_str()
        );
    }
}

/// A just-in-time user's address is `email_verified` only when Entra vouches for it: the
/// `email` claim with `xms_edov: true`, or a UPN in one of the organisation's domains. An
/// unproven `email` (Entra's mail attribute holds any string an admin or a guest's home
/// tenant put there) is passed on as unverified.
#[tokio::test]
async fn jit_users_have_a_verified_email_only_when_entra_vouches_for_it() {
    let w = world(Options {
        jit: true,
        ..Options::default()
    })
    .await;
    let t = w.fake.tenant(&w.tid);
    // mail differs from the UPN: the address comes from `email`, without xms_edov.
    t.add_user(
        NewUser::new("grace@contoso.com", "Grace Hopper").mail(Some("g.hopper@contoso.com")),
    );
    // mail equals the UPN, of the organisation's domain.
    t.add_user(NewUser::new("hedy@contoso.com", "Hedy Lamarr"));
    // mail differs from the UPN, and Entra says its domain is verified.
    t.add_user(NewUser::new("ida@contoso.com", "Ida Rhodes").mail(Some("i.rhodes@contoso.com")));
    let jit_sign_in = |who: &'static str| {
        let w = &w;
        async move {
            let mut b = Browser::new();
            let cb = to_upstream_and_back(&mut b, w, who).await;
            let done = b.get(&cb).await;
            assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
            let tokens = redeem_spa_code(&w.tb, &done.location_param("code").unwrap()).await;
            claims(tokens["id_token"].as_str().unwrap())
        }
    };
    let id = jit_sign_in("grace@contoso.com").await;
    assert_eq!(id["email"], "g.hopper@contoso.com");
    assert_eq!(id["email_verified"], false, "an unproven mail attribute");

    let id = jit_sign_in("hedy@contoso.com").await;
    assert_eq!(id["email"], "hedy@contoso.com");
    assert_eq!(id["email_verified"], true, "the UPN, in contoso.com");

    w.fake.set_xms_edov(Some(true));
    let id = jit_sign_in("ida@contoso.com").await;
    assert_eq!(id["email"], "i.rhodes@contoso.com");
    assert_eq!(id["email_verified"], true, "email with xms_edov");
}

#[tokio::test]
async fn a_linked_user_unknown_to_the_directory_is_refused_at_the_callback() {
    // ada is routed upstream, but the tenant signs in someone whose (tid, oid) is not linked.
    let w = world(Options::default()).await;
    let mut b = Browser::new();
    let step = identify(&mut b, &w.tb, "ada@contoso.com").await;
    assert_eq!(step.status, StatusCode::SEE_OTHER);
    // Unlink ada between the redirect and the callback (an admin re-sync, say).
    w.change_ada(|u| u.link = None).await;
    let back = b.get(step.location.as_deref().unwrap()).await;
    let page = b.get(back.location.as_deref().unwrap()).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
    assert!(page.body.contains("not set up"), "{}", page.body);
    let audit = sso_audit(&w.tb).await;
    assert_eq!(audit.last().unwrap()["reason"], "unknown_user");
}

#[tokio::test]
async fn a_user_disabled_mid_login_is_refused() {
    let w = world(Options::default()).await;
    let mut b = Browser::new();
    let step = identify(&mut b, &w.tb, "ada@contoso.com").await;
    w.change_ada(|u| u.disabled = true).await;
    let back = b.get(step.location.as_deref().unwrap()).await;
    let page = b.get(back.location.as_deref().unwrap()).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
    assert_eq!(sso_audit(&w.tb).await.last().unwrap()["reason"], "disabled");
}

#[tokio::test]
async fn an_upstream_outage_shows_a_clear_page_and_password_users_are_unaffected() {
    let w = world(Options::default()).await;
    w.fake.set_down(true).await;
    let mut b = Browser::new();
    let step = identify(&mut b, &w.tb, "ada@contoso.com").await;
    assert_eq!(
        step.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        step.body
    );
    assert!(
        step.body
            .contains("Microsoft sign-in is unavailable right now"),
        "{}",
        step.body
    );
    // A password user signs in as ever.
    let mut b = Browser::new();
    let back = crate::support::browser::sign_in(
        &mut b,
        &w.tb.base,
        &spa_authorize_url(&w.tb.base, SCOPE),
        USER,
        PASSWORD,
    )
    .await;
    assert_eq!(back.status, StatusCode::SEE_OTHER);
    assert!(back.location_param("code").is_some());

    // Back up: SSO works again without a restart.
    w.fake.set_down(false).await;
    let mut b = Browser::new();
    let cb = to_upstream_and_back(&mut b, &w, "ada@contoso.com").await;
    assert_eq!(b.get(&cb).await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn an_error_from_the_upstream_is_shown_plainly_and_audited() {
    let w = world(Options::default()).await;
    w.fake
        .next_authorize_error("access_denied", "AADSTS65004: User declined to consent");
    let mut b = Browser::new();
    let callback = to_upstream_and_back(&mut b, &w, "ada@contoso.com").await;
    let page = b.get(&callback).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("cancelled or refused"), "{}", page.body);
    assert!(!page.body.contains("AADSTS"), "upstream text is not shown");
    assert_eq!(
        sso_audit(&w.tb).await.last().unwrap()["reason"],
        "upstream_error:access_denied"
    );
}

#[tokio::test]
async fn certificate_credentials_sign_a_client_assertion_entra_accepts() {
    let cert = FakeEntra::new_app_certificate("idbroker test");
    let dir = tempfile::tempdir().unwrap();
    let (cert_path, key_path) = cert.write_pem_files(dir.path(), "entra").unwrap();
    let w = world(Options {
        credential: Some(format!(
            "client_certificate: {{cert: {}, key: {}}}",
            cert_path.display(),
            key_path.display()
        )),
        ..Options::default()
    })
    .await;
    w.fake.register_app_certificate(APP, &cert.cert_der);
    let mut b = Browser::new();
    let cb = to_upstream_and_back(&mut b, &w, "ada@contoso.com").await;
    let done = b.get(&cb).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let token_calls = w.fake.requests_to("/token");
    let last = token_calls.last().unwrap();
    assert!(last.form_param("client_assertion").is_some());
    assert!(last.form_param("client_secret").is_none());
}

#[tokio::test]
async fn a_generic_oidc_upstream_links_by_issuer_and_subject() {
    let fake = FakeEntra::start().await;
    fake.add_oidc_user(OidcUser::new("partner-sub-1", "bob@partner.example", "Bob"));
    let extra = format!(
        r#"upstreams:
  - id: partner
    kind: oidc
    display_name: Partner
    issuer: {issuer}
    client_id: idbroker
    client_secret_env: PARTNER_SECRET
organizations:
  - id: partner
    domains: [partner.example]
    upstream: partner
    sso: all_synced_users
"#,
        issuer = fake.oidc_issuer()
    );
    let users = format!(
        r#"users:
  - email: bob@partner.example
    name: Bob
    organization: partner
    link: {{iss: "{issuer}", sub: partner-sub-1}}
"#,
        issuer = fake.oidc_issuer()
    );
    let tb = TestBroker::start_with(&extra, Some(&users), Clock::System).await;
    fake.register_app("idbroker", &[&tb.url("/upstream/callback")]);
    fake.add_app_secret("idbroker", "partner-secret-value");
    let mut b = Browser::new();
    let step = identify(&mut b, &tb, "bob@partner.example").await;
    assert_eq!(step.status, StatusCode::SEE_OTHER, "{}", step.body);
    let back = b.get(step.location.as_deref().unwrap()).await;
    let done = b.get(back.location.as_deref().unwrap()).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert!(done.location.as_deref().unwrap().starts_with(SPA_CB));

    // The same subject of another issuer is not Bob.
    fake.next_id_token(Misbehave::WrongIssuer);
    let mut b = Browser::new();
    let step = identify(&mut b, &tb, "bob@partner.example").await;
    let back = b.get(step.location.as_deref().unwrap()).await;
    let page = b.get(back.location.as_deref().unwrap()).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
}

/// The application side is an independent relying party (the `openidconnect` crate): it
/// discovers the broker, sends an SSO user through the login page and the fake Entra, and
/// verifies the broker's ID token against `/jwks` with its own nonce.
#[tokio::test]
async fn a_relying_party_library_signs_an_sso_user_in() {
    use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
    use openidconnect::{
        AuthorizationCode, ClientId, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge, RedirectUrl,
        Scope, TokenResponse as _,
    };
    let w = world(Options::default()).await;
    let http =
        idbroker::upstream::http_client::OidcHttp::new(std::time::Duration::from_secs(10)).unwrap();
    let meta =
        CoreProviderMetadata::discover_async(IssuerUrl::new(w.tb.base.clone()).unwrap(), &http)
            .await
            .unwrap();
    let client = CoreClient::from_provider_metadata(meta, ClientId::new("spa".into()), None)
        .set_redirect_uri(RedirectUrl::new(SPA_CB.into()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .set_pkce_challenge(challenge)
        .url();

    let mut b = Browser::new();
    let first = b.get(auth_url.as_str()).await;
    let page = b.follow(&w.tb.base, first).await;
    let step = b
        .post(
            &w.tb.url("/login/identifier"),
            &[
                ("tx", &page.field("tx")),
                ("csrf", &page.field("csrf")),
                ("identifier", "ada@contoso.com"),
            ],
        )
        .await;
    let back = b.get(step.location.as_deref().unwrap()).await;
    let done = b.get(back.location.as_deref().unwrap()).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(
        done.location_param("state").as_deref(),
        Some(state.secret().as_str())
    );
    let tokens = client
        .exchange_code(AuthorizationCode::new(done.location_param("code").unwrap()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    let claims = tokens
        .id_token()
        .unwrap()
        .claims(&client.id_token_verifier(), &nonce)
        .expect("the broker's ID token verifies");
    assert_eq!(claims.email().map(|e| e.as_str()), Some("ada@contoso.com"));
    let amr: Vec<String> = claims
        .auth_method_refs()
        .unwrap()
        .iter()
        .map(|a| a.as_str().to_owned())
        .collect();
    assert_eq!(amr, ["fed"]);
}

/// An edit of the organisation's `sso` mode (saved by rename) changes the routing decision of
/// a running broker: `all_synced_users` sends ada upstream, `off` gives her the password step.
#[tokio::test]
async fn changing_an_organisations_sso_mode_in_the_file_takes_effect_live() {
    let w = world(Options::default()).await;
    let step = identify(&mut Browser::new(), &w.tb, "ada@contoso.com").await;
    assert_eq!(step.status, StatusCode::SEE_OTHER);

    let text = std::fs::read_to_string(&w.tb.policy_path).unwrap();
    let edited = text.replace("sso: all_synced_users", "sso: off");
    assert_ne!(text, edited);
    let tmp = w.tb.policy_path.with_extension("new");
    std::fs::write(&tmp, edited).unwrap();
    std::fs::rename(&tmp, &w.tb.policy_path).unwrap();

    let started = std::time::Instant::now();
    loop {
        let step = identify(&mut Browser::new(), &w.tb, "ada@contoso.com").await;
        if step.status == StatusCode::OK {
            assert!(step.body.contains("name=\"password\""));
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "the sso change was not applied within 5 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
