//! What the login flow's steps share: the page's view, where a step leads, the messages
//! the user reads, and the steps every path takes: loading the transaction for this browser
//! ([`SignIn::load_tx`]), the page's view of it ([`SignIn::view`]) and ending the login
//! ([`SignIn::finish_login`]). The password and identifier steps (`login.rs`), the upstream
//! leg (`sso.rs`) and the device flow's sign-in (`device.rs`) all meet here, so none of the
//! three imports another.

use url::Url;

use super::authorize::{BrowserContext, CodeRequest};
use super::{ServiceError, SignIn};
use crate::secret::{ct_eq, digest};
use crate::store::{LoginStage, LoginTx, User};

// The messages the login page says, as ids of the catalogs (`broker/i18n/catalogs`).
pub const MSG_ENTER_EMAIL: &str = "login-error-enter-email";
pub const MSG_BAD_CREDENTIALS: &str = "login-error-bad-credentials";
pub const MSG_TOO_MANY: &str = "login-error-too-many";
pub const MSG_BUSY: &str = "login-error-busy";
pub const MSG_RESTART: &str = "error-restart";

/// Which form the login page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Identifier,
    Password,
    /// Password allowed as a fallback: offer both.
    Choice,
    /// The second factor: a one-time code or a recovery code (`/login/otp`).
    Otp,
    /// A second factor is required and the user has none: set one up (`/login/otp/enrol`).
    OtpEnrol,
    /// Just set up: the recovery codes, then on (`/login/otp/continue`).
    OtpEnrolled,
}

/// A code generator being set up: its key (base32) and `otpauth://` URL (the QR code's
/// content). Shown only to the user who sets it up.
#[derive(Clone)]
pub struct TotpSetup {
    pub secret: String,
    pub url: String,
}

impl std::fmt::Debug for TotpSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSetup(…)")
    }
}

/// What the login page shows.
#[derive(Debug, Clone)]
pub struct LoginView {
    pub step: Step,
    pub tx: String,
    pub csrf: String,
    /// The identifier typed (password step) or the `login_hint` (identifier step).
    pub identifier: String,
    pub client_name: String,
    /// The upstream's display name, for the choice step.
    pub upstream_name: Option<String>,
    /// A message id of the catalogs.
    pub error: Option<&'static str>,
    /// The client's id, for its logo.
    pub client_id: String,
    /// The organisation, once the identifier (or a hint) names one: its brand.
    pub organization: Option<String>,
    /// The request's `ui_locales` (OIDC Core §3.1.2.1).
    pub ui_locales: Option<String>,
    /// Set when the answer is a rate-limit refusal: seconds until retrying makes sense.
    pub retry_after: Option<u64>,
    /// The password step offers the reset by email (`/password/forgot`).
    pub reset: bool,
    /// The passkey challenge of the identifier and password steps (every page alike).
    pub passkey: Option<Box<PasskeyOffer>>,
    /// The inline set-up of a second factor ([`Step::OtpEnrol`]).
    pub totp: Option<Box<TotpSetup>>,
}

/// A passkey challenge for the browser (`passkeys.rs`): the handle of its stored state and
/// the options JSON that `navigator.credentials` gets (after `passkey.js` decodes the
/// base64url fields). Here, beside the page that carries it.
#[derive(Debug, Clone)]
pub struct PasskeyOffer {
    pub state: String,
    pub options: String,
}

/// Where the login goes after a form.
#[derive(Debug)]
pub enum LoginNext {
    /// Show the page again (with an error, or the next step).
    Show(LoginView),
    /// Signed in: set the session cookie and go back to the client.
    Complete {
        redirect: Url,
        session_cookie: String,
    },
    /// Off to the upstream provider.
    Upstream(Url),
    /// Signed in for a device (RFC 8628): show the approve/deny page.
    Device(DeviceConsentView),
    /// The inner step, and a device cookie to set: this browser has just signed in with a
    /// password as the identifier (see [`super::login::DEVICE_COOKIE_TTL`]).
    WithDeviceCookie(Box<LoginNext>, String),
}

/// The approve/deny page after sign-in.
#[derive(Debug, Clone)]
pub struct DeviceConsentView {
    pub tx: String,
    pub csrf: String,
    pub client_name: String,
    pub user_email: String,
    pub user_code: String,
}

