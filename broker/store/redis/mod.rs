//! The Redis engine: every replica shares one Redis, so sessions, codes, refresh tokens and
//! rate limits are the same wherever a request lands.
//!
//! - Every key is prefixed (`idb:` by default), so the broker can share a Redis database.
//! - Redis is one server, a primary found through Sentinel, or a Cluster ([`link`]). Each
//!   command is bounded by [`OP_TIMEOUT`]: when Redis is down or stalls, a call fails with
//!   [`StoreError::Unavailable`] in about that time instead of hanging a request.
//! - [`KvBackend::commit`] is one Lua script ([`scripts::COMMIT_LUA`]), which Redis runs
//!   atomically: the checks and the writes see no other client in between. On a Cluster the
//!   keys of one transaction share a hash tag ([`super::slots`]), so the script runs on one
//!   node.
//! - With a [`WaitPolicy`], a commit that is not relaxed and a take are acknowledged only
//!   once that many replicas have them (`WAIT`): a refresh rotation or a code redemption
//!   that a failover could undo is reported as failed, never as done.
//! - Invalidation messages go through Redis pub/sub on `{prefix}events`. A background task
//!   holds its own pub/sub connection and forwards messages to local subscribers. When that
//!   connection is lost it reconnects forever, with backoff, and after each reconnect sends
//!   [`super::MSG_ALL`] to local subscribers: messages published while it was away are lost,
//!   so caches must drop everything they hold.
//!
//! Needs Redis 6.2 or later (`GETDEL`). Expiry is Redis's own, with millisecond precision,
//! so [`KvBackend::sweep`] has nothing to do.

pub mod link;
mod scripts;

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt as _;
use redis::aio::PubSub;
use redis::{RedisResult, Script, Value};
use tokio::sync::broadcast;
use tokio_util::sync::{CancellationToken, DropGuard};

use super::backend::{DumpData, DumpEntry, Expect, KvBackend, Txn, Write};
use super::{MSG_ALL, MSG_DOWN, StoreError};
use link::{Conn, Link};
pub use link::{Topology, WaitPolicy};
use scripts::{COMMIT_LUA, DECR_LUA, INCR_LUA};

/// The longest any one Redis command may take, connection included.
pub const OP_TIMEOUT: Duration = Duration::from_secs(2);

/// How often the pub/sub connection is pinged to notice a half-open connection (a peer that
/// vanished without closing the socket).
const PUBSUB_HEALTH_EVERY: Duration = Duration::from_secs(5);
/// Backoff of the pub/sub reconnection loop.
const RECONNECT_MIN: Duration = Duration::from_millis(100);
const RECONNECT_MAX: Duration = Duration::from_secs(5);

/// Capacity of the local fan-out channel (see [`super::embedded`] for the same choice).
const CHANNEL_CAPACITY: usize = 1024;
/// Keys per `MGET` in [`KvBackend::scan_prefix`].
const MGET_BATCH: usize = 256;
/// Concurrent `GET`s of a cluster listing (its keys may sit on any node).
const CLUSTER_GETS: usize = 32;

/// The Redis engine.
pub struct RedisKv {
    link: Arc<Link>,
    prefix: String,
    channel: String,
    wait: Option<WaitPolicy>,
    commit_script: Script,
    incr_script: Script,
    decr_script: Script,
    tx: broadcast::Sender<String>,
    /// Stops the pub/sub task when the engine is dropped.
    _stop: DropGuard,
}

impl RedisKv {
    /// Connects to one server at `url` (`redis://[user:password@]host:port/db`, or
    /// `rediss://` for TLS), without `WAIT`. See [`RedisKv::open`].
    pub async fn connect(url: &str, prefix: &str) -> Result<RedisKv, StoreError> {
        RedisKv::open(
            &Topology::Single {
                url: url.to_owned(),
            },
            prefix,
            None,
        )
        .await
    }

