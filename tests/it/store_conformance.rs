//! The store conformance suite: one set of test bodies, run against both engines.
//!
//! Every body takes a fresh [`Backend`]; the [`conformance!`] macro instantiates it twice, as
//! `store_conformance::<name>::embedded` (redb in a temporary directory) and
//! `store_conformance::<name>::redis` (a private `redis-server` on a free port). Tests that
//! only make sense for one engine (durability across reopen, a Redis restart) follow.
//!
//! Expiry is tested with real time and short TTLs (about a second), since the engines read
//! the wall clock for expiry.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use idbroker::store::backend::{KvBackend, Txn};
use idbroker::store::embedded::EmbeddedKv;
use idbroker::store::redis::{RedisKv, Topology};
use idbroker::store::{
    AuditFilter, AuditRecord, AuthRequest, Authentication, Backend, CodeRecord, CodeRedemption,
    IssuedAccess, MSG_ALL, RateCount, Redemption, RefreshFamily, RefreshStep, Rotation,
    SPENT_SECRETS_KEPT, Session, Store, StoreError, UpstreamLink, User, UserConflict, UserSource,
};

use crate::support::redis_server::RedisServer;
use crate::support::redis_topologies::RedisCluster;

/// A TTL short enough to wait out in a test.
const SHORT: Duration = Duration::from_secs(1);
/// Long enough after [`SHORT`] for it to have passed, with slack for a loaded machine.
const PAST_SHORT: Duration = Duration::from_millis(1300);
/// How many tasks race in the concurrency tests.
const RACERS: usize = 50;

const REDIS_PREFIX: &str = "idbtest:";

fn now() -> u64 {
    idbroker::clock::system_now()
}

fn open_embedded(dir: &Path) -> Backend {
    Backend::Embedded(EmbeddedKv::open(&dir.join("broker.db")).expect("open the embedded store"))
}

async fn connect_redis(server: &RedisServer, prefix: &str) -> Backend {
    Backend::Redis(
        RedisKv::connect(&server.url(), prefix)
            .await
            .expect("connect to the private redis-server"),
    )
}

async fn connect_cluster(cluster: &RedisCluster, prefix: &str) -> Backend {
    let nodes = cluster.urls().split(',').map(str::to_owned).collect();
    Backend::Redis(
        RedisKv::open(&Topology::Cluster { nodes }, prefix, None)
            .await
            .expect("connect to the private redis cluster"),
    )
}

/// Instantiates each body for both engines, as `<name>::embedded` and `<name>::redis`, and
/// for the Redis engine on a Cluster of three primaries, as `<name>::redis_cluster`.
macro_rules! conformance {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn embedded() {
                let dir = tempfile::tempdir().expect("temporary directory");
                super::$name(super::open_embedded(dir.path())).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn redis() {
                let server = super::RedisServer::start();
                super::$name(super::connect_redis(&server, super::REDIS_PREFIX).await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn redis_cluster() {
                let cluster = tokio::task::spawn_blocking(|| super::RedisCluster::start(0))
                    .await
                    .expect("start a redis cluster");
                super::$name(super::connect_cluster(&cluster, super::REDIS_PREFIX).await).await;
            }
        }
    )+};
}

conformance!(
    get_put_delete,
    ttl_expiry_is_absence_for_every_operation,
    txn_check_kinds,
    failed_check_writes_nothing,
    take_is_once_under_concurrency,
    incr_is_a_fixed_window,
    decr_gives_back_within_the_window,
    set_expiry_is_extended_never_shortened,
    set_membership,
    scan_prefix_is_ordered_and_isolated,
    publish_reaches_subscribers,
    users_create_conflicts,
    update_user_moves_indexes_with_cas,
    concurrent_user_updates_lose_nothing,
    code_redemption_race,
    refresh_rotation_race,
    reused_refresh_secret_revokes_family,
    rotation_from_a_stale_read_sees_the_race,
    refresh_family_memory_and_its_access_tokens,
    sessions_of_a_user,
    login_tx_swap_is_compare_and_swap,
    single_use_values,
    access_token_deny_list,
    audit_filtering,
    device_authorizations,
    org_state_concurrent_updates,
    rate_clear_starts_a_new_window,
    runtime_organizations_are_created_once_replaced_and_deleted,
    granted_org_admins_keep_both_indexes,
    the_store_records_its_format_and_refuses_a_newer_one,
    dump_lists_every_live_entry_and_an_export_imports_into_either_engine,
    passkeys_and_their_owner_index_change_together,
    a_credential_id_is_registered_once_under_a_race,
    totp_enrolment_steps_and_recovery_codes,
);

// ---------------------------------------------------------------- fixtures

fn user(id: &str, email: &str, link: Option<UpstreamLink>) -> User {
    User {
        id: id.into(),
        email: email.into(),
        name: "Test User".into(),
        organization: Some("contoso".into()),
        password_hash: None,
        link,
        sso: false,
        disabled: false,
        source: UserSource::Admin,
        created_at: 1,
        updated_at: 1,
        tokens_valid_after: 0,
        policy_password_hash: None,
        email_verified: true,
        profile: Default::default(),
    }
}

fn entra(oid: &str) -> UpstreamLink {
    UpstreamLink::Entra {
        tid: "72f988bf-86f1-41af-91ab-2d7cd011db47".into(),
        oid: oid.into(),
    }
}

fn code_record(now: u64) -> CodeRecord {
    CodeRecord {
        request: AuthRequest {
            client_id: "helpdesk".into(),
            redirect_uri: "https://helpdesk.example.com/callback".into(),
            scope: vec!["openid".into(), "email".into()],
            nonce: Some("n-0S6_WzA2Mj".into()),
            code_challenge: None,
            resource: None,
            acr_values: Vec::new(),
        },
        user_id: "u1".into(),
        session_id: "s1".into(),
        auth: Authentication {
            auth_time: now,
            amr: vec!["pwd".into()],
            idp: None,
            organization: None,
            acr: None,
        },
        issued_at: now,
        expires_at: now + 60,
        redeemed: None,
    }
}

fn family(id: &str, user_id: &str, current: &str, now: u64) -> RefreshFamily {
    RefreshFamily {
        id: id.into(),
        user_id: user_id.into(),
        client_id: "helpdesk".into(),
        session_id: None,
        scope: vec!["openid".into(), "offline_access".into()],
        resource: None,
        auth: Authentication {
            auth_time: now,
            amr: vec!["pwd".into()],
            idp: None,
            organization: None,
            acr: None,
        },
        current: current.into(),
        generation: 0,
        created_at: now,
        expires_at: now + 3600,
        revoked: false,
        spent: Vec::new(),
        access: Vec::new(),
    }
}

/// A rotation step presenting `presented` for `next`, minting access token `jti`.
fn step<'a>(presented: &'a str, next: &'a str, jti: &str, now: u64) -> RefreshStep<'a> {
    RefreshStep {
        presented,
        next,
        access: IssuedAccess {
            jti: jti.into(),
            expires_at: now + 600,
        },
        spent_window: 3600,
    }
}

fn session(id: &str, user_id: &str, created_at: u64, expires_at: u64) -> Session {
    Session {
        id: id.into(),
        user_id: user_id.into(),
        auth: Authentication {
            auth_time: created_at,
            amr: vec!["pwd".into()],
            idp: None,
            organization: None,
            acr: None,
        },
        created_at,
        expires_at,
        user_agent: None,
        ip: Some("192.0.2.1".into()),
    }
}

fn audit_record(id: &str, time: u64, user: &str, org: &str) -> AuditRecord {
    AuditRecord {
        id: id.into(),
        time,
        event: "login.password".into(),
        outcome: idbroker::store::Outcome::Success,
        reason: None,
        user_id: Some(user.into()),
        identifier: None,
        organization: Some(org.into()),
        upstream: None,
        client_id: Some("helpdesk".into()),
        ip: None,
        user_agent: None,
        detail: None,
        actor: None,
    }
}

