//! Organisation connection state: admin consent and the last Graph sync, per organisation.
//!
//! Keys: `v1/org/{organization id}`. Organisations themselves live in the policy file; the
//! store keeps only what the broker learns about them at run time. Changes are
//! compare-and-swap, so a consent callback and a concurrent fetch both land.

use super::backend::KvBackend;
use super::{CAS_ATTEMPTS, OrgState, Store, StoreError, Txn, encode};

fn org_key(id: &str) -> String {
    format!("v1/org/{id}")
}

impl Store {
    /// The organisation's state; the default (nothing known yet) when none was stored.
    pub async fn org_state(&self, id: &str) -> Result<OrgState, StoreError> {
        Ok(self.get_json(&org_key(id)).await?.unwrap_or_default())
    }

    /// Changes the organisation's state with `change` (which may run more than once).
    pub async fn update_org_state(
        &self,
        id: &str,
        mut change: impl FnMut(&mut OrgState),
    ) -> Result<OrgState, StoreError> {
        let key = org_key(id);
        for _ in 0..CAS_ATTEMPTS {
            let current = self.get_versioned::<OrgState>(&key).await?;
            let (txn, mut next) = match current {
                Some((bytes, state)) => (Txn::new().expect_equals(&key, bytes), state),
                None => (Txn::new().expect_absent(&key), OrgState::default()),
            };
            change(&mut next);
            if self.kv.commit(txn.put(&key, encode(&next)?, None)).await? {
                return Ok(next);
            }
        }
        Err(StoreError::Contended)
    }
}
