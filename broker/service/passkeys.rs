//! Passkeys (WebAuthn Level 3, through `webauthn-rs`): the challenge every identifier and
//! password step carries, signing in with a passkey (`/login/passkey`), and registering and
//! removing passkeys on `/account` after a fresh sign-in.
//!
//! The relying party is the issuer: its host is the RP id, its origin the only origin
//! accepted (WebAuthn L3 §5.1.4.1, §7.2 step 9). Only discoverable credentials with user
//! verification are used (`userVerification: required`, §7.2 step 17), so a passkey alone
//! is multi-factor: `amr` `["hwk", "user", "mfa"]` (RFC 8176 §2).
//!
//! No enumeration: the challenge is the same kind of discoverable-credential request for
//! every page (no `allowCredentials`), made and stored whoever the identifier is.
//! The ceremony state between the two requests is a single-use, expiring store record,
//! bound to the login transaction (sign-in) or to the user and session (registration).

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{
    DiscoverableAuthentication, Passkey, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Url, Uuid, Webauthn, WebauthnBuilder,
};

use super::authorize::BrowserContext;
use super::login_flow::{LoginNext, LoginView, MSG_RESTART, Step};
use super::logout::logout_csrf;
use super::{ServiceError, SignIn};
use crate::hrd;
use crate::i18n::Msg;
use crate::policy::Policy;
use crate::secret::{ct_eq, digest, random_handle};
use crate::store::{AuditRecord, LoginStage, PasskeyChange, Session, StoredPasskey, User};

/// How long a challenge may be answered (WebAuthn L3 §15.4 recommends 300 s for UV).
pub const CHALLENGE_TTL: Duration = Duration::from_secs(300);
/// How recent a sign-in must be to register or remove a passkey.
pub const FRESH_SIGN_IN_SECS: u64 = 600;
/// `amr` of a passkey sign-in (RFC 8176 §2): a hardware-bound key, user verification, and
/// so more than one factor.
pub const PASSKEY_AMR: &[&str] = &["hwk", "user", "mfa"];
/// Longest name a user may give a passkey.
pub const MAX_NAME: usize = 64;
/// Longest credential JSON accepted from a browser.
const MAX_CREDENTIAL: usize = 16 * 1024;

/// Single-use families (`v1/once/{family}/{digest}`).
const AUTH_FAMILY: &str = "passkey-auth";
const REG_FAMILY: &str = "passkey-reg";

/// The login page's message when a passkey could not be used.
pub const MSG_PASSKEY_FAILED: &str = "passkey-error-failed";

pub use super::login_flow::PasskeyOffer;

#[derive(Serialize, Deserialize)]
struct AuthState {
    tx: String,
    state: DiscoverableAuthentication,
}

#[derive(Serialize, Deserialize)]
struct RegState {
    user_id: String,
    session_id: String,
    handle: String,
    state: PasskeyRegistration,
}

/// Why a passkey request was refused; the audit reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    NoChallenge,
    Malformed,
    UnknownCredential,
    NotAllowed,
    Verification,
}

impl Refusal {
    fn reason(self) -> &'static str {
        match self {
            Refusal::NoChallenge => "challenge_unknown",
            Refusal::Malformed => "malformed",
            Refusal::UnknownCredential => "unknown_credential",
            Refusal::NotAllowed => "passkey_not_allowed",
            Refusal::Verification => "verification_failed",
        }
    }
}

/// The relying party of `policy`: RP id the issuer's host, origin the issuer's origin.
fn relying_party(policy: &Policy) -> Result<Webauthn, ServiceError> {
    let unavailable = || ServiceError::Restart(Msg::new("passkey-unavailable"));
    let issuer = Url::parse(policy.issuer.as_str()).map_err(|_| unavailable())?;
    let host = issuer.host_str().ok_or_else(unavailable)?.to_owned();
    let origin = Url::parse(&issuer.origin().ascii_serialization()).map_err(|_| unavailable())?;
    WebauthnBuilder::new(&host, &origin)
        .and_then(|b| b.rp_name(&policy.branding.product_name).build())
        .map_err(|_| unavailable())
}

