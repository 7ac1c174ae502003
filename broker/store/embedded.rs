//! The embedded engine: redb on one file, the default for a single replica.
//!
//! Layout (three redb tables, created on open):
//! - `v1_values`: key → (absolute expiry in unix milliseconds, `0` for none; value bytes);
//! - `v1_set_members`: a multimap, set key → members;
//! - `v1_set_expiry`: set key → absolute expiry in unix milliseconds (no row: persistent).
//!
//! Expired entries stay in the file until [`KvBackend::sweep`] removes them, but every
//! operation treats them as absent: reads skip them, checks see "absent", and writes replace
//! them as if nothing were there.
//!
//! Every operation runs on tokio's blocking pool (`spawn_blocking`): redb does file I/O and
//! takes a process-wide write lock, neither of which may stall the async workers. Each
//! [`KvBackend::commit`] is one redb write transaction with `Durability::Immediate` (the
//! default), so a `true` answer means the change is on disk — except for a [`Txn::relaxed`]
//! one (login transactions, fresh sessions and codes, rate counters), which skips the fsync
//! and is on disk within [`FLUSH_EVERY`] or at the next durable commit, whichever is first.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redb::{
    Database, Durability, MultimapTableDefinition, ReadableDatabase, ReadableMultimapTable,
    ReadableTable, ReadableTableMetadata, TableDefinition, WriteTransaction,
};
use tokio::sync::broadcast;

use super::StoreError;
use super::backend::{Expect, FLUSH_EVERY, KvBackend, Txn, Write};

/// Values with their expiry: `(expires_at_ms, bytes)`, `NO_EXPIRY` for none.
const VALUES: TableDefinition<&str, (u64, &[u8])> = TableDefinition::new("v1_values");
/// Set members, one row per (set key, member).
const SET_MEMBERS: MultimapTableDefinition<&str, &str> =
    MultimapTableDefinition::new("v1_set_members");
/// Expiry of each set that has one (absent row: the set is persistent).
const SET_EXPIRY: TableDefinition<&str, u64> = TableDefinition::new("v1_set_expiry");

/// The expiry column of a value that does not expire.
const NO_EXPIRY: u64 = 0;

/// Capacity of the local invalidation channel; a subscriber further behind than this sees
/// `RecvError::Lagged` and must drop everything it caches.
const CHANNEL_CAPACITY: usize = 1024;

/// The redb engine. Cheap to share behind the [`super::Store`]; dropping the last handle
/// closes the file.
pub struct EmbeddedKv {
    db: Arc<Database>,
    tx: broadcast::Sender<String>,
    /// Relaxed commits not yet on disk (see [`Txn::relaxed`]).
    unflushed: Arc<AtomicU64>,
}

impl EmbeddedKv {
    /// Opens (or creates) the database file at `path`. Missing parent directories are
    /// created; a new file gets mode 0600 (owner only), and an existing one is narrowed to
    /// it, since the file holds password hashes and token digests.
    ///
    /// This blocks (it may replay an interrupted commit): call it from
    /// `tokio::task::spawn_blocking` inside a runtime, as `crate::server::open_backend` does.
    pub fn open(path: &Path) -> Result<EmbeddedKv, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| {
                StoreError::Unavailable(format!(
                    "cannot create the directory {} for the embedded store: {e}",
                    parent.display()
                ))
            })?;
        }
        restrict_file(path)?;
        let mut db = Database::create(path).map_err(|e| {
            StoreError::Unavailable(format!(
                "cannot open the embedded store {}: {e}",
                path.display()
            ))
        })?;
        compact_on_open(&mut db, path);
        EmbeddedKv::with_database(db)
    }

    /// A database that lives in memory only, for tests and throwaway runs.
    pub fn temporary() -> Result<EmbeddedKv, StoreError> {
        let db = Database::builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .db()?;
        EmbeddedKv::with_database(db)
    }

    fn with_database(db: Database) -> Result<EmbeddedKv, StoreError> {
        create_tables(&db)?;
        let (tx, _) = broadcast::channel(CHANNEL_CAPACITY);
        Ok(EmbeddedKv {
            db: Arc::new(db),
            tx,
            unflushed: Arc::new(AtomicU64::new(0)),
        })
    }

    /// Makes every relaxed commit durable now, if there is any (an empty durable commit
    /// persists the ones before it).
    pub async fn flush(&self) -> Result<(), StoreError> {
        let unflushed = self.unflushed.clone();
        self.blocking(move |db, _| flush_blocking(db, &unflushed))
            .await
    }

    /// Flushes relaxed commits every [`FLUSH_EVERY`] until the engine is dropped.
    pub fn spawn_flusher(&self) {
        let db = Arc::downgrade(&self.db);
        let unflushed = self.unflushed.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(FLUSH_EVERY);
            loop {
                tick.tick().await;
                let Some(db) = db.upgrade() else { return };
                if unflushed.load(Ordering::Relaxed) == 0 {
                    continue;
                }
                let unflushed = unflushed.clone();
                let done =
                    tokio::task::spawn_blocking(move || flush_blocking(&db, &unflushed)).await;
                if let Ok(Err(e)) = done {
                    tracing::error!(error = %e, "flushing the embedded store failed");
                }
            }
        });
    }

    /// Runs `f` on the blocking pool with the database and the current time in milliseconds.
    async fn blocking<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Database, u64) -> Result<T, StoreError> + Send + 'static,
    {
        let db = Arc::clone(&self.db);
        tokio::task::spawn_blocking(move || f(&db, now_ms()))
            .await
            .map_err(|e| StoreError::Unavailable(format!("embedded store task failed: {e}")))?
    }
}

