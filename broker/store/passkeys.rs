//! Passkeys (WebAuthn credentials) of users, and who owns a credential id.
//!
//! Keys: `v1/passkeys/{user_id}` holds a user's [`UserPasskeys`]; `v1/passkey-cred/{id}`
//! (the credential id, base64url) holds the owner's user id. Both are of the `users` slot
//! group, so a document and its index change in one transaction, compare-and-swap on the
//! document: a credential id belongs to one user at most (WebAuthn L2 §7.1 step 22).

use super::backend::KvBackend as _;
use super::{Cas, Store, StoreError, StoredPasskey, Txn, UserPasskeys, encode};

fn doc_key(user_id: &str) -> String {
    format!("v1/passkeys/{user_id}")
}
fn owner_key(credential_id: &str) -> String {
    format!("v1/passkey-cred/{credential_id}")
}

/// What became of a passkey change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasskeyChange {
    Done,
    /// Registration: the credential id is already registered (to anyone).
    Taken,
    /// Removal or update: the user has no such passkey.
    NotFound,
}

impl Store {
    /// The passkeys of `user_id` (an empty document when none was ever registered).
    pub async fn passkeys_of(&self, user_id: &str) -> Result<UserPasskeys, StoreError> {
        Ok(self
            .get_json::<UserPasskeys>(&doc_key(user_id))
            .await?
            .unwrap_or_default())
    }

    /// The user id that owns the credential `credential_id`.
    pub async fn passkey_owner(&self, credential_id: &str) -> Result<Option<String>, StoreError> {
        self.get_json(&owner_key(credential_id)).await
    }

    /// Adds `key` to the user's passkeys with its index; `handle` is the WebAuthn user
    /// handle, kept when the user already has one.
    pub async fn add_passkey(
        &self,
        user_id: &str,
        handle: &str,
        key: &StoredPasskey,
    ) -> Result<PasskeyChange, StoreError> {
        let owner = owner_key(&key.id);
        if self.kv.get(&owner).await?.is_some() {
            return Ok(PasskeyChange::Taken);
        }
        let id = encode(&user_id)?;
        let result = self
            .cas(&doc_key(user_id), |current: Option<UserPasskeys>| {
                let mut doc = current.unwrap_or_default();
                if doc.keys.iter().any(|k| k.id == key.id) {
                    return Ok(Cas::Stop(PasskeyChange::Taken));
                }
                if doc.handle.is_empty() {
                    doc.handle = handle.to_owned();
                }
                doc.keys.push(key.clone());
                let txn = Txn::new()
                    .expect_absent(&owner)
                    .put(doc_key(user_id), encode(&doc)?, None)
                    .put(&owner, id.clone(), None);
                Ok(Cas::Commit(txn, PasskeyChange::Done))
            })
            .await;
        match result {
            // The index was taken between the read and the commit (the document did not
            // change, so every retry lost the same way).
            Err(StoreError::Contended) if self.kv.get(&owner).await?.is_some() => {
                Ok(PasskeyChange::Taken)
            }
            other => other,
        }
    }

    /// Removes the passkey `credential_id` of `user_id` and its index.
    pub async fn remove_passkey(
        &self,
        user_id: &str,
        credential_id: &str,
    ) -> Result<PasskeyChange, StoreError> {
        self.cas(&doc_key(user_id), |current: Option<UserPasskeys>| {
            let mut doc = current.unwrap_or_default();
            let before = doc.keys.len();
            doc.keys.retain(|k| k.id != credential_id);
            if doc.keys.len() == before {
                return Ok(Cas::Stop(PasskeyChange::NotFound));
            }
            let txn = Txn::new()
                .put(doc_key(user_id), encode(&doc)?, None)
                .delete(owner_key(credential_id));
            Ok(Cas::Commit(txn, PasskeyChange::Done))
        })
        .await
    }

    /// Changes the passkey `credential_id` of `user_id` (after a sign-in: its counter and
    /// last use). `change` may run more than once.
    pub async fn update_passkey(
        &self,
        user_id: &str,
        credential_id: &str,
        mut change: impl FnMut(&mut StoredPasskey),
    ) -> Result<PasskeyChange, StoreError> {
        self.cas(&doc_key(user_id), |current: Option<UserPasskeys>| {
            let mut doc = current.unwrap_or_default();
            let Some(key) = doc.keys.iter_mut().find(|k| k.id == credential_id) else {
                return Ok(Cas::Stop(PasskeyChange::NotFound));
            };
            change(key);
            let txn = Txn::new().put(doc_key(user_id), encode(&doc)?, None);
            Ok(Cas::Commit(txn, PasskeyChange::Done))
        })
        .await
    }
}
