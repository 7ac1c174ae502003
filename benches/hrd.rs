//! Home realm discovery: the cost of deciding how an identifier signs in, which the login
//! page pays for every identifier it receives.
//!
//! The policy has 1000 organisations (one Entra upstream, a tenant each, SSO modes mixed
//! `all_synced_users` / `per_user` / `off`, some `jit`); for the hot path the directory has
//! 1 000 000 users, every one in the warm in-process cache. The engine behind the cache is
//! the in-memory redb backend: a warm lookup never reaches it, and filling a million users
//! through fsyncing commits would take most of an hour.
//!
//! Run with `cargo bench --bench hrd`. Without `--bench` (under `cargo test --all-targets`)
//! the directory shrinks to 2 000 users.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use futures::StreamExt as _;
use idbroker::hrd::{self, LoginMethod};
use idbroker::policy::{Policy, runtime};
use idbroker::store::embedded::EmbeddedKv;
use idbroker::store::{
    Backend, OrganizationSpec, RuntimeOrganization, Store, UpstreamLink, User, UserSource,
};

/// Organisations in the policy.
const ORGS: usize = 1000;
/// Users in the directory for the hot-path case.
const USERS: usize = 1_000_000;
/// ... in a smoke run.
const SMOKE_USERS: usize = 2_000;

fn users() -> usize {
    if std::env::args().any(|a| a == "--bench") {
        USERS
    } else {
        SMOKE_USERS
    }
}
/// Concurrent `create_user` calls while filling the directory.
const INSERT_CONCURRENCY: usize = 64;
/// A fixed "now" for the records (the value does not matter to the decision).
const NOW: u64 = 1_750_000_000;
/// Any argon2id PHC string: `decide` only looks at whether a hash is present.
const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$JD5gwHNA6v5uM0pXTWH1VA$PfLISgYU0DUOPclkA4UmNzE2bwjqrgUHEDOXDY4po1A";

/// The organisation's SSO mode: a third each of `all_synced_users`, `per_user` and `off`.
fn sso_mode(org: usize) -> &'static str {
    ["all_synced_users", "per_user", "off"][org % 3]
}

/// Just-in-time creation on every other organisation that has SSO (never with `sso: off`).
fn jit(org: usize) -> bool {
    org % 3 != 2 && org % 2 == 1
}

/// A GUID unique to `n` (tenant ids and object ids).
fn guid(prefix: u32, n: usize) -> String {
    format!("{prefix:08x}-0000-4000-8000-{n:012x}")
}

fn tenant(org: usize) -> String {
    guid(0x7e9a_0000, org)
}

