//! HTTPS from the broker itself: HTTP/2 and HTTP/1.1 by ALPN, and a renewed certificate
//! picked up without a restart.

use std::time::Duration;

use reqwest::{Certificate, Version};

use crate::support::broker::TestBroker;

fn client(roots: &[&str], http1_only: bool) -> reqwest::Client {
    let mut b = reqwest::Client::builder().https_only(true).tls_info(true);
    for pem in roots {
        b = b.add_root_certificate(Certificate::from_pem(pem.as_bytes()).unwrap());
    }
    if http1_only {
        b = b.http1_only();
    }
    b.build().unwrap()
}

fn peer_der(resp: &reqwest::Response) -> Vec<u8> {
    resp.extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|i| i.peer_certificate())
        .unwrap()
        .to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_alpn_and_a_renewed_certificate_without_restart() {
    let certs = tempfile::tempdir().unwrap();
    let tb = TestBroker::start_https(certs.path(), "").await;
    let old_pem = std::fs::read_to_string(certs.path().join("dev-cert.pem")).unwrap();

    let h2 = client(&[&old_pem], false)
        .get(tb.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(h2.status(), 200);
    assert_eq!(h2.version(), Version::HTTP_2, "ALPN picks h2");
    let old_der = peer_der(&h2);
    let h1 = client(&[&old_pem], true)
        .get(tb.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap();
    assert_eq!(h1.version(), Version::HTTP_11);
    let doc: serde_json::Value = h1.json().await.unwrap();
    assert_eq!(doc["issuer"], tb.base.as_str());
    let hsts = client(&[&old_pem], true)
        .get(tb.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert!(hsts.headers().contains_key("strict-transport-security"));

    // Plain HTTP on the TLS port gets no answer.
    let plain = reqwest::get(format!("http://127.0.0.1:{}/healthz", tb.port)).await;
    assert!(plain.is_err() || !plain.unwrap().status().is_success());

    // Renewal: new files in place; new connections get the new certificate.
    idbroker::tls::write_dev_certificate(certs.path()).unwrap();
    let new_pem = std::fs::read_to_string(certs.path().join("dev-cert.pem")).unwrap();
    assert_ne!(old_pem, new_pem);
    let mut renewed = false;
    for _ in 0..80 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        // A fresh client: a fresh connection, so a fresh handshake.
        let resp = client(&[&old_pem, &new_pem], true)
            .get(tb.url("/healthz"))
            .send()
            .await
            .unwrap();
        if peer_der(&resp) != old_der {
            renewed = true;
            break;
        }
    }
    assert!(
        renewed,
        "the renewed certificate was not served within 12 s"
    );
}
