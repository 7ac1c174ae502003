//! Groups and roles in tokens (issue 14): the fake Entra puts `groups` in its ID tokens, or
//! the overage markers past 200, and answers `transitiveMemberOf` in pages; the broker reads
//! them at sign-in, adds the policy's groups, maps each client's roles, and says
//! `groups_overflow` rather than dropping the claim.

use idbroker::clock::Clock;
use reqwest::StatusCode;
use serde_json::Value;

use crate::fake_entra::{EntraUser, FakeEntra, NewUser, OidcUser};
use crate::support::broker::{PASSWORD, TestBroker, USER, password_hash};
use crate::support::browser::Browser;
use crate::support::oauth::{SPA_CB, claims, sign_in};

const APP: &str = "0b7c4d1e-5f60-4a7b-8c9d-0e1f2a3b4c5d";

async fn userinfo(tb: &TestBroker, access_token: &str) -> Value {
    reqwest::Client::new()
        .get(tb.url("/userinfo"))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

struct World {
    fake: FakeEntra,
    tb: TestBroker,
    /// Engineering, Admins, Sales.
    groups: Vec<String>,
    ada: EntraUser,
    tid: String,
}

/// contoso on the fake Entra: ada in three groups, bob in 250 (past Entra's 200: overage).
/// `org_groups` is contoso's `groups:` setting. Clients: `hr` maps roles and asks for the
/// groups/roles scopes; `wiki` always gets its roles.
async fn world(org_groups: &str) -> World {
    let fake = FakeEntra::start().await;
    let tid = fake.add_tenant("contoso.com");
    let tenant = fake.tenant(&tid);
    let ada = tenant.add_user(NewUser::new("ada@contoso.com", "Ada Lovelace"));
    let bob = tenant.add_user(NewUser::new("bob@contoso.com", "Bob Builder"));
    let groups: Vec<String> = ["Engineering", "Admins", "Sales"]
        .iter()
        .map(|n| tenant.add_group(n))
        .collect();
    for g in &groups {
        tenant.add_to_group(&ada.id, g);
    }
    tenant.add_to_group(&bob.id, &groups[1]);
    for i in 0..249 {
        let g = tenant.add_group(&format!("Team {i:03}"));
        tenant.add_to_group(&bob.id, &g);
    }
    let org_groups = org_groups.replace("{admins}", &groups[1]);
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
    sso: all_synced_users
    groups: {org_groups}
"#,
        authority = fake.authority(),
        graph = fake.graph(),
    );
    let users = format!(
        r#"users:
  - email: {USER}
    name: Alice Example
    password_hash: "{hash}"
    groups: [admins]
  - email: ada@contoso.com
    organization: contoso
    link: {{tid: {tid}, oid: {ada}}}
  - email: bob@contoso.com
    organization: contoso
    link: {{tid: {tid}, oid: {bob}}}
"#,
        hash = password_hash(),
        ada = ada.id,
        bob = bob.id,
    );
    let clients = format!(
        r#"  - id: hr
    redirect_uris: [{SPA_CB}]
    scopes: [openid, email, profile, groups, roles]
    roles:
      admin: [admins, "{admins}"]
      reader: [contoso-staff]
  - id: wiki
    redirect_uris: [{SPA_CB}]
    scopes: [openid, email, profile]
    claims: [roles]
    roles:
      editor: ["{engineering}", Engineering]
      owner: [admins]
"#,
        admins = groups[1],
        engineering = groups[0],
    );
    let tb = TestBroker::start_with_clients(&clients, &extra, Some(&users), Clock::System).await;
    fake.register_app(APP, &[&tb.url("/upstream/callback")]);
    fake.add_app_secret(APP, "entra-app-secret-value");
    fake.tenant(&tid).grant_consent(APP);
    fake.emit_group_claims(APP, true);
    // Small Graph pages, so that reading 250 groups follows several next links.
    tb.broker.internals().graph.set_page_size(100);
    World {
        fake,
        tb,
        groups,
        ada,
        tid,
    }
}

