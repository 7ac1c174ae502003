//! HTTP load of the login page's hot paths against an in-process broker (embedded store).
//!
//! `cargo bench --bench load` drives, with C concurrent clients over real TCP:
//! - the identifier step (home realm discovery): `GET /authorize` → login page →
//!   `POST /login/identifier` for users picked at random from a directory of U users;
//! - a full password sign-in with code redemption (Argon2id-bound by design);
//! - refresh-token rotation at `/token` (the token endpoint without Argon2);
//!
//! once on the embedded store and once on a private `redis-server`, and prints operations
//! per second and latency percentiles.
//!
//! Then the large store: refresh rotation and `/introspect` (a user's access token, so the
//! user is read) on an empty embedded store, and again once it holds 100,000 users and
//! 1,000,000 live refresh families, with the ratio of the two (issue 12: within 20%).
//! Then refresh rotation and `/introspect` on Redis with failover: Sentinel and Cluster, with
//! and without `WAIT`, beside one server (issue 17).
//! `cargo bench --bench load -- hot`, `-- large` or `-- ha` runs one part only.
//!
//! Without `--bench` (as under `cargo test --all-targets`) it runs a few requests of each
//! kind, on a store of a few hundred records, as a smoke test.
// The integration tests' helpers (a private redis-server, reading our pages' form fields).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

#[path = "../tests/it/support/mod.rs"]
mod support;

use support::redis_server;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use idbroker::clock::Clock;
use tokio_util::sync::CancellationToken;

const PASSWORD: &str = "load-test-password";
const RS_SECRET: &str = "resource-server-secret";
const VERIFIER: &str = "verifier-verifier-verifier-verifier-verifier-0001";

struct Setup {
    base: String,
    users: usize,
    broker: Arc<idbroker::service::Broker>,
    _dir: tempfile::TempDir,
    _cancel: tokio_util::sync::DropGuard,
}

