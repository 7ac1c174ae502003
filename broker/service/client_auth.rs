//! Client authentication at `/token`, `/revoke` and `/introspect`: a secret (RFC 6749
//! §2.3.1) or a signed JWT (`private_key_jwt`, OIDC Core §9, RFC 7523 §2.2).

use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};

use super::introspect::Introspector;
use super::{ServiceError, Tokens};
use crate::op::OpError;
use crate::op::client_assertion::{self, ASSERTION_TYPE, LEEWAY_SECS};
use crate::policy::{Api, Client, ClientSecret};
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
        let cheap = !creds.has_assertion()
            && client.jwks.is_none()
            && matches!(client.secret, Some(ClientSecret::Sha256(_)));
        self.limited(id, cheap, self.check_credentials(client, creds))
            .await
    }

    /// Runs `check`, the credential check of `id`, under the failure limit.
    ///
    /// Guessing is limited per client (or API): every failure takes a place in its failure
    /// bucket (one atomic increment shared by replicas), and once the window's places are
    /// taken, every attempt, the right one included, is refused without being checked. A
    /// success gives its place back, so a busy client is never slowed by its own traffic;
    /// only failures keep theirs. Client and API ids never clash (the policy sees to it), so
    /// they share the buckets' name space.
    async fn limited<T>(
        &self,
        id: &str,
        cheap: bool,
        check: impl Future<Output = Result<T, ServiceError>>,
    ) -> Result<T, ServiceError> {
        let bucket = format!("client-auth-fail/{}", crate::secret::digest(id));
        if cheap {
            // A secret compared by its SHA-256 costs less than the counter, so it is checked
            // first. Right, and no failure recorded: answered without the store (the common
            // case, once per request on `/token` and `/introspect`). Otherwise the count
            // decides, exactly as below.
            let verdict = check.await;
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
        let verdict = check.await;
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
    async fn settle<T>(&self, place: Reservation, verdict: &Result<T, ServiceError>) {
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
            (Some(expected), Some(given)) => {
                if self.secret_matches(expected, given).await? {
                    Ok(client)
                } else {
                    Err(fail())
                }
            }
        }
    }

    /// Whether `given` is the secret `expected` stands for (RFC 6749 §2.3.1): its SHA-256
    /// compared in constant time, or an Argon2id verification.
    async fn secret_matches(
        &self,
        expected: &ClientSecret,
        given: &SecretString,
    ) -> Result<bool, ServiceError> {
        Ok(match expected {
            ClientSecret::Sha256(digest) => {
                ct_eq(digest, &sha256(given.expose_secret().as_bytes()))
            }
            ClientSecret::Argon2(phc) => {
                self.broker
                    .passwords
                    .verify(Some(phc.clone()), given.clone())
                    .await?
            }
        })
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

    /// Who asks at `/introspect` (RFC 7662 §2.1): an API by its id and secret (Basic or form,
    /// never an assertion), or else a confidential client. Every failure is the same
    /// `invalid_client`, and an API's failures are limited as a client's are.
    pub async fn authenticate_introspector(
        &self,
        creds: &ClientCredentials,
    ) -> Result<Introspector, ServiceError> {
        let api = creds
            .client_id
            .as_deref()
            .and_then(|id| self.broker.policy().apis.get(id).cloned());
        let Some(api) = api else {
            return self
                .authenticate_confidential_client(creds)
                .await
                .map(Introspector::Client);
        };
        let fail = || ServiceError::Op(OpError::invalid_client("client authentication failed"));
        if api.secret.is_none() || creds.client_secret.is_none() || creds.has_assertion() {
            // Nothing an API could be checked against: nothing to guess either.
            return Err(fail());
        }
        let cheap = matches!(api.secret, Some(ClientSecret::Sha256(_)));
        self.limited(&api.id, cheap, self.check_api_secret(api.clone(), creds))
            .await
            .map(Introspector::Api)
    }

    async fn check_api_secret(
        &self,
        api: Arc<Api>,
        creds: &ClientCredentials,
    ) -> Result<Arc<Api>, ServiceError> {
        let fail = || ServiceError::Op(OpError::invalid_client("client authentication failed"));
        let (Some(expected), Some(given)) = (&api.secret, &creds.client_secret) else {
            return Err(fail());
        };
        if self.secret_matches(expected, given).await? {
            Ok(api)
        } else {
            Err(fail())
        }
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
