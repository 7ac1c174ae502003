//! Starting and serving: open the store, load the keys, assemble the broker, accept
//! connections until told to stop, then finish in-flight requests.
//!
//! One accept loop serves plain HTTP and TLS through hyper-util's `auto::Builder` (HTTP/1.1
//! and HTTP/2), with the connection limits of the policy's `server` section: a cap on open
//! connections (the excess is refused at once), a deadline for the TLS handshake and the first
//! request's head, and an idle deadline between requests.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::keys::KeyRing;
use crate::policy::{Policy, RedisTopology, ServerLimits, StorePolicy};
use crate::service::{Broker, StartError};
use crate::store::embedded::EmbeddedKv;
use crate::store::redis::{RedisKv, Topology, WaitPolicy};
use crate::store::{Backend, REDIS_KEY_PREFIX, Store, StoreError};

/// Opens the engine the policy names: the redb file (created with its directory if missing)
/// or a connection to Redis with keys under [`crate::store::REDIS_KEY_PREFIX`].
pub async fn open_backend(policy: &StorePolicy) -> Result<Backend, StoreError> {
    use secrecy::ExposeSecret as _;
    let backend = match policy {
        StorePolicy::Embedded { path } => {
            let path = path.clone();
            let kv = tokio::task::spawn_blocking(move || EmbeddedKv::open(&path))
                .await
                .map_err(|e| StoreError::Unavailable(format!("opening the store failed: {e}")))??;
            kv.spawn_flusher();
            Backend::Embedded(kv)
        }
        StorePolicy::Redis {
            url,
            topology,
            wait,
        } => {
            let urls = || {
                url.expose_secret()
                    .split(',')
                    .map(|u| u.trim().to_owned())
                    .collect::<Vec<_>>()
            };
            let topology = match topology {
                RedisTopology::Single => Topology::Single {
                    url: url.expose_secret().to_owned(),
                },
                RedisTopology::Sentinel {
                    service,
                    sentinel_password,
                } => Topology::Sentinel {
                    sentinels: urls(),
                    service: service.clone(),
                    sentinel_password: sentinel_password
                        .as_ref()
                        .map(|p| p.expose_secret().to_owned()),
                },
                RedisTopology::Cluster => Topology::Cluster { nodes: urls() },
            };
            let wait = wait.map(|w| WaitPolicy {
                replicas: w.replicas,
                timeout: w.timeout,
            });
            Backend::Redis(RedisKv::open(&topology, REDIS_KEY_PREFIX, wait).await?)
        }
    };
    // A store written by a newer idbroker is refused before anything reads it.
    crate::store::format::check_format(&backend).await?;
    Ok(backend)
}

/// Entries in the in-process user cache (the routing decision's hot path).
pub const USER_CACHE_CAPACITY: u64 = 1_000_000;

/// Builds a broker from a validated policy: store, keys, background upkeep.
pub async fn assemble(
    policy: Policy,
    clock: Clock,
    cancel: CancellationToken,
) -> Result<Arc<Broker>, StartError> {
    // Install the metrics recorder before anything records.
    let _ = crate::metrics::handle();
    let backend = open_backend(&policy.store).await?;
    let store = Store::new(backend, USER_CACHE_CAPACITY);
    let keys = Arc::new(KeyRing::load_or_create(&policy.keys, clock.now())?);
    let broker = Broker::new(policy, store, keys, clock).await?;
    broker.spawn_sync(cancel.clone());
    broker.spawn_upkeep(cancel);
    Ok(broker)
}

/// In-flight requests get this long after a shutdown signal before the process stops anyway.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);

/// File descriptors kept for everything that is not a client connection: the store, Redis,
/// outbound HTTPS to upstreams, policy, key and certificate files, the audit file.
const RESERVED_FDS: u64 = 128;

/// After the broker closes a connection for a timeout, a request that raced in meanwhile
/// may still finish; a half-sent one is dropped after this.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// The answer to a connection over the cap on the plain-HTTP listener, written without
/// reading anything and without waiting (RFC 9110 §15.6.4).
const REFUSED_RESPONSE: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\n\
content-length: 0\r\nretry-after: 1\r\ncache-control: no-store\r\n\r\n";

