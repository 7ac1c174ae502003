//! A user's second factors in the admin API: what they have (one-time codes; passkeys), and
//! removing their one-time codes (a lost phone), audited as `user.mfa.removed`.

use serde::Serialize;

use super::{Admin, AdminCtx, AdminError};
use crate::clock::UnixTime;

/// `GET /admin/api/users/{id}/factors`. The secret and the recovery codes' digests are
/// never shown.
#[derive(Debug, Serialize)]
pub struct Factors {
    pub totp: Option<TotpSummary>,
    /// The user's passkeys (none yet: filled by the passkeys feature).
    pub passkeys: Vec<serde_json::Value>,
}

#[derive(Debug, Serialize)]
pub struct TotpSummary {
    pub enrolled_at: UnixTime,
    pub recovery_codes_left: usize,
}

impl Admin<'_> {
    pub async fn factors(&self, id: &str, _ctx: &AdminCtx) -> Result<Factors, AdminError> {
        let user = self.resolve_user(id).await?;
        let totp = self
            .broker
            .store
            .totp_factor(&user.id)
            .await?
            .map(|f| TotpSummary {
                enrolled_at: f.created_at,
                recovery_codes_left: f.recovery.len(),
            });
        Ok(Factors {
            totp,
            passkeys: Vec::new(),
        })
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
}
