//! The upstream leg of a login: single sign-on at an Entra tenant or another OIDC provider.
//!
//! Out: [`SignIn::begin_upstream`] stores what the callback will need (nonce, PKCE verifier,
//! upstream, organisation) in the login transaction, maps a fresh `state` to the transaction
//! and sends the browser upstream. Back: [`SignIn::upstream_callback`] takes the `state` once,
//! checks that the same browser returns, redeems the code, verifies the ID token (see
//! [`crate::upstream::verify`]) and maps (`tid`,`oid`) or (`iss`,`sub`) to a directory user —
//! never the email (SPEC "Upstream verification").

use std::sync::Arc;

use super::authorize::BrowserContext;
use super::login_flow::{LoginNext, MSG_RESTART, Step};
use super::{ServiceError, SignIn};
use crate::hrd::{LoginMethod, UpstreamRoute};
use crate::i18n::Msg;
use crate::policy::{Organization, Policy, SsoMode, Upstream};
use crate::secret::{digest, random_handle};
use crate::store::{AuditRecord, LoginStage, LoginTx, UpstreamLeg, User, UserSource};
use crate::upstream::{AuthRequest, CodeRedemption, UpstreamError, VerifiedIdentity};

/// Where upstream providers send the browser back (register `{issuer}/upstream/callback` as
/// the redirect URI of the broker's app registration).
pub const CALLBACK_PATH: &str = "/upstream/callback";

/// What the upstream sent back to the callback (OIDC Core §3.1.2.5 and §3.1.2.6).
#[derive(Debug, Default)]
pub struct CallbackParams {
    pub state: Option<String>,
    pub code: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

impl SignIn<'_> {
    /// Sends the user to their upstream.
    pub(crate) async fn begin_upstream(
        &self,
        tx: &LoginTx,
        mut next: LoginTx,
        route: UpstreamRoute<'_>,
        ctx: &BrowserContext,
    ) -> Result<LoginNext, ServiceError> {
        let now = self.broker.now();
        let policy = self.broker.policy();
        let login_hint = next.identifier.clone().unwrap_or_default();
        let state = random_handle();
        let leg = UpstreamLeg {
            upstream: route.upstream.id.clone(),
            organization: Some(route.organization.id.clone()),
            nonce: random_handle(),
            // 43 characters of base64url: a valid RFC 7636 §4.1 code verifier.
            pkce_verifier: random_handle(),
            login_hint,
        };
        let redirect_uri = policy.issuer.join(CALLBACK_PATH);
        let started = std::time::Instant::now();
        let url = self
            .broker
            .upstreams
            .authorization_url(
                route.upstream,
                Some(route.organization),
                &AuthRequest {
                    redirect_uri: &redirect_uri,
                    state: &state,
                    nonce: &leg.nonce,
                    pkce_verifier: &leg.pkce_verifier,
                    login_hint: &leg.login_hint,
                },
            )
            .await;
        observe("authorize", started, url.is_ok());
        let url = match url {
            Ok(url) => url,
            Err(e) => {
                let record = sso_event(&next, route.upstream, Some(route.organization), ctx, now);
                self.broker.audit.record(record.because(failure_reason(&e)));
                return Err(upstream_failure(route.upstream, &e));
            }
        };
        next.stage = LoginStage::Upstream;
        next.upstream = Some(leg);
        if !self.broker.store.swap_login_tx(tx, &next, now).await? {
            return Err(ServiceError::Restart(MSG_RESTART.into()));
        }
        self.broker
            .store
            .put_upstream_state(&digest(&state), &next.id, next.expires_at, now)
            .await?;
        Ok(LoginNext::Upstream(url))
    }