impl SignIn<'_> {
    /// Ends a login successfully: new session, code, redirect to the client.
    pub async fn finish_login(
        &self,
        tx: &LoginTx,
        user: &User,
        amr: &[&str],
        idp: Option<String>,
        ctx: &BrowserContext,
    ) -> Result<LoginNext, ServiceError> {
        if let Some(device) = tx.device.as_deref() {
            return self
                .broker
                .devices()
                .finish_device_login(tx, device, user, amr, idp)
                .await;
        }
        // One login completes a transaction once; a second submission loses the swap.
        let mut done = tx.clone();
        done.stage = LoginStage::Done;
        if !self
            .broker
            .store
            .swap_login_tx(tx, &done, self.broker.now())
            .await?
        {
            return Err(ServiceError::Restart(MSG_RESTART.into()));
        }
        // A new sign-in replaces the browser's previous session.
        if let Some(old) = ctx.session.as_deref() {
            self.broker.store.delete_session(&digest(old)).await?;
        }
        let organization = user.organization.clone();
        let new = self
            .broker
            .start_session(
                user,
                amr,
                idp,
                organization,
                ctx.ip.clone(),
                ctx.user_agent.clone(),
            )
            .await?;
        let req = CodeRequest {
            request: tx.request.clone(),
            state: tx.state.clone(),
        };
        let redirect = self.broker.code_redirect(&req, &new.session, user).await?;
        self.broker.store.delete_login_tx(&tx.id).await?;
        Ok(LoginNext::Complete {
            redirect,
            session_cookie: new.cookie,
        })
    }

    /// Loads a transaction for this browser, checking the CSRF token when a form was sent.
    pub(in crate::service) async fn load_tx(
        &self,
        id: &str,
        ctx: &BrowserContext,
        csrf: Option<&str>,
    ) -> Result<LoginTx, ServiceError> {
        let restart = || ServiceError::Restart(MSG_RESTART.into());
        if id.is_empty() || id.len() > 128 {
            return Err(restart());
        }
        let tx = self.broker.store.login_tx(id).await?.ok_or_else(restart)?;
        let browser = ctx.browser.as_deref().ok_or_else(restart)?;
        if tx.expires_at <= self.broker.now()
            || !ct_eq(digest(browser).as_bytes(), tx.browser.as_bytes())
        {
            return Err(restart());
        }
        if let Some(csrf) = csrf
            && !ct_eq(csrf.as_bytes(), tx.csrf.as_bytes())
        {
            return Err(restart());
        }
        Ok(tx)
    }

    pub(in crate::service) fn view(
        &self,
        tx: &LoginTx,
        step: Step,
        error: Option<&'static str>,
    ) -> LoginView {
        let policy = self.broker.policy();
        let client_name = policy
            .client(&tx.request.client_id)
            .map(|c| c.name.clone())
            .unwrap_or_default();
        let upstream_name = tx
            .upstream
            .as_ref()
            .and_then(|leg| policy.upstream(&leg.upstream))
            .or_else(|| {
                // Choice step: the user's route names the upstream.
                let id = tx.identifier.as_deref()?;
                let org = policy.org_for_email(id)?;
                policy.upstream(org.upstream.as_deref()?)
            })
            .map(|u| u.display_name.clone());
        let identifier = match step {
            Step::Identifier => tx
                .identifier
                .clone()
                .or_else(|| tx.login_hint.clone())
                .unwrap_or_default(),
            _ => tx.identifier.clone().unwrap_or_default(),
        };
        // The organisation by the identifier typed, else by the hints: its brand shows from
        // the step it is known (a domain's, the same for every address in it).
        let organization = tx
            .identifier
            .as_deref()
            .or(tx.login_hint.as_deref())
            .and_then(|e| policy.org_for_email(e))
            .or_else(|| {
                let domain = tx.domain_hint.as_deref()?;
                policy.org_by_domain.get(domain)
            })
            .map(|o| o.id.clone());
        LoginView {
            step,
            tx: tx.id.clone(),
            csrf: tx.csrf.clone(),
            identifier,
            client_name,
            upstream_name,
            error,
            retry_after: None,
            passkey: None,
            client_id: tx.request.client_id.clone(),
            organization,
            ui_locales: tx.ui_locales.clone(),
            reset: policy.reset_by_mail().is_some(),
            totp: None,
        }
    }
}
