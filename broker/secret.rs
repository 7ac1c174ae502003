//! Random handles, their digests, and constant-time comparison.
//!
//! Every bearer value the broker hands out (authorization codes, refresh tokens, session and
//! transaction handles, CSRF tokens) is 256 bits from the system CSPRNG, base64url-encoded.
//! The store keeps only its SHA-256 digest, so a leaked database holds nothing replayable.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A new random handle: 32 bytes from the CSPRNG, base64url without padding (43 chars).
pub fn random_handle() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<32>())
}

/// A new random identifier (not a secret by itself): 16 bytes, base64url (22 chars).
pub fn random_id() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<16>())
}

/// A random (version 4) UUID, from aws-lc's generator like every other random value here.
/// `uuid`'s own `new_v4` asks the kernel (`getrandom`) on every call: one system call per
/// token minted.
pub fn random_uuid() -> uuid::Uuid {
    uuid::Builder::from_random_bytes(random_bytes::<16>()).into_uuid()
}

/// `N` bytes from the operating system's CSPRNG (through aws-lc).
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    // aws-lc's RAND_bytes never reports failure: without an entropy source it aborts the
    // process rather than return predictable bytes, so the Result carries no information.
    let _ = aws_lc_rs::rand::fill(&mut buf);
    buf
}

/// SHA-256 of a handle, base64url: the key under which the store keeps a bearer value.
pub fn digest(handle: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(handle.as_bytes()))
}

/// Raw SHA-256 of a secret, for constant-time comparison with [`ct_eq`].
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Constant-time equality of two byte strings (length is not secret).
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}
