//! Memory of the real binary under a burst of concurrent password attempts.
//!
//! `cargo bench --bench passwords` starts `idbroker serve` (the bench profile's build) as a
//! child, brings N browsers to the password step, each from its own client address through a
//! trusted proxy (`X-Forwarded-For`), sends all N passwords at once, and prints the resident
//! memory before, at the peak (`VmHWM` and 5 ms samples of `VmRSS`), right after, and once the
//! hashing threads have been idle for their release period. Without `--bench` (as under
//! `cargo test --all-targets`) it runs with 10 attempts as a smoke test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

#[path = "../tests/it/support/mod.rs"]
mod support;

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures::future::join_all;
use support::broker::{USER, WEB_SECRET, policy_yaml};
use support::browser::Browser;

const MIB: u64 = 1024 * 1024;

fn rss(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap()
        * 1024
}

fn authorize(base: &str) -> String {
    format!(
        "{base}/authorize?response_type=code&client_id=spa&redirect_uri=http://127.0.0.1:9000/callback&scope=openid&state=s&code_challenge={}&code_challenge_method=S256",
        idbroker::op::pkce::s256_challenge("verifier-verifier-verifier-verifier-verifier-0001")
    )
}

async fn password_step(b: &mut Browser, base: &str, who: &str) -> (String, String) {
    let first = b.get(&authorize(base)).await;
    let login = b.follow(base, first).await;
    let (tx, csrf) = (login.field("tx"), login.field("csrf"));
    b.post(
        &format!("{base}/login/identifier"),
        &[("tx", &tx), ("csrf", &csrf), ("identifier", who)],
    )
    .await;
    (tx, csrf)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let attempts: usize = if bench { 200 } else { 10 };
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
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_idbroker"))
        .args(["serve", "--config", path.to_str().unwrap()])
        .env("WEB_SECRET", WEB_SECRET)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = child.id().unwrap();
    for _ in 0..100 {
        if reqwest::get(format!("{base}/healthz")).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut browsers = Vec::new();
    for n in 0..attempts {
        let mut b = Browser::forwarded_for(&format!("10.0.{}.{}", n / 250, n % 250 + 1));
        let form = password_step(&mut b, &base, USER).await;
        browsers.push((b, form));
    }
    let before = rss(pid, "VmRSS");
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let sampling = sampling.clone();
        std::thread::spawn(move || {
            let mut peak = 0;
            while sampling.load(Ordering::Relaxed) {
                peak = peak.max(rss(pid, "VmRSS"));
                std::thread::sleep(Duration::from_millis(5));
            }
            peak
        })
    };
    let t = Instant::now();
    let pages = join_all(browsers.iter_mut().map(|(b, (tx, csrf))| {
        let base = base.clone();
        async move {
            b.post(
                &format!("{base}/login/password"),
                &[
                    ("tx", tx.as_str()),
                    ("csrf", csrf.as_str()),
                    ("password", "wrong password"),
                ],
            )
            .await
            .status
        }
    }))
    .await;
    let elapsed = t.elapsed();
    sampling.store(false, Ordering::Relaxed);
    let peak = sampler.join().unwrap().max(rss(pid, "VmHWM"));
    let after = rss(pid, "VmRSS");
    let refused = pages.iter().filter(|s| s.as_u16() == 429).count();
    let mut settled = after;
    if bench {
        tokio::time::sleep(idbroker::password::IDLE_RELEASE + Duration::from_secs(2)).await;
        settled = rss(pid, "VmRSS");
    }
    println!(
        "{attempts} concurrent password attempts in {:.1} s ({refused} answered 429): RSS before \
         {} MiB, peak {} MiB, right after {} MiB, settled (after the idle release) {} MiB",
        elapsed.as_secs_f64(),
        before / MIB,
        peak / MIB,
        after / MIB,
        settled / MIB
    );
    let _ = child.start_kill();
    let _ = child.wait().await;
}