/// A broker on the embedded store, or on the Redis store `redis` (the policy's `store:`
/// value, such as `{kind: redis, url: "…"}`).
async fn start(users: usize, redis: Option<&str>) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let hash = idbroker::password::hash_blocking(PASSWORD).unwrap();
    let d = dir.path().display();
    let store = match redis {
        None => format!("store: {{kind: embedded, path: {d}/broker.db}}"),
        Some(store) => format!("store: {store}"),
    };
    let yaml = format!(
        r#"issuer: {base}
keys: {{dir: {d}/keys, algorithm: ES256}}
{store}
audit: {{sink: off}}
rate_limits: {{password_per_ip: 1000000, password_per_identifier: 1000000, token_per_client: 1000000, window: 5m, authorize_per_ip: 1000000, login_tx_per_ip: 1000000, identifier_per_ip: 1000000}}
clients:
  - id: app
    redirect_uris: [http://127.0.0.1:9000/callback]
    grants: [authorization_code, refresh_token]
    scopes: [openid, email, offline_access]
  - id: rs
    secret_env: RS_SECRET
    redirect_uris: [http://127.0.0.1:9000/callback]
    grants: [authorization_code, refresh_token]
    scopes: [openid, email, offline_access]
users:
  - email: user0@example.com
    name: User 0
    password_hash: "{hash}"
"#
    );
    let path = dir.path().join("broker.yaml");
    std::fs::write(&path, &yaml).unwrap();
    let env = |k: &str| (k == "RS_SECRET").then(|| RS_SECRET.to_owned());
    let policy = idbroker::policy::load_str_with_env(&path, &yaml, &env).unwrap();
    let cancel = CancellationToken::new();
    let broker = idbroker::server::assemble(policy, Clock::System, cancel.clone())
        .await
        .unwrap();
    // The rest of the directory: users with the same (known) hash, created directly.
    let now = broker.now();
    for i in 1..users {
        let user = idbroker::store::User {
            id: uuid::Uuid::new_v4().to_string(),
            email: format!("user{i}@example.com"),
            name: format!("User {i}"),
            organization: None,
            password_hash: Some(hash.clone()),
            link: None,
            sso: false,
            disabled: false,
            source: idbroker::store::UserSource::Admin,
            created_at: now,
            updated_at: now,
            tokens_valid_after: 0,
            policy_password_hash: None,
            email_verified: true,
            profile: Default::default(),
        };
        broker
            .internals()
            .store
            .create_user(&user)
            .await
            .unwrap()
            .unwrap();
    }
    tokio::spawn(idbroker::server::serve(
        broker.clone(),
        listener,
        cancel.clone(),
    ));
    Setup {
        base,
        users,
        broker,
        _dir: dir,
        _cancel: cancel.drop_guard(),
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(64)
        .build()
        .unwrap()
}

fn field(html: &str, name: &str) -> String {
    support::browser::field(html, name).unwrap()
}

/// One login page opened for the `app` client: (tx, csrf, browser cookie).
async fn open_login(http: &reqwest::Client, base: &str) -> (String, String, String) {
    open_login_for(http, base, "app").await
}

async fn open_login_for(
    http: &reqwest::Client,
    base: &str,
    client: &str,
) -> (String, String, String) {
    let url = format!(
        "{base}/authorize?response_type=code&client_id={client}&redirect_uri=http://127.0.0.1:9000/callback&scope=openid%20offline_access&state=s&code_challenge={}&code_challenge_method=S256",
        idbroker::op::pkce::s256_challenge(VERIFIER)
    );
    let first = http.get(url).send().await.unwrap();
    let cookie = first
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join("; ");
    let location = first.headers()["location"].to_str().unwrap().to_owned();
    let page = http
        .get(format!("{base}{location}"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    (field(&page, "tx"), field(&page, "csrf"), cookie)
}

async fn identifier_step(http: &reqwest::Client, base: &str, who: &str) -> Duration {
    let (tx, csrf, cookie) = open_login(http, base).await;
    let started = Instant::now();
    let resp = http
        .post(format!("{base}/login/identifier"))
        .header("cookie", &cookie)
        .form(&[("tx", tx.as_str()), ("csrf", &csrf), ("identifier", who)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let _ = resp.bytes().await.unwrap();
    started.elapsed()
}

async fn full_sign_in(http: &reqwest::Client, base: &str, who: &str) -> Duration {
    sign_in_for_refresh(http, base, who).await.0
}

/// A full sign-in; returns its duration and the refresh token it yielded.
async fn sign_in_for_refresh(http: &reqwest::Client, base: &str, who: &str) -> (Duration, String) {
    let (took, body) = sign_in_as(http, base, who, "app").await;
    (took, body["refresh_token"].as_str().unwrap().to_owned())
}

/// A full sign-in of `who` at `client` (`rs` authenticates with its secret); returns its
/// duration and the token response.
async fn sign_in_as(
    http: &reqwest::Client,
    base: &str,
    who: &str,
    client: &str,
) -> (Duration, serde_json::Value) {
    let started = Instant::now();
    let mut tokens = serde_json::Value::Null;
    let (tx, csrf, cookie) = open_login_for(http, base, client).await;
    for (path, form) in [
        ("/login/identifier", ("identifier", who)),
        ("/login/password", ("password", PASSWORD)),
    ] {
        let resp = http
            .post(format!("{base}{path}"))
            .header("cookie", &cookie)
            .form(&[("tx", tx.as_str()), ("csrf", &csrf), form])
            .send()
            .await
            .unwrap();
        if path == "/login/password" {
            assert_eq!(resp.status(), 303, "sign-in failed for {who}");
            let loc = resp.headers()["location"].to_str().unwrap().to_owned();
            let code = url::Url::parse(&loc)
                .unwrap()
                .query_pairs()
                .find(|(k, _)| k == "code")
                .unwrap()
                .1
                .into_owned();
            let mut token = http.post(format!("{base}/token")).form(&[
                ("grant_type", "authorization_code"),
                ("client_id", client),
                ("code", &code),
                ("redirect_uri", "http://127.0.0.1:9000/callback"),
                ("code_verifier", VERIFIER),
            ]);
            if client == "rs" {
                token = token.basic_auth("rs", Some(RS_SECRET));
            }
            let token = token.send().await.unwrap();
            assert_eq!(token.status(), 200);
            tokens = token.json().await.unwrap();
        } else {
            let _ = resp.bytes().await.unwrap();
        }
    }
    (started.elapsed(), tokens)
}

/// `rounds` refresh rotations per worker, each with the token the last rotation of its
/// family returned; returns rotations per second.
async fn run_refresh(setup: &Setup, concurrency: usize, rounds: usize) -> f64 {
    // The sign-ins (Argon2) happen before the clock starts.
    let ready = Arc::new(tokio::sync::Barrier::new(concurrency + 1));
    let mut workers = Vec::new();
    for w in 0..concurrency {
        let base = setup.base.clone();
        let who = format!("user{}@example.com", w % setup.users);
        let ready = ready.clone();
        workers.push(tokio::spawn(async move {
            let http = client();
            // A family rotates at most 64 times per window (a stolen token cannot flush
            // its victim's spent secrets): enough families that none comes near that.
            let mut families = Vec::new();
            for _ in 0..rounds.div_ceil(48) {
                families.push(sign_in_for_refresh(&http, &base, &who).await.1);
            }
            ready.wait().await;
            let mut times = Vec::with_capacity(rounds);
            for round in 0..rounds {
                let n = families.len();
                let refresh = &mut families[round % n];
                let t = Instant::now();
                let resp = http
                    .post(format!("{base}/token"))
                    .form(&[
                        ("grant_type", "refresh_token"),
                        ("client_id", "app"),
                        ("refresh_token", refresh.as_str()),
                    ])
                    .send()
                    .await
                    .unwrap();
                assert_eq!(resp.status(), 200);
                let body: serde_json::Value = resp.json().await.unwrap();
                *refresh = body["refresh_token"].as_str().unwrap().to_owned();
                times.push(t.elapsed());
            }
            times
        }));
    }
    ready.wait().await;
    let started = Instant::now();
    let times = gather(workers).await;
    report(
        "refresh rotation (/token)",
        concurrency,
        started.elapsed(),
        times,
    )
}

/// `rounds` introspections per worker of one user's access token, by the confidential
/// client it was issued to (so the user is read each time); returns requests per second.
async fn run_introspect(setup: &Setup, concurrency: usize, rounds: usize) -> f64 {
    let http = client();
    let (_, tokens) = sign_in_as(&http, &setup.base, "user0@example.com", "rs").await;
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (base, access) = (setup.base.clone(), access.clone());
        workers.push(tokio::spawn(async move {
            let http = client();
            let mut times = Vec::with_capacity(rounds);
            for _ in 0..rounds {
                let t = Instant::now();
                let resp = http
                    .post(format!("{base}/introspect"))
                    .basic_auth("rs", Some(RS_SECRET))
                    .form(&[("token", access.as_str())])
                    .send()
                    .await
                    .unwrap();
                assert_eq!(resp.status(), 200);
                let body: serde_json::Value = resp.json().await.unwrap();
                assert_eq!(body["active"], true, "{body}");
                times.push(t.elapsed());
            }
            times
        }));
    }
    let times = gather(workers).await;
    report(
        "introspection of a user token (/introspect)",
        concurrency,
        started.elapsed(),
        times,
    )
}

/// Adds `users` users and `families` live refresh families (spread over those users) to
/// the store, many writes in flight so that the store's group commit batches them.
async fn populate(setup: &Setup, users: usize, families: usize) {
    const IN_FLIGHT: usize = 256;
    let started = Instant::now();
    let now = setup.broker.now();
    let ids: Arc<Vec<String>> = Arc::new(
        (0..users)
            .map(|_| uuid::Uuid::new_v4().to_string())
            .collect(),
    );
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..IN_FLIGHT {
        let (broker, ids, next) = (setup.broker.clone(), ids.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let store = broker.internals().store;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= ids.len() {
                    return;
                }
                let user = idbroker::store::User {
                    id: ids[i].clone(),
                    email: format!("bulk{i}@example.com"),
                    name: format!("Bulk {i}"),
                    organization: None,
                    password_hash: None,
                    link: None,
                    sso: false,
                    disabled: false,
                    source: idbroker::store::UserSource::Admin,
                    created_at: now,
                    updated_at: now,
                    tokens_valid_after: 0,
                    policy_password_hash: None,
                    email_verified: true,
                    profile: Default::default(),
                };
                store.create_user(&user).await.unwrap().unwrap();
            }
        }));
    }
    for w in workers.drain(..) {
        w.await.unwrap();
    }
    let made_users = started.elapsed();
    let next = Arc::new(AtomicUsize::new(0));
    for _ in 0..IN_FLIGHT {
        let (broker, ids, next) = (setup.broker.clone(), ids.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let store = broker.internals().store;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= families {
                    return;
                }
                let family = idbroker::store::RefreshFamily {
                    id: uuid::Uuid::new_v4().simple().to_string(),
                    user_id: ids[i % ids.len()].clone(),
                    client_id: "app".into(),
                    session_id: Some(uuid::Uuid::new_v4().simple().to_string()),
                    scope: vec!["openid".into(), "offline_access".into()],
                    resource: None,
                    auth: idbroker::store::Authentication {
                        auth_time: now,
                        amr: vec!["pwd".into()],
                        idp: None,
                        organization: None,
                        acr: None,
                    },
                    current: idbroker::secret::digest(&uuid::Uuid::new_v4().to_string()),
                    generation: 0,
                    created_at: now,
                    expires_at: now + 30 * 86_400,
                    revoked: false,
                    spent: Vec::new(),
                    access: Vec::new(),
                };
                store.create_refresh_family(&family, now).await.unwrap();
            }
        }));
    }
    for w in workers {
        w.await.unwrap();
    }
    println!(
        "populated {users} users in {made_users:.1?} and {families} refresh families in {:.1?}",
        started.elapsed() - made_users
    );
}

