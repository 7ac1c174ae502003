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

/// Starts `idbroker serve` on a free port with `RUST_LOG`; returns the child and its base URL.
async fn serve_with_log(dir: &std::path::Path, rust_log: &str) -> (tokio::process::Child, String) {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let path = dir.join("broker.yaml");
    std::fs::write(&path, standalone_policy(dir, port)).unwrap();
    let child = bin()
        .args(["serve", "--config", path.to_str().unwrap()])
        .env("RUST_LOG", rust_log)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if reqwest::get(format!("{base}/healthz")).await.is_ok() {
            return (child, base);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the broker did not come up");
}

/// No password, client secret, code or token in any log line, even at `trace`: the whole
/// output of a broker that saw a sign-in, a failed sign-in, a code redemption, a refresh and
/// client credentials is searched for each of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_the_log_even_at_trace() {
    use crate::support::broker::{PASSWORD, USER};
    use crate::support::browser::{Browser, sign_in};
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base) = serve_with_log(dir.path(), "trace").await;
    let verifier = "verifier-verifier-verifier-verifier-verifier-0001";
    let url = format!(
        "{base}/authorize?response_type=code&client_id=web&redirect_uri=https://web.example.com/callback&scope=openid%20offline_access&state=s&code_challenge={}&code_challenge_method=S256",
        idbroker::op::pkce::s256_challenge(verifier)
    );
    let wrong = "wrong-password-that-must-not-be-logged";
    let _ = sign_in(&mut Browser::new(), &base, &url, USER, wrong).await;
    let back = sign_in(&mut Browser::new(), &base, &url, USER, PASSWORD).await;
    let code = back.location_param("code").unwrap();
    let http = reqwest::Client::new();
    let tokens: serde_json::Value = http
        .post(format!("{base}/token"))
        .basic_auth("web", Some(WEB_SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "https://web.example.com/callback"),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let refreshed: serde_json::Value = http
        .post(format!("{base}/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("client_id", "web"),
            ("client_secret", WEB_SECRET),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let userinfo = http
        .get(format!("{base}/userinfo"))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(userinfo.status(), 200);
    // A code in a query string (as upstream callbacks carry them) stays out of the log too.
    let _ = http
        .get(format!(
            "{base}/upstream/callback?code=query-code-never-logged&state=x"
        ))
        .send()
        .await
        .unwrap();
    let _ = child.start_kill();
    let out = child.wait_with_output().await.unwrap();
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        log.contains("/token"),
        "the log is empty or not at trace:\n{log}"
    );
    let secrets = [
        ("password", PASSWORD.to_owned()),
        ("wrong password", wrong.to_owned()),
        ("client secret", WEB_SECRET.to_owned()),
        ("code", code),
        ("code in a query", "query-code-never-logged".to_owned()),
        ("code verifier", verifier.to_owned()),
        (
            "access token",
            tokens["access_token"].as_str().unwrap().to_owned(),
        ),
        ("id token", tokens["id_token"].as_str().unwrap().to_owned()),
        ("refresh token", refresh),
        (
            "rotated refresh token",
            refreshed["refresh_token"].as_str().unwrap().to_owned(),
        ),
    ];
    for (what, secret) in secrets {
        assert!(!log.contains(&secret), "the {what} appears in the log");
    }
}
