//! The primitive key-value contract both storage engines implement.
//!
//! Everything the broker stores is built from these few operations, and every operation is
//! atomic on its own. The one compound operation, [`Txn`], is an optimistic transaction:
//! all its checks hold and all its writes happen, or nothing happens. redb runs it in one
//! write transaction; Redis runs it as one Lua script. Take-once (codes, single-use states)
//! and compare-and-swap (refresh rotation, user updates) are both expressed through it, so
//! a race that would be a security bug is decided by the engine, not by the broker.
//!
//! Keys are UTF-8 strings such as `v1/user/…`; values are opaque bytes. A value may carry a
//! time to live; once it has passed the value is absent for every operation, whether or not
//! the engine has physically removed it yet.

use std::future::Future;
use std::time::Duration;

use super::StoreError;

/// What a [`Check`] expects to find under a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// No live value.
    Absent,
    /// Exactly these bytes.
    Equals(Vec<u8>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub key: String,
    pub expect: Expect,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    /// Store `value` under `key`, replacing any value; `ttl: None` keeps it until deleted.
    Put {
        key: String,
        value: Vec<u8>,
        ttl: Option<Duration>,
    },
    Delete {
        key: String,
    },
    /// Add `member` to the set at `key`. The set's expiry is extended to at least `ttl`
    /// from now (never shortened); `ttl: None` makes the set persistent.
    SetAdd {
        key: String,
        member: String,
        ttl: Option<Duration>,
    },
    SetRemove {
        key: String,
        member: String,
    },
}

/// An optimistic transaction: if every check holds, apply every write, atomically.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Txn {
    pub checks: Vec<Check>,
    pub writes: Vec<Write>,
    /// The change may be lost in a crash (the embedded engine then skips the fsync and
    /// flushes within [`FLUSH_EVERY`]). Only for records whose loss costs the user a retry
    /// and nothing else: login transactions, fresh sessions, fresh codes.
    pub relaxed: bool,
}

/// Longest a relaxed change stays only in memory on the embedded engine.
pub const FLUSH_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

impl Txn {
    pub fn new() -> Txn {
        Txn::default()
    }

    /// See [`Txn::relaxed`]: durable at the next flush, not at commit.
    pub fn relaxed(mut self) -> Txn {
        self.relaxed = true;
        self
    }

    pub fn expect_absent(mut self, key: impl Into<String>) -> Txn {
        self.checks.push(Check {
            key: key.into(),
            expect: Expect::Absent,
        });
        self
    }

    pub fn expect_equals(mut self, key: impl Into<String>, value: Vec<u8>) -> Txn {
        self.checks.push(Check {
            key: key.into(),
            expect: Expect::Equals(value),
        });
        self
    }

    pub fn put(mut self, key: impl Into<String>, value: Vec<u8>, ttl: Option<Duration>) -> Txn {
        self.writes.push(Write::Put {
            key: key.into(),
            value,
            ttl,
        });
        self
    }

    pub fn delete(mut self, key: impl Into<String>) -> Txn {
        self.writes.push(Write::Delete { key: key.into() });
        self
    }

    pub fn set_add(
        mut self,
        key: impl Into<String>,
        member: impl Into<String>,
        ttl: Option<Duration>,
    ) -> Txn {
        self.writes.push(Write::SetAdd {
            key: key.into(),
            member: member.into(),
            ttl,
        });
        self
    }

    pub fn set_remove(mut self, key: impl Into<String>, member: impl Into<String>) -> Txn {
        self.writes.push(Write::SetRemove {
            key: key.into(),
            member: member.into(),
        });
        self
    }
}

/// The primitive operations of a storage engine.
///
/// Implemented by [`super::embedded::EmbeddedKv`] (redb, the default) and
/// [`super::redis::RedisKv`]. Both must pass the same conformance suite
/// (`tests/it/store_conformance.rs`).
pub trait KvBackend: Send + Sync + 'static {
    /// The live value under `key`.
    fn get(&self, key: &str) -> impl Future<Output = Result<Option<Vec<u8>>, StoreError>> + Send;

    /// Runs `txn`: `Ok(true)` when every check held and every write was applied, `Ok(false)`
    /// when a check failed and nothing was written.
    fn commit(&self, txn: Txn) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Removes and returns the live value under `key` (Redis `GETDEL`): of many concurrent
    /// callers exactly one gets the value.
    fn take(&self, key: &str) -> impl Future<Output = Result<Option<Vec<u8>>, StoreError>> + Send;

    /// Increments the counter at `key` and returns its new value. A counter created by this
    /// call expires `window` from now; later increments do not move the expiry (a fixed
    /// window, as Redis `INCR` + `PEXPIRE NX`).
    fn incr(
        &self,
        key: &str,
        window: Duration,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// The members of the set at `key` (empty when absent), in no particular order.
    fn set_members(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send;

    /// Every live key starting with `prefix` with its value, ordered by key. For admin
    /// listings and the audit log, never for a login or token path.
    fn scan_prefix(
        &self,
        prefix: &str,
    ) -> impl Future<Output = Result<Vec<(String, Vec<u8>)>, StoreError>> + Send;

    /// Answers when the engine is reachable and working (`/readyz`).
    fn ping(&self) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Sends `message` to every replica's [`KvBackend::subscribe`] stream, this one included.
    /// The embedded engine has one replica, so it delivers only locally.
    fn publish(&self, message: &str) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Messages published by any replica, for cache invalidation. An engine that may have
    /// missed messages (Redis, after its pub/sub connection was re-established) delivers
    /// [`super::MSG_ALL`]: the subscriber must then drop everything it caches.
    fn subscribe(&self) -> tokio::sync::broadcast::Receiver<String>;

    /// Physically removes expired values; returns how many. Redis expires keys itself.
    fn sweep(&self) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Every live entry, ordered by key, for a backup or a move to another engine. The
    /// embedded engine reads one snapshot (a read transaction) while writes go on; Redis
    /// reads key by key (a running Redis gives no snapshot; use its own RDB for one).
    fn dump(&self) -> impl Future<Output = Result<Vec<DumpEntry>, StoreError>> + Send;

    /// Decrements the live counter at `key` by one, never below zero, keeping its expiry,
    /// and returns its new value; an absent counter stays absent (0). Gives back a place
    /// reserved with [`KvBackend::incr`].
    fn decr(&self, key: &str) -> impl Future<Output = Result<u64, StoreError>> + Send;
}

/// One live entry of a store, as [`KvBackend::dump`] reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpEntry {
    pub key: String,
    pub data: DumpData,
    /// Unix milliseconds; `None` for an entry that does not expire.
    pub expires_at_ms: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DumpData {
    Value(Vec<u8>),
    /// A set's members, sorted.
    Set(Vec<String>),
}
