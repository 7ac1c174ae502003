//! The audit trail of a scripted set of sign-ins: one complete record per attempt, in the
//! JSON-lines sink and in the store; and the password limiter against a spray.

use idbroker::store::AuditFilter;
use reqwest::StatusCode;

use crate::sso::{Options, world};
use crate::support::broker::{PASSWORD, TestBroker, USER};
use crate::support::browser::{Browser, sign_in};

fn authorize(base: &str) -> String {
    format!(
        "{base}/authorize?response_type=code&client_id=spa&redirect_uri=http://127.0.0.1:9000/callback&scope=openid&state=s&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256"
    )
}

#[tokio::test]
async fn every_sign_in_attempt_leaves_one_complete_record() {
    let w = world(Options::default()).await;
    let tb = &w.tb;
    let url = authorize(&tb.base);
    // 1 password success, 2 password failures (wrong password, unknown user), 1 SSO success.
    assert_eq!(
        sign_in(&mut Browser::new(), &tb.base, &url, USER, PASSWORD)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    sign_in(&mut Browser::new(), &tb.base, &url, USER, "wrong").await;
    sign_in(
        &mut Browser::new(),
        &tb.base,
        &url,
        "ghost@example.com",
        "x",
    )
    .await;
    let mut b = Browser::new();
    let first = b.get(&url).await;
    let page = b.follow(&tb.base, first).await;
    let step = b
        .post(
            &tb.url("/login/identifier"),
            &[
                ("tx", &page.field("tx")),
                ("csrf", &page.field("csrf")),
                ("identifier", "ada@contoso.com"),
            ],
        )
        .await;
    let back = b.get(step.location.as_deref().unwrap()).await;
    assert_eq!(
        b.get(back.location.as_deref().unwrap()).await.status,
        StatusCode::SEE_OTHER
    );

    let lines: Vec<_> = tb
        .audit_lines()
        .await
        .into_iter()
        .filter(|l| l["event"].as_str().unwrap_or("").starts_with("login."))
        .collect();
    let summary: Vec<(String, String, String)> = lines
        .iter()
        .map(|l| {
            (
                l["event"].as_str().unwrap().to_owned(),
                l["outcome"].as_str().unwrap().to_owned(),
                l["reason"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("login.password".into(), "success".into(), String::new()),
            (
                "login.password".into(),
                "failure".into(),
                "bad_password".into()
            ),
            (
                "login.password".into(),
                "failure".into(),
                "unknown_identifier".into()
            ),
            ("login.sso".into(), "success".into(), String::new()),
        ]
    );
    for l in &lines {
        for field in ["id", "time", "client_id", "ip", "user_agent", "identifier"] {
            assert!(!l[field].is_null(), "{field} missing in {l}");
        }
        assert_eq!(l["client_id"], "spa");
        assert_eq!(l["ip"], "127.0.0.1");
        if l["outcome"] == "success" {
            assert!(!l["user_id"].is_null(), "{l}");
        }
    }
    let sso = &lines[3];
    assert_eq!(sso["upstream"], "entra");
    assert_eq!(sso["organization"], "contoso");

    // The same records are kept in the store for the admin API.
    let stored = tb
        .broker
        .internals()
        .store
        .audit(&AuditFilter::default())
        .await
        .unwrap();
    for l in &lines {
        assert!(
            stored.iter().any(|r| r.id == l["id"].as_str().unwrap()),
            "record {} not in the store",
            l["id"]
        );
    }
}

/// A spray (one guess at many users from one address) hits the per-IP limit, before Argon2,
/// whether the users exist or not.
#[tokio::test]
async fn a_password_spray_hits_the_per_ip_limit() {
    let tb = TestBroker::start_with(
        "rate_limits: {password_per_ip: 4, password_per_identifier: 100, window: 5m}",
        None,
        idbroker::clock::Clock::System,
    )
    .await;
    let url = authorize(&tb.base);
    let mut statuses = Vec::new();
    for who in [
        USER,
        "ghost1@example.com",
        "nopass@example.com",
        "ghost2@example.com",
        "ghost3@example.com",
        USER,
    ] {
        let p = sign_in(&mut Browser::new(), &tb.base, &url, who, "Spring2026!").await;
        statuses.push(p.status.as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 200, 429, 429]);
    let limited = tb
        .audit_lines()
        .await
        .into_iter()
        .filter(|l| l["reason"] == "rate_limited")
        .count();
    // The first refusal of the address's window is audited; later ones are only counted in
    // the metric, so a spray cannot grow the audit log one record per guess.
    assert_eq!(limited, 1);
}

/// Behind a trusted proxy the client address is the proxy's `X-Forwarded-For` entry, not a
/// `Forwarded` header the client wrote itself; from any other peer both headers are ignored.
#[tokio::test]
async fn client_ip_comes_from_the_trusted_proxys_header_only() {
    let url_for = |tb: &TestBroker| authorize(&tb.base);
    let attempt = |tb: &TestBroker, headers: Vec<(&'static str, &'static str)>| {
        let url = url_for(tb);
        let base = tb.base.clone();
        async move {
            let http = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap();
            let with =
                |r: reqwest::RequestBuilder| headers.iter().fold(r, |r, (k, v)| r.header(*k, *v));
            let first = with(http.get(&url)).send().await.unwrap();
            let cookie = first
                .headers()
                .get_all("set-cookie")
                .iter()
                .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
                .collect::<Vec<_>>()
                .join("; ");
            let login = first.headers()["location"].to_str().unwrap().to_owned();
            let page = with(http.get(format!("{base}{login}")))
                .header("cookie", &cookie)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let field = |name: &str| crate::support::browser::field(&page, name).unwrap();
            let (tx, csrf) = (field("tx"), field("csrf"));
            for (path, pair) in [
                ("/login/identifier", ("identifier", USER)),
                ("/login/password", ("password", "wrong")),
            ] {
                with(http.post(format!("{base}{path}")))
                    .header("cookie", &cookie)
                    .form(&[("tx", tx.as_str()), ("csrf", csrf.as_str()), pair])
                    .send()
                    .await
                    .unwrap();
            }
        }
    };
    let spoofed = vec![
        ("x-forwarded-for", "203.0.113.5"),
        ("forwarded", "for=198.51.100.66"),
    ];
    let last_ip = |lines: Vec<serde_json::Value>| {
        lines
            .into_iter()
            .rev()
            .find(|l| l["event"] == "login.password")
            .map(|l| l["ip"].as_str().unwrap_or_default().to_owned())
            .unwrap()
    };

    let behind_proxy = TestBroker::start_with(
        "trusted_proxies: [127.0.0.1]",
        None,
        idbroker::clock::Clock::System,
    )
    .await;
    attempt(&behind_proxy, spoofed.clone()).await;
    assert_eq!(last_ip(behind_proxy.audit_lines().await), "203.0.113.5");
    attempt(
        &behind_proxy,
        vec![("forwarded", "for=\"[2001:db8::7]:4711\"")],
    )
    .await;
    assert_eq!(last_ip(behind_proxy.audit_lines().await), "2001:db8::7");

    let direct = TestBroker::start().await;
    attempt(&direct, spoofed).await;
    assert_eq!(last_ip(direct.audit_lines().await), "127.0.0.1");
}

/// The mode bits of `path` (permissions only).
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn the_audit_file_is_readable_by_the_owner_only() {
    // A fresh file: created 0600 whatever the umask (the test process's is usually 022).
    let tb = TestBroker::start().await;
    sign_in(
        &mut Browser::new(),
        &tb.base,
        &authorize(&tb.base),
        USER,
        "wrong",
    )
    .await;
    assert!(!tb.audit_lines().await.is_empty(), "a record was written");
    let path = tb.dir.path().join("audit.jsonl");
    assert_eq!(mode(&path), 0o600, "a new audit file is private");

    // An existing, world-readable file (an older version made it 0644) is narrowed.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    std::fs::write(&path, b"").unwrap();
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let yaml = crate::support::broker::policy_yaml(&base, dir.path(), "", None);
    let tb = TestBroker::start_yaml(dir, listener, &yaml, idbroker::clock::Clock::System).await;
    sign_in(
        &mut Browser::new(),
        &tb.base,
        &authorize(&tb.base),
        USER,
        "wrong",
    )
    .await;
    assert!(!tb.audit_lines().await.is_empty(), "a record was written");
    assert_eq!(mode(&path), 0o600, "an existing audit file is narrowed");
}
