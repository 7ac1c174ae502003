//! Password hashing under hostile traffic: a fixed set of hashing threads that keep their
//! Argon2 memory, a bounded queue in front of them (`429` with `Retry-After` when it is full,
//! never an unbounded wait), and the process's memory bounded during a burst and after it.

use std::time::Duration;

use futures::future::join_all;
use reqwest::StatusCode;

use crate::support::broker::{PASSWORD, TestBroker, USER};
use crate::support::browser::{Browser, Page};
use crate::support::burst::{burst_broker, password_step, proc_status};

const MIB: u64 = 1024 * 1024;
/// The Argon2id memory of one verification: m=19456 KiB.
const ARGON2_MEMORY: u64 = 19 * MIB;

async fn submit_password(b: &mut Browser, base: &str, form: &(String, String), pw: &str) -> Page {
    b.post(
        &format!("{base}/login/password"),
        &[("tx", &form.0), ("csrf", &form.1), ("password", pw)],
    )
    .await
}

/// Every answer to a burst is either the ordinary failure (the password step again, `200`) or
/// a refusal for now (`429` with `Retry-After`); returns how many were refused.
fn check_burst_answers(pages: &[Page]) -> usize {
    let mut refused = 0;
    for page in pages {
        match page.status {
            StatusCode::OK => assert!(
                page.body
                    .contains("The email address or password is incorrect."),
                "{}",
                page.body
            ),
            StatusCode::TOO_MANY_REQUESTS => {
                let secs: u64 = page.headers["retry-after"]
                    .to_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                assert!((1..=60).contains(&secs), "Retry-After: {secs}");
                // The same form again, so the user can simply retry.
                assert!(page.body.contains("name=\"password\""), "{}", page.body);
                refused += 1;
            }
            other => panic!("unexpected {other}: {}", page.body),
        }
    }
    refused
}

/// 200 concurrent password attempts from 200 client addresses (through a trusted proxy, and
/// with rate limits high enough not to stop them) against the real binary: the resident
/// memory stays under the bound stated in the README (64 MiB + threads × 19 MiB) during the
/// burst and after it, and the hashing memory is given back once the threads are idle.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_concurrent_password_attempts_keep_memory_bounded() {
    const ATTEMPTS: usize = 200;
    // Kept whole until the end: it owns the broker's folder and process.
    let mut burst = burst_broker().await;
    let (pid, base) = (burst.pid, burst.base.clone());

    // Every browser at the password step first (cheap), then all passwords at once.
    let mut browsers = Vec::new();
    for chunk in 0..ATTEMPTS / 20 {
        let ready = join_all((0..20).map(|i| {
            let base = base.clone();
            async move {
                let n = chunk * 20 + i;
                let mut b = Browser::forwarded_for(&format!("10.0.{}.{}", n / 250, n % 250 + 1));
                // Unknown users too: they cost a (dummy) verification as well.
                let who = if n % 4 == 0 {
                    format!("ghost{n}@example.com")
                } else {
                    USER.to_owned()
                };
                let form = password_step(&mut b, &base, &who).await;
                (b, form)
            }
        }))
        .await;
        browsers.extend(ready);
    }
    let threads = std::thread::available_parallelism().unwrap().get() as u64;
    let bound = 64 * MIB + threads * ARGON2_MEMORY;
    let before = proc_status(pid, "VmRSS");

    let sampling = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let sampling = sampling.clone();
        std::thread::spawn(move || {
            let mut peak = 0;
            while sampling.load(std::sync::atomic::Ordering::Relaxed) {
                peak = peak.max(proc_status(pid, "VmRSS"));
                std::thread::sleep(Duration::from_millis(5));
            }
            peak
        })
    };
    let pages = join_all(browsers.iter_mut().map(|(b, form)| {
        let base = base.clone();
        async move { submit_password(b, &base, form, "wrong password").await }
    }))
    .await;
    sampling.store(false, std::sync::atomic::Ordering::Relaxed);
    let sampled_peak = sampler.join().unwrap();
    let refused = check_burst_answers(&pages);
    // VmHWM is the kernel's own high-water mark of the resident set, sampled or not.
    let peak = proc_status(pid, "VmHWM").max(sampled_peak);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let settled = proc_status(pid, "VmRSS");
    eprintln!(
        "password burst: {ATTEMPTS} attempts, {refused} refused (429); RSS before {} MiB, \
         peak {} MiB, settled {} MiB; bound {} MiB ({threads} threads)",
        before / MIB,
        peak / MIB,
        settled / MIB,
        bound / MIB
    );
    assert!(
        peak <= bound,
        "peak RSS {} MiB is over the bound of {} MiB",
        peak / MIB,
        bound / MIB
    );
    assert!(
        settled <= bound,
        "settled RSS {} MiB is over the bound of {} MiB",
        settled / MIB,
        bound / MIB
    );
    // An idle hashing thread gives its memory back: within the idle period (10 s) and a
    // margin, the process is back near where it started, below one thread's Argon2 memory
    // above it.
    let mut released = settled;
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        released = proc_status(pid, "VmRSS");
        if released < before + ARGON2_MEMORY {
            break;
        }
    }
    eprintln!(
        "password burst: RSS {} MiB after the idle period",
        released / MIB
    );
    assert!(
        released < before + ARGON2_MEMORY,
        "RSS {} MiB was not given back (before the burst: {} MiB)",
        released / MIB,
        before / MIB
    );
    // The broker still signs people in afterwards.
    let mut b = Browser::forwarded_for("10.1.0.1");
    let form = password_step(&mut b, &base, USER).await;
    let done = submit_password(&mut b, &base, &form, PASSWORD).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let _ = burst.child.start_kill();
    let _ = burst.child.wait().await;
}

