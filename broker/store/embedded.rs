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
//! Reads (`get`, `set_members`, `ping`) run on the caller's task: a redb read transaction is
//! a lookup in redb's page cache, or a `pread` of a few pages the OS has cached, and the
//! hop to tokio's blocking pool cost more than the lookup (about 20 µs against 2). Scans,
//! which may be long, still go to the blocking pool.
//!
//! Writes go to one writer thread (group commit): it takes every write waiting in its queue,
//! applies them in order inside **one** redb write transaction, commits once, and only then
//! answers each caller. A transaction whose checks fail writes nothing and does not disturb
//! the others of its batch. The batch commits with `Durability::Immediate` (one fsync) when
//! any of its writes must be durable, so a `true` answer still means the change is on disk;
//! a batch of [`Txn::relaxed`] writes only (login transactions, fresh sessions and codes,
//! rate counters) skips the fsync and is on disk within [`FLUSH_EVERY`] or at the next
//! durable commit, whichever is first. Under load, many durable writers share one fsync
//! instead of queueing for one each; alone, a writer waits no longer than before.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redb::{
    Database, Durability, MultimapTableDefinition, ReadableDatabase, ReadableMultimapTable,
    ReadableTable, ReadableTableMetadata, TableDefinition, WriteTransaction,
};
use tokio::sync::{broadcast, mpsc, oneshot};

use super::StoreError;
use super::backend::{DumpData, DumpEntry, Expect, FLUSH_EVERY, KvBackend, Txn, Write};

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

/// Writes waiting for the writer thread. A full queue makes writers wait (backpressure on
/// the async side), it never grows.
const WRITE_QUEUE: usize = 1024;

/// redb's own page cache (reads and the write buffer). Pages beyond it are read again with a
/// `pread`, which the OS answers from its page cache: redb's default of 1 GiB made the
/// broker's memory grow with the file instead (issue 12: at most 32 MiB at the end of a
/// load run). 8 MiB: with 16 the side-by-side run ended at 37 MiB and refreshed about 5%
/// faster; with 8 it ends at 29 MiB.
const CACHE_BYTES: usize = 8 * 1024 * 1024;

/// Most writes applied in one write transaction.
const MAX_BATCH: usize = 256;

/// The redb engine. Cheap to share behind the [`super::Store`]; dropping it stops the writer
/// thread (after the writes already queued) and closes the file.
pub struct EmbeddedKv {
    db: Arc<Database>,
    tx: broadcast::Sender<String>,
    /// Relaxed commits not yet on disk (see [`Txn::relaxed`]).
    unflushed: Arc<AtomicU64>,
    /// The writer thread's queue; `None` only while dropping.
    jobs: Option<mpsc::Sender<Job>>,
    writer: Option<std::thread::JoinHandle<()>>,
}

/// One write for the writer thread.
enum Op {
    Commit(Txn),
    Take(String),
    Incr(String, Duration),
    Decr(String),
    Sweep,
    /// An empty durable commit: makes every relaxed commit before it durable.
    Flush,
}

/// What an [`Op`] answers.
enum Done {
    Committed(bool),
    Taken(Option<Vec<u8>>),
    Count(u64),
}

struct Job {
    op: Op,
    reply: oneshot::Sender<Result<Done, StoreError>>,
}

impl Op {
    /// Whether the batch holding this write must be fsynced before anyone is answered.
    fn durable(&self) -> bool {
        match self {
            Op::Commit(txn) => !txn.relaxed,
            Op::Take(_) | Op::Sweep | Op::Flush => true,
            // Rate counters: a crash forgets a few seconds of counts at most.
            Op::Incr(..) | Op::Decr(_) => false,
        }
    }
}

