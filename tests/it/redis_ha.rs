//! Redis without a single point of failure: two broker replicas on a primary, a replica and
//! three sentinels. The primary is killed during a run of code redemptions and refresh
//! rotations: the brokers follow the failover without a restart, `/readyz` says when they
//! cannot serve, no code or refresh token is accepted twice, and no acknowledged rotation is
//! lost (`store.wait`: a write is acknowledged once the replica has it).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::replicas::{VERIFIER, WEB_CB, local, login_across, token};
use crate::support::broker::{TestBroker, replica_pair_store};
use crate::support::browser::Browser;
use crate::support::redis_topologies::{SERVICE, SentinelSet, cli};

/// Signs in on `tb` and returns an unredeemed authorization code.
async fn code(tb: &TestBroker) -> String {
    let mut browser = Browser::new();
    let back = login_across(&mut browser, tb, tb).await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.body);
    back.location_param("code").unwrap()
}

async fn redeem(tb: &TestBroker, code: &str) -> (StatusCode, serde_json::Value) {
    token(
        tb,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", WEB_CB),
            ("code_verifier", VERIFIER),
        ],
    )
    .await
}

async fn refresh(tb: &TestBroker, rt: &str) -> (StatusCode, serde_json::Value) {
    token(
        tb,
        &[("grant_type", "refresh_token"), ("refresh_token", rt)],
    )
    .await
}

async fn ready(tb: &TestBroker) -> StatusCode {
    match reqwest::Client::new()
        .get(format!("{}/readyz", local(tb)))
        .timeout(Duration::from_secs(5))
        .send()
        .await
    {
        Ok(r) => r.status(),
        Err(_) => StatusCode::GATEWAY_TIMEOUT,
    }
}

/// One refresh family followed through the run.
#[derive(Default, Clone)]
struct Chain {
    /// Tokens the broker acknowledged, in order (the first from the code).
    acked: Vec<String>,
    /// A rotation answered with an error: it may or may not have happened, so the chain
    /// stops there (presenting the token again could be a reuse).
    unsure: bool,
}

#[derive(Default)]
struct Run {
    chains: Vec<Chain>,
    /// Codes the broker redeemed (answered with tokens).
    redeemed: Vec<String>,
    readyz: Vec<StatusCode>,
    failures: usize,
}

