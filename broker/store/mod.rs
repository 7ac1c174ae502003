//! Storage: one primitive contract ([`backend::KvBackend`]), two engines (embedded redb,
//! Redis), and the typed repositories the rest of the broker uses ([`Store`]).
//!
//! The repositories are written once, on top of the primitives, so both engines have the
//! same semantics by construction; the conformance suite in `tests/it` checks the
//! primitives and the repositories against both engines.

pub mod backend;
pub mod embedded;
pub mod records;
pub mod redis;
pub mod slots;

mod audit;
pub mod backup;
mod clear_buckets;
mod denied;
mod device;
pub mod format;
mod mfa;
mod misc;
mod orgs;
mod passkeys;
mod sessions;
mod tokens;
mod users;

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

pub use audit::AuditFilter;
use backend::{Check, Expect};
pub use backend::{DumpData, DumpEntry, KvBackend, Txn};
pub use device::{DeviceAuthorization, DeviceGrant, DeviceStatus, Versioned};
pub use mfa::Spent;
pub use misc::{RateCount, Reservation};
pub use orgs::OrgWrite;
pub use passkeys::PasskeyChange;
pub use records::*;
pub use tokens::{CodeRedemption, RefreshStep, Rotation, SeenFamily};
pub use users::UserConflict;

use embedded::EmbeddedKv;
use redis::RedisKv;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The engine cannot be reached or failed (Redis down, disk error). Callers answer 503.
    #[error("the store is unavailable: {0}")]
    Unavailable(String),
    /// A stored record does not decode: data written by an incompatible version, or damage.
    #[error("a stored record is corrupt at {key}: {reason}")]
    Corrupt { key: String, reason: String },
    /// A compare-and-swap lost too many races in a row.
    #[error("the store is too contended to complete the change")]
    Contended,
    /// A request the store refuses as it stands: an import into a store that is not empty,
    /// an export it cannot read.
    #[error("{0}")]
    Refused(String),
}

/// The engine in use. An enum rather than a trait object: two engines, static dispatch.
pub enum Backend {
    Embedded(EmbeddedKv),
    Redis(RedisKv),
}

macro_rules! dispatch {
    ($self:ident, $b:ident => $e:expr) => {
        match $self {
            Backend::Embedded($b) => $e,
            Backend::Redis($b) => $e,
        }
    };
}

impl KvBackend for Backend {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        dispatch!(self, b => b.get(key).await)
    }
    async fn commit(&self, txn: Txn) -> Result<bool, StoreError> {
        // One slot group per transaction on every engine, so that what works here works
        // on Redis Cluster too.
        slots::check(&txn)?;
        dispatch!(self, b => b.commit(txn).await)
    }
    async fn take(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        dispatch!(self, b => b.take(key).await)
    }
    async fn incr(&self, key: &str, window: Duration) -> Result<u64, StoreError> {
        dispatch!(self, b => b.incr(key, window).await)
    }
    async fn set_members(&self, key: &str) -> Result<Vec<String>, StoreError> {
        dispatch!(self, b => b.set_members(key).await)
    }
    async fn scan_prefix(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        dispatch!(self, b => b.scan_prefix(prefix).await)
    }
    async fn ping(&self) -> Result<(), StoreError> {
        dispatch!(self, b => b.ping().await)
    }
    async fn publish(&self, message: &str) -> Result<(), StoreError> {
        dispatch!(self, b => b.publish(message).await)
    }
    fn subscribe(&self) -> tokio::sync::broadcast::Receiver<String> {
        dispatch!(self, b => b.subscribe())
    }
    async fn dump(&self) -> Result<Vec<backend::DumpEntry>, StoreError> {
        dispatch!(self, b => b.dump().await)
    }
    async fn sweep(&self) -> Result<u64, StoreError> {
        dispatch!(self, b => b.sweep().await)
    }
    async fn decr(&self, key: &str) -> Result<u64, StoreError> {
        dispatch!(self, b => b.decr(key).await)
    }
}

/// The broker's storage: typed repositories over one engine, plus the in-process cache of
/// users by sign-in identifier that the routing decision reads.
pub struct Store {
    kv: Backend,
    /// Users by normalised email; `None` caches "no such user" so unknown identifiers do not
    /// reach the engine either. Invalidated locally on every write and, through
    /// [`KvBackend::publish`], on every other replica.
    users_by_email: moka::sync::Cache<String, Option<Arc<User>>>,
    /// Failure buckets known to be empty; kept coherent the same way.
    clear_buckets: clear_buckets::ClearBuckets,
    /// The access-token deny list, mirrored (see `denied.rs`).
    denied: denied::DeniedTokens,
    /// Bumped when the runtime organisations may have changed (see `orgs.rs`).
    orgs_changed: tokio::sync::watch::Sender<u64>,
}

