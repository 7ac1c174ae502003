//! Client authentication at `/token`, `/revoke` and `/introspect` (RFC 6749 §2.3.1).

use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};

use super::{Broker, ServiceError};
use crate::op::OpError;
use crate::policy::{Client, ClientSecret};
use crate::secret::{ct_eq, sha256};

/// The credentials a request carried, from the `Authorization: Basic` header
/// (`client_secret_basic`) or the form (`client_secret_post`). Never both.
#[derive(Debug, Default)]
pub struct ClientCredentials {
    pub client_id: Option<String>,
    pub client_secret: Option<SecretString>,
    /// True when they came from the Basic header.
    pub basic: bool,
}

impl Broker {
    /// Identifies and authenticates the client. A public client identifies itself by
    /// `client_id` alone; a confidential one must present its secret. Every failure is the
    /// same `invalid_client` (RFC 6749 §5.2), so the answer does not tell which part failed.
    pub async fn authenticate_client(
        &self,
        creds: &ClientCredentials,
    ) -> Result<Arc<Client>, ServiceError> {
        let fail = || ServiceError::Op(OpError::invalid_client("client authentication failed"));
        let id = creds.client_id.as_deref().ok_or_else(fail)?;
        let policy = self.policy();
        let client = policy.client(id).cloned().ok_or_else(fail)?;
        // Secret guessing is limited per client before any hashing: once a client has had
        // `token_per_client` failed authentications in a window, every attempt is refused
        // until the window ends (shared by replicas through the store). Successes do not
        // count, so a busy client is never slowed by its own traffic.
        let limits = policy.rate_limits;
        let bucket = format!("client-auth-fail/{}", crate::secret::digest(id));
        let guarded = client.secret.is_some() && creds.client_secret.is_some();
        if guarded {
            let crate::store::RateCount(failures) = self.store.rate_count(&bucket).await?;
            if failures >= u64::from(limits.token_per_client) {
                metrics::counter!("idbroker_rate_limited_total", "limit" => "client_auth")
                    .increment(1);
                return Err(ServiceError::RateLimited(limits.window.as_secs()));
            }
        }
        let verdict = self.check_client_secret(client, creds).await;
        if guarded && matches!(verdict, Err(ServiceError::Op(_))) {
            self.store.rate_hit(&bucket, limits.window).await?;
        }
        verdict
    }

    async fn check_client_secret(
        &self,
        client: Arc<Client>,
        creds: &ClientCredentials,
    ) -> Result<Arc<Client>, ServiceError> {
        let fail = || ServiceError::Op(OpError::invalid_client("client authentication failed"));
        match (&client.secret, &creds.client_secret) {
            (None, None) => Ok(client),
            // A public client has nothing to present; a secret would mean a misconfigured app.
            (None, Some(_)) => Err(fail()),
            (Some(_), None) => Err(fail()),
            (Some(ClientSecret::Sha256(expected)), Some(given)) => {
                if ct_eq(expected, &sha256(given.expose_secret().as_bytes())) {
                    Ok(client)
                } else {
                    Err(fail())
                }
            }
            (Some(ClientSecret::Argon2(phc)), Some(given)) => {
                let ok = self
                    .passwords
                    .verify(Some(phc.clone()), given.clone())
                    .await?;
                if ok { Ok(client) } else { Err(fail()) }
            }
        }
    }

    /// Like [`Broker::authenticate_client`], and the client must be confidential
    /// (`/introspect`, `client_credentials`).
    pub async fn authenticate_confidential_client(
        &self,
        creds: &ClientCredentials,
    ) -> Result<Arc<Client>, ServiceError> {
        let client = self.authenticate_client(creds).await?;
        if client.is_public() {
            return Err(ServiceError::Op(OpError::invalid_client(
                "this endpoint needs a confidential client",
            )));
        }
        Ok(client)
    }
}
