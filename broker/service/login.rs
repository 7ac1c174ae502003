//! The login page's steps: identifier, then password (or a hand-off to the upstream).
//!
//! No user enumeration: an unknown identifier, a disabled user, a user without a sign-in
//! method and a real password user all get the same password step, the same failure
//! message, and one Argon2id verification each (SPEC "The login method of a user").

use std::time::Duration;

use secrecy::SecretString;

use super::authorize::BrowserContext;
use super::login_flow::{
    LoginNext, LoginView, MSG_BAD_CREDENTIALS, MSG_BUSY, MSG_ENTER_EMAIL, MSG_RESTART,
    MSG_TOO_MANY, Step,
};
use super::{ServiceError, SignIn};
use crate::hrd::{self, LoginMethod};
use crate::password::PasswordError;
use crate::secret::{ct_eq, digest, random_handle};
use crate::store::{AuditRecord, KnownDevice, LoginStage, RateCount, User};

/// Longest identifier accepted (RFC 5321 caps a path at 256 octets).
const MAX_IDENTIFIER: usize = 256;
/// Longest password accepted; longer input is refused before any hashing.
pub(crate) const MAX_PASSWORD: usize = 1024;

impl SignIn<'_> {
    /// The page for transaction `tx` as it stands.
    pub async fn login_page(
        &self,
        tx: &str,
        ctx: &BrowserContext,
    ) -> Result<LoginView, ServiceError> {
        let tx = self.load_tx(tx, ctx, None).await?;
        let step = match tx.stage {
            LoginStage::Identifier => Step::Identifier,
            LoginStage::Password => Step::Password,
            LoginStage::Upstream => Step::Choice,
            LoginStage::Otp | LoginStage::OtpEnrol | LoginStage::OtpEnrolled => {
                return self.mfa_view(&tx, None).await;
            }
            LoginStage::Done => return Err(ServiceError::Restart(MSG_RESTART.into())),
        };
        self.show(&tx, step, None).await
    }

    /// The identifier step: decide the login method (home realm discovery).
    pub async fn submit_identifier(
        &self,
        tx: &str,
        csrf: &str,
        identifier: &str,
        ctx: &BrowserContext,
    ) -> Result<LoginNext, ServiceError> {
        let tx = self.load_tx(tx, ctx, Some(csrf)).await?;
        let identifier = hrd::normalize(identifier);
        if identifier.is_empty()
            || identifier.len() > MAX_IDENTIFIER
            || tx.stage == LoginStage::Done
        {
            return Ok(LoginNext::Show(
                self.show(&tx, Step::Identifier, Some(MSG_ENTER_EMAIL))
                    .await?,
            ));
        }
        let policy = self.broker.policy();
        // Per-IP, before the directory lookup: home realm discovery tells which addresses go
        // upstream, so it must not be queried at speed.
        let limits = policy.rate_limits;
        if self
            .broker
            .ip_hit_over(
                "ident-ip",
                ctx.ip.as_deref(),
                limits.identifier_per_ip,
                limits.window,
            )
            .await?
        {
            metrics::counter!("idbroker_rate_limited_total", "limit" => "identifier").increment(1);
            let mut view = self.show(&tx, Step::Identifier, Some(MSG_TOO_MANY)).await?;
            view.retry_after = Some(limits.window.as_secs());
            return Ok(LoginNext::Show(view));
        }
        let user = self.broker.store.user_by_email(&identifier).await?;
        let method = hrd::decide(&policy, &identifier, user.as_deref());
        let mut next = tx.clone();
        next.identifier = Some(identifier.into_owned());
        // A second-factor step of an earlier identifier ends here.
        next.mfa = None;
        match method {
            LoginMethod::Upstream(route) if !route.password_allowed => {
                return self.begin_upstream(&tx, next, route, ctx).await;
            }
            LoginMethod::Upstream(_) => next.stage = LoginStage::Upstream,
            LoginMethod::Password | LoginMethod::Passkey | LoginMethod::NoMethod => {
                next.stage = LoginStage::Password
            }
        }
        if !self
            .broker
            .store
            .swap_login_tx(&tx, &next, self.broker.now())
            .await?
        {
            return Err(ServiceError::Restart(MSG_RESTART.into()));
        }
        let step = if next.stage == LoginStage::Upstream {
            Step::Choice
        } else {
            Step::Password
        };
        Ok(LoginNext::Show(self.show(&next, step, None).await?))
    }

    /// The password step.
    pub async fn submit_password(
        &self,
        tx: &str,
        csrf: &str,
        password: SecretString,
        ctx: &BrowserContext,
    ) -> Result<LoginNext, ServiceError> {
        use secrecy::ExposeSecret as _;
        let tx = self.load_tx(tx, ctx, Some(csrf)).await?;
        let (Some(identifier), LoginStage::Password | LoginStage::Upstream) =
            (tx.identifier.clone(), tx.stage)
        else {
            return Err(ServiceError::Restart(MSG_RESTART.into()));
        };
        let policy = self.broker.policy();
        let now = self.broker.now();
        let audit = AuditRecord::failure("login.password", now)
            .identifier(&identifier)
            .client(&tx.request.client_id)
            .request(ctx.ip.as_deref(), ctx.user_agent.as_deref());

        // Rate limits before any Argon2 work; keyed by what was typed, never by whether the
        // account exists, so the limiter cannot be used to enumerate either.
        let attempt = self.password_attempt(&identifier, ctx).await?;
        if let Some(retry_after) = attempt.limited {
            metrics::counter!("idbroker_rate_limited_total", "limit" => "password").increment(1);
            if attempt.first_refusal {
                self.broker.audit.record(audit.because("rate_limited"));
            }
            let mut view = self.show(&tx, Step::Password, Some(MSG_TOO_MANY)).await?;
            view.retry_after = Some(retry_after);
            return Ok(LoginNext::Show(view));
        }
        let password = password.expose_secret();
        if password.is_empty() || password.len() > MAX_PASSWORD {
            self.broker
                .audit
                .record(audit.because("empty_or_oversized"));
            return Ok(LoginNext::Show(
                self.show(&tx, Step::Password, Some(MSG_BAD_CREDENTIALS))
                    .await?,
            ));
        }

        let user = self.broker.store.user_by_email(&identifier).await?;
        let method = hrd::decide(&policy, &identifier, user.as_deref());
        // Read for every identifier alike (an absent key for an unknown one), so the step
        // takes the same time whatever the method.
        let passkeys = self
            .broker
            .store
            .passkeys_of(user.as_deref().map_or("-", |u| u.id.as_str()))
            .await?;
        let hash = match (&method, user.as_deref()) {
            (LoginMethod::Password, Some(u)) => u.password_hash.clone(),
            // Passkeys required: the password only lets a user in who has none yet, to
            // register one (docs/src/passkeys.md).
            (LoginMethod::Passkey, Some(u)) if passkeys.keys.is_empty() => u.password_hash.clone(),
            (LoginMethod::Upstream(r), Some(u)) if r.password_allowed => u.password_hash.clone(),
            _ => None,
        };
        let reason = match (&method, user.as_deref()) {
            (_, None) => "unknown_identifier",
            (_, Some(u)) if u.disabled => "disabled",
            (LoginMethod::Upstream(_), _) if hash.is_none() => "sso_required",
            (LoginMethod::NoMethod, _) => "no_sign_in_method",
            (LoginMethod::Passkey, _) if hash.is_none() => "passkey_required",
            _ => "bad_password",
        };
        let verified = self
            .broker
            .passwords
            .verify(hash.clone(), SecretString::from(password.to_owned()))
            .await;
        let ok = match verified {
            Ok(ok) => ok && hash.is_some(),
            // Every hashing thread is busy and the queue is full: the same form again, to
            // retry shortly. Decided before any verification, whoever the user is.
            Err(PasswordError::Busy) => {
                self.broker.audit.record(audit.because("busy"));
                let mut view = self.show(&tx, Step::Password, Some(MSG_BUSY)).await?;
                view.retry_after = Some(crate::password::BUSY_RETRY_AFTER);
                return Ok(LoginNext::Show(view));
            }
            Err(e) => return Err(e.into()),
        };
        let Some(user) = user.filter(|_| ok) else {
            self.broker.audit.record(audit.because(reason));
            return Ok(LoginNext::Show(
                self.show(&tx, Step::Password, Some(MSG_BAD_CREDENTIALS))
                    .await?,
            ));
        };
        let mut audit = audit.succeeded().user(&user.id);
        audit.organization = user.organization.clone();
        self.broker.audit.record(audit);
        // Only failures count (OWASP Authentication Cheat Sheet): a success takes back its
        // own attempt and clears the identifier's failures, and this browser becomes a
        // known device of the identifier.
        self.broker
            .store
            .rate_clear(&identifier_bucket(&identifier))
            .await?;
        if let Some(bucket) = &attempt.device_bucket {
            self.broker.store.rate_clear(bucket).await?;
        }
        self.broker
            .ip_unhit(PASSWORD_IP_FAMILY, ctx.ip.as_deref())
            .await?;
        let device_cookie = self.remember_device(&identifier, &user, ctx).await?;
        let next = self.after_password(&tx, &user, ctx).await?;
        Ok(match device_cookie {
            Some(cookie) => LoginNext::WithDeviceCookie(Box::new(next), cookie),
            None => next,
        })
    }

    /// "Not you?": back to the identifier step of the same transaction.
    pub async fn restart_login(
        &self,
        tx: &str,
        csrf: &str,
        ctx: &BrowserContext,
    ) -> Result<LoginView, ServiceError> {
        let tx = self.load_tx(tx, ctx, Some(csrf)).await?;
        let mut next = tx.clone();
        next.stage = LoginStage::Identifier;
        next.upstream = None;
        next.mfa = None;
        if !self
            .broker
            .store
            .swap_login_tx(&tx, &next, self.broker.now())
            .await?
        {
            return Err(ServiceError::Restart(MSG_RESTART.into()));
        }
        self.show(&next, Step::Identifier, None).await
    }

    /// Counts a password attempt before any hashing; `limited` is `Some(seconds)` when it
    /// is over a limit.
    ///
    /// The attempt counts against the client IP's bucket and against one identifier bucket:
    /// the identifier's own, or, when the browser presents a device cookie of an earlier
    /// successful sign-in as this identifier, that device's (OWASP "Slow Down Online
    /// Guessing Attacks with Device Cookies"). So failures elsewhere cannot lock a known
    /// browser out, and a known browser's failures do not lock out the others. Only a
    /// successful sign-in creates a device cookie, so an unknown identifier never has one:
    /// the limiter behaves alike for identifiers that exist and that do not.
    async fn password_attempt(
        &self,
        identifier: &str,
        ctx: &BrowserContext,
    ) -> Result<PasswordAttempt, ServiceError> {
        let limits = self.broker.policy().rate_limits;
        let window = limits.window;
        let device_bucket = self
            .known_device(identifier, ctx)
            .await?
            .map(|d| format!("pwd-dev/{d}"));
        let bucket = device_bucket
            .clone()
            .unwrap_or_else(|| identifier_bucket(identifier));
        let RateCount(by_identifier) = self.broker.store.rate_hit(&bucket, window).await?;
        let by_ip = self
            .broker
            .ip_hits(PASSWORD_IP_FAMILY, ctx.ip.as_deref(), window)
            .await?;
        let (id_limit, ip_limit) = (
            u64::from(limits.password_per_identifier),
            u64::from(limits.password_per_ip),
        );
        let limited = (by_identifier > id_limit || by_ip > ip_limit).then_some(window.as_secs());
        // The first refusal of a bucket in its window is audited; the ones after it are only
        // counted in the metric, so a flood of refused attempts cannot grow the audit log.
        let first_refusal = by_identifier == id_limit + 1 || by_ip == ip_limit + 1;
        Ok(PasswordAttempt {
            limited,
            first_refusal,
            device_bucket,
        })
    }

    /// The digest of this browser's device cookie when it was set by a successful sign-in
    /// as `identifier` and is still valid.
    async fn known_device(
        &self,
        identifier: &str,
        ctx: &BrowserContext,
    ) -> Result<Option<String>, ServiceError> {
        let Some(cookie) = ctx.device.as_deref().filter(|c| valid_handle(c)) else {
            return Ok(None);
        };
        let handle = digest(cookie);
        let Some(known) = self
            .broker
            .store
            .get_doc::<KnownDevice>(DEVICE_FAMILY, &handle)
            .await?
        else {
            return Ok(None);
        };
        let matches = ct_eq(known.identifier.as_bytes(), digest(identifier).as_bytes());
        Ok(matches.then_some(handle))
    }

    /// Remembers this browser as a known device of `identifier` after a successful
    /// password sign-in: `Some(cookie)` to set, or `None` when its cookie already is one.
    async fn remember_device(
        &self,
        identifier: &str,
        user: &User,
        ctx: &BrowserContext,
    ) -> Result<Option<String>, ServiceError> {
        if self.known_device(identifier, ctx).await?.is_some() {
            return Ok(None);
        }
        let cookie = random_handle();
        let known = KnownDevice {
            identifier: digest(identifier),
            user_id: user.id.clone(),
            created_at: self.broker.now(),
        };
        self.broker
            .store
            .put_doc(
                DEVICE_FAMILY,
                &digest(&cookie),
                &known,
                Some(DEVICE_COOKIE_TTL),
            )
            .await?;
        Ok(Some(cookie))
    }
}

/// How long a browser stays a known device of an identifier after its last new device
/// cookie (the cookie's `Max-Age`, and its record's time to live).
pub const DEVICE_COOKIE_TTL: Duration = Duration::from_secs(30 * 86_400);

/// Store family of known devices: `v1/known-device/{digest of the cookie}`.
const DEVICE_FAMILY: &str = "known-device";

/// What [`SignIn::password_attempt`] found.
struct PasswordAttempt {
    limited: Option<u64>,
    /// This refusal is the first of its bucket in the window (the one that is audited).
    first_refusal: bool,
    /// The device bucket the attempt counted against, when the browser is a known device.
    device_bucket: Option<String>,
}

/// The per-IP bucket family of password attempts.
const PASSWORD_IP_FAMILY: &str = "pwd-ip";

/// The failure counter of an identifier, keyed by its digest (never stored as typed).
fn identifier_bucket(identifier: &str) -> String {
    format!("pwd-id/{}", digest(identifier))
}

/// A cookie value worth looking up: what [`random_handle`] makes, within bounds.
fn valid_handle(value: &str) -> bool {
    !value.is_empty() && value.len() <= 128
}
