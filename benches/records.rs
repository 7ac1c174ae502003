//! Decoding and encoding the store's records on the token path: a code at redemption, a
//! refresh family at each rotation (read twice: the check, then the compare-and-swap), and
//! the session, login transaction and device records beside them. The records are JSON
//! exactly as the broker writes them; a refresh family is measured fresh and at its cap of
//! spent secrets ([`SPENT_SECRETS_KEPT`]), its largest shape.
//!
//! Run with `cargo bench --bench records`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use idbroker::store::{
    CodeRecord, DeviceAuthorization, LoginTx, RefreshFamily, SPENT_SECRETS_KEPT, Session,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

const CODE: &str = r#"{"client_id":"helpdesk","redirect_uri":"https://helpdesk.example.com/callback","user_id":"0197a3c2-5d1e-7b7a-9c1d-3f2e4a5b6c7d","session_id":"0197a3c2-6e2f-7c8b-8d2e-4a3f5b6c7d8e","scope":["openid","email","offline_access"],"nonce":"n-0S6_WzA2Mj","code_challenge":"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM","auth_time":1750000000,"amr":["fed"],"idp":"entra","organization":"contoso","issued_at":1750000030,"expires_at":1750000090,"redeemed":{"access_jti":"6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f","access_expires_at":1750000630,"refresh_family":"Zk9hR2xhYmVsX2ZhbWlseQ"}}"#;
const FAMILY: &str = r#"{"id":"Zk9hR2xhYmVsX2ZhbWlseQ","user_id":"0197a3c2-5d1e-7b7a-9c1d-3f2e4a5b6c7d","client_id":"helpdesk","session_id":"0197a3c2-6e2f-7c8b-8d2e-4a3f5b6c7d8e","scope":["openid","email","offline_access"],"auth_time":1750000000,"amr":["fed"],"idp":"entra","organization":"contoso","current":"q1w2e3r4t5y6u7i8o9p0a1s2d3f4g5h6j7k8l9z0x1c","generation":2,"created_at":1750000030,"expires_at":1752592030,"revoked":false,"spent":[{"digest":"a1s2d3f4g5h6j7k8l9z0x1c2v3b4n5m6q7w8e9r0t1y","spent_at":1750000700},{"digest":"z0x9c8v7b6n5m4a3s2d1f0g9h8j7k6l5q4w3e2r1t0y","spent_at":1750001400}],"access":[{"jti":"7a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d","expires_at":1750002000}]}"#;
const SESSION: &str = r#"{"id":"0197a3c2-6e2f-7c8b-8d2e-4a3f5b6c7d8e","user_id":"0197a3c2-5d1e-7b7a-9c1d-3f2e4a5b6c7d","auth_time":1750000000,"amr":["pwd"],"idp":null,"organization":"contoso","created_at":1750000000,"expires_at":1750086400,"user_agent":"Mozilla/5.0 (X11; Linux x86_64)","ip":"192.0.2.1"}"#;
const LOGIN_TX: &str = r#"{"id":"dHgtaGFuZGxlLTAwMDE","client_id":"helpdesk","redirect_uri":"https://helpdesk.example.com/callback","scope":["openid","email"],"state":"af0ifjsldkj","nonce":"n-0S6_WzA2Mj","code_challenge":"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM","response_mode":null,"max_age":3600,"login_hint":"alice@contoso.com","browser":"YnJvd3Nlci1kaWdlc3Q","csrf":"Y3NyZi10b2tlbg","stage":"upstream","identifier":"alice@contoso.com","upstream":{"upstream":"entra","organization":"contoso","nonce":"dXBzdHJlYW0tbm9uY2U","pkce_verifier":"dXBzdHJlYW0tcGtjZS12ZXJpZmllcg","login_hint":"alice@contoso.com"},"device":null,"created_at":1750000000,"expires_at":1750000600}"#;
const DEVICE: &str = r#"{"client_id":"cli","scope":["openid","offline_access"],"user_code":"BCDFGHJK","status":{"state":"approved","user_id":"0197a3c2-5d1e-7b7a-9c1d-3f2e4a5b6c7d","auth_time":1750000000,"amr":["fed"],"idp":"entra","organization":"contoso"},"interval":5,"last_poll":1750000040,"created_at":1750000000,"expires_at":1750000600}"#;

/// The family at its cap: [`SPENT_SECRETS_KEPT`] spent secrets and a few live access tokens.
fn full_family() -> Vec<u8> {
    let mut v: serde_json::Value = serde_json::from_str(FAMILY).unwrap();
    let spent: Vec<_> = (0..SPENT_SECRETS_KEPT)
        .map(|i| serde_json::json!({"digest": format!("{i:043}"), "spent_at": 1_750_000_000 + i}))
        .collect();
    let access: Vec<_> = (0..4)
        .map(|i| serde_json::json!({"jti": format!("7a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c{i:02}"), "expires_at": 1_750_002_000 + i}))
        .collect();
    v["spent"] = spent.into();
    v["access"] = access.into();
    serde_json::to_vec(&v).unwrap()
}

fn case<T: DeserializeOwned + Serialize>(c: &mut Criterion, name: &str, bytes: &[u8]) {
    let record: T = serde_json::from_slice(bytes).unwrap();
    let mut group = c.benchmark_group(name);
    group.bench_function("decode", |b| {
        b.iter(|| serde_json::from_slice::<T>(black_box(bytes)).unwrap())
    });
    group.bench_function("encode", |b| {
        b.iter(|| serde_json::to_vec(black_box(&record)).unwrap())
    });
    group.finish();
}

fn records(c: &mut Criterion) {
    case::<CodeRecord>(c, "code", CODE.as_bytes());
    case::<RefreshFamily>(c, "refresh_family", FAMILY.as_bytes());
    case::<RefreshFamily>(c, "refresh_family_full", &full_family());
    case::<Session>(c, "session", SESSION.as_bytes());
    case::<LoginTx>(c, "login_tx", LOGIN_TX.as_bytes());
    case::<DeviceAuthorization>(c, "device", DEVICE.as_bytes());
}

criterion_group!(benches, records);
criterion_main!(benches);
