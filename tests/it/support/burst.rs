//! A password burst against the real binary: the broker as a child process behind a trusted
//! proxy, browsers brought to the password step, and its memory read from `/proc`. Shared by
//! `tests/it/passwords.rs` and `benches/passwords.rs`.

use reqwest::StatusCode;

use super::browser::Browser;
use super::child::ChildBroker;

/// `idbroker serve` as a child with limits high enough for a burst from many addresses:
/// every client address is taken from `X-Forwarded-For` (the test client is the trusted
/// proxy).
pub async fn burst_broker() -> ChildBroker {
    ChildBroker::start(
        "rate_limits: {password_per_ip: 100000, password_per_identifier: 100000, window: 5m}\n\
         trusted_proxies: [127.0.0.1]\n",
    )
    .await
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
