//! The self-service password reset: "Forgot password?" on the password step mails a
//! one-time `/password/set` link (see `password_link.rs`).
//!
//! No user enumeration (OWASP Forgot Password Cheat Sheet, "Forgot Password Request"): the
//! answer is decided before the directory is read, from the login transaction and the rate
//! limits alone (both keyed by what was typed), and is the same page whether the address has
//! an account, has one that signs in upstream, or has none. The lookup, the link and the mail
//! happen after the answer, in a task of their own, so their time does not show either.

use std::sync::Arc;
use std::time::Duration;

use super::authorize::BrowserContext;
use super::login_flow::MSG_RESTART;
use super::{Broker, ServiceError};
use crate::hrd::{self, LoginMethod};
use crate::i18n::Msg;
use crate::mail::Mail;
use crate::secret::digest;
use crate::store::{AuditRecord, LoginStage, LoginTx, RateCount};

pub const MSG_RESET_ENTER_EMAIL: &str = "reset-error-enter-email";
pub const MSG_RESET_TOO_MANY: &str = "reset-error-too-many";
pub const MSG_RESET_UNAVAILABLE: &str = "reset-unavailable";

/// Longest address accepted (RFC 5321 caps a path at 256 octets).
const MAX_ADDRESS: usize = 256;

/// The per-IP bucket family of reset requests.
const RESET_IP_FAMILY: &str = "reset-ip";

/// The reset page: its form, or the answer after it.
#[derive(Debug, Clone)]
pub struct ResetView {
    /// The login transaction the page belongs to ("Back to sign-in" returns to it).
    pub tx: String,
    pub csrf: String,
    /// The address typed, or the login's identifier.
    pub email: String,
    pub client_id: String,
    pub organization: Option<String>,
    pub ui_locales: Option<String>,
    /// The request was taken: the page says what happens next instead of the form.
    pub sent: bool,
    /// How long a link works, in minutes (said on the page and in the mail).
    pub minutes: u64,
    /// A message id of the catalogs.
    pub error: Option<&'static str>,
    /// Set when the answer is a rate-limit refusal: seconds until retrying makes sense.
    pub retry_after: Option<u64>,
}

/// The password reset; see [`Broker::reset`]. Owns a handle on the broker, because the
/// mail goes out after the answer.
pub struct Reset {
    broker: Arc<Broker>,
}

impl Broker {
    /// The self-service password reset by email.
    pub fn reset(self: &Arc<Self>) -> Reset {
        Reset {
            broker: Arc::clone(self),
        }
    }
}

/// What the background step decided for one address (the audit record's reason).
enum Outcome {
    /// A link was mailed.
    Link,
    /// The account signs in upstream only: the mail says where.
    SsoOnly,
    /// No mail: `reason`.
    Nothing(&'static str),
}

impl Reset {
    /// `GET /password/forgot?tx=…`: the form, with the login's identifier filled in.
    pub async fn form(&self, tx: &str, ctx: &BrowserContext) -> Result<ResetView, ServiceError> {
        self.offered()?;
        let tx = self.broker.sign_in().load_tx(tx, ctx, None).await?;
        let email = tx.identifier.clone().unwrap_or_default();
        Ok(self.view(&tx, email, false, None))
    }

    /// `POST /password/forgot`: counts the request, answers, then (when it was not refused)
    /// looks the address up and mails it in the background.
    pub async fn request(
        &self,
        tx: &str,
        csrf: &str,
        email: &str,
        accept_language: Option<&str>,
        ctx: &BrowserContext,
    ) -> Result<ResetView, ServiceError> {
        let reset = self.offered()?;
        let tx = self.broker.sign_in().load_tx(tx, ctx, Some(csrf)).await?;
        if tx.stage == LoginStage::Done {
            return Err(ServiceError::Restart(MSG_RESTART.into()));
        }
        let email = hrd::normalize(email).into_owned();
        if email.is_empty() || email.len() > MAX_ADDRESS || !email.contains('@') {
            return Ok(self.view(&tx, email, false, Some(MSG_RESET_ENTER_EMAIL)));
        }
        let now = self.broker.now();
        let audit = AuditRecord::failure("password.reset.request", now)
            .identifier(&email)
            .client(&tx.request.client_id)
            .request(ctx.ip.as_deref(), ctx.user_agent.as_deref());

        // Limits before the directory is read, keyed by what was typed (OWASP: "rate
        // limiting … per account and per IP"), so they say nothing about existence either.
        let by_ip = self
            .broker
            .ip_hits(RESET_IP_FAMILY, ctx.ip.as_deref(), reset.window)
            .await?;
        let RateCount(by_address) = self
            .broker
            .store
            .rate_hit(&address_bucket(&email), reset.window)
            .await?;
        let (ip_limit, address_limit) = (u64::from(reset.per_ip), u64::from(reset.per_address));
        if by_ip > ip_limit || by_address > address_limit {
            metrics::counter!("idbroker_rate_limited_total", "limit" => "password_reset")
                .increment(1);
            // The first refusal of a bucket in its window is audited, the rest only counted.
            if by_ip == ip_limit + 1 || by_address == address_limit + 1 {
                self.broker.audit.record(audit.because("rate_limited"));
            }
            let mut view = self.view(&tx, email, false, Some(MSG_RESET_TOO_MANY));
            view.retry_after = Some(reset.window.as_secs());
            return Ok(view);
        }

        let lang = self
            .broker
            .policy()
            .i18n
            .negotiate(tx.ui_locales.as_deref(), accept_language);
        let broker = Arc::clone(&self.broker);
        let address = email.clone();
        tokio::spawn(async move {
            let (record, mailed) = match mail_link(&broker, &address, &lang).await {
                Ok(Outcome::Link) => (audit.succeeded(), "link"),
                Ok(Outcome::SsoOnly) => (audit.succeeded().detail("sso_only"), "sso_only"),
                Ok(Outcome::Nothing(reason)) => (audit.because(reason), "none"),
                Err(e) => {
                    tracing::warn!(error = %e, "password reset mail not sent");
                    (audit.because(e.reason()), "failed")
                }
            };
            metrics::counter!("idbroker_password_reset_mails_total", "outcome" => mailed)
                .increment(1);
            broker.audit.record(record);
        });
        Ok(self.view(&tx, email, true, None))
    }

