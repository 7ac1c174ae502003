//! Organisations created at run time (issue 13): through the admin API, checked by the
//! policy file's own rules and messages, routed like the file's, kept in the store (a
//! restart, another replica), overridden by the file on conflict, and printed back as policy
//! YAML by `idbroker admin export-organizations`.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::admin::{APP, Api, World, admin_token, sso_sign_in, world};
use crate::fake_entra::NewUser;
use crate::support::broker::{TestBroker, replica_pair_with};
use crate::support::browser::Browser;
use crate::support::child::ChildBroker;
use crate::support::oauth::identify;
use crate::support::redis_server::RedisServer;

/// The fabrikam organisation as an operator writes it: its tenant named by its domain.
fn fabrikam(tenant: &str) -> Value {
    json!({
        "id": "fabrikam",
        "domains": ["fabrikam.com"],
        "upstream": "entra",
        "tenant_id": tenant,
        "sso": "all_synced_users",
        "jit": true,
    })
}

/// A second tenant, `fabrikam.com`, with one user, where the broker's app may sign users in.
fn add_fabrikam(w: &World) -> String {
    let tid = w.fake.add_tenant("fabrikam.com");
    w.fake
        .tenant(&tid)
        .add_user(NewUser::new("bob@fabrikam.com", "Bob Fabrikam"));
    tid
}

async fn org_list(api: &Api) -> Vec<Value> {
    let (status, body) = api.get("/admin/api/organizations").await;
    assert_eq!(status, 200, "{body}");
    body.as_array().unwrap().clone()
}

fn find<'a>(list: &'a [Value], id: &str) -> Option<&'a Value> {
    list.iter().find(|o| o["id"] == id)
}

/// Where the identifier step sends `who`: `Some(url)` when upstream, `None` for the
/// password step.
async fn routed(tb: &TestBroker, who: &str) -> Option<String> {
    let mut b = Browser::new();
    let step = identify(&mut b, tb, who).await;
    if step.status == StatusCode::SEE_OTHER {
        step.location
    } else {
        assert_eq!(step.status, StatusCode::OK, "{}", step.body);
        assert!(step.body.contains("name=\"password\""), "{}", step.body);
        None
    }
}