async fn put(kv: &Backend, key: &str, value: &[u8], ttl: Option<Duration>) {
    assert!(
        kv.commit(Txn::new().put(key, value.to_vec(), ttl))
            .await
            .unwrap()
    );
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

// ---------------------------------------------------------------- primitives

async fn get_put_delete(kv: Backend) {
    assert_eq!(kv.get("v1/k").await.unwrap(), None);
    put(&kv, "v1/k", b"one", None).await;
    assert_eq!(kv.get("v1/k").await.unwrap().as_deref(), Some(&b"one"[..]));
    put(&kv, "v1/k", b"two", None).await;
    assert_eq!(kv.get("v1/k").await.unwrap().as_deref(), Some(&b"two"[..]));

    // Values are opaque bytes: empty and non-UTF-8 values round-trip.
    put(&kv, "v1/empty", b"", None).await;
    assert_eq!(kv.get("v1/empty").await.unwrap(), Some(Vec::new()));
    let binary = vec![0u8, 255, 1, 254, b'\n', 0];
    put(&kv, "v1/bin", &binary, None).await;
    assert_eq!(kv.get("v1/bin").await.unwrap(), Some(binary));

    assert!(kv.commit(Txn::new().delete("v1/k")).await.unwrap());
    assert_eq!(kv.get("v1/k").await.unwrap(), None);
    // Deleting what is not there is fine.
    assert!(kv.commit(Txn::new().delete("v1/k")).await.unwrap());
    // An empty transaction succeeds and changes nothing.
    assert!(kv.commit(Txn::new()).await.unwrap());
    kv.ping().await.unwrap();
}

async fn ttl_expiry_is_absence_for_every_operation(kv: Backend) {
    put(&kv, "v1/t/short", b"gone soon", Some(SHORT)).await;
    put(&kv, "v1/t/take", b"gone soon", Some(SHORT)).await;
    put(&kv, "v1/t/check", b"old", Some(SHORT)).await;
    put(&kv, "v1/t/forever", b"stays", None).await;
    put(&kv, "v1/t/long", b"stays", Some(Duration::from_secs(60))).await;
    assert!(
        kv.commit(Txn::new().set_add("v1/t-set", "m", Some(SHORT)))
            .await
            .unwrap()
    );
    assert_eq!(kv.incr("v1/t-counter", SHORT).await.unwrap(), 1);
    assert_eq!(kv.incr("v1/t-counter", SHORT).await.unwrap(), 2);

    // Live before the TTL.
    assert!(kv.get("v1/t/short").await.unwrap().is_some());
    assert_eq!(kv.scan_prefix("v1/t/").await.unwrap().len(), 5);
    assert_eq!(kv.set_members("v1/t-set").await.unwrap(), vec!["m"]);

    tokio::time::sleep(PAST_SHORT).await;

    assert_eq!(kv.get("v1/t/short").await.unwrap(), None, "get");
    assert_eq!(kv.take("v1/t/take").await.unwrap(), None, "take");
    assert!(
        kv.commit(Txn::new().expect_absent("v1/t/check"))
            .await
            .unwrap(),
        "an expired value is absent for a check"
    );
    assert!(
        !kv.commit(Txn::new().expect_equals("v1/t/check", b"old".to_vec()))
            .await
            .unwrap(),
        "an expired value equals nothing"
    );
    assert_eq!(kv.incr("v1/t-counter", SHORT).await.unwrap(), 1, "incr");
    assert!(kv.set_members("v1/t-set").await.unwrap().is_empty(), "set");
    let keys: Vec<String> = kv
        .scan_prefix("v1/t/")
        .await
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(keys, vec!["v1/t/forever", "v1/t/long"], "scan_prefix");

    // Sweeping changes nothing that can be observed.
    kv.sweep().await.unwrap();
    assert_eq!(kv.get("v1/t/short").await.unwrap(), None);
    assert_eq!(
        kv.get("v1/t/forever").await.unwrap().as_deref(),
        Some(&b"stays"[..])
    );
}

async fn txn_check_kinds(kv: Backend) {
    put(&kv, "v1/c/present", b"v1", None).await;

    // Absent: holds on a missing key, fails on a present one.
    assert!(
        kv.commit(Txn::new().expect_absent("v1/c/missing"))
            .await
            .unwrap()
    );
    assert!(
        !kv.commit(Txn::new().expect_absent("v1/c/present"))
            .await
            .unwrap()
    );
    // Equals: holds on exactly these bytes only.
    assert!(
        kv.commit(Txn::new().expect_equals("v1/c/present", b"v1".to_vec()))
            .await
            .unwrap()
    );
    assert!(
        !kv.commit(Txn::new().expect_equals("v1/c/present", b"v2".to_vec()))
            .await
            .unwrap()
    );
    assert!(
        !kv.commit(Txn::new().expect_equals("v1/c/present", b"v".to_vec()))
            .await
            .unwrap(),
        "a prefix of the value is not equal"
    );
    assert!(
        !kv.commit(Txn::new().expect_equals("v1/c/missing", Vec::new()))
            .await
            .unwrap(),
        "a missing value does not equal the empty value"
    );
    // Several checks: all must hold.
    assert!(
        kv.commit(
            Txn::new()
                .expect_absent("v1/c/missing")
                .expect_equals("v1/c/present", b"v1".to_vec())
                .put("v1/c/written", b"yes".to_vec(), None)
        )
        .await
        .unwrap()
    );
    assert_eq!(
        kv.get("v1/c/written").await.unwrap().as_deref(),
        Some(&b"yes"[..])
    );
    // Compare-and-swap: the second swap from the same old value loses.
    let swap = Txn::new()
        .expect_equals("v1/c/present", b"v1".to_vec())
        .put("v1/c/present", b"v2".to_vec(), None);
    assert!(kv.commit(swap.clone()).await.unwrap());
    assert!(!kv.commit(swap).await.unwrap());
    assert_eq!(
        kv.get("v1/c/present").await.unwrap().as_deref(),
        Some(&b"v2"[..])
    );
}

async fn failed_check_writes_nothing(kv: Backend) {
    put(&kv, "v1/a/keep", b"original", None).await;
    put(&kv, "v1/a/guard", b"guard", None).await;
    assert!(
        kv.commit(Txn::new().set_add("v1/a/set", "m1", None))
            .await
            .unwrap()
    );

    // Every kind of write, then a check that fails (the last of three).
    let txn = Txn::new()
        .expect_absent("v1/a/new")
        .expect_equals("v1/a/guard", b"guard".to_vec())
        .expect_equals("v1/a/keep", b"something else".to_vec())
        .put("v1/a/new", b"x".to_vec(), None)
        .put("v1/a/keep", b"overwritten".to_vec(), Some(SHORT))
        .delete("v1/a/guard")
        .set_add("v1/a/set", "m2", Some(SHORT))
        .set_remove("v1/a/set", "m1")
        .set_add("v1/a/other-set", "m", None);
    assert!(!kv.commit(txn).await.unwrap());

    assert_eq!(kv.get("v1/a/new").await.unwrap(), None);
    assert_eq!(
        kv.get("v1/a/keep").await.unwrap().as_deref(),
        Some(&b"original"[..])
    );
    assert_eq!(
        kv.get("v1/a/guard").await.unwrap().as_deref(),
        Some(&b"guard"[..])
    );
    assert_eq!(kv.set_members("v1/a/set").await.unwrap(), vec!["m1"]);
    assert!(kv.set_members("v1/a/other-set").await.unwrap().is_empty());

    // The same writes with checks that hold are all applied.
    let txn = Txn::new()
        .expect_absent("v1/a/new")
        .expect_equals("v1/a/keep", b"original".to_vec())
        .put("v1/a/new", b"x".to_vec(), None)
        .put("v1/a/keep", b"overwritten".to_vec(), None)
        .delete("v1/a/guard")
        .set_add("v1/a/set", "m2", None)
        .set_remove("v1/a/set", "m1");
    assert!(kv.commit(txn).await.unwrap());
    assert_eq!(
        kv.get("v1/a/new").await.unwrap().as_deref(),
        Some(&b"x"[..])
    );
    assert_eq!(
        kv.get("v1/a/keep").await.unwrap().as_deref(),
        Some(&b"overwritten"[..])
    );
    assert_eq!(kv.get("v1/a/guard").await.unwrap(), None);
    assert_eq!(kv.set_members("v1/a/set").await.unwrap(), vec!["m2"]);
}

async fn take_is_once_under_concurrency(kv: Backend) {
    assert_eq!(kv.take("v1/once").await.unwrap(), None);
    put(&kv, "v1/once", b"prize", Some(Duration::from_secs(60))).await;
    let kv = Arc::new(kv);
    let tasks: Vec<_> = (0..RACERS)
        .map(|_| {
            let kv = Arc::clone(&kv);
            tokio::spawn(async move { kv.take("v1/once").await.unwrap() })
        })
        .collect();
    let mut winners = Vec::new();
    for task in tasks {
        if let Some(v) = task.await.unwrap() {
            winners.push(v);
        }
    }
    assert_eq!(winners, vec![b"prize".to_vec()], "exactly one take wins");
    assert_eq!(kv.get("v1/once").await.unwrap(), None);
}

async fn incr_is_a_fixed_window(kv: Backend) {
    let window = SHORT;
    assert_eq!(kv.incr("v1/rate/a", window).await.unwrap(), 1);
    assert_eq!(kv.incr("v1/rate/a", window).await.unwrap(), 2);
    assert_eq!(
        kv.incr("v1/rate/b", window).await.unwrap(),
        1,
        "buckets apart"
    );
    tokio::time::sleep(Duration::from_millis(600)).await;
    // A later increment does not move the window's end...
    assert_eq!(kv.incr("v1/rate/a", window).await.unwrap(), 3);
    tokio::time::sleep(Duration::from_millis(700)).await;
    // ...so 1.3 s after the first hit the window has closed (a sliding window would say 4).
    assert_eq!(kv.incr("v1/rate/a", window).await.unwrap(), 1);
    assert_eq!(
        kv.get("v1/rate/a").await.unwrap().as_deref(),
        Some(&b"1"[..]),
        "counters are decimal text"
    );
    // 50 concurrent hits are all counted.
    let kv = Arc::new(kv);
    let tasks: Vec<_> = (0..RACERS)
        .map(|_| {
            let kv = Arc::clone(&kv);
            tokio::spawn(
                async move { kv.incr("v1/rate/c", Duration::from_secs(60)).await.unwrap() },
            )
        })
        .collect();
    let mut seen = BTreeSet::new();
    for task in tasks {
        seen.insert(task.await.unwrap());
    }
    assert_eq!(seen, (1..=RACERS as u64).collect::<BTreeSet<_>>());
}

async fn decr_gives_back_within_the_window(kv: Backend) {
    // An absent counter stays absent: a late give-back creates nothing.
    assert_eq!(kv.decr("v1/rate/d").await.unwrap(), 0);
    assert_eq!(kv.get("v1/rate/d").await.unwrap(), None);
    assert_eq!(kv.incr("v1/rate/d", SHORT).await.unwrap(), 1);
    assert_eq!(kv.incr("v1/rate/d", SHORT).await.unwrap(), 2);
    assert_eq!(kv.decr("v1/rate/d").await.unwrap(), 1);
    assert_eq!(kv.decr("v1/rate/d").await.unwrap(), 0);
    assert_eq!(kv.decr("v1/rate/d").await.unwrap(), 0, "never below zero");
    assert_eq!(kv.incr("v1/rate/d", SHORT).await.unwrap(), 1);
    // The window's end does not move: the counter still expires SHORT after its first hit.
    tokio::time::sleep(PAST_SHORT).await;
    assert_eq!(kv.get("v1/rate/d").await.unwrap(), None, "expired on time");
    assert_eq!(kv.decr("v1/rate/d").await.unwrap(), 0);
    assert_eq!(kv.get("v1/rate/d").await.unwrap(), None);
    // Concurrent reservations and give-backs balance exactly.
    let kv = Arc::new(kv);
    let tasks: Vec<_> = (0..RACERS)
        .map(|_| {
            let kv = Arc::clone(&kv);
            tokio::spawn(async move {
                kv.incr("v1/rate/e", Duration::from_secs(60)).await.unwrap();
                kv.decr("v1/rate/e").await.unwrap();
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(
        kv.get("v1/rate/e").await.unwrap().as_deref(),
        Some(&b"0"[..])
    );
}

async fn set_expiry_is_extended_never_shortened(kv: Backend) {
    let start = Instant::now();
    assert!(
        kv.commit(Txn::new().set_add("v1/s", "a", Some(SHORT)))
            .await
            .unwrap()
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    // Extended to 2 s from now (t≈2.5 s)...
    assert!(
        kv.commit(Txn::new().set_add("v1/s", "b", Some(Duration::from_secs(2))))
            .await
            .unwrap()
    );
    // ...and not shortened back by a later, shorter TTL.
    assert!(
        kv.commit(Txn::new().set_add("v1/s", "c", Some(SHORT)))
            .await
            .unwrap()
    );
    tokio::time::sleep(Duration::from_millis(1000)).await;
    // t≈1.5 s: past both one-second TTLs, inside the extension.
    assert!(
        start.elapsed() < Duration::from_millis(2400),
        "machine too slow"
    );
    assert_eq!(
        sorted(kv.set_members("v1/s").await.unwrap()),
        vec!["a", "b", "c"]
    );
    tokio::time::sleep(Duration::from_millis(1300)).await;
    // t≈2.8 s: the whole set has expired.
    assert!(kv.set_members("v1/s").await.unwrap().is_empty());

    // An expired set is absent: re-creating it does not bring old members back.
    assert!(
        kv.commit(Txn::new().set_add("v1/s", "d", Some(SHORT)))
            .await
            .unwrap()
    );
    assert_eq!(kv.set_members("v1/s").await.unwrap(), vec!["d"]);

    // `None` makes a set persistent, and a later TTL does not shorten "forever".
    assert!(
        kv.commit(Txn::new().set_add("v1/p", "a", Some(SHORT)))
            .await
            .unwrap()
    );
    assert!(
        kv.commit(Txn::new().set_add("v1/p", "b", None))
            .await
            .unwrap()
    );
    assert!(
        kv.commit(Txn::new().set_add("v1/p", "c", Some(SHORT)))
            .await
            .unwrap()
    );
    tokio::time::sleep(PAST_SHORT).await;
    assert_eq!(
        sorted(kv.set_members("v1/p").await.unwrap()),
        vec!["a", "b", "c"]
    );
}

async fn set_membership(kv: Backend) {
    assert!(kv.set_members("v1/m").await.unwrap().is_empty());
    let txn = Txn::new()
        .set_add("v1/m", "x", None)
        .set_add("v1/m", "y", None)
        .set_add("v1/m", "x", None)
        .set_add("v1/m/2", "other", None);
    assert!(kv.commit(txn).await.unwrap());
    assert_eq!(
        sorted(kv.set_members("v1/m").await.unwrap()),
        vec!["x", "y"]
    );
    assert!(
        kv.commit(
            Txn::new()
                .set_remove("v1/m", "x")
                .set_remove("v1/m", "absent")
        )
        .await
        .unwrap()
    );
    assert_eq!(kv.set_members("v1/m").await.unwrap(), vec!["y"]);
    // Removing the last member removes the set, and with it any expiry: a new set made
    // from nothing starts persistent again.
    assert!(kv.commit(Txn::new().set_remove("v1/m", "y")).await.unwrap());
    assert!(kv.set_members("v1/m").await.unwrap().is_empty());
    // A delete removes a whole set.
    assert!(kv.commit(Txn::new().delete("v1/m/2")).await.unwrap());
    assert!(kv.set_members("v1/m/2").await.unwrap().is_empty());
    // Members are arbitrary strings.
    let odd = "digest/with:odd*chars?[] and spaces";
    assert!(
        kv.commit(Txn::new().set_add("v1/m/3", odd, None))
            .await
            .unwrap()
    );
    assert_eq!(kv.set_members("v1/m/3").await.unwrap(), vec![odd]);
}

async fn scan_prefix_is_ordered_and_isolated(kv: Backend) {
    for key in [
        "v1/item/3",
        "v1/item/1",
        "v1/item/20",
        "v1/item/2",
        "v1/item",
        "v1/items/1",
        "v1/iten/1",
        "v1/ite",
        "v1/g[1]/x",
        "v1/g1/x",
        "v1/st*r/x",
        "v1/star/x",
    ] {
        put(&kv, key, key.as_bytes(), None).await;
    }
    // A set under the prefix is not a value.
    assert!(
        kv.commit(Txn::new().set_add("v1/item/set", "m", None))
            .await
            .unwrap()
    );
    let got = kv.scan_prefix("v1/item/").await.unwrap();
    let keys: Vec<&str> = got.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        vec!["v1/item/1", "v1/item/2", "v1/item/20", "v1/item/3"]
    );
    for (k, v) in &got {
        assert_eq!(v.as_slice(), k.as_bytes());
    }
    // Glob characters in the prefix are literal.
    let keys = |rows: Vec<(String, Vec<u8>)>| rows.into_iter().map(|(k, _)| k).collect::<Vec<_>>();
    assert_eq!(
        keys(kv.scan_prefix("v1/g[1]/").await.unwrap()),
        vec!["v1/g[1]/x"]
    );
    assert_eq!(
        keys(kv.scan_prefix("v1/st*r/").await.unwrap()),
        vec!["v1/st*r/x"]
    );
    assert!(kv.scan_prefix("v1/nothing/").await.unwrap().is_empty());
    assert_eq!(kv.scan_prefix("v1/").await.unwrap().len(), 12);
}

async fn publish_reaches_subscribers(kv: Backend) {
    let mut first = kv.subscribe();
    let mut second = kv.subscribe();
    kv.publish("user:alice@contoso.com").await.unwrap();
    kv.publish("user:bob@contoso.com").await.unwrap();
    for rx in [&mut first, &mut second] {
        for expected in ["user:alice@contoso.com", "user:bob@contoso.com"] {
            let got = tokio::time::timeout(Duration::from_secs(5), rx.recv())
                .await
                .expect("a published message arrives")
                .unwrap();
            assert_eq!(got, expected);
        }
    }
}

// ---------------------------------------------------------------- repositories

async fn users_create_conflicts(kv: Backend) {
    let store = Store::new(kv, 100);
    let alice = user("u-alice", "alice@contoso.com", Some(entra("oid-a")));
    assert_eq!(store.create_user(&alice).await.unwrap(), Ok(()));

    let same_email = user("u-other", "alice@contoso.com", None);
    assert_eq!(
        store.create_user(&same_email).await.unwrap(),
        Err(UserConflict::EmailTaken)
    );
    let same_link = user("u-other", "other@contoso.com", Some(entra("oid-a")));
    assert_eq!(
        store.create_user(&same_link).await.unwrap(),
        Err(UserConflict::LinkTaken)
    );
    // Nothing of the refused users was stored.
    assert_eq!(store.user_by_id("u-other").await.unwrap(), None);
    assert_eq!(
        store.user_by_email("other@contoso.com").await.unwrap(),
        None
    );

    assert_eq!(
        store.user_by_id("u-alice").await.unwrap(),
        Some(alice.clone())
    );
    assert_eq!(
        store
            .user_by_email("alice@contoso.com")
            .await
            .unwrap()
            .as_deref(),
        Some(&alice)
    );
    assert_eq!(
        store.user_by_link(&entra("oid-a")).await.unwrap(),
        Some(alice.clone())
    );
    assert_eq!(store.user_by_link(&entra("oid-b")).await.unwrap(), None);

    // An OIDC link whose issuer has URL characters is its own index entry.
    let bob = user(
        "u-bob",
        "bob@partner.example",
        Some(UpstreamLink::Oidc {
            iss: "https://idp.partner.example/tenant/v2.0".into(),
            sub: "abc/def?x=1".into(),
        }),
    );
    assert_eq!(store.create_user(&bob).await.unwrap(), Ok(()));
    let ids: Vec<String> = store
        .list_users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.id)
        .collect();
    assert_eq!(ids, vec!["u-alice", "u-bob"]);
}

async fn update_user_moves_indexes_with_cas(kv: Backend) {
    let store = Store::new(kv, 100);
    store
        .create_user(&user("u1", "one@contoso.com", Some(entra("oid-1"))))
        .await
        .unwrap()
        .unwrap();
    store
        .create_user(&user("u2", "two@contoso.com", Some(entra("oid-2"))))
        .await
        .unwrap()
        .unwrap();
    // Warm the cache so the test also sees it invalidated.
    assert!(
        store
            .user_by_email("one@contoso.com")
            .await
            .unwrap()
            .is_some()
    );

    // Email and link both move.
    let updated = store
        .update_user("u1", |u| {
            u.email = "uno@contoso.com".into();
            u.link = Some(entra("oid-1b"));
            u.sso = true;
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(updated.email, "uno@contoso.com");
    assert_eq!(store.user_by_email("one@contoso.com").await.unwrap(), None);
    assert_eq!(
        store
            .user_by_email("uno@contoso.com")
            .await
            .unwrap()
            .map(|u| u.id.clone()),
        Some("u1".to_owned())
    );
    assert_eq!(store.user_by_link(&entra("oid-1")).await.unwrap(), None);
    assert_eq!(
        store
            .user_by_link(&entra("oid-1b"))
            .await
            .unwrap()
            .map(|u| u.sso),
        Some(true)
    );

    // Taking another user's email or link is refused, and changes nothing.
    assert_eq!(
        store
            .update_user("u1", |u| u.email = "two@contoso.com".into())
            .await
            .unwrap(),
        Err(UserConflict::EmailTaken)
    );
    assert_eq!(
        store
            .update_user("u1", |u| u.link = Some(entra("oid-2")))
            .await
            .unwrap(),
        Err(UserConflict::LinkTaken)
    );
    assert_eq!(store.user_by_id("u1").await.unwrap(), Some(updated.clone()));
    assert_eq!(
        store
            .user_by_link(&entra("oid-2"))
            .await
            .unwrap()
            .map(|u| u.id),
        Some("u2".to_owned())
    );

    // Unlinking frees the link for someone else.
    store
        .update_user("u1", |u| u.link = None)
        .await
        .unwrap()
        .unwrap();
    store
        .update_user("u2", |u| u.link = Some(entra("oid-1b")))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        store
            .user_by_link(&entra("oid-1b"))
            .await
            .unwrap()
            .map(|u| u.id),
        Some("u2".to_owned())
    );
    assert_eq!(store.user_by_link(&entra("oid-2")).await.unwrap(), None);

    // The id cannot be changed, and a missing user is reported.
    let same = store
        .update_user("u1", |u| u.id = "hijack".into())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(same.id, "u1");
    assert_eq!(store.user_by_id("hijack").await.unwrap(), None);
    assert_eq!(
        store.update_user("nobody", |u| u.sso = true).await.unwrap(),
        Err(UserConflict::NotFound)
    );
}

async fn concurrent_user_updates_lose_nothing(kv: Backend) {
    let store = Store::new(kv, 100);
    store
        .create_user(&user("u1", "one@contoso.com", None))
        .await
        .unwrap()
        .unwrap();
    // Eight writers: each can lose at most seven races, inside the retry budget.
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                store
                    .update_user("u1", |u| u.name.push('+'))
                    .await
                    .unwrap()
                    .unwrap()
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let name = store.user_by_id("u1").await.unwrap().unwrap().name;
    assert_eq!(name, "Test User++++++++", "no update was lost");
}

/// RFC 8628 records: user codes are unique, every change is a compare-and-swap, and of many
/// pollers racing for one approval exactly one takes it (with its user-code index).
async fn device_authorizations(kv: Backend) {
    use idbroker::store::{DeviceAuthorization, DeviceGrant, DeviceStatus};
    let store = Store::new(kv, 100);
    let now = now();
    let record = DeviceAuthorization {
        client_id: "tv".into(),
        scope: vec!["openid".into()],
        user_code: "BCDFGHJK".into(),
        status: DeviceStatus::Pending,
        interval: 5,
        last_poll: None,
        created_at: now,
        expires_at: now + 600,
    };
    assert!(store.create_device("dev-1", &record, now).await.unwrap());
    // The same user code for another device is refused, and writes nothing.
    assert!(!store.create_device("dev-2", &record, now).await.unwrap());
    assert!(store.device("dev-2").await.unwrap().is_none());
    assert_eq!(
        store
            .device_by_user_code("BCDFGHJK")
            .await
            .unwrap()
            .as_deref(),
        Some("dev-1")
    );
    let v1 = store.device("dev-1").await.unwrap().unwrap();
    assert_eq!(v1.value, record);

    // A swap on the bytes read wins once; a second swap on the same (now stale) bytes loses.
    let mut polled = record.clone();
    polled.last_poll = Some(now);
    assert!(
        store
            .swap_device("dev-1", &v1.bytes, &polled, now)
            .await
            .unwrap()
    );
    let mut other = record.clone();
    other.interval = 10;
    assert!(
        !store
            .swap_device("dev-1", &v1.bytes, &other, now)
            .await
            .unwrap()
    );
    assert_eq!(store.device("dev-1").await.unwrap().unwrap().value, polled);

    let mut approved = polled.clone();
    approved.status = DeviceStatus::Approved(DeviceGrant {
        user_id: "u1".into(),
        auth: Authentication {
            auth_time: now,
            amr: vec!["pwd".into()],
            idp: None,
            organization: None,
            acr: None,
        },
    });
    let v2 = store.device("dev-1").await.unwrap().unwrap();
    assert!(
        store
            .swap_device("dev-1", &v2.bytes, &approved, now)
            .await
            .unwrap()
    );
    let v3 = Arc::new(store.device("dev-1").await.unwrap().unwrap());
    let tasks: Vec<_> = (0..RACERS)
        .map(|_| {
            let store = Arc::clone(&store);
            let v3 = Arc::clone(&v3);
            tokio::spawn(async move { store.take_device("dev-1", &v3).await.unwrap() })
        })
        .collect();
    let mut won = 0;
    for task in tasks {
        if task.await.unwrap() {
            won += 1;
        }
    }
    assert_eq!(won, 1, "exactly one poll takes the approval");
    assert!(store.device("dev-1").await.unwrap().is_none());
    assert!(
        store
            .device_by_user_code("BCDFGHJK")
            .await
            .unwrap()
            .is_none()
    );
    // The user code is free again.
    assert!(store.create_device("dev-3", &record, now).await.unwrap());
}

async fn code_redemption_race(kv: Backend) {
    let store = Store::new(kv, 100);
    let now = now();
    let code = code_record(now);
    store.put_code("digest-1", &code, now).await.unwrap();
    assert_eq!(store.code("digest-1").await.unwrap(), Some(code.clone()));

    let tasks: Vec<_> = (0..RACERS)
        .map(|i| {
            let store = Arc::clone(&store);
            let code = code.clone();
            tokio::spawn(async move {
                let redemption = Redemption {
                    access_jti: format!("jti-{i}"),
                    access_expires_at: now + 600,
                    refresh_family: Some(format!("fam-{i}")),
                };
                store
                    .redeem_code("digest-1", &code, redemption, now)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let (mut fresh, mut replayed) = (0, Vec::new());
    for task in tasks {
        match task.await.unwrap() {
            CodeRedemption::Fresh(record) => {
                assert_eq!(record, code, "Fresh returns the record as it was");
                fresh += 1;
            }
            CodeRedemption::Replayed(record) => replayed.push(record),
            CodeRedemption::Unknown => panic!("the code is known"),
        }
    }
    assert_eq!(fresh, 1, "exactly one redemption wins");
    assert_eq!(replayed.len(), RACERS - 1);
    // Every replay sees what the single winner issued, so it can revoke exactly that.
    let stored = store.code("digest-1").await.unwrap().unwrap();
    let winner = stored
        .redeemed
        .clone()
        .expect("the code is marked redeemed");
    assert!(
        replayed
            .iter()
            .all(|r| r.redeemed.as_ref() == Some(&winner))
    );

    // A code that was never issued, or a different record, is unknown.
    let absent = store
        .redeem_code("nope", &code, winner.clone(), now)
        .await
        .unwrap();
    assert_eq!(absent, CodeRedemption::Unknown);
    store.put_code("digest-2", &code, now).await.unwrap();
    let mut other = code.clone();
    other.request.client_id = "another-client".into();
    assert_eq!(
        store
            .redeem_code("digest-2", &other, winner, now)
            .await
            .unwrap(),
        CodeRedemption::Unknown
    );
}

async fn refresh_rotation_race(kv: Backend) {
    let store = Store::new(kv, 100);
    let now = now();
    store
        .create_refresh_family(&family("fam-1", "u1", "secret-0", now), now)
        .await
        .unwrap();

    let tasks: Vec<_> = (0..RACERS)
        .map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let next = format!("secret-1-{i}");
                store
                    .rotate_refresh("fam-1", &step("secret-0", &next, "jti", now), now)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let (mut rotated, mut reused, mut revoked) = (0, 0, 0);
    for task in tasks {
        match task.await.unwrap() {
            Rotation::Rotated(f) => {
                assert_eq!(f.generation, 1);
                rotated += 1;
            }
            Rotation::Reused(f) => {
                assert!(f.revoked);
                reused += 1;
            }
            Rotation::Revoked => revoked += 1,
            other => panic!("the family is known and rotates freely: {other:?}"),
        }
    }
    assert_eq!(rotated, 1, "exactly one presentation rotates");
    assert_eq!(reused, 1, "the first late presentation detects the reuse");
    assert_eq!(revoked, RACERS - 2);
    let fam = store.refresh_family("fam-1").await.unwrap().unwrap();
    assert!(fam.revoked, "the family ends revoked");
    assert_eq!(fam.generation, 1);
}

/// The token endpoint reads a family once and rotates from that read; a rotation that won
/// meanwhile must still be seen, as reuse.
async fn rotation_from_a_stale_read_sees_the_race(kv: Backend) {
    let store = Store::new(kv, 100);
    let now = now();
    store
        .create_refresh_family(&family("fam-s", "u1", "s0", now), now)
        .await
        .unwrap();
    // Two requests with the same token read the family before either rotates it.
    let first = store.refresh_family_seen("fam-s").await.unwrap().unwrap();
    let second = store.refresh_family_seen("fam-s").await.unwrap().unwrap();
    assert!(matches!(
        store.rotate_seen(first, &step("s0", "s1", "jti-1", now), now).await.unwrap(),
        Rotation::Rotated(f) if f.generation == 1 && f.current == "s1"
    ));
    // The second rotates from a stale read: not a second rotation but reuse.
    assert!(matches!(
        store.rotate_seen(second, &step("s0", "s2", "jti-2", now), now).await.unwrap(),
        Rotation::Reused(f) if f.revoked
    ));
    let fam = store.refresh_family("fam-s").await.unwrap().unwrap();
    assert!(fam.revoked);
    assert_eq!(fam.generation, 1);
}

async fn reused_refresh_secret_revokes_family(kv: Backend) {
    let store = Store::new(kv, 100);
    let now = now();
    store
        .create_refresh_family(&family("fam-a", "u1", "s0", now), now)
        .await
        .unwrap();
    store
        .create_refresh_family(&family("fam-b", "u1", "t0", now), now)
        .await
        .unwrap();
    store
        .create_refresh_family(&family("fam-c", "u2", "c0", now), now)
        .await
        .unwrap();

    match store
        .rotate_refresh("fam-a", &step("s0", "s1", "jti-s1", now), now)
        .await
        .unwrap()
    {
        Rotation::Rotated(f) => {
            assert_eq!(f.current, "s1");
            assert_eq!(f.generation, 1);
        }
        other => panic!("expected a rotation, got {other:?}"),
    }
    match store
        .rotate_refresh("fam-a", &step("s1", "s2", "jti-s2", now), now)
        .await
        .unwrap()
    {
        Rotation::Rotated(f) => assert_eq!(f.generation, 2),
        other => panic!("expected a rotation, got {other:?}"),
    }
    // The old secret comes back: the whole family is revoked...
    assert!(matches!(
        store.rotate_refresh("fam-a", &step("s0", "s9", "jti-s9", now), now).await.unwrap(),
        Rotation::Reused(f) if f.revoked
    ));
    // ...so even the current secret no longer works.
    assert_eq!(
        store
            .rotate_refresh("fam-a", &step("s2", "s3", "jti-s3", now), now)
            .await
            .unwrap(),
        Rotation::Revoked
    );
    assert_eq!(
        store
            .rotate_refresh("nope", &step("x", "y", "jti-y", now), now)
            .await
            .unwrap(),
        Rotation::Unknown
    );
    // A family past its absolute expiry is unknown.
    assert_eq!(
        store
            .rotate_refresh("fam-b", &step("t0", "t1", "jti-t1", now), now + 3600)
            .await
            .unwrap(),
        Rotation::Unknown
    );

    let live: Vec<String> = store
        .refresh_families_of_user("u1", now)
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.id)
        .collect();
    assert_eq!(live, vec!["fam-b"]);
    assert_eq!(
        store
            .revoke_refresh_families_of_user("u1", now)
            .await
            .unwrap(),
        1
    );
    assert!(
        store
            .refresh_families_of_user("u1", now)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(!store.revoke_refresh_family("fam-b", now).await.unwrap());
    // Another user's family is untouched.
    assert_eq!(
        store
            .refresh_families_of_user("u2", now)
            .await
            .unwrap()
            .len(),
        1
    );
}

/// A family remembers its spent secrets (bounded, and never forgetting one younger than the
/// window), ignores secrets it never issued, and takes its live access tokens down with it.
async fn refresh_family_memory_and_its_access_tokens(kv: Backend) {
    let store = Store::new(kv, 100);
    let now = now();
    let mut fam = family("fam-m", "u1", "m0", now);
    fam.access = vec![
        IssuedAccess {
            jti: "at-0".into(),
            expires_at: now + 600,
        },
        IssuedAccess {
            jti: "at-gone".into(),
            expires_at: now,
        },
    ];
    store.create_refresh_family(&fam, now).await.unwrap();
    for (i, (a, b)) in [("m0", "m1"), ("m1", "m2")].into_iter().enumerate() {
        match store
            .rotate_refresh("fam-m", &step(a, b, &format!("at-{}", i + 1), now), now)
            .await
            .unwrap()
        {
            Rotation::Rotated(f) => {
                assert_eq!(f.spent.last().unwrap().digest, a);
                assert!(f.access.iter().all(|x| x.jti != "at-gone"), "pruned");
            }
            other => panic!("{other:?}"),
        }
    }
    // A secret the family never issued changes nothing, revoked or not.
    let before = store.refresh_family("fam-m").await.unwrap().unwrap();
    assert_eq!(
        store
            .rotate_refresh("fam-m", &step("forged", "x", "at-x", now), now)
            .await
            .unwrap(),
        Rotation::Unknown
    );
    assert_eq!(
        store.refresh_family("fam-m").await.unwrap().unwrap(),
        before
    );
    assert!(!store.is_access_token_denied("at-0").await.unwrap());
    // A spent one revokes the family and denies every live access token minted from it.
    assert!(matches!(
        store
            .rotate_refresh("fam-m", &step("m0", "x", "at-x", now), now)
            .await
            .unwrap(),
        Rotation::Reused(f) if f.revoked && f.access.is_empty()
    ));
    for jti in ["at-0", "at-1", "at-2"] {
        assert!(store.is_access_token_denied(jti).await.unwrap(), "{jti}");
    }
    assert!(!store.is_access_token_denied("at-x").await.unwrap());
    assert!(!store.is_access_token_denied("at-gone").await.unwrap());
    assert_eq!(
        store
            .rotate_refresh("fam-m", &step("forged", "x", "at-x", now), now)
            .await
            .unwrap(),
        Rotation::Unknown,
        "a revoked family does not even say so to a forged secret"
    );

    // The bound: SPENT_SECRETS_KEPT rotations within the window, then a refusal that changes
    // nothing; after the window the oldest spent secret is forgotten (then unknown, no
    // revocation) while the others still revoke.
    let mut fam = family("fam-w", "u1", "w0", now);
    fam.access = vec![IssuedAccess {
        jti: "w-at-0".into(),
        expires_at: now + 600,
    }];
    store.create_refresh_family(&fam, now).await.unwrap();
    let secrets: Vec<String> = (0..=SPENT_SECRETS_KEPT + 1)
        .map(|i| format!("w{i}"))
        .collect();
    for i in 0..SPENT_SECRETS_KEPT {
        let r = store
            .rotate_refresh(
                "fam-w",
                &step(&secrets[i], &secrets[i + 1], "w-at", now),
                now,
            )
            .await
            .unwrap();
        assert!(matches!(r, Rotation::Rotated(_)), "rotation {i}: {r:?}");
    }
    let k = SPENT_SECRETS_KEPT;
    let before = store.refresh_family("fam-w").await.unwrap().unwrap();
    assert_eq!(before.spent.len(), k);
    assert_eq!(
        store
            .rotate_refresh(
                "fam-w",
                &step(&secrets[k], &secrets[k + 1], "w-at", now),
                now
            )
            .await
            .unwrap(),
        Rotation::TooFrequent
    );
    assert_eq!(
        store.refresh_family("fam-w").await.unwrap().unwrap(),
        before
    );
    let later = now + 3600 - 1;
    let mut late = step(&secrets[k], &secrets[k + 1], "w-at-late", later);
    late.spent_window = 3600 - 1;
    assert!(matches!(
        store.rotate_refresh("fam-w", &late, later).await.unwrap(),
        Rotation::Rotated(f) if f.spent.len() == k && f.spent[0].digest == secrets[1]
    ));
    assert_eq!(
        store
            .rotate_refresh("fam-w", &step(&secrets[0], "x", "x", later), later)
            .await
            .unwrap(),
        Rotation::Unknown,
        "forgotten: no longer recognised, and nothing revoked"
    );
    assert!(
        !store
            .refresh_family("fam-w")
            .await
            .unwrap()
            .unwrap()
            .revoked
    );
    assert!(matches!(
        store
            .rotate_refresh("fam-w", &step(&secrets[1], "x", "x", later), later)
            .await
            .unwrap(),
        Rotation::Reused(_)
    ));
    assert!(store.is_access_token_denied("w-at-late").await.unwrap());

    // Revoking a family by id (logout, /revoke, code replay) denies its access tokens too.
    let mut fam = family("fam-r", "u1", "r0", now);
    fam.access = vec![IssuedAccess {
        jti: "r-at-0".into(),
        expires_at: now + 600,
    }];
    store.create_refresh_family(&fam, now).await.unwrap();
    assert!(store.revoke_refresh_family("fam-r", now).await.unwrap());
    assert!(store.is_access_token_denied("r-at-0").await.unwrap());
}

async fn sessions_of_a_user(kv: Backend) {
    let store = Store::new(kv, 100);
    let now = now();
    store
        .create_session("d-2", &session("s-2", "u1", now - 20, now + 3600), now)
        .await
        .unwrap();
    store
        .create_session("d-1", &session("s-1", "u1", now - 30, now + 3600), now)
        .await
        .unwrap();
    store
        .create_session("d-3", &session("s-3", "u1", now - 10, now + 3600), now)
        .await
        .unwrap();
    // A session that expires within a second.
    store
        .create_session("d-short", &session("s-short", "u1", now, now + 1), now)
        .await
        .unwrap();
    store
        .create_session("d-other", &session("s-other", "u2", now, now + 3600), now)
        .await
        .unwrap();

    let ids = |v: Vec<(String, Session)>| v.into_iter().map(|(_, s)| s.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.sessions_of_user("u1").await.unwrap()),
        vec!["s-1", "s-2", "s-3", "s-short"],
        "oldest first"
    );
    assert_eq!(store.session("d-1").await.unwrap().unwrap().id, "s-1");

    // Ending one session removes it from the user's list.
    assert_eq!(
        store.delete_session("d-2").await.unwrap().map(|s| s.id),
        Some("s-2".to_owned())
    );
    assert_eq!(store.delete_session("d-2").await.unwrap(), None);

    tokio::time::sleep(PAST_SHORT).await;
    assert_eq!(store.session("d-short").await.unwrap(), None);
    let live = store.sessions_of_user("u1").await.unwrap();
    assert_eq!(
        live.iter().map(|(d, _)| d.as_str()).collect::<Vec<_>>(),
        vec!["d-1", "d-3"]
    );

    assert_eq!(store.delete_sessions_of_user("u1").await.unwrap(), 2);
    assert!(store.sessions_of_user("u1").await.unwrap().is_empty());
    assert_eq!(
        ids(store.sessions_of_user("u2").await.unwrap()),
        vec!["s-other"]
    );
}

async fn login_tx_swap_is_compare_and_swap(kv: Backend) {
    use idbroker::store::{LoginStage, LoginTx};
    let store = Store::new(kv, 100);
    let now = now();
    let tx = LoginTx {
        id: "tx-1".into(),
        request: AuthRequest {
            client_id: "helpdesk".into(),
            redirect_uri: "https://helpdesk.example.com/callback".into(),
            scope: vec!["openid".into()],
            nonce: None,
            code_challenge: None,
            resource: None,
            acr_values: Vec::new(),
        },
        state: Some("st".into()),
        response_mode: None,
        max_age: None,
        login_hint: None,
        ui_locales: None,
        domain_hint: None,
        browser: "browser-digest".into(),
        csrf: "csrf".into(),
        stage: LoginStage::Identifier,
        identifier: None,
        upstream: None,
        device: None,
        mfa: None,
        created_at: now,
        expires_at: now + 600,
    };
    store.put_login_tx(&tx, now).await.unwrap();
    let mut next = tx.clone();
    next.stage = LoginStage::Password;
    next.identifier = Some("alice@contoso.com".into());
    assert!(store.swap_login_tx(&tx, &next, now).await.unwrap());
    // A double-submitted form, still holding the old state, loses.
    let mut other = tx.clone();
    other.stage = LoginStage::Upstream;
    assert!(!store.swap_login_tx(&tx, &other, now).await.unwrap());
    assert_eq!(store.login_tx("tx-1").await.unwrap(), Some(next.clone()));

    // The upstream state maps to the transaction once.
    store
        .put_upstream_state("state-digest", "tx-1", now + 600, now)
        .await
        .unwrap();
    assert_eq!(
        store.take_upstream_state("state-digest").await.unwrap(),
        Some("tx-1".to_owned())
    );
    assert_eq!(
        store.take_upstream_state("state-digest").await.unwrap(),
        None
    );

    store.delete_login_tx("tx-1").await.unwrap();
    assert_eq!(store.login_tx("tx-1").await.unwrap(), None);
    assert!(!store.swap_login_tx(&next, &other, now).await.unwrap());
}

async fn single_use_values(kv: Backend) {
    let store = Store::new(kv, 100);
    store
        .put_once(
            "consent",
            "d1",
            &"first".to_owned(),
            Duration::from_secs(60),
        )
        .await
        .unwrap();
    // A second put under the same digest does not replace the first.
    store
        .put_once(
            "consent",
            "d1",
            &"second".to_owned(),
            Duration::from_secs(60),
        )
        .await
        .unwrap();
    assert_eq!(
        store.peek_once::<String>("consent", "d1").await.unwrap(),
        Some("first".to_owned())
    );
    assert_eq!(
        store.peek_once::<String>("consent", "d1").await.unwrap(),
        Some("first".to_owned()),
        "peeking does not consume"
    );
    // Families are apart.
    assert_eq!(
        store
            .peek_once::<String>("password-set", "d1")
            .await
            .unwrap(),
        None
    );

    let tasks: Vec<_> = (0..RACERS)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { store.take_once::<String>("consent", "d1").await.unwrap() })
        })
        .collect();
    let mut taken = Vec::new();
    for task in tasks {
        taken.extend(task.await.unwrap());
    }
    assert_eq!(taken, vec!["first".to_owned()], "exactly one taker");
    assert_eq!(
        store.take_once::<String>("consent", "d1").await.unwrap(),
        None
    );

    // A single-use value expires unused.
    store
        .put_once("consent", "d2", &"late".to_owned(), SHORT)
        .await
        .unwrap();
    tokio::time::sleep(PAST_SHORT).await;
    assert_eq!(
        store.take_once::<String>("consent", "d2").await.unwrap(),
        None
    );

    // A corrupt record is reported as such, with its key.
    store
        .put_once("consent", "d3", &42u32, Duration::from_secs(60))
        .await
        .unwrap();
    match store.take_once::<String>("consent", "d3").await {
        Err(StoreError::Corrupt { key, .. }) => assert_eq!(key, "v1/once/consent/d3"),
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

async fn access_token_deny_list(kv: Backend) {
    let store = Store::new(kv, 100);
    let now = now();
    store
        .deny_access_token("jti-1", now + 600, now)
        .await
        .unwrap();
    store
        .deny_access_token("jti-old", now - 1, now)
        .await
        .unwrap();
    store
        .deny_access_token("jti-short", now + 1, now)
        .await
        .unwrap();
    assert!(store.is_access_token_denied("jti-1").await.unwrap());
    assert!(store.is_access_token_denied("jti-short").await.unwrap());
    assert!(!store.is_access_token_denied("jti-old").await.unwrap());
    assert!(!store.is_access_token_denied("jti-2").await.unwrap());
    // Rate counters through the repository.
    let window = Duration::from_secs(60);
    assert_eq!(store.rate_hit("ip:192.0.2.1", window).await.unwrap().0, 1);
    assert_eq!(store.rate_hit("ip:192.0.2.1", window).await.unwrap().0, 2);
    tokio::time::sleep(PAST_SHORT).await;
    // The deny entry lives until the token would have expired, then goes.
    assert!(!store.is_access_token_denied("jti-short").await.unwrap());
    assert!(store.is_access_token_denied("jti-1").await.unwrap());
}

async fn audit_filtering(kv: Backend) {
    let store = Store::new(kv, 100);
    let retention = Duration::from_secs(3600);
    let records = [
        audit_record("0001", 100, "u1", "contoso"),
        audit_record("0002", 200, "u2", "contoso"),
        audit_record("0003", 300, "u1", "fabrikam"),
        audit_record("0004", 400, "u1", "contoso"),
        audit_record("0005", 500, "u3", "fabrikam"),
    ];
    // Appended out of order: the key (a time-ordered id) decides the order, not arrival.
    for i in [2, 0, 4, 1, 3] {
        store.append_audit(&records[i], retention).await.unwrap();
    }
    let ids = |v: Vec<AuditRecord>| v.into_iter().map(|r| r.id).collect::<Vec<_>>();

    let all = store.audit(&AuditFilter::default()).await.unwrap();
    assert_eq!(
        ids(all.clone()),
        vec!["0005", "0004", "0003", "0002", "0001"]
    );
    assert_eq!(all[0], records[4]);

    let by_user = AuditFilter {
        user_id: Some("u1".into()),
        ..AuditFilter::default()
    };
    assert_eq!(
        ids(store.audit(&by_user).await.unwrap()),
        vec!["0004", "0003", "0001"]
    );
    let by_org_since = AuditFilter {
        organization: Some("contoso".into()),
        since: Some(200),
        ..AuditFilter::default()
    };
    assert_eq!(
        ids(store.audit(&by_org_since).await.unwrap()),
        vec!["0004", "0002"]
    );
    let limited = AuditFilter {
        user_id: Some("u1".into()),
        limit: Some(2),
        ..AuditFilter::default()
    };
    assert_eq!(
        ids(store.audit(&limited).await.unwrap()),
        vec!["0004", "0003"]
    );
    let nobody = AuditFilter {
        user_id: Some("u9".into()),
        ..AuditFilter::default()
    };
    assert!(store.audit(&nobody).await.unwrap().is_empty());
}

async fn org_state_concurrent_updates(kv: Backend) {
    let store = Store::new(kv, 100);
    assert_eq!(
        store.org_state("contoso").await.unwrap(),
        idbroker::store::OrgState::default()
    );
    // Consent callbacks and fetches racing on one organisation: every change lands.
    let tasks: Vec<_> = (0..RACERS)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .update_org_state("contoso", |s| {
                        let n = s.last_sync.as_ref().and_then(|l| l.users).unwrap_or(0);
                        s.last_sync = Some(idbroker::store::SyncState {
                            at: i as u64,
                            operation: "fetch".into(),
                            outcome: idbroker::store::Outcome::Success,
                            users: Some(n + 1),
                            error: None,
                        });
                    })
                    .await
            })
        })
        .collect();
    let mut landed = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => landed += 1,
            Err(StoreError::Contended) => {}
            Err(e) => panic!("{e}"),
        }
    }
    let state = store.org_state("contoso").await.unwrap();
    let n = state.last_sync.unwrap().users.unwrap();
    assert!(landed >= 1);
    assert_eq!(n, landed, "no update lost");
    assert!(state.consent.is_none());
    assert_eq!(
        store.org_state("fabrikam").await.unwrap(),
        idbroker::store::OrgState::default(),
        "organisations are isolated"
    );
}

/// A cleared rate counter counts from 1 again (a successful sign-in clears the
/// identifier's failures); clearing an absent one is harmless.
async fn rate_clear_starts_a_new_window(kv: Backend) {
    let store = Store::new(kv, 10);
    let window = Duration::from_secs(600);
    for n in 1..=3 {
        assert_eq!(store.rate_hit("b", window).await.unwrap(), RateCount(n));
    }
    store.rate_clear("b").await.unwrap();
    assert_eq!(store.rate_count("b").await.unwrap(), RateCount(0));
    assert_eq!(store.rate_hit("b", window).await.unwrap(), RateCount(1));
    store.rate_clear("never-hit").await.unwrap();
    assert_eq!(store.rate_count("never-hit").await.unwrap(), RateCount(0));
}

// ---------------------------------------------------------------- embedded only

/// Writes `n` values of 4 KiB that expire after 50 ms, relaxed like login transactions.
async fn churn(kv: &Backend, round: usize, n: usize) {
    let value = vec![b'x'; 4096];
    for i in 0..n {
        let txn = Txn::new()
            .put(
                format!("v1/churn/{round}/{i}"),
                value.clone(),
                Some(Duration::from_millis(50)),
            )
            .relaxed();
        assert!(kv.commit(txn).await.unwrap());
    }
}

/// Under a steady churn of expiring records (login transactions, codes, sessions) the redb
/// file stops growing: the sweep frees their pages and later writes reuse them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_file_stops_growing_under_steady_churn() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broker.db");
    let kv = Backend::Embedded(EmbeddedKv::open(&path).unwrap());
    let mut sizes = Vec::new();
    for round in 0..20 {
        churn(&kv, round, 100).await;
        tokio::time::sleep(Duration::from_millis(80)).await;
        assert_eq!(kv.sweep().await.unwrap(), 100);
        sizes.push(std::fs::metadata(&path).unwrap().len());
    }
    eprintln!("redb file size after each churn round (100 x 4 KiB): {sizes:?}");
    // Without reuse, 20 rounds of 400 KiB would add 8 MB after the fifth round's size.
    assert!(
        sizes[19] <= sizes[4] + 512 * 1024,
        "the file kept growing: {sizes:?}"
    );
}

