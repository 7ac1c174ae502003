//! Client authentication at `/token`, `/revoke` and `/introspect`: a secret (RFC 6749
//! §2.3.1) or a signed JWT (`private_key_jwt`, OIDC Core §9, RFC 7523 §2.2).

use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};

use super::{ServiceError, Tokens};
use crate::op::OpError;
use crate::op::client_assertion::{self, ASSERTION_TYPE, LEEWAY_SECS};
use crate::policy::{Client, ClientSecret};
use crate::secret::{ct_eq, sha256};
use crate::store::Reservation;

/// The credentials a request carried, from the `Authorization: Basic` header
/// (`client_secret_basic`), the form (`client_secret_post`), or a client assertion in the
/// form (`private_key_jwt`). Never two of them.
#[derive(Debug, Default)]
pub struct ClientCredentials {
    pub client_id: Option<String>,
    pub client_secret: Option<SecretString>,
    /// True when they came from the Basic header.
    pub basic: bool,
    /// RFC 7523 §2.2 `client_assertion_type`.
    pub client_assertion_type: Option<String>,
    /// RFC 7523 §2.2 `client_assertion`: a bearer credential until its `jti` is used, so
    /// never logged.
    pub client_assertion: Option<SecretString>,
}

impl ClientCredentials {
    fn has_assertion(&self) -> bool {
        self.client_assertion.is_some() || self.client_assertion_type.is_some()
    }
}