    /// The policy's reset settings, or the "not available" page.
    fn offered(&self) -> Result<crate::policy::PasswordReset, ServiceError> {
        let policy = self.broker.policy();
        match policy.reset_by_mail() {
            Some(_) => Ok(policy.password_reset),
            None => Err(ServiceError::Restart(MSG_RESET_UNAVAILABLE.into())),
        }
    }

    fn view(
        &self,
        tx: &LoginTx,
        email: String,
        sent: bool,
        error: Option<&'static str>,
    ) -> ResetView {
        let policy = self.broker.policy();
        let organization = policy.org_for_email(&email).map(|o| o.id.clone());
        ResetView {
            tx: tx.id.clone(),
            csrf: tx.csrf.clone(),
            email,
            client_id: tx.request.client_id.clone(),
            organization,
            ui_locales: tx.ui_locales.clone(),
            sent,
            minutes: link_minutes(policy.password_reset.link_lifetime),
            error,
            retry_after: None,
        }
    }
}

/// Why the background step failed (the audit record's reason and the log line).
#[derive(Debug, thiserror::Error)]
enum ResetError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Mail(#[from] crate::mail::MailError),
}

impl ResetError {
    fn reason(&self) -> &'static str {
        match self {
            ResetError::Store(_) => "store_unavailable",
            ResetError::Mail(_) => "mail_failed",
        }
    }
}

/// Looks `address` up and mails what it needs: a link for an account that signs in with a
/// password here, where to sign in for one that signs in upstream only, nothing otherwise.
async fn mail_link(
    broker: &Broker,
    address: &str,
    lang: &crate::i18n::Lang,
) -> Result<Outcome, ResetError> {
    let policy = broker.policy();
    // The policy may have changed since the answer.
    let (Some(mail), reset) = (policy.reset_by_mail(), policy.password_reset) else {
        return Ok(Outcome::Nothing("reset_unavailable"));
    };
    let user = broker.store.user_by_email(address).await?;
    let Some(user) = user.as_deref() else {
        return Ok(Outcome::Nothing("unknown_identifier"));
    };
    let product = policy.branding.product_name.clone();
    let hello = url::Url::parse(policy.issuer.as_str())
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| "localhost".to_owned());
    match hrd::decide(&policy, address, Some(user)) {
        // A passkey-required user's password still only works until they have a passkey
        // (see `hrd::LoginMethod::Passkey`): the reset does not get around the rule.
        LoginMethod::Password | LoginMethod::Passkey => {}
        // Password fallback: the organisation lets this user keep a password.
        LoginMethod::Upstream(route) if route.password_allowed => {}
        LoginMethod::Upstream(route) => {
            let upstream = route.upstream.display_name.clone();
            let message = Mail {
                to: user.email.clone(),
                subject: lang.msg(&Msg::new("reset-mail-sso-subject").arg("product", &product)),
                body: lang.msg(
                    &Msg::new("reset-mail-sso-body")
                        .arg("product", &product)
                        .arg("email", &user.email)
                        .arg("upstream", upstream),
                ),
            };
            crate::mail::send(mail, &hello, message).await?;
            return Ok(Outcome::SsoOnly);
        }
        // Disabled, or no sign-in method at all: an admin decides what such a user gets.
        LoginMethod::NoMethod if user.disabled => return Ok(Outcome::Nothing("disabled")),
        LoginMethod::NoMethod => return Ok(Outcome::Nothing("no_sign_in_method")),
    }
    let (link, _) = broker
        .issue_password_link(&user.id, reset.link_lifetime, true)
        .await?;
    let message = Mail {
        to: user.email.clone(),
        subject: lang.msg(&Msg::new("reset-mail-subject").arg("product", &product)),
        body: lang.msg(
            &Msg::new("reset-mail-body")
                .arg("product", product)
                .arg("email", &user.email)
                .arg("link", link)
                .arg("minutes", link_minutes(reset.link_lifetime).to_string()),
        ),
    };
    crate::mail::send(mail, &hello, message).await?;
    Ok(Outcome::Link)
}

/// A link's lifetime in whole minutes, as the page and the mail say it.
fn link_minutes(lifetime: Duration) -> u64 {
    lifetime.as_secs().div_ceil(60)
}

/// The request counter of an address, keyed by its digest (never stored as typed).
fn address_bucket(address: &str) -> String {
    format!("reset-addr/{}", digest(address))
}
