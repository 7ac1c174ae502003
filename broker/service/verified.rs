//! Access tokens whose signature has been checked, remembered for their next presentation.
//!
//! A resource server introspects the same access token on every API call it receives, and
//! an ES256 verification is the most expensive step of `/introspect` by far (issue 12). A
//! signature that verified once verifies again, as long as the key that made it is still
//! trusted: an entry is used only while the key set it was checked against is the one in
//! force, so removing a key from the folder stops its tokens at the next reload. Expiry,
//! issuer and revocation are checked on every presentation, as for a token seen first.
//! (Envoy's JWT filter keeps the same kind of cache.)
//!
//! Only tokens that verified enter the cache, so nobody can fill it without tokens of ours;
//! it is bounded in bytes, and an entry is dropped after [`KEEP`] anyway.

use std::sync::Arc;
use std::time::Duration;

use crate::op::claims::AccessTokenClaims;

/// Largest total size of the remembered tokens and their claims.
const CAPACITY_BYTES: u64 = 4 * 1024 * 1024;

/// How long an entry is kept at most.
const KEEP: Duration = Duration::from_secs(600);

/// Rough size of the decoded claims of an entry, beside its token.
const CLAIMS_BYTES: usize = 256;

pub struct VerifiedTokens {
    cache: moka::sync::Cache<String, Arc<Verified>>,
}

struct Verified {
    claims: AccessTokenClaims,
    /// The key set's JWKS document at the time: its identity stands for the key set.
    keys: Arc<[u8]>,
}

impl Default for VerifiedTokens {
    fn default() -> Self {
        VerifiedTokens {
            cache: moka::sync::Cache::builder()
                .max_capacity(CAPACITY_BYTES)
                .weigher(|token: &String, _| {
                    u32::try_from(token.len() + CLAIMS_BYTES).unwrap_or(u32::MAX)
                })
                .time_to_live(KEEP)
                .build(),
        }
    }
}

impl VerifiedTokens {
    /// The claims of `token` if its signature was verified against the key set `keys`.
    pub fn get(&self, token: &str, keys: &Arc<[u8]>) -> Option<AccessTokenClaims> {
        let hit = self.cache.get(token)?;
        Arc::ptr_eq(&hit.keys, keys).then(|| hit.claims.clone())
    }

    pub fn insert(&self, token: &str, claims: &AccessTokenClaims, keys: Arc<[u8]>) {
        self.cache.insert(
            token.to_owned(),
            Arc::new(Verified {
                claims: claims.clone(),
                keys,
            }),
        );
    }
}
