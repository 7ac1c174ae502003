//! Organisation connection state: admin consent and the last Graph sync, per organisation.
//!
//! Keys: `v1/org/{organization id}`. Organisations themselves live in the policy file; the
//! store keeps only what the broker learns about them at run time. Changes are
//! compare-and-swap, so a consent callback and a concurrent fetch both land.

use super::{Cas, OrgState, Store, StoreError, Txn, encode};

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
        self.cas(&key, |current: Option<OrgState>| {
            let mut next = current.unwrap_or_default();
            change(&mut next);
            Ok(Cas::Commit(
                Txn::new().put(&key, encode(&next)?, None),
                next,
            ))
        })
        .await
    }
}
