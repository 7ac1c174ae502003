//! Password hashing and verification with Argon2id, on a fixed set of dedicated threads.
//!
//! Verification costs tens of milliseconds of CPU and 19 MiB of memory by design. It runs on
//! `threads` dedicated threads (one per core by default), each of which allocates its Argon2
//! memory at its first job and reuses it for every job after, so the memory of password work
//! is at most `threads` × 19 MiB however many attempts arrive; a thread idle for
//! [`IDLE_RELEASE`] gives its memory back to the system. Jobs wait in one bounded queue: when
//! it is full the caller is told [`PasswordError::Busy`] at once (the login form answers `429`
//! with `Retry-After`), so a flood of attempts is refused early instead of piling up, and a
//! job that still waited [`MAX_QUEUE_WAIT`] (a starved CPU) is answered the same way.
//!
//! Unknown users are verified against a dummy hash with the same parameters, so the answer
//! takes the same time whether the account exists.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use argon2::password_hash::phc::{Output, ParamsString, Salt};
use argon2::{ARGON2ID_IDENT, Algorithm, Argon2, Block, Params, PasswordHash, Version};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::oneshot;
use zeroize::Zeroize as _;

/// OWASP Password Storage Cheat Sheet (2025): Argon2id, m=19456 KiB, t=2, p=1.
pub const M_COST: u32 = 19_456;
const T_COST: u32 = 2;
const P_COST: u32 = 1;
const OUTPUT_LEN: usize = 32;

/// The most a hash may ask for; the policy refuses more, and a stored hash beyond it is a
/// mismatch. Every verification pays this, so an absurd hash would be a denial of service.
pub const MAX_M_COST: u32 = 262_144;
pub const MAX_T_COST: u32 = 16;
pub const MAX_P_COST: u32 = 16;

/// `Retry-After` (seconds) when the queue is full: the default queue (64 jobs per thread)
/// drains in 64 × 20–40 ms, about one to three seconds.
pub const BUSY_RETRY_AFTER: u64 = 2;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("the password worker pool is gone")]
    PoolClosed,
    /// Every hashing thread is working and the queue in front of them is full.
    #[error("the password hashing queue is full")]
    Busy,
}

fn hash_error(e: impl std::fmt::Display) -> PasswordError {
    PasswordError::Hash(e.to_string())
}

fn default_params() -> Result<Params, PasswordError> {
    Params::new(M_COST, T_COST, P_COST, Some(OUTPUT_LEN)).map_err(hash_error)
}

/// The longest a job waits in the queue: one that waited longer is answered
/// [`PasswordError::Busy`] without being run.
pub const MAX_QUEUE_WAIT: Duration = Duration::from_secs(5);

/// How long a hashing thread keeps its memory without a job. Short: a burst of sign-ins
/// (jobs less than this apart) keeps it, and an idle broker holds no Argon2 memory for long.
/// Allocating it again costs about 5,000 page faults, a few per cent of one verification.
pub const IDLE_RELEASE: Duration = Duration::from_secs(2);

/// Every buffer reserves at least this much address space (only the part in use is ever
/// touched, so only that part is resident). glibc serves an allocation above its dynamic mmap
/// threshold, which grows to at most 32 MiB on 64-bit systems, as a mapping of its own that
/// `free` unmaps; below it, a freed 19 MiB buffer would stay in the thread's malloc arena, and
/// with one arena per thread that is how a burst used to keep gigabytes resident.
const RESERVE_BLOCKS: usize = 33 * 1024;

/// One thread's Argon2 memory: allocated at its first use, grown for a hash that asks for
/// more (up to [`MAX_M_COST`]), wiped after every use, released when the thread is idle.
#[derive(Default)]
struct Memory(Vec<Block>);

impl Memory {
    /// The first `blocks` blocks, growing the buffer if needed (`None` if that allocation
    /// fails: a mismatch, not an abort).
    fn blocks(&mut self, blocks: usize) -> Option<&mut [Block]> {
        if self.0.len() < blocks {
            // Free the old buffer first, so growing never holds both.
            self.0 = Vec::new();
            self.0.try_reserve_exact(blocks.max(RESERVE_BLOCKS)).ok()?;
            self.0.resize(blocks, Block::new());
        }
        self.0.get_mut(..blocks)
    }