/// What expired while the broker was down, or a burst swept since, is given back to the
/// file system when the store is opened (sweep, then redb compaction).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_compacts_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broker.db");
    {
        let kv = Backend::Embedded(EmbeddedKv::open(&path).unwrap());
        put(&kv, "v1/kept", b"value", None).await;
        churn(&kv, 0, 1000).await;
        kv.commit(Txn::new()).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(80)).await;
    let burst = std::fs::metadata(&path).unwrap().len();
    let kv = Backend::Embedded(EmbeddedKv::open(&path).unwrap());
    let reopened = std::fs::metadata(&path).unwrap().len();
    eprintln!("redb file: {burst} bytes after a burst of 1000 x 4 KiB, {reopened} after reopening");
    assert_eq!(
        kv.get("v1/kept").await.unwrap().as_deref(),
        Some(&b"value"[..])
    );
    assert!(
        reopened < burst / 2,
        "not compacted: {burst} -> {reopened} bytes"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_survives_drop_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data").join("nested").join("broker.db");
    let now = now();
    {
        let kv = Backend::Embedded(EmbeddedKv::open(&path).unwrap());
        put(&kv, "v1/durable", b"value", None).await;
        put(
            &kv,
            "v1/durable-ttl",
            b"value",
            Some(Duration::from_secs(600)),
        )
        .await;
        put(&kv, "v1/expiring", b"value", Some(SHORT)).await;
        assert!(
            kv.commit(Txn::new().set_add("v1/set", "m", Some(Duration::from_secs(600))))
                .await
                .unwrap()
        );
        assert_eq!(
            kv.incr("v1/counter", Duration::from_secs(600))
                .await
                .unwrap(),
            1
        );
        let store = Store::new(kv, 10);
        store
            .create_user(&user("u1", "one@contoso.com", Some(entra("oid-1"))))
            .await
            .unwrap()
            .unwrap();
        // Dropping the store (and with it the engine) closes the file.
    }
    tokio::time::sleep(PAST_SHORT).await;

    let kv = Backend::Embedded(EmbeddedKv::open(&path).unwrap());
    assert_eq!(
        kv.get("v1/durable").await.unwrap().as_deref(),
        Some(&b"value"[..])
    );
    assert_eq!(
        kv.get("v1/durable-ttl").await.unwrap().as_deref(),
        Some(&b"value"[..])
    );
    assert_eq!(
        kv.get("v1/expiring").await.unwrap(),
        None,
        "expiry survives reopen"
    );
    assert_eq!(kv.set_members("v1/set").await.unwrap(), vec!["m"]);
    assert_eq!(
        kv.incr("v1/counter", Duration::from_secs(600))
            .await
            .unwrap(),
        2
    );
    let store = Store::new(kv, 10);
    assert_eq!(
        store
            .user_by_link(&entra("oid-1"))
            .await
            .unwrap()
            .map(|u| u.id),
        Some("u1".to_owned())
    );
    assert!(now > 0);
}