impl Drop for EmbeddedKv {
    fn drop(&mut self) {
        // Closing the queue ends the writer once it has answered what was queued; joining it
        // releases its handle on the file, so the file can be opened again at once.
        self.jobs = None;
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
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
        let mut db = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .create(path)
            .map_err(|e| {
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
        let db = Arc::new(db);
        let unflushed = Arc::new(AtomicU64::new(0));
        let (jobs, queue) = mpsc::channel(WRITE_QUEUE);
        let writer = {
            let db = Arc::clone(&db);
            let unflushed = Arc::clone(&unflushed);
            std::thread::Builder::new()
                .name("idbroker-store-writer".into())
                .spawn(move || write_loop(&db, queue, &unflushed))
                .map_err(|e| {
                    StoreError::Unavailable(format!("cannot start the store writer: {e}"))
                })?
        };
        Ok(EmbeddedKv {
            db,
            tx,
            unflushed,
            jobs: Some(jobs),
            writer: Some(writer),
        })
    }

    /// Makes every relaxed commit durable now, if there is any (an empty durable commit
    /// persists the ones before it).
    pub async fn flush(&self) -> Result<(), StoreError> {
        if self.unflushed.load(Ordering::Acquire) == 0 {
            return Ok(());
        }
        self.write(Op::Flush).await.map(|_| ())
    }

    /// Flushes relaxed commits every [`FLUSH_EVERY`] until the engine is dropped.
    pub fn spawn_flusher(&self) {
        let Some(jobs) = self.jobs.as_ref().map(mpsc::Sender::downgrade) else {
            return;
        };
        let unflushed = self.unflushed.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(FLUSH_EVERY);
            loop {
                tick.tick().await;
                if unflushed.load(Ordering::Relaxed) == 0 {
                    continue;
                }
                // The strong handle lives only for the `try_send`, so it never keeps the
                // queue open while the engine is being dropped. A full queue means writes
                // are flowing; one of them will be durable soon enough.
                let Some(jobs) = jobs.upgrade() else { return };
                let (reply, answer) = oneshot::channel();
                let sent = jobs.try_send(Job {
                    op: Op::Flush,
                    reply,
                });
                drop(jobs);
                if sent.is_ok()
                    && let Ok(Err(e)) = answer.await
                {
                    tracing::error!(error = %e, "flushing the embedded store failed");
                }
            }
        });
    }