/// The credential id as the store keys it.
fn credential_key(raw: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(raw)
}

impl SignIn<'_> {
    /// A fresh discoverable-credential challenge bound to `tx`, for the identifier step
    /// (conditional mediation) and the password step ("Use a passkey"). Made for every
    /// page alike.
    pub(in crate::service) async fn passkey_offer(
        &self,
        tx: &str,
    ) -> Result<Option<PasskeyOffer>, ServiceError> {
        let policy = self.broker.policy();
        let Ok(rp) = relying_party(&policy) else {
            return Ok(None);
        };
        let Ok((challenge, state)) = rp.start_discoverable_authentication() else {
            return Ok(None);
        };
        let handle = random_handle();
        let record = AuthState {
            tx: tx.to_owned(),
            state,
        };
        self.broker
            .store
            .put_once(AUTH_FAMILY, &digest(&handle), &record, CHALLENGE_TTL)
            .await?;
        let options = serde_json::to_string(&challenge).unwrap_or_default();
        Ok(Some(PasskeyOffer {
            state: handle,
            options,
        }))
    }

    /// The page of `step` for `tx`, with a fresh passkey challenge on the identifier and
    /// password steps.
    pub(in crate::service) async fn show(
        &self,
        tx: &crate::store::LoginTx,
        step: Step,
        error: Option<&'static str>,
    ) -> Result<LoginView, ServiceError> {
        let mut view = self.view(tx, step, error);
        if matches!(step, Step::Identifier | Step::Password) {
            view.passkey = self.passkey_offer(&tx.id).await?.map(Box::new);
        }
        Ok(view)
    }

    /// `/login/passkey`: signs in with the assertion `credential` (JSON of a
    /// `PublicKeyCredential`) answering the challenge `state` of transaction `tx`.
    pub async fn submit_passkey(
        &self,
        tx: &str,
        csrf: &str,
        state: &str,
        credential: &str,
        ctx: &BrowserContext,
    ) -> Result<LoginNext, ServiceError> {
        let tx = self.load_tx(tx, ctx, Some(csrf)).await?;
        let step = match tx.stage {
            LoginStage::Identifier => Step::Identifier,
            LoginStage::Password => Step::Password,
            _ => return Err(ServiceError::Restart(MSG_RESTART.into())),
        };
        let now = self.broker.now();
        let mut audit = AuditRecord::failure("login.passkey", now)
            .client(&tx.request.client_id)
            .request(ctx.ip.as_deref(), ctx.user_agent.as_deref());
        let policy = self.broker.policy();
        // Per IP, before any verification work (the identifier step's limit).
        let limits = policy.rate_limits;
        if self
            .broker
            .ip_hit_over(
                "passkey-ip",
                ctx.ip.as_deref(),
                limits.identifier_per_ip,
                limits.window,
            )
            .await?
        {
            metrics::counter!("idbroker_rate_limited_total", "limit" => "passkey").increment(1);
            let mut view = self
                .show(&tx, step, Some(super::login_flow::MSG_TOO_MANY))
                .await?;
            view.retry_after = Some(limits.window.as_secs());
            return Ok(LoginNext::Show(view));
        }
        match self
            .verify_assertion(&policy, &tx.id, state, credential)
            .await?
        {
            Ok((user, key_id)) => {
                audit.name_user(&user);
                self.broker.audit.record(audit.succeeded().detail(key_id));
                self.finish_login(&tx, &user, PASSKEY_AMR, None, ctx).await
            }
            Err((refusal, user)) => {
                if let Some(user) = &user {
                    audit.name_user(user);
                }
                self.broker.audit.record(audit.because(refusal.reason()));
                Ok(LoginNext::Show(
                    self.show(&tx, step, Some(MSG_PASSKEY_FAILED)).await?,
                ))
            }
        }
    }

    /// Checks an assertion: the challenge is taken (single use) and must be this
    /// transaction's; the credential must be registered to a user who may sign in with a
    /// passkey; `webauthn-rs` checks origin, RP id hash, user verification, signature and
    /// counter (WebAuthn L3 §7.2). On success the stored counter and last use move on.
    async fn verify_assertion(
        &self,
        policy: &Policy,
        tx: &str,
        state: &str,
        credential: &str,
    ) -> Result<Result<(User, String), (Refusal, Option<User>)>, ServiceError> {
        if state.is_empty() || state.len() > 128 || credential.len() > MAX_CREDENTIAL {
            return Ok(Err((Refusal::Malformed, None)));
        }
        let Some(stored) = self
            .broker
            .store
            .take_once::<AuthState>(AUTH_FAMILY, &digest(state))
            .await?
        else {
            return Ok(Err((Refusal::NoChallenge, None)));
        };
        if !ct_eq(stored.tx.as_bytes(), tx.as_bytes()) {
            return Ok(Err((Refusal::NoChallenge, None)));
        }
        let Ok(assertion) = serde_json::from_str::<PublicKeyCredential>(credential) else {
            return Ok(Err((Refusal::Malformed, None)));
        };
        let Ok(rp) = relying_party(policy) else {
            return Ok(Err((Refusal::Verification, None)));
        };
        let Ok((handle, raw_id)) = rp.identify_discoverable_authentication(&assertion) else {
            return Ok(Err((Refusal::Malformed, None)));
        };
        let key_id = credential_key(raw_id);
        let store = &self.broker.store;
        let Some(user_id) = store.passkey_owner(&key_id).await? else {
            return Ok(Err((Refusal::UnknownCredential, None)));
        };
        let Some(user) = store.user_by_id(&user_id).await? else {
            return Ok(Err((Refusal::UnknownCredential, None)));
        };
        let doc = store.passkeys_of(&user.id).await?;
        let Some(key) = doc.keys.iter().find(|k| k.id == key_id) else {
            return Ok(Err((Refusal::UnknownCredential, Some(user))));
        };
        // The user handle the authenticator returned must be this user's (§7.2 step 6).
        if !ct_eq(handle.to_string().as_bytes(), doc.handle.as_bytes()) {
            return Ok(Err((Refusal::UnknownCredential, Some(user))));
        }
        if !hrd::passkey_allowed(policy, &user) {
            return Ok(Err((Refusal::NotAllowed, Some(user))));
        }
        let Ok(mut passkey) = serde_json::from_value::<Passkey>(key.credential.clone()) else {
            return Ok(Err((Refusal::Verification, Some(user))));
        };
        let result =
            match rp.finish_discoverable_authentication_v2(&assertion, stored.state, &passkey) {
                Ok(result) => result,
                Err(e) => {
                    tracing::info!(error = %e, "passkey assertion refused");
                    return Ok(Err((Refusal::Verification, Some(user))));
                }
            };
        passkey.update_credential(&result);
        let credential = serde_json::to_value(&passkey).unwrap_or(key.credential.clone());
        let now = self.broker.now();
        store
            .update_passkey(&user.id, &key_id, |k| {
                k.credential = credential.clone();
                k.last_used_at = Some(now);
            })
            .await?;
        Ok(Ok((user, key_id)))
    }

    /// Whether the user of `session` signed in recently enough to change their passkeys.
    pub fn passkey_fresh(&self, session: &Session) -> bool {
        self.broker.now().saturating_sub(session.auth.auth_time) <= FRESH_SIGN_IN_SECS
    }

    /// The account page's passkeys: the user's list, and a registration challenge when the
    /// sign-in is fresh (`None` otherwise, or when passkeys are not for this user).
    pub(in crate::service) async fn account_passkeys(
        &self,
        user: &User,
        session: &Session,
    ) -> Result<AccountPasskeys, ServiceError> {
        let policy = self.broker.policy();
        let allowed = hrd::passkey_allowed(&policy, user);
        let doc = self.broker.store.passkeys_of(&user.id).await?;
        let fresh = self.passkey_fresh(session);
        let registration = if allowed && fresh {
            self.registration_offer(&policy, user, session, &doc)
                .await?
        } else {
            None
        };
        Ok(AccountPasskeys {
            allowed,
            fresh,
            keys: doc.keys,
            registration,
        })
    }

    async fn registration_offer(
        &self,
        policy: &Policy,
        user: &User,
        session: &Session,
        doc: &crate::store::UserPasskeys,
    ) -> Result<Option<PasskeyOffer>, ServiceError> {
        let Ok(rp) = relying_party(policy) else {
            return Ok(None);
        };
        let handle = match Uuid::parse_str(&doc.handle) {
            Ok(h) => h,
            Err(_) => Uuid::new_v4(),
        };
        let exclude = doc
            .keys
            .iter()
            .filter_map(|k| URL_SAFE_NO_PAD.decode(&k.id).ok())
            .collect::<Vec<_>>();
        let Ok((challenge, state)) =
            rp.start_passkey_registration(handle, &user.email, &user.name, Some(exclude))
        else {
            return Ok(None);
        };
        // Discoverable credentials only: sign-in finds the user by the credential
        // (WebAuthn L3 §5.4.6 `residentKey: required`). `start_passkey_registration` asks
        // for "discouraged"; the state does not depend on it.
        let Ok(mut options) = serde_json::to_value(&challenge) else {
            return Ok(None);
        };
        if let Some(sel) = options
            .pointer_mut("/publicKey/authenticatorSelection")
            .and_then(|s| s.as_object_mut())
        {
            sel.insert("residentKey".into(), "required".into());
            sel.insert("requireResidentKey".into(), true.into());
        }
        let token = random_handle();
        let record = RegState {
            user_id: user.id.clone(),
            session_id: session.id.clone(),
            handle: handle.to_string(),
            state,
        };
        self.broker
            .store
            .put_once(REG_FAMILY, &digest(&token), &record, CHALLENGE_TTL)
            .await?;
        Ok(Some(PasskeyOffer {
            state: token,
            options: options.to_string(),
        }))
    }

    /// Registers the passkey `credential` (JSON of a `RegisterPublicKeyCredential`) for the
    /// signed-in user, answering the challenge `state`, named `name` (or "Passkey" and
    /// the date).
    pub async fn register_passkey(
        &self,
        session_cookie: &str,
        form: &PasskeyForm<'_>,
        ctx: &BrowserContext,
    ) -> Result<(), ServiceError> {
        let (session, user) = self.passkey_session(session_cookie, form.csrf).await?;
        let now = self.broker.now();
        let mut audit = AuditRecord::failure("user.passkey.registered", now)
            .request(ctx.ip.as_deref(), ctx.user_agent.as_deref());
        audit.name_user(&user);
        let failed = |reason: &str, audit: AuditRecord| {
            self.broker.audit.record(audit.because(reason));
            ServiceError::Restart(Msg::new("passkey-error-register"))
        };
        let policy = self.broker.policy();
        if !hrd::passkey_allowed(&policy, &user) {
            return Err(failed("passkey_not_allowed", audit));
        }
        if form.state.is_empty() || form.state.len() > 128 || form.value.len() > MAX_CREDENTIAL {
            return Err(failed("malformed", audit));
        }
        let Some(stored) = self
            .broker
            .store
            .take_once::<RegState>(REG_FAMILY, &digest(form.state))
            .await?
        else {
            return Err(failed("challenge_unknown", audit));
        };
        if stored.user_id != user.id || stored.session_id != session.id {
            return Err(failed("challenge_unknown", audit));
        }
        let Ok(response) = serde_json::from_str::<RegisterPublicKeyCredential>(form.value) else {
            return Err(failed("malformed", audit));
        };
        let rp = relying_party(&policy)?;
        let passkey = match rp.finish_passkey_registration(&response, &stored.state) {
            Ok(p) => p,
            Err(e) => {
                tracing::info!(error = %e, "passkey registration refused");
                return Err(failed("verification_failed", audit));
            }
        };
        let id = credential_key(passkey.cred_id());
        let name = passkey_name(form.name);
        let key = StoredPasskey {
            id: id.clone(),
            name,
            created_at: now,
            last_used_at: None,
            credential: serde_json::to_value(&passkey)
                .map_err(|_| failed("malformed", audit.clone()))?,
        };
        match self
            .broker
            .store
            .add_passkey(&user.id, &stored.handle, &key)
            .await?
        {
            PasskeyChange::Done => {
                self.broker.audit.record(audit.succeeded().detail(id));
                Ok(())
            }
            _ => Err(failed("credential_taken", audit)),
        }
    }

    /// Removes the signed-in user's passkey `form.value` (a credential id).
    pub async fn remove_passkey(
        &self,
        session_cookie: &str,
        form: &PasskeyForm<'_>,
        ctx: &BrowserContext,
    ) -> Result<(), ServiceError> {
        let (_, user) = self.passkey_session(session_cookie, form.csrf).await?;
        let mut audit = AuditRecord::failure("user.passkey.removed", self.broker.now())
            .request(ctx.ip.as_deref(), ctx.user_agent.as_deref())
            .detail(form.value);
        audit.name_user(&user);
        match self
            .broker
            .store
            .remove_passkey(&user.id, form.value)
            .await?
        {
            PasskeyChange::Done => {
                self.broker.audit.record(audit.succeeded());
                Ok(())
            }
            _ => {
                self.broker.audit.record(audit.because("not_found"));
                Err(ServiceError::Restart(Msg::new("passkey-error-not-found")))
            }
        }
    }

    /// The session of an account-page passkey change: live, the form's CSRF token its
    /// own, and a fresh sign-in (else [`ServiceError::Restart`] with the message to sign
    /// in again).
    async fn passkey_session(
        &self,
        session_cookie: &str,
        csrf: &str,
    ) -> Result<(Session, User), ServiceError> {
        if !ct_eq(csrf.as_bytes(), logout_csrf(session_cookie).as_bytes()) {
            return Err(ServiceError::Restart(Msg::new("error-form-expired")));
        }
        let Some((session, user)) = self.live_session(Some(session_cookie)).await? else {
            return Err(ServiceError::Restart(Msg::new("error-form-expired")));
        };
        if !self.passkey_fresh(&session) {
            return Err(ServiceError::Restart(Msg::new("passkey-error-not-fresh")));
        }
        Ok((session, user))
    }
}

