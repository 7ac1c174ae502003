//! The Redis engine: every replica shares one Redis, so sessions, codes, refresh tokens and
//! rate limits are the same wherever a request lands.
//!
//! - Every key is prefixed (`idb:` by default), so the broker can share a Redis database.
//! - Commands go through one [`ConnectionManager`] (multiplexed, reconnects by itself). Each
//!   command is bounded by [`OP_TIMEOUT`]: when Redis is down or stalls, a call fails with
//!   [`StoreError::Unavailable`] in about that time instead of hanging a request.
//! - [`KvBackend::commit`] is one Lua script ([`COMMIT_LUA`]), which Redis runs atomically:
//!   the checks and the writes see no other client in between.
//! - Invalidation messages go through Redis pub/sub on `{prefix}events`. A background task
//!   holds its own pub/sub connection and forwards messages to local subscribers. When that
//!   connection is lost it reconnects forever, with backoff, and after each reconnect sends
//!   [`super::MSG_ALL`] to local subscribers: messages published while it was away are lost,
//!   so caches must drop everything they hold.
//!
//! Needs Redis 6.2 or later (`GETDEL`). Expiry is Redis's own, with millisecond precision,
//! so [`KvBackend::sweep`] has nothing to do.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use futures::StreamExt as _;
use redis::aio::{ConnectionManager, ConnectionManagerConfig, PubSub};
use redis::{Client, RedisResult, Script};
use tokio::sync::broadcast;
use tokio_util::sync::{CancellationToken, DropGuard};

use super::backend::{DumpData, DumpEntry, Expect, KvBackend, Txn, Write};
use super::{MSG_ALL, MSG_DOWN, StoreError};

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

/// The optimistic transaction of [`KvBackend::commit`], as one atomic script.
///
/// `KEYS`: the keys of the checks, then the keys of the writes, in order. `ARGV[1]`: the
/// number of checks; then two arguments per check (`A` absent | `E` equals, expected bytes);
/// then three per write (op, operand, TTL in ms or empty for none), with ops `P` put (operand
/// the value), `D` delete, `S` set add and `R` set remove (operand the member).
///
/// Returns 1 when every check held and every write was applied, 0 when a check failed and
/// nothing was written. Type errors are detected before the first write, so a script that
/// fails does not leave half its writes behind.
///
/// Set expiry follows the contract of [`Write::SetAdd`]: a new set gets the TTL, an expiring
/// set is extended only if the TTL reaches further (`PEXPIRE GT`, written as a comparison so
/// Redis 6.2 works too), a persistent set stays persistent, and no TTL makes it persistent.
pub const COMMIT_LUA: &str = r#"
local nchecks = tonumber(ARGV[1])
local a = 2
for i = 1, nchecks do
  local kind, want = ARGV[a], ARGV[a + 1]
  a = a + 2
  local current = redis.call('GET', KEYS[i])
  if kind == 'A' then
    if current then return 0 end
  elseif current ~= want then
    return 0
  end
end
local first = a
for j = nchecks + 1, #KEYS do
  local op = ARGV[a]
  if op == 'S' or op == 'R' then
    local t = redis.call('TYPE', KEYS[j])['ok']
    if t ~= 'none' and t ~= 'set' then
      return redis.error_reply('WRONGTYPE a set write targets a key holding a ' .. t)
    end
  end
  a = a + 3
end
a = first
for j = nchecks + 1, #KEYS do
  local k, op, x, ttl = KEYS[j], ARGV[a], ARGV[a + 1], ARGV[a + 2]
  a = a + 3
  if op == 'P' then
    if ttl == '' then
      redis.call('SET', k, x)
    else
      redis.call('SET', k, x, 'PX', ttl)
    end
  elseif op == 'D' then
    redis.call('DEL', k)
  elseif op == 'S' then
    local pttl = redis.call('PTTL', k)
    redis.call('SADD', k, x)
    if ttl == '' then
      redis.call('PERSIST', k)
    elseif pttl == -2 or (pttl >= 0 and pttl < tonumber(ttl)) then
      redis.call('PEXPIRE', k, ttl)
    end
  elseif op == 'R' then
    redis.call('SREM', k, x)
  end
end
return 1
"#;

/// `INCR` and, on a counter without expiry (a new one), `PEXPIRE`: the fixed window of
/// [`KvBackend::incr`] (`PEXPIRE NX`, written as a check so Redis 6.2 works too).
const INCR_LUA: &str = r#"
local n = redis.call('INCR', KEYS[1])
if redis.call('PTTL', KEYS[1]) == -1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return n
"#;

