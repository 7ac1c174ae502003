//! Organisations: their connection state (admin consent and the last Graph sync), and the
//! organisations created at run time.
//!
//! Keys: `v1/org/{organization id}` (the state, of every organisation) and
//! `v1/rorg/{organization id}` (a [`RuntimeOrganization`]). Changes are compare-and-swap, so
//! a consent callback and a concurrent fetch both land. A change of the runtime
//! organisations is announced to every replica with [`MSG_ORGS`].

use super::{
    Cas, KvBackend, MSG_ORGS, OrgState, RuntimeOrganization, Store, StoreError, Txn, decode, encode,
};

fn org_key(id: &str) -> String {
    format!("v1/org/{id}")
}

const RUNTIME_ORG_PREFIX: &str = "v1/rorg/";

fn runtime_org_key(id: &str) -> String {
    format!("{RUNTIME_ORG_PREFIX}{id}")
}

/// What became of a change to a runtime organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgWrite {
    Done,
    /// Creating: the id is taken. Replacing or deleting: there is no such organisation.
    Conflict,
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

impl Store {
    /// Every organisation created at run time, in the order of their ids.
    pub async fn runtime_organizations(&self) -> Result<Vec<RuntimeOrganization>, StoreError> {
        let mut out = Vec::new();
        for (key, bytes) in self.kv.scan_prefix(RUNTIME_ORG_PREFIX).await? {
            out.push(decode(&key, &bytes)?);
        }
        Ok(out)
    }

    /// Stores a new runtime organisation, unless one with its id exists.
    pub async fn create_runtime_organization(
        &self,
        org: &RuntimeOrganization,
    ) -> Result<OrgWrite, StoreError> {
        let key = runtime_org_key(&org.spec.id);
        let txn = Txn::new().expect_absent(&key).put(&key, encode(org)?, None);
        self.runtime_orgs_changed(self.kv.commit(txn).await?).await
    }

    /// Replaces a runtime organisation, if it exists.
    pub async fn replace_runtime_organization(
        &self,
        org: &RuntimeOrganization,
    ) -> Result<OrgWrite, StoreError> {
        let key = runtime_org_key(&org.spec.id);
        let next = encode(org)?;
        let done = self
            .cas(&key, |current: Option<RuntimeOrganization>| {
                Ok(match current {
                    None => Cas::Stop(false),
                    Some(_) => Cas::Commit(Txn::new().put(&key, next.clone(), None), true),
                })
            })
            .await?;
        self.runtime_orgs_changed(done).await
    }

    /// Deletes a runtime organisation (its connection state too), if it exists.
    pub async fn delete_runtime_organization(&self, id: &str) -> Result<OrgWrite, StoreError> {
        let key = runtime_org_key(id);
        let done = self
            .cas(&key, |current: Option<RuntimeOrganization>| {
                Ok(match current {
                    None => Cas::Stop(false),
                    Some(_) => Cas::Commit(Txn::new().delete(&key).delete(org_key(id)), true),
                })
            })
            .await?;
        self.runtime_orgs_changed(done).await
    }

    /// Tells every replica (this one included) to read the runtime organisations again.
    async fn runtime_orgs_changed(&self, done: bool) -> Result<OrgWrite, StoreError> {
        if !done {
            return Ok(OrgWrite::Conflict);
        }
        self.orgs_changed.send_modify(|n| *n = n.wrapping_add(1));
        // The write stands; another replica that misses the message reads the organisations
        // again at its next reconnect (MSG_ALL) or restart.
        if let Err(e) = self.kv.publish(MSG_ORGS).await {
            tracing::warn!(error = %e, "cannot announce a change of the runtime organizations");
        }
        Ok(OrgWrite::Done)
    }

    /// Changes whenever the runtime organisations may have changed (here or on another
    /// replica, or messages were missed).
    pub fn watch_runtime_organizations(&self) -> tokio::sync::watch::Receiver<u64> {
        self.orgs_changed.subscribe()
    }
}

/// The console admins an operator granted an organisation (beside the file's `admins`).
fn org_admins_key(org: &str) -> String {
    format!("v1/org-admins/{org}")
}

/// The organisations an email was granted, the reverse index of [`org_admins_key`].
fn admin_of_key(email: &str) -> String {
    format!("v1/admin-of/{email}")
}

impl Store {
    /// The admins granted organisation `org` at run time.
    pub async fn granted_org_admins(&self, org: &str) -> Result<Vec<String>, StoreError> {
        let mut admins = self.kv.set_members(&org_admins_key(org)).await?;
        admins.sort();
        Ok(admins)
    }

    /// The organisations `email` was granted at run time.
    pub async fn granted_orgs_of(&self, email: &str) -> Result<Vec<String>, StoreError> {
        self.kv.set_members(&admin_of_key(email)).await
    }

    /// Grants (or, with `granted: false`, removes) `email` as an admin of `org`; both
    /// indexes change in one atomic write.
    pub async fn set_org_admin(
        &self,
        org: &str,
        email: &str,
        granted: bool,
    ) -> Result<(), StoreError> {
        let txn = if granted {
            Txn::new()
                .set_add(org_admins_key(org), email, None)
                .set_add(admin_of_key(email), org, None)
        } else {
            Txn::new()
                .set_remove(org_admins_key(org), email)
                .set_remove(admin_of_key(email), org)
        };
        self.kv.commit(txn).await?;
        Ok(())
    }
}