/// Removes what has expired, then compacts the file. While the broker runs, redb reuses the
/// pages that expired records free, so the file stops growing under a steady churn, but it
/// never gives them back: a burst (an attack, a mass sign-in) leaves the file at its peak
/// size. Compacting at start returns that space. A failure only costs the space.
fn compact_on_open(db: &mut Database, path: &Path) {
    if let Err(e) = create_tables(db).and_then(|()| sweep_blocking(db, now_ms())) {
        tracing::warn!(path = %path.display(), error = %e, "cannot sweep the embedded store at start");
    }
    if let Err(e) = db.compact() {
        tracing::warn!(path = %path.display(), error = %e, "cannot compact the embedded store at start");
    }
}

/// Creates the tables once, so read transactions can always open them.
fn create_tables(db: &Database) -> Result<(), StoreError> {
    let wtx = db.begin_write().db()?;
    wtx.open_table(VALUES).db()?;
    wtx.open_multimap_table(SET_MEMBERS).db()?;
    wtx.open_table(SET_EXPIRY).db()?;
    wtx.commit().db()
}

/// Creates the file with mode 0600 if it is missing, and narrows an existing file to 0600.
#[cfg(unix)]
fn restrict_file(path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let fail = |e: std::io::Error| {
        StoreError::Unavailable(format!(
            "cannot create the embedded store {}: {e}",
            path.display()
        ))
    };
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map_err(fail)?;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
        .map_err(fail)
}

#[cfg(not(unix))]
fn restrict_file(_path: &Path) -> Result<(), StoreError> {
    Ok(())
}

/// Maps any redb error to `Unavailable`: a disk or file problem the caller cannot fix.
trait OrUnavailable<T> {
    fn db(self) -> Result<T, StoreError>;
}

impl<T, E: Into<redb::Error>> OrUnavailable<T> for Result<T, E> {
    fn db(self) -> Result<T, StoreError> {
        self.map_err(|e| StoreError::Unavailable(format!("embedded store: {}", e.into())))
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// The absolute expiry of something written at `now` with `ttl`; at least one millisecond
/// ahead, so a zero TTL does not mean "forever".
fn expiry(now: u64, ttl: Duration) -> u64 {
    let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
    now.saturating_add(ms)
}

fn is_live(expires_at: u64, now: u64) -> bool {
    expires_at == NO_EXPIRY || expires_at > now
}

/// The live value under `key`, copied out of the table.
fn live_value(
    table: &impl ReadableTable<&'static str, (u64, &'static [u8])>,
    key: &str,
    now: u64,
) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(table.get(key).db()?.and_then(|guard| {
        let (expires_at, bytes) = guard.value();
        is_live(expires_at, now).then(|| bytes.to_vec())
    }))
}

/// Whether the set at `key` has expired (it has an expiry row in the past).
fn set_expired(
    expiry_table: &impl ReadableTable<&'static str, u64>,
    key: &str,
    now: u64,
) -> Result<bool, StoreError> {
    Ok(expiry_table
        .get(key)
        .db()?
        .is_some_and(|g| !is_live(g.value(), now)))
}