/// Refresh and introspection on an empty embedded store, then on a large one.
async fn large_store(full: bool) {
    let (users, families, concurrency, rounds) = if full {
        (100_000, 1_000_000, 16, 400)
    } else {
        (200, 1_000, 2, 3)
    };
    let setup = start(1, None).await;
    println!("== large store: embedded, empty, then {users} users and {families} families");
    let empty = (
        run_refresh(&setup, concurrency, rounds).await,
        run_introspect(&setup, concurrency, rounds * 4).await,
    );
    populate(&setup, users, families).await;
    let large = (
        run_refresh(&setup, concurrency, rounds).await,
        run_introspect(&setup, concurrency, rounds * 4).await,
    );
    println!(
        "large store / empty store: refresh {:.0}%, introspect {:.0}%",
        100.0 * large.0 / empty.0,
        100.0 * large.1 / empty.1
    );
}

/// Every worker's latencies, once all have finished.
async fn gather(workers: Vec<tokio::task::JoinHandle<Vec<Duration>>>) -> Vec<Duration> {
    let mut times = Vec::new();
    for w in workers {
        times.extend(w.await.unwrap());
    }
    times
}

/// Prints one line of figures; returns operations per second.
fn report(label: &str, concurrency: usize, wall: Duration, mut times: Vec<Duration>) -> f64 {
    times.sort();
    let total = times.len();
    let pct = |p: f64| times[((total as f64 - 1.0) * p) as usize];
    let rate = total as f64 / wall.as_secs_f64();
    println!(
        "{label}: {total} ops, {concurrency} concurrent, {rate:.0} ops/s; latency p50 {:.2?} p99 {:.2?} max {:.2?}",
        pct(0.50),
        pct(0.99),
        pct(1.0)
    );
    rate
}

