//! Token issuance with groups and roles (issue 14): the ID + access token pair a code
//! redemption mints, plain, and for a user in 250 upstream groups with a client that maps 20
//! roles. Each case builds the membership, the roles and the claims, then signs both tokens
//! with the broker's key ring (ES256), as `mint_user_tokens` does; the store read of the
//! user's groups is not in it (an embedded read, see `benches/store.rs`).
//!
//! - `plain`: no groups or roles asked for.
//! - `250_groups_default_limit`: the groups and roles scopes, the default `groups_limit`
//!   (150): the tokens carry the roles and `groups_overflow` (the overflow rule).
//! - `250_groups_in_tokens`: the same with `groups_limit: 300`: all 250 object ids in both
//!   tokens (about 10 KB each).
//!
//! Run with `cargo bench --bench claims`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use idbroker::directory::{Authentication, UpstreamGroup, User, UserGroups, UserSource};
use idbroker::keys::KeyRing;
use idbroker::op::claims::{self, AuthContext, Grant, TYP_ACCESS_TOKEN, TYP_ID_TOKEN};
use idbroker::op::groups::{self, Carrier};
use idbroker::policy::{
    Client, GroupNames, KeysPolicy, OrgGroups, OrgOrigin, Organization, SigningAlg, SsoMode,
};

const NOW: u64 = 1_750_000_000;

fn guid(i: usize) -> String {
    format!("{:08x}-5d1e-4b7a-9c1d-3f2e4a5b6c7d", 0x1000_0000 + i)
}

fn client(limit: usize) -> Client {
    Client {
        id: "hr".into(),
        secret: None,
        jwks: None,
        redirect_uris: vec![],
        post_logout_redirect_uris: vec![],
        grants: vec![],
        scopes: vec![],
        native: false,
        signing: Default::default(),
        acr: Default::default(),
        name: "hr".into(),
        // 20 roles, each granted by 5 groups, two of which the user is in.
        roles: (0..20)
            .map(|r| {
                let groups = (0..5).map(|k| guid(r * 12 + k * 3)).collect();
                (format!("role-{r:02}"), groups)
            })
            .collect(),
        always_groups: false,
        always_roles: false,
        groups_limit: limit,
        logo: None,
        mfa_required: false,
    }
}

fn org() -> Organization {
    Organization {
        id: "contoso".into(),
        origin: OrgOrigin::PolicyFile,
        domains: vec!["contoso.com".into()],
        upstream: Some("entra".into()),
        tenant_id: None,
        sso: SsoMode::AllSyncedUsers,
        password_fallback: false,
        jit: false,
        sync_interval: None,
        admins: vec![],
        groups: OrgGroups {
            upstream: true,
            only: None,
            names: GroupNames::Id,
            everyone: vec!["contoso-staff".into()],
        },
        branding: Default::default(),
        passkeys: Default::default(),
        mfa_required: false,
    }
}

fn user() -> User {
    User {
        id: "0197a3c2-5d1e-7b7a-9c1d-3f2e4a5b6c7d".into(),
        email: "ada@contoso.com".into(),
        name: "Ada Lovelace".into(),
        organization: Some("contoso".into()),
        password_hash: None,
        link: None,
        sso: true,
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

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let keys = KeyRing::load_or_create(
        &KeysPolicy {
            dir: dir.path().join("keys"),
            algorithm: SigningAlg::ES256,
        },
        NOW,
    )
    .unwrap();
    let user = user();
    let org = org();
    let read = UserGroups {
        groups: (0..250)
            .map(|i| UpstreamGroup {
                id: guid(i),
                name: Some(format!("Team {i:03}")),
            })
            .collect(),
        upstream: "entra".into(),
        updated_at: NOW,
    };
    let ctx = AuthContext {
        auth: Authentication {
            auth_time: NOW,
            amr: vec!["fed".into()],
            idp: Some("entra".into()),
            organization: Some("contoso".into()),
            acr: None,
        },
        session_id: Some("0197a3c2-6e2f-7c8b-8d2e-4a3f5b6c7d8e".into()),
    };
    let plain_scopes: Vec<String> = ["openid", "email", "profile"].map(String::from).to_vec();
    let group_scopes: Vec<String> = ["openid", "email", "profile", "groups", "roles"]
        .map(String::from)
        .to_vec();
    let mint = |client: &Client, scopes: &[String], with_groups: bool| {
        let group_claims = if with_groups {
            let m = groups::membership(&[], Some(&org), Some(&read));
            groups::claims(client, scopes, &m, Carrier::Token)
        } else {
            groups::GroupClaims::default()
        };
        let grant = Grant {
            issuer: "https://login.example.com",
            client_id: &client.id,
            audience: None,
            user: &user,
            scope: scopes,
            nonce: Some("n-0S6_WzA2Mj"),
            ctx: &ctx,
            now: NOW,
            access_ttl: 600,
            id_ttl: 600,
            jti: "0197a3c2-7f30-7d9c-9e3f-5b4a6c7d8e9f",
            groups: &group_claims,
        };
        (
            keys.sign(SigningAlg::ES256, TYP_ID_TOKEN, &claims::id_token(&grant))
                .unwrap(),
            keys.sign(
                SigningAlg::ES256,
                TYP_ACCESS_TOKEN,
                &claims::access_token(&grant),
            )
            .unwrap(),
        )
    };
    let default_limit = client(idbroker::policy::DEFAULT_GROUPS_LIMIT);
    let wide = client(300);
    // What the tokens carry, checked once.
    let (id, _) = mint(&wide, &group_scopes, true);
    assert!(id.len() > 10_000, "250 object ids in the ID token");
    let (id, _) = mint(&default_limit, &group_scopes, true);
    assert!(id.len() < 2_000, "the overflow flag, not the groups");

    let mut g = c.benchmark_group("mint_token_pair");
    g.bench_function("plain", |b| {
        b.iter(|| mint(&default_limit, black_box(&plain_scopes), false))
    });
    g.bench_function("250_groups_default_limit", |b| {
        b.iter(|| mint(&default_limit, black_box(&group_scopes), true))
    });
    g.bench_function("250_groups_in_tokens", |b| {
        b.iter(|| mint(&wide, black_box(&group_scopes), true))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
