//! Backups and moves between engines (issue 17): the whole store of a running embedded
//! broker exported (a snapshot, while refreshes go on), imported into a private Redis, and a
//! broker on Redis carries on where the other stopped: the session signs in nobody again, the
//! refresh token current at the export works, the audit trail is there. An import into a
//! store that is not empty is refused and changes nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::broker::{PASSWORD, USER, WEB_SECRET, test_env};
use crate::support::browser::{Browser, sign_in};
use crate::support::child::ChildBroker;
use crate::support::oauth::{redeem_spa_code_at, spa_authorize_url};
use crate::support::redis_server::RedisServer;

async fn refresh(http: &reqwest::Client, base: &str, token: &str) -> Option<String> {
    let resp = http
        .post(format!("{base}/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", "spa"),
            ("refresh_token", token),
        ])
        .send()
        .await
        .ok()?;
    let body: Value = resp.json().await.ok()?;
    body["refresh_token"].as_str().map(str::to_owned)
}

fn idbroker() -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_idbroker"));
    cmd.env("WEB_SECRET", WEB_SECRET).env(
        "IDBROKER_ADMIN_TOKEN",
        test_env("IDBROKER_ADMIN_TOKEN").unwrap(),
    );
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_of_a_running_embedded_store_carries_on_in_redis() {
    let mut broker = ChildBroker::start("admin: {token_env: IDBROKER_ADMIN_TOKEN}\n").await;
    let base = broker.base.clone();
    let http = reqwest::Client::new();
    let mut browser = Browser::new();
    let url = spa_authorize_url(&base, "openid%20offline_access");
    let back = sign_in(&mut browser, &base, &url, USER, PASSWORD).await;
    let kept =
        redeem_spa_code_at(&base, &back.location_param("code").unwrap()).await["refresh_token"]
            .as_str()
            .unwrap()
            .to_owned();
    // Another family refreshed in a loop while the export is taken.
    let first = browser.get(&url).await;
    let again = browser.follow(&base, first).await;
    let busy =
        redeem_spa_code_at(&base, &again.location_param("code").unwrap()).await["refresh_token"]
            .as_str()
            .unwrap()
            .to_owned();
    let stop = Arc::new(AtomicBool::new(false));
    let load = {
        let (http, base, stop) = (http.clone(), base.clone(), stop.clone());
        tokio::spawn(async move {
            let mut token = busy;
            let mut n = 0;
            while !stop.load(Ordering::Acquire) && n < 50 {
                token = refresh(&http, &base, &token)
                    .await
                    .expect("a refresh under load");
                n += 1;
            }
            n
        })
    };
    let export = idbroker()
        .args(["admin", "--url", &base, "store-export"])
        .output()
        .await
        .unwrap();
    stop.store(true, Ordering::Release);
    let rotations = load.await.unwrap();
    assert!(
        export.status.success(),
        "{}",
        String::from_utf8_lossy(&export.stderr)
    );
    assert!(rotations > 0, "the export was taken under load");
    let text = String::from_utf8(export.stdout).unwrap();
    let header: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(header["idbroker_store_export"], 1);
    assert!(text.contains("\"key\":\"v1/user/"), "users are in it");
    broker.kill().await;

    // Into a private Redis, with the same policy but the store.
    let redis = RedisServer::start();
    let policy_path = broker.dir.path().join("broker.yaml");
    let policy = std::fs::read_to_string(&policy_path).unwrap();
    let store_line = policy
        .lines()
        .find(|l| l.starts_with("store:"))
        .unwrap()
        .to_owned();
    let on_redis = policy.replace(
        &store_line,
        &format!("store: {{kind: redis, url: \"{}\"}}", redis.url()),
    );
    std::fs::write(&policy_path, &on_redis).unwrap();
    let export_path = broker.dir.path().join("export.jsonl");
    std::fs::write(&export_path, &text).unwrap();
    let import = |path: std::path::PathBuf| {
        let policy_path = policy_path.clone();
        async move {
            idbroker()
                .args(["store", "import", "--config", policy_path.to_str().unwrap()])
                .arg("--file")
                .arg(path)
                .output()
                .await
                .unwrap()
        }
    };
    let imported = import(export_path.clone()).await;
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );
    // Again: the store is not empty now, so nothing is written.
    let twice = import(export_path).await;
    assert!(!twice.status.success());
    assert!(
        String::from_utf8_lossy(&twice.stderr).contains("import into an empty store"),
        "{}",
        String::from_utf8_lossy(&twice.stderr)
    );

    broker.restart().await;
    // The session of the browser is there: the account page shows the user at once.
    let account = browser.get(&format!("{base}/account")).await;
    assert_eq!(account.status, StatusCode::OK, "{}", account.body);
    assert!(account.body.contains(USER));
    // The refresh token current at the export works, once.
    let next = refresh(&http, &base, &kept).await;
    assert!(next.is_some(), "the kept family refreshes on Redis");
    assert!(
        refresh(&http, &base, &kept).await.is_none(),
        "and its old token is spent"
    );
    // The audit trail came along.
    let audit: Value = http
        .get(format!("{base}/admin/api/audit?limit=1000"))
        .bearer_auth(test_env("IDBROKER_ADMIN_TOKEN").unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["event"] == "login.password" && r["outcome"] == "success"),
        "{audit}"
    );
}
