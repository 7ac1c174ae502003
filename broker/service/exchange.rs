//! RFC 8693 token exchange: an agent that already holds an Entra token for the broker's app
//! registration (obtained silently by the platform's sign-in broker) trades it for broker
//! tokens, with no prompt (SPEC "Desktop apps and agents").
//!
//! The Entra token is verified exactly like the ID token of the interactive flow (see
//! [`crate::upstream::Upstreams::verify_token`]) and mapped by (`tid`, `oid`) to an existing
//! directory user for whom single sign-on applies; there is no just-in-time creation here.

use super::issue::{TokenResponse, UserGrant};
use super::token::TokenParams;
use super::{ServiceError, Tokens};
use crate::hrd::LoginMethod;
use crate::op::claims::AuthContext;
use crate::op::{OpError, resource, scope};
use crate::policy::{Client, GrantType, Organization, Policy, Upstream, UpstreamKind};
use crate::secret::random_id;
use crate::store::{AuditRecord, Authentication, User};
use crate::upstream::{UpstreamError, verify};

/// RFC 8693 §3 token type identifiers.
pub const TOKEN_TYPE_ID_TOKEN: &str = "urn:ietf:params:oauth:token-type:id_token";
pub const TOKEN_TYPE_JWT: &str = "urn:ietf:params:oauth:token-type:jwt";
pub const TOKEN_TYPE_ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";

/// Longest subject token accepted (Entra tokens are a few kilobytes).
const MAX_SUBJECT_TOKEN: usize = 16 * 1024;

/// Why an exchange was refused: the audit reason. The answer to the client is always the
/// same `invalid_grant`, so it cannot be used to probe the directory.
type Refusal = &'static str;

