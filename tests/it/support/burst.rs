//! A password burst against the real binary: the broker as a child process behind a trusted
//! proxy, browsers brought to the password step, and its memory read from `/proc`. Shared by
//! `tests/it/passwords.rs` and `benches/passwords.rs`.

use std::process::Stdio;
use std::time::Duration;

use reqwest::StatusCode;

use super::broker::{WEB_SECRET, policy_yaml};
use super::browser::Browser;

/// `idbroker serve` as a child with limits high enough for a burst from many addresses.
pub struct BurstBroker {
    pub child: tokio::process::Child,
    pub pid: u32,
    pub base: String,
    _dir: tempfile::TempDir,
}

impl BurstBroker {
    /// Starts the binary with every client address taken from `X-Forwarded-For` (the test
    /// client is the trusted proxy), and waits until `/healthz` answers.
    pub async fn start() -> BurstBroker {
        let dir = tempfile::tempdir().unwrap();
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let base = format!("http://127.0.0.1:{port}");
        let yaml = policy_yaml(
            &base,
            dir.path(),
            "rate_limits: {password_per_ip: 100000, password_per_identifier: 100000, window: 5m}\n\
             trusted_proxies: [127.0.0.1]\n",
            None,
        )
        .replace("listen: 127.0.0.1:0", &format!("listen: 127.0.0.1:{port}"));
        let path = dir.path().join("broker.yaml");
        std::fs::write(&path, &yaml).unwrap();
        let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_idbroker"))
            .args(["serve", "--config", path.to_str().unwrap()])
            .env("WEB_SECRET", WEB_SECRET)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let pid = child.id().unwrap();
        let mut up = false;
        for _ in 0..100 {
            if reqwest::get(format!("{base}/healthz")).await.is_ok() {
                up = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(up, "the broker did not come up");
        BurstBroker {
            child,
            pid,
            base,
            _dir: dir,
        }
    }
}

/// An authorization request of the `spa` client.
pub fn authorize(base: &str) -> String {
    format!(
        "{base}/authorize?response_type=code&client_id=spa&redirect_uri=http://127.0.0.1:9000/callback&scope=openid&state=s&code_challenge={}&code_challenge_method=S256",
        idbroker::op::pkce::s256_challenge("verifier-verifier-verifier-verifier-verifier-0001")
    )
}

/// Opens the login page in `b` and submits `who`; returns the password step's form fields.
pub async fn password_step(b: &mut Browser, base: &str, who: &str) -> (String, String) {
    let first = b.get(&authorize(base)).await;
    let login = b.follow(base, first).await;
    assert_eq!(login.status, StatusCode::OK, "login page: {}", login.body);
    let (tx, csrf) = (login.field("tx"), login.field("csrf"));
    let step = b
        .post(
            &format!("{base}/login/identifier"),
            &[("tx", &tx), ("csrf", &csrf), ("identifier", who)],
        )
        .await;
    assert!(step.body.contains("name=\"password\""), "{}", step.body);
    (tx, csrf)
}

/// A field of `/proc/<pid>/status` (`VmRSS`, `VmHWM`), in bytes.
pub fn proc_status(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"));
    kib * 1024
}
