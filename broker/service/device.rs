//! RFC 8628 device authorization grant.
//!
//! A device without a usable browser asks `/device_authorization` for a `device_code` (its
//! secret, kept as a digest) and a short `user_code` the user types at `/device` on another
//! device. The user then signs in through the same login page as any application (password
//! or SSO per the policy: a [`LoginTx`] with `device` set), sees which application is asking
//! and approves or denies. Meanwhile the device polls `/token` and gets
//! `authorization_pending`, `slow_down`, `access_denied` or `expired_token` (§3.5), and
//! its tokens exactly once. All state is in the store, so any replica answers any step.

use super::authorize::BrowserContext;
use super::issue::{TokenResponse, UserGrant};
use super::login_flow::{DeviceConsentView, LoginNext, MSG_RESTART};
use super::token::TokenParams;
use super::{Devices, ServiceError};
use crate::op::claims::AuthContext;
use crate::op::{ErrorCode, OpError, resource, scope};
use crate::policy::{Client, GrantType};
use crate::secret::{digest, random_bytes, random_handle, random_id};
use crate::store::{
    AuditRecord, AuthRequest, Authentication, DeviceAuthorization, DeviceGrant, DeviceStatus,
    LoginStage, LoginTx, User,
};

/// User-code alphabet: consonants only, no vowels (no words), none easily confused
/// (RFC 8628 §6.1: 20 characters, 8 of them ≈ 34.5 bits, with rate limiting).
pub const USER_CODE_ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";
pub const USER_CODE_LEN: usize = 8;
/// RFC 8628 §3.2 `interval`, and the §3.5 increase on `slow_down`.
pub const POLL_INTERVAL_SECS: u64 = 5;
pub const SLOW_DOWN_STEP_SECS: u64 = 5;
/// How long a device code lives (RFC 8628 §3.2 `expires_in`).
pub const DEVICE_CODE_TTL_SECS: u64 = 600;
/// User-code entries per client IP per rate-limit window (RFC 8628 §5.1: guessing).
pub const USER_CODE_ATTEMPTS_PER_IP: u32 = 10;

pub const MSG_BAD_USER_CODE: &str = "device-bad-code";

/// The `/device_authorization` response (RFC 8628 §3.2).
#[derive(Debug, Clone, serde::Serialize)]
pub struct DeviceAuthorizationResponse {
    pub device_code: String,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: String,
    pub expires_in: u64,
    pub interval: u64,
}

/// What the `/device` page shows.
#[derive(Debug, Clone)]
pub struct DeviceEntryView {
    pub csrf: String,
    pub user_code: String,
    pub error: Option<&'static str>,
}

/// What the code entry leads to.
#[derive(Debug)]
pub enum DeviceEntry {
    /// Show the entry page again (with an error).
    Show(DeviceEntryView),
    /// On to the login page for transaction `tx`.
    Login(String),
}

/// Formats a normalised user code for people: `BCDF-GHJK`.
pub fn display_user_code(code: &str) -> String {
    match code.split_at_checked(USER_CODE_LEN / 2) {
        Some((a, b)) => format!("{a}-{b}"),
        None => code.to_owned(),
    }
}