/// [`KvBackend::decr`]: `DECR` only on an existing counter above zero (`DECR` keeps the
/// key's TTL), so a late give-back never creates a counter without expiry.
const DECR_LUA: &str = r#"
local n = tonumber(redis.call('GET', KEYS[1]))
if n == nil then
  return 0
end
if n <= 0 then
  return 0
end
return redis.call('DECR', KEYS[1])
"#;

/// The Redis engine.
pub struct RedisKv {
    conn: ConnectionManager,
    prefix: String,
    channel: String,
    commit_script: Script,
    incr_script: Script,
    decr_script: Script,
    tx: broadcast::Sender<String>,
    /// Stops the pub/sub task when the engine is dropped.
    _stop: DropGuard,
}

impl RedisKv {
    /// Connects to `url` (`redis://[user:password@]host:port/db`, or `rediss://` for TLS) and
    /// subscribes to the event channel. Every key is stored as `{prefix}{key}`.
    ///
    /// Fails with [`StoreError::Unavailable`] when Redis cannot be reached within
    /// [`OP_TIMEOUT`]; once connected, the engine survives Redis restarts by itself.
    pub async fn connect(url: &str, prefix: &str) -> Result<RedisKv, StoreError> {
        // The URL may carry a password: never echo it, nor the parser's message about it.
        let client = Client::open(url).map_err(|_| {
            StoreError::Unavailable(
                "the Redis URL does not parse (expected redis://[user:password@]host:port/db \
                 or rediss://…)"
                    .into(),
            )
        })?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(OP_TIMEOUT))
            .set_response_timeout(Some(OP_TIMEOUT))
            // Few, quick retries inside one call: a call must fail fast when Redis is down.
            // The manager starts a new connection attempt on the next call anyway.
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(500));
        let conn = bounded("connect", client.get_connection_manager_with_config(config)).await?;
        let channel = format!("{prefix}events");
        let pubsub = subscribe(&client, &channel).await?;
        let (tx, _) = broadcast::channel(CHANNEL_CAPACITY);
        let stop = CancellationToken::new();
        tokio::spawn(forward_events(
            client,
            channel.clone(),
            tx.clone(),
            stop.clone(),
            pubsub,
        ));
        Ok(RedisKv {
            conn,
            prefix: prefix.to_owned(),
            channel,
            commit_script: Script::new(COMMIT_LUA),
            incr_script: Script::new(INCR_LUA),
            decr_script: Script::new(DECR_LUA),
            tx,
            _stop: stop.drop_guard(),
        })
    }

    /// Every key starting with `full_prefix` (already prefixed), sorted. SCAN may return a
    /// key more than once; the set removes duplicates.
    async fn scan_keys(
        &self,
        full_prefix: &str,
    ) -> Result<std::collections::BTreeSet<String>, StoreError> {
        let pattern = format!("{}*", escape_glob(full_prefix));
        let mut conn = self.conn();
        let mut keys = std::collections::BTreeSet::new();
        let mut cursor: u64 = 0;
        loop {
            let mut cmd = redis::cmd("SCAN");
            cmd.arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(1000);
            let (next, batch): (u64, Vec<String>) =
                bounded("SCAN", cmd.query_async(&mut conn)).await?;
            keys.extend(batch);
            if next == 0 {
                return Ok(keys);
            }
            cursor = next;
        }
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// A handle for one command (the manager is a cheap, shared, multiplexed handle).
    fn conn(&self) -> ConnectionManager {
        self.conn.clone()
    }
}

