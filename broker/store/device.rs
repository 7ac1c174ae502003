//! RFC 8628 device authorisations.
//!
//! Keys: `v1/device/{digest of device_code}` (the record), `v1/device-user/{user code}`
//! (→ the device digest). Both live until a grace period after the code expires, so a late
//! poll still gets `expired_token` rather than `invalid_grant`. Every state change is a
//! compare-and-swap on the record's bytes, so two polls or two approvals cannot both win.

use serde::{Deserialize, Serialize};

use super::backend::KvBackend;
use super::records::{Authentication, UnixTime};
use super::{Store, StoreError, Txn, decode, encode, ttl_until};

/// How long a record outlives its expiry (to answer `expired_token`).
pub const DEVICE_GRACE_SECS: u64 = 600;

fn device_key(digest: &str) -> String {
    format!("v1/device/{digest}")
}
fn user_code_key(code: &str) -> String {
    format!("v1/device-user/{code}")
}

/// Who approved a device, and how they had authenticated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceGrant {
    pub user_id: String,
    #[serde(flatten)]
    pub auth: Authentication,
}

/// Where a device authorisation stands (RFC 8628 §3.3 – §3.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum DeviceStatus {
    /// Waiting for the user to enter the code and sign in.
    Pending,
    /// The user signed in and is looking at the approve/deny page.
    SignedIn(DeviceGrant),
    Approved(DeviceGrant),
    Denied,
}

/// One device authorisation request, stored under the digest of its device code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceAuthorization {
    pub client_id: String,
    pub scope: Vec<String>,
    /// The user code, normalised (8 letters, no dash).
    pub user_code: String,
    pub status: DeviceStatus,
    /// Seconds the device must wait between polls (grows by 5 on each `slow_down`).
    pub interval: u64,
    pub last_poll: Option<UnixTime>,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
}

/// A record with the bytes it was read as, for a compare-and-swap.
pub struct Versioned<T> {
    pub bytes: Vec<u8>,
    pub value: T,
}

impl Store {
    /// Stores a new authorisation and its user-code index. `Ok(false)` when the user code
    /// (or the device code) is already taken: pick another and retry.
    pub async fn create_device(
        &self,
        digest: &str,
        record: &DeviceAuthorization,
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        let ttl = ttl_until(now, record.expires_at + DEVICE_GRACE_SECS);
        let txn = Txn::new()
            .expect_absent(device_key(digest))
            .expect_absent(user_code_key(&record.user_code))
            .put(device_key(digest), encode(record)?, Some(ttl))
            .put(
                user_code_key(&record.user_code),
                encode(&digest)?,
                Some(ttl),
            );
        self.kv.commit(txn).await
    }

    pub async fn device(
        &self,
        digest: &str,
    ) -> Result<Option<Versioned<DeviceAuthorization>>, StoreError> {
        let key = device_key(digest);
        match self.kv.get(&key).await? {
            None => Ok(None),
            Some(bytes) => {
                let value = decode(&key, &bytes)?;
                Ok(Some(Versioned { bytes, value }))
            }
        }
    }

    /// The device digest a user code points to.
    pub async fn device_by_user_code(&self, code: &str) -> Result<Option<String>, StoreError> {
        self.get_json(&user_code_key(code)).await
    }

    /// Replaces the record only if it is still `expected` (the bytes read).
    pub async fn swap_device(
        &self,
        digest: &str,
        expected: &[u8],
        next: &DeviceAuthorization,
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        let ttl = ttl_until(now, next.expires_at + DEVICE_GRACE_SECS);
        let txn = Txn::new()
            .expect_equals(device_key(digest), expected.to_vec())
            .put(device_key(digest), encode(next)?, Some(ttl));
        self.kv.commit(txn).await
    }

    /// Removes the record (and its user code) if it is still `expected`: of two callers
    /// redeeming one approval, exactly one gets `true`.
    pub async fn take_device(
        &self,
        digest: &str,
        expected: &Versioned<DeviceAuthorization>,
    ) -> Result<bool, StoreError> {
        let txn = Txn::new()
            .expect_equals(device_key(digest), expected.bytes.clone())
            .delete(device_key(digest))
            .delete(user_code_key(&expected.value.user_code));
        self.kv.commit(txn).await
    }
}
