//! The admin console (`/admin`, issue 13), driven as a browser drives it: admins sign in
//! through the login page (an organisation admin by SSO through the fake Entra); operators
//! see and change everything and create organisations; an organisation's admin sees and
//! changes that organisation only, and every other organisation's page and action answers
//! 403 and reveals nothing; a plain user gets 403; a forged form changes nothing.

use reqwest::StatusCode;
use serde_json::Value;

use crate::admin::admin_token;
use crate::fake_entra::{FakeEntra, NewUser};
use crate::support::broker::{PASSWORD, TestBroker, password_hash};
use crate::support::browser::{Browser, Page};

const APP: &str = "0b7c4d1e-5f60-4a7b-8c9d-0e1f2a3b4c5d";
const APP_SECRET: &str = "entra-app-secret-value";

struct World {
    _fake: FakeEntra,
    tb: TestBroker,
}

/// Operators: ops@example.com. contoso's admin: carol@contoso.com (SSO). fabrikam's admin:
/// frank@fabrikam.com. Users of each organisation, and alice, a plain user.
async fn world() -> World {
    let fake = FakeEntra::start().await;
    let contoso = fake.add_tenant("contoso.com");
    let fabrikam = fake.add_tenant("fabrikam.com");
    let carol = fake
        .tenant(&contoso)
        .add_user(NewUser::new("carol@contoso.com", "Carol Contoso"));
    let extra = format!(
        r#"admin: {{token_env: IDBROKER_ADMIN_TOKEN, operators: [Ops@Example.com]}}
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
    tenant_id: {contoso}
    sso: per_user
    admins: [carol@contoso.com]
  - id: fabrikam
    domains: [fabrikam.com]
    upstream: entra
    tenant_id: {fabrikam}
    sso: per_user
    admins: [frank@fabrikam.com]
  - id: local
    domains: [example.com]
"#,
        authority = fake.authority(),
        graph = fake.graph(),
    );
    let hash = password_hash();
    let users = format!(
        r#"users:
  - {{email: ops@example.com, name: Olga Ops, organization: local, password_hash: "{hash}"}}
  - {{email: alice@example.com, name: Alice, organization: local, password_hash: "{hash}"}}
  - email: carol@contoso.com
    name: Carol Contoso
    organization: contoso
    link: {{tid: {contoso}, oid: {carol_oid}}}
    sso: true
  - {{email: dave@contoso.com, name: Dave Contoso, organization: contoso, password_hash: "{hash}"}}
  - {{email: frank@fabrikam.com, name: Frank, organization: fabrikam, password_hash: "{hash}"}}
  - {{email: erin@fabrikam.com, name: Erin Fabrikam, organization: fabrikam, password_hash: "{hash}"}}
"#,
        carol_oid = carol.id,
    );
    let tb = TestBroker::start_with(&extra, Some(&users), idbroker::clock::Clock::System).await;
    fake.register_app(
        APP,
        &[
            &tb.url("/upstream/callback"),
            &tb.url("/admin/consent/callback"),
        ],
    );
    fake.add_app_secret(APP, APP_SECRET);
    World { _fake: fake, tb }
}

/// Opens `/admin` in a fresh browser and signs in as `who`: with `PASSWORD`, or, for a user
/// sent upstream, through the fake Entra. Returns the console page it lands on.
async fn console_sign_in(w: &World, who: &str) -> (Browser, Page) {
    let base = &w.tb.base;
    let mut b = Browser::new();
    let first = b.get(&w.tb.url("/admin")).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
    let login = b.follow(base, first).await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
    let (tx, csrf) = (login.field("tx"), login.field("csrf"));
    let step = b
        .post(
            &w.tb.url("/login/identifier"),
            &[("tx", &tx), ("csrf", &csrf), ("identifier", who)],
        )
        .await;
    let back = if step.status == StatusCode::SEE_OTHER {
        // Single sign-on: the fake Entra signs the user in at once.
        let at_entra = b.get(step.location.as_deref().unwrap()).await;
        assert!(at_entra.status.is_redirection(), "{}", at_entra.body);
        b.get(at_entra.location.as_deref().unwrap()).await
    } else {
        b.post(
            &w.tb.url("/login/password"),
            &[("tx", &tx), ("csrf", &csrf), ("password", PASSWORD)],
        )
        .await
    };
    let page = b.follow(base, back).await;
    (b, page)
}