/// A relaxed commit (no fsync) is visible at once, and on disk after a flush.
#[tokio::test]
async fn embedded_relaxed_commits_are_visible_at_once_and_durable_after_flush() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broker.db");
    {
        let kv = EmbeddedKv::open(&path).unwrap();
        for i in 0..300 {
            let txn = Txn::new()
                .relaxed()
                .put(format!("v1/relaxed/{i}"), b"v".to_vec(), None);
            assert!(kv.commit(txn).await.unwrap());
            assert_eq!(
                kv.get(&format!("v1/relaxed/{i}")).await.unwrap().as_deref(),
                Some(&b"v"[..])
            );
        }
        kv.flush().await.unwrap();
    }
    let kv = EmbeddedKv::open(&path).unwrap();
    assert_eq!(kv.scan_prefix("v1/relaxed/").await.unwrap().len(), 300);
}

#[cfg(unix)]
#[tokio::test]
async fn embedded_file_is_private_and_its_directory_created() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a").join("b").join("broker.db");
    let policy = idbroker::policy::StorePolicy::Embedded { path: path.clone() };
    let kv = idbroker::server::open_backend(&policy).await.unwrap();
    assert!(matches!(kv, Backend::Embedded(_)));
    kv.ping().await.unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(
        mode & 0o777,
        0o600,
        "the store file is readable by its owner only"
    );
    drop(kv);

    // A file left readable by others is narrowed on open.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let _kv = EmbeddedKv::open(&path).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[tokio::test]
