//! The second factor of a password sign-in (one-time codes, RFC 6238): after a right
//! password, a user with a code generator is asked for a code (or a recovery code); a user
//! who must use a second factor and has none sets one up inside the login, then continues
//! (Keycloak's "Configure OTP" required action).
//!
//! The step comes only after the right password, so it tells nothing to someone without it
//! (no enumeration at the identifier or password steps). Code attempts are limited like
//! password attempts (per user and per client IP, the same numbers).

use super::authorize::BrowserContext;
use super::login_flow::{LoginNext, LoginView, MSG_RESTART, MSG_TOO_MANY, Step, TotpSetup};
use super::{ServiceError, SignIn};
use crate::mfa;
use crate::store::{AuditRecord, LoginStage, LoginTx, PendingMfa, Spent, TotpFactor, User};

/// A code or recovery code that is not right.
pub const MSG_WRONG_CODE: &str = "mfa-error-wrong-code";
/// A right code whose time step was used already (RFC 6238 §5.2).
pub const MSG_CODE_USED: &str = "mfa-error-code-used";

/// `amr` (RFC 8176 §2) of a password and a one-time code.
pub const AMR_OTP: &[&str] = &["pwd", "otp", "mfa"];
/// `amr` of a password and a recovery code: two factors, but no `otp` (the code was not
/// one-time-password generated).
pub const AMR_RECOVERY: &[&str] = &["pwd", "mfa"];

/// The per-client-IP bucket family of code attempts.
const OTP_IP_FAMILY: &str = "otp-ip";

/// The failure bucket of a user's code attempts.
pub(super) fn otp_user_bucket(user_id: &str) -> String {
    format!("otp-user/{user_id}")
}

