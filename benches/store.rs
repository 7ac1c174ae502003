//! Per-operation latency of the two storage engines: `get` of a present key, a plain
//! `commit` (one put), and a compare-and-swap `commit` (one check, one put), as the
//! repositories issue them; and group commit: 1, 8 and 64 durable commits issued at once
//! (throughput in commits per second: on the embedded engine they share fsyncs).
//!
//! Run with `cargo bench --profile dev --bench store` (dependencies are optimised in the
//! dev profile; the engines' cost is I/O: an fsync per redb commit, a round trip to Redis).
//! The Redis cases start a private `redis-server` like the integration tests do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

// Only start() and url() are used here; stop/restart/pause serve the fault tests.
#[allow(dead_code)]
#[path = "../tests/it/support/redis_server.rs"]
mod redis_server;

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use idbroker::store::Backend;
use idbroker::store::backend::{KvBackend, Txn};
use idbroker::store::embedded::EmbeddedKv;
use idbroker::store::redis::RedisKv;

/// A value about the size of a refresh-family or session record.
const VALUE: [u8; 300] = [b'x'; 300];

fn bench_engine(c: &mut Criterion, rt: &tokio::runtime::Runtime, name: &str, kv: &Backend) {
    rt.block_on(async {
        kv.commit(Txn::new().put("v1/bench/present", VALUE.to_vec(), None))
            .await
            .unwrap();
    });
    let mut group = c.benchmark_group(name);
    group
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    group.bench_function("get", |b| {
        b.to_async(rt)
            .iter(|| async { kv.get("v1/bench/present").await.unwrap() });
    });
    group.bench_function("commit_put", |b| {
        b.to_async(rt).iter(|| async {
            kv.commit(Txn::new().put(
                "v1/bench/put",
                VALUE.to_vec(),
                Some(Duration::from_secs(60)),
            ))
            .await
            .unwrap()
        });
    });
    group.bench_function("commit_cas", |b| {
        b.to_async(rt).iter(|| async {
            let txn = Txn::new()
                .expect_equals("v1/bench/present", VALUE.to_vec())
                .put("v1/bench/present", VALUE.to_vec(), None);
            assert!(kv.commit(txn).await.unwrap());
        });
    });
    group.finish();

    let mut group = c.benchmark_group(format!("{name}/concurrent_commits"));
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    for writers in [1_usize, 8, 64] {
        let keys: Vec<String> = (0..writers).map(|i| format!("v1/bench/w{i}")).collect();
        group.throughput(criterion::Throughput::Elements(writers as u64));
        group.bench_function(criterion::BenchmarkId::from_parameter(writers), |b| {
            b.to_async(rt).iter(|| {
                let commits = keys.iter().map(|k| {
                    kv.commit(Txn::new().put(k, VALUE.to_vec(), Some(Duration::from_secs(60))))
                });
                async move {
                    for done in futures::future::join_all(commits).await {
                        assert!(done.unwrap());
                    }
                }
            });
        });
    }
    group.finish();
}

fn engines(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let embedded = Backend::Embedded(EmbeddedKv::open(&dir.path().join("bench.db")).unwrap());
    bench_engine(c, &rt, "embedded", &embedded);
    drop(embedded);

    let server = redis_server::RedisServer::start();
    let redis = rt.block_on(async {
        Backend::Redis(RedisKv::connect(&server.url(), "idbbench:").await.unwrap())
    });
    bench_engine(c, &rt, "redis", &redis);
}

criterion_group!(benches, engines);
criterion_main!(benches);