    /// Queues a write for the writer thread and waits for its answer, which comes once the
    /// write's batch is committed (and on disk, when the write is durable).
    async fn write(&self, op: Op) -> Result<Done, StoreError> {
        let gone = || StoreError::Unavailable("the embedded store is closed".into());
        let jobs = self.jobs.as_ref().ok_or_else(gone)?;
        let (reply, answer) = oneshot::channel();
        jobs.send(Job { op, reply }).await.map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
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

/// Relaxed commits in a row before one is made durable anyway (redb reclaims pages only at
/// durable commits, so an endless run of non-durable ones would grow the file).
const MAX_UNFLUSHED: u64 = 256;

/// The writer thread: one batch per turn, until every sender is gone.
fn write_loop(db: &Database, mut queue: mpsc::Receiver<Job>, unflushed: &AtomicU64) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(job) = queue.blocking_recv() {
        batch.push(job);
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        run_batch(db, &mut batch, unflushed);
    }
    // The engine is being dropped: relaxed commits still in memory go to disk now.
    if unflushed.load(Ordering::Acquire) > 0 {
        let durable = db.begin_write().db().and_then(|wtx| wtx.commit().db());
        if let Err(e) = durable {
            tracing::error!(error = %e, "flushing the embedded store at close failed");
        }
    }
}

/// Applies `batch` in order in one write transaction, commits it once, then answers each
/// job. A write's own refusal (a failed check, a corrupt counter) is its answer alone; a
/// failure of the engine aborts the whole batch and every job gets the error.
fn run_batch(db: &Database, batch: &mut Vec<Job>, unflushed: &AtomicU64) {
    let now = now_ms();
    let durable = batch.iter().any(|j| j.op.durable());
    let mut answers = Vec::with_capacity(batch.len());
    let outcome = (|| {
        let (wtx, relax) = begin(db, !durable, unflushed)?;
        let mut wrote = batch.iter().any(|j| matches!(j.op, Op::Flush));
        for job in batch.iter() {
            match apply_op(&wtx, &job.op, now) {
                Ok((done, w)) => {
                    wrote |= w;
                    answers.push(Ok(done));
                }
                // Nothing of this write reached the transaction (see `apply_op`).
                Err(e @ StoreError::Corrupt { .. }) => answers.push(Err(e)),
                Err(e) => return Err(e),
            }
        }
        if wrote {
            wtx.commit().db()?;
            committed(relax, unflushed);
        } else {
            wtx.abort().db()?;
        }
        Ok(())
    })();
    match outcome {
        Ok(()) => {
            for (job, answer) in batch.drain(..).zip(answers) {
                let _ = job.reply.send(answer);
            }
        }
        Err(e) => {
            let message = e.to_string();
            for job in batch.drain(..) {
                let _ = job
                    .reply
                    .send(Err(StoreError::Unavailable(message.clone())));
            }
        }
    }
}

/// Applies one write inside `wtx`; also says whether it wrote anything. An `Err(Corrupt)`
/// comes before any write of this op, so the batch can go on without it.
fn apply_op(wtx: &WriteTransaction, op: &Op, now: u64) -> Result<(Done, bool), StoreError> {
    Ok(match op {
        Op::Commit(txn) => {
            let applied = apply(wtx, txn, now)?;
            (Done::Committed(applied), applied)
        }
        Op::Take(key) => {
            let mut values = wtx.open_table(VALUES).db()?;
            let removed = values.remove(key.as_str()).db()?.map(|guard| {
                let (expires_at, bytes) = guard.value();
                is_live(expires_at, now).then(|| bytes.to_vec())
            });
            // An expired value is simply cleaned up.
            let wrote = removed.is_some();
            (Done::Taken(removed.flatten()), wrote)
        }
        Op::Incr(key, window) => (Done::Count(incr(wtx, key, *window, now)?), true),
        Op::Decr(key) => {
            let count = decr(wtx, key, now)?;
            (Done::Count(count.unwrap_or(0)), count.is_some())
        }
        Op::Sweep => {
            let removed = sweep(wtx, now)?;
            (Done::Count(removed), removed > 0)
        }
        Op::Flush => (Done::Committed(true), true),
    })
}

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

/// [`KvBackend::incr`] inside `wtx`.
fn incr(wtx: &WriteTransaction, key: &str, window: Duration, now: u64) -> Result<u64, StoreError> {
    let mut values = wtx.open_table(VALUES).db()?;
    let (count, expires_at) = match live_counter(&values, key, now)? {
        None => (1, expiry(now, window)),
        Some((expires_at, n)) => {
            // A counter without expiry gets one (Redis `PEXPIRE NX`); an expiring one keeps
            // its window.
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
    Ok(count)
}

/// [`KvBackend::decr`] inside `wtx`: `None` when there is no live counter (nothing written).
fn decr(wtx: &WriteTransaction, key: &str, now: u64) -> Result<Option<u64>, StoreError> {
    let mut values = wtx.open_table(VALUES).db()?;
    let Some((expires_at, n)) = live_counter(&values, key, now)? else {
        return Ok(None);
    };
    let count = n.saturating_sub(1);
    let text = count.to_string();
    values.insert(key, (expires_at, text.as_bytes())).db()?;
    Ok(Some(count))
}

/// Removes every expired value and set inside `wtx`; returns how many.
fn sweep(wtx: &WriteTransaction, now: u64) -> Result<u64, StoreError> {
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
    Ok(removed)
}

/// [`sweep`] in a transaction of its own, before the writer thread exists (at open).
fn sweep_blocking(db: &Database, now: u64) -> Result<u64, StoreError> {
    let wtx = db.begin_write().db()?;
    let removed = sweep(&wtx, now)?;
    if removed == 0 {
        wtx.abort().db()?;
    } else {
        wtx.commit().db()?;
    }
    Ok(removed)
}

impl KvBackend for EmbeddedKv {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let rtx = self.db.begin_read().db()?;
        let values = rtx.open_table(VALUES).db()?;
        live_value(&values, key, now_ms())
    }

    async fn commit(&self, txn: Txn) -> Result<bool, StoreError> {
        match self.write(Op::Commit(txn)).await? {
            Done::Committed(applied) => Ok(applied),
            _ => Err(mismatch()),
        }
    }

    async fn take(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        match self.write(Op::Take(key.to_owned())).await? {
            Done::Taken(value) => Ok(value),
            _ => Err(mismatch()),
        }
    }

    async fn incr(&self, key: &str, window: Duration) -> Result<u64, StoreError> {
        match self.write(Op::Incr(key.to_owned(), window)).await? {
            Done::Count(n) => Ok(n),
            _ => Err(mismatch()),
        }
    }

    async fn set_members(&self, key: &str) -> Result<Vec<String>, StoreError> {
        let now = now_ms();
        let rtx = self.db.begin_read().db()?;
        let set_expiry = rtx.open_table(SET_EXPIRY).db()?;
        if set_expired(&set_expiry, key, now)? {
            return Ok(Vec::new());
        }
        let members = rtx.open_multimap_table(SET_MEMBERS).db()?;
        let mut out = Vec::new();
        for member in members.get(key).db()? {
            out.push(member.db()?.value().to_owned());
        }
        Ok(out)
    }

    async fn scan_prefix(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        // A scan may read the whole table: off the async workers.
        let prefix = prefix.to_owned();
        let db = Arc::clone(&self.db);
        tokio::task::spawn_blocking(move || {
            let now = now_ms();
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
        .map_err(|e| StoreError::Unavailable(format!("embedded store task failed: {e}")))?
    }

    async fn dump(&self) -> Result<Vec<DumpEntry>, StoreError> {
        let db = Arc::clone(&self.db);
        tokio::task::spawn_blocking(move || {
            let now = now_ms();
            let expiry = |at: u64| (at != NO_EXPIRY).then_some(at);
            // One read transaction: a snapshot, whatever is written meanwhile.
            let rtx = db.begin_read().db()?;
            let mut out = Vec::new();
            let values = rtx.open_table(VALUES).db()?;
            for row in values.iter().db()? {
                let (key, value) = row.db()?;
                let (expires_at, bytes) = value.value();
                if is_live(expires_at, now) {
                    out.push(DumpEntry {
                        key: key.value().to_owned(),
                        data: DumpData::Value(bytes.to_vec()),
                        expires_at_ms: expiry(expires_at),
                    });
                }
            }
            let set_expiry = rtx.open_table(SET_EXPIRY).db()?;
            let members = rtx.open_multimap_table(SET_MEMBERS).db()?;
            for row in members.iter().db()? {
                let (key, values) = row.db()?;
                let key = key.value().to_owned();
                if set_expired(&set_expiry, &key, now)? {
                    continue;
                }
                let mut set = Vec::new();
                for member in values {
                    set.push(member.db()?.value().to_owned());
                }
                set.sort();
                let expires_at = set_expiry.get(key.as_str()).db()?.map(|g| g.value());
                out.push(DumpEntry {
                    key,
                    data: DumpData::Set(set),
                    expires_at_ms: expires_at.and_then(expiry),
                });
            }
            out.sort_by(|a, b| a.key.cmp(&b.key));
            Ok(out)
        })
        .await
        .map_err(|e| StoreError::Unavailable(format!("embedded store task failed: {e}")))?
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let rtx = self.db.begin_read().db()?;
        rtx.open_table(VALUES).db()?;
        Ok(())
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
        match self.write(Op::Sweep).await? {
            Done::Count(n) => Ok(n),
            _ => Err(mismatch()),
        }
    }

    async fn decr(&self, key: &str) -> Result<u64, StoreError> {
        match self.write(Op::Decr(key.to_owned())).await? {
            Done::Count(n) => Ok(n),
            _ => Err(mismatch()),
        }
    }
}

/// The writer answered an op with another op's kind of answer: a bug, reported as a failure
/// of the engine rather than a panic.
fn mismatch() -> StoreError {
    StoreError::Unavailable("embedded store: the writer answered the wrong kind of result".into())
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