    /// Connects in `topology` and subscribes to the event channel. Every key is stored as
    /// `{prefix}{key}` (on a Cluster, `{prefix}{{group}}{key}` for keys of a named slot
    /// group).
    ///
    /// Fails with [`StoreError::Unavailable`] when Redis cannot be reached within
    /// [`OP_TIMEOUT`]; once connected, the engine survives Redis restarts (and, with
    /// Sentinel or Cluster, failovers) by itself.
    pub async fn open(
        topology: &Topology,
        prefix: &str,
        wait: Option<WaitPolicy>,
    ) -> Result<RedisKv, StoreError> {
        if prefix.contains(['{', '}']) {
            return Err(StoreError::Unavailable(
                "the Redis key prefix may not hold `{` or `}` (hash tags are the engine's)".into(),
            ));
        }
        let link = Arc::new(Link::connect(topology).await?);
        let channel = format!("{prefix}events");
        let pubsub = subscribe(&link, &channel).await?;
        let (tx, _) = broadcast::channel(CHANNEL_CAPACITY);
        let stop = CancellationToken::new();
        tokio::spawn(forward_events(
            Arc::clone(&link),
            channel.clone(),
            tx.clone(),
            stop.clone(),
            pubsub,
        ));
        Ok(RedisKv {
            link,
            prefix: prefix.to_owned(),
            channel,
            wait: wait.filter(|w| w.replicas > 0),
            commit_script: Script::new(COMMIT_LUA),
            incr_script: Script::new(INCR_LUA),
            decr_script: Script::new(DECR_LUA),
            tx,
            _stop: stop.drop_guard(),
        })
    }

    /// One call, bounded; a failure tells the link (a Sentinel link then looks for the
    /// primary).
    async fn call<T>(
        &self,
        what: &str,
        call: impl Future<Output = RedisResult<T>>,
    ) -> Result<T, StoreError> {
        let result = link::bounded(what, call).await;
        if result.is_err() {
            self.link.failed();
        }
        result
    }

    /// After a write to `key` that must survive a failover: `WAIT` for the replicas.
    async fn replicated(&self, key: &str) -> Result<(), StoreError> {
        let Some(policy) = self.wait else {
            return Ok(());
        };
        let acked = self
            .link
            .wait(key, policy)
            .await
            .inspect_err(|_| self.link.failed())?;
        if acked >= policy.replicas {
            Ok(())
        } else {
            metrics::counter!("idbroker_store_unreplicated_writes_total").increment(1);
            Err(StoreError::Unavailable(format!(
                "a write reached {acked} of {} replicas within {:?}; it is not acknowledged",
                policy.replicas, policy.timeout
            )))
        }
    }

    /// Every key starting with `full_prefix` (already prefixed), sorted. SCAN may return a
    /// key more than once; the set removes duplicates. On a Cluster every primary is
    /// scanned.
    async fn scan_keys(
        &self,
        full_prefix: &str,
    ) -> Result<std::collections::BTreeSet<String>, StoreError> {
        let pattern = format!("{}*", escape_glob(full_prefix));
        let mut keys = std::collections::BTreeSet::new();
        let nodes = self.link.primaries().await?;
        let targets: Vec<Option<(String, u16)>> = match nodes {
            None => vec![None],
            Some(nodes) => nodes.into_iter().map(Some).collect(),
        };
        for target in targets {
            let mut cursor: u64 = 0;
            loop {
                let mut cmd = redis::cmd("SCAN");
                cmd.arg(cursor)
                    .arg("MATCH")
                    .arg(&pattern)
                    .arg("COUNT")
                    .arg(1000);
                let (next, batch): (u64, Vec<String>) = match &target {
                    None => {
                        let mut conn = self.conn();
                        self.call("SCAN", cmd.query_async(&mut conn)).await?
                    }
                    Some((host, port)) => {
                        let value = self.link.on_node(host, *port, cmd).await?;
                        redis::from_redis_value(value).map_err(|e| {
                            StoreError::Unavailable(format!("redis SCAN answered oddly: {e}"))
                        })?
                    }
                };
                keys.extend(batch);
                if next == 0 {
                    break;
                }
                cursor = next;
            }
        }
        Ok(keys)
    }

    /// The stored form of a logical key: the prefix, then on a Cluster the hash tag of its
    /// slot group.
    fn key(&self, key: &str) -> String {
        match self.cluster_tag(key) {
            Some(tag) => format!("{}{{{tag}}}{key}", self.prefix),
            None => format!("{}{key}", self.prefix),
        }
    }