#[tokio::test]
async fn an_organization_created_at_run_time_sends_its_users_to_their_tenant() {
    let w = world("per_user", 0).await;
    let tid = add_fabrikam(&w);
    // Before: nobody knows fabrikam.com; the password step, as for any unknown address.
    assert_eq!(routed(&w.tb, "bob@fabrikam.com").await, None);

    // The tenant given by its verified domain is stored as its id.
    let (status, body) = w
        .api
        .post("/admin/api/organizations", Some(fabrikam("Fabrikam.com")))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["origin"], "runtime");
    assert_eq!(body["in_force"], true);
    assert_eq!(body["tenant_id"], tid);
    assert_eq!(body["spec"]["tenant_id"], tid);
    crate::cli::assert_matches_schema("Organization", &body);

    let upstream = routed(&w.tb, "bob@fabrikam.com")
        .await
        .expect("sent upstream");
    assert!(upstream.starts_with(&w.fake.authority()), "{upstream}");
    assert!(upstream.contains(&tid), "{upstream}");
    // Just in time: the user is created on return and gets the broker's tokens.
    let claims = sso_sign_in(&w, "bob@fabrikam.com").await;
    assert_eq!(claims["email"], "bob@fabrikam.com");

    // The file's organisations are listed as such, and the audit names the change.
    let list = org_list(&w.api).await;
    assert_eq!(find(&list, "contoso").unwrap()["origin"], "policy_file");
    assert!(find(&list, "contoso").unwrap().get("spec").is_none());
    let lines = w.tb.audit_lines().await;
    let created = lines
        .iter()
        .find(|l| l["event"] == "admin.organizations.create")
        .expect("audited");
    assert_eq!(created["outcome"], "success");
    assert_eq!(created["organization"], "fabrikam");

    // Changed: SSO off; then deleted: bob falls back to the password step.
    let mut off = fabrikam(&tid);
    off["sso"] = json!("off");
    off["jit"] = json!(false);
    let (status, body) = w.api.put("/admin/api/organizations/fabrikam", off).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["sso"], "off");
    assert_eq!(routed(&w.tb, "bob@fabrikam.com").await, None);
    let (status, _) = w
        .api
        .call(
            reqwest::Method::DELETE,
            "/admin/api/organizations/fabrikam",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(find(&org_list(&w.api).await, "fabrikam").is_none());
    let (status, _) = w
        .api
        .call(
            reqwest::Method::DELETE,
            "/admin/api/organizations/fabrikam",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_runtime_organization_is_refused_with_the_policy_files_messages() {
    let w = world("per_user", 0).await;
    add_fabrikam(&w);
    let before = org_list(&w.api).await;
    let cases = [
        (
            json!({"id": "fabrikam", "domains": ["contoso.com"]}),
            "organization.domains[0]: domain \"contoso.com\" is claimed by both organization \
             \"contoso\" (defined in the policy file) and \"fabrikam\"; an email domain belongs \
             to one organization",
        ),
        (
            json!({"id": "contoso", "domains": ["contoso.org"]}),
            "organization.id: organization \"contoso\" already exists (defined in the policy file)",
        ),
        (
            fabrikam(&w.tid),
            "already belongs to organization \"contoso\" (defined in the policy file); one Entra \
             tenant belongs to one organization",
        ),
        (
            json!({"id": "fabrikam", "domains": ["fabrikam.com"], "upstream": "nope"}),
            "organization.upstream: no upstream with id \"nope\"; declared upstreams: entra",
        ),
        (
            json!({"id": "fabrikam", "domains": ["fabrikam.com"], "upstream": "entra"}),
            "`tenant_id` is required because upstream \"entra\" is kind entra",
        ),
        (
            json!({"id": "fabrikam", "domains": ["fabrikam.com"], "sso": "always"}),
            "always",
        ),
        (
            json!({"id": "Fabrikam Ltd", "domains": ["fabrikam.com"]}),
            "organization.id:",
        ),
        (
            fabrikam("northwind.com"),
            "organization.tenant_id: the tenant of domain \"northwind.com\" could not be found",
        ),
        (
            fabrikam("../../x"),
            "organization.tenant_id: \"../../x\" is neither a tenant id nor a domain",
        ),
    ];
    for (spec, expected) in cases {
        let (status, body) = w
            .api
            .post("/admin/api/organizations", Some(spec.clone()))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{spec}: {body}");
        assert_eq!(body["error"], "invalid_organization", "{body}");
        let problems: Vec<&str> = body["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap())
            .collect();
        let problems = problems.join("\n");
        assert!(problems.contains(expected), "{spec}: {problems}");
    }
    // An unknown field is refused before any rule runs.
    let (status, body) = w
        .api
        .post(
            "/admin/api/organizations",
            Some(json!({"id": "fabrikam", "domain": ["fabrikam.com"]})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["error_description"].to_string().contains("domain"),
        "{body}"
    );
    // Nothing changed.
    assert_eq!(org_list(&w.api).await, before);
    // The file's organisations cannot be changed or deleted here.
    let (status, body) = w
        .api
        .put(
            "/admin/api/organizations/contoso",
            json!({"id": "contoso", "domains": ["contoso.com"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["error_description"]
            .to_string()
            .contains("policy file")
    );
    let (status, _) = w
        .api
        .call(
            reqwest::Method::DELETE,
            "/admin/api/organizations/contoso",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    // Without the admin token: 401, and nothing is created.
    let (status, _) = w
        .api
        .with_token(None)
        .post(
            "/admin/api/organizations",
            Some(json!({"id": "x1", "domains": ["x1.com"]})),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(org_list(&w.api).await, before);
}

/// Polls `check` every 20 ms for up to `limit`.
async fn within<F, Fut>(limit: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test]
async fn the_policy_file_wins_a_conflict_and_the_list_says_why() {
    let w = world("per_user", 0).await;
    let tid = add_fabrikam(&w);
    let (status, body) = w
        .api
        .post("/admin/api/organizations", Some(fabrikam(&tid)))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(routed(&w.tb, "bob@fabrikam.com").await.is_some());

    // The file now gives fabrikam.com to an organisation of its own, without SSO.
    let original = std::fs::read_to_string(&w.tb.policy_path).unwrap();
    let claimed = original.replacen(
        "  - id: local\n",
        "  - id: fabrikam-file\n    domains: [fabrikam.com]\n  - id: local\n",
        1,
    );
    assert_ne!(claimed, original);
    std::fs::write(&w.tb.policy_path, &claimed).unwrap();
    let api = &w.api;
    assert!(
        within(Duration::from_secs(5), || async {
            find(&org_list(api).await, "fabrikam").is_some_and(|o| o["in_force"] == false)
        })
        .await,
        "the runtime organization stayed in force"
    );
    let list = org_list(api).await;
    let shadowed = find(&list, "fabrikam").unwrap();
    crate::cli::assert_matches_schema("Organization", shadowed);
    let why = shadowed["out_of_force"].as_str().unwrap();
    assert!(
        why.contains("\"fabrikam.com\" is claimed by both organization \"fabrikam-file\" (defined in the policy file)"),
        "{why}"
    );
    assert_eq!(
        find(&list, "fabrikam-file").unwrap()["origin"],
        "policy_file"
    );
    // The file's organisation routes: no SSO there, so the password step.
    assert_eq!(routed(&w.tb, "bob@fabrikam.com").await, None);

    // The file gives the domain back: the runtime organisation is in force again.
    std::fs::write(&w.tb.policy_path, &original).unwrap();
    assert!(
        within(Duration::from_secs(5), || async {
            find(&org_list(api).await, "fabrikam").is_some_and(|o| o["in_force"] == true)
        })
        .await,
        "the runtime organization did not come back"
    );
    assert!(routed(&w.tb, "bob@fabrikam.com").await.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runtime_organization_reaches_the_other_replica_within_a_second() {
    let redis = RedisServer::start();
    let extra = r#"admin: {token_env: IDBROKER_ADMIN_TOKEN}
upstreams:
  - id: entra
    kind: entra
    client_id: 0b7c4d1e-5f60-4a7b-8c9d-0e1f2a3b4c5d
    client_secret_env: ENTRA_SECRET
    authority: http://127.0.0.1:9/entra
"#;
    let (a, b, _keys) = replica_pair_with(&redis.url(), "", extra).await;
    let api = |tb: &TestBroker| Api {
        http: reqwest::Client::new(),
        base: format!("http://127.0.0.1:{}", tb.port),
        token: Some(admin_token()),
    };
    let tenant = "3f1c2b4a-0d5e-4f60-8a7b-9c0d1e2f3a4b";
    let started = Instant::now();
    let (status, body) = api(&a)
        .post(
            "/admin/api/organizations",
            Some(
                json!({"id": "fabrikam", "domains": ["fabrikam.com"], "upstream": "entra",
                        "tenant_id": tenant, "sso": "all_synced_users", "jit": true}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let b_api = api(&b);
    assert!(
        within(Duration::from_secs(1), || async {
            find(&org_list(&b_api).await, "fabrikam").is_some()
        })
        .await,
        "replica B does not know fabrikam after 1 s"
    );
    eprintln!(
        "a runtime organization reached the other replica in {:?}",
        started.elapsed()
    );
    // B routes it (its policy holds it, not only its list).
    assert!(
        b.broker
            .policy()
            .org_for_email("bob@fabrikam.com")
            .is_some_and(|o| o.id == "fabrikam")
    );
    let (status, _) = api(&b)
        .call(
            reqwest::Method::DELETE,
            "/admin/api/organizations/fabrikam",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(
        within(Duration::from_secs(1), || async {
            a.broker
                .policy()
                .org_for_email("bob@fabrikam.com")
                .is_none()
        })
        .await,
        "replica A still routes fabrikam after its deletion on B"
    );
}

#[tokio::test]
async fn runtime_organizations_survive_a_restart_and_export_as_policy_yaml() {
    let extra = format!(
        r#"admin: {{token_env: IDBROKER_ADMIN_TOKEN}}
upstreams:
  - id: entra
    kind: entra
    client_id: {APP}
    client_secret_env: ENTRA_SECRET
    authority: http://127.0.0.1:9/entra
organizations:
  - id: contoso
    domains: [contoso.com]
"#
    );
    let mut broker = ChildBroker::start(&extra).await;
    let api = Api {
        http: reqwest::Client::new(),
        base: broker.base.clone(),
        token: Some(admin_token()),
    };
    let tenant = "3f1c2b4a-0d5e-4f60-8a7b-9c0d1e2f3a4b";
    let spec = json!({"id": "fabrikam", "domains": ["fabrikam.com", "fabrikam.org"],
                      "upstream": "entra", "tenant_id": tenant, "sso": "per_user",
                      "password_fallback": true, "sync": {"interval": "1h"}});
    let (status, body) = api.post("/admin/api/organizations", Some(spec)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    broker.restart().await;
    let list = org_list(&api).await;
    let kept = find(&list, "fabrikam").expect("kept across the restart");
    assert_eq!(kept["in_force"], true);
    assert_eq!(kept["sync_interval_secs"], 3600);

    // export-organizations prints them as policy YAML: pasted into the file, it loads.
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_idbroker"))
        .args(["admin", "--url", &broker.base, "export-organizations"])
        .env("IDBROKER_ADMIN_TOKEN", admin_token())
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let yaml = String::from_utf8(out.stdout).unwrap();
    assert!(yaml.contains("  - id: fabrikam\n"), "{yaml}");
    assert!(yaml.contains("interval: 1h"), "as written: {yaml}");
    assert!(!yaml.contains("contoso"), "only the runtime ones: {yaml}");
    let entries = yaml
        .split_once("organizations:\n")
        .map(|(_, rest)| rest.to_owned())
        .unwrap();
    let path = broker.dir.path().join("broker.yaml");
    let file = std::fs::read_to_string(&path).unwrap();
    let merged = file.replacen("organizations:\n", &format!("organizations:\n{entries}"), 1);
    let check_path = broker.dir.path().join("exported.yaml");
    std::fs::write(&check_path, &merged).unwrap();
    let checked = tokio::process::Command::new(env!("CARGO_BIN_EXE_idbroker"))
        .args(["check-config", "--config", check_path.to_str().unwrap()])
        .env("WEB_SECRET", crate::support::broker::WEB_SECRET)
        .env("IDBROKER_ADMIN_TOKEN", admin_token())
        .env("ENTRA_SECRET", "entra-app-secret-value")
        .output()
        .await
        .unwrap();
    assert!(
        checked.status.success(),
        "{}\n---\n{merged}",
        String::from_utf8_lossy(&checked.stderr)
    );
}