/// The open-files limit at start: the soft limit before and after raising it to the hard
/// limit (`None` means unlimited).
#[derive(Debug, Clone, Copy)]
pub struct OpenFilesLimit {
    pub soft_before: Option<u64>,
    pub soft: Option<u64>,
    pub hard: Option<u64>,
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit, so that the connection cap, not the
/// kernel, decides how many clients are served. Never lowers it.
#[cfg(unix)]
pub fn raise_open_files_limit() -> std::io::Result<OpenFilesLimit> {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let before = getrlimit(Resource::Nofile);
    let raise = match (before.current, before.maximum) {
        (Some(soft), Some(hard)) => soft < hard,
        (Some(_), None) => true,
        (None, _) => false,
    };
    if raise {
        setrlimit(
            Resource::Nofile,
            rustix::process::Rlimit {
                current: before.maximum,
                maximum: before.maximum,
            },
        )?;
    }
    let after = getrlimit(Resource::Nofile);
    Ok(OpenFilesLimit {
        soft_before: before.current,
        soft: after.current,
        hard: after.maximum,
    })
}

#[cfg(not(unix))]
pub fn raise_open_files_limit() -> std::io::Result<OpenFilesLimit> {
    Ok(OpenFilesLimit {
        soft_before: None,
        soft: None,
        hard: None,
    })
}

/// The soft open-files limit now (`None`: unlimited or unknown).
fn open_files_soft_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        rustix::process::getrlimit(rustix::process::Resource::Nofile).current
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// How many client connections may be open: the policy's `server.max_connections`, lowered
/// so that connections leave [`RESERVED_FDS`] (or half the limit, if that is less) for the
/// rest of the broker.
pub fn connection_cap(configured: u32, soft_limit: Option<u64>) -> u32 {
    let Some(limit) = soft_limit else {
        return configured;
    };
    let fit = limit.saturating_sub(RESERVED_FDS).max(limit / 2).max(1);
    u32::try_from(fit).map_or(configured, |fit| configured.min(fit))
}

/// Serves `broker` on `listener` (HTTPS when the policy has `tls`) until `cancel` fires, then
/// stops accepting, lets in-flight requests finish within [`SHUTDOWN_GRACE`] and flushes the
/// audit sink.
pub async fn serve(
    broker: Arc<Broker>,
    listener: TcpListener,
    cancel: CancellationToken,
) -> std::io::Result<()> {
    let tls = match broker.policy().tls.clone() {
        None => None,
        Some(files) => {
            let resolver = crate::tls::CertResolver::load(&files).map_err(std::io::Error::other)?;
            resolver.spawn_reloader(cancel.clone());
            let config = crate::tls::server_config(resolver).map_err(std::io::Error::other)?;
            Some(tokio_rustls::TlsAcceptor::from(config))
        }
    };
    let result = accept_loop(broker.clone(), listener, tls, cancel).await;
    broker.flush_audit().await;
    result
}

/// The one accept loop, plain or TLS. Each connection holds a permit of the connection cap;
/// without one it is refused at once. Shutdown waits for every permit to come back.
async fn accept_loop(
    broker: Arc<Broker>,
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    cancel: CancellationToken,
) -> std::io::Result<()> {
    let app = crate::http::router(broker.clone());
    let configured = broker.policy().server.max_connections;
    let cap = connection_cap(configured, open_files_soft_limit());
    if cap < configured {
        tracing::warn!(
            max_connections = configured,
            cap,
            "server.max_connections lowered to fit the open-files limit"
        );
    }
    tracing::info!(max_connections = cap, "accepting connections");
    let permits = Arc::new(Semaphore::new(cap as usize));
    loop {
        let (tcp, peer) = tokio::select! {
            _ = cancel.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: back off, keep serving.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            refuse(tcp, tls.is_none());
            continue;
        };
        // Small answers go out at once rather than waiting for the peer's ACK (Nagle).
        let _ = tcp.set_nodelay(true);
        // Timeouts are read per connection, so a reload changes them for new connections.
        let limits = broker.policy().server;
        let conn = Connection {
            peer,
            app: app.clone(),
            limits,
            cancel: cancel.clone(),
            _open: OpenGuard::new(permit),
        };
        let tls = tls.clone();
        tokio::spawn(async move {
            match tls {
                None => conn.serve(tcp).await,
                Some(acceptor) => conn.serve_tls(tcp, acceptor).await,
            }
        });
    }
    drop(listener);
    match tokio::time::timeout(SHUTDOWN_GRACE, permits.acquire_many(cap)).await {
        Ok(_) => {}
        Err(_) => {
            tracing::warn!("in-flight requests did not finish within the shutdown grace period");
        }
    }
    Ok(())
}

/// A connection over the cap: a plain listener answers `503` if the socket takes it at once;
/// either way the socket is closed now, never queued.
fn refuse(tcp: TcpStream, plain: bool) {
    metrics::counter!("idbroker_connections_refused_total").increment(1);
    if plain {
        let _ = tcp.try_write(REFUSED_RESPONSE);
        // Take what has already arrived, so the close is a FIN the client can read the
        // answer before, rather than a reset (which unread data would cause).
        let mut buf = [0u8; 4096];
        for _ in 0..4 {
            match tcp.try_read(&mut buf) {
                Ok(n) if n > 0 => {}
                _ => break,
            }
        }
    }
    drop(tcp);
}

/// Holds a permit of the connection cap and the open-connections gauge for one connection.
struct OpenGuard {
    _permit: OwnedSemaphorePermit,
}

impl OpenGuard {
    fn new(permit: OwnedSemaphorePermit) -> OpenGuard {
        metrics::gauge!("idbroker_connections_open").increment(1.0);
        OpenGuard { _permit: permit }
    }
}

impl Drop for OpenGuard {
    fn drop(&mut self) {
        metrics::gauge!("idbroker_connections_open").decrement(1.0);
    }
}

struct Connection<A> {
    peer: SocketAddr,
    app: A,
    limits: ServerLimits,
    cancel: CancellationToken,
    _open: OpenGuard,
}

impl<A: crate::http::App> Connection<A> {
    async fn serve_tls(self, tcp: TcpStream, acceptor: tokio_rustls::TlsAcceptor) {
        // A client that never finishes its handshake must not hold the connection.
        let handshake = tokio::select! {
            _ = self.cancel.cancelled() => return,
            done = tokio::time::timeout(self.limits.header_read_timeout, acceptor.accept(tcp)) => done,
        };
        match handshake {
            Ok(Ok(stream)) => self.serve(stream).await,
            Ok(Err(_)) => {}
            Err(_) => closed("handshake_timeout"),
        }
    }

