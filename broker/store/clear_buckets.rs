//! Which failure buckets this replica knows to be empty, so that a request with the right
//! credentials can skip the store altogether (issue 12: client authentication without a
//! store write when no failure has been recorded).
//!
//! A bucket is *clear* when this replica has seen it at zero since the last failure any
//! replica kept in it. The set starts empty (nothing is known after a start), a bucket
//! becomes clear when a reservation given back leaves it at zero and no failure was kept
//! anywhere meanwhile, and stops being clear the moment a failure is kept in it: locally at
//! once, on other replicas when the store's pub/sub message arrives. A replica that may have
//! missed messages forgets everything it knew.
//!
//! Staleness bound: another replica may treat a bucket as clear for as long as a pub/sub
//! message takes to reach it (well under a millisecond on one network). In that time it
//! answers the *right* credentials without looking at the count; every wrong one is still
//! counted in the store before it is answered, so the failure limit itself stays exact.

use std::collections::HashSet;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Default)]
pub(super) struct ClearBuckets {
    clear: RwLock<HashSet<String>>,
    /// Bumped by every kept failure and every "forget everything": a bucket seen at zero is
    /// recorded clear only if nothing happened since its reservation was made.
    generation: AtomicU64,
}

impl ClearBuckets {
    pub(super) fn is_clear(&self, bucket: &str) -> bool {
        self.clear.read().is_ok_and(|set| set.contains(bucket))
    }

    pub(super) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// A failure was kept in `bucket` (here or on another replica).
    pub(super) fn dirty(&self, bucket: &str) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        if let Ok(mut set) = self.clear.write() {
            set.remove(bucket);
        }
    }

    /// Messages may have been missed: nothing is known any more.
    pub(super) fn forget_all(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        if let Ok(mut set) = self.clear.write() {
            set.clear();
        }
    }

    /// `bucket` was seen at zero by a reservation made at `generation`.
    pub(super) fn seen_empty(&self, bucket: &str, generation: u64) {
        if let Ok(mut set) = self.clear.write() {
            // Checked under the lock: `dirty` bumps before it takes the lock, so a failure
            // kept after our read of the generation is either visible here or removes the
            // entry right after we insert it.
            if self.generation.load(Ordering::Acquire) == generation {
                set.insert(bucket.to_owned());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_is_clear_only_when_seen_empty_with_nothing_in_between() {
        let b = ClearBuckets::default();
        assert!(!b.is_clear("x"), "nothing is known at start");
        let g = b.generation();
        b.seen_empty("x", g);
        assert!(b.is_clear("x"));
        b.dirty("x");
        assert!(!b.is_clear("x"));
        // A reservation made before a failure was kept does not make the bucket clear.
        let stale = g;
        b.seen_empty("x", stale);
        assert!(!b.is_clear("x"));
        let g = b.generation();
        b.seen_empty("x", g);
        b.seen_empty("y", g);
        b.forget_all();
        assert!(!b.is_clear("x") && !b.is_clear("y"));
    }
}