    /// Wipes what the last run left: it is derived from the password, and would let a
    /// memory dump test guesses without paying Argon2's memory cost.
    fn wipe(&mut self) {
        for block in &mut self.0 {
            block.zeroize();
        }
    }

    fn is_allocated(&self) -> bool {
        self.0.capacity() > 0
    }

    fn release(&mut self) {
        self.0 = Vec::new();
    }
}

/// Verifies `password` against a PHC string with this thread's memory. Any malformed hash,
/// or one beyond the maximum parameters, is a mismatch.
fn verify_with(memory: &mut Memory, phc: &str, password: &[u8]) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::new(parsed.algorithm.as_str()) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    // `try_from(&PasswordHash)` also sets the output length to the stored hash's.
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return false;
    };
    if params.m_cost() > MAX_M_COST || params.t_cost() > MAX_T_COST || params.p_cost() > MAX_P_COST
    {
        return false;
    }
    let mut out = [0u8; Output::MAX_LENGTH];
    let Some(out) = out.get_mut(..expected.len()) else {
        return false;
    };
    let blocks = params.block_count();
    let Some(buffer) = memory.blocks(blocks) else {
        return false;
    };
    let computed = Argon2::new(algorithm, version, params).hash_password_into_with_memory(
        password,
        salt.as_ref(),
        &mut *out,
        buffer,
    );
    memory.wipe();
    let ok = computed.is_ok() && crate::secret::ct_eq(out, expected.as_bytes());
    out.zeroize();
    ok
}

/// Hashes `password` into a PHC string (Argon2id, the parameters above) with this memory.
fn hash_with(memory: &mut Memory, password: &[u8]) -> Result<String, PasswordError> {
    let params = default_params()?;
    let salt = crate::secret::random_bytes::<16>();
    let mut out = [0u8; OUTPUT_LEN];
    let buffer = memory
        .blocks(params.block_count())
        .ok_or_else(|| PasswordError::Hash("cannot allocate the Argon2 memory".into()))?;
    let computed = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(password, &salt, &mut out, buffer);
    memory.wipe();
    computed.map_err(hash_error)?;
    let phc = PasswordHash {
        algorithm: ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(hash_error)?,
        salt: Some(Salt::new(&salt).map_err(hash_error)?),
        hash: Some(Output::new(&out).map_err(hash_error)?),
    };
    Ok(phc.to_string())
}

/// Hashes a password into a PHC string on the calling thread, with its own memory (for the
/// CLI's `hash-secret` and tests; the broker uses [`PasswordPool::hash`]).
pub fn hash_blocking(password: &str) -> Result<String, PasswordError> {
    hash_with(&mut Memory::default(), password.as_bytes())
}

/// Verifies against a PHC string on the calling thread (for tests; the broker uses
/// [`PasswordPool::verify`]). Any malformed hash is a mismatch.
pub fn verify_blocking(phc: &str, password: &str) -> bool {
    verify_with(&mut Memory::default(), phc, password.as_bytes())
}

/// A PHC string with the default parameters, a random salt and a random output: verifying
/// any password against it costs exactly what a real verification costs and fails (a match
/// would need the 256-bit output guessed).
fn dummy_hash() -> Result<String, PasswordError> {
    let phc = PasswordHash {
        algorithm: ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&default_params()?).map_err(hash_error)?,
        salt: Some(Salt::new(&crate::secret::random_bytes::<16>()).map_err(hash_error)?),
        hash: Some(Output::new(&crate::secret::random_bytes::<OUTPUT_LEN>()).map_err(hash_error)?),
    };
    Ok(phc.to_string())
}

/// A job, and when it was queued.
struct Job {
    queued: Instant,
    work: Work,
}

enum Work {
    Verify {
        /// The user's hash, or the dummy one.
        hash: Arc<str>,
        real: bool,
        password: SecretString,
        reply: oneshot::Sender<Result<bool, PasswordError>>,
    },
    Hash {
        password: SecretString,
        reply: oneshot::Sender<Result<String, PasswordError>>,
    },
}