#[tokio::test]
async fn entra_groups_reach_the_tokens_of_each_client_with_its_own_roles() {
    let w = world("{upstream: true, everyone: [contoso-staff]}").await;
    let scope = "openid%20groups%20roles";

    // ada: three groups listed in the ID token; Graph is not asked.
    let t = sign_in(&w.tb, "hr", scope, "ada@contoso.com").await;
    assert!(
        w.fake
            .requests_to("/transitiveMemberOf/microsoft.graph.group")
            .is_empty(),
        "the token listed the groups"
    );
    let id = claims(t["id_token"].as_str().unwrap());
    let mut want: Vec<String> = w.groups.clone();
    want.push("contoso-staff".into());
    assert_eq!(strings(&id["groups"]), sorted(want.clone()));
    assert_eq!(strings(&id["roles"]), ["admin", "reader"]);
    let at = claims(t["access_token"].as_str().unwrap());
    assert_eq!(strings(&at["groups"]), sorted(want.clone()));
    assert_eq!(strings(&at["roles"]), ["admin", "reader"]);
    let info = userinfo(&w.tb, t["access_token"].as_str().unwrap()).await;
    assert_eq!(strings(&info["groups"]), sorted(want));
    assert_eq!(strings(&info["roles"]), ["admin", "reader"]);

    // Without the scopes, none of it; another client sees its own roles only.
    let plain = sign_in(&w.tb, "hr", "openid", "ada@contoso.com").await;
    let id = claims(plain["id_token"].as_str().unwrap());
    assert!(
        id.get("groups").is_none() && id.get("roles").is_none(),
        "{id}"
    );
    let wiki = sign_in(&w.tb, "wiki", "openid", "ada@contoso.com").await;
    let id = claims(wiki["id_token"].as_str().unwrap());
    assert_eq!(
        strings(&id["roles"]),
        ["editor"],
        "wiki always gets its roles"
    );
    assert!(id.get("groups").is_none());

    // bob: 250 groups, so Entra sends the overage markers and the broker reads Graph,
    // page by page (100 a page).
    let t = sign_in(&w.tb, "hr", scope, "bob@contoso.com").await;
    let pages = w
        .fake
        .requests_to("/transitiveMemberOf/microsoft.graph.group")
        .len();
    assert_eq!(pages, 3, "250 groups in pages of 100");
    let id = claims(t["id_token"].as_str().unwrap());
    assert!(id.get("groups").is_none(), "over the limit of 150");
    assert_eq!(id["groups_overflow"], true);
    assert_eq!(strings(&id["roles"]), ["admin", "reader"]);
    let info = userinfo(&w.tb, t["access_token"].as_str().unwrap()).await;
    assert_eq!(
        strings(&info["groups"]).len(),
        251,
        "all of them, and contoso-staff"
    );

    // A local user: the policy's groups.
    let t = sign_in(&w.tb, "hr", scope, USER).await;
    let id = claims(t["id_token"].as_str().unwrap());
    assert_eq!(strings(&id["groups"]), ["admins"]);
    assert_eq!(strings(&id["roles"]), ["admin"]);

    // A new sign-in reads them again.
    let engineering = &w.groups[0];
    let later = w.fake.tenant(&w.tid).add_group("Late");
    w.fake.tenant(&w.tid).add_to_group(&w.ada.id, &later);
    let t = sign_in(&w.tb, "hr", scope, "ada@contoso.com").await;
    let id = claims(t["id_token"].as_str().unwrap());
    assert!(strings(&id["groups"]).contains(&later));
    assert!(strings(&id["groups"]).contains(engineering));
}

