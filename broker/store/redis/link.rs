//! How the Redis engine reaches Redis: one server, a primary found through Sentinel, or a
//! Cluster. The engine sends every command through [`Link::conn`] and reports failures to
//! [`Link::failed`]; each topology does what it needs to follow its servers.
//!
//! - **Single**: one [`ConnectionManager`], which reconnects to the same address by itself.
//! - **Sentinel**: a [`ConnectionManager`] to the primary the sentinels name. After a failure
//!   (the primary is gone, or answers `READONLY` because it is a replica now) one background
//!   task asks the sentinels again and, when they name another primary, swaps in a manager
//!   for it. The call that failed fails (503); the calls after the swap reach the new
//!   primary. No restart is needed.
//! - **Cluster**: the `redis` crate's cluster connection, which follows `MOVED`/`ASK` and
//!   failovers by itself. Keys carry hash tags chosen by [`crate::store::slots`].

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use arc_swap::ArcSwap;
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr};
use redis::sentinel::{SentinelClient, SentinelNodeConnectionInfo, SentinelServerType};
use redis::{
    Client, Cmd, ConnectionAddr, ConnectionInfo, IntoConnectionInfo, Pipeline, RedisConnectionInfo,
    RedisFuture, RedisResult, TlsMode, Value,
};

use super::OP_TIMEOUT;
use crate::store::StoreError;

/// Where the broker's Redis is, as the policy says (`store.topology`).
#[derive(Debug, Clone)]
pub enum Topology {
    /// One server: `redis://[user:password@]host:port/db` or `rediss://…`.
    Single { url: String },
    /// The sentinels of `service`. Their URLs give the data nodes' credentials, database and
    /// TLS; the sentinels' own password, if they have one, is `sentinel_password`.
    Sentinel {
        sentinels: Vec<String>,
        service: String,
        sentinel_password: Option<String>,
    },
    /// Seed nodes of a Redis Cluster (any of its nodes; the rest are discovered).
    Cluster { nodes: Vec<String> },
}

/// "Acknowledge a write only once this many replicas have it" (Redis `WAIT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitPolicy {
    pub replicas: u32,
    pub timeout: Duration,
}

/// The URL does not parse; never echo it, it may carry a password.
fn bad_url(what: &str) -> StoreError {
    StoreError::Unavailable(format!(
        "a Redis URL of {what} does not parse (expected redis://[user:password@]host:port/db \
         or rediss://…)"
    ))
}

fn manager_config() -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_connection_timeout(Some(OP_TIMEOUT))
        .set_response_timeout(Some(OP_TIMEOUT))
        // Few, quick retries inside one call: a call must fail fast when Redis is down.
        // The manager starts a new connection attempt on the next call anyway.
        .set_number_of_retries(1)
        .set_min_delay(Duration::from_millis(50))
        .set_max_delay(Duration::from_millis(500))
}

/// A connection for one command: cheap to clone, shared and multiplexed underneath.
#[derive(Clone)]
pub enum Conn {
    Manager(ConnectionManager),
    Cluster(ClusterConnection),
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Conn::Manager(c) => c.req_packed_command(cmd),
            Conn::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Conn::Manager(c) => c.req_packed_commands(pipeline, offset, count),
            Conn::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Manager(c) => c.get_db(),
            Conn::Cluster(c) => c.get_db(),
        }
    }
}

/// The connection to Redis in one of its topologies.
pub enum Link {
    Single {
        client: Box<Client>,
        conn: ConnectionManager,
    },
    Sentinel(Arc<SentinelLink>),
    Cluster {
        conn: ClusterConnection,
        /// The seed nodes, for the pub/sub connection.
        seeds: Vec<ConnectionInfo>,
    },
}

/// The primary of a Sentinel deployment, followed across failovers.
pub struct SentinelLink {
    sentinel: tokio::sync::Mutex<SentinelClient>,
    current: ArcSwap<(ConnectionAddr, Client, ConnectionManager)>,
    /// A re-resolution is under way; failures meanwhile do not start another.
    resolving: AtomicBool,
}

impl SentinelLink {
    /// Asks the sentinels for the primary and connects to it.
    async fn resolve(
        sentinel: &tokio::sync::Mutex<SentinelClient>,
    ) -> Result<(ConnectionAddr, Client, ConnectionManager), StoreError> {
        let mut sentinel = sentinel.lock().await;
        let client = bounded(
            "ask the sentinels for the primary",
            sentinel.async_get_client(),
        )
        .await?;
        drop(sentinel);
        let addr = client.get_connection_info().addr().clone();
        let conn = bounded(
            "connect to the primary",
            client.get_connection_manager_with_config(manager_config()),
        )
        .await?;
        Ok((addr, client, conn))
    }