    fn cluster_tag<'k>(&self, key: &'k str) -> Option<&'k str> {
        if !self.link.is_cluster() {
            return None;
        }
        match super::slots::group(key) {
            super::slots::Group::Named(tag) => Some(tag),
            super::slots::Group::Own(_) => None,
        }
    }

    /// The logical key of a stored one (the inverse of [`RedisKv::key`]).
    fn logical<'k>(&self, full: &'k str) -> Option<&'k str> {
        let rest = full.strip_prefix(self.prefix.as_str())?;
        if self.link.is_cluster() && rest.starts_with('{') {
            return rest.split_once('}').map(|(_, key)| key);
        }
        Some(rest)
    }

    /// A handle for one command (a cheap, shared, multiplexed handle).
    fn conn(&self) -> Conn {
        self.link.conn()
    }

    /// The values of `keys` (stored form), `None` where absent or not a plain value.
    async fn values(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        if self.link.is_cluster() {
            // The keys may sit on any node: one GET each, a few at a time.
            let mut out = Vec::with_capacity(keys.len());
            for chunk in keys.chunks(CLUSTER_GETS) {
                let mut gets = Vec::with_capacity(chunk.len());
                for key in chunk {
                    let mut conn = self.conn();
                    // MGET of one key: a set is "absent" to it, where GET is an error.
                    let mut cmd = redis::cmd("MGET");
                    cmd.arg(key);
                    gets.push(async move {
                        let mut one: Vec<Option<Vec<u8>>> = cmd.query_async(&mut conn).await?;
                        Ok::<_, redis::RedisError>(one.pop().flatten())
                    });
                }
                let all = futures::future::join_all(gets);
                let values: Vec<Option<Vec<u8>>> = self
                    .call("GET", async { all.await.into_iter().collect() })
                    .await?;
                out.extend(values);
            }
            return Ok(out);
        }
        let mut out = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(MGET_BATCH) {
            let mut conn = self.conn();
            let mut cmd = redis::cmd("MGET");
            cmd.arg(chunk);
            let values: Vec<Option<Vec<u8>>> =
                self.call("MGET", cmd.query_async(&mut conn)).await?;
            out.extend(values);
        }
        Ok(out)
    }
}

/// A TTL in whole milliseconds, at least one (Redis refuses `PX 0`).
fn millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

/// Escapes the glob characters of a `SCAN MATCH` pattern (`*`, `?`, `[`, `]`, `\`).
pub fn escape_glob(literal: &str) -> String {
    let mut out = String::with_capacity(literal.len() + 2);
    for c in literal.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A new pub/sub connection subscribed to `channel`.
async fn subscribe(link: &Link, channel: &str) -> Result<PubSub, StoreError> {
    let client = link.pubsub_client().await?;
    let mut pubsub = link::bounded("pub/sub connect", client.get_async_pubsub()).await?;
    link::bounded("SUBSCRIBE", pubsub.subscribe(channel)).await?;
    Ok(pubsub)
}

/// Forwards published messages to local subscribers until `stop`, reconnecting forever with
/// exponential backoff. After every reconnect it sends [`MSG_ALL`]: what was published while
/// the connection was down is lost, so subscribers must drop everything they cache.
async fn forward_events(
    link: Arc<Link>,
    channel: String,
    tx: broadcast::Sender<String>,
    stop: CancellationToken,
    first: PubSub,
) {
    let mut next = Some(first);
    let mut backoff = RECONNECT_MIN;
    loop {
        let pubsub = match next.take() {
            Some(p) => p,
            None => {
                let attempt = tokio::select! {
                    () = stop.cancelled() => return,
                    attempt = subscribe(&link, &channel) => attempt,
                };
                match attempt {
                    Ok(p) => {
                        tracing::info!("redis pub/sub reconnected; dropping local caches");
                        let _ = tx.send(MSG_ALL.to_owned());
                        backoff = RECONNECT_MIN;
                        p
                    }
                    Err(e) => {
                        link.failed();
                        tracing::warn!(error = %e, retry_in = ?backoff, "redis pub/sub reconnect failed");
                        tokio::select! {
                            () = stop.cancelled() => return,
                            () = tokio::time::sleep(backoff) => {}
                        }
                        backoff = (backoff * 2).min(RECONNECT_MAX);
                        continue;
                    }
                }
            }
        };
        let (mut sink, mut stream) = pubsub.split();
        let mut health = tokio::time::interval(PUBSUB_HEALTH_EVERY);
        health.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        health.tick().await;
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                msg = stream.next() => match msg {
                    Some(msg) => {
                        if let Ok(text) = msg.get_payload::<String>() {
                            let _ = tx.send(text);
                        }
                    }
                    None => break,
                },
                _ = health.tick() => {
                    if link::bounded("pub/sub PING", sink.ping::<Value>()).await.is_err() {
                        break;
                    }
                }
            }
        }
        tracing::warn!("lost the redis pub/sub connection; reconnecting");
        // Until the reconnect (and its MSG_ALL), messages are being missed.
        let _ = tx.send(MSG_DOWN.to_owned());
    }
}