/// Applies a transaction inside `wtx`: `Ok(false)` as soon as a check fails, before any
/// write, so the caller can abort with nothing changed.
fn apply(wtx: &WriteTransaction, txn: &Txn, now: u64) -> Result<bool, StoreError> {
    let mut values = wtx.open_table(VALUES).db()?;
    let mut members = wtx.open_multimap_table(SET_MEMBERS).db()?;
    let mut set_expiry = wtx.open_table(SET_EXPIRY).db()?;

    for check in &txn.checks {
        let holds = match values.get(check.key.as_str()).db()? {
            None => matches!(check.expect, Expect::Absent),
            Some(guard) => {
                let (expires_at, bytes) = guard.value();
                match &check.expect {
                    Expect::Absent => !is_live(expires_at, now),
                    Expect::Equals(want) => is_live(expires_at, now) && bytes == want.as_slice(),
                }
            }
        };
        if !holds {
            return Ok(false);
        }
    }

    for write in &txn.writes {
        match write {
            Write::Put { key, value, ttl } => {
                let expires_at = ttl.map_or(NO_EXPIRY, |t| expiry(now, t));
                values
                    .insert(key.as_str(), (expires_at, value.as_slice()))
                    .db()?;
            }
            Write::Delete { key } => {
                // One keyspace, as in Redis: a delete removes a value or a set.
                values.remove(key.as_str()).db()?;
                members.remove_all(key.as_str()).db()?;
                set_expiry.remove(key.as_str()).db()?;
            }
            Write::SetAdd { key, member, ttl } => {
                let key = key.as_str();
                if set_expired(&set_expiry, key, now)? {
                    // An expired set is absent: its old members must not come back.
                    members.remove_all(key).db()?;
                    set_expiry.remove(key).db()?;
                }
                let existed = !members.get(key).db()?.is_empty();
                let current = set_expiry.get(key).db()?.map(|g| g.value());
                members.insert(key, member.as_str()).db()?;
                match (ttl, existed, current) {
                    // `None` makes the set persistent.
                    (None, _, _) => {
                        set_expiry.remove(key).db()?;
                    }
                    // A new set expires `ttl` from now.
                    (Some(t), false, _) => {
                        set_expiry.insert(key, expiry(now, *t)).db()?;
                    }
                    // An expiring set is extended, never shortened.
                    (Some(t), true, Some(at)) => {
                        set_expiry.insert(key, at.max(expiry(now, *t))).db()?;
                    }
                    // A persistent set stays persistent (never shortened).
                    (Some(_), true, None) => {}
                }
            }
            Write::SetRemove { key, member } => {
                let key = key.as_str();
                if set_expired(&set_expiry, key, now)? {
                    members.remove_all(key).db()?;
                    set_expiry.remove(key).db()?;
                    continue;
                }
                members.remove(key, member.as_str()).db()?;
                // An emptied set disappears with its expiry, as in Redis.
                if members.get(key).db()?.is_empty() {
                    set_expiry.remove(key).db()?;
                }
            }
        }
    }
    Ok(true)
}

fn flush_blocking(db: &Database, unflushed: &AtomicU64) -> Result<(), StoreError> {
    let pending = unflushed.swap(0, Ordering::AcqRel);
    if pending == 0 {
        return Ok(());
    }
    let wtx = db.begin_write().db()?;
    wtx.commit().db()?;
    Ok(())
}

/// Relaxed commits in a row before one is made durable anyway (redb reclaims pages only at
/// durable commits, so an endless run of non-durable ones would grow the file).
const MAX_UNFLUSHED: u64 = 256;

/// Starts a write transaction, non-durable when `relaxed` and the budget allows.
fn begin(
    db: &Database,
    relaxed: bool,
    unflushed: &AtomicU64,
) -> Result<(redb::WriteTransaction, bool), StoreError> {
    let mut wtx = db.begin_write().db()?;
    let relax = relaxed && unflushed.load(Ordering::Relaxed) < MAX_UNFLUSHED;
    if relax {
        wtx.set_durability(Durability::None)
            .map_err(|e| StoreError::Unavailable(format!("embedded store: {e}")))?;
    }
    Ok((wtx, relax))
}

/// Records how a commit went: a durable one flushes every relaxed one before it.
fn committed(relax: bool, unflushed: &AtomicU64) {
    if relax {
        unflushed.fetch_add(1, Ordering::AcqRel);
    } else {
        unflushed.store(0, Ordering::Release);
    }
}

