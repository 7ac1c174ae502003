//! The access-token deny list, mirrored in memory, so that checking a token (`/introspect`,
//! `/userinfo`) needs no round trip to the store (issue 12).
//!
//! The store stays the truth (`v1/denied-jti/{jti}`, expiring with the token). Each replica
//! loads every denial at start, adds the ones it writes itself before answering, and the
//! ones other replicas write when their pub/sub message arrives. Until the load is done, and
//! again from the moment messages may have been missed (the Redis engine's pub/sub
//! connection was re-established, or this replica fell behind) until a new load is done,
//! the mirror is *incomplete* and every check asks the store.
//!
//! Staleness bound: a token denied on another replica may be accepted here for as long as
//! its pub/sub message takes to arrive (well under a millisecond on one network); a replica
//! never answers from a mirror it knows to be incomplete. On the embedded engine there is
//! one replica and the mirror is exact.

use std::collections::HashMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::clock::UnixTime;

/// Fewest entries at which the mirror drops the expired ones (it then waits until it has
/// doubled).
const PRUNE_FLOOR: usize = 1024;

#[derive(Default)]
pub(super) struct DeniedTokens {
    /// `jti` → when the denial ends (unix seconds, the machine's clock, as the store expires it).
    by_jti: RwLock<Mirror>,
    complete: AtomicBool,
    /// Bumped whenever messages may have been missed: a load that started before does not
    /// make the mirror complete.
    generation: AtomicU64,
}

#[derive(Default)]
struct Mirror {
    by_jti: HashMap<String, UnixTime>,
    prune_at: usize,
}

impl DeniedTokens {
    /// `Some(answer)` when the mirror is complete; `None`: ask the store. `now` is the
    /// machine's time, as the entries' ends are (see `tokens.rs`).
    pub(super) fn lookup(&self, jti: &str, now: UnixTime) -> Option<bool> {
        if !self.complete.load(Ordering::Acquire) {
            return None;
        }
        self.by_jti
            .read()
            .ok()
            .map(|m| m.by_jti.get(jti).is_some_and(|until| *until > now))
    }

    pub(super) fn insert(&self, jti: &str, expires_at: UnixTime) {
        let now = crate::clock::system_now();
        let Ok(mut m) = self.by_jti.write() else {
            return;
        };
        m.by_jti.insert(jti.to_owned(), expires_at);
        if m.by_jti.len() >= m.prune_at.max(PRUNE_FLOOR) {
            m.by_jti.retain(|_, exp| *exp > now);
            m.prune_at = m.by_jti.len().saturating_mul(2);
        }
    }

    /// Messages may have been missed: answer from the store until [`DeniedTokens::loaded`].
    pub(super) fn incomplete(&self) -> u64 {
        self.complete.store(false, Ordering::Release);
        self.generation.fetch_add(1, Ordering::AcqRel) + 1
    }

    pub(super) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// A load that started at `generation` read `entries` from the store. Entries added
    /// meanwhile are kept; the mirror is complete unless messages were missed since.
    pub(super) fn loaded(&self, generation: u64, entries: Vec<(String, UnixTime)>) {
        let Ok(mut m) = self.by_jti.write() else {
            return;
        };
        m.by_jti.extend(entries);
        m.prune_at = m.by_jti.len().saturating_mul(2);
        if self.generation.load(Ordering::Acquire) == generation {
            self.complete.store(true, Ordering::Release);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mirror_answers_only_when_complete() {
        let d = DeniedTokens::default();
        let later = crate::clock::system_now() + 600;
        assert_eq!(d.lookup("a", 10), None, "nothing is known before the load");
        let g = d.generation();
        d.insert("a", later);
        d.loaded(g, vec![("b".into(), later)]);
        assert_eq!(d.lookup("a", 10), Some(true));
        assert_eq!(d.lookup("b", 10), Some(true));
        assert_eq!(d.lookup("c", 10), Some(false));
        assert_eq!(d.lookup("a", later), Some(false), "a denial ends");
        let g = d.incomplete();
        assert_eq!(d.lookup("a", 10), None);
        // A load that started before messages were missed again does not complete it.
        d.incomplete();
        d.loaded(g, Vec::new());
        assert_eq!(d.lookup("a", 10), None);
        d.loaded(d.generation(), Vec::new());
        assert_eq!(d.lookup("a", 10), Some(true));
    }

    #[test]
    fn expired_denials_are_pruned_as_the_mirror_grows() {
        let d = DeniedTokens::default();
        d.loaded(d.generation(), Vec::new());
        let now = crate::clock::system_now();
        for i in 0..PRUNE_FLOOR - 1 {
            d.insert(&format!("old-{i}"), now - 1);
        }
        d.insert("new", now + 600);
        let kept = d.by_jti.read().map(|m| m.by_jti.len()).unwrap_or(0);
        assert_eq!(kept, 1, "the ended denials were dropped");
        assert_eq!(d.lookup("new", now), Some(true));
    }
}
