//! The `idbroker` binary: check-config, hash-secret, keys rotate, serve.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncWriteExt as _;
use tokio::process::Command;

use crate::support::broker::{WEB_SECRET, policy_yaml};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_idbroker"))
}

/// A policy file that needs no environment (no `*_env` secrets).
fn standalone_policy(dir: &std::path::Path, port: u16) -> String {
    let hash = idbroker::password::hash_blocking(WEB_SECRET).unwrap();
    policy_yaml(&format!("http://127.0.0.1:{port}"), dir, "", None)
        .replace(
            "    secret_env: WEB_SECRET\n",
            &format!("    secret_hash: \"{hash}\"\n"),
        )
        .replace("listen: 127.0.0.1:0", &format!("listen: 127.0.0.1:{port}"))
}

#[tokio::test]
async fn check_config_accepts_the_demo_and_locates_problems() {
    let ok = bin()
        .args([
            "check-config",
            "--config",
            concat!(env!("CARGO_MANIFEST_DIR"), "/config/broker.yaml"),
        ])
        .output()
        .await
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("valid"));

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.yaml");
    std::fs::write(
        &path,
        "issuer: http://127.0.0.1:8080\nlistne: 127.0.0.1:8080\n",
    )
    .unwrap();
    let bad = bin()
        .args(["check-config", "--config", path.to_str().unwrap()])
        .output()
        .await
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains(&format!("{}:2:1", path.display())), "{err}");
}

#[tokio::test]
async fn hash_secret_prints_an_argon2id_hash() {
    let mut child = bin()
        .arg("hash-secret")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"s3cret value\n")
        .await
        .unwrap();
    let out = child.wait_with_output().await.unwrap();
    assert!(out.status.success());
    let hash = String::from_utf8(out.stdout).unwrap();
    let hash = hash.trim();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    assert!(idbroker::password::verify_blocking(hash, "s3cret value"));
    assert!(!idbroker::password::verify_blocking(hash, "s3cret value\n"));
}

/// `idbroker serve` on its own config answers /healthz and /readyz, and a key added by
/// `idbroker keys rotate` is published and used without a restart; SIGTERM ends it cleanly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_rotate_keys_and_stop() {
    let dir = tempfile::tempdir().unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let path = dir.path().join("broker.yaml");
    std::fs::write(&path, standalone_policy(dir.path(), port)).unwrap();
    let mut child = bin()
        .args(["serve", "--config", path.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let mut up = false;
    for _ in 0..100 {
        if let Ok(r) = http.get(format!("{base}/healthz")).send().await {
            up = r.status() == 200;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "the broker did not come up");
    assert_eq!(
        http.get(format!("{base}/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let kids = |v: serde_json::Value| -> Vec<String> {
        v["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_owned())
            .collect()
    };
    let before = kids(
        http.get(format!("{base}/jwks"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap(),
    );
    assert_eq!(before.len(), 1);
    // Key files are private.
    for entry in std::fs::read_dir(dir.path().join("keys")).unwrap() {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = entry.unwrap().metadata().unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let rotate = bin()
        .args(["keys", "rotate", "--config", path.to_str().unwrap()])
        .output()
        .await
        .unwrap();
    assert!(
        rotate.status.success(),
        "{}",
        String::from_utf8_lossy(&rotate.stderr)
    );
    let mut after = before.clone();
    for _ in 0..100 {
        after = kids(
            http.get(format!("{base}/jwks"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap(),
        );
        if after.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        after.len(),
        2,
        "the rotated key is published without a restart"
    );
    assert!(after.contains(&before[0]), "the old key stays published");
    // The newest key signs: a client_credentials token carries its kid.
    let tok: serde_json::Value = http
        .post(format!("{base}/token"))
        .basic_auth("web", Some(WEB_SECRET))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let header = crate::op_flow::jwt_part(tok["access_token"].as_str().unwrap(), 0);
    let kid = header["kid"].as_str().unwrap();
    assert!(
        after.contains(&kid.to_owned()) && kid != before[0],
        "signed by the new key"
    );

    // SIGTERM: graceful exit with status 0.
    let pid = child.id().unwrap();
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .await;
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("exits after SIGTERM")
        .unwrap();
    assert!(status.success(), "{status:?}");
}
