//! Memory of the real binary under a burst of concurrent password attempts.
//!
//! `cargo bench --bench passwords` starts `idbroker serve` (the bench profile's build) as a
//! child, brings N browsers to the password step, each from its own client address through a
//! trusted proxy (`X-Forwarded-For`), sends all N passwords at once, and prints the resident
//! memory before, at the peak (`VmHWM` and 5 ms samples of `VmRSS`), right after, and once the
//! hashing threads have been idle for their release period.
//!
//! Before the burst it measures how close password sign-in comes to the machine's Argon2id
//! ceiling (issue 12: at least 90%): first the ceiling, verifications per second of the
//! broker's hashing pool alone (one thread per core, the default parameters, nothing else
//! running); then the password step through HTTP, with twice as many attempts in flight as
//! there are hashing threads so that the threads never wait and the queue never overflows.
//!
//! Without `--bench` (as under `cargo test --all-targets`) it runs with 10 attempts as a
//! smoke test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

#[path = "../tests/it/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::future::join_all;
use support::broker::USER;
use support::browser::Browser;
use support::burst::{burst_broker, password_step, proc_status};

const MIB: u64 = 1024 * 1024;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let attempts: usize = if bench { 200 } else { 10 };
    // Kept whole until the end: it owns the broker's folder and process.
    let mut burst = burst_broker().await;
    let (pid, base) = (burst.pid, burst.base.clone());
    let (verifications, sign_ins) = if bench { (400, 400) } else { (8, 8) };
    let ceiling = argon2_ceiling(verifications).await;
    let sustained = password_steps_per_second(&base, sign_ins).await;
    println!(
        "Argon2id ceiling {ceiling:.1} verifications/s; password step over HTTP {sustained:.1}/s: \
         {:.0}% of the ceiling",
        100.0 * sustained / ceiling
    );
    // The burst starts from a broker whose hashing threads have released their memory.
    tokio::time::sleep(idbroker::password::IDLE_RELEASE + Duration::from_secs(1)).await;
    let mut browsers = Vec::new();
    for n in 0..attempts {
        let mut b = Browser::forwarded_for(&format!("10.0.{}.{}", n / 250, n % 250 + 1));
        let form = password_step(&mut b, &base, USER).await;
        browsers.push((b, form));
    }
    let before = proc_status(pid, "VmRSS");
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let sampling = sampling.clone();
        std::thread::spawn(move || {
            let mut peak = 0;
            while sampling.load(Ordering::Relaxed) {
                peak = peak.max(proc_status(pid, "VmRSS"));
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
    let peak = sampler.join().unwrap().max(proc_status(pid, "VmHWM"));
    let after = proc_status(pid, "VmRSS");
    let refused = pages.iter().filter(|s| s.as_u16() == 429).count();
    let mut settled = after;
    if bench {
        tokio::time::sleep(idbroker::password::IDLE_RELEASE + Duration::from_secs(2)).await;
        settled = proc_status(pid, "VmRSS");
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
    let _ = burst.child.start_kill();
    let _ = burst.child.wait().await;
}

/// Verifications per second of a hashing pool like the broker's (one thread per core, the
/// default Argon2id parameters), with two jobs in flight per thread.
async fn argon2_ceiling(total: usize) -> f64 {
    let threads = idbroker::policy::PasswordHashing::default_threads();
    let pool = Arc::new(idbroker::password::PasswordPool::new(threads, 4 * threads).unwrap());
    let hash = support::broker::password_hash().to_owned();
    let next = Arc::new(AtomicUsize::new(0));
    let t = Instant::now();
    let workers: Vec<_> = (0..2 * threads)
        .map(|_| {
            let (pool, hash, next) = (pool.clone(), hash.clone(), next.clone());
            tokio::spawn(async move {
                while next.fetch_add(1, Ordering::Relaxed) < total {
                    let password = secrecy::SecretString::from("wrong password".to_owned());
                    let ok = pool.verify(Some(hash.clone()), password).await.unwrap();
                    assert!(!ok);
                }
            })
        })
        .collect();
    for w in workers {
        w.await.unwrap();
    }
    total as f64 / t.elapsed().as_secs_f64()
}

/// Password steps per second through HTTP: `total` browsers brought to the password step
/// first (not timed), then their wrong passwords sent, two per hashing thread at a time.
async fn password_steps_per_second(base: &str, total: usize) -> f64 {
    let threads = idbroker::policy::PasswordHashing::default_threads();
    let mut ready = Vec::new();
    for n in 0..total {
        let mut b = Browser::forwarded_for(&format!("10.1.{}.{}", n / 250, n % 250 + 1));
        let form = password_step(&mut b, base, USER).await;
        ready.push((b, form));
    }
    let queue = Arc::new(tokio::sync::Mutex::new(ready));
    let t = Instant::now();
    let workers: Vec<_> = (0..2 * threads)
        .map(|_| {
            let (queue, base) = (queue.clone(), base.to_owned());
            tokio::spawn(async move {
                loop {
                    let Some((mut b, (tx, csrf))) = queue.lock().await.pop() else {
                        return;
                    };
                    let page = b
                        .post(
                            &format!("{base}/login/password"),
                            &[
                                ("tx", tx.as_str()),
                                ("csrf", csrf.as_str()),
                                ("password", "wrong password"),
                            ],
                        )
                        .await;
                    assert_eq!(page.status.as_u16(), 200, "{}", page.body);
                }
            })
        })
        .collect();
    for w in workers {
        w.await.unwrap();
    }
    total as f64 / t.elapsed().as_secs_f64()
}