    /// After a failure: ask the sentinels again, in the background, one at a time, and
    /// switch to the primary they name if it is another one.
    fn follow(self: &Arc<Self>) {
        if self.resolving.swap(true, Ordering::AcqRel) {
            return;
        }
        let link = Arc::clone(self);
        tokio::spawn(async move {
            match SentinelLink::resolve(&link.sentinel).await {
                Ok(next) if next.0 != link.current.load().0 => {
                    tracing::warn!(primary = %next.0, "redis sentinel named a new primary; switching to it");
                    link.current.store(Arc::new(next));
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "asking the redis sentinels failed"),
            }
            // At most one question a quarter second, however many calls fail.
            tokio::time::sleep(Duration::from_millis(250)).await;
            link.resolving.store(false, Ordering::Release);
        });
    }
}

/// Runs one call within [`OP_TIMEOUT`], mapping every failure to `Unavailable`.
pub async fn bounded<T>(
    what: &str,
    call: impl std::future::Future<Output = RedisResult<T>>,
) -> Result<T, StoreError> {
    match tokio::time::timeout(OP_TIMEOUT, call).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(StoreError::Unavailable(format!("redis {what} failed: {e}"))),
        Err(_) => Err(StoreError::Unavailable(format!(
            "redis did not answer {what} within {OP_TIMEOUT:?}"
        ))),
    }
}

fn parse(url: &str, what: &str) -> Result<ConnectionInfo, StoreError> {
    url.into_connection_info().map_err(|_| bad_url(what))
}

impl Link {
    /// Connects in `topology`; fails with `Unavailable` when Redis cannot be reached within
    /// [`OP_TIMEOUT`].
    pub async fn connect(topology: &Topology) -> Result<Link, StoreError> {
        match topology {
            Topology::Single { url } => {
                let client =
                    Client::open(parse(url, "store.url")?).map_err(|_| bad_url("store.url"))?;
                let conn = bounded(
                    "connect",
                    client.get_connection_manager_with_config(manager_config()),
                )
                .await?;
                Ok(Link::Single {
                    client: Box::new(client),
                    conn,
                })
            }
            Topology::Sentinel {
                sentinels,
                service,
                sentinel_password,
            } => {
                let mut infos = Vec::new();
                for url in sentinels {
                    infos.push(parse(url, "the sentinels")?);
                }
                let Some(first) = infos.first().cloned() else {
                    return Err(bad_url("the sentinels"));
                };
                // The URLs' credentials and database are the data nodes'.
                let data = first.redis_settings().clone();
                let tls = match first.addr() {
                    ConnectionAddr::TcpTls { insecure: true, .. } => Some(TlsMode::Insecure),
                    ConnectionAddr::TcpTls { .. } => Some(TlsMode::Secure),
                    _ => None,
                };
                let mut node =
                    SentinelNodeConnectionInfo::default().set_redis_connection_info(data);
                if let Some(tls) = tls {
                    node = node.set_tls_mode(tls);
                }
                let sentinel_settings = match sentinel_password {
                    Some(p) => RedisConnectionInfo::default().set_password(p),
                    None => RedisConnectionInfo::default(),
                };
                let infos: Vec<ConnectionInfo> = infos
                    .into_iter()
                    .map(|i| i.set_redis_settings(sentinel_settings.clone()))
                    .collect();
                let client = SentinelClient::build(
                    infos,
                    service.as_str(),
                    Some(node),
                    SentinelServerType::Master,
                )
                .map_err(|e| StoreError::Unavailable(format!("redis sentinel: {e}")))?;
                let sentinel = tokio::sync::Mutex::new(client);
                let current = SentinelLink::resolve(&sentinel).await?;
                Ok(Link::Sentinel(Arc::new(SentinelLink {
                    sentinel,
                    current: ArcSwap::from_pointee(current),
                    resolving: AtomicBool::new(false),
                })))
            }
            Topology::Cluster { nodes } => {
                let mut seeds = Vec::new();
                for url in nodes {
                    seeds.push(parse(url, "the cluster nodes")?);
                }
                let client = ClusterClient::builder(seeds.clone())
                    .connection_timeout(OP_TIMEOUT)
                    .response_timeout(OP_TIMEOUT)
                    // Retries follow MOVED and failovers; bounded by OP_TIMEOUT per call.
                    .retries(4)
                    .min_retry_wait(50)
                    .max_retry_wait(500)
                    .build()
                    .map_err(|e| StoreError::Unavailable(format!("redis cluster: {e}")))?;
                let conn = bounded("connect to the cluster", client.get_async_connection()).await?;
                Ok(Link::Cluster { conn, seeds })
            }
        }
    }

    pub fn is_cluster(&self) -> bool {
        matches!(self, Link::Cluster { .. })
    }

    /// A handle for one command.
    pub fn conn(&self) -> Conn {
        match self {
            Link::Single { conn, .. } => Conn::Manager(conn.clone()),
            Link::Sentinel(s) => Conn::Manager(s.current.load().2.clone()),
            Link::Cluster { conn, .. } => Conn::Cluster(conn.clone()),
        }
    }

    /// A call failed: the Sentinel link asks where the primary is now.
    pub fn failed(&self) {
        if let Link::Sentinel(s) = self {
            s.follow();
        }
    }