async fn load(
    a: &TestBroker,
    b: &TestBroker,
    codes: Vec<String>,
    run: Arc<Mutex<Run>>,
    until: Arc<Mutex<bool>>,
) {
    let mut codes = codes.into_iter();
    let mut turn = 0usize;
    while !*until.lock().unwrap() {
        turn += 1;
        // Alternate the replicas: both must follow the failover.
        let tb = if turn.is_multiple_of(2) { a } else { b };
        let chains = run.lock().unwrap().chains.clone();
        for (i, chain) in chains.iter().enumerate() {
            // A family rotates at most 64 times per window (`SPENT_SECRETS_KEPT`).
            if chain.unsure || chain.acked.len() > 50 {
                continue;
            }
            let current = chain.acked.last().unwrap().clone();
            let (status, body) = refresh(tb, &current).await;
            let mut r = run.lock().unwrap();
            if status == StatusCode::OK {
                r.chains[i]
                    .acked
                    .push(body["refresh_token"].as_str().unwrap().to_owned());
            } else {
                assert_ne!(
                    status,
                    StatusCode::BAD_REQUEST,
                    "the acknowledged token of chain {i} was refused: {body}"
                );
                r.chains[i].unsure = true;
                r.failures += 1;
            }
        }
        if let Some(c) = codes.next() {
            let (status, body) = redeem(tb, &c).await;
            let mut r = run.lock().unwrap();
            if status == StatusCode::OK {
                r.redeemed.push(c);
            } else {
                assert_ne!(
                    status,
                    StatusCode::BAD_REQUEST,
                    "a fresh code was refused: {body}"
                );
                r.failures += 1;
            }
        }
        let status = ready(a).await;
        run.lock().unwrap().readyz.push(status);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn wait_for(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !ok() {
        assert!(Instant::now() < deadline, "{what} within {limit:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sentinel_failover_loses_no_acknowledged_write_and_needs_no_restart() {
    let set = tokio::task::spawn_blocking(SentinelSet::start)
        .await
        .unwrap();
    let store = format!(
        "{{kind: redis, topology: sentinel, service: {SERVICE}, url: \"{}\", wait: {{replicas: 1, timeout_ms: 1000}}}}",
        set.urls()
    );
    let (a, b, _keys) = replica_pair_store(&store, "", "").await;

    // WAIT is in force: with the replica frozen, a rotation is not acknowledged.
    let (status, first) = redeem(&a, &code(&a).await).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    set.replica.pause();
    let rt = first["refresh_token"].as_str().unwrap().to_owned();
    let (frozen, body) = refresh(&a, &rt).await;
    set.replica.resume();
    assert_eq!(
        frozen,
        StatusCode::SERVICE_UNAVAILABLE,
        "a rotation the replica does not have was acknowledged: {body}"
    );

    // Refresh families and codes to work on during the failover.
    let mut chains = Vec::new();
    for _ in 0..6 {
        let (status, t) = redeem(&a, &code(&a).await).await;
        assert_eq!(status, StatusCode::OK, "{t}");
        chains.push(Chain {
            acked: vec![t["refresh_token"].as_str().unwrap().to_owned()],
            unsure: false,
        });
    }
    let mut codes = Vec::new();
    for _ in 0..24 {
        codes.push(code(&b).await);
    }

    let run = Arc::new(Mutex::new(Run {
        chains,
        ..Run::default()
    }));
    let stop = Arc::new(Mutex::new(false));
    let a = Arc::new(a);
    let b = Arc::new(b);
    let worker = {
        let (a, b, run, stop) = (a.clone(), b.clone(), run.clone(), stop.clone());
        tokio::spawn(async move { load(&a, &b, codes, run, stop).await })
    };
    tokio::time::sleep(Duration::from_millis(800)).await;

    // Kill the primary; the sentinels promote the replica; the old primary comes back and
    // is made a replica of the new one.
    let old_port = set.primary.port();
    let new_port = set.replica.port();
    let set = tokio::task::spawn_blocking(move || {
        let mut set = set;
        set.primary.stop();
        wait_for(
            "the sentinels promote the replica",
            Duration::from_secs(30),
            || set.primary_port() == new_port,
        );
        std::thread::sleep(Duration::from_secs(1));
        set.primary.restart();
        wait_for(
            "the old primary replicates the new one",
            Duration::from_secs(30),
            || {
                cli(new_port, &["INFO", "replication"]).contains("connected_slaves:1")
                    && cli(old_port, &["INFO", "replication"]).contains("master_link_status:up")
            },
        );
        set
    })
    .await
    .unwrap();
    // Serving again, without a restart: a fresh sign-in on each replica works.
    let deadline = Instant::now() + Duration::from_secs(20);
    for tb in [&a, &b] {
        loop {
            let c = code(tb).await;
            let (status, _) = redeem(tb, &c).await;
            if status == StatusCode::OK {
                break;
            }
            assert!(Instant::now() < deadline, "{} never recovered", tb.base);
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    *stop.lock().unwrap() = true;
    worker.await.unwrap();

    let run = std::mem::take(&mut *run.lock().unwrap());
    assert!(
        run.readyz.contains(&StatusCode::SERVICE_UNAVAILABLE),
        "/readyz never said the store was unavailable during the failover"
    );
    assert_eq!(ready(&a).await, StatusCode::OK);
    assert_eq!(ready(&b).await, StatusCode::OK);
    assert!(
        run.chains.iter().map(|c| c.acked.len()).sum::<usize>() > 12,
        "too few rotations to mean anything"
    );

    // No acknowledged rotation is lost: the last acknowledged token of every chain that
    // saw no error still rotates, and the one before it is refused (never accepted twice).
    for (i, chain) in run.chains.iter().enumerate() {
        if chain.unsure {
            continue;
        }
        let last = chain.acked.last().unwrap();
        let (status, body) = refresh(&b, last).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "chain {i}: an acknowledged rotation was lost: {body}"
        );
        if chain.acked.len() >= 2 {
            let before = &chain.acked[chain.acked.len() - 2];
            let (status, _) = refresh(&a, before).await;
            assert_eq!(
                status,
                StatusCode::BAD_REQUEST,
                "chain {i}: a spent token was accepted"
            );
        }
    }
    // Every chain, sure or not, refuses its earlier spent tokens.
    for chain in &run.chains {
        if chain.acked.len() >= 3 {
            let (status, _) = refresh(&a, &chain.acked[0]).await;
            assert_eq!(status, StatusCode::BAD_REQUEST);
        }
    }
    // No code is redeemed twice.
    assert!(
        !run.redeemed.is_empty(),
        "no code was redeemed during the run"
    );
    for c in &run.redeemed {
        let (status, body) = redeem(&a, c).await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "a code was redeemed twice: {body}"
        );
    }
    drop(set);
}