/// Runs one Redis call within [`OP_TIMEOUT`], mapping every failure to `Unavailable`.
async fn bounded<T>(
    what: &str,
    call: impl Future<Output = RedisResult<T>>,
) -> Result<T, StoreError> {
    match tokio::time::timeout(OP_TIMEOUT, call).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(StoreError::Unavailable(format!("redis {what} failed: {e}"))),
        Err(_) => Err(StoreError::Unavailable(format!(
            "redis did not answer {what} within {OP_TIMEOUT:?}"
        ))),
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
async fn subscribe(client: &Client, channel: &str) -> Result<PubSub, StoreError> {
    let mut pubsub = bounded("pub/sub connect", client.get_async_pubsub()).await?;
    bounded("SUBSCRIBE", pubsub.subscribe(channel)).await?;
    Ok(pubsub)
}

/// Forwards published messages to local subscribers until `stop`, reconnecting forever with
/// exponential backoff. After every reconnect it sends [`MSG_ALL`]: what was published while
/// the connection was down is lost, so subscribers must drop everything they cache.
async fn forward_events(
    client: Client,
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
                    attempt = subscribe(&client, &channel) => attempt,
                };
                match attempt {
                    Ok(p) => {
                        tracing::info!("redis pub/sub reconnected; dropping local caches");
                        let _ = tx.send(MSG_ALL.to_owned());
                        backoff = RECONNECT_MIN;
                        p
                    }
                    Err(e) => {
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
                    if bounded("pub/sub PING", sink.ping::<redis::Value>()).await.is_err() {
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
        bounded("GET", cmd.query_async(&mut conn)).await
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
        let applied: i64 = bounded("commit script", invocation.invoke_async(&mut conn)).await?;
        Ok(applied == 1)
    }

    async fn take(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let mut conn = self.conn();
        let mut cmd = redis::cmd("GETDEL");
        cmd.arg(self.key(key));
        bounded("GETDEL", cmd.query_async(&mut conn)).await
    }

    async fn incr(&self, key: &str, window: Duration) -> Result<u64, StoreError> {
        let mut conn = self.conn();
        let mut invocation = self.incr_script.prepare_invoke();
        invocation.key(self.key(key)).arg(millis(window));
        let n: i64 = bounded("incr script", invocation.invoke_async(&mut conn)).await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn set_members(&self, key: &str) -> Result<Vec<String>, StoreError> {
        let mut conn = self.conn();
        let mut cmd = redis::cmd("SMEMBERS");
        cmd.arg(self.key(key));
        bounded("SMEMBERS", cmd.query_async(&mut conn)).await
    }

    async fn dump(&self) -> Result<Vec<DumpEntry>, StoreError> {
        let keys = self.scan_keys(&self.key("")).await?;
        let mut conn = self.conn();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let mut out = Vec::new();
        for full in keys {
            let Some(key) = full.strip_prefix(self.prefix.as_str()).map(str::to_owned) else {
                continue;
            };
            let mut pipe = redis::pipe();
            pipe.cmd("TYPE").arg(&full).cmd("PTTL").arg(&full);
            let (kind, pttl): (String, i64) = bounded("TYPE", pipe.query_async(&mut conn)).await?;
            // Gone since the scan (-2); no expiry (-1).
            if pttl == -2 {
                continue;
            }
            let expires_at_ms = (pttl >= 0).then(|| now + pttl as u64);
            let data = match kind.as_str() {
                "string" => {
                    let mut cmd = redis::cmd("GET");
                    cmd.arg(&full);
                    let value: Option<Vec<u8>> = bounded("GET", cmd.query_async(&mut conn)).await?;
                    match value {
                        Some(v) => DumpData::Value(v),
                        None => continue,
                    }
                }
                "set" => {
                    let mut cmd = redis::cmd("SMEMBERS");
                    cmd.arg(&full);
                    let mut members: Vec<String> =
                        bounded("SMEMBERS", cmd.query_async(&mut conn)).await?;
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
        Ok(out)
    }

    async fn scan_prefix(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let keys: Vec<String> = self
            .scan_keys(&self.key(prefix))
            .await?
            .into_iter()
            .collect();
        let mut conn = self.conn();
        let mut out = BTreeMap::new();
        for chunk in keys.chunks(MGET_BATCH) {
            let mut cmd = redis::cmd("MGET");
            cmd.arg(chunk);
            let values: Vec<Option<Vec<u8>>> = bounded("MGET", cmd.query_async(&mut conn)).await?;
            for (full, value) in chunk.iter().zip(values) {
                // Gone since the scan (expired or deleted), or not a plain value (a set).
                let Some(value) = value else { continue };
                if let Some(key) = full.strip_prefix(self.prefix.as_str()) {
                    out.insert(key.to_owned(), value);
                }
            }
        }
        Ok(out.into_iter().collect())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let pong: String = bounded("PING", redis::cmd("PING").query_async(&mut conn)).await?;
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
        let _receivers: i64 = bounded("PUBLISH", cmd.query_async(&mut conn)).await?;
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
        let n: i64 = bounded("decr script", invocation.invoke_async(&mut conn)).await?;
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