fn commit_blocking(
    db: &Database,
    txn: &Txn,
    now: u64,
    unflushed: &AtomicU64,
) -> Result<bool, StoreError> {
    let (wtx, relax) = begin(db, txn.relaxed, unflushed)?;
    if apply(&wtx, txn, now)? {
        wtx.commit().db()?;
        committed(relax, unflushed);
        Ok(true)
    } else {
        wtx.abort().db()?;
        Ok(false)
    }
}

fn take_blocking(db: &Database, key: &str, now: u64) -> Result<Option<Vec<u8>>, StoreError> {
    let wtx = db.begin_write().db()?;
    let taken = {
        let mut values = wtx.open_table(VALUES).db()?;
        let removed = values.remove(key).db()?;
        removed.map(|guard| {
            let (expires_at, bytes) = guard.value();
            is_live(expires_at, now).then(|| bytes.to_vec())
        })
    };
    match taken {
        // Nothing was there: nothing to commit.
        None => {
            wtx.abort().db()?;
            Ok(None)
        }
        // Something was removed (an expired value is simply cleaned up).
        Some(value) => {
            wtx.commit().db()?;
            Ok(value)
        }
    }
}

/// The live counter at `key` as (expiry, count). Counters are decimal text, as Redis `INCR`
/// keeps them; anything else is corruption.
fn live_counter(
    values: &redb::Table<&str, (u64, &[u8])>,
    key: &str,
    now: u64,
) -> Result<Option<(u64, u64)>, StoreError> {
    let Some(guard) = values.get(key).db()? else {
        return Ok(None);
    };
    let (expires_at, bytes) = guard.value();
    if !is_live(expires_at, now) {
        return Ok(None);
    }
    let n = std::str::from_utf8(bytes)
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .ok_or_else(|| StoreError::Corrupt {
            key: key.to_owned(),
            reason: "a counter is not a decimal integer".into(),
        })?;
    Ok(Some((expires_at, n)))
}

/// Rate counters are relaxed: a crash forgets a few seconds of counts at most.
fn incr_blocking(
    db: &Database,
    key: &str,
    window: Duration,
    now: u64,
    unflushed: &AtomicU64,
) -> Result<u64, StoreError> {
    let (wtx, relax) = begin(db, true, unflushed)?;
    let count = {
        let mut values = wtx.open_table(VALUES).db()?;
        let (count, expires_at) = match live_counter(&values, key, now)? {
            None => (1, expiry(now, window)),
            Some((expires_at, n)) => {
                // A counter without expiry gets one (Redis `PEXPIRE NX`); an expiring one
                // keeps its window.
                let expires_at = if expires_at == NO_EXPIRY {
                    expiry(now, window)
                } else {
                    expires_at
                };
                (n.saturating_add(1), expires_at)
            }
        };
        let text = count.to_string();
        values.insert(key, (expires_at, text.as_bytes())).db()?;
        count
    };
    wtx.commit().db()?;
    committed(relax, unflushed);
    Ok(count)
}

/// [`KvBackend::decr`]: one write transaction, so it serialises with `incr`.
fn decr_blocking(
    db: &Database,
    key: &str,
    now: u64,
    unflushed: &AtomicU64,
) -> Result<u64, StoreError> {
    let (wtx, relax) = begin(db, true, unflushed)?;
    let count = {
        let mut values = wtx.open_table(VALUES).db()?;
        match live_counter(&values, key, now)? {
            None => None,
            Some((expires_at, n)) => {
                let count = n.saturating_sub(1);
                let text = count.to_string();
                values.insert(key, (expires_at, text.as_bytes())).db()?;
                Some(count)
            }
        }
    };
    match count {
        Some(count) => {
            wtx.commit().db()?;
            committed(relax, unflushed);
            Ok(count)
        }
        None => {
            wtx.abort().db()?;
            Ok(0)
        }
    }
}

