//! Signing algorithms: RS256 always on offer beside the configured algorithm (OIDC Core
//! §15.1, OIDC Discovery §3), published at `/jwks`, and created when a reloaded policy names
//! another algorithm.

use serde_json::Value;

use crate::support::broker::{TestBroker, policy_yaml, test_loader};

async fn get_json(url: &str) -> Value {
    let resp = reqwest::get(url).await.unwrap();
    assert_eq!(resp.status(), 200, "{url}");
    resp.json().await.unwrap()
}

/// The `(kid, alg, kty)` of every key of the broker's `/jwks`.
async fn published(tb: &TestBroker) -> Vec<(String, String, String)> {
    let jwks = get_json(&tb.url("/jwks")).await;
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["kid"].as_str().unwrap().to_owned(),
                k["alg"].as_str().unwrap().to_owned(),
                k["kty"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn discovered_algs(tb: &TestBroker) -> Value {
    let meta = get_json(&tb.url("/.well-known/openid-configuration")).await;
    meta["id_token_signing_alg_values_supported"].clone()
}

#[tokio::test]
async fn discovery_offers_rs256_beside_the_configured_algorithm_and_jwks_publishes_both() {
    // The test policy says `keys: {algorithm: ES256}`, the default.
    let tb = TestBroker::start().await;
    assert_eq!(
        discovered_algs(&tb).await,
        serde_json::json!(["ES256", "RS256"])
    );
    let mut keys = published(&tb).await;
    keys.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert_eq!((keys[0].1.as_str(), keys[0].2.as_str()), ("ES256", "EC"));
    assert_eq!((keys[1].1.as_str(), keys[1].2.as_str()), ("RS256", "RSA"));

    // A reload naming EdDSA: its key is created, RS256 stays beside it, and the ES256 key
    // stays published for the tokens it signed.
    let yaml = policy_yaml(&tb.base, tb.dir.path(), "", None)
        .replace("algorithm: ES256", "algorithm: EdDSA");
    std::fs::write(&tb.policy_path, yaml).unwrap();
    assert_eq!(
        idbroker::reload::reload_once(&tb.broker, &tb.policy_path, &test_loader()).await,
        idbroker::reload::Outcome::Applied
    );
    assert_eq!(
        discovered_algs(&tb).await,
        serde_json::json!(["EdDSA", "RS256"])
    );
    let algs: Vec<String> = published(&tb).await.into_iter().map(|k| k.1).collect();
    assert_eq!(algs.len(), 3, "{algs:?}");
    for alg in ["ES256", "EdDSA", "RS256"] {
        assert!(algs.iter().any(|a| a == alg), "{alg} in {algs:?}");
    }
}

#[tokio::test]
async fn a_policy_of_rs256_keeps_one_key_and_offers_rs256_alone() {
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let yaml =
        policy_yaml(&base, dir.path(), "", None).replace("algorithm: ES256", "algorithm: RS256");
    let tb = TestBroker::start_yaml(dir, listener, &yaml, idbroker::clock::Clock::System).await;
    assert_eq!(discovered_algs(&tb).await, serde_json::json!(["RS256"]));
    let keys = published(&tb).await;
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert_eq!(keys[0].1, "RS256");
}
