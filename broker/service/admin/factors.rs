//! A user's sign-in factors as the admin API shows them, and removing one: passkeys.

use serde::Serialize;

use super::{Admin, AdminCtx, AdminError};
use crate::clock::UnixTime;
use crate::store::PasskeyChange;

/// `GET /admin/api/users/{id}/factors`.
#[derive(Debug, Serialize)]
pub struct Factors {
    pub passkeys: Vec<PasskeyView>,
}

/// One passkey, without its key material.
#[derive(Debug, Serialize)]
pub struct PasskeyView {
    /// The credential id (base64url): the `{credential}` of its removal route.
    pub id: String,
    /// The user's name for it; empty when they gave none.
    pub name: String,
    pub created_at: UnixTime,
    pub last_used_at: Option<UnixTime>,
}

impl Admin<'_> {
    pub async fn factors(&self, id: &str, ctx: &AdminCtx) -> Result<Factors, AdminError> {
        let mut record = self.event("admin.user.factors", ctx);
        let result = async {
            let user = self.resolve_user(id).await?;
            record.name_user(&user);
            self.factors_of(&user.id).await
        }
        .await;
        self.audited(record, result)
    }

    /// Removes the passkey `credential` of the user; the answer is what remains.
    pub async fn remove_passkey(
        &self,
        id: &str,
        credential: &str,
        ctx: &AdminCtx,
    ) -> Result<Factors, AdminError> {
        let mut record = self.event("user.passkey.removed", ctx).detail(credential);
        let result = async {
            let user = self.resolve_user(id).await?;
            record.name_user(&user);
            match self
                .broker
                .store
                .remove_passkey(&user.id, credential)
                .await?
            {
                PasskeyChange::Done => self.factors_of(&user.id).await,
                _ => Err(AdminError::NotFound("no such passkey".into())),
            }
        }
        .await;
        self.audited(record, result)
    }

    async fn factors_of(&self, user_id: &str) -> Result<Factors, AdminError> {
        let doc = self.broker.store.passkeys_of(user_id).await?;
        Ok(Factors {
            passkeys: doc
                .keys
                .into_iter()
                .map(|k| PasskeyView {
                    id: k.id,
                    name: k.name,
                    created_at: k.created_at,
                    last_used_at: k.last_used_at,
                })
                .collect(),
        })
    }
}
