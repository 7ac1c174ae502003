//! The RFC 8693 token-exchange grant: verification of an RS256 Entra ID token (signature
//! against the tenant's cached JWKS, issuer, tenant, audience, time) plus issuance of the
//! broker's tokens, in process (`Broker::token`, no HTTP), against the fake Entra of the
//! integration tests (it serves discovery and keys; nothing of it is on the measured path).
//! A subject token is exchanged once (replay protection), so each iteration gets a fresh one,
//! minted outside the measurement; the measurement includes remembering its `uti`.
//!
//! `cargo bench --bench exchange`.
// The test helpers are shared with the integration tests; their self-tests compile out here.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    dead_code,
    unused_imports
)]

#[path = "../tests/it/fake_entra/mod.rs"]
mod fake_entra;
#[path = "../tests/it/support/mod.rs"]
mod support;

use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use idbroker::clock::Clock;
use idbroker::service::token::TokenParams;

use fake_entra::{FakeEntra, NewUser};
use support::broker::TestBroker;

const APP: &str = "0b7c4d1e-5f60-4a7b-8c9d-0e1f2a3b4c5d";
const GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ID_TOKEN: &str = "urn:ietf:params:oauth:token-type:id_token";

fn exchange(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (fake, tb, tid, oid) = rt.block_on(async {
        let fake = FakeEntra::start().await;
        let tid = fake.add_tenant("contoso.com");
        let ada = fake
            .tenant(&tid)
            .add_user(NewUser::new("ada@contoso.com", "Ada Lovelace"));
        let clients = "  - id: agent\n    native: true\n    redirect_uris: [\"http://127.0.0.1/callback\"]\n    grants: [token_exchange, refresh_token]\n    scopes: [openid, email, profile, offline_access]\n  - id: agent-lite\n    native: true\n    redirect_uris: [\"http://127.0.0.1/callback\"]\n    grants: [token_exchange]\n    scopes: [openid, email]\n";
        let extra = format!(
            "upstreams:\n  - id: entra\n    kind: entra\n    client_id: {APP}\n    client_secret_env: ENTRA_SECRET\n    authority: {}\n    graph: {}\norganizations:\n  - id: contoso\n    domains: [contoso.com]\n    upstream: entra\n    tenant_id: {tid}\n    sso: all_synced_users\n",
            fake.authority(),
            fake.graph()
        );
        let users = format!(
            "users:\n  - email: ada@contoso.com\n    name: Ada Lovelace\n    organization: contoso\n    link: {{tid: {tid}, oid: {}}}\n",
            ada.id
        );
        let tb = TestBroker::start_with_clients(clients, &extra, Some(&users), Clock::System).await;
        (fake, tb, tid, ada.id)
    });
    // An hour-long token, as Entra issues them; a fresh one (its own `uti`) per exchange.
    let params_for = |scope: &str| TokenParams {
        grant_type: Some(GRANT.into()),
        subject_token: Some(fake.silent_id_token(&tid, &oid, APP)),
        subject_token_type: Some(ID_TOKEN.into()),
        scope: Some(scope.into()),
        ..Default::default()
    };
    let policy = tb.broker.policy();
    let mut group = c.benchmark_group("token_exchange");
    group
        .sample_size(50)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    for (client, label) in [
        ("agent-lite", "rs256_id_token_to_broker_tokens"),
        ("agent", "with_refresh_family"),
    ] {
        let client = policy.client(client).unwrap().clone();
        let scope = if label == "with_refresh_family" {
            "openid email offline_access"
        } else {
            "openid email"
        };
        // Warms the provider cache (discovery and JWKS) outside the measurement.
        rt.block_on(tb.broker.tokens().token(client.clone(), &params_for(scope)))
            .unwrap();
        group.bench_function(label, |b| {
            b.to_async(&rt).iter_batched(
                || params_for(scope),
                |params| {
                    let client = client.clone();
                    let broker = tb.broker.clone();
                    async move { broker.tokens().token(client, &params).await.unwrap() }
                },
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, exchange);
criterion_main!(benches);
