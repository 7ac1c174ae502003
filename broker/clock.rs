//! Time as a value. Domain code never reads the clock: it takes `now` (unix seconds) as a
//! parameter, so expiry, clock skew and rotation are testable without sleeping.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the unix epoch. Every timestamp the broker stores or signs uses this unit.
pub type UnixTime = u64;

/// The source of `now` held by the application state.
#[derive(Debug)]
pub enum Clock {
    /// The machine's wall clock.
    System,
    /// A clock that moves only when told to; for tests of expiry.
    Manual(AtomicU64),
}

impl Clock {
    pub fn now(&self) -> UnixTime {
        match self {
            Clock::System => system_now(),
            Clock::Manual(t) => t.load(Ordering::Relaxed),
        }
    }

    /// Moves a manual clock forward; a no-op on the system clock.
    pub fn advance(&self, secs: u64) {
        if let Clock::Manual(t) = self {
            t.fetch_add(secs, Ordering::Relaxed);
        }
    }
}

pub fn system_now() -> UnixTime {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