/// The policy file: one public client, one Entra upstream, `ORGS` organisations.
fn policy_yaml(dir: &Path) -> String {
    let dir = dir.display();
    let mut yaml = format!(
        r#"issuer: http://127.0.0.1:8080
listen: 127.0.0.1:0
keys: {{dir: {dir}/keys, algorithm: ES256}}
store: {{kind: embedded, path: {dir}/broker.db}}
clients:
  - id: spa
    redirect_uris: [http://127.0.0.1:9000/callback]
    grants: [authorization_code, refresh_token]
    scopes: [openid, email, profile, offline_access]
upstreams:
  - id: entra
    kind: entra
    client_id: 11111111-2222-3333-4444-555555555555
    client_secret_env: ENTRA_SECRET
organizations:
"#
    );
    for i in 0..ORGS {
        yaml.push_str(&format!(
            "  - {{id: org{i}, domains: [org{i}.example], upstream: entra, tenant_id: {tid}, \
             sso: {sso}, password_fallback: {fallback}, jit: {jit}}}\n",
            tid = tenant(i),
            sso = sso_mode(i),
            fallback = i.is_multiple_of(4),
            jit = jit(i),
        ));
    }
    yaml
}

fn load_policy(dir: &Path) -> Policy {
    let yaml = policy_yaml(dir);
    let env = |name: &str| (name == "ENTRA_SECRET").then(|| "entra-app-secret-value".to_owned());
    idbroker::policy::load_str_with_env(&dir.join("broker.yaml"), &yaml, &env)
        .unwrap_or_else(|e| panic!("bench policy invalid:\n{e}"))
}

/// Directory user `n`: a member of organisation `n % ORGS`, synced from its tenant, with a
/// password when the organisation has no SSO.
fn user(n: usize) -> User {
    let org = n % ORGS;
    User {
        id: format!("u{n:06}"),
        email: format!("user{n}@org{org}.example"),
        name: format!("User {n}"),
        organization: Some(format!("org{org}")),
        password_hash: (sso_mode(org) == "off").then(|| HASH.to_owned()),
        link: Some(UpstreamLink::Entra {
            tid: tenant(org),
            oid: guid(0x0b1e_0000, n),
        }),
        sso: n.is_multiple_of(2),
        disabled: false,
        source: UserSource::Import,
        created_at: NOW,
        updated_at: NOW,
        tokens_valid_after: 0,
        policy_password_hash: None,
        email_verified: true,
        profile: Default::default(),
    }
}

/// A local password user of no organisation.
fn password_user() -> User {
    User {
        id: "u-local".into(),
        email: "local@elsewhere.test".into(),
        name: "Local".into(),
        organization: None,
        password_hash: Some(HASH.to_owned()),
        link: None,
        sso: false,
        disabled: false,
        source: UserSource::Admin,
        created_at: NOW,
        updated_at: NOW,
        tokens_valid_after: 0,
        policy_password_hash: None,
        email_verified: true,
        profile: Default::default(),
    }
}

/// The SSO user every case looks up: organisation 600 is `all_synced_users`.
const SSO_USER: usize = 99_600;
const _: () = assert!((SSO_USER % ORGS).is_multiple_of(3) && SSO_USER < USERS);
/// The SSO user of the hot path in a smoke run (same organisation as [`SSO_USER`]).
const SMOKE_SSO_USER: usize = 1_600;
/// An unknown address at organisation 601 (`per_user`, `jit: true`).
const JIT_IDENTIFIER: &str = "newcomer@org601.example";
/// An unknown address of no organisation.
const NO_ORG_IDENTIFIER: &str = "nobody@elsewhere.test";
/// What a user types: surrounding spaces and capitals.
const TYPED: &str = "  User99600@Org600.Example ";

fn decide(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let policy = load_policy(dir.path());
    assert_eq!(policy.organizations.len(), ORGS);

    let sso_user = user(SSO_USER);
    let local = password_user();
    // Each case must take the branch it is named after.
    assert!(matches!(
        hrd::decide(&policy, &sso_user.email, Some(&sso_user)),
        LoginMethod::Upstream(r) if !r.just_in_time
    ));
    assert!(matches!(
        hrd::decide(&policy, &local.email, Some(&local)),
        LoginMethod::Password
    ));
    assert!(matches!(
        hrd::decide(&policy, JIT_IDENTIFIER, None),
        LoginMethod::Upstream(r) if r.just_in_time
    ));
    assert!(matches!(
        hrd::decide(&policy, NO_ORG_IDENTIFIER, None),
        LoginMethod::NoMethod
    ));

    let mut group = c.benchmark_group("hrd_1000_orgs");
    // Linked user of an all_synced_users org: org by id, upstream by id, tenant check.
    group.bench_function("decide/sso_user", |b| {
        b.iter(|| {
            hrd::decide(
                &policy,
                black_box(&sso_user.email),
                black_box(Some(&sso_user)),
            )
        })
    });
    // Local password user: no organisation, so no policy lookup at all.
    group.bench_function("decide/password_user", |b| {
        b.iter(|| hrd::decide(&policy, black_box(&local.email), black_box(Some(&local))))
    });
    // Unknown identifier of a jit organisation: domain index lookup, then the upstream.
    group.bench_function("decide/unknown_jit_domain", |b| {
        b.iter(|| hrd::decide(&policy, black_box(JIT_IDENTIFIER), None))
    });
    // Unknown identifier of no organisation: one missed domain lookup.
    group.bench_function("decide/unknown_no_org", |b| {
        b.iter(|| hrd::decide(&policy, black_box(NO_ORG_IDENTIFIER), None))
    });
    // What the user typed, trimmed and lower-cased (allocates: mixed case).
    group.bench_function("normalize/mixed_case", |b| {
        b.iter(|| hrd::normalize(black_box(TYPED)))
    });
    group.finish();
}

/// Fills the directory with `n` users through the repository's own `create_user`, then
/// looks each one up once so the whole directory is in the cache.
async fn fill(store: &Store, n: usize) {
    let started = Instant::now();
    futures::stream::iter(0..n)
        .map(|n| async move {
            let created = store.create_user(&user(n)).await.unwrap();
            assert!(created.is_ok(), "user {n}: {created:?}");
        })
        .buffer_unordered(INSERT_CONCURRENCY)
        .collect::<()>()
        .await;
    eprintln!(
        "hrd: created {n} users in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    futures::stream::iter(0..n)
        .map(|i| async move {
            let email = user(i).email;
            assert!(store.user_by_email(&email).await.unwrap().is_some());
        })
        .buffer_unordered(INSERT_CONCURRENCY)
        .collect::<()>()
        .await;
    eprintln!(
        "hrd: warmed the cache with {n} users in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

fn hot_path(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let policy = load_policy(dir.path());
    let n = users();
    let sso_user = if n == USERS { SSO_USER } else { SMOKE_SSO_USER };
    let typed = if n == USERS {
        TYPED.to_owned()
    } else {
        format!("  User{SMOKE_SSO_USER}@Org600.Example ")
    };
    let typed = typed.as_str();
    let store: Arc<Store> = rt.block_on(async {
        let kv = EmbeddedKv::temporary().unwrap();
        // Room for the whole directory, so a warm cache holds every user.
        let store = Store::new(
            Backend::Embedded(kv),
            (n as u64).max(idbroker::server::USER_CACHE_CAPACITY) + 1,
        );
        fill(&store, n).await;
        let email = hrd::normalize(typed);
        assert_eq!(
            store.user_by_email(&email).await.unwrap().as_deref(),
            Some(&user(sso_user))
        );
        store
    });
    let email = hrd::normalize(typed).into_owned();
    let expected = rt.block_on(store.user_by_email(&email)).unwrap().unwrap();
    assert!(matches!(
        hrd::decide(&policy, &email, Some(&expected)),
        LoginMethod::Upstream(_)
    ));

    let mut group = c.benchmark_group(format!("hrd_hot_path_{n}_users"));
    // The login page's whole decision: normalise, `user_by_email` (a cache hit), decide.
    group.bench_function("normalize+user_by_email+decide", |b| {
        b.to_async(&rt).iter(|| async {
            let id = hrd::normalize(black_box(typed));
            let user = store.user_by_email(&id).await.unwrap();
            matches!(
                hrd::decide(&policy, &id, user.as_deref()),
                LoginMethod::Upstream(_)
            )
        })
    });
    // The same through the synchronous `cached_user_by_email`, without the future.
    group.bench_function("normalize+cached_user_by_email+decide", |b| {
        b.iter(|| {
            let id = hrd::normalize(black_box(typed));
            let user = store.cached_user_by_email(&id).flatten();
            matches!(
                hrd::decide(&policy, &id, user.as_deref()),
                LoginMethod::Upstream(_)
            )
        })
    });
    // Users spread over the whole directory, a different one each time (no single hot entry).
    let spread: Vec<String> = (0..4096).map(|i| user((i * 7919 + 13) % n).email).collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    group.bench_function("user_by_email+decide/spread_over_directory", |b| {
        b.to_async(&rt).iter(|| async {
            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % spread.len();
            let id = &spread[i];
            let user = store.user_by_email(id).await.unwrap();
            black_box(hrd::decide(&policy, id, user.as_deref()));
        })
    });
    group.finish();
}

/// Organisations created at run time for [`runtime_orgs`] (issue 13).
const RUNTIME_ORGS: usize = 10_000;

fn runtime_org(i: usize) -> RuntimeOrganization {
    RuntimeOrganization {
        spec: OrganizationSpec {
            id: format!("rorg{i}"),
            domains: vec![format!("rorg{i}.example")],
            upstream: Some("entra".into()),
            tenant_id: Some(guid(0x5e5e_0000, i)),
            sso: Some(sso_mode(i).into()),
            password_fallback: Some(i.is_multiple_of(4)),
            jit: Some(jit(i)),
            sync: None,
            groups: None,
        },
        created_at: NOW + i as u64,
        created_by: "bench".into(),
        updated_at: NOW + i as u64,
        updated_by: "bench".into(),
    }
}

/// The routing decision with 10,000 organisations created at run time merged into the 1,000
/// of the file: the same indexes, so the same cost. Also what merging them all costs (each
/// runtime organisation checked by the file's rules), which a change of the runtime
/// organisations or a reload of the file pays once, on the blocking pool.
fn runtime_orgs(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let file = load_policy(dir.path());
    let runtime: Vec<RuntimeOrganization> = (0..RUNTIME_ORGS).map(runtime_org).collect();
    let merged = runtime::merge(&file, &runtime);
    assert!(
        merged.out_of_force.is_empty(),
        "{:?}",
        merged.out_of_force.first_key_value()
    );
    let policy = merged.policy;
    assert_eq!(policy.organizations.len(), ORGS + RUNTIME_ORGS);

    // A linked user of runtime organisation 6000 (all_synced_users), and an unknown address
    // of runtime organisation 6001 (per_user, jit).
    let mut sso_user = user(0);
    sso_user.email = "user0@rorg6000.example".into();
    sso_user.organization = Some("rorg6000".into());
    sso_user.link = Some(UpstreamLink::Entra {
        tid: guid(0x5e5e_0000, 6000),
        oid: guid(0x0b1e_0000, 0),
    });
    assert!(matches!(
        hrd::decide(&policy, &sso_user.email, Some(&sso_user)),
        LoginMethod::Upstream(r) if !r.just_in_time && r.organization.id == "rorg6000"
    ));
    let jit_identifier = "newcomer@rorg6001.example";
    assert!(matches!(
        hrd::decide(&policy, jit_identifier, None),
        LoginMethod::Upstream(r) if r.just_in_time
    ));

    let mut group = c.benchmark_group("hrd_1000_file_10000_runtime_orgs");
    group.bench_function("decide/sso_user_of_a_runtime_org", |b| {
        b.iter(|| {
            hrd::decide(
                &policy,
                black_box(&sso_user.email),
                black_box(Some(&sso_user)),
            )
        })
    });
    group.bench_function("decide/unknown_jit_domain_of_a_runtime_org", |b| {
        b.iter(|| hrd::decide(&policy, black_box(jit_identifier), None))
    });
    group.sample_size(10);
    group.bench_function("merge/10000_runtime_orgs", |b| {
        b.iter(|| runtime::merge(black_box(&file), black_box(&runtime)))
    });
    group.finish();
}

criterion_group!(benches, decide, runtime_orgs, hot_path);
criterion_main!(benches);