/// Prefix of invalidation messages about a user's cache entry (followed by the email).
pub const MSG_USER: &str = "user:";

/// Prefix of the message that says a failure was kept in a rate bucket (followed by the
/// bucket).
pub const MSG_RATE: &str = "rate:";

/// Prefix of the message that says an access token was denied (followed by
/// `{expires_at}:{jti}`).
pub const MSG_DENIED: &str = "denied:";

/// The message that says the organisations created at run time changed.
pub const MSG_ORGS: &str = "orgs";

/// The message that means "messages are being missed from now on" (the Redis engine lost
/// its pub/sub connection): drop everything cached and ask the store until [`MSG_ALL`].
pub const MSG_DOWN: &str = "!";

/// The invalidation message that means "drop everything": sent to local subscribers by an
/// engine that may have missed messages (the Redis engine after its pub/sub connection was
/// re-established).
pub const MSG_ALL: &str = "*";

/// The prefix of every key the broker writes to Redis.
pub const REDIS_KEY_PREFIX: &str = "idb:";

impl Store {
    pub fn new(kv: Backend, user_cache_capacity: u64) -> Arc<Store> {
        let store = Arc::new(Store {
            kv,
            users_by_email: moka::sync::Cache::builder()
                .max_capacity(user_cache_capacity)
                .time_to_live(Duration::from_secs(3600))
                .build(),
            clear_buckets: clear_buckets::ClearBuckets::default(),
            denied: denied::DeniedTokens::default(),
            orgs_changed: tokio::sync::watch::channel(0).0,
        });
        // Subscribed first, then loaded: a denial written meanwhile arrives as a message.
        store.spawn_invalidation_listener();
        store.spawn_deny_list_load(store.denied.generation());
        store
    }

    /// The engine, for the conformance suite and for features with their own key families.
    pub fn kv(&self) -> &Backend {
        &self.kv
    }