/// One hashing thread and a queue of one: of a dozen concurrent password attempts most are
/// refused at once with `429` and `Retry-After` (never left waiting), the refused form can
/// simply be sent again, and a client authenticating with an Argon2 secret at `/token` gets
/// `429 temporarily_unavailable` with `Retry-After` the same way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_hashing_queue_answers_429_with_retry_after() {
    const ATTEMPTS: usize = 12;
    const SECRET: &str = "hashed-client-secret-0123456789abcdef";
    let clients = format!(
        "  - id: hashed\n    secret_hash: \"{}\"\n    grants: [client_credentials]\n    scopes: [reports.read]\n",
        idbroker::password::hash_blocking(SECRET).unwrap()
    );
    let tb = TestBroker::start_with_clients(
        &clients,
        "password_hashing: {threads: 1, queue: 1}",
        None,
        idbroker::clock::Clock::System,
    )
    .await;

    let mut browsers = join_all((0..ATTEMPTS).map(|_| {
        let base = tb.base.clone();
        async move {
            let mut b = Browser::new();
            let form = password_step(&mut b, &base, USER).await;
            (b, form)
        }
    }))
    .await;
    let pages = join_all(browsers.iter_mut().map(|(b, form)| {
        let base = tb.base.clone();
        async move { submit_password(b, &base, form, "wrong password").await }
    }))
    .await;
    let refused = check_burst_answers(&pages);
    assert!(
        refused >= ATTEMPTS / 2,
        "only {refused} of {ATTEMPTS} refused"
    );
    let i = pages
        .iter()
        .position(|p| p.status == StatusCode::TOO_MANY_REQUESTS)
        .unwrap();
    assert!(pages[i].body.contains("very busy"), "{}", pages[i].body);
    // The refused form still works: the transaction was not used up.
    let (b, form) = &mut browsers[i];
    let done = submit_password(b, &tb.base, form, PASSWORD).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let audit = tb.audit_lines().await;
    assert!(
        audit
            .iter()
            .any(|r| r["event"] == "login.password" && r["reason"] == "busy"),
        "a busy refusal is audited"
    );

    // /token with an Argon2 client secret.
    let http = reqwest::Client::new();
    let answers = join_all((0..ATTEMPTS).map(|_| {
        http.post(tb.url("/token"))
            .basic_auth("hashed", Some(SECRET))
            .form(&[("grant_type", "client_credentials")])
            .send()
    }))
    .await;
    let mut busy = 0;
    for answer in answers {
        let answer = answer.unwrap();
        match answer.status() {
            StatusCode::OK => {}
            StatusCode::TOO_MANY_REQUESTS => {
                assert!(answer.headers().contains_key("retry-after"));
                let body: serde_json::Value = answer.json().await.unwrap();
                assert_eq!(body["error"], "temporarily_unavailable");
                busy += 1;
            }
            other => panic!("unexpected {other}: {}", answer.text().await.unwrap()),
        }
    }
    assert!(busy >= ATTEMPTS / 2, "only {busy} of {ATTEMPTS} refused");
    // A refusal for being busy is not a failed authentication: the client is not locked out.
    let ok = http
        .post(tb.url("/token"))
        .basic_auth("hashed", Some(SECRET))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
}