#[tokio::test]
async fn display_names_come_from_graph_and_only_the_listed_groups_count() {
    let w = world("{upstream: true, names: name, only: [\"{admins}\"]}").await;
    let t = sign_in(&w.tb, "hr", "openid%20groups%20roles", "ada@contoso.com").await;
    assert_eq!(
        w.fake
            .requests_to("/transitiveMemberOf/microsoft.graph.group")
            .len(),
        1,
        "names come from Graph"
    );
    let id = claims(t["id_token"].as_str().unwrap());
    assert_eq!(strings(&id["groups"]), ["Admins"]);
    // The role mapped to the object id is granted whatever the naming.
    assert_eq!(strings(&id["roles"]), ["admin"]);
    // wiki maps "Engineering", which `only` leaves out.
    let wiki = sign_in(&w.tb, "wiki", "openid", "ada@contoso.com").await;
    assert_eq!(
        strings(&claims(wiki["id_token"].as_str().unwrap())["roles"]),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn an_organisation_that_does_not_read_groups_never_asks_graph() {
    let w = world("{everyone: [contoso-staff]}").await;
    let t = sign_in(&w.tb, "hr", "openid%20groups%20roles", "ada@contoso.com").await;
    assert!(
        w.fake
            .requests_to("/transitiveMemberOf/microsoft.graph.group")
            .is_empty()
    );
    let id = claims(t["id_token"].as_str().unwrap());
    assert_eq!(strings(&id["groups"]), ["contoso-staff"]);
    assert_eq!(strings(&id["roles"]), ["reader"]);
}

#[tokio::test]
async fn a_generic_providers_groups_come_from_its_configured_claim() {
    let fake = FakeEntra::start().await;
    fake.add_oidc_user(
        OidcUser::new("partner-sub-1", "bob@partner.example", "Bob")
            .with_groups("memberOf", &["partner-admins", "partner-all"]),
    );
    let extra = format!(
        r#"upstreams:
  - id: partner
    kind: oidc
    issuer: {issuer}
    client_id: idbroker
    client_secret_env: PARTNER_SECRET
    groups_claim: memberOf
organizations:
  - id: partner
    domains: [partner.example]
    upstream: partner
    sso: all_synced_users
    groups: {{upstream: true}}
"#,
        issuer = fake.oidc_issuer()
    );
    let users = format!(
        r#"users:
  - email: bob@partner.example
    organization: partner
    link: {{iss: "{issuer}", sub: partner-sub-1}}
"#,
        issuer = fake.oidc_issuer()
    );
    let clients = format!(
        r#"  - id: hr
    redirect_uris: [{SPA_CB}]
    scopes: [openid, groups, roles]
    roles: {{admin: [partner-admins]}}
"#
    );
    let tb = TestBroker::start_with_clients(&clients, &extra, Some(&users), Clock::System).await;
    fake.register_app("idbroker", &[&tb.url("/upstream/callback")]);
    fake.add_app_secret("idbroker", "partner-secret-value");
    let t = sign_in(&tb, "hr", "openid%20groups%20roles", "bob@partner.example").await;
    let id = claims(t["id_token"].as_str().unwrap());
    assert_eq!(strings(&id["groups"]), ["partner-admins", "partner-all"]);
    assert_eq!(strings(&id["roles"]), ["admin"]);
}

/// The application side is the `openidconnect` crate: it discovers the broker, runs the code
/// flow with PKCE and verifies the ID token; the roles it finds are the client's own.
#[tokio::test]
async fn a_relying_party_gets_exactly_its_own_roles() {
    use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
    use openidconnect::{
        AuthorizationCode, ClientId, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge, RedirectUrl,
        Scope, TokenResponse as _,
    };
    let w = world("{upstream: true}").await;
    let http =
        idbroker::upstream::http_client::OidcHttp::new(std::time::Duration::from_secs(10)).unwrap();
    let meta =
        CoreProviderMetadata::discover_async(IssuerUrl::new(w.tb.base.clone()).unwrap(), &http)
            .await
            .unwrap();
    let mut seen = Vec::new();
    for (client_id, scopes) in [("hr", &["groups", "roles"][..]), ("wiki", &[][..])] {
        let client =
            CoreClient::from_provider_metadata(meta.clone(), ClientId::new(client_id.into()), None)
                .set_redirect_uri(RedirectUrl::new(SPA_CB.into()).unwrap());
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client.authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        for s in scopes {
            request = request.add_scope(Scope::new((*s).into()));
        }
        let (url, _state, nonce) = request.set_pkce_challenge(challenge).url();
        let mut b = Browser::new();
        let first = b.get(url.as_str()).await;
        let page = b.follow(&w.tb.base, first).await;
        let (tx, csrf) = (page.field("tx"), page.field("csrf"));
        b.post(
            &w.tb.url("/login/identifier"),
            &[("tx", &tx), ("csrf", &csrf), ("identifier", USER)],
        )
        .await;
        let done = b
            .post(
                &w.tb.url("/login/password"),
                &[("tx", &tx), ("csrf", &csrf), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
        let tokens = client
            .exchange_code(AuthorizationCode::new(done.location_param("code").unwrap()))
            .unwrap()
            .set_pkce_verifier(verifier)
            .request_async(&http)
            .await
            .unwrap();
        let id_token = tokens.id_token().unwrap();
        id_token
            .claims(&client.id_token_verifier(), &nonce)
            .expect("the broker's ID token verifies");
        let raw = claims(&id_token.to_string());
        seen.push((
            client_id,
            strings(&raw["roles"]),
            raw.get("groups").cloned(),
        ));
    }
    assert_eq!(seen[0].1, ["admin"], "hr's roles");
    assert_eq!(seen[0].2, Some(serde_json::json!(["admins"])));
    assert_eq!(seen[1].1, ["owner"], "wiki's roles, for the same user");
    assert_eq!(seen[1].2, None, "wiki did not ask for groups");
}

/// A re-sync reads again the groups of the users who signed in before (and only theirs), so
/// that refresh tokens follow Entra between sign-ins.
#[tokio::test]
async fn a_resync_reads_again_the_groups_of_users_who_signed_in() {
    let w = world("{upstream: true}").await;
    let store = &w.tb.broker.internals().store;
    // Re-sync follows imported users, not the policy file's: make ada one.
    let ada = store
        .user_by_email("ada@contoso.com")
        .await
        .unwrap()
        .unwrap();
    store
        .update_user(&ada.id, |u| u.source = idbroker::store::UserSource::Import)
        .await
        .unwrap()
        .unwrap();
    sign_in(&w.tb, "hr", "openid%20groups", "ada@contoso.com").await;
    assert_eq!(
        store
            .user_groups(&ada.id)
            .await
            .unwrap()
            .unwrap()
            .groups
            .len(),
        3
    );

    let later = w.fake.tenant(&w.tid).add_group("Late");
    w.fake.tenant(&w.tid).add_to_group(&w.ada.id, &later);
    let report: Value = reqwest::Client::new()
        .post(w.tb.url("/admin/api/organizations/contoso/sync"))
        .bearer_auth(crate::support::broker::test_env("IDBROKER_ADMIN_TOKEN").unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(report["groups_read"], 1, "ada only: {report}");
    let read = store.user_groups(&ada.id).await.unwrap().unwrap();
    assert!(read.groups.iter().any(|g| g.id == later), "{read:?}");
}

/// `users[].groups` belong to the file's own user: a user of the same email created another
/// way (the file then leaves them alone) does not get them.
#[tokio::test]
async fn the_files_groups_go_to_the_files_user_only() {
    let w = world("{}").await;
    let store = &w.tb.broker.internals().store;
    let alice = store.user_by_email(USER).await.unwrap().unwrap();
    let t = sign_in(&w.tb, "hr", "openid%20groups%20roles", USER).await;
    assert_eq!(
        strings(&claims(t["id_token"].as_str().unwrap())["groups"]),
        ["admins"]
    );
    store
        .update_user(&alice.id, |u| {
            u.source = idbroker::store::UserSource::Import
        })
        .await
        .unwrap()
        .unwrap();
    let t = sign_in(&w.tb, "hr", "openid%20groups%20roles", USER).await;
    let id = claims(t["id_token"].as_str().unwrap());
    assert!(strings(&id["groups"]).is_empty(), "{id}");
    assert!(strings(&id["roles"]).is_empty(), "{id}");
}