impl Tokens<'_> {
    /// Identifies and authenticates the client. A public client identifies itself by
    /// `client_id` alone; a confidential one must present its secret. Every failure is the
    /// same `invalid_client` (RFC 6749 §5.2), so the answer does not tell which part failed.
    pub async fn authenticate_client(
        &self,
        creds: &ClientCredentials,
    ) -> Result<Arc<Client>, ServiceError> {
        let fail = || ServiceError::Op(OpError::invalid_client("client authentication failed"));
        // RFC 7523 §3: with an assertion, `client_id` is optional; the assertion's `iss`
        // names the client (confirmed by the signature and the iss/sub check).
        let id = match (&creds.client_id, &creds.client_assertion) {
            (Some(id), _) => id.clone(),
            (None, Some(a)) => {
                client_assertion::unverified_issuer(a.expose_secret()).ok_or_else(fail)?
            }
            (None, None) => return Err(fail()),
        };
        let id = id.as_str();
        let policy = self.broker.policy();
        let client = policy.client(id).cloned().ok_or_else(fail)?;
        drop(policy);
        let guarded = !client.is_public()
            && (creds.client_secret.is_some() || creds.client_assertion.is_some());
        if !guarded {
            return self.check_credentials(client, creds).await;
        }
        // Guessing is limited per client: every failure takes a place in the client's
        // failure bucket (one atomic increment shared by replicas), and once the window's
        // places are taken, every attempt, the right one included, is refused without being
        // checked. A success gives its place back, so a busy client is never slowed by its
        // own traffic; only failures keep theirs.
        let bucket = format!("client-auth-fail/{}", crate::secret::digest(id));
        let cheap = !creds.has_assertion()
            && client.jwks.is_none()
            && matches!(client.secret, Some(ClientSecret::Sha256(_)));
        if cheap {
            // A secret compared by its SHA-256 costs less than the counter, so it is checked
            // first. Right, and no failure recorded: answered without the store (the common
            // case, once per request on `/token` and `/introspect`). Otherwise the count
            // decides, exactly as below.
            let verdict = self.check_client_secret(client, creds).await;
            if verdict.is_ok() && self.broker.store.failure_bucket_clear(&bucket) {
                return verdict;
            }
            let place = self.reserve_place(&bucket).await?;
            self.settle(place, &verdict).await;
            return verdict;
        }
        // An Argon2 secret or an assertion is expensive to check: the place is reserved
        // first, so however many arrive at once, at most `token_per_client` are checked per
        // window.
        let place = self.reserve_place(&bucket).await?;
        let verdict = self.check_credentials(client, creds).await;
        self.settle(place, &verdict).await;
        verdict
    }

    /// Takes a place in the client's failure bucket, or refuses when the window is full
    /// (such an attempt does not count either).
    async fn reserve_place(&self, bucket: &str) -> Result<Reservation, ServiceError> {
        let limits = self.broker.policy().rate_limits;
        let place = self
            .broker
            .store
            .reserve_place(bucket, limits.window)
            .await?;
        if place.place > u64::from(limits.token_per_client) {
            self.broker.store.release_place(place).await?;
            metrics::counter!("idbroker_rate_limited_total", "limit" => "client_auth").increment(1);
            return Err(ServiceError::RateLimited(limits.window.as_secs()));
        }
        Ok(place)
    }

    /// A failure (`invalid_client`) keeps its place; anything else gives it back.
    async fn settle(&self, place: Reservation, verdict: &Result<Arc<Client>, ServiceError>) {
        let done = if matches!(verdict, Err(ServiceError::Op(_))) {
            self.broker.store.keep_place(place).await
        } else {
            self.broker.store.release_place(place).await
        };
        if let Err(e) = done {
            // The answer stands; a place not given back is freed when the window ends.
            tracing::warn!(error = %e, "client authentication: the store did not settle a reservation");
        }
    }

    async fn check_credentials(
        &self,
        client: Arc<Client>,
        creds: &ClientCredentials,
    ) -> Result<Arc<Client>, ServiceError> {
        if creds.has_assertion() {
            self.check_client_assertion(client, creds).await
        } else {
            self.check_client_secret(client, creds).await
        }
    }

    async fn check_client_secret(
        &self,
        client: Arc<Client>,
        creds: &ClientCredentials,
    ) -> Result<Arc<Client>, ServiceError> {
        let fail = || ServiceError::Op(OpError::invalid_client("client authentication failed"));
        if client.jwks.is_some() {
            // A client with registered keys authenticates only with an assertion.
            return Err(fail());
        }
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
                    .broker
                    .passwords
                    .verify(Some(phc.clone()), given.clone())
                    .await?;
                if ok { Ok(client) } else { Err(fail()) }
            }
        }
    }

    /// `private_key_jwt` (OIDC Core §9, RFC 7523 §3): the assertion is signed by one of the
    /// client's registered keys, is about and from the client, is for us, is fresh, and its
    /// `jti` has not been seen before (remembered until it expires).
    async fn check_client_assertion(
        &self,
        client: Arc<Client>,
        creds: &ClientCredentials,
    ) -> Result<Arc<Client>, ServiceError> {
        let fail = |reason: &str| {
            tracing::info!(client = %client.id, reason, "client assertion refused");
            ServiceError::Op(OpError::invalid_client("client authentication failed"))
        };
        // One method per request (RFC 6749 §2.3): a secret and an assertion together fail.
        if creds.client_secret.is_some() {
            return Err(fail("secret_and_assertion"));
        }
        if creds.client_assertion_type.as_deref() != Some(ASSERTION_TYPE) {
            return Err(fail("assertion_type"));
        }
        let (Some(assertion), Some(jwks)) = (&creds.client_assertion, &client.jwks) else {
            return Err(fail("no_keys_or_no_assertion"));
        };
        let issuer = &self.broker.policy().issuer;
        let token_endpoint = issuer.join("/token");
        let now = self.broker.now();
        let verified = client_assertion::verify(
            assertion.expose_secret(),
            jwks,
            &client.id,
            &[token_endpoint.as_str(), issuer.as_str()],
            now,
        )
        .map_err(|e| fail(e.reason()))?;
        // Remember the jti until the assertion could no longer be accepted anyway.
        let ttl = verified
            .exp
            .saturating_add(LEEWAY_SECS)
            .saturating_sub(now)
            .max(1);
        let key = crate::secret::digest(&format!("{}\n{}", client.id, verified.jti));
        let first = self
            .broker
            .store
            .mark_once(
                "client-assertion-jti",
                &key,
                std::time::Duration::from_secs(ttl),
            )
            .await?;
        if !first {
            return Err(fail("jti_replayed"));
        }
        Ok(client)
    }

    /// Like [`Tokens::authenticate_client`], and the client must be confidential
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
