//! Upstream identity providers: the broker as a relying party of Entra tenants and other
//! OIDC providers.
//!
//! [`Upstreams`] keeps one [`provider::Provider`] per (upstream, tenant): its discovery
//! document and JWKS, cached, loaded once for concurrent callers, the JWKS refreshed once on
//! an unknown `kid` but never more often than [`provider::JWKS_REFRESH_FLOOR`]. The protocol
//! legs (authorization URL, code redemption with PKCE and client authentication) use the
//! `openidconnect` crate; the ID token is verified by [`verify`].

pub mod assertion;
pub mod graph;
pub mod http_client;
pub mod provider;
pub mod verify;

use std::sync::Arc;
use std::time::Duration;

use openidconnect::core::{CoreAuthenticationFlow, CoreClient};
use openidconnect::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, JsonWebKeySet, Nonce,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope, TokenUrl,
};
use secrecy::ExposeSecret as _;
use url::Url;

use crate::clock::UnixTime;
use crate::policy::{Organization, Upstream, UpstreamCredential, UpstreamKind};
pub use provider::Provider;
pub use verify::{VerifiedIdentity, VerifyError};

#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// Down, slow past its timeout, or answering nonsense: "sign-in is unavailable right now".
    #[error("the upstream is unavailable: {0}")]
    Unavailable(String),
    /// The upstream answered with an OAuth error (an AADSTS code for Entra).
    #[error("the upstream refused: {code}: {description}")]
    Refused { code: String, description: String },
    #[error("the upstream's token was refused: {0}")]
    Verify(#[from] VerifyError),
    /// Our own configuration is unusable (a certificate file, a tenant missing).
    #[error("upstream configuration: {0}")]
    Config(String),
}

/// What the authorization request to the upstream carries.
pub struct AuthRequest<'a> {
    pub redirect_uri: &'a str,
    pub state: &'a str,
    pub nonce: &'a str,
    pub pkce_verifier: &'a str,
    pub login_hint: &'a str,
}

/// What redeeming the upstream's code needs: what we sent and what came back.
#[derive(Clone, Copy)]
pub struct CodeRedemption<'a> {
    pub redirect_uri: &'a str,
    pub code: &'a str,
    pub pkce_verifier: &'a str,
    pub nonce: &'a str,
}

/// The registry of upstream providers, shared by every request.
pub struct Upstreams {
    providers: moka::future::Cache<String, Arc<Provider>>,
}

impl Default for Upstreams {
    fn default() -> Self {
        Upstreams::new()
    }
}

impl Upstreams {
    pub fn new() -> Upstreams {
        Upstreams {
            providers: moka::future::Cache::builder()
                .max_capacity(10_000)
                // Discovery documents change rarely; an hour bounds how long a moved endpoint
                // is used. JWKS refresh on an unknown kid does not wait for this.
                .time_to_live(Duration::from_secs(3600))
                .build(),
        }
    }

    /// The provider of `upstream` for `org`'s tenant, loading it on first use (one load for
    /// all concurrent callers).
    pub async fn provider(
        &self,
        upstream: &Upstream,
        org: Option<&Organization>,
    ) -> Result<Arc<Provider>, UpstreamError> {
        let tenant = org.and_then(|o| o.tenant_id.as_deref());
        let key = format!("{}|{}", upstream.id, tenant.unwrap_or(""));
        self.providers
            .try_get_with(key, async {
                Provider::load(upstream, tenant).await.map(Arc::new)
            })
            .await
            .map_err(|e: Arc<UpstreamError>| match &*e {
                UpstreamError::Config(m) => UpstreamError::Config(m.clone()),
                other => UpstreamError::Unavailable(other.to_string()),
            })
    }

    /// Forgets every cached provider (policy reload: an upstream may have changed).
    pub fn clear(&self) {
        self.providers.invalidate_all();
    }