    /// Applies invalidations published by any replica to this replica's cache.
    fn spawn_invalidation_listener(self: &Arc<Self>) {
        let mut rx = self.kv.subscribe();
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                let msg = match rx.recv().await {
                    Ok(m) => m,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        // Messages were lost: drop the whole cache rather than serve stale.
                        match weak.upgrade() {
                            Some(s) => s.forget_all(),
                            None => return,
                        }
                        continue;
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                };
                let Some(store) = weak.upgrade() else { return };
                if msg == MSG_ALL {
                    store.forget_all();
                    store.orgs_changed.send_modify(|n| *n = n.wrapping_add(1));
                } else if msg == MSG_ORGS {
                    store.orgs_changed.send_modify(|n| *n = n.wrapping_add(1));
                } else if msg == MSG_DOWN {
                    store.distrust_all();
                } else if let Some(email) = msg.strip_prefix(MSG_USER) {
                    store.users_by_email.invalidate(email);
                } else if let Some(bucket) = msg.strip_prefix(MSG_RATE) {
                    store.clear_buckets.dirty(bucket);
                } else if let Some(denial) = msg.strip_prefix(MSG_DENIED)
                    && let Some((exp, jti)) = denial.split_once(':')
                    && let Ok(exp) = exp.parse()
                {
                    store.denied.insert(jti, exp);
                }
            }
        });
    }

    /// Drops everything cached from the store (messages may have been missed) and reloads
    /// the mirrors that need it.
    fn forget_all(self: &Arc<Self>) {
        let generation = self.distrust_all();
        self.spawn_deny_list_load(generation);
    }

    /// Drops everything cached from the store and asks the store until the next
    /// [`Store::forget_all`]; returns the deny list's new generation.
    fn distrust_all(&self) -> u64 {
        self.users_by_email.invalidate_all();
        self.clear_buckets.forget_all();
        self.denied.incomplete()
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        self.kv.ping().await
    }

    pub async fn sweep(&self) -> Result<u64, StoreError> {
        self.kv.sweep().await
    }

    async fn get_json<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StoreError> {
        match self.kv.get(key).await? {
            None => Ok(None),
            Some(bytes) => decode(key, &bytes).map(Some),
        }
    }

    /// Reads the raw bytes and the decoded record together, for a compare-and-swap.
    async fn get_versioned<T: DeserializeOwned>(
        &self,
        key: &str,
    ) -> Result<Option<(Vec<u8>, T)>, StoreError> {
        match self.kv.get(key).await? {
            None => Ok(None),
            Some(bytes) => {
                let value = decode(key, &bytes)?;
                Ok(Some((bytes, value)))
            }
        }
    }

    /// One compare-and-swap on the record at `key`: reads it, lets `step` decide from the
    /// record (`None` when absent) whether to stop or what to commit, and commits only if
    /// `key` still holds what was read (or is still absent). A lost race reads again, up to
    /// [`CAS_ATTEMPTS`] times, then gives up with [`StoreError::Contended`]. `step` may run
    /// more than once and must decide from the record it gets (and what it captured) alone.
    pub(crate) async fn cas<T, R>(
        &self,
        key: &str,
        step: impl FnMut(Option<T>) -> Result<Cas<R>, StoreError>,
    ) -> Result<R, StoreError>
    where
        T: DeserializeOwned,
    {
        self.cas_from(key, None, step).await
    }

    /// [`Store::cas`] whose first attempt starts from `seen`, the record as the caller read
    /// it (its bytes and value; `None` when absent), saving one read when nobody raced.
    pub(crate) async fn cas_from<T, R>(
        &self,
        key: &str,
        mut seen: Option<Option<(Vec<u8>, T)>>,
        mut step: impl FnMut(Option<T>) -> Result<Cas<R>, StoreError>,
    ) -> Result<R, StoreError>
    where
        T: DeserializeOwned,
    {
        for _ in 0..CAS_ATTEMPTS {
            let read = match seen.take() {
                Some(read) => read,
                None => self.get_versioned::<T>(key).await?,
            };
            let (check, current) = match read {
                Some((bytes, value)) => (Expect::Equals(bytes), Some(value)),
                None => (Expect::Absent, None),
            };
            let (mut txn, answer) = match step(current)? {
                Cas::Stop(answer) => return Ok(answer),
                Cas::Commit(txn, answer) => (txn, answer),
            };
            txn.checks.insert(
                0,
                Check {
                    key: key.to_owned(),
                    expect: check,
                },
            );
            if self.kv.commit(txn).await? {
                return Ok(answer);
            }
        }
        Err(StoreError::Contended)
    }

    /// A JSON value under a caller-chosen key family (`v1/{family}/{id}`), for features that
    /// keep small state documents (organisation connection state, device codes).
    pub async fn get_doc<T: DeserializeOwned>(
        &self,
        family: &str,
        id: &str,
    ) -> Result<Option<T>, StoreError> {
        self.get_json(&format!("v1/{family}/{id}")).await
    }

    pub async fn put_doc<T: Serialize>(
        &self,
        family: &str,
        id: &str,
        value: &T,
        ttl: Option<Duration>,
    ) -> Result<(), StoreError> {
        let key = format!("v1/{family}/{id}");
        let bytes = encode(&value)?;
        self.kv.commit(Txn::new().put(key, bytes, ttl)).await?;
        Ok(())
    }

    pub async fn delete_doc(&self, family: &str, id: &str) -> Result<(), StoreError> {
        self.kv
            .commit(Txn::new().delete(format!("v1/{family}/{id}")))
            .await?;
        Ok(())
    }

    /// Every document of a family, ordered by id.
    pub async fn list_docs<T: DeserializeOwned>(
        &self,
        family: &str,
    ) -> Result<Vec<(String, T)>, StoreError> {
        let prefix = format!("v1/{family}/");
        let mut out = Vec::new();
        for (key, bytes) in self.kv.scan_prefix(&prefix).await? {
            let value = decode(&key, &bytes)?;
            let id = key.strip_prefix(&prefix).unwrap_or(&key).to_owned();
            out.push((id, value));
        }
        Ok(out)
    }
}

pub(crate) fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|e| StoreError::Corrupt {
        key: String::new(),
        reason: e.to_string(),
    })
}

pub(crate) fn decode<T: DeserializeOwned>(key: &str, bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
        key: key.to_owned(),
        reason: e.to_string(),
    })
}

/// What one step of [`Store::cas`] decides from the record it read.
pub(crate) enum Cas<R> {
    /// Write nothing and answer `R`.
    Stop(R),
    /// Commit these writes (and any further checks), then answer `R`; [`Store::cas`] adds
    /// the check that the record is still the one read.
    Commit(Txn, R),
}

/// How many times a compare-and-swap retries before giving up with [`StoreError::Contended`].
pub(crate) const CAS_ATTEMPTS: usize = 16;

/// Seconds from `now` until `until`, at least one (a TTL of zero would mean "forever" to
/// some engines).
pub(crate) fn ttl_until(now: crate::clock::UnixTime, until: crate::clock::UnixTime) -> Duration {
    Duration::from_secs(until.saturating_sub(now).max(1))
}
