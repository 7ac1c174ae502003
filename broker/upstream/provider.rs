//! One upstream provider's discovery document and keys.

use std::sync::atomic::{AtomicU64, Ordering};

use arc_swap::ArcSwap;
use jsonwebtoken::jwk::JwkSet;
use serde::Deserialize;

use super::UpstreamError;
use super::assertion::CertificateKey;
use super::http_client::OidcHttp;
use super::verify::{UpstreamClaims, VerifyError, check_signature};
use crate::clock::UnixTime;
use crate::policy::{Upstream, UpstreamCredential, UpstreamKind};

/// The JWKS is refetched on an unknown `kid` at most this often (an attacker sending tokens
/// with made-up `kid`s must not turn the broker into a load generator against the IdP).
/// Only such refetches count: the fetch that loads the provider does not, so a key the IdP
/// publishes just after a load (or a policy reload) is picked up by its first token.
pub const JWKS_REFRESH_FLOOR: u64 = 30;

/// The parts of an OIDC discovery document the broker uses (OIDC Discovery §3).
#[derive(Debug, Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
}

#[derive(Debug)]
pub struct Provider {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
    jwks: ArcSwap<JwkSet>,
    /// When the last refetch for an unknown `kid` was claimed; 0 before the first one.
    jwks_refetched_at: AtomicU64,
    http: OidcHttp,
    certificate: Option<CertificateKey>,
}

/// Entra's per-tenant v2.0 authority: `{authority}/{tenant}/v2.0`. The issuer of that
/// tenant's tokens is the same string, so checking `iss` against it also pins the tenant.
pub fn entra_issuer(authority: &url::Url, tenant: &str) -> String {
    format!("{}/{tenant}/v2.0", authority.as_str().trim_end_matches('/'))
}

impl Provider {
    /// Fetches the discovery document (checking its issuer, OIDC Discovery §4.3) and the JWKS.
    pub async fn load(
        upstream: &Upstream,
        tenant: Option<&str>,
    ) -> Result<Provider, UpstreamError> {
        let http =
            OidcHttp::new(upstream.timeout).map_err(|e| UpstreamError::Config(e.to_string()))?;
        let expected_issuer = match &upstream.kind {
            UpstreamKind::Entra { authority, .. } => {
                let tenant = tenant.ok_or_else(|| {
                    UpstreamError::Config(format!(
                        "upstream {} is Entra but the organisation has no tenant_id",
                        upstream.id
                    ))
                })?;
                entra_issuer(authority, tenant)
            }
            UpstreamKind::Oidc { issuer } => issuer.as_str().trim_end_matches('/').to_owned(),
        };
        let url = format!("{expected_issuer}/.well-known/openid-configuration");
        let doc: Discovery = get_json(&http, &url).await?;
        if doc.issuer.trim_end_matches('/') != expected_issuer {
            return Err(UpstreamError::Unavailable(format!(
                "the discovery document of {} names another issuer",
                upstream.id
            )));
        }
        let jwks: JwkSet = get_json(&http, &doc.jwks_uri).await?;
        let certificate = match &upstream.credential {
            UpstreamCredential::Certificate { cert, key } => Some(CertificateKey::load(cert, key)?),
            _ => None,
        };
        Ok(Provider {
            issuer: doc.issuer,
            authorization_endpoint: doc.authorization_endpoint,
            token_endpoint: doc.token_endpoint,
            jwks_uri: doc.jwks_uri,
            jwks: ArcSwap::from_pointee(jwks),
            // The load's own fetch does not count against the floor.
            jwks_refetched_at: AtomicU64::new(0),
            http,
            certificate,
        })
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }
    pub fn authorization_endpoint(&self) -> &str {
        &self.authorization_endpoint
    }
    pub fn token_endpoint(&self) -> &str {
        &self.token_endpoint
    }
    pub fn http(&self) -> &OidcHttp {
        &self.http
    }
    pub fn certificate(&self) -> Option<&CertificateKey> {
        self.certificate.as_ref()
    }

    /// Checks the token's signature; on an unknown `kid`, refetches the JWKS once (if the
    /// floor interval allows) and tries again.
    pub async fn check_signature(
        &self,
        token: &str,
        now: UnixTime,
    ) -> Result<UpstreamClaims, UpstreamError> {
        match check_signature(token, &self.jwks.load()) {
            Err(VerifyError::UnknownKey) => {}
            other => return other.map_err(UpstreamError::Verify),
        }
        let last = self.jwks_refetched_at.load(Ordering::Relaxed);
        if last != 0 && now < last.saturating_add(JWKS_REFRESH_FLOOR) {
            return Err(UpstreamError::Verify(VerifyError::UnknownKey));
        }
        // Claim the refresh so concurrent callers do not all refetch.
        if self
            .jwks_refetched_at
            .compare_exchange(last, now, Ordering::SeqCst, Ordering::Relaxed)
            .is_ok()
        {
            let jwks: JwkSet = get_json(&self.http, &self.jwks_uri).await?;
            self.jwks.store(std::sync::Arc::new(jwks));
        }
        check_signature(token, &self.jwks.load()).map_err(UpstreamError::Verify)
    }
}

async fn get_json<T: serde::de::DeserializeOwned>(
    http: &OidcHttp,
    url: &str,
) -> Result<T, UpstreamError> {
    let response = http.reqwest().get(url).send().await.map_err(|e| {
        UpstreamError::Unavailable(if e.is_timeout() {
            "timed out".into()
        } else {
            "connection failed".into()
        })
    })?;
    if !response.status().is_success() {
        return Err(UpstreamError::Unavailable(format!(
            "{url} answered {}",
            response.status()
        )));
    }
    response
        .json::<T>()
        .await
        .map_err(|_| UpstreamError::Unavailable(format!("{url} did not answer valid JSON")))
}

/// The tenant id of an Entra tenant named by one of its verified domains: Entra answers
/// the discovery document of `{authority}/{domain}/v2.0` with the tenant's own issuer,
/// `{authority}/{tenant id}/v2.0`.
pub async fn entra_tenant_of_domain(
    upstream: &Upstream,
    domain: &str,
) -> Result<String, UpstreamError> {
    let UpstreamKind::Entra { authority, .. } = &upstream.kind else {
        return Err(UpstreamError::Config(format!(
            "upstream {} is not an Entra upstream",
            upstream.id
        )));
    };
    let http = OidcHttp::new(upstream.timeout).map_err(|e| UpstreamError::Config(e.to_string()))?;
    let base = entra_issuer(authority, domain);
    let doc: Discovery =
        get_json(&http, &format!("{base}/.well-known/openid-configuration")).await?;
    let prefix = format!("{}/", authority.as_str().trim_end_matches('/'));
    doc.issuer
        .strip_prefix(&prefix)
        .and_then(|rest| rest.strip_suffix("/v2.0"))
        .and_then(crate::directory::entra_guid)
        .ok_or_else(|| {
            UpstreamError::Unavailable(format!(
                "the discovery document of {domain} at {} names no tenant",
                upstream.id
            ))
        })
}
