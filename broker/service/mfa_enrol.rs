//! One-time codes on the account page: set them up (a QR code, a first code to confirm,
//! ten recovery codes shown once) and remove them, each after a fresh sign-in (the session's
//! `auth_time` within [`FRESH_SECS`]), as Keycloak and Entra ask before changing a factor.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::authorize::BrowserContext;
use super::login_flow::{MSG_TOO_MANY, TotpSetup};
use super::logout::logout_csrf;
use super::mfa::MSG_WRONG_CODE;
use super::{ServiceError, SignIn};
use crate::mfa;
use crate::secret::ct_eq;
use crate::store::{AuditRecord, Session, TotpFactor, User};

/// How recent a sign-in must be to change a second factor (seconds).
pub const FRESH_SECS: u64 = 600;

/// Pending set-ups: `v1/totp-enrol/{session id}`, the secret until a code confirms it.
const ENROL_FAMILY: &str = "totp-enrol";
/// How long a set-up may take.
const ENROL_TTL: Duration = Duration::from_secs(900);

/// Shown when the form was not this session's.
const MSG_FORM_EXPIRED: &str = "error-form-expired";

/// A pending set-up (its secret is a credential: never logged).
#[derive(Clone, Serialize, Deserialize)]
struct PendingEnrolment {
    secret: String,
}

/// Whether the browser may change its second factors now.
#[derive(Debug)]
pub enum Gate<T> {
    /// No live session: sign in.
    SignIn,
    /// Signed in too long ago: sign in again first.
    Stale,
    Ready(T),
}

/// The set-up page.
#[derive(Debug)]
pub struct EnrolPage {
    pub setup: TotpSetup,
    pub csrf: String,
    pub error: Option<&'static str>,
    pub retry_after: Option<u64>,
}

/// What confirming a set-up did.
#[derive(Debug)]
pub enum Enrolled {
    /// Set up: the recovery codes, shown once.
    Codes(Vec<String>),
    /// The code was not right (or too many attempts): the page again.
    Again(EnrolPage),
    /// One-time codes were set up already (another tab): nothing changed.
    Already,
}

