//! One-time password-set links: made by an admin (`admin/users.rs`) or mailed by the
//! self-service reset (`reset.rs`), used on `/password/set`. The store keeps the link's
//! digest as a single-use value (`v1/once/password-link/{digest}`) that expires with it.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Broker;
use crate::clock::UnixTime;
use crate::secret::{digest, random_handle};
use crate::store::StoreError;

/// The page where a password-set link leads.
pub const PASSWORD_SET_PATH: &str = "/password/set";

/// The single-use family of password-set links.
pub(super) const ONCE_PASSWORD: &str = "password-link";

/// What a link stands for.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct PasswordLinkState {
    pub user_id: String,
    pub expires_at: UnixTime,
    /// Mailed by the self-service reset (absent in links made before it existed).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reset: bool,
}

impl Broker {
    /// Stores a new link for `user_id` that works once within `ttl`; returns its address
    /// (`/password/set?token=…` under the issuer) and when it expires.
    pub(super) async fn issue_password_link(
        &self,
        user_id: &str,
        ttl: Duration,
        reset: bool,
    ) -> Result<(String, UnixTime), StoreError> {
        let token = random_handle();
        let expires_at = self.now() + ttl.as_secs();
        self.store
            .put_once(
                ONCE_PASSWORD,
                &digest(&token),
                &PasswordLinkState {
                    user_id: user_id.to_owned(),
                    expires_at,
                    reset,
                },
                ttl,
            )
            .await?;
        let url = format!(
            "{}?token={token}",
            self.policy().issuer.join(PASSWORD_SET_PATH)
        );
        Ok((url, expires_at))
    }
}