impl SignIn<'_> {
    /// After the right password: the code step, the inline set-up, or the end of the login.
    pub(super) async fn after_password(
        &self,
        tx: &LoginTx,
        user: &User,
        ctx: &BrowserContext,
    ) -> Result<LoginNext, ServiceError> {
        let enrolled = self.broker.store.totp_factor(&user.id).await?.is_some();
        let policy = self.broker.policy();
        let required = mfa::required(
            &policy,
            user,
            policy.client(&tx.request.client_id).map(|c| &**c),
        );
        let (stage, enrol_secret) = match (enrolled, required) {
            (true, _) => (LoginStage::Otp, None),
            (false, true) => (LoginStage::OtpEnrol, Some(mfa::new_secret())),
            (false, false) => return self.finish_login(tx, user, &["pwd"], None, ctx).await,
        };
        let mut next = tx.clone();
        next.stage = stage;
        next.mfa = Some(PendingMfa {
            user_id: user.id.clone(),
            enrol_secret,
            amr: Vec::new(),
        });
        if !self
            .broker
            .store
            .swap_login_tx(tx, &next, self.broker.now())
            .await?
        {
            return Err(ServiceError::Restart(MSG_RESTART.into()));
        }
        Ok(LoginNext::Show(self.mfa_view(&next, None).await?))
    }

    /// The page of a login at one of the second-factor stages.
    pub(super) async fn mfa_view(
        &self,
        tx: &LoginTx,
        error: Option<&'static str>,
    ) -> Result<LoginView, ServiceError> {
        let step = match tx.stage {
            LoginStage::Otp => Step::Otp,
            LoginStage::OtpEnrol => Step::OtpEnrol,
            LoginStage::OtpEnrolled => Step::OtpEnrolled,
            _ => return Err(ServiceError::Restart(MSG_RESTART.into())),
        };
        let mut view = self.view(tx, step, error);
        if let Some(secret) = tx.mfa.as_ref().and_then(|m| m.enrol_secret.as_deref()) {
            let user = self.pending_user(tx).await?;
            view.totp = Some(Box::new(self.totp_setup(secret, &user.email)?));
        }
        Ok(view)
    }

    /// What the set-up shows for `secret`: the key and the `otpauth` URL (the QR code's
    /// content), named by the product and the user's email.
    pub(super) fn totp_setup(&self, secret: &str, email: &str) -> Result<TotpSetup, ServiceError> {
        let policy = self.broker.policy();
        let url = mfa::otpauth_url(secret, &policy.branding.product_name, email)
            .map_err(|_| ServiceError::Restart(MSG_RESTART.into()))?;
        Ok(TotpSetup {
            secret: secret.to_owned(),
            url,
        })
    }

    /// The user whose password was right, still able to sign in.
    async fn pending_user(&self, tx: &LoginTx) -> Result<User, ServiceError> {
        let restart = || ServiceError::Restart(MSG_RESTART.into());
        let id = tx.mfa.as_ref().ok_or_else(restart)?.user_id.as_str();
        let user = self
            .broker
            .store
            .user_by_id(id)
            .await?
            .ok_or_else(restart)?;
        if user.disabled {
            return Err(restart());
        }
        Ok(user)
    }

    /// The code step: a one-time code or a recovery code.
    pub async fn submit_otp(
        &self,
        tx: &str,
        csrf: &str,
        code: &str,
        ctx: &BrowserContext,
    ) -> Result<LoginNext, ServiceError> {
        let tx = self.load_tx(tx, ctx, Some(csrf)).await?;
        if tx.stage != LoginStage::Otp {
            return Err(ServiceError::Restart(MSG_RESTART.into()));
        }
        let user = self.pending_user(&tx).await?;
        let audit = self.otp_audit("login.otp", &tx, &user, ctx);
        if let Some(retry_after) = self.otp_attempt(&user.id, ctx, &audit).await? {
            let mut view = self.mfa_view(&tx, Some(MSG_TOO_MANY)).await?;
            view.retry_after = Some(retry_after);
            return Ok(LoginNext::Show(view));
        }
        let factor = self
            .broker
            .store
            .totp_factor(&user.id)
            .await?
            .ok_or_else(|| ServiceError::Restart(MSG_RESTART.into()))?;
        let (outcome, amr) = self.spend(&user, &factor, code, &tx, ctx).await?;
        match outcome {
            Spent::Accepted => {
                self.broker.audit.record(audit.succeeded());
                self.otp_succeeded(&user.id, ctx).await?;
                self.finish_login(&tx, &user, amr, None, ctx).await
            }
            Spent::Used => {
                self.broker.audit.record(audit.because("code_used"));
                Ok(LoginNext::Show(
                    self.mfa_view(&tx, Some(MSG_CODE_USED)).await?,
                ))
            }
            Spent::NotEnrolled => {
                self.broker.audit.record(audit.because("bad_code"));
                Ok(LoginNext::Show(
                    self.mfa_view(&tx, Some(MSG_WRONG_CODE)).await?,
                ))
            }
        }
    }

    /// Checks `input` as a one-time code, else as a recovery code, and spends it: the
    /// outcome and the `amr` it earns. `NotEnrolled` stands for "not right".
    async fn spend(
        &self,
        user: &User,
        factor: &TotpFactor,
        input: &str,
        tx: &LoginTx,
        ctx: &BrowserContext,
    ) -> Result<(Spent, &'static [&'static str]), ServiceError> {
        let input = input.trim();
        if input.len() > 64 {
            return Ok((Spent::NotEnrolled, AMR_OTP));
        }
        if mfa::is_code_shaped(input) {
            let Some(step) = mfa::check(&factor.secret, input, self.broker.now()) else {
                return Ok((Spent::NotEnrolled, AMR_OTP));
            };
            let spent = self.broker.store.spend_totp_step(&user.id, step).await?;
            return Ok((spent, AMR_OTP));
        }
        let Some(digest) = mfa::recovery_digest(input) else {
            return Ok((Spent::NotEnrolled, AMR_RECOVERY));
        };
        let (spent, left) = self
            .broker
            .store
            .spend_recovery_code(&user.id, &digest)
            .await?;
        if spent == Spent::Accepted {
            let record = self
                .otp_audit("user.mfa.recovery_used", tx, user, ctx)
                .succeeded()
                .detail(format!("{left} recovery codes left"));
            self.broker.audit.record(record);
            return Ok((Spent::Accepted, AMR_RECOVERY));
        }
        // A recovery code not among the unused ones: wrong, whether it never existed or
        // was spent (the same answer, so a spent code is not confirmed).
        Ok((Spent::NotEnrolled, AMR_RECOVERY))
    }

    /// The inline set-up's confirmation: the first code of the new generator.
    pub async fn submit_otp_enrol(
        &self,
        tx: &str,
        csrf: &str,
        code: &str,
        ctx: &BrowserContext,
    ) -> Result<(LoginNext, Vec<String>), ServiceError> {
        let tx = self.load_tx(tx, ctx, Some(csrf)).await?;
        let restart = || ServiceError::Restart(MSG_RESTART.into());
        let secret = match (&tx.stage, tx.mfa.as_ref()) {
            (LoginStage::OtpEnrol, Some(m)) => m.enrol_secret.clone().ok_or_else(restart)?,
            _ => return Err(restart()),
        };
        let user = self.pending_user(&tx).await?;
        let audit = self.otp_audit("user.mfa.enrolled", &tx, &user, ctx);
        if let Some(retry_after) = self.otp_attempt(&user.id, ctx, &audit).await? {
            let mut view = self.mfa_view(&tx, Some(MSG_TOO_MANY)).await?;
            view.retry_after = Some(retry_after);
            return Ok((LoginNext::Show(view), Vec::new()));
        }
        let now = self.broker.now();
        let Some(step) = mfa::check(&secret, code, now) else {
            self.broker.audit.record(audit.because("bad_code"));
            let view = self.mfa_view(&tx, Some(MSG_WRONG_CODE)).await?;
            return Ok((LoginNext::Show(view), Vec::new()));
        };
        let (codes, digests) = mfa::new_recovery_codes();
        let factor = TotpFactor {
            secret,
            last_step: Some(step),
            recovery: digests,
            created_at: now,
        };
        if !self.broker.store.enrol_totp(&user.id, &factor).await? {
            // Set up meanwhile elsewhere: this login asks for a code of that one instead.
            self.broker.audit.record(audit.because("already_enrolled"));
            return Err(restart());
        }
        self.broker
            .audit
            .record(audit.succeeded().detail("during sign-in"));
        self.otp_succeeded(&user.id, ctx).await?;
        let mut next = tx.clone();
        next.stage = LoginStage::OtpEnrolled;
        next.mfa = Some(PendingMfa {
            user_id: user.id.clone(),
            enrol_secret: None,
            amr: AMR_OTP.iter().map(|s| (*s).to_owned()).collect(),
        });
        if !self.broker.store.swap_login_tx(&tx, &next, now).await? {
            return Err(restart());
        }
        let view = self.mfa_view(&next, None).await?;
        Ok((LoginNext::Show(view), codes))
    }

    /// After the recovery codes were shown: the login ends.
    pub async fn continue_after_enrol(
        &self,
        tx: &str,
        csrf: &str,
        ctx: &BrowserContext,
    ) -> Result<LoginNext, ServiceError> {
        let tx = self.load_tx(tx, ctx, Some(csrf)).await?;
        if tx.stage != LoginStage::OtpEnrolled {
            return Err(ServiceError::Restart(MSG_RESTART.into()));
        }
        let user = self.pending_user(&tx).await?;
        let amr: Vec<String> = tx.mfa.as_ref().map(|m| m.amr.clone()).unwrap_or_default();
        let amr: Vec<&str> = amr.iter().map(String::as_str).collect();
        self.finish_login(&tx, &user, &amr, None, ctx).await
    }

    fn otp_audit(
        &self,
        event: &str,
        tx: &LoginTx,
        user: &User,
        ctx: &BrowserContext,
    ) -> AuditRecord {
        let mut record = AuditRecord::failure(event, self.broker.now())
            .user(&user.id)
            .identifier(&user.email)
            .client(&tx.request.client_id)
            .request(ctx.ip.as_deref(), ctx.user_agent.as_deref());
        record.organization = user.organization.clone();
        record
    }

    /// Counts a code attempt of `user_id` before checking it; `Some(seconds)` when over the
    /// password limits (per user, per client IP). The first refusal of a window is audited
    /// (`rate_limited`); the ones after it only counted, so refusals cannot grow the audit.
    pub(super) async fn otp_attempt(
        &self,
        user_id: &str,
        ctx: &BrowserContext,
        audit: &AuditRecord,
    ) -> Result<Option<u64>, ServiceError> {
        let limits = self.broker.policy().rate_limits;
        let crate::store::RateCount(by_user) = self
            .broker
            .store
            .rate_hit(&otp_user_bucket(user_id), limits.window)
            .await?;
        let by_ip = self
            .broker
            .ip_hits(OTP_IP_FAMILY, ctx.ip.as_deref(), limits.window)
            .await?;
        let (user_limit, ip_limit) = (
            u64::from(limits.password_per_identifier),
            u64::from(limits.password_per_ip),
        );
        let over = by_user > user_limit || by_ip > ip_limit;
        if over {
            metrics::counter!("idbroker_rate_limited_total", "limit" => "otp").increment(1);
            if by_user == user_limit + 1 || by_ip == ip_limit + 1 {
                self.broker
                    .audit
                    .record(audit.clone().because("rate_limited"));
            }
        }
        Ok(over.then_some(limits.window.as_secs()))
    }

    /// Only failures count: a right code takes its attempt back and clears the user's.
    pub(super) async fn otp_succeeded(
        &self,
        user_id: &str,
        ctx: &BrowserContext,
    ) -> Result<(), ServiceError> {
        self.broker
            .store
            .rate_clear(&otp_user_bucket(user_id))
            .await?;
        self.broker
            .ip_unhit(OTP_IP_FAMILY, ctx.ip.as_deref())
            .await?;
        Ok(())
    }
}