impl Job {
    fn run(self, memory: &mut Memory) {
        // A job that waited too long (the CPU is starved) is answered busy unrun: the caller
        // hears it within a bounded time, and the backlog drains instead of growing stale.
        let stale = self.queued.elapsed() > MAX_QUEUE_WAIT;
        match self.work {
            Work::Verify {
                hash,
                real,
                password,
                reply,
            } => {
                // A caller that gave up (a closed connection) needs no answer: skip the work.
                if reply.is_closed() {
                    return;
                }
                let answer = if stale {
                    Err(PasswordError::Busy)
                } else {
                    Ok(verify_with(memory, &hash, password.expose_secret().as_bytes()) && real)
                };
                let _ = reply.send(answer);
            }
            Work::Hash { password, reply } => {
                if reply.is_closed() {
                    return;
                }
                let answer = if stale {
                    Err(PasswordError::Busy)
                } else {
                    hash_with(memory, password.expose_secret().as_bytes())
                };
                let _ = reply.send(answer);
            }
        }
    }
}

/// The jobs waiting for a hashing thread.
struct Queue {
    state: Mutex<QueueState>,
    /// Signalled when a job arrives or the pool closes.
    ready: Condvar,
    capacity: usize,
}

struct QueueState {
    jobs: VecDeque<Job>,
    closed: bool,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, QueueState> {
        // A job runs outside the lock, so a poisoned lock holds a consistent queue.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One hashing thread: runs jobs from the queue until the pool is dropped.
fn work(queue: &Queue) {
    let mut memory = Memory::default();
    let mut state = queue.lock();
    loop {
        if let Some(job) = state.jobs.pop_front() {
            drop(state);
            job.run(&mut memory);
            state = queue.lock();
            continue;
        }
        if state.closed {
            return;
        }
        if memory.is_allocated() {
            let (next, waited) = queue
                .ready
                .wait_timeout(state, IDLE_RELEASE)
                .unwrap_or_else(PoisonError::into_inner);
            state = next;
            if waited.timed_out() && state.jobs.is_empty() {
                memory.release();
            }
        } else {
            state = queue
                .ready
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// Closes the queue when the last [`PasswordPool`] clone is dropped; the threads then end.
struct Closer(Arc<Queue>);

impl Drop for Closer {
    fn drop(&mut self) {
        self.0.lock().closed = true;
        self.0.ready.notify_all();
    }
}

/// The dedicated threads that password work runs on, and the bounded queue in front of them.
/// Cloning shares them; the threads end when the last clone is dropped.
#[derive(Clone)]
pub struct PasswordPool {
    queue: Arc<Closer>,
    /// The dummy hash, verified when there is no user hash.
    dummy: Arc<str>,
}

impl PasswordPool {
    /// Starts `threads` hashing threads (at least one) behind a queue of `queue` jobs.
    pub fn new(threads: usize, queue: usize) -> Result<PasswordPool, PasswordError> {
        let shared = Arc::new(Queue {
            state: Mutex::new(QueueState {
                jobs: VecDeque::new(),
                closed: false,
            }),
            ready: Condvar::new(),
            capacity: queue,
        });
        let closer = Closer(shared.clone());
        for i in 0..threads.max(1) {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name(format!("idbroker-argon2-{i}"))
                .spawn(move || work(&shared))
                .map_err(|e| PasswordError::Hash(format!("cannot start a hashing thread: {e}")))?;
        }
        Ok(PasswordPool {
            queue: Arc::new(closer),
            dummy: dummy_hash()?.into(),
        })
    }

    /// Queues a job, or refuses it at once when the queue is full.
    fn submit(&self, work: Work) -> Result<(), PasswordError> {
        let queue = &self.queue.0;
        let mut state = queue.lock();
        if state.closed {
            return Err(PasswordError::PoolClosed);
        }
        if state.jobs.len() >= queue.capacity {
            drop(state);
            metrics::counter!("idbroker_rate_limited_total", "limit" => "password_queue")
                .increment(1);
            return Err(PasswordError::Busy);
        }
        state.jobs.push_back(Job {
            queued: Instant::now(),
            work,
        });
        drop(state);
        queue.ready.notify_one();
        Ok(())
    }

    /// Verifies `password` against `hash`; with `None`, against the dummy hash, and then
    /// always false. Either way it costs one Argon2id verification. [`PasswordError::Busy`]
    /// when the queue is full.
    pub async fn verify(
        &self,
        hash: Option<String>,
        password: SecretString,
    ) -> Result<bool, PasswordError> {
        let (reply, answer) = oneshot::channel();
        let (hash, real) = match hash {
            Some(h) => (Arc::from(h), true),
            None => (self.dummy.clone(), false),
        };
        self.submit(Work::Verify {
            hash,
            real,
            password,
            reply,
        })?;
        answer.await.map_err(|_| PasswordError::PoolClosed)?
    }

    /// Hashes `password` on the pool. [`PasswordError::Busy`] when the queue is full.
    pub async fn hash(&self, password: SecretString) -> Result<String, PasswordError> {
        let (reply, answer) = oneshot::channel();
        self.submit(Work::Hash { password, reply })?;
        answer.await.map_err(|_| PasswordError::PoolClosed)?
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};

    #[test]
    fn hash_and_verify_round_trip() {
        let h = hash_blocking("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_blocking(&h, "correct horse"));
        assert!(!verify_blocking(&h, "wrong horse"));
        assert!(!verify_blocking("not a hash", "correct horse"));
    }

    /// Our own hashing and verification agree with the argon2 crate's, both ways, for
    /// hashes with other parameters (more memory than ours, two lanes) and for argon2i.
    #[test]
    fn agrees_with_the_argon2_crate() {
        let ours = hash_blocking("pw").unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"pw", &PasswordHash::new(&ours).unwrap())
                .is_ok()
        );
        let mut memory = Memory::default();
        for (alg, m, t, p) in [
            (Algorithm::Argon2id, 19_456, 2, 1),
            (Algorithm::Argon2id, 32_768, 1, 2),
            (Algorithm::Argon2i, 8_192, 3, 1),
            (Algorithm::Argon2id, 8_192, 1, 1),
        ] {
            let params = Params::new(m, t, p, None).unwrap();
            let theirs = Argon2::new(alg, Version::V0x13, params)
                .hash_password_with_salt(b"pw", b"saltsaltsaltsalt")
                .unwrap()
                .to_string();
            // One memory for all: it grows for the 32 MiB hash, and is reused after.
            assert!(verify_with(&mut memory, &theirs, b"pw"), "{theirs}");
            assert!(!verify_with(&mut memory, &theirs, b"px"), "{theirs}");
        }
        assert_eq!(memory.0.len(), 32_768);
        assert!(memory.0.iter().all(|b| b.as_ref().iter().all(|w| *w == 0)));
    }

    #[test]
    fn hashes_beyond_the_maximum_are_mismatches() {
        let h = hash_blocking("pw").unwrap();
        let huge = h.replacen("m=19456", "m=4194304", 1);
        let mut memory = Memory::default();
        assert!(!verify_with(&mut memory, &huge, b"pw"));
        assert!(memory.0.is_empty(), "nothing allocated for it");
        assert!(!verify_with(
            &mut memory,
            &h.replacen("t=2", "t=17", 1),
            b"pw"
        ));
    }

    #[tokio::test]
    async fn unknown_user_costs_a_verification_and_fails() {
        let pool = PasswordPool::new(2, 4).unwrap();
        let t = std::time::Instant::now();
        assert!(!pool.verify(None, SecretString::from("x")).await.unwrap());
        assert!(t.elapsed() > std::time::Duration::from_millis(1));
        let h = pool.hash(SecretString::from("y")).await.unwrap();
        assert!(pool.verify(Some(h), SecretString::from("y")).await.unwrap());
    }

    #[tokio::test]
    async fn a_full_queue_refuses_at_once() {
        let pool = PasswordPool::new(1, 1).unwrap();
        let jobs: Vec<_> = (0..8)
            .map(|_| {
                let pool = pool.clone();
                tokio::spawn(async move { pool.verify(None, SecretString::from("x")).await })
            })
            .collect();
        let mut busy = 0;
        for job in jobs {
            match job.await.unwrap() {
                Ok(ok) => assert!(!ok),
                Err(PasswordError::Busy) => busy += 1,
                Err(e) => panic!("{e}"),
            }
        }
        // One running, one queued: the other six are refused.
        assert!(busy >= 6, "{busy} refused");
    }
}
