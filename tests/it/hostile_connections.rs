//! Hostile connections (issue #10, item 1), over real sockets: silent, half-sent and idle
//! connections are closed within the policy's `server` deadlines while `/healthz` keeps
//! answering, over plain TCP and after a TLS handshake, and a connection over
//! `server.max_connections` is refused at once instead of waiting.

use std::sync::Arc;
use std::time::{Duration, Instant};

use idbroker::clock::Clock;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::broker::TestBroker;
use crate::support::net::http_client;

/// Short deadlines so the tests run in seconds: the first request's head within 2 s, and an
/// idle connection closed 4 s after its last request.
const LIMITS: &str = "server: {header_read_timeout: 2s, idle_timeout: 4s}";
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(2);
const IDLE_TIMEOUT: Duration = Duration::from_secs(4);
/// How late after its deadline a connection may still be closed (timer granularity, a
/// loaded test machine, the 1 s close grace for half-sent requests).
const SLACK: Duration = Duration::from_secs(4);
/// Give up waiting for a close after this: a connection still open then is never closed.
const GIVE_UP: Duration = Duration::from_secs(30);

/// Reads (and discards) until the server closes the connection; how long that took, or
/// `None` if it was still open after `within`.
async fn wait_closed<R: AsyncRead + Unpin>(mut r: R, within: Duration) -> Option<Duration> {
    let start = Instant::now();
    let mut buf = [0u8; 4096];
    tokio::time::timeout(within, async {
        loop {
            match r.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .ok()
    .map(|()| start.elapsed())
}

/// Every connection was closed by the server, the last no later than `latest` after
/// `opened`.
async fn assert_all_closed(
    what: &str,
    waits: Vec<tokio::task::JoinHandle<Option<Duration>>>,
    opened: Instant,
    latest: Duration,
) {
    let count = waits.len();
    let mut still_open = 0;
    for w in waits {
        if w.await.unwrap().is_none() {
            still_open += 1;
        }
    }
    assert_eq!(
        still_open, 0,
        "{what}: {still_open} of {count} connections still open after {GIVE_UP:?}"
    );
    assert!(
        opened.elapsed() <= latest,
        "{what}: the last connection closed only after {:?} (deadline {latest:?})",
        opened.elapsed()
    );
}

/// Spawns a task per stream that waits for the server to close it.
fn watch_all<R: AsyncRead + Unpin + Send + 'static>(
    streams: Vec<R>,
) -> Vec<tokio::task::JoinHandle<Option<Duration>>> {
    streams
        .into_iter()
        .map(|s| tokio::spawn(wait_closed(s, GIVE_UP)))
        .collect()
}

/// `/healthz` answers 200 on a fresh connection, quickly, `times` times over `spread`.
async fn healthz_keeps_answering(
    client: &reqwest::Client,
    url: &str,
    times: u32,
    spread: Duration,
) {
    for _ in 0..times {
        let t = Instant::now();
        let r = client.get(url).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(
            t.elapsed() < Duration::from_secs(2),
            "/healthz took {:?}",
            t.elapsed()
        );
        tokio::time::sleep(spread / times).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn silent_and_half_sent_connections_are_closed_while_healthz_answers() {
    let tb = TestBroker::start_with(LIMITS, None, Clock::System).await;
    let addr = format!("127.0.0.1:{}", tb.port);
    let mut streams = Vec::new();
    for i in 0..400 {
        let mut s = TcpStream::connect(&addr).await.unwrap();
        match i {
            // 300 that send nothing.
            0..300 => {}
            // 50 that send half a request line.
            300..350 => s.write_all(b"GET /healthz HT").await.unwrap(),
            // 50 that send the request line and half the headers.
            _ => s
                .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slo")
                .await
                .unwrap(),
        }
        streams.push(s);
    }
    let opened = Instant::now();
    let waits = watch_all(streams);
    // A fresh client per request: a fresh connection each time.
    for _ in 0..5 {
        healthz_keeps_answering(
            &http_client(),
            &tb.url("/healthz"),
            1,
            Duration::from_millis(400),
        )
        .await;
    }
    assert_all_closed(
        "300 silent and 100 half-sent",
        waits,
        opened,
        HEADER_READ_TIMEOUT + SLACK,
    )
    .await;
    // The broker still serves after all that.
    healthz_keeps_answering(&http_client(), &tb.url("/healthz"), 1, Duration::ZERO).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let tb = TestBroker::start_with(LIMITS, None, Clock::System).await;
    let mut s = TcpStream::connect(("127.0.0.1", tb.port)).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.ends_with(b"ok\n") {
        let n = s.read(&mut buf).await.unwrap();
        assert!(n > 0, "closed before the response");
        got.extend_from_slice(&buf[..n]);
    }
    assert!(got.starts_with(b"HTTP/1.1 200"));
    let answered = Instant::now();
    // Kept alive past the header deadline: an idle connection waits for its next request...
    assert_eq!(
        wait_closed(&mut s, IDLE_TIMEOUT - Duration::from_secs(1)).await,
        None,
        "an idle keep-alive connection was closed before idle_timeout"
    );
    // ...and is closed at the idle deadline.
    let closed = wait_closed(&mut s, GIVE_UP).await;
    assert!(
        closed.is_some(),
        "idle connection still open after {GIVE_UP:?}"
    );
    assert!(
        answered.elapsed() <= IDLE_TIMEOUT + SLACK,
        "idle connection closed only after {:?}",
        answered.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_sent_second_request_is_closed_at_the_header_deadline() {
    // A long idle deadline, so only the header deadline can close the connection early.
    let tb = TestBroker::start_with(
        "server: {header_read_timeout: 2s, idle_timeout: 30s}",
        None,
        Clock::System,
    )
    .await;
    let mut s = TcpStream::connect(("127.0.0.1", tb.port)).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.ends_with(b"ok\n") {
        let n = s.read(&mut buf).await.unwrap();
        assert!(n > 0, "closed before the response");
        got.extend_from_slice(&buf[..n]);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    s.write_all(b"GET /healthz HTTP/1.1\r\nHo").await.unwrap();
    let started = Instant::now();
    assert!(
        wait_closed(&mut s, GIVE_UP).await.is_some(),
        "a half-sent second request held the connection for {GIVE_UP:?}"
    );
    assert!(
        started.elapsed() <= HEADER_READ_TIMEOUT + SLACK,
        "a half-sent second request held the connection for {:?}",
        started.elapsed()
    );
}

fn tls_connector(cert_pem: &str, alpn: &[u8]) -> tokio_rustls::TlsConnector {
    use rustls_pki_types::pem::PemObject as _;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pki_types::CertificateDer::pem_slice_iter(cert_pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![alpn.to_vec()];
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

/// The HTTP/2 connection preface (RFC 9113 §3.4) and an empty SETTINGS frame.
const H2_PREFACE_AND_SETTINGS: &[u8] =
    b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn silent_connections_after_the_tls_handshake_are_closed() {
    let certs = tempfile::tempdir().unwrap();
    let tb = TestBroker::start_https(certs.path(), LIMITS).await;
    let pem = std::fs::read_to_string(certs.path().join("dev-cert.pem")).unwrap();
    let h1 = tls_connector(&pem, b"http/1.1");
    let h2 = tls_connector(&pem, b"h2");
    let name = rustls_pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let addr = format!("127.0.0.1:{}", tb.port);

    // No handshake at all.
    let mut raw = Vec::new();
    for _ in 0..20 {
        raw.push(TcpStream::connect(&addr).await.unwrap());
    }
    let mut tls = Vec::new();
    for i in 0..100 {
        let tcp = TcpStream::connect(&addr).await.unwrap();
        let connector = if i < 50 { &h1 } else { &h2 };
        let mut s = connector.connect(name.clone(), tcp).await.unwrap();
        match i {
            // HTTP/1.1 by ALPN, then nothing.
            0..30 => {}
            // HTTP/1.1, half the headers.
            30..50 => {
                s.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nAcc")
                    .await
                    .unwrap();
            }
            // HTTP/2 by ALPN, then nothing.
            50..75 => {}
            // HTTP/2 preface and settings, but never a request.
            _ => s.write_all(H2_PREFACE_AND_SETTINGS).await.unwrap(),
        }
        s.flush().await.unwrap();
        tls.push(s);
    }
    let opened = Instant::now();
    let raw_waits = watch_all(raw);
    let tls_waits = watch_all(tls);
    let root = reqwest::Certificate::from_pem(pem.as_bytes()).unwrap();
    for _ in 0..4 {
        let client = reqwest::Client::builder()
            .add_root_certificate(root.clone())
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        healthz_keeps_answering(&client, &tb.url("/healthz"), 1, Duration::from_millis(400)).await;
    }
    assert_all_closed(
        "TLS connections without a handshake",
        raw_waits,
        opened,
        HEADER_READ_TIMEOUT + SLACK,
    )
    .await;
    assert_all_closed(
        "TLS connections that send nothing or half a request",
        tls_waits,
        opened,
        HEADER_READ_TIMEOUT + SLACK,
    )
    .await;
}

/// An HTTP/2 request for `/healthz` on stream 1: a HEADERS frame with END_STREAM and
/// END_HEADERS, its block in HPACK literals (RFC 7541 §6.2.1, static table indexes).
fn h2_get_healthz(authority: &str) -> Vec<u8> {
    let mut block = vec![0x82, 0x87]; // :method GET, :scheme https
    block.push(0x44); // :path, literal with incremental indexing
    block.push(8);
    block.extend_from_slice(b"/healthz");
    block.push(0x41); // :authority
    block.push(u8::try_from(authority.len()).unwrap());
    block.extend_from_slice(authority.as_bytes());
    let len = u32::try_from(block.len()).unwrap().to_be_bytes();
    let mut frame = vec![len[1], len[2], len[3], 0x01, 0x05, 0, 0, 0, 1];
    frame.extend_from_slice(&block);
    frame
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_http2_connection_is_closed_after_the_idle_timeout() {
    let certs = tempfile::tempdir().unwrap();
    let tb = TestBroker::start_https(certs.path(), LIMITS).await;
    let pem = std::fs::read_to_string(certs.path().join("dev-cert.pem")).unwrap();
    let name = rustls_pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let tcp = TcpStream::connect(("127.0.0.1", tb.port)).await.unwrap();
    let mut s = tls_connector(&pem, b"h2").connect(name, tcp).await.unwrap();
    s.write_all(H2_PREFACE_AND_SETTINGS).await.unwrap();
    s.write_all(&h2_get_healthz(&format!("127.0.0.1:{}", tb.port)))
        .await
        .unwrap();
    s.flush().await.unwrap();
    // Frames until a DATA frame with END_STREAM on stream 1: the response is complete.
    loop {
        let mut head = [0u8; 9];
        s.read_exact(&mut head).await.unwrap();
        let len = usize::from(head[0]) << 16 | usize::from(head[1]) << 8 | usize::from(head[2]);
        let mut payload = vec![0u8; len];
        s.read_exact(&mut payload).await.unwrap();
        let (kind, flags, stream) = (head[3], head[4], head[8]);
        if kind == 0x04 && flags & 0x01 == 0 {
            // Acknowledge the server's SETTINGS, as a client must (RFC 9113 §6.5.3).
            s.write_all(&[0, 0, 0, 0x04, 0x01, 0, 0, 0, 0])
                .await
                .unwrap();
        }
        if kind == 0x00 && flags & 0x01 != 0 && stream == 1 {
            break;
        }
    }
    let answered = Instant::now();
    assert_eq!(
        wait_closed(&mut s, IDLE_TIMEOUT - Duration::from_secs(1)).await,
        None,
        "an HTTP/2 connection was closed before idle_timeout"
    );
    assert!(
        wait_closed(&mut s, GIVE_UP).await.is_some(),
        "idle HTTP/2 connection still open after {GIVE_UP:?}"
    );
    assert!(
        answered.elapsed() <= IDLE_TIMEOUT + SLACK,
        "idle HTTP/2 connection closed only after {:?}",
        answered.elapsed()
    );
}

/// Reads what the server sends until it closes, for at most `within`.
async fn read_to_close(s: &mut TcpStream, within: Duration) -> Option<Vec<u8>> {
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    tokio::time::timeout(within, async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await
    .ok()
    .map(|()| got)
}

fn refused_total(metrics: &str) -> u64 {
    metrics
        .lines()
        .find(|l| l.starts_with("idbroker_connections_refused_total"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse::<f64>().ok())
        .map_or(0, |n| n as u64)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_cap_are_refused_at_once() {
    let tb = TestBroker::start_with(
        "server: {max_connections: 50, header_read_timeout: 3s, idle_timeout: 3s}",
        None,
        Clock::System,
    )
    .await;
    let addr = format!("127.0.0.1:{}", tb.port);
    let before = refused_total(
        &http_client()
            .get(tb.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    // reqwest keeps its connection; a fresh client was used and dropped above. Let the
    // server see that close before filling the cap.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut held = Vec::new();
    for _ in 0..50 {
        held.push(TcpStream::connect(&addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let filled = Instant::now();

    // Over the cap: refused within a second (a 503, or just closed), never served or queued.
    for _ in 0..5 {
        let t = Instant::now();
        let mut s = TcpStream::connect(&addr).await.unwrap();
        let _ = s
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            .await;
        let got = read_to_close(&mut s, Duration::from_secs(2))
            .await
            .expect("a connection over the cap was left waiting");
        assert!(
            got.is_empty() || got.starts_with(b"HTTP/1.1 503"),
            "a connection over the cap got {:?}",
            String::from_utf8_lossy(&got)
        );
        assert!(
            t.elapsed() < Duration::from_secs(1),
            "refused only after {:?}",
            t.elapsed()
        );
    }
    assert!(
        filled.elapsed() < Duration::from_secs(3),
        "the refusals themselves took too long"
    );

    // The held connections reach their header deadline; then new connections are served.
    let waits = watch_all(held);
    for w in waits {
        assert!(w.await.unwrap().is_some(), "a held connection stayed open");
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let metrics = http_client()
        .get(tb.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        refused_total(&metrics) >= before + 5,
        "idbroker_connections_refused_total did not count the refusals"
    );
    healthz_keeps_answering(&http_client(), &tb.url("/healthz"), 1, Duration::ZERO).await;
}