impl SignIn<'_> {
    /// The browser's session if it is live and its sign-in fresh.
    async fn fresh_session(
        &self,
        cookie: Option<&str>,
    ) -> Result<Gate<(Session, User)>, ServiceError> {
        let Some((session, user)) = self.live_session(cookie).await? else {
            return Ok(Gate::SignIn);
        };
        if self.broker.now().saturating_sub(session.auth.auth_time) > FRESH_SECS {
            return Ok(Gate::Stale);
        }
        Ok(Gate::Ready((session, user)))
    }

    /// The set-up page: a new secret, or the one of the set-up in progress. `None` when
    /// one-time codes are set up already.
    pub async fn totp_enrolment(
        &self,
        cookie: Option<&str>,
    ) -> Result<Gate<Option<EnrolPage>>, ServiceError> {
        let (session, user) = match self.fresh_session(cookie).await? {
            Gate::Ready(s) => s,
            Gate::SignIn => return Ok(Gate::SignIn),
            Gate::Stale => return Ok(Gate::Stale),
        };
        if self.broker.store.totp_factor(&user.id).await?.is_some() {
            return Ok(Gate::Ready(None));
        }
        let secret = match self.pending(&session).await? {
            Some(p) => p.secret,
            None => {
                let pending = PendingEnrolment {
                    secret: mfa::new_secret(),
                };
                self.broker
                    .store
                    .put_doc(ENROL_FAMILY, &session.id, &pending, Some(ENROL_TTL))
                    .await?;
                pending.secret
            }
        };
        Ok(Gate::Ready(Some(EnrolPage {
            setup: self.totp_setup(&secret, &user.email)?,
            csrf: logout_csrf(cookie.unwrap_or_default()),
            error: None,
            retry_after: None,
        })))
    }

    async fn pending(&self, session: &Session) -> Result<Option<PendingEnrolment>, ServiceError> {
        Ok(self
            .broker
            .store
            .get_doc::<PendingEnrolment>(ENROL_FAMILY, &session.id)
            .await?)
    }

    /// Confirms the set-up with a code of the new generator.
    pub async fn confirm_totp(
        &self,
        cookie: Option<&str>,
        csrf: &str,
        code: &str,
        ctx: &BrowserContext,
    ) -> Result<Gate<Enrolled>, ServiceError> {
        let (session, user) = match self.fresh_session(cookie).await? {
            Gate::Ready(s) => s,
            Gate::SignIn => return Ok(Gate::SignIn),
            Gate::Stale => return Ok(Gate::Stale),
        };
        let cookie = cookie.unwrap_or_default();
        if !ct_eq(csrf.as_bytes(), logout_csrf(cookie).as_bytes()) {
            return Err(ServiceError::Restart(MSG_FORM_EXPIRED.into()));
        }
        let Some(pending) = self.pending(&session).await? else {
            return Err(ServiceError::Restart("mfa-setup-expired".into()));
        };
        let audit = self.account_audit("user.mfa.enrolled", &user, ctx);
        let again = |error, retry_after| -> Result<Gate<Enrolled>, ServiceError> {
            Ok(Gate::Ready(Enrolled::Again(EnrolPage {
                setup: self.totp_setup(&pending.secret, &user.email)?,
                csrf: logout_csrf(cookie),
                error: Some(error),
                retry_after,
            })))
        };
        if let Some(retry_after) = self.otp_attempt(&user.id, ctx, &audit).await? {
            return again(MSG_TOO_MANY, Some(retry_after));
        }
        let now = self.broker.now();
        let Some(step) = mfa::check(&pending.secret, code, now) else {
            self.broker.audit.record(audit.because("bad_code"));
            return again(MSG_WRONG_CODE, None);
        };
        let (codes, digests) = mfa::new_recovery_codes();
        let factor = TotpFactor {
            secret: pending.secret.clone(),
            last_step: Some(step),
            recovery: digests,
            created_at: now,
        };
        if !self.broker.store.enrol_totp(&user.id, &factor).await? {
            self.broker.audit.record(audit.because("already_enrolled"));
            return Ok(Gate::Ready(Enrolled::Already));
        }
        self.broker
            .store
            .delete_doc(ENROL_FAMILY, &session.id)
            .await?;
        self.otp_succeeded(&user.id, ctx).await?;
        self.broker
            .audit
            .record(audit.succeeded().detail("on the account page"));
        Ok(Gate::Ready(Enrolled::Codes(codes)))
    }

    /// Removes the user's one-time codes (and so their recovery codes): `Ready(false)` when
    /// there were none.
    pub async fn remove_own_totp(
        &self,
        cookie: Option<&str>,
        csrf: &str,
        ctx: &BrowserContext,
    ) -> Result<Gate<bool>, ServiceError> {
        let (_, user) = match self.fresh_session(cookie).await? {
            Gate::Ready(s) => s,
            Gate::SignIn => return Ok(Gate::SignIn),
            Gate::Stale => return Ok(Gate::Stale),
        };
        if !ct_eq(
            csrf.as_bytes(),
            logout_csrf(cookie.unwrap_or_default()).as_bytes(),
        ) {
            return Err(ServiceError::Restart(MSG_FORM_EXPIRED.into()));
        }
        let removed = self.broker.store.remove_totp(&user.id).await?;
        if removed {
            let record = self
                .account_audit("user.mfa.removed", &user, ctx)
                .succeeded()
                .detail("on the account page");
            self.broker.audit.record(record);
        }
        Ok(Gate::Ready(removed))
    }

    fn account_audit(&self, event: &str, user: &User, ctx: &BrowserContext) -> AuditRecord {
        let mut record = AuditRecord::failure(event, self.broker.now())
            .user(&user.id)
            .identifier(&user.email)
            .actor(&user.email)
            .request(ctx.ip.as_deref(), ctx.user_agent.as_deref());
        record.organization = user.organization.clone();
        record
    }
}
