//! Password hashing and verification with Argon2id, off the async workers.
//!
//! Verification costs tens of milliseconds of CPU by design, so it runs on Tokio's blocking
//! pool behind a semaphore with one permit per core: a flood of login attempts queues here
//! instead of starving every other request. Unknown users are verified against a dummy hash
//! with the same parameters, so the answer takes the same time whether the account exists.

use std::sync::Arc;

use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, PasswordHash, Version};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;

/// OWASP Password Storage Cheat Sheet (2025): Argon2id, m=19456 KiB, t=2, p=1.
const M_COST: u32 = 19_456;
const T_COST: u32 = 2;
const P_COST: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("the password worker pool is gone")]
    PoolClosed,
}

fn argon2() -> Result<Argon2<'static>, PasswordError> {
    let params = Params::new(M_COST, T_COST, P_COST, None)
        .map_err(|e| PasswordError::Hash(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a password into a PHC string (blocking; for the CLI and the admin API's pool).
pub fn hash_blocking(password: &str) -> Result<String, PasswordError> {
    let salt = crate::secret::random_bytes::<16>();
    argon2()?
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// Verifies against a PHC string (blocking). Any malformed hash is a mismatch.
pub fn verify_blocking(phc: &str, password: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    // The parameters come from the PHC string; Argon2::default only supplies the algorithm
    // registry, and verify_password checks the algorithm named in the string.
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

/// The bounded pool that password work runs on.
#[derive(Clone)]
pub struct PasswordPool {
    permits: Arc<Semaphore>,
    /// A real Argon2id hash of a random password, verified when there is no user hash.
    dummy: Arc<str>,
}

impl PasswordPool {
    /// A pool with `workers` concurrent verifications (default: the number of cores).
    pub fn new(workers: usize) -> Result<PasswordPool, PasswordError> {
        let random = crate::secret::random_handle();
        Ok(PasswordPool {
            permits: Arc::new(Semaphore::new(workers.max(1))),
            dummy: hash_blocking(&random)?.into(),
        })
    }

    /// Verifies `password` against `hash`; with `None`, against the dummy hash, and then
    /// always false. Either way it costs one Argon2id verification.
    pub async fn verify(
        &self,
        hash: Option<String>,
        password: SecretString,
    ) -> Result<bool, PasswordError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| PasswordError::PoolClosed)?;
        let dummy = self.dummy.clone();
        tokio::task::spawn_blocking(move || match hash {
            Some(h) => verify_blocking(&h, password.expose_secret()),
            None => {
                let _ = verify_blocking(&dummy, password.expose_secret());
                false
            }
        })
        .await
        .map_err(|_| PasswordError::PoolClosed)
    }

    /// Hashes `password` on the pool.
    pub async fn hash(&self, password: SecretString) -> Result<String, PasswordError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| PasswordError::PoolClosed)?;
        tokio::task::spawn_blocking(move || hash_blocking(password.expose_secret()))
            .await
            .map_err(|_| PasswordError::PoolClosed)?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_and_verify_round_trip() {
        let h = hash_blocking("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_blocking(&h, "correct horse"));
        assert!(!verify_blocking(&h, "wrong horse"));
        assert!(!verify_blocking("not a hash", "correct horse"));
    }

    #[tokio::test]
    async fn unknown_user_costs_a_verification_and_fails() {
        let pool = PasswordPool::new(2).unwrap();
        let t = std::time::Instant::now();
        assert!(!pool.verify(None, SecretString::from("x")).await.unwrap());
        assert!(t.elapsed() > std::time::Duration::from_millis(1));
    }
}
