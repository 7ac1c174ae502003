//! A user's sign-in factors as the admin API shows them (one-time codes, passkeys), and
//! removing one: the one-time codes of a lost phone (`user.mfa.removed`) or a passkey
//! (`user.passkey.removed`). No secret, recovery-code digest or key material is shown.

use serde::Serialize;

use super::{Admin, AdminCtx, AdminError};
use crate::clock::UnixTime;
use crate::store::PasskeyChange;

/// `GET /admin/api/users/{id}/factors`.
#[derive(Debug, Serialize)]
pub struct Factors {
    pub totp: Option<TotpSummary>,
    pub passkeys: Vec<PasskeyView>,
}

#[derive(Debug, Serialize)]
pub struct TotpSummary {
    pub enrolled_at: UnixTime,
    pub recovery_codes_left: usize,
}

/// What a user has besides a password, as the console's list counts it.
#[derive(Debug, Clone, Copy, Default)]
pub struct FactorCount {
    pub totp: bool,
    pub passkeys: usize,
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

    /// Removes the user's one-time codes; `NotFound` when they have none. Their next
    /// password sign-in has no code step (or sets codes up again, where the policy
    /// requires a second factor).
    pub async fn remove_totp(&self, id: &str, ctx: &AdminCtx) -> Result<(), AdminError> {
        let mut record = self.event("user.mfa.removed", ctx);
        let result = async {
            let user = self.resolve_user(id).await?;
            record.name_user(&user);
            if !self.broker.store.remove_totp(&user.id).await? {
                return Err(AdminError::NotFound(
                    "the user has no one-time codes".into(),
                ));
            }
            Ok(())
        }
        .await;
        self.audited(record, result)
    }

    /// What each of `users` has besides a password, for the console's list: one-time codes
    /// (whether) and passkeys (how many). Two reads per user.
    pub async fn factor_counts(
        &self,
        users: &[super::users::UserView],
    ) -> Result<std::collections::HashMap<String, FactorCount>, AdminError> {
        let mut out = std::collections::HashMap::with_capacity(users.len());
        for u in users {
            let totp = self.broker.store.totp_factor(&u.id).await?.is_some();
            let passkeys = self.broker.store.passkeys_of(&u.id).await?.keys.len();
            out.insert(u.id.clone(), FactorCount { totp, passkeys });
        }
        Ok(out)
    }

    /// Removes every passkey of the user (the console's "remove passkeys"); `NotFound`
    /// when they have none. Each removal is audited as `user.passkey.removed`.
    pub async fn remove_all_passkeys(&self, id: &str, ctx: &AdminCtx) -> Result<(), AdminError> {
        let user = self.resolve_user(id).await?;
        let keys = self.broker.store.passkeys_of(&user.id).await?.keys;
        if keys.is_empty() {
            return Err(AdminError::NotFound("the user has no passkeys".into()));
        }
        for k in keys {
            self.remove_passkey(&user.id, &k.id, ctx).await?;
        }
        Ok(())
    }

    async fn factors_of(&self, user_id: &str) -> Result<Factors, AdminError> {
        let totp = self
            .broker
            .store
            .totp_factor(user_id)
            .await?
            .map(|f| TotpSummary {
                enrolled_at: f.created_at,
                recovery_codes_left: f.recovery.len(),
            });
        let doc = self.broker.store.passkeys_of(user_id).await?;
        Ok(Factors {
            totp,
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