    /// The upstream's redirect back to the broker.
    pub async fn upstream_callback(
        &self,
        params: &CallbackParams,
        ctx: &BrowserContext,
    ) -> Result<LoginNext, ServiceError> {
        let restart = || ServiceError::Restart(MSG_RESTART.into());
        let state = params
            .state
            .as_deref()
            .filter(|s| !s.is_empty() && s.len() <= 128)
            .ok_or_else(restart)?;
        // Taken once: a replayed `state` (or one that never existed) finds nothing.
        let tx_id = self
            .broker
            .store
            .take_upstream_state(&digest(state))
            .await?
            .ok_or_else(restart)?;
        // The same browser that began the login must finish it (login CSRF, OAuth 2.0
        // Security BCP RFC 9700 §4.7).
        let tx = self.load_tx(&tx_id, ctx, None).await?;
        let leg = match (&tx.stage, &tx.upstream) {
            (LoginStage::Upstream, Some(leg)) => leg.clone(),
            _ => return Err(restart()),
        };
        let policy = self.broker.policy();
        let now = self.broker.now();
        let upstream = policy
            .upstream(&leg.upstream)
            .cloned()
            .ok_or_else(restart)?;
        let organization = leg
            .organization
            .as_deref()
            .and_then(|id| policy.org_by_id.get(id))
            .cloned();
        let mut record = sso_event(&tx, &upstream, organization.as_deref(), ctx, now);

        if let Some(code) = params.error.as_deref() {
            // OIDC Core §3.1.2.6: the upstream refused or failed. The description is the
            // upstream's text (an AADSTS message): logged, not shown.
            tracing::info!(upstream = %upstream.id, error = %code,
                description = params.error_description.as_deref().unwrap_or(""),
                "upstream returned an error");
            self.broker
                .audit
                .record(record.because(format!("upstream_error:{}", short(code))));
            return Err(match code {
                "access_denied"
                | "consent_required"
                | "interaction_required"
                | "login_required" => refused(&upstream, "error-upstream-cancelled"),
                _ => unavailable(&upstream),
            });
        }
        let Some(code) = params.code.as_deref().filter(|c| !c.is_empty()) else {
            self.broker.audit.record(record.because("missing_code"));
            return Err(restart());
        };

        let redirect_uri = policy.issuer.join(CALLBACK_PATH);
        let started = std::time::Instant::now();
        let redeemed = self
            .broker
            .upstreams
            .redeem(
                &upstream,
                organization.as_deref(),
                &CodeRedemption {
                    redirect_uri: &redirect_uri,
                    code,
                    pkce_verifier: &leg.pkce_verifier,
                    nonce: &leg.nonce,
                },
                now,
            )
            .await;
        observe("redeem", started, redeemed.is_ok());
        let identity = match redeemed {
            Ok(identity) => identity,
            Err(e) => {
                tracing::warn!(upstream = %upstream.id, error = %e, "upstream sign-in failed");
                self.broker.audit.record(record.because(failure_reason(&e)));
                return Err(upstream_failure(&upstream, &e));
            }
        };

        let user = match self
            .user_for_identity(&policy, &upstream, organization.as_deref(), &identity, now)
            .await?
        {
            Matched::User(user) => user,
            Matched::Refused(refusal) => {
                record.identifier = identity.email.clone().or(record.identifier);
                self.broker.audit.record(record.because(refusal.reason()));
                return Err(refused(&upstream, "error-upstream-not-set-up"));
            }
        };
        let mut record = record.succeeded().user(&user.id);
        record.organization = user.organization.clone();
        self.broker.audit.record(record);
        self.broker
            .refresh_upstream_groups(&upstream, organization.as_deref(), &user, &identity.groups)
            .await;
        let user = self.follow_profile(user, &identity).await?;
        self.finish_login(&tx, &user, &["fed"], Some(upstream.id.clone()), ctx)
            .await
    }

