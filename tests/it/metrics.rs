//! `/metrics`: Prometheus text that moves with what the broker does.

use crate::support::broker::{PASSWORD, TestBroker, USER, WEB_SECRET};
use crate::support::browser::{Browser, sign_in};

/// The value of the sample whose line starts with `series` (name and labels), or 0.
async fn sample(tb: &TestBroker, series: &str) -> f64 {
    let text = reqwest::get(tb.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find(|l| l.starts_with(series))
        .and_then(|l| l.rsplit(' ').next())
        .map(|v| v.parse().unwrap())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn sign_ins_tokens_and_cache_lookups_are_counted() {
    let tb = TestBroker::start().await;
    let ok = r#"idbroker_sign_ins_total{method="password",outcome="success"}"#;
    let bad = r#"idbroker_sign_ins_total{method="password",outcome="failure"}"#;
    let cc = r#"idbroker_tokens_issued_total{grant="client_credentials"}"#;
    let (ok0, bad0, cc0) = (
        sample(&tb, ok).await,
        sample(&tb, bad).await,
        sample(&tb, cc).await,
    );
    // Other tests in this process count too: compare with "at least", never "equal".
    let url = format!(
        "{}/authorize?response_type=code&client_id=spa&redirect_uri=http://127.0.0.1:9000/callback&scope=openid&state=s&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256",
        tb.base
    );
    let back = sign_in(&mut Browser::new(), &tb.base, &url, USER, PASSWORD).await;
    assert_eq!(back.status, 303);
    let wrong = sign_in(&mut Browser::new(), &tb.base, &url, USER, "wrong password").await;
    assert_eq!(wrong.status, 200);
    let resp = reqwest::Client::new()
        .post(tb.url("/token"))
        .basic_auth("web", Some(WEB_SECRET))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    tb.broker.flush_audit().await;

    assert!(sample(&tb, ok).await >= ok0 + 1.0);
    assert!(sample(&tb, bad).await >= bad0 + 1.0);
    assert!(sample(&tb, cc).await >= cc0 + 1.0);
    assert!(sample(&tb, r#"idbroker_user_cache_total{result="hit"}"#).await >= 1.0);
    let text = reqwest::get(tb.url("/metrics")).await.unwrap();
    assert!(
        text.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
}

#[tokio::test]
async fn http_requests_are_timed_per_route_and_status_and_carry_a_request_id() {
    let tb = TestBroker::start().await;
    let count = |route: &str, status: u16| {
        format!(
            "idbroker_http_request_duration_seconds_count{{route=\"{route}\",status=\"{status}\"}}"
        )
    };
    let jwks0 = sample(&tb, &count("/jwks", 200)).await;
    let other0 = sample(&tb, &count("other", 404)).await;
    let http = reqwest::Client::new();
    let mut ids = std::collections::HashSet::new();
    for _ in 0..3 {
        let resp = http.get(tb.url("/jwks")).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        let id = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert_eq!(id.len(), 16, "{id}");
        ids.insert(id);
    }
    assert_eq!(ids.len(), 3, "every request its own id");
    // A path no route serves is `other`, never the path itself (no unbounded labels).
    let resp = http
        .get(tb.url("/no-such-path-1234"))
        .header("x-request-id", "proxy-abc.123")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(resp.headers()["x-request-id"], "proxy-abc.123");
    // An id that does not look like one is replaced.
    let resp = http
        .get(tb.url("/jwks"))
        .header("x-request-id", "a b<c>")
        .send()
        .await
        .unwrap();
    assert_ne!(resp.headers()["x-request-id"], "a b<c>");

    assert!(sample(&tb, &count("/jwks", 200)).await >= jwks0 + 4.0);
    assert!(sample(&tb, &count("other", 404)).await >= other0 + 1.0);
    let text = reqwest::get(tb.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!text.contains("no-such-path"), "paths are not labels");
    assert!(
        text.contains("idbroker_http_request_duration_seconds_bucket{route=\"/jwks\",status=\"200\",le=\"0.005\"}"),
        "a histogram with buckets"
    );
    assert!(text.contains("idbroker_http_requests_in_flight"));
    let build = text
        .lines()
        .find(|l| l.starts_with("idbroker_build_info{"))
        .expect("build info");
    assert!(
        build.contains(&format!("version=\"{}\"", env!("CARGO_PKG_VERSION"))),
        "{build}"
    );
    assert!(build.ends_with(" 1"), "{build}");
}