impl KvBackend for RedisKv {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let mut conn = self.conn();
        let mut cmd = redis::cmd("GET");
        cmd.arg(self.key(key));
        self.call("GET", cmd.query_async(&mut conn)).await
    }

    async fn commit(&self, txn: Txn) -> Result<bool, StoreError> {
        if txn.writes.is_empty() && txn.checks.is_empty() {
            return Ok(true);
        }
        let mut invocation = self.commit_script.prepare_invoke();
        invocation.arg(txn.checks.len());
        for check in &txn.checks {
            invocation.key(self.key(&check.key));
            match &check.expect {
                Expect::Absent => invocation.arg("A").arg(""),
                Expect::Equals(bytes) => invocation.arg("E").arg(bytes.as_slice()),
            };
        }
        for write in &txn.writes {
            let ttl = |t: &Option<Duration>| t.map(|t| millis(t).to_string()).unwrap_or_default();
            match write {
                Write::Put { key, value, ttl: t } => invocation
                    .key(self.key(key))
                    .arg("P")
                    .arg(value.as_slice())
                    .arg(ttl(t)),
                Write::Delete { key } => invocation.key(self.key(key)).arg("D").arg("").arg(""),
                Write::SetAdd {
                    key,
                    member,
                    ttl: t,
                } => invocation
                    .key(self.key(key))
                    .arg("S")
                    .arg(member.as_str())
                    .arg(ttl(t)),
                Write::SetRemove { key, member } => invocation
                    .key(self.key(key))
                    .arg("R")
                    .arg(member.as_str())
                    .arg(""),
            };
        }
        let mut conn = self.conn();
        // EVALSHA, falling back to EVAL (which caches the script) on NOSCRIPT.
        let applied: i64 = self
            .call("commit script", invocation.invoke_async(&mut conn))
            .await?;
        if applied == 1 && !txn.relaxed && !txn.writes.is_empty() {
            let first = super::slots::keys(&txn).next().unwrap_or_default();
            self.replicated(&self.key(first)).await?;
        }
        Ok(applied == 1)
    }

    async fn take(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let mut conn = self.conn();
        let mut cmd = redis::cmd("GETDEL");
        let full = self.key(key);
        cmd.arg(&full);
        let taken: Option<Vec<u8>> = self.call("GETDEL", cmd.query_async(&mut conn)).await?;
        if taken.is_some() {
            self.replicated(&full).await?;
        }
        Ok(taken)
    }

    async fn incr(&self, key: &str, window: Duration) -> Result<u64, StoreError> {
        let mut conn = self.conn();
        let mut invocation = self.incr_script.prepare_invoke();
        invocation.key(self.key(key)).arg(millis(window));
        let n: i64 = self
            .call("incr script", invocation.invoke_async(&mut conn))
            .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn set_members(&self, key: &str) -> Result<Vec<String>, StoreError> {
        let mut conn = self.conn();
        let mut cmd = redis::cmd("SMEMBERS");
        cmd.arg(self.key(key));
        self.call("SMEMBERS", cmd.query_async(&mut conn)).await
    }

    async fn dump(&self) -> Result<Vec<DumpEntry>, StoreError> {
        let keys = self.scan_keys(&self.prefix).await?;
        let mut conn = self.conn();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let mut out = Vec::new();
        for full in keys {
            let Some(key) = self.logical(&full).map(str::to_owned) else {
                continue;
            };
            let mut pipe = redis::pipe();
            pipe.cmd("TYPE").arg(&full).cmd("PTTL").arg(&full);
            let (kind, pttl): (String, i64) =
                self.call("TYPE", pipe.query_async(&mut conn)).await?;
            // Gone since the scan (-2); no expiry (-1).
            if pttl == -2 {
                continue;
            }
            let expires_at_ms = (pttl >= 0).then(|| now + pttl as u64);
            let data = match kind.as_str() {
                "string" => {
                    let mut cmd = redis::cmd("GET");
                    cmd.arg(&full);
                    let value: Option<Vec<u8>> =
                        self.call("GET", cmd.query_async(&mut conn)).await?;
                    match value {
                        Some(v) => DumpData::Value(v),
                        None => continue,
                    }
                }
                "set" => {
                    let mut cmd = redis::cmd("SMEMBERS");
                    cmd.arg(&full);
                    let mut members: Vec<String> =
                        self.call("SMEMBERS", cmd.query_async(&mut conn)).await?;
                    members.sort();
                    DumpData::Set(members)
                }
                // Nothing else is written under the prefix.
                _ => continue,
            };
            out.push(DumpEntry {
                key,
                data,
                expires_at_ms,
            });
        }
        // Ordered by logical key (a cluster's hash tags order the stored keys otherwise).
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    async fn scan_prefix(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        // On a Cluster the hash tag depends on the family: a prefix that names one
        // (`v1/user/…`) has one tag; a shorter one (`v1/`) spans every tag, so every key is
        // scanned and filtered here.
        let names_family = prefix
            .strip_prefix("v1/")
            .is_some_and(|rest| rest.contains('/'));
        let keys: Vec<String> = if !self.link.is_cluster() || names_family {
            self.scan_keys(&self.key(prefix))
                .await?
                .into_iter()
                .collect()
        } else {
            self.scan_keys(&self.prefix)
                .await?
                .into_iter()
                .filter(|full| self.logical(full).is_some_and(|k| k.starts_with(prefix)))
                .collect()
        };
        let values = self.values(&keys).await?;
        let mut out = BTreeMap::new();
        for (full, value) in keys.iter().zip(values) {
            // Gone since the scan (expired or deleted), or not a plain value (a set).
            let Some(value) = value else { continue };
            if let Some(key) = self.logical(full) {
                out.insert(key.to_owned(), value);
            }
        }
        Ok(out.into_iter().collect())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        // A cluster is ready when every primary answers (a slot without one is lost).
        if let Some(primaries) = self
            .link
            .primaries()
            .await
            .inspect_err(|_| self.link.failed())?
        {
            for (host, port) in primaries {
                self.link.on_node(&host, port, redis::cmd("PING")).await?;
            }
            return Ok(());
        }
        let mut conn = self.conn();
        let pong: String = self
            .call("PING", redis::cmd("PING").query_async(&mut conn))
            .await?;
        if pong == "PONG" {
            Ok(())
        } else {
            Err(StoreError::Unavailable(format!(
                "redis answered PING with {pong:?}"
            )))
        }
    }

    async fn publish(&self, message: &str) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let mut cmd = redis::cmd("PUBLISH");
        cmd.arg(&self.channel).arg(message);
        let _receivers: i64 = self.call("PUBLISH", cmd.query_async(&mut conn)).await?;
        Ok(())
    }

    fn subscribe(&self) -> broadcast::Receiver<String> {
        self.tx.subscribe()
    }

    async fn sweep(&self) -> Result<u64, StoreError> {
        // Redis expires keys itself.
        Ok(0)
    }

    async fn decr(&self, key: &str) -> Result<u64, StoreError> {
        let mut conn = self.conn();
        let mut invocation = self.decr_script.prepare_invoke();
        invocation.key(self.key(key));
        let n: i64 = self
            .call("decr script", invocation.invoke_async(&mut conn))
            .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_characters_are_escaped() {
        assert_eq!(escape_glob("idb:v1/user/"), "idb:v1/user/");
        assert_eq!(escape_glob("a*b?c[d]e\\f"), "a\\*b\\?c\\[d\\]e\\\\f");
    }

    #[test]
    fn ttl_is_whole_milliseconds_at_least_one() {
        assert_eq!(millis(Duration::ZERO), 1);
        assert_eq!(millis(Duration::from_micros(1500)), 1);
        assert_eq!(millis(Duration::from_secs(2)), 2000);
    }
}