/// What the account page's passkey forms send.
#[derive(Debug)]
pub struct PasskeyForm<'a> {
    pub csrf: &'a str,
    /// The registration challenge's handle (registration only).
    pub state: &'a str,
    /// The credential JSON (registration) or the credential id (removal).
    pub value: &'a str,
    /// The name the user chose (registration only).
    pub name: &'a str,
}

/// The account page's passkey section.
#[derive(Debug, Default)]
pub struct AccountPasskeys {
    /// The user signs in locally, so passkeys are for them.
    pub allowed: bool,
    /// The sign-in is recent enough to change passkeys.
    pub fresh: bool,
    pub keys: Vec<StoredPasskey>,
    pub registration: Option<PasskeyOffer>,
}

/// The name of a new passkey: what the user typed, trimmed, control characters dropped,
/// at most [`MAX_NAME`] characters. Empty when they typed none: the pages then say
/// "Passkey" and its date in the reader's language.
pub fn passkey_name(typed: &str) -> String {
    typed
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_passkey_is_named_by_its_user_or_by_its_date() {
        assert_eq!(passkey_name("  Laptop  "), "Laptop");
        assert_eq!(passkey_name("   "), "");
        assert_eq!(passkey_name("a\u{7}b"), "ab");
        assert_eq!(passkey_name(&"x".repeat(100)).len(), MAX_NAME);
    }
}