    /// A client for a new pub/sub connection: the server, the current primary (replicas
    /// see its messages too), or the first cluster node that answers (a cluster broadcasts
    /// `PUBLISH` to every node).
    pub async fn pubsub_client(&self) -> Result<Client, StoreError> {
        match self {
            Link::Single { client, .. } => Ok(Client::clone(client)),
            Link::Sentinel(s) => Ok(s.current.load().1.clone()),
            Link::Cluster { seeds, .. } => {
                let mut last = StoreError::Unavailable("no cluster node given".into());
                for seed in seeds {
                    let Ok(client) = Client::open(seed.clone()) else {
                        continue;
                    };
                    let mut ping = redis::cmd("PING");
                    let attempt = async {
                        let mut c = client.get_multiplexed_async_connection().await?;
                        ping.arg("pubsub").query_async::<Value>(&mut c).await
                    };
                    match bounded("PING a cluster node", attempt).await {
                        Ok(_) => return Ok(client),
                        Err(e) => last = e,
                    }
                }
                Err(last)
            }
        }
    }

    /// Waits until `replicas` replicas have every write sent so far on the connection that
    /// carried the write to `key` (`WAIT`), at most `timeout`. Returns how many have it.
    pub async fn wait(&self, key: &str, policy: WaitPolicy) -> Result<u32, StoreError> {
        let mut cmd = redis::cmd("WAIT");
        cmd.arg(policy.replicas)
            .arg(u64::try_from(policy.timeout.as_millis()).unwrap_or(u64::MAX));
        let acked: i64 = match self {
            Link::Cluster { conn, .. } => {
                // The connection to the primary of the key's slot carried the write.
                let route = Route::with_key(key.as_bytes(), SlotAddr::Master);
                let routing = RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(route));
                let mut conn = conn.clone();
                let value = within(policy, conn.route_command(cmd, routing)).await?;
                redis::from_redis_value(value)
                    .map_err(|e| StoreError::Unavailable(format!("redis WAIT: {e}")))?
            }
            _ => {
                let mut conn = self.conn();
                within(policy, cmd.query_async(&mut conn)).await?
            }
        };
        Ok(u32::try_from(acked).unwrap_or(0))
    }

    /// The primaries of the cluster, for commands that must run on each (`SCAN`); `None`
    /// for the other topologies (one primary).
    pub async fn primaries(&self) -> Result<Option<Vec<(String, u16)>>, StoreError> {
        let Link::Cluster { conn, .. } = self else {
            return Ok(None);
        };
        let mut conn = conn.clone();
        let slots = bounded(
            "CLUSTER SLOTS",
            conn.route_command(
                redis::cmd("CLUSTER").arg("SLOTS").clone(),
                RoutingInfo::SingleNode(SingleNodeRoutingInfo::Random),
            ),
        )
        .await?;
        // [[start, end, [host, port, id, …], replica…], …]
        let ranges: Vec<Vec<Value>> = redis::from_redis_value(slots)
            .map_err(|e| StoreError::Unavailable(format!("redis CLUSTER SLOTS: {e}")))?;
        let mut out: Vec<(String, u16)> = Vec::new();
        for range in ranges {
            let Some(primary) = range.get(2).cloned() else {
                continue;
            };
            let node: (String, u16) = match redis::from_redis_value::<Vec<Value>>(primary) {
                Ok(parts) if parts.len() >= 2 => {
                    match (
                        redis::from_redis_value::<String>(parts[0].clone()),
                        redis::from_redis_value::<u16>(parts[1].clone()),
                    ) {
                        (Ok(h), Ok(p)) => (h, p),
                        _ => continue,
                    }
                }
                _ => continue,
            };
            if !out.contains(&node) {
                out.push(node);
            }
        }
        Ok(Some(out))
    }

    /// Runs `cmd` on the node at `host:port` of the cluster.
    pub async fn on_node(&self, host: &str, port: u16, cmd: Cmd) -> Result<Value, StoreError> {
        let Link::Cluster { conn, .. } = self else {
            let mut conn = self.conn();
            return bounded("a command", cmd.query_async(&mut conn)).await;
        };
        let mut conn = conn.clone();
        let routing = RoutingInfo::SingleNode(SingleNodeRoutingInfo::ByAddress {
            host: host.to_owned(),
            port,
        });
        bounded(
            "a command on a cluster node",
            conn.route_command(cmd, routing),
        )
        .await
    }
}

/// Bounds a `WAIT` by its own timeout plus [`OP_TIMEOUT`] for the round trip.
async fn within<T>(
    policy: WaitPolicy,
    call: impl std::future::Future<Output = RedisResult<T>>,
) -> Result<T, StoreError> {
    match tokio::time::timeout(policy.timeout + OP_TIMEOUT, call).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(StoreError::Unavailable(format!("redis WAIT failed: {e}"))),
        Err(_) => Err(StoreError::Unavailable("redis did not answer WAIT".into())),
    }
}