async fn embedded_sweep_removes_expired_entries() {
    let dir = tempfile::tempdir().unwrap();
    let kv = open_embedded(dir.path());
    for i in 0..3 {
        put(&kv, &format!("v1/gone/{i}"), b"x", Some(SHORT)).await;
    }
    put(&kv, "v1/stays", b"x", None).await;
    put(&kv, "v1/stays-ttl", b"x", Some(Duration::from_secs(600))).await;
    assert!(
        kv.commit(
            Txn::new()
                .set_add("v1/sets/gone", "a", Some(SHORT))
                .set_add("v1/sets/gone", "b", Some(SHORT))
                .set_add("v1/sets/kept", "a", None)
        )
        .await
        .unwrap()
    );
    assert_eq!(kv.sweep().await.unwrap(), 0, "nothing has expired yet");
    tokio::time::sleep(PAST_SHORT).await;
    assert_eq!(kv.sweep().await.unwrap(), 4, "three values and one set");
    assert_eq!(kv.sweep().await.unwrap(), 0);
    assert!(kv.get("v1/stays").await.unwrap().is_some());
    assert!(kv.get("v1/stays-ttl").await.unwrap().is_some());
    assert_eq!(kv.set_members("v1/sets/kept").await.unwrap(), vec!["a"]);
    // A set re-created after the sweep starts empty.
    assert!(
        kv.commit(Txn::new().set_add("v1/sets/gone", "c", None))
            .await
            .unwrap()
    );
    assert_eq!(kv.set_members("v1/sets/gone").await.unwrap(), vec!["c"]);
}

