//! The id of the request being handled, for log lines and the `X-Request-Id` answer header.
//!
//! The HTTP layer ([`crate::http::observe`]) polls each request's future inside [`with`]; a log line
//! written meanwhile reads it with [`current`]. It is a task-local, read only when a line is
//! written, so a request that logs nothing pays for its id and nothing more.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use http::HeaderValue;

tokio::task_local! {
    static REQUEST_ID: HeaderValue;
}

/// Runs `f` with `id` as the current request id (one poll of a request's future).
pub fn with<R>(id: &HeaderValue, f: impl FnOnce() -> R) -> R {
    REQUEST_ID.sync_scope(id.clone(), f)
}

/// The id of the request this task is handling, if any.
pub fn current() -> Option<String> {
    REQUEST_ID
        .try_with(|id| id.to_str().ok().map(str::to_owned))
        .ok()
        .flatten()
}

/// A request id given by a proxy in front (`X-Request-Id`), if it looks like one: 1 to 64
/// characters of letters, digits and `-_.:`. Anything else is replaced, never logged.
pub fn accept(given: &HeaderValue) -> Option<HeaderValue> {
    let bytes = given.as_bytes();
    let ok = (1..=64).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(b));
    ok.then(|| given.clone())
}

/// A new id: 16 hex digits, a random per-process prefix and a counter, so ids are unique
/// across replicas and restarts without a system call per request.
pub fn fresh() -> HeaderValue {
    static PREFIX: OnceLock<u32> = OnceLock::new();
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let prefix = *PREFIX.get_or_init(|| u32::from_le_bytes(crate::secret::random_bytes::<4>()));
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let word = (u64::from(prefix) << 32) | u64::from(n);
    let mut hex = [0u8; 16];
    for (i, out) in hex.iter_mut().enumerate() {
        let nibble = (word >> (60 - 4 * i)) & 0xf;
        *out = b"0123456789abcdef"[nibble as usize];
    }
    // Hex digits are always a valid header value.
    HeaderValue::from_bytes(&hex).unwrap_or(HeaderValue::from_static("0"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_given_id_is_kept_only_when_it_looks_like_one() {
        let v = |b: &[u8]| HeaderValue::from_bytes(b).unwrap();
        assert_eq!(accept(&v(b"abc-123_x.y:z")), Some(v(b"abc-123_x.y:z")));
        for bad in [
            &b""[..],
            b"a b",
            b"<script>",
            &[b'a'; 65][..],
            "\u{e9}".as_bytes(),
        ] {
            assert_eq!(accept(&v(bad)), None, "{bad:?}");
        }
    }

    #[test]
    fn fresh_ids_differ_and_are_hex() {
        let (a, b) = (fresh(), fresh());
        assert_ne!(a, b);
        assert_eq!(a.len(), 16);
        assert!(a.as_bytes().iter().all(u8::is_ascii_hexdigit));
    }

    #[test]
    fn the_id_is_known_inside_its_scope_only() {
        assert_eq!(current(), None);
        let seen = with(&HeaderValue::from_static("r1"), current);
        assert_eq!(seen.as_deref(), Some("r1"));
        assert_eq!(current(), None);
    }
}