    /// The directory user of a verified upstream identity, or why it is refused.
    /// Matched by the immutable link only; SSO must still apply to them (a policy or user
    /// change since the login began counts).
    async fn user_for_identity(
        &self,
        policy: &Policy,
        upstream: &Upstream,
        organization: Option<&Organization>,
        identity: &VerifiedIdentity,
        now: u64,
    ) -> Result<Matched, ServiceError> {
        let user = match self.broker.store.user_by_link(&identity.link).await? {
            Some(user) => Arc::new(user),
            None => match self.create_jit_user(organization, identity, now).await? {
                Matched::User(user) => user,
                refused => return Ok(refused),
            },
        };
        if user.disabled {
            return Ok(Matched::Refused(Refusal::Disabled));
        }
        match crate::hrd::decide(policy, &user.email, Some(&user)) {
            LoginMethod::Upstream(route)
                if route.upstream.id == upstream.id
                    && organization.is_some_and(|o| o.id == route.organization.id) =>
            {
                Ok(Matched::User(user))
            }
            _ => Ok(Matched::Refused(Refusal::SsoNotEnabled)),
        }
    }

    /// Just-in-time provisioning (`jit: true`): a first sign-in from the organisation's own
    /// tenant with an email of one of its domains creates a user linked by the immutable id.
    async fn create_jit_user(
        &self,
        organization: Option<&Organization>,
        identity: &VerifiedIdentity,
        now: u64,
    ) -> Result<Matched, ServiceError> {
        let deny = |refusal| Ok(Matched::Refused(refusal));
        let Some(org) = organization.filter(|o| o.jit && o.sso != SsoMode::Off) else {
            return deny(Refusal::UnknownUser);
        };
        let Some(email) = identity.email.as_deref() else {
            return deny(Refusal::JitWithoutEmail);
        };
        let domain = email.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
        if !org.domains.iter().any(|d| d == domain) {
            return deny(Refusal::JitForeignDomain);
        }
        let user = User {
            id: crate::secret::random_uuid().to_string(),
            email: email.to_owned(),
            name: identity.name.clone().unwrap_or_else(|| email.to_owned()),
            organization: Some(org.id.clone()),
            password_hash: None,
            link: Some(identity.link.clone()),
            sso: true,
            disabled: false,
            source: UserSource::Jit,
            created_at: now,
            updated_at: now,
            tokens_valid_after: 0,
            policy_password_hash: None,
            // Only what the upstream vouches for (an Entra `email` with `xms_edov`, a UPN of
            // the organisation's domains, an OIDC `email_verified`).
            email_verified: identity.email_verified,
            profile: identity.profile.clone(),
        };
        match self.broker.store.create_user(&user).await? {
            Ok(()) => {
                self.broker.audit.record(
                    AuditRecord::success("user.jit_created", now)
                        .user(&user.id)
                        .identifier(&user.email)
                        .organization(&org.id),
                );
                Ok(Matched::User(Arc::new(user)))
            }
            // Two first sign-ins at once: the other one created the user; use it.
            Err(_) => match self.broker.store.user_by_link(&identity.link).await? {
                Some(user) => Ok(Matched::User(Arc::new(user))),
                // The email belongs to another (unlinked) user: never merge by email.
                None => deny(Refusal::JitEmailTaken),
            },
        }
    }
}

impl SignIn<'_> {
    /// The user with the profile claims the upstream just sent (OIDC Core §5.1), stored
    /// when they changed something; claims the token left out keep their value.
    async fn follow_profile(
        &self,
        user: Arc<User>,
        identity: &VerifiedIdentity,
    ) -> Result<Arc<User>, ServiceError> {
        let profile = user.profile.updated_by(&identity.profile);
        if profile == user.profile {
            return Ok(user);
        }
        let now = self.broker.now();
        match self
            .broker
            .store
            .update_user(&user.id, |u| {
                u.profile = u.profile.updated_by(&identity.profile);
                u.updated_at = now;
            })
            .await?
        {
            Ok(updated) => Ok(Arc::new(updated)),
            // Deleted meanwhile: the sign-in goes on with what was read.
            Err(_) => Ok(user),
        }
    }

    /// The choice step's "Continue with …" button (`password_fallback: true`).
    pub async fn choose_upstream(
        &self,
        tx: &str,
        csrf: &str,
        ctx: &BrowserContext,
    ) -> Result<LoginNext, ServiceError> {
        let tx = self.load_tx(tx, ctx, Some(csrf)).await?;
        let identifier = tx
            .identifier
            .clone()
            .filter(|_| tx.stage == LoginStage::Upstream)
            .ok_or_else(|| ServiceError::Restart(MSG_RESTART.into()))?;
        let policy = self.broker.policy();
        let user = self.broker.store.user_by_email(&identifier).await?;
        match crate::hrd::decide(&policy, &identifier, user.as_deref()) {
            LoginMethod::Upstream(route) => {
                let next = tx.clone();
                self.begin_upstream(&tx, next, route, ctx).await
            }
            _ => Ok(LoginNext::Show(self.view(&tx, Step::Password, None))),
        }
    }
}