#[tokio::test]
async fn embedded_temporary_works_in_memory() {
    let kv = Backend::Embedded(EmbeddedKv::temporary().unwrap());
    put(&kv, "v1/k", b"v", None).await;
    assert_eq!(kv.take("v1/k").await.unwrap().as_deref(), Some(&b"v"[..]));
    assert_eq!(kv.get("v1/k").await.unwrap(), None);
}

// ---------------------------------------------------------------- redis only

/// Waits until `op` succeeds, up to `limit`; returns how long it took.
async fn until_ok<T, F, Fut>(limit: Duration, mut op: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, StoreError>>,
{
    let start = Instant::now();
    loop {
        match op().await {
            Ok(_) => return start.elapsed(),
            Err(e) if start.elapsed() > limit => panic!("still failing after {limit:?}: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_outage_is_unavailable_fast_and_recovers_in_place() {
    let mut server = RedisServer::start();
    let store = Store::new(connect_redis(&server, REDIS_PREFIX).await, 100);
    let mut events = store.kv().subscribe();
    store
        .create_user(&user("u1", "one@contoso.com", None))
        .await
        .unwrap()
        .unwrap();
    assert!(
        store
            .user_by_email("one@contoso.com")
            .await
            .unwrap()
            .is_some()
    );
    assert!(store.cached_user_by_email("one@contoso.com").is_some());
    // Drain the invalidation the creation published.
    while let Ok(Ok(_)) = tokio::time::timeout(Duration::from_millis(300), events.recv()).await {}

    server.stop();

    // Every kind of call fails with Unavailable, quickly, instead of hanging.
    let kv = store.kv();
    for attempt in 0..3 {
        let start = Instant::now();
        let results = [
            kv.get("v1/x").await.map(|_| ()),
            kv.commit(Txn::new().put("v1/x", b"1".to_vec(), None))
                .await
                .map(|_| ()),
            kv.take("v1/x").await.map(|_| ()),
            kv.incr("v1/rate/x", SHORT).await.map(|_| ()),
            kv.set_members("v1/s").await.map(|_| ()),
            kv.scan_prefix("v1/").await.map(|_| ()),
            kv.ping().await,
            kv.publish("user:x").await,
        ];
        let elapsed = start.elapsed();
        eprintln!("redis down: eight calls failed in {elapsed:?} (attempt {attempt})");
        for (i, r) in results.into_iter().enumerate() {
            assert!(
                matches!(r, Err(StoreError::Unavailable(_))),
                "attempt {attempt}, call {i}: expected Unavailable, got {r:?}"
            );
        }
        assert!(
            elapsed < Duration::from_secs(8 * 3),
            "eight calls took {elapsed:?}"
        );
    }
    let start = Instant::now();
    let failed = store.ping().await;
    assert!(matches!(failed, Err(StoreError::Unavailable(_))));
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "a ping with Redis down took {:?}",
        start.elapsed()
    );

    server.restart();

    // The same engine works again, without being reconstructed.
    let took = until_ok(Duration::from_secs(10), || store.ping()).await;
    eprintln!("redis back: the engine answered again after {took:?}");
    assert!(took < Duration::from_secs(10));
    assert!(
        kv.commit(Txn::new().put("v1/after", b"ok".to_vec(), None))
            .await
            .unwrap()
    );
    assert_eq!(
        kv.get("v1/after").await.unwrap().as_deref(),
        Some(&b"ok"[..])
    );

    // The pub/sub task reconnected and told subscribers to drop everything...
    let got = tokio::time::timeout(Duration::from_secs(15), async {
        loop {
            match events.recv().await {
                Ok(m) if m == MSG_ALL => return m,
                Ok(_) => {}
                Err(e) => panic!("the event stream ended: {e}"),
            }
        }
    })
    .await
    .expect("a drop-everything message after the pub/sub reconnect");
    assert_eq!(got, MSG_ALL);
    // ...which the store's user cache obeyed.
    let deadline = Instant::now() + Duration::from_secs(5);
    while store.cached_user_by_email("one@contoso.com").is_some() {
        assert!(Instant::now() < deadline, "the user cache was not dropped");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // And publishing flows end to end again.
    kv.publish("user:after@contoso.com").await.unwrap();
    let got = tokio::time::timeout(Duration::from_secs(5), events.recv())
        .await
        .expect("a message after the reconnect")
        .unwrap();
    assert_eq!(got, "user:after@contoso.com");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_stalled_server_times_out_then_recovers() {
    let server = RedisServer::start();
    let kv = connect_redis(&server, REDIS_PREFIX).await;
    put(&kv, "v1/k", b"v", None).await;

    server.pause();
    let start = Instant::now();
    let stalled = kv.get("v1/k").await;
    let waited = start.elapsed();
    server.resume();
    eprintln!("redis stalled: get failed after {waited:?}");
    assert!(
        matches!(stalled, Err(StoreError::Unavailable(_))),
        "expected Unavailable, got {stalled:?}"
    );
    assert!(
        waited >= Duration::from_millis(1500) && waited < Duration::from_secs(4),
        "a call to a frozen Redis returned after {waited:?}, not after the 2 s timeout"
    );

    until_ok(Duration::from_secs(10), || kv.ping()).await;
    assert_eq!(kv.get("v1/k").await.unwrap().as_deref(), Some(&b"v"[..]));
}

#[tokio::test]
async fn redis_connect_to_nothing_fails_fast() {
    let mut server = RedisServer::start();
    let url = server.url();
    server.stop();
    let start = Instant::now();
    let result = RedisKv::connect(&url, REDIS_PREFIX).await;
    assert!(matches!(result, Err(StoreError::Unavailable(_))));
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "took {:?}",
        start.elapsed()
    );
    // A URL that does not parse is refused without echoing it (it may hold a password).
    match RedisKv::connect("redis://:s3cret@[bad", REDIS_PREFIX).await {
        Err(StoreError::Unavailable(msg)) => assert!(!msg.contains("s3cret"), "{msg}"),
        Err(other) => panic!("expected Unavailable, got {other:?}"),
        Ok(_) => panic!("a malformed URL connected"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_prefixes_isolate_deployments() {
    let server = RedisServer::start();
    let a = connect_redis(&server, "idb-a:").await;
    let b = connect_redis(&server, "idb-b:").await;
    put(&a, "v1/k", b"a", None).await;
    assert_eq!(b.get("v1/k").await.unwrap(), None);
    assert!(b.scan_prefix("v1/").await.unwrap().is_empty());
    put(&b, "v1/k", b"b", None).await;
    assert_eq!(a.get("v1/k").await.unwrap().as_deref(), Some(&b"a"[..]));
    // Events are per prefix too.
    let mut rx_b = b.subscribe();
    a.publish("from-a").await.unwrap();
    b.publish("from-b").await.unwrap();
    let got = tokio::time::timeout(Duration::from_secs(5), rx_b.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, "from-b");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_replicas_invalidate_each_others_user_cache() {
    let server = RedisServer::start();
    let policy = idbroker::policy::StorePolicy::Redis {
        url: server.url().into(),
        topology: idbroker::policy::RedisTopology::Single,
        wait: None,
    };
    let one = Store::new(idbroker::server::open_backend(&policy).await.unwrap(), 100);
    let two = Store::new(idbroker::server::open_backend(&policy).await.unwrap(), 100);
    one.create_user(&user("u1", "one@contoso.com", None))
        .await
        .unwrap()
        .unwrap();
    // Replica two caches the user, then replica one disables it.
    assert!(
        !two.user_by_email("one@contoso.com")
            .await
            .unwrap()
            .unwrap()
            .disabled
    );
    one.update_user("u1", |u| u.disabled = true)
        .await
        .unwrap()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let seen = two.user_by_email("one@contoso.com").await.unwrap().unwrap();
        if seen.disabled {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "replica two still serves the stale user"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn runtime_org(id: &str, domain: &str, created_at: u64) -> idbroker::store::RuntimeOrganization {
    idbroker::store::RuntimeOrganization {
        spec: idbroker::store::OrganizationSpec {
            id: id.into(),
            domains: vec![domain.into()],
            upstream: None,
            tenant_id: None,
            sso: None,
            password_fallback: None,
            jit: None,
            sync: None,
            groups: None,
        },
        created_at,
        created_by: "ops@example.com".into(),
        updated_at: created_at,
        updated_by: "ops@example.com".into(),
    }
}

async fn runtime_organizations_are_created_once_replaced_and_deleted(kv: Backend) {
    use idbroker::store::OrgWrite;
    let store = Store::new(kv, 100);
    let mut changes = store.watch_runtime_organizations();
    assert!(store.runtime_organizations().await.unwrap().is_empty());
    // Two creations of one id racing: exactly one lands.
    let racers: Vec<_> = (0..RACERS)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .create_runtime_organization(&runtime_org("fabrikam", &format!("f{i}.com"), 1))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut done = 0;
    for r in racers {
        if r.await.unwrap() == OrgWrite::Done {
            done += 1;
        }
    }
    assert_eq!(done, 1);
    assert!(changes.has_changed().unwrap(), "a change is announced");
    changes.mark_unchanged();
    store
        .create_runtime_organization(&runtime_org("adatum", "adatum.com", 2))
        .await
        .unwrap();
    // Listed in the order of their ids.
    let ids: Vec<String> = store
        .runtime_organizations()
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.spec.id)
        .collect();
    assert_eq!(ids, ["adatum", "fabrikam"]);
    // Replaced if it exists, not created by a replacement.
    let mut next = runtime_org("fabrikam", "fabrikam.com", 1);
    next.updated_at = 9;
    assert_eq!(
        store.replace_runtime_organization(&next).await.unwrap(),
        OrgWrite::Done
    );
    assert_eq!(
        store
            .replace_runtime_organization(&runtime_org("nobody", "n.com", 1))
            .await
            .unwrap(),
        OrgWrite::Conflict
    );
    let listed = store.runtime_organizations().await.unwrap();
    assert_eq!(listed[1], next);
    // Deleted with its connection state; a second deletion finds nothing.
    store
        .update_org_state("fabrikam", |s| s.last_sync = None)
        .await
        .unwrap();
    assert_eq!(
        store.delete_runtime_organization("fabrikam").await.unwrap(),
        OrgWrite::Done
    );
    assert_eq!(
        store.delete_runtime_organization("fabrikam").await.unwrap(),
        OrgWrite::Conflict
    );
    assert_eq!(store.runtime_organizations().await.unwrap().len(), 1);
    assert!(changes.has_changed().unwrap());
}

async fn granted_org_admins_keep_both_indexes(kv: Backend) {
    let store = Store::new(kv, 100);
    store
        .set_org_admin("contoso", "a@contoso.com", true)
        .await
        .unwrap();
    store
        .set_org_admin("contoso", "b@contoso.com", true)
        .await
        .unwrap();
    store
        .set_org_admin("fabrikam", "a@contoso.com", true)
        .await
        .unwrap();
    // Granting twice is one grant.
    store
        .set_org_admin("contoso", "a@contoso.com", true)
        .await
        .unwrap();
    assert_eq!(
        store.granted_org_admins("contoso").await.unwrap(),
        ["a@contoso.com", "b@contoso.com"]
    );
    let mut orgs = store.granted_orgs_of("a@contoso.com").await.unwrap();
    orgs.sort();
    assert_eq!(orgs, ["contoso", "fabrikam"]);
    store
        .set_org_admin("contoso", "a@contoso.com", false)
        .await
        .unwrap();
    assert_eq!(
        store.granted_org_admins("contoso").await.unwrap(),
        ["b@contoso.com"]
    );
    assert_eq!(
        store.granted_orgs_of("a@contoso.com").await.unwrap(),
        ["fabrikam"]
    );
    assert!(
        store
            .granted_orgs_of("nobody@x.com")
            .await
            .unwrap()
            .is_empty()
    );
}

async fn the_store_records_its_format_and_refuses_a_newer_one(kv: Backend) {
    use idbroker::store::format::{FORMAT_VERSION, check_format};
    assert_eq!(check_format(&kv).await.unwrap(), FORMAT_VERSION);
    assert_eq!(
        kv.get("v1/meta/format").await.unwrap().as_deref(),
        Some(FORMAT_VERSION.to_string().as_bytes())
    );
    assert_eq!(check_format(&kv).await.unwrap(), FORMAT_VERSION);
    let newer = (FORMAT_VERSION + 1).to_string();
    put(&kv, "v1/meta/format", newer.as_bytes(), None).await;
    let refused = check_format(&kv).await.unwrap_err().to_string();
    assert!(refused.contains("written by a newer idbroker"), "{refused}");
    // Refusing changed nothing.
    assert_eq!(
        kv.get("v1/meta/format").await.unwrap().as_deref(),
        Some(newer.as_bytes())
    );
    put(&kv, "v1/meta/format", b"not a number", None).await;
    assert!(matches!(
        check_format(&kv).await,
        Err(idbroker::store::StoreError::Corrupt { .. })
    ));
}

async fn dump_lists_every_live_entry_and_an_export_imports_into_either_engine(kv: Backend) {
    use idbroker::store::{DumpData, Store};
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    put(&kv, "a/forever", b"1", None).await;
    put(&kv, "b/for-a-day", b"2", Some(Duration::from_secs(86_400))).await;
    put(&kv, "c/gone", b"3", Some(Duration::from_millis(1))).await;
    kv.commit(
        Txn::new()
            .set_add("d/set", "y", Some(Duration::from_secs(3600)))
            .set_add("d/set", "x", Some(Duration::from_secs(3600))),
    )
    .await
    .unwrap();
    kv.incr("e/counter", Duration::from_secs(60)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    let dump = kv.dump().await.unwrap();
    let keys: Vec<&str> = dump.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(keys, ["a/forever", "b/for-a-day", "d/set", "e/counter"]);
    assert_eq!(dump[0].expires_at_ms, None);
    let day = dump[1].expires_at_ms.unwrap();
    assert!(day > ms + 86_000_000 && day < ms + 86_500_000, "{day}");
    assert_eq!(dump[2].data, DumpData::Set(vec!["x".into(), "y".into()]));
    assert!(dump[2].expires_at_ms.is_some());
    assert_eq!(dump[3].data, DumpData::Value(b"1".to_vec()));

    // Exported, then imported into a fresh store of each engine: the same entries.
    let text = Store::new(kv, 10).export(1).await.unwrap();
    // The targets' folders and server live until the end of the test.
    let (dir, fresh_dir, server) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        RedisServer::start(),
    );
    let targets = [
        open_embedded(dir.path()),
        connect_redis(&server, REDIS_PREFIX).await,
    ];
    for (i, target) in targets.into_iter().enumerate() {
        let store = Store::new(target, 10);
        let done = store.import(&text, ms).await.unwrap();
        assert_eq!(done.entries, 4);
        let again = store.kv().dump().await.unwrap();
        let keys: Vec<&str> = again.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["a/forever", "b/for-a-day", "d/set", "e/counter"]);
        assert_eq!(again[2].data, DumpData::Set(vec!["x".into(), "y".into()]));
        // Not into a store that holds anything.
        assert!(store.import(&text, ms).await.is_err());
        // A broken line refuses the whole import before anything is written.
        let broken = format!("{}{{\"key\": 1}}\n", text);
        let fresh = Store::new(open_embedded(&fresh_dir.path().join(i.to_string())), 10);
        let refused = fresh.import(&broken, ms).await.unwrap_err().to_string();
        assert!(refused.contains("line 6"), "{refused}");
        assert!(fresh.kv().dump().await.unwrap().is_empty());
    }
}

// ---------------------------------------------------------------- passkeys

fn passkey(id: &str) -> idbroker::store::StoredPasskey {
    idbroker::store::StoredPasskey {
        id: id.into(),
        name: String::new(),
        created_at: 1_000,
        last_used_at: None,
        credential: serde_json::json!({"cred": {"counter": 0}}),
    }
}

async fn passkeys_and_their_owner_index_change_together(kv: Backend) {
    use idbroker::store::PasskeyChange;
    let store = Store::new(kv, 100);
    assert!(store.passkeys_of("u1").await.unwrap().keys.is_empty());
    assert_eq!(store.passkey_owner("AAAA").await.unwrap(), None);
    let added = store.add_passkey("u1", "handle-1", &passkey("AAAA")).await;
    assert_eq!(added.unwrap(), PasskeyChange::Done);
    let added = store.add_passkey("u1", "handle-2", &passkey("BBBB")).await;
    assert_eq!(added.unwrap(), PasskeyChange::Done);
    let doc = store.passkeys_of("u1").await.unwrap();
    // The user handle is made once, at the first registration.
    assert_eq!(doc.handle, "handle-1");
    assert_eq!(
        doc.keys.iter().map(|k| k.id.as_str()).collect::<Vec<_>>(),
        ["AAAA", "BBBB"]
    );
    assert_eq!(
        store.passkey_owner("AAAA").await.unwrap().as_deref(),
        Some("u1")
    );
    // A credential id belongs to one user: another user cannot register it, nor can the
    // same user twice.
    let taken = store
        .add_passkey("u2", "h", &passkey("AAAA"))
        .await
        .unwrap();
    assert_eq!(taken, PasskeyChange::Taken);
    let twice = store
        .add_passkey("u1", "h", &passkey("AAAA"))
        .await
        .unwrap();
    assert_eq!(twice, PasskeyChange::Taken);
    assert!(store.passkeys_of("u2").await.unwrap().keys.is_empty());

    // An update changes the one key.
    let updated = store
        .update_passkey("u1", "BBBB", |k| k.last_used_at = Some(2_000))
        .await
        .unwrap();
    assert_eq!(updated, PasskeyChange::Done);
    let missing = store.update_passkey("u1", "CCCC", |_| {}).await.unwrap();
    assert_eq!(missing, PasskeyChange::NotFound);
    let doc = store.passkeys_of("u1").await.unwrap();
    assert_eq!(doc.keys[1].last_used_at, Some(2_000));
    assert_eq!(doc.keys[0].last_used_at, None);

    // Removal takes the key and its index; removing it again, or another user's, finds none.
    assert_eq!(
        store.remove_passkey("u1", "AAAA").await.unwrap(),
        PasskeyChange::Done
    );
    assert_eq!(store.passkey_owner("AAAA").await.unwrap(), None);
    assert_eq!(
        store.remove_passkey("u1", "AAAA").await.unwrap(),
        PasskeyChange::NotFound
    );
    assert_eq!(
        store.remove_passkey("u2", "BBBB").await.unwrap(),
        PasskeyChange::NotFound
    );
    assert_eq!(
        store.passkey_owner("BBBB").await.unwrap().as_deref(),
        Some("u1")
    );
    // Once removed, the id may be registered again.
    let again = store
        .add_passkey("u2", "h2", &passkey("AAAA"))
        .await
        .unwrap();
    assert_eq!(again, PasskeyChange::Done);
    assert_eq!(
        store.passkey_owner("AAAA").await.unwrap().as_deref(),
        Some("u2")
    );
}

async fn a_credential_id_is_registered_once_under_a_race(kv: Backend) {
    use idbroker::store::PasskeyChange;
    let store = Arc::new(Store::new(kv, 100));
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let user = format!("u{i}");
                let change = store
                    .add_passkey(&user, "h", &passkey("RACE"))
                    .await
                    .unwrap();
                (user, change)
            })
        })
        .collect();
    let mut winners = Vec::new();
    for t in tasks {
        let (user, change) = t.await.unwrap();
        if change == PasskeyChange::Done {
            winners.push(user);
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    let owner = store.passkey_owner("RACE").await.unwrap();
    assert_eq!(owner.as_deref(), Some(winners[0].as_str()));
    for i in 0..8 {
        let keys = store.passkeys_of(&format!("u{i}")).await.unwrap().keys;
        assert_eq!(keys.len(), usize::from(format!("u{i}") == winners[0]));
    }
}

/// A user's one-time-code enrolment: set up once, each time step and each recovery code
/// accepted once (also under concurrency), removed once.
async fn totp_enrolment_steps_and_recovery_codes(kv: Backend) {
    use idbroker::store::{Spent, TotpFactor};
    let store = Store::new(kv, 100);
    assert!(store.totp_factor("u1").await.unwrap().is_none());
    assert_eq!(
        store.spend_totp_step("u1", 10).await.unwrap(),
        Spent::NotEnrolled
    );
    let factor = TotpFactor {
        secret: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ".into(),
        last_step: Some(10),
        recovery: vec!["d1".into(), "d2".into()],
        created_at: 1_750_000_000,
    };
    assert!(store.enrol_totp("u1", &factor).await.unwrap());
    let other = TotpFactor {
        secret: "OTHER".into(),
        ..factor.clone()
    };
    assert!(!store.enrol_totp("u1", &other).await.unwrap(), "once");
    assert_eq!(store.totp_factor("u1").await.unwrap(), Some(factor.clone()));

    // Steps: only a later one than every step accepted before.
    assert_eq!(store.spend_totp_step("u1", 10).await.unwrap(), Spent::Used);
    assert_eq!(store.spend_totp_step("u1", 9).await.unwrap(), Spent::Used);
    let racers: Vec<_> = (0..8)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { store.spend_totp_step("u1", 11).await.unwrap() })
        })
        .collect();
    let mut accepted = 0;
    for r in racers {
        if r.await.unwrap() == Spent::Accepted {
            accepted += 1;
        }
    }
    assert_eq!(accepted, 1, "one code, one acceptance, whoever races");
    assert_eq!(
        store.totp_factor("u1").await.unwrap().unwrap().last_step,
        Some(11)
    );

    // Recovery codes: each once.
    let racers: Vec<_> = (0..8)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { store.spend_recovery_code("u1", "d2").await.unwrap() })
        })
        .collect();
    let mut accepted = 0;
    for r in racers {
        let (spent, left) = r.await.unwrap();
        if spent == Spent::Accepted {
            accepted += 1;
            assert_eq!(left, 1);
        }
    }
    assert_eq!(accepted, 1);
    assert_eq!(
        store.spend_recovery_code("u1", "nope").await.unwrap(),
        (Spent::Used, 1)
    );
    assert_eq!(
        store.totp_factor("u1").await.unwrap().unwrap().recovery,
        vec!["d1".to_owned()]
    );

    // Removal: once; then nothing is enrolled.
    assert!(store.remove_totp("u1").await.unwrap());
    assert!(!store.remove_totp("u1").await.unwrap());
    assert!(store.totp_factor("u1").await.unwrap().is_none());
    assert_eq!(
        store.spend_recovery_code("u1", "d1").await.unwrap(),
        (Spent::NotEnrolled, 0)
    );
}