    /// The URL to send the browser to (OIDC Core §3.1.2.1), with PKCE, `login_hint`, and for
    /// Entra `domain_hint`.
    pub async fn authorization_url(
        &self,
        upstream: &Upstream,
        org: Option<&Organization>,
        req: &AuthRequest<'_>,
    ) -> Result<Url, UpstreamError> {
        let provider = self.provider(upstream, org).await?;
        let client = oidc_client(upstream, &provider, req.redirect_uri)?;
        let verifier = PkceCodeVerifier::new(req.pkce_verifier.to_owned());
        let state = req.state.to_owned();
        let nonce = req.nonce.to_owned();
        let mut auth = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                move || CsrfToken::new(state),
                move || Nonce::new(nonce),
            )
            .set_pkce_challenge(PkceCodeChallenge::from_code_verifier_sha256(&verifier))
            .add_extra_param("login_hint", req.login_hint);
        for scope in upstream.scopes.iter().filter(|s| s.as_str() != "openid") {
            auth = auth.add_scope(Scope::new(scope.clone()));
        }
        if let (UpstreamKind::Entra { .. }, Some(domain)) = (
            &upstream.kind,
            req.login_hint.rsplit_once('@').map(|(_, d)| d),
        ) {
            auth = auth.add_extra_param("domain_hint", domain);
        }
        let (url, _, _) = auth.url();
        Ok(url)
    }

    /// Redeems the upstream's code (with our PKCE verifier and client authentication) and
    /// verifies the ID token it returns.
    pub async fn redeem(
        &self,
        upstream: &Upstream,
        org: Option<&Organization>,
        leg: &CodeRedemption<'_>,
        now: UnixTime,
    ) -> Result<VerifiedIdentity, UpstreamError> {
        let CodeRedemption {
            redirect_uri,
            code,
            pkce_verifier,
            nonce,
        } = *leg;
        let provider = self.provider(upstream, org).await?;
        let client = oidc_client(upstream, &provider, redirect_uri)?;
        let mut request = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()));
        let assertion;
        if let Some(cert) = provider.certificate() {
            assertion = cert.assertion(&upstream.client_id, provider.token_endpoint(), now)?;
            request = request
                .add_extra_param("client_assertion_type", assertion::ASSERTION_TYPE)
                .add_extra_param("client_assertion", assertion.as_str());
        }
        let response = request
            .request_async(provider.http())
            .await
            .map_err(|e| match e {
                RequestTokenError::ServerResponse(r) => UpstreamError::Refused {
                    code: r.error().as_ref().to_owned(),
                    description: r.error_description().cloned().unwrap_or_default(),
                },
                RequestTokenError::Request(e) => UpstreamError::Unavailable(e.to_string()),
                RequestTokenError::Parse(_, _) => {
                    UpstreamError::Unavailable("the token response did not parse".into())
                }
                RequestTokenError::Other(m) => UpstreamError::Unavailable(m),
            })?;
        use openidconnect::TokenResponse as _;
        let id_token = response
            .id_token()
            .ok_or(UpstreamError::Verify(VerifyError::MissingClaim("id_token")))?
            .to_string();
        let expected = verify::Expected {
            issuer: provider.issuer(),
            tenant_id: match upstream.kind {
                UpstreamKind::Entra { .. } => org.and_then(|o| o.tenant_id.as_deref()),
                UpstreamKind::Oidc { .. } => None,
            },
            audience: &upstream.client_id,
            nonce: Some(nonce),
            verified_domains: org.map_or(&[], |o| o.domains.as_slice()),
            groups_claim: &upstream.groups_claim,
        };
        let claims = provider.check_signature(&id_token, now).await?;
        Ok(verify::check_claims(&claims, &expected, now)?)
    }
}

impl Upstreams {
    /// Verifies an Entra token the broker did not ask for itself (RFC 8693 §2.1
    /// `subject_token`) exactly as [`Upstreams::redeem`] verifies the ID token of the
    /// interactive flow: signature against the tenant's keys (alg allow-list), `iss` of the
    /// organisation's tenant, `tid` equal to its `tenant_id`, `aud` our client id, time. Only
    /// the nonce is not checked: nobody sent one.
    pub async fn verify_token(
        &self,
        upstream: &Upstream,
        org: &Organization,
        token: &str,
        now: UnixTime,
    ) -> Result<VerifiedIdentity, UpstreamError> {
        let provider = self.provider(upstream, Some(org)).await?;
        let expected = verify::Expected {
            issuer: provider.issuer(),
            tenant_id: match upstream.kind {
                UpstreamKind::Entra { .. } => org.tenant_id.as_deref(),
                UpstreamKind::Oidc { .. } => None,
            },
            audience: &upstream.client_id,
            nonce: None,
            verified_domains: &org.domains,
            groups_claim: &upstream.groups_claim,
        };
        let claims = provider.check_signature(token, now).await?;
        Ok(verify::check_claims(&claims, &expected, now)?)
    }
}

/// An openidconnect client for one provider and one redirect URI.
fn oidc_client(
    upstream: &Upstream,
    provider: &Provider,
    redirect_uri: &str,
) -> Result<
    CoreClient<
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
    >,
    UpstreamError,
> {
    let cfg = |e: &dyn std::fmt::Display| UpstreamError::Config(e.to_string());
    let issuer = IssuerUrl::new(provider.issuer().to_owned()).map_err(|e| cfg(&e))?;
    let client = CoreClient::new(
        ClientId::new(upstream.client_id.clone()),
        issuer,
        JsonWebKeySet::default(),
    )
    .set_auth_uri(AuthUrl::new(provider.authorization_endpoint().to_owned()).map_err(|e| cfg(&e))?)
    .set_token_uri(TokenUrl::new(provider.token_endpoint().to_owned()).map_err(|e| cfg(&e))?)
    .set_redirect_uri(RedirectUrl::new(redirect_uri.to_owned()).map_err(|e| cfg(&e))?);
    Ok(match &upstream.credential {
        UpstreamCredential::Secret(s) => {
            client.set_client_secret(ClientSecret::new(s.expose_secret().to_owned()))
        }
        UpstreamCredential::Certificate { .. } | UpstreamCredential::None => client,
    })
}