/// Normalises what the user typed (case, dashes, spaces): `None` unless it can be a code.
pub fn normalize_user_code(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| !matches!(c, '-' | ' ' | '\t'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let ok = code.len() == USER_CODE_LEN && code.bytes().all(|b| USER_CODE_ALPHABET.contains(&b));
    ok.then_some(code)
}

/// A fresh user code: uniform over the alphabet (rejection sampling of random bytes).
fn new_user_code() -> String {
    let mut out = String::with_capacity(USER_CODE_LEN);
    while out.len() < USER_CODE_LEN {
        for b in random_bytes::<16>() {
            // 240 = 12 × 20: bytes above it would bias the first letters.
            if b < 240 && out.len() < USER_CODE_LEN {
                out.push(char::from(USER_CODE_ALPHABET[usize::from(b % 20)]));
            }
        }
    }
    out
}

/// The CSRF token of the code-entry form: bound to the browser cookie, which a cross-site
/// attacker can neither read nor set.
pub fn entry_csrf(browser: &str) -> String {
    digest(&format!("device-entry|{browser}"))
}

impl Devices<'_> {
    /// `POST /device_authorization` (RFC 8628 §3.1) for an authenticated client.
    pub async fn device_authorization(
        &self,
        client: &Client,
        scope_param: Option<&str>,
    ) -> Result<DeviceAuthorizationResponse, ServiceError> {
        if !client.allows_grant(GrantType::DeviceCode) {
            return Err(OpError::new(
                ErrorCode::UnauthorizedClient,
                "this client may not use the device authorization grant",
            )
            .into());
        }
        let policy = self.broker.policy();
        let scopes = match scope_param {
            None => client.scopes.clone(),
            Some(s) => {
                let asked = scope::parse(Some(s));
                // An API's scopes are allowed as at /authorize; they make it the audience.
                resource::target(&policy, client, &asked, None)?;
                asked
            }
        };
        let now = self.broker.now();
        let device_code = random_handle();
        let key = digest(&device_code);
        for _ in 0..8 {
            let record = DeviceAuthorization {
                client_id: client.id.clone(),
                scope: scopes.clone(),
                user_code: new_user_code(),
                status: DeviceStatus::Pending,
                interval: POLL_INTERVAL_SECS,
                last_poll: None,
                created_at: now,
                expires_at: now + DEVICE_CODE_TTL_SECS,
            };
            // A user code already in use: draw another (the device code is fresh).
            if self.broker.store.create_device(&key, &record, now).await? {
                let shown = display_user_code(&record.user_code);
                let verification_uri = policy.issuer.join("/device");
                return Ok(DeviceAuthorizationResponse {
                    device_code,
                    verification_uri_complete: format!("{verification_uri}?user_code={shown}"),
                    user_code: shown,
                    verification_uri,
                    expires_in: DEVICE_CODE_TTL_SECS,
                    interval: POLL_INTERVAL_SECS,
                });
            }
        }
        Err(crate::store::StoreError::Contended.into())
    }

    /// `GET /device`: the code entry page (prefilled from `verification_uri_complete`, never
    /// submitted on the user's behalf: RFC 8628 §5.4, the user confirms the code).
    pub fn device_entry_page(&self, browser: &str, user_code: Option<&str>) -> DeviceEntryView {
        DeviceEntryView {
            csrf: entry_csrf(browser),
            user_code: user_code
                .and_then(normalize_user_code)
                .map(|c| display_user_code(&c))
                .unwrap_or_default(),
            error: None,
        }
    }

    /// `POST /device`: the user entered a code. Rate-limited per IP before any lookup.
    pub async fn device_entry(
        &self,
        typed: &str,
        csrf: &str,
        ctx: &BrowserContext,
    ) -> Result<DeviceEntry, ServiceError> {
        let restart = || ServiceError::Restart(MSG_RESTART.into());
        let browser = ctx
            .browser
            .as_deref()
            .filter(|b| !b.is_empty())
            .ok_or_else(restart)?;
        if !crate::secret::ct_eq(csrf.as_bytes(), entry_csrf(browser).as_bytes()) {
            return Err(restart());
        }
        let now = self.broker.now();
        let policy = self.broker.policy();
        let ev = AuditRecord::failure("device.code_entry", now)
            .request(ctx.ip.as_deref(), ctx.user_agent.as_deref());
        if self
            .broker
            .ip_hit_over(
                "device-ip",
                ctx.ip.as_deref(),
                USER_CODE_ATTEMPTS_PER_IP,
                policy.rate_limits.window,
            )
            .await?
        {
            metrics::counter!("idbroker_rate_limited_total", "limit" => "user_code").increment(1);
            self.broker.audit.record(ev.because("rate_limited"));
            return Err(ServiceError::RateLimited(
                policy.rate_limits.window.as_secs(),
            ));
        }
        let again = |error| {
            DeviceEntry::Show(DeviceEntryView {
                csrf: entry_csrf(browser),
                user_code: typed.chars().take(16).collect(),
                error: Some(error),
            })
        };
        let Some(code) = normalize_user_code(typed) else {
            self.broker.audit.record(ev.because("malformed_user_code"));
            return Ok(again(MSG_BAD_USER_CODE));
        };
        let found = match self.broker.store.device_by_user_code(&code).await? {
            Some(key) => self
                .broker
                .store
                .device(&key)
                .await?
                .map(|d| (key, d.value)),
            None => None,
        };
        let Some((key, device)) =
            found.filter(|(_, d)| d.expires_at > now && matches!(d.status, DeviceStatus::Pending))
        else {
            self.broker.audit.record(ev.because("unknown_user_code"));
            return Ok(again(MSG_BAD_USER_CODE));
        };
        self.broker
            .audit
            .record(ev.succeeded().client(&device.client_id));
        let tx = LoginTx {
            id: random_handle(),
            request: AuthRequest {
                client_id: device.client_id.clone(),
                redirect_uri: String::new(),
                scope: device.scope.clone(),
                nonce: None,
                code_challenge: None,
                resource: None,
                acr_values: Vec::new(),
            },
            state: None,
            response_mode: None,
            max_age: None,
            login_hint: None,
            ui_locales: None,
            domain_hint: None,
            browser: digest(browser),
            csrf: random_handle(),
            stage: LoginStage::Identifier,
            identifier: None,
            upstream: None,
            device: Some(key),
            mfa: None,
            created_at: now,
            expires_at: (now + policy.lifetimes.login.as_secs()).min(device.expires_at),
        };
        self.broker.store.put_login_tx(&tx, now).await?;
        Ok(DeviceEntry::Login(tx.id))
    }

    /// Called by `finish_login` when the login serves a device: instead of a code redirect,
    /// the approve/deny page. The device record remembers who signed in; nothing is issued
    /// until the user approves.
    pub(crate) async fn finish_device_login(
        &self,
        tx: &LoginTx,
        device_key: &str,
        user: &User,
        amr: &[&str],
        idp: Option<String>,
    ) -> Result<LoginNext, ServiceError> {
        let restart = || ServiceError::Restart(MSG_RESTART.into());
        let now = self.broker.now();
        let mut done = tx.clone();
        done.stage = LoginStage::Done;
        done.identifier = Some(user.email.clone());
        if !self.broker.store.swap_login_tx(tx, &done, now).await? {
            return Err(restart());
        }
        let device = self
            .broker
            .store
            .device(device_key)
            .await?
            .ok_or_else(restart)?;
        if device.value.expires_at <= now || device.value.status != DeviceStatus::Pending {
            return Err(device_gone());
        }
        let mut next = device.value.clone();
        next.status = DeviceStatus::SignedIn(DeviceGrant {
            user_id: user.id.clone(),
            auth: Authentication {
                auth_time: now,
                amr: amr.iter().map(|m| (*m).to_owned()).collect(),
                idp,
                organization: user.organization.clone(),
                acr: None,
            },
        });
        if !self
            .broker
            .store
            .swap_device(device_key, &device.bytes, &next, now)
            .await?
        {
            // Polling moved the record meanwhile; one retry on the fresh bytes.
            let again = self
                .broker
                .store
                .device(device_key)
                .await?
                .ok_or_else(restart)?;
            if again.value.status != DeviceStatus::Pending {
                return Err(device_gone());
            }
            let mut retry = again.value.clone();
            retry.status = next.status.clone();
            if !self
                .broker
                .store
                .swap_device(device_key, &again.bytes, &retry, now)
                .await?
            {
                return Err(ServiceError::Store(crate::store::StoreError::Contended));
            }
        }
        let client_name = self
            .broker
            .policy()
            .client(&device.value.client_id)
            .map(|c| c.name.clone())
            .unwrap_or_else(|| device.value.client_id.clone());
        Ok(LoginNext::Device(DeviceConsentView {
            tx: done.id.clone(),
            csrf: done.csrf.clone(),
            client_name,
            user_email: user.email.clone(),
            user_code: display_user_code(&device.value.user_code),
        }))
    }

    /// `POST /device/decision`: the signed-in user approves or denies the device.
    /// Returns whether it was approved.
    pub async fn device_decision(
        &self,
        tx: &str,
        csrf: &str,
        approve: bool,
        ctx: &BrowserContext,
    ) -> Result<bool, ServiceError> {
        let restart = || ServiceError::Restart(MSG_RESTART.into());
        let tx = self.broker.sign_in().load_tx(tx, ctx, Some(csrf)).await?;
        let (LoginStage::Done, Some(key)) = (tx.stage, tx.device.as_deref()) else {
            return Err(restart());
        };
        let now = self.broker.now();
        let device = self
            .broker
            .store
            .device(key)
            .await?
            .ok_or_else(device_gone)?;
        let DeviceStatus::SignedIn(grant) = &device.value.status else {
            return Err(device_gone());
        };
        if device.value.expires_at <= now {
            return Err(device_gone());
        }
        let mut next = device.value.clone();
        next.status = if approve {
            DeviceStatus::Approved(grant.clone())
        } else {
            DeviceStatus::Denied
        };
        if !self
            .broker
            .store
            .swap_device(key, &device.bytes, &next, now)
            .await?
        {
            // Only polling changes a signed-in record besides us; read again once.
            let again = self
                .broker
                .store
                .device(key)
                .await?
                .ok_or_else(device_gone)?;
            if !matches!(again.value.status, DeviceStatus::SignedIn(_)) {
                return Err(device_gone());
            }
            let mut retry = again.value.clone();
            retry.status = next.status.clone();
            if !self
                .broker
                .store
                .swap_device(key, &again.bytes, &retry, now)
                .await?
            {
                return Err(ServiceError::Store(crate::store::StoreError::Contended));
            }
        }
        self.broker.store.delete_login_tx(&tx.id).await?;
        let mut ev = AuditRecord::success("device.decision", now)
            .user(&grant.user_id)
            .client(&device.value.client_id)
            .request(ctx.ip.as_deref(), ctx.user_agent.as_deref());
        if !approve {
            ev = ev.because("denied_by_user");
        }
        ev.identifier = tx.identifier.clone();
        ev.organization = grant.auth.organization.clone();
        ev.upstream = grant.auth.idp.clone();
        self.broker.audit.record(ev);
        Ok(approve)
    }

    /// `/token` with `urn:ietf:params:oauth:grant-type:device_code` (RFC 8628 §3.4, §3.5).
    pub(crate) async fn device_code_grant(
        &self,
        client: &Client,
        p: &TokenParams,
    ) -> Result<TokenResponse, ServiceError> {
        let code = p
            .device_code
            .as_deref()
            .filter(|c| !c.is_empty() && c.len() <= 128)
            .ok_or_else(|| OpError::invalid_request("device_code is missing"))?;
        let key = digest(code);
        let now = self.broker.now();
        let bad = || ServiceError::Op(OpError::invalid_grant("the device code is invalid"));
        let device = self.broker.store.device(&key).await?.ok_or_else(bad)?;
        if device.value.client_id != client.id {
            return Err(
                OpError::invalid_grant("the device code was issued to another client").into(),
            );
        }
        if device.value.expires_at <= now {
            return Err(
                OpError::new(ErrorCode::ExpiredToken, "the device code has expired").into(),
            );
        }
        match &device.value.status {
            DeviceStatus::Denied => Err(OpError::new(
                ErrorCode::AccessDenied,
                "the user denied the authorization request",
            )
            .into()),
            DeviceStatus::Approved(grant) => {
                // The audience follows from the approved scopes (RFC 8707 §2: an API's scope
                // names its API); `resource` may name that API, no other (§2.2). Checked
                // before the approval is taken, so a refusal consumes nothing.
                let api =
                    resource::target(&self.broker.policy(), client, &device.value.scope, None)?;
                let audience = api.map(|a| a.identifier.clone());
                resource::within_grant(audience.as_deref(), resource::single(&p.resource)?)?;
                // Single use: of two polls racing for one approval, one gets the tokens.
                if !self.broker.store.take_device(&key, &device).await? {
                    return Err(bad());
                }
                self.issue_device_tokens(client, &device.value.scope, audience.as_deref(), grant)
                    .await
            }
            DeviceStatus::Pending | DeviceStatus::SignedIn(_) => {
                // §3.5: polling faster than `interval` is answered slow_down, and the
                // interval grows by 5 seconds "for this and all subsequent requests".
                let too_fast = device
                    .value
                    .last_poll
                    .is_some_and(|last| now < last + device.value.interval);
                let mut next = device.value.clone();
                next.last_poll = Some(now);
                if too_fast {
                    next.interval += SLOW_DOWN_STEP_SECS;
                }
                // Losing the swap means another poll of the same code just landed: too fast.
                let swapped = self
                    .broker
                    .store
                    .swap_device(&key, &device.bytes, &next, now)
                    .await?;
                if too_fast || !swapped {
                    return Err(OpError::new(
                        ErrorCode::SlowDown,
                        format!("poll at most every {} seconds", next.interval),
                    )
                    .into());
                }
                Err(OpError::new(
                    ErrorCode::AuthorizationPending,
                    "the user has not yet approved this device",
                )
                .into())
            }
        }
    }

    async fn issue_device_tokens(
        &self,
        client: &Client,
        scopes: &[String],
        audience: Option<&str>,
        grant: &DeviceGrant,
    ) -> Result<TokenResponse, ServiceError> {
        let user = self
            .broker
            .tokens()
            .usable_user(&grant.user_id, grant.auth.auth_time)
            .await?;
        let ctx = AuthContext {
            auth: grant.auth.clone(),
            session_id: None,
        };
        let access = self.broker.access_ticket();
        let tokens = UserGrant {
            client_id: &client.id,
            resource: audience,
            user: &user,
            scopes,
            nonce: None,
            ctx: &ctx,
            access: &access,
        };
        let refresh = if client.allows_grant(GrantType::RefreshToken) {
            Some(
                self.broker
                    .new_refresh_family(&random_id(), &tokens)
                    .await?,
            )
        } else {
            None
        };
        let mut ev = AuditRecord::success("token.device", self.broker.now())
            .user(&user.id)
            .client(&client.id);
        ev.organization = user.organization.clone();
        self.broker.audit.record(ev);
        self.broker.mint_user_tokens(&tokens, refresh).await
    }
}

fn device_gone() -> ServiceError {
    ServiceError::Restart("device-gone".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_use_the_alphabet_and_read_back() {
        for _ in 0..200 {
            let code = new_user_code();
            assert_eq!(code.len(), USER_CODE_LEN);
            assert!(code.bytes().all(|b| USER_CODE_ALPHABET.contains(&b)));
            let shown = display_user_code(&code);
            assert_eq!(shown.len(), USER_CODE_LEN + 1);
            assert_eq!(normalize_user_code(&shown).as_deref(), Some(code.as_str()));
            assert_eq!(
                normalize_user_code(&shown.to_lowercase()).as_deref(),
                Some(code.as_str())
            );
        }
        assert_eq!(
            normalize_user_code("BCDF GHJK").as_deref(),
            Some("BCDFGHJK")
        );
        for bad in [
            "",
            "BCDF-GHJ",
            "BCDF-GHJKL",
            "ABCD-EFGH",
            "BCDF-GHJ0",
            "BCDF-GHJ!",
        ] {
            assert_eq!(normalize_user_code(bad), None, "{bad}");
        }
    }
}