/// Runs `total` operations over `concurrency` workers; prints throughput and percentiles.
async fn run<F, Fut>(label: &str, setup: &Setup, concurrency: usize, total: usize, op: F)
where
    F: Fn(reqwest::Client, String, String) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Duration> + Send,
{
    let op = Arc::new(op);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (op, next, base, users) = (op.clone(), next.clone(), setup.base.clone(), setup.users);
        workers.push(tokio::spawn(async move {
            let http = client();
            let mut times = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    return times;
                }
                // Spread over the directory, plus one unknown identifier in ten.
                let who = if i % 10 == 9 {
                    format!("nobody{i}@example.com")
                } else {
                    format!("user{}@example.com", (i * 7919) % users)
                };
                times.push(op(http.clone(), base.clone(), who).await);
            }
        }));
    }
    let times = gather(workers).await;
    report(label, concurrency, started.elapsed(), times);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let full = args.iter().any(|a| a == "--bench");
    // A filter word (`hot`, `large`, `ha`) runs that part only; none runs all.
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    let wants =
        |part: &str| filters.is_empty() || filters.iter().any(|f| part.contains(f.as_str()));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        if wants("hot") {
            hot_paths(full).await;
        }
        if wants("large") {
            large_store(full).await;
        }
        if wants("ha") {
            redis_topologies(full).await;
        }
    });
}

