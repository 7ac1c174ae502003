//! Starting and serving: open the store, load the keys, assemble the broker, accept
//! connections until told to stop, then finish in-flight requests.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::keys::KeyRing;
use crate::policy::Policy;
use crate::service::{Broker, StartError};
use crate::store::{Store, open_backend};

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

/// Serves `broker` on `listener` until `cancel` fires, then stops accepting and lets
/// in-flight requests finish.
pub async fn serve(
    broker: Arc<Broker>,
    listener: TcpListener,
    cancel: CancellationToken,
) -> std::io::Result<()> {
    let app = crate::http::router(broker.clone());
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move { cancel.cancelled().await })
    .await?;
    broker.audit.flush().await;
    Ok(())
}