/// A verified upstream identity: the directory user it signs in as, or why it may not.
enum Matched {
    User(Arc<User>),
    Refused(Refusal),
}

/// Why a verified upstream identity does not sign in (its audit reason code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// No linked user, and just-in-time provisioning does not apply.
    UnknownUser,
    Disabled,
    /// The user no longer signs in with this upstream (policy or user changed meanwhile).
    SsoNotEnabled,
    JitWithoutEmail,
    /// Just-in-time provisioning only takes emails of the organisation's domains.
    JitForeignDomain,
    /// The email belongs to another, unlinked user: never merged by email.
    JitEmailTaken,
}

impl Refusal {
    fn reason(self) -> &'static str {
        match self {
            Refusal::UnknownUser => "unknown_user",
            Refusal::Disabled => "disabled",
            Refusal::SsoNotEnabled => "sso_not_enabled",
            Refusal::JitWithoutEmail => "jit_without_email",
            Refusal::JitForeignDomain => "jit_foreign_domain",
            Refusal::JitEmailTaken => "jit_email_taken",
        }
    }
}

/// Upstream latency and errors, for `/metrics`.
fn observe(step: &'static str, started: std::time::Instant, ok: bool) {
    let outcome = if ok { "ok" } else { "error" };
    metrics::histogram!("idbroker_upstream_seconds", "step" => step, "outcome" => outcome)
        .record(started.elapsed().as_secs_f64());
}

fn sso_event(
    tx: &LoginTx,
    upstream: &Upstream,
    organization: Option<&Organization>,
    ctx: &BrowserContext,
    now: u64,
) -> AuditRecord {
    let mut record = AuditRecord::failure("login.sso", now)
        .upstream(&upstream.id)
        .client(&tx.request.client_id)
        .request(ctx.ip.as_deref(), ctx.user_agent.as_deref());
    record.identifier = tx.identifier.clone();
    record.organization = organization.map(|o| o.id.clone());
    record
}

/// A reason code for the audit log: stable, machine-readable, never a secret.
fn failure_reason(e: &UpstreamError) -> &'static str {
    match e {
        UpstreamError::Unavailable(_) => "upstream_unavailable",
        UpstreamError::Refused { .. } => "upstream_refused_code",
        UpstreamError::Verify(v) => v.reason(),
        UpstreamError::Config(_) => "upstream_misconfigured",
    }
}

fn upstream_failure(upstream: &Upstream, e: &UpstreamError) -> ServiceError {
    match e {
        UpstreamError::Verify(_) => refused(upstream, "error-upstream-unverified"),
        _ => unavailable(upstream),
    }
}

fn unavailable(upstream: &Upstream) -> ServiceError {
    ServiceError::SignIn {
        unavailable: true,
        title: Msg::new("error-upstream-unavailable-title")
            .arg("upstream", upstream.display_name.clone()),
        message: Msg::new("error-upstream-unavailable"),
    }
}

/// `message` is a message id of the catalogs.
fn refused(upstream: &Upstream, message: &'static str) -> ServiceError {
    ServiceError::SignIn {
        unavailable: false,
        title: Msg::new("error-upstream-refused-title")
            .arg("upstream", upstream.display_name.clone()),
        message: Msg::new(message),
    }
}

/// OAuth error codes are short ASCII; anything else is cut so it cannot flood the log.
fn short(code: &str) -> String {
    code.chars()
        .take(64)
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}
