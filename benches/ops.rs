//! Operating costs: a policy reload with 1,000 organisations and 10,000 policy users
//! (parse + validate, and the whole reload: swap plus the users' seeding pass against a
//! directory that already holds them), and one rate-limiter hit on the password path on
//! both engines (the embedded one relaxed, as the broker uses it; Redis `INCR`).
//!
//! `cargo bench --bench ops`. Without `--bench` (under `cargo test --all-targets`) the sizes
//! shrink to a smoke test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[allow(dead_code)]
#[path = "../tests/it/support/redis_server.rs"]
mod redis_server;

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use idbroker::clock::Clock;
use idbroker::policy::Policy;

fn full_run() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// A policy with `orgs` Entra organisations and `users` local users (one shared hash).
fn big_policy(dir: &Path, orgs: usize, users: usize, hash: &str) -> String {
    let d = dir.display();
    let mut y = format!(
        "issuer: http://127.0.0.1:8080\nkeys: {{dir: {d}/keys, algorithm: ES256}}\nstore: {{kind: embedded, path: {d}/broker.db}}\naudit: {{sink: off}}\nupstreams:\n  - id: entra\n    kind: entra\n    client_id: 11111111-2222-3333-4444-555555555555\n    client_secret_env: ENTRA_SECRET\norganizations:\n"
    );
    let modes = ["all_synced_users", "per_user", "off"];
    for i in 0..orgs {
        let _ = write!(
            y,
            "  - id: org{i}\n    domains: [org{i}.example]\n    upstream: entra\n    tenant_id: {:08x}-0000-4000-8000-{:012x}\n    sso: {}\n",
            i,
            i,
            modes[i % 3]
        );
    }
    y.push_str("users:\n");
    for i in 0..users {
        let _ = write!(
            y,
            "  - email: user{i}@local.example\n    name: User {i}\n    password_hash: \"{hash}\"\n"
        );
    }
    y
}

fn env(name: &str) -> Option<String> {
    (name == "ENTRA_SECRET").then(|| "bench-secret".to_owned())
}

fn load(path: &Path, text: &str) -> Policy {
    idbroker::policy::load_str_with_env(path, text, &env).unwrap()
}

fn reload(c: &mut Criterion) {
    let (orgs, users) = if full_run() {
        (1_000, 10_000)
    } else {
        (10, 20)
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let hash = idbroker::password::hash_blocking("bench").unwrap();
    let text = big_policy(dir.path(), orgs, users, &hash);
    let path = dir.path().join("broker.yaml");
    std::fs::write(&path, &text).unwrap();
    println!(
        "policy: {orgs} organisations, {users} users, {} KiB",
        text.len() / 1024
    );
    // The first start seeds every user (the slow part of a first start, not of a reload).
    let broker = rt.block_on(async {
        let started = std::time::Instant::now();
        let b = idbroker::server::assemble(
            load(&path, &text),
            Clock::System,
            tokio_util::sync::CancellationToken::new(),
        )
        .await
        .unwrap();
        println!(
            "first start, seeding {users} users: {:?}",
            started.elapsed()
        );
        b
    });

    let mut group = c.benchmark_group("policy_reload");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(if full_run() { 20 } else { 1 }));
    group.bench_function("parse_and_validate", |b| b.iter(|| load(&path, &text)));
    let loader: idbroker::reload::Loader = Arc::new(move |p: &Path| {
        let text = std::fs::read_to_string(p).unwrap();
        idbroker::policy::load_str_with_env(p, &text, &env)
    });
    group.bench_function("reload_once", |b| {
        b.to_async(&rt).iter(|| async {
            let outcome = idbroker::reload::reload_once(&broker, &path, &loader).await;
            assert_eq!(outcome, idbroker::reload::Outcome::Applied);
        })
    });
    group.finish();
}

fn rate_limiter(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let embedded = rt.block_on(async {
        idbroker::server::open_backend(&idbroker::policy::StorePolicy::Embedded {
            path: dir.path().join("rate.db"),
        })
        .await
        .unwrap()
    });
    let server = redis_server::RedisServer::start();
    let redis = rt.block_on(async {
        idbroker::store::Backend::Redis(
            idbroker::store::redis::RedisKv::connect(&server.url(), "bench:")
                .await
                .unwrap(),
        )
    });
    let mut group = c.benchmark_group("password_rate_limit_hit");
    group
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(if full_run() { 3 } else { 1 }));
    // Store::new starts its invalidation listener on the runtime.
    let _runtime = rt.enter();
    for (name, kv) in [("embedded", embedded), ("redis", redis)] {
        let store = idbroker::store::Store::new(kv, 10);
        group.bench_function(name, |b| {
            b.to_async(&rt).iter(|| async {
                store
                    .rate_hit("pwd-id/bench", Duration::from_secs(300))
                    .await
                    .unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, reload, rate_limiter);
criterion_main!(benches);