async fn api_get(w: &World, path: &str) -> Value {
    let resp = reqwest::Client::new()
        .get(w.tb.url(path))
        .bearer_auth(admin_token())
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{path}: {}", resp.status());
    resp.json().await.unwrap()
}

async fn user_sso(w: &World, email: &str) -> bool {
    api_get(w, &format!("/admin/api/users/{email}")).await["sso"]
        .as_bool()
        .unwrap()
}

async fn user_id(w: &World, email: &str) -> String {
    api_get(w, &format!("/admin/api/users/{email}")).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The form field `name` inside the form whose action is `action`.
fn form_field(page: &Page, action: &str, name: &str) -> String {
    let at = page
        .body
        .find(&format!("action=\"{action}\""))
        .unwrap_or_else(|| panic!("no form {action} in:\n{}", page.body));
    crate::support::browser::field(&page.body[at..], name).unwrap()
}

#[tokio::test]
async fn an_operator_signs_in_and_creates_an_organization_in_the_console() {
    let w = world().await;
    let (mut b, page) = console_sign_in(&w, "ops@example.com").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    for org in ["contoso", "fabrikam", "local"] {
        assert!(
            page.body.contains(&format!("/admin/organizations/{org}\"")),
            "{org}"
        );
    }
    assert!(page.body.contains("ops@example.com (operator)"));

    let form = b.get(&w.tb.url("/admin/organizations/new")).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let csrf = form.field("csrf");
    let create = |id: &'static str, domains: &'static str, csrf: String| {
        vec![
            ("csrf", csrf),
            ("id", id.to_owned()),
            ("domains", domains.to_owned()),
            ("upstream", String::new()),
            ("tenant", String::new()),
            ("sso", "off".to_owned()),
            ("sync_interval", String::new()),
        ]
    };
    // A domain the file gives to contoso: the file's own message, and nothing created.
    let fields = create("northwind", "northwind.com, contoso.com", csrf.clone());
    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let refused = b.post(&w.tb.url("/admin/organizations/new"), &refs).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    let text = refused.body.replace("&#34;", "\"");
    assert!(
        text.contains(
            "organization.domains[1]: domain \"contoso.com\" is claimed by both organization \
             \"contoso\" (defined in the policy file) and \"northwind\""
        ),
        "{text}"
    );
    assert!(
        refused.body.contains("value=\"northwind\""),
        "what was typed stays"
    );
    // A forged form (no CSRF token of this session): nothing created.
    let fields = create("northwind", "northwind.com", "forged".into());
    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let forged = b.post(&w.tb.url("/admin/organizations/new"), &refs).await;
    assert_eq!(forged.status, StatusCode::BAD_REQUEST);
    let orgs = api_get(&w, "/admin/api/organizations").await;
    assert!(!orgs.to_string().contains("northwind"), "{orgs}");

    let fields = create("northwind", "northwind.com", csrf);
    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let created = b.post(&w.tb.url("/admin/organizations/new"), &refs).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let page = b.follow(&w.tb.base, created).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("The organisation was created."));
    let org = api_get(&w, "/admin/api/organizations/northwind").await;
    assert_eq!(org["origin"], "runtime");
    // Audited with the operator's identity, not "admin token".
    let lines = w.tb.audit_lines().await;
    let record = lines
        .iter()
        .find(|l| l["event"] == "admin.organizations.create" && l["outcome"] == "success")
        .unwrap();
    assert_eq!(record["actor"], "ops@example.com");

    // Its settings change in the console, by the same rules; then it is deleted.
    let edit = b
        .get(&w.tb.url("/admin/organizations/northwind/edit"))
        .await;
    assert_eq!(edit.status, StatusCode::OK, "{}", edit.body);
    assert!(edit.body.contains("value=\"northwind.com\""));
    let csrf = form_field(&edit, "/admin/organizations/northwind/edit", "csrf");
    let clash = b
        .post(
            &w.tb.url("/admin/organizations/northwind/edit"),
            &[
                ("csrf", &csrf),
                ("domains", "northwind.com, fabrikam.com"),
                ("sso", "off"),
            ],
        )
        .await;
    assert_eq!(clash.status, StatusCode::BAD_REQUEST);
    assert!(clash.body.contains("The settings were not saved"));
    let saved = b
        .post(
            &w.tb.url("/admin/organizations/northwind/edit"),
            &[
                ("csrf", &csrf),
                ("domains", "northwind.com, northwind.org"),
                ("sso", "off"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let org = api_get(&w, "/admin/api/organizations/northwind").await;
    assert_eq!(
        org["domains"],
        serde_json::json!(["northwind.com", "northwind.org"])
    );
    // The file's organisations are not changed here.
    let file_org = b.get(&w.tb.url("/admin/organizations/contoso/edit")).await;
    assert_eq!(file_org.status, StatusCode::NOT_FOUND);
    let deleted = b
        .post(
            &w.tb.url("/admin/organizations/northwind/delete"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    let orgs = api_get(&w, "/admin/api/organizations").await;
    assert!(!orgs.to_string().contains("northwind"), "{orgs}");
}

#[tokio::test]
async fn an_organization_admin_signed_in_by_sso_sees_and_changes_only_their_organization() {
    let w = world().await;
    let (mut b, page) = console_sign_in(&w, "carol@contoso.com").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("/admin/organizations/contoso\""));
    assert!(!page.body.contains("fabrikam"), "{}", page.body);
    assert!(!page.body.contains("New organisation"));

    // Another organisation, and one that does not exist, answer alike: 403, nothing shown.
    let other = b.get(&w.tb.url("/admin/organizations/fabrikam")).await;
    let unknown = b.get(&w.tb.url("/admin/organizations/nowhere")).await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);
    assert_eq!(unknown.status, StatusCode::FORBIDDEN);
    assert_eq!(other.body, unknown.body);
    assert!(!other.body.contains("erin"));
    assert_eq!(
        b.get(&w.tb.url("/admin/organizations/new")).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        b.get(&w.tb.url("/admin/organizations/contoso/edit"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    // Her own organisation: its users, and the SSO switch works.
    let own = b.get(&w.tb.url("/admin/organizations/contoso")).await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
    assert!(own.body.contains("dave@contoso.com"));
    assert!(!own.body.contains("erin@fabrikam.com"));
    let dave = user_id(&w, "dave@contoso.com").await;
    let action = format!("/admin/users/{dave}/sso");
    let csrf = form_field(&own, &action, "csrf");
    assert!(!user_sso(&w, "dave@contoso.com").await);
    let switched = b
        .post(
            &w.tb.url(&action),
            &[("csrf", &csrf), ("org", "contoso"), ("to", "on")],
        )
        .await;
    assert_eq!(switched.status, StatusCode::SEE_OTHER, "{}", switched.body);
    assert!(user_sso(&w, "dave@contoso.com").await);

    // A fabrikam user, or a fabrikam action, with her valid token: 403, nothing changes.
    let erin = user_id(&w, "erin@fabrikam.com").await;
    for (path, form) in [
        (
            format!("/admin/users/{erin}/sso"),
            vec![("csrf", csrf.as_str()), ("org", "contoso"), ("to", "on")],
        ),
        (
            format!("/admin/users/{erin}/disabled"),
            vec![("csrf", csrf.as_str()), ("org", "fabrikam"), ("to", "on")],
        ),
        (
            "/admin/organizations/fabrikam/sync".to_owned(),
            vec![("csrf", csrf.as_str())],
        ),
        (
            "/admin/organizations/fabrikam/consent".to_owned(),
            vec![("csrf", csrf.as_str())],
        ),
    ] {
        let refused = b.post(&w.tb.url(&path), &form).await;
        assert_eq!(
            refused.status,
            StatusCode::FORBIDDEN,
            "{path}: {}",
            refused.body
        );
    }
    let erin_now = api_get(&w, "/admin/api/users/erin@fabrikam.com").await;
    assert_eq!(erin_now["sso"], false);
    assert_eq!(erin_now["disabled"], false);

    // The audit names her.
    let lines = w.tb.audit_lines().await;
    let record = lines
        .iter()
        .find(|l| l["event"] == "admin.user.sso" && l["outcome"] == "success")
        .expect("the switch is audited");
    assert_eq!(record["actor"], "carol@contoso.com");

    // A password link for her user, shown once; signing him out everywhere; neither for erin.
    let own = b.get(&w.tb.url("/admin/organizations/contoso")).await;
    let csrf = form_field(&own, &format!("/admin/users/{dave}/revoke"), "csrf");
    let link = b
        .post(
            &w.tb.url(&format!("/admin/users/{dave}/password-link")),
            &[("csrf", &csrf), ("org", "contoso")],
        )
        .await;
    assert_eq!(link.status, StatusCode::OK, "{}", link.body);
    assert!(link.body.contains("/password/set?token="), "{}", link.body);
    let revoked = b
        .post(
            &w.tb.url(&format!("/admin/users/{dave}/revoke")),
            &[("csrf", &csrf), ("org", "contoso")],
        )
        .await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER, "{}", revoked.body);
    for action in ["revoke", "password-link"] {
        let refused = b
            .post(
                &w.tb.url(&format!("/admin/users/{erin}/{action}")),
                &[("csrf", &csrf), ("org", "contoso")],
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{action}");
    }

    // The audit log: her organisation's records only.
    api_get(&w, "/admin/api/organizations/fabrikam").await;
    let log = b.get(&w.tb.url("/admin/audit")).await;
    assert_eq!(log.status, StatusCode::OK, "{}", log.body);
    assert!(log.body.contains("admin.user.sso"), "{}", log.body);
    assert!(log.body.contains("admin.user.revoke"));
    assert!(!log.body.contains("fabrikam"), "{}", log.body);
    let filtered = b
        .get(&w.tb.url("/admin/audit?event=admin.user.revoke&period=1d"))
        .await;
    assert!(filtered.body.contains("admin.user.revoke"));
    assert!(!filtered.body.contains("admin.user.sso"));
    let other = b.get(&w.tb.url("/admin/audit?organization=fabrikam")).await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_plain_user_gets_403_and_a_forged_form_changes_nothing() {
    let w = world().await;
    let (mut alice, page) = console_sign_in(&w, "alice@example.com").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
    assert!(page.body.contains("Not an administrator"));
    assert_eq!(
        alice
            .get(&w.tb.url("/admin/organizations/local"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    // Frank administers fabrikam; a form posted with another session's token (or none) is
    // refused and changes nothing.
    let (mut frank, _) = console_sign_in(&w, "frank@fabrikam.com").await;
    let erin = user_id(&w, "erin@fabrikam.com").await;
    let action = format!("/admin/users/{erin}/sso");
    for csrf in ["", "forged", "0123456789abcdef"] {
        let refused = frank
            .post(
                &w.tb.url(&action),
                &[("csrf", csrf), ("org", "fabrikam"), ("to", "on")],
            )
            .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    }
    // A page of another origin posting the form: no session cookie of ours, so sign-in.
    let mut stranger = Browser::new();
    let posted = stranger
        .post(
            &w.tb.url(&action),
            &[("csrf", "x"), ("org", "fabrikam"), ("to", "on")],
        )
        .await;
    assert_eq!(posted.status, StatusCode::SEE_OTHER);
    assert!(posted.location.unwrap().starts_with("/authorize?"));
    assert!(!user_sso(&w, "erin@fabrikam.com").await);
    // Alice's own valid session cannot either.
    let page = alice.get(&w.tb.url("/admin")).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let refused = alice
        .post(
            &w.tb.url(&action),
            &[("csrf", "x"), ("org", "fabrikam"), ("to", "on")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(!user_sso(&w, "erin@fabrikam.com").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_in_chromium_without_javascript() {
    let w = world().await;
    crate::browser::run_script(
        "console.mjs",
        &[&w.tb.base, "ops@example.com", PASSWORD, "dave@contoso.com"],
    )
    .await;
    assert!(user_sso(&w, "dave@contoso.com").await);
    assert_eq!(
        api_get(&w, "/admin/api/organizations/northwind").await["origin"],
        "runtime"
    );
}

/// A broker with no organisation for the fake Entra's `contoso.com` tenant yet (the operator
/// creates it), whose 60 users are `user001@contoso.com`…
async fn flow_world() -> (FakeEntra, TestBroker, String) {
    let fake = FakeEntra::start().await;
    let tid = fake.add_tenant("contoso.com");
    fake.tenant(&tid).add_users(60);
    let extra = format!(
        r#"admin: {{operators: [ops@example.com]}}
upstreams:
  - id: entra
    kind: entra
    client_id: {APP}
    client_secret_env: ENTRA_SECRET
    authority: {authority}
    graph: {graph}
"#,
        authority = fake.authority(),
        graph = fake.graph(),
    );
    let users = format!(
        "users:\n  - {{email: ops@example.com, name: Olga Ops, password_hash: \"{}\"}}\n",
        password_hash()
    );
    let tb = TestBroker::start_with(&extra, Some(&users), idbroker::clock::Clock::System).await;
    fake.register_app(
        APP,
        &[
            &tb.url("/upstream/callback"),
            &tb.url("/admin/consent/callback"),
        ],
    );
    fake.add_app_secret(APP, APP_SECRET);
    (fake, tb, tid)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_flow_in_chromium_from_a_new_tenant_to_an_sso_sign_in() {
    let (_fake, tb, tid) = flow_world().await;
    crate::browser::run_script(
        "console_flow.mjs",
        &[
            &tb.base,
            "ops@example.com",
            PASSWORD,
            &tid,
            "user012@contoso.com",
            "user013@contoso.com",
        ],
    )
    .await;
    // Exactly the two ticked users were imported.
    let users: Vec<Value> = reqwest::Client::new()
        .get(tb.url("/admin/api/users?organization=contoso"))
        .bearer_auth(admin_token())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap_or_default();
    // (The API is off in this world: no token in the policy; the store says it instead.)
    assert!(users.is_empty());
    let store = tb.broker.internals().store;
    let imported: Vec<String> = store
        .list_users()
        .await
        .unwrap()
        .into_iter()
        .filter(|u| u.organization.as_deref() == Some("contoso"))
        .map(|u| u.email)
        .collect();
    assert_eq!(imported.len(), 2, "{imported:?}");
}

#[tokio::test]
async fn tenant_users_are_browsed_a_page_at_a_time_and_searched() {
    let (_fake, tb, tid) = flow_world().await;
    let mut b = Browser::new();
    // Sign the operator in and create the organisation with the form.
    let first = b.get(&tb.url("/admin")).await;
    let login = b.follow(&tb.base, first).await;
    let (tx, csrf) = (login.field("tx"), login.field("csrf"));
    b.post(
        &tb.url("/login/identifier"),
        &[
            ("tx", &tx),
            ("csrf", &csrf),
            ("identifier", "ops@example.com"),
        ],
    )
    .await;
    let done = b
        .post(
            &tb.url("/login/password"),
            &[("tx", &tx), ("csrf", &csrf), ("password", PASSWORD)],
        )
        .await;
    let page = b.follow(&tb.base, done).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let form = b.get(&tb.url("/admin/organizations/new")).await;
    let csrf = form.field("csrf");
    let created = b
        .post(
            &tb.url("/admin/organizations/new"),
            &[
                ("csrf", csrf.as_str()),
                ("id", "contoso"),
                ("domains", "contoso.com"),
                ("upstream", "entra"),
                ("tenant", tid.as_str()),
                ("sso", "per_user"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    // Consent, straight through the fake.
    let org = b.get(&tb.url("/admin/organizations/contoso")).await;
    let consent = b
        .post(
            &tb.url("/admin/organizations/contoso/consent"),
            &[("csrf", &org.field("csrf"))],
        )
        .await;
    let at_entra = b.get(consent.location.as_deref().unwrap()).await;
    let callback = b.get(at_entra.location.as_deref().unwrap()).await;
    assert_eq!(callback.status, StatusCode::OK, "{}", callback.body);

    // 60 users: a page of 50, then the next one of 10, no user twice; a search narrows them.
    let first = b
        .get(&tb.url("/admin/organizations/contoso/tenant-users"))
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.body.matches("name=\"oid\"").count(), 50);
    let next = first
        .body
        .split("href=\"")
        .filter_map(|s| s.split('"').next())
        .find(|h| h.contains("page="))
        .expect("a next page link")
        .replace("&#38;", "&");
    let second = b.get(&tb.url(&next)).await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.body);
    assert_eq!(second.body.matches("name=\"oid\"").count(), 10);
    assert!(!second.body.contains("next-page"));
    let oids = |body: &str| -> Vec<String> {
        body.split("name=\"oid\" value=\"")
            .skip(1)
            .map(|s| s.split('"').next().unwrap().to_owned())
            .collect()
    };
    let mut seen = oids(&first.body);
    seen.extend(oids(&second.body));
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 60);
    let some = b
        .get(&tb.url("/admin/organizations/contoso/tenant-users?search=User01"))
        .await;
    // user010 … user019 (display names "User 010" do not match "User01"; mails do).
    assert_eq!(
        some.body.matches("name=\"oid\"").count(),
        10,
        "{}",
        some.body
    );
    // A quote in the search is data, not OData.
    let quoted = b
        .get(&tb.url("/admin/organizations/contoso/tenant-users?search=o%27brien"))
        .await;
    assert_eq!(quoted.status, StatusCode::OK, "{}", quoted.body);
    assert!(quoted.body.contains("no-users"));
    // A page token that is not one is refused before Graph sees it.
    let bad = b
        .get(&tb.url("/admin/organizations/contoso/tenant-users?page=%3Cscript%3E"))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn operators_grant_and_remove_organization_admins_kept_in_the_store() {
    let w = world().await;
    let (mut ops, _) = console_sign_in(&w, "ops@example.com").await;
    let page = ops.get(&w.tb.url("/admin/organizations/contoso")).await;
    assert!(
        page.body
            .contains("carol@contoso.com <span class=\"muted\">· in the policy file")
    );
    let action = "/admin/organizations/contoso/admins";
    let csrf = form_field(&page, action, "csrf");
    // Dave is no admin yet.
    let (_, before) = console_sign_in(&w, "dave@contoso.com").await;
    assert_eq!(before.status, StatusCode::FORBIDDEN);

    let granted = ops
        .post(
            &w.tb.url(action),
            &[
                ("csrf", &csrf),
                ("email", "Dave@Contoso.com"),
                ("action", "grant"),
            ],
        )
        .await;
    assert_eq!(granted.status, StatusCode::SEE_OTHER, "{}", granted.body);
    let page = ops.get(&w.tb.url("/admin/organizations/contoso")).await;
    assert!(
        page.body
            .contains("dave@contoso.com <span class=\"muted\">· granted here")
    );
    let (mut dave, list) = console_sign_in(&w, "dave@contoso.com").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert!(list.body.contains("/admin/organizations/contoso\""));
    assert!(!list.body.contains("fabrikam"));

    // A file admin is changed in the file; a bad email is refused; neither changes a thing.
    for (email, why) in [
        (
            "carol@contoso.com",
            "is an admin of contoso in the policy file",
        ),
        ("not-an-email", "cannot be an admin"),
    ] {
        let refused = ops
            .post(
                &w.tb.url(action),
                &[("csrf", &csrf), ("email", email), ("action", "grant")],
            )
            .await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{email}: {}",
            refused.body
        );
        assert!(refused.body.contains(why), "{email}: {}", refused.body);
    }
    let page = ops.get(&w.tb.url("/admin/organizations/contoso")).await;
    assert!(!page.body.contains("not-an-email"));
    // An organisation's admin may not grant.
    let dave_page = dave.get(&w.tb.url("/admin/organizations/contoso")).await;
    assert!(!dave_page.body.contains("Add an administrator"));
    let dave_csrf = form_field(&dave_page, "/admin/organizations/contoso/sync", "csrf");
    let refused = dave
        .post(
            &w.tb.url(action),
            &[
                ("csrf", &dave_csrf),
                ("email", "erin@fabrikam.com"),
                ("action", "grant"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    // Removed: his next page is refused.
    let removed = ops
        .post(
            &w.tb.url(action),
            &[
                ("csrf", &csrf),
                ("email", "dave@contoso.com"),
                ("action", "remove"),
            ],
        )
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    let after = dave.get(&w.tb.url("/admin/organizations/contoso")).await;
    assert_eq!(after.status, StatusCode::FORBIDDEN);
    let lines = w.tb.audit_lines().await;
    assert!(
        lines
            .iter()
            .any(|l| l["event"] == "admin.organizations.admin_grant"
                && l["detail"] == "dave@contoso.com"
                && l["actor"] == "ops@example.com")
    );
}

#[tokio::test]
async fn an_organization_admin_sees_and_removes_a_users_second_factors() {
    let w = world().await;
    let store = &w.tb.broker.internals().store;
    let erin = store
        .user_by_email("erin@fabrikam.com")
        .await
        .unwrap()
        .unwrap();
    let factor = idbroker::store::TotpFactor {
        secret: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ".into(),
        last_step: None,
        recovery: vec!["d1".into()],
        created_at: 1_750_000_000,
    };
    assert!(store.enrol_totp(&erin.id, &factor).await.unwrap());
    for id in ["KEY-A", "KEY-B"] {
        let key = idbroker::store::StoredPasskey {
            id: id.into(),
            name: String::new(),
            created_at: 1_750_000_000,
            last_used_at: None,
            credential: serde_json::json!({"cred": {"counter": 0}}),
        };
        store.add_passkey(&erin.id, "handle", &key).await.unwrap();
    }

    // Frank administers fabrikam: Erin's row says what she has, with a button for each.
    let (mut b, _) = console_sign_in(&w, "frank@fabrikam.com").await;
    let page = b.get(&w.tb.url("/admin/organizations/fabrikam")).await;
    assert!(page.body.contains("one-time codes"), "{}", page.body);
    assert!(page.body.contains("passkeys: 2"), "{}", page.body);
    let totp_action = format!("/admin/users/{}/totp/remove", erin.id);
    let passkeys_action = format!("/admin/users/{}/passkeys/remove", erin.id);
    let csrf = form_field(&page, &totp_action, "csrf");

    // Carol, contoso's admin, may not touch a fabrikam user: nothing changes.
    let (mut carol, carol_page) = console_sign_in(&w, "carol@contoso.com").await;
    let carol_csrf = crate::support::browser::field(&carol_page.body, "csrf").unwrap();
    let refused = carol
        .post(
            &w.tb.url(&totp_action),
            &[("csrf", carol_csrf.as_str()), ("org", "fabrikam")],
        )
        .await;
    assert_ne!(refused.status, StatusCode::SEE_OTHER, "{}", refused.body);
    assert!(store.totp_factor(&erin.id).await.unwrap().is_some());

    for (action, done) in [
        (&totp_action, "done=totp-removed"),
        (&passkeys_action, "done=passkeys-removed"),
    ] {
        let resp = b
            .post(
                &w.tb.url(action),
                &[("csrf", csrf.as_str()), ("org", "fabrikam")],
            )
            .await;
        assert_eq!(resp.status, StatusCode::SEE_OTHER, "{}", resp.body);
        assert!(resp.location.as_deref().unwrap().ends_with(done));
    }
    assert!(store.totp_factor(&erin.id).await.unwrap().is_none());
    assert!(store.passkeys_of(&erin.id).await.unwrap().keys.is_empty());
    let page = b.get(&w.tb.url("/admin/organizations/fabrikam")).await;
    assert!(!page.body.contains(&totp_action) && !page.body.contains(&passkeys_action));
    let audit = w.tb.audit_lines().await;
    for event in ["user.mfa.removed", "user.passkey.removed"] {
        assert!(
            audit.iter().any(|r| r["event"] == event
                && r["outcome"] == "success"
                && r["actor"] == "frank@fabrikam.com"),
            "{event}"
        );
    }
    // A second removal: nothing left to remove, said on the page.
    let again = b
        .post(
            &w.tb.url(&totp_action),
            &[("csrf", csrf.as_str()), ("org", "fabrikam")],
        )
        .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST, "{}", again.body);
}