fn sweep_blocking(db: &Database, now: u64) -> Result<u64, StoreError> {
    let wtx = db.begin_write().db()?;
    let removed = {
        let mut values = wtx.open_table(VALUES).db()?;
        let mut members = wtx.open_multimap_table(SET_MEMBERS).db()?;
        let mut set_expiry = wtx.open_table(SET_EXPIRY).db()?;
        let before = values.len().db()?;
        values
            .retain(|_, (expires_at, _)| is_live(expires_at, now))
            .db()?;
        let mut removed = before.saturating_sub(values.len().db()?);
        let mut expired_sets = Vec::new();
        for row in set_expiry.iter().db()? {
            let (key, at) = row.db()?;
            if !is_live(at.value(), now) {
                expired_sets.push(key.value().to_owned());
            }
        }
        for key in &expired_sets {
            members.remove_all(key.as_str()).db()?;
            set_expiry.remove(key.as_str()).db()?;
            removed += 1;
        }
        removed
    };
    if removed == 0 {
        wtx.abort().db()?;
    } else {
        wtx.commit().db()?;
    }
    Ok(removed)
}

impl KvBackend for EmbeddedKv {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let key = key.to_owned();
        self.blocking(move |db, now| {
            let rtx = db.begin_read().db()?;
            let values = rtx.open_table(VALUES).db()?;
            live_value(&values, &key, now)
        })
        .await
    }

    async fn commit(&self, txn: Txn) -> Result<bool, StoreError> {
        let unflushed = self.unflushed.clone();
        self.blocking(move |db, now| commit_blocking(db, &txn, now, &unflushed))
            .await
    }

    async fn take(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let key = key.to_owned();
        self.blocking(move |db, now| take_blocking(db, &key, now))
            .await
    }

    async fn incr(&self, key: &str, window: Duration) -> Result<u64, StoreError> {
        let key = key.to_owned();
        let unflushed = self.unflushed.clone();
        self.blocking(move |db, now| incr_blocking(db, &key, window, now, &unflushed))
            .await
    }

    async fn set_members(&self, key: &str) -> Result<Vec<String>, StoreError> {
        let key = key.to_owned();
        self.blocking(move |db, now| {
            let rtx = db.begin_read().db()?;
            let set_expiry = rtx.open_table(SET_EXPIRY).db()?;
            if set_expired(&set_expiry, &key, now)? {
                return Ok(Vec::new());
            }
            let members = rtx.open_multimap_table(SET_MEMBERS).db()?;
            let mut out = Vec::new();
            for member in members.get(key.as_str()).db()? {
                out.push(member.db()?.value().to_owned());
            }
            Ok(out)
        })
        .await
    }

    async fn scan_prefix(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let prefix = prefix.to_owned();
        self.blocking(move |db, now| {
            let rtx = db.begin_read().db()?;
            let values = rtx.open_table(VALUES).db()?;
            let mut out = Vec::new();
            for row in values.range::<&str>(prefix.as_str()..).db()? {
                let (key, value) = row.db()?;
                let key = key.value();
                if !key.starts_with(prefix.as_str()) {
                    break;
                }
                let (expires_at, bytes) = value.value();
                if is_live(expires_at, now) {
                    out.push((key.to_owned(), bytes.to_vec()));
                }
            }
            Ok(out)
        })
        .await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.blocking(|db, _| {
            let rtx = db.begin_read().db()?;
            rtx.open_table(VALUES).db()?;
            Ok(())
        })
        .await
    }

    async fn publish(&self, message: &str) -> Result<(), StoreError> {
        // No subscriber is not an error: there is simply nobody to tell.
        let _ = self.tx.send(message.to_owned());
        Ok(())
    }

    fn subscribe(&self) -> broadcast::Receiver<String> {
        self.tx.subscribe()
    }

    async fn sweep(&self) -> Result<u64, StoreError> {
        self.blocking(sweep_blocking).await
    }

    async fn decr(&self, key: &str) -> Result<u64, StoreError> {
        let key = key.to_owned();
        let unflushed = self.unflushed.clone();
        self.blocking(move |db, now| decr_blocking(db, &key, now, &unflushed))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_is_at_least_one_millisecond_ahead() {
        assert_eq!(expiry(1_000, Duration::ZERO), 1_001);
        assert_eq!(expiry(1_000, Duration::from_secs(2)), 3_000);
        assert_eq!(expiry(u64::MAX - 1, Duration::from_secs(2)), u64::MAX);
    }

    #[test]
    fn liveness_treats_zero_as_no_expiry() {
        assert!(is_live(NO_EXPIRY, 5));
        assert!(is_live(6, 5));
        assert!(!is_live(5, 5));
        assert!(!is_live(4, 5));
    }
}