    /// HTTP/1.1 or HTTP/2 (by ALPN, or the HTTP/2 preface on plain TCP) until the client
    /// closes, a timeout of [`Activity`] fires, or the server stops.
    async fn serve<S>(self, stream: S)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
        let activity = Arc::new(Activity::new());
        let io = TokioIo::new(Watched {
            inner: stream,
            activity: activity.clone(),
        });
        let service = {
            let activity = activity.clone();
            let app = self.app.clone();
            let peer = self.peer;
            hyper::service::service_fn(move |mut req: http::Request<hyper::body::Incoming>| {
                let in_flight = activity.request_started(req.version() < http::Version::HTTP_2);
                req.extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                let mut app = app.clone();
                async move {
                    let response = tower::Service::call(&mut app, req).await;
                    drop(in_flight);
                    response
                }
            })
        };
        let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
        // Header and idle deadlines are `Activity`'s, for HTTP/1.1 and HTTP/2 alike; hyper's
        // own HTTP/1 header timer would also cut idle keep-alive connections at the header
        // deadline.
        builder.http1().header_read_timeout(None::<Duration>);
        // Pings find a dead peer while a request is in flight.
        builder
            .http2()
            .timer(TokioTimer::new())
            .keep_alive_interval(self.limits.idle_timeout)
            .keep_alive_timeout(self.limits.header_read_timeout);
        let conn = builder.serve_connection_with_upgrades(io, service);
        let mut conn = std::pin::pin!(conn);
        tokio::select! {
            _ = conn.as_mut() => return,
            _ = self.cancel.cancelled() => {}
            why = activity.expired(&self.limits) => closed(why),
        }
        // HTTP/1.1 closes once idle, HTTP/2 sends GOAWAY; a request in flight may finish
        // (the request timeout bounds it), a half-sent one is dropped.
        conn.as_mut().graceful_shutdown();
        loop {
            tokio::select! {
                _ = conn.as_mut() => return,
                _ = tokio::time::sleep(CLOSE_GRACE) => {
                    if activity.in_flight() == 0 {
                        return;
                    }
                }
            }
        }
    }
}

/// Counts a connection the broker closed for a timeout.
fn closed(why: &'static str) {
    metrics::counter!("idbroker_connections_closed_total", "reason" => why).increment(1);
}

