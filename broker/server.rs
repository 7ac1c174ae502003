//! Starting and serving: open the store, load the keys, assemble the broker, accept
//! connections until told to stop, then finish in-flight requests.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::keys::KeyRing;
use crate::policy::Policy;
use crate::policy::StorePolicy;
use crate::service::{Broker, StartError};
use crate::store::embedded::EmbeddedKv;
use crate::store::redis::RedisKv;
use crate::store::{Backend, REDIS_KEY_PREFIX, Store, StoreError};

/// Opens the engine the policy names: the redb file (created with its directory if missing)
/// or a connection to Redis with keys under [`crate::store::REDIS_KEY_PREFIX`].
pub async fn open_backend(policy: &StorePolicy) -> Result<Backend, StoreError> {
    use secrecy::ExposeSecret as _;
    match policy {
        StorePolicy::Embedded { path } => {
            let path = path.clone();
            let kv = tokio::task::spawn_blocking(move || EmbeddedKv::open(&path))
                .await
                .map_err(|e| StoreError::Unavailable(format!("opening the store failed: {e}")))??;
            kv.spawn_flusher();
            Ok(Backend::Embedded(kv))
        }
        StorePolicy::Redis { url } => Ok(Backend::Redis(
            RedisKv::connect(url.expose_secret(), REDIS_KEY_PREFIX).await?,
        )),
    }
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

/// Serves `broker` on `listener` (HTTPS when the policy has `tls`) until `cancel` fires, then
/// stops accepting, lets in-flight requests finish within [`SHUTDOWN_GRACE`] and flushes the
/// audit sink.
pub async fn serve(
    broker: Arc<Broker>,
    listener: TcpListener,
    cancel: CancellationToken,
) -> std::io::Result<()> {
    let result = match broker.policy().tls.clone() {
        None => serve_plain(broker.clone(), listener, cancel).await,
        Some(files) => serve_tls(broker.clone(), listener, cancel, &files).await,
    };
    broker.audit.flush().await;
    result
}

async fn serve_plain(
    broker: Arc<Broker>,
    listener: TcpListener,
    cancel: CancellationToken,
) -> std::io::Result<()> {
    let app = crate::http::router(broker);
    let stopping = cancel.clone();
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move { stopping.cancelled().await });
    let mut server = std::pin::pin!(server.into_future());
    tokio::select! {
        done = &mut server => return done,
        _ = cancel.cancelled() => {}
    }
    match tokio::time::timeout(SHUTDOWN_GRACE, server).await {
        Ok(done) => done,
        Err(_) => {
            tracing::warn!("in-flight requests did not finish within the shutdown grace period");
            Ok(())
        }
    }
}

async fn serve_tls(
    broker: Arc<Broker>,
    listener: TcpListener,
    cancel: CancellationToken,
    files: &crate::policy::TlsFiles,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo};
    let resolver = crate::tls::CertResolver::load(files).map_err(std::io::Error::other)?;
    resolver.spawn_reloader(cancel.clone());
    let config = crate::tls::server_config(resolver).map_err(std::io::Error::other)?;
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let app = crate::http::router(broker);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
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
        let acceptor = acceptor.clone();
        let app = app.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            // A client that never finishes its handshake must not hold a task forever.
            let Ok(Ok(stream)) =
                tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await
            else {
                return;
            };
            let service =
                hyper::service::service_fn(move |mut req: http::Request<hyper::body::Incoming>| {
                    req.extensions_mut()
                        .insert(axum::extract::ConnectInfo(peer));
                    let mut app = app.clone();
                    async move { tower::Service::call(&mut app, req).await }
                });
            let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            let _ = watcher.watch(conn.into_owned()).await;
        });
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(SHUTDOWN_GRACE) => {
            tracing::warn!("in-flight requests did not finish within the shutdown grace period");
        }
    }
    Ok(())
}

/// Longest a TLS handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
