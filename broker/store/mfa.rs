//! Second factors: a user's one-time-code (TOTP, RFC 6238) enrolment.
//!
//! Key: `v1/user-totp/{user_id}`, in the `{users}` slot group with the user it belongs to.
//! The record holds the shared secret (a credential: never logged, see [`TotpFactor`]'s
//! `Debug`), the last time step accepted, and the digests of the unused recovery codes.

use super::backend::KvBackend as _;
use super::{Cas, Store, StoreError, Txn, encode};
use crate::secret::ct_eq;

use super::records::TotpFactor;

fn totp_key(user_id: &str) -> String {
    format!("v1/user-totp/{user_id}")
}

/// What spending a one-time code or a recovery code did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spent {
    /// Accepted, and now used up.
    Accepted,
    /// Already used (the same or a later time step; a recovery code spent before).
    Used,
    /// The user has no enrolment (any more).
    NotEnrolled,
}

impl Store {
    /// The user's TOTP enrolment, if any.
    pub async fn totp_factor(&self, user_id: &str) -> Result<Option<TotpFactor>, StoreError> {
        self.get_json(&totp_key(user_id)).await
    }

    /// Enrols `factor` for the user: `false` (and nothing written) when they already have one.
    pub async fn enrol_totp(&self, user_id: &str, factor: &TotpFactor) -> Result<bool, StoreError> {
        let key = totp_key(user_id);
        let txn = Txn::new()
            .expect_absent(&key)
            .put(&key, encode(factor)?, None);
        self.kv.commit(txn).await
    }

    /// Removes the user's enrolment: `true` when there was one.
    pub async fn remove_totp(&self, user_id: &str) -> Result<bool, StoreError> {
        let key = totp_key(user_id);
        self.cas(&key, |current: Option<TotpFactor>| {
            Ok(match current {
                None => Cas::Stop(false),
                Some(_) => Cas::Commit(Txn::new().delete(&key), true),
            })
        })
        .await
    }

    /// Spends the time step `step` of a code just checked: accepted only when it is later
    /// than every step accepted before (RFC 6238 §5.2: "the verifier MUST NOT accept the
    /// second attempt of the OTP after the successful validation has been issued for the
    /// first OTP"). A compare-and-swap, so two replicas never both accept one code.
    pub async fn spend_totp_step(&self, user_id: &str, step: u64) -> Result<Spent, StoreError> {
        let key = totp_key(user_id);
        self.cas(&key, |current: Option<TotpFactor>| {
            let Some(mut factor) = current else {
                return Ok(Cas::Stop(Spent::NotEnrolled));
            };
            if factor.last_step.is_some_and(|last| last >= step) {
                return Ok(Cas::Stop(Spent::Used));
            }
            factor.last_step = Some(step);
            Ok(Cas::Commit(
                Txn::new().put(&key, encode(&factor)?, None),
                Spent::Accepted,
            ))
        })
        .await
    }

    /// Spends the recovery code whose digest is `digest`: each is accepted once. Every
    /// stored digest is compared, in constant time each.
    pub async fn spend_recovery_code(
        &self,
        user_id: &str,
        digest: &str,
    ) -> Result<(Spent, usize), StoreError> {
        let key = totp_key(user_id);
        self.cas(&key, |current: Option<TotpFactor>| {
            let Some(mut factor) = current else {
                return Ok(Cas::Stop((Spent::NotEnrolled, 0)));
            };
            let mut found = None;
            for (i, stored) in factor.recovery.iter().enumerate() {
                if ct_eq(stored.as_bytes(), digest.as_bytes()) {
                    found = Some(i);
                }
            }
            let Some(i) = found else {
                return Ok(Cas::Stop((Spent::Used, factor.recovery.len())));
            };
            factor.recovery.remove(i);
            let left = factor.recovery.len();
            Ok(Cas::Commit(
                Txn::new().put(&key, encode(&factor)?, None),
                (Spent::Accepted, left),
            ))
        })
        .await
    }
}