/// What a connection is doing, for its deadlines:
/// - until its first request, the head must arrive within `header_read_timeout` (the TLS
///   handshake has its own, equal, deadline before that);
/// - with no request in flight, it is closed `idle_timeout` after the last one ended;
/// - on HTTP/1.1, once a byte of the next request has arrived, its head must follow within
///   `header_read_timeout` (HTTP/2 frames such as PING acknowledgements are not requests, so
///   there only the idle deadline applies).
struct Activity {
    start: Instant,
    in_flight: AtomicUsize,
    started: AtomicBool,
    http1: AtomicBool,
    /// Milliseconds since `start` when the last request ended.
    idle_since: AtomicU64,
    /// Milliseconds since `start` of the first byte read while idle; [`NONE`] if none.
    head_since: AtomicU64,
}

const NONE: u64 = u64::MAX;

impl Activity {
    fn new() -> Activity {
        Activity {
            start: Instant::now(),
            in_flight: AtomicUsize::new(0),
            started: AtomicBool::new(false),
            http1: AtomicBool::new(false),
            idle_since: AtomicU64::new(0),
            head_since: AtomicU64::new(NONE),
        }
    }

    fn millis(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(NONE - 1)
    }

    fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    fn request_started(self: &Arc<Self>, http1: bool) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        self.started.store(true, Ordering::SeqCst);
        self.http1.store(http1, Ordering::SeqCst);
        InFlight(self.clone())
    }

    /// Bytes arrived.
    fn read(&self) {
        if self.in_flight() == 0
            && self.started.load(Ordering::SeqCst)
            && self.head_since.load(Ordering::SeqCst) == NONE
        {
            self.head_since.store(self.millis(), Ordering::SeqCst);
        }
    }

    /// When the connection is to be closed, and why; `None` while a request is in flight.
    fn deadline(&self, limits: &ServerLimits) -> Option<(Instant, &'static str)> {
        if self.in_flight() > 0 {
            return None;
        }
        if !self.started.load(Ordering::SeqCst) {
            return Some((self.start + limits.header_read_timeout, "header_timeout"));
        }
        let at = |ms: u64| self.start + Duration::from_millis(ms);
        let idle = at(self.idle_since.load(Ordering::SeqCst)) + limits.idle_timeout;
        let head_since = self.head_since.load(Ordering::SeqCst);
        if head_since != NONE && self.http1.load(Ordering::SeqCst) {
            let head = at(head_since) + limits.header_read_timeout;
            if head < idle {
                return Some((head, "header_timeout"));
            }
        }
        Some((idle, "idle_timeout"))
    }

    /// Resolves when a deadline has passed, with the reason.
    ///
    /// Nothing wakes this task when a request starts, ends or its first bytes arrive:
    /// that cost a wake-up and a timer per request. Deadlines only move later, except the
    /// head deadline that arriving bytes set, and that one is at least `header_read_timeout`
    /// after now. So the task looks again at the earliest deadline it knows, or
    /// `header_read_timeout` from now, whichever comes first, and never misses one.
    async fn expired(&self, limits: &ServerLimits) -> &'static str {
        loop {
            let now = Instant::now();
            let mut wake = now + limits.header_read_timeout;
            if let Some((at, why)) = self.deadline(limits) {
                if now >= at {
                    return why;
                }
                wake = wake.min(at);
            }
            tokio::time::sleep_until(wake.into()).await;
        }
    }
}

/// One request in flight; dropping it ends the request.
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let a = &self.0;
        a.idle_since.store(a.millis(), Ordering::SeqCst);
        a.head_since.store(NONE, Ordering::SeqCst);
        a.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The connection's stream, telling [`Activity`] when bytes arrive.
struct Watched<S> {
    inner: S,
    activity: Arc<Activity>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.read();
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_leaves_room_for_the_broker_s_own_files() {
        assert_eq!(connection_cap(10_000, None), 10_000);
        assert_eq!(connection_cap(10_000, Some(1_048_576)), 10_000);
        assert_eq!(connection_cap(10_000, Some(1024)), 896);
        assert_eq!(connection_cap(10_000, Some(256)), 128);
        assert_eq!(connection_cap(10_000, Some(100)), 50);
        assert_eq!(connection_cap(50, Some(1024)), 50);
        assert_eq!(connection_cap(10_000, Some(0)), 1);
    }
}