/// The login page's steps and refresh rotation, on both engines.
async fn hot_paths(full: bool) {
    let (users, n_ident, n_login, refresh_rounds) = if full {
        (10_000, 4_000, 200, 100)
    } else {
        (50, 20, 4, 3)
    };
    let redis = redis_server::RedisServer::start();
    let single = format!("{{kind: redis, url: \"{}\"}}", redis.url());
    for (engine, url) in [("embedded", None), ("redis", Some(single))] {
        let setup = start(users, url.as_deref()).await;
        println!("== {engine} store, directory of {users} users");
        run(
            "identifier step (HRD)",
            &setup,
            32,
            n_ident,
            |http, base, who| async move { identifier_step(&http, &base, &who).await },
        )
        .await;
        run(
            "password sign-in + code redemption",
            &setup,
            8,
            n_login,
            |http, base, who| {
                async move {
                    // Unknown identifiers cannot complete a sign-in: use a known one.
                    let who = if who.starts_with("nobody") {
                        "user0@example.com".to_owned()
                    } else {
                        who
                    };
                    full_sign_in(&http, &base, &who).await
                }
            },
        )
        .await;
        run_refresh(&setup, 16, refresh_rounds).await;
    }
}

/// Refresh rotation and `/introspect` on Redis without a single point of failure (issue 17):
/// one server, a primary with a replica behind three sentinels, and a Cluster of three
/// primaries with a replica each; the last two also with `wait: {replicas: 1}`.
async fn redis_topologies(full: bool) {
    use support::redis_topologies::{RedisCluster, SERVICE, SentinelSet};
    let (concurrency, rounds) = if full { (16, 100) } else { (2, 3) };
    // Every server writes an append-only file fsynced on each write, as the sentinel and
    // cluster nodes do: the comparison is of topologies, not of persistence settings.
    let single = redis_server::RedisServer::start_durable();
    let sentinel = tokio::task::spawn_blocking(SentinelSet::start)
        .await
        .unwrap();
    let cluster = tokio::task::spawn_blocking(|| RedisCluster::start(1))
        .await
        .unwrap();
    let wait = "wait: {replicas: 1, timeout_ms: 500}";
    let cases = [
        (
            "one server (AOF, fsync always)",
            format!("{{kind: redis, url: \"{}\"}}", single.url()),
        ),
        (
            "sentinel (primary + replica)",
            format!(
                "{{kind: redis, topology: sentinel, service: {SERVICE}, url: \"{}\"}}",
                sentinel.urls()
            ),
        ),
        (
            "sentinel, wait for 1 replica",
            format!(
                "{{kind: redis, topology: sentinel, service: {SERVICE}, url: \"{}\", {wait}}}",
                sentinel.urls()
            ),
        ),
        (
            "cluster (3 primaries + 3 replicas)",
            format!(
                "{{kind: redis, topology: cluster, url: \"{}\"}}",
                cluster.urls()
            ),
        ),
        (
            "cluster, wait for 1 replica",
            format!(
                "{{kind: redis, topology: cluster, url: \"{}\", {wait}}}",
                cluster.urls()
            ),
        ),
    ];
    for (label, store) in cases {
        let setup = start(1, Some(&store)).await;
        println!("== redis: {label}");
        run_refresh(&setup, concurrency, rounds).await;
        run_introspect(&setup, concurrency, rounds * 4).await;
    }
}