impl Tokens<'_> {
    /// RFC 8693 §2.1 at `/token` (the client is authenticated and allowed the grant).
    pub(crate) async fn token_exchange(
        &self,
        client: &Client,
        p: &TokenParams,
    ) -> Result<TokenResponse, ServiceError> {
        // Request shape first (RFC 8693 §2.1): these are invalid_request and audit nothing.
        let token = p
            .subject_token
            .as_deref()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| OpError::invalid_request("subject_token is missing"))?;
        match p.subject_token_type.as_deref() {
            Some(TOKEN_TYPE_ID_TOKEN | TOKEN_TYPE_JWT) => {}
            Some(_) => {
                return Err(OpError::invalid_request(
                    "subject_token_type must be urn:ietf:params:oauth:token-type:id_token or \
                     urn:ietf:params:oauth:token-type:jwt",
                )
                .into());
            }
            None => return Err(OpError::invalid_request("subject_token_type is missing").into()),
        }
        if token.len() > MAX_SUBJECT_TOKEN {
            return Err(OpError::invalid_request("subject_token is too long").into());
        }
        if p.actor_token.is_some() {
            // RFC 8693 §1.1: delegation (an actor) is not offered, only impersonation.
            return Err(OpError::invalid_request("actor_token is not supported").into());
        }
        if let Some(t) = p.requested_token_type.as_deref()
            && t != TOKEN_TYPE_ACCESS_TOKEN
        {
            return Err(OpError::invalid_request(
                "requested_token_type must be urn:ietf:params:oauth:token-type:access_token",
            )
            .into());
        }
        // RFC 8693 §2.1: `audience` (an API's identifier, or the client's own id) and
        // `resource` name the target, mapped onto the APIs as RFC 8707 resources are; without
        // them the tokens are for the client itself (RFC 9068 §3), or for the API whose scopes
        // are asked for. Anything else is refused (RFC 8693 §2.2.2: `invalid_target`).
        let asked = resource::exchange_target(&client.id, p.audience.as_deref(), &p.resource)?;
        let scopes = match p.scope.as_deref() {
            None => client.scopes.clone(),
            Some(s) => scope::parse(Some(s)),
        };
        let policy = self.broker.policy();
        let api = resource::target(&policy, client, &scopes, asked)?;

        let now = self.broker.now();
        let mut ev = AuditRecord::failure("token.exchange", now)
            .client(&client.id)
            .request(p.ip.as_deref(), None);

        let (user, upstream, org) = match self.exchange_subject(&policy, token, &mut ev).await {
            Ok(found) => found,
            Err(Ok(reason)) => {
                self.broker.audit.record(ev.because(reason));
                return Err(OpError::invalid_grant(
                    "the subject token is not acceptable for sign-in here",
                )
                .into());
            }
            Err(Err(e)) => {
                self.broker.audit.record(ev.because("upstream_unavailable"));
                return Err(e);
            }
        };
        self.broker
            .audit
            .record(ev.succeeded().user(&user.id).identifier(&user.email));
        self.broker
            .refresh_stale_upstream_groups(&upstream, &org, &user)
            .await;

        let ctx = AuthContext {
            auth: Authentication {
                auth_time: now,
                amr: vec!["fed".into()],
                idp: Some(upstream.id.clone()),
                organization: user.organization.clone().or(Some(org.id.clone())),
                acr: None,
            },
            session_id: None,
        };
        let access = self.broker.access_ticket();
        let grant = UserGrant {
            client_id: &client.id,
            resource: api.as_ref().map(|a| a.identifier.as_str()),
            user: &user,
            scopes: &scopes,
            nonce: None,
            ctx: &ctx,
            access: &access,
        };
        let refresh = if client.allows_grant(GrantType::RefreshToken) {
            Some(self.broker.new_refresh_family(&random_id(), &grant).await?)
        } else {
            None
        };
        let mut response = self.broker.mint_user_tokens(&grant, refresh).await?;
        // RFC 8693 §2.2.1: REQUIRED in a token exchange response.
        response.issued_token_type = Some(TOKEN_TYPE_ACCESS_TOKEN);
        Ok(response)
    }

    /// Verifies the subject token and finds its user. `Err(Ok(reason))` is a refusal,
    /// `Err(Err(_))` a failure of the upstream or the store.
    async fn exchange_subject(
        &self,
        policy: &Policy,
        token: &str,
        ev: &mut crate::store::AuditRecord,
    ) -> Result<
        (User, std::sync::Arc<Upstream>, std::sync::Arc<Organization>),
        Result<Refusal, ServiceError>,
    > {
        // Which organisation's rules apply is read from the unverified `tid`; the signature,
        // `iss` and `tid` checks below then confirm it (a forged `tid` fails them).
        let tid = verify::unverified_tid(token).ok_or(Ok("tenant_unknown"))?;
        let (org, upstream) = policy
            .organizations
            .iter()
            .find_map(|o| {
                if o.tenant_id.as_deref() != Some(tid.as_str()) {
                    return None;
                }
                let u = policy.upstream(o.upstream.as_deref()?)?;
                matches!(u.kind, UpstreamKind::Entra { .. }).then(|| (o.clone(), u.clone()))
            })
            .ok_or(Ok("tenant_unknown"))?;
        ev.organization = Some(org.id.clone());
        ev.upstream = Some(upstream.id.clone());

        let identity = match self
            .broker
            .upstreams
            .verify_token(&upstream, &org, token, self.broker.now())
            .await
        {
            Ok(identity) => identity,
            Err(UpstreamError::Verify(v)) => return Err(Ok(v.reason())),
            Err(e) => {
                tracing::warn!(upstream = %upstream.id, error = %e, "token exchange: upstream unavailable");
                return Err(Err(ServiceError::SignIn {
                    unavailable: true,
                    title: crate::i18n::Msg::new("error-upstream-unavailable-title")
                        .arg("upstream", upstream.display_name.clone()),
                    message: crate::i18n::Msg::new("error-upstream-keys"),
                }));
            }
        };
        ev.identifier = identity.email.clone();
        // Only tokens obtained by our own app registration, or by an app the policy lists,
        // may be traded: any other app the user signed in to could hold a token for us.
        verify::check_exchange_app(&identity, &upstream.client_id, &upstream.exchange_apps)
            .map_err(|v| Ok(v.reason()))?;
        let user = match self.broker.store.user_by_link(&identity.link).await {
            Ok(Some(user)) => user,
            Ok(None) => return Err(Ok("unknown_user")),
            Err(e) => return Err(Err(e.into())),
        };
        ev.user_id = Some(user.id.clone());
        if user.disabled {
            return Err(Ok("disabled"));
        }
        // The same per-user policy as the login page: SSO must apply to this user, through
        // this very upstream and organisation (SPEC "The login method of a user").
        match crate::hrd::decide(policy, &user.email, Some(&user)) {
            LoginMethod::Upstream(route)
                if route.upstream.id == upstream.id && route.organization.id == org.id => {}
            _ => return Err(Ok("sso_not_enabled")),
        }
        // Each subject token is exchanged once (a copy taken from a log or a proxy is worth
        // nothing): its id (`uti`, else `jti`, else the token's digest) is remembered until
        // the token could no longer be accepted anyway. Last, so a refusal burns nothing.
        let id = identity
            .token_id
            .clone()
            .unwrap_or_else(|| crate::secret::digest(token));
        let ttl = identity
            .exp
            .saturating_add(verify::LEEWAY_SECS)
            .saturating_sub(self.broker.now())
            .max(1);
        let key = crate::secret::digest(&format!("{}\n{tid}\n{id}", upstream.id));
        match self
            .broker
            .store
            .mark_once(
                "exchange-subject",
                &key,
                std::time::Duration::from_secs(ttl),
            )
            .await
        {
            Ok(true) => {}
            Ok(false) => return Err(Ok("token_replayed")),
            Err(e) => return Err(Err(e.into())),
        }
        Ok((user, upstream, org))
    }
}
