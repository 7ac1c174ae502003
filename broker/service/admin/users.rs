//! The directory's users: listing directory users with their effective sign-in
//! method (home realm discovery's own answer, [`crate::hrd::decide`]), the per-user SSO
//! switch, setting a password or sending a one-time password-set link, disabling, revoking
//! sessions and refresh tokens.

use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret as _, SecretString};
use serde::Serialize;

use super::{Admin, AdminCtx, AdminError};
use crate::clock::UnixTime;
use crate::hrd::{self, LoginMethod};
use crate::i18n::Msg;
use crate::policy::Policy;
use crate::secret::digest;
pub use crate::service::password_link::PASSWORD_SET_PATH;
use crate::service::password_link::{ONCE_PASSWORD, PasswordLinkState};
use crate::store::{AuditRecord, UpstreamLink, User, UserConflict, UserSource};

/// Default and longest lifetime of a password-set link.
pub const PASSWORD_LINK_TTL: Duration = Duration::from_secs(24 * 3600);

pub const PASSWORD_LINK_MAX_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// NIST SP 800-63B §5.1.1.2: at least 8 characters; we allow up to 1024.
pub const PASSWORD_MIN_CHARS: usize = 8;

pub const PASSWORD_MAX_CHARS: usize = 1024;

/// A directory user as the admin API shows it (never the password hash).
#[derive(Debug, Serialize)]
pub struct UserView {
    pub id: String,
    pub email: String,
    pub name: String,
    pub organization: Option<String>,
    pub source: UserSource,
    pub disabled: bool,
    /// The per-user SSO switch (counts when the organisation's `sso` is `per_user`).
    pub sso: bool,
    pub link: Option<UpstreamLink>,
    pub has_password: bool,
    /// What the login page does for this user now: `password`, `sso` or `none`.
    pub sign_in_method: &'static str,
    /// The upstream the user is sent to when `sign_in_method` is `sso`.
    pub sso_upstream: Option<String>,
    /// Whether the login page takes a password from this user: always for `password`,
    /// and for `sso` when the organisation sets `password_fallback` and a password is set.
    pub password_allowed: bool,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
}

/// What a revocation ended.
#[derive(Debug, Serialize)]
pub struct Revoked {
    pub sessions: usize,
    pub refresh_token_families: usize,
}

/// A password-set link for the admin to hand over.
#[derive(Debug, Serialize)]
pub struct PasswordLink {
    pub url: String,
    pub expires_at: UnixTime,
}

pub fn user_view(policy: &Policy, user: &User) -> UserView {
    let (method, upstream, password_allowed) = match hrd::decide(policy, &user.email, Some(user)) {
        LoginMethod::Password => ("password", None, true),
        LoginMethod::NoMethod => ("none", None, false),
        LoginMethod::Passkey => ("passkey", None, true),
        LoginMethod::Upstream(route) => (
            "sso",
            Some(route.upstream.id.clone()),
            route.password_allowed,
        ),
    };
    UserView {
        id: user.id.clone(),
        email: user.email.clone(),
        name: user.name.clone(),
        organization: user.organization.clone(),
        source: user.source,
        disabled: user.disabled,
        sso: user.sso,
        link: user.link.clone(),
        has_password: user.password_hash.is_some(),
        sign_in_method: method,
        sso_upstream: upstream,
        password_allowed,
        created_at: user.created_at,
        updated_at: user.updated_at,
    }
}

impl<'a> Admin<'a> {
    /// `{id}` of the admin API: a broker user id, or a sign-in email (normalised).
    pub async fn resolve_user(&self, id: &str) -> Result<User, AdminError> {
        let not_found = || AdminError::NotFound("no such user".into());
        if id.is_empty() || id.len() > 320 {
            return Err(not_found());
        }
        if let Some(user) = self.broker.store.user_by_id(id).await? {
            return Ok(user);
        }
        let email = hrd::normalize(id);
        match self.broker.store.user_by_email(&email).await? {
            Some(user) => Ok(Arc::unwrap_or_clone(user)),
            None => Err(not_found()),
        }
    }

    pub async fn users(
        &self,
        organization: Option<&str>,
        ctx: &AdminCtx,
    ) -> Result<Vec<UserView>, AdminError> {
        let mut record = self.event("admin.users.list", ctx);
        record.organization = organization.map(str::to_owned);
        let policy = self.broker.policy();
        let result = async {
            if let Some(org) = organization
                && !policy.org_by_id.contains_key(org)
            {
                return Err(AdminError::NotFound(format!("no organization {org}")));
            }
            Ok(self
                .broker
                .store
                .list_users()
                .await?
                .iter()
                .filter(|u| organization.is_none_or(|o| u.organization.as_deref() == Some(o)))
                .map(|u| user_view(&policy, u))
                .collect())
        }
        .await;
        self.audited(record, result)
    }

    pub async fn user(&self, id: &str, ctx: &AdminCtx) -> Result<UserView, AdminError> {
        let record = self.event("admin.user.get", ctx);
        self.user_action(record, id, |_, user| async move { Ok(user) })
            .await
    }

    /// The per-user SSO switch. Sessions already open run on (SPEC step 5).
    pub async fn set_sso(
        &self,
        id: &str,
        enabled: bool,
        ctx: &AdminCtx,
    ) -> Result<UserView, AdminError> {
        let record =
            self.event("admin.user.sso", ctx)
                .detail(if enabled { "enabled" } else { "disabled" });
        self.user_action(record, id, |admin, user| async move {
            let now = admin.broker.now();
            admin
                .change_user(&user.id, |u| {
                    u.sso = enabled;
                    u.updated_at = now;
                })
                .await
        })
        .await
    }

    pub async fn set_password(
        &self,
        id: &str,
        password: SecretString,
        ctx: &AdminCtx,
    ) -> Result<UserView, AdminError> {
        let record = self.event("admin.user.password", ctx);
        self.user_action(record, id, |admin, user| async move {
            check_password(password.expose_secret())?;
            let hash = admin.broker.passwords.hash(password).await?;
            let now = admin.broker.now();
            admin
                .change_user(&user.id, |u| {
                    u.password_hash = Some(hash.clone());
                    u.updated_at = now;
                })
                .await
        })
        .await
    }

    /// A one-time link to `/password/set` that expires after `ttl` (default one day).
    pub async fn password_link(
        &self,
        id: &str,
        ttl: Option<u64>,
        ctx: &AdminCtx,
    ) -> Result<PasswordLink, AdminError> {
        let mut record = self.event("admin.user.password_link", ctx);
        let result = async {
            let user = self.resolve_user(id).await?;
            record.name_user(&user);
            let ttl = match ttl {
                None => PASSWORD_LINK_TTL,
                Some(s) if (60..=PASSWORD_LINK_MAX_TTL.as_secs()).contains(&s) => {
                    Duration::from_secs(s)
                }
                Some(_) => {
                    return Err(AdminError::BadRequest(format!(
                        "expires_in must be between 60 and {} seconds",
                        PASSWORD_LINK_MAX_TTL.as_secs()
                    )));
                }
            };
            let (url, expires_at) = self
                .broker
                .issue_password_link(&user.id, ttl, false)
                .await?;
            Ok(PasswordLink { url, expires_at })
        }
        .await;
        self.audited(record, result)
    }

    /// The email a password-set link is for, if it is still usable (the page's GET).
    pub async fn password_link_email(&self, token: &str) -> Result<String, AdminError> {
        let gone = || AdminError::Refused(Msg::new("password-link-gone"));
        if token.is_empty() || token.len() > 128 {
            return Err(gone());
        }
        let state: PasswordLinkState = self
            .broker
            .store
            .peek_once(ONCE_PASSWORD, &digest(token))
            .await?
            .filter(|s: &PasswordLinkState| s.expires_at > self.broker.now())
            .ok_or_else(gone)?;
        let user = self
            .broker
            .store
            .user_by_id(&state.user_id)
            .await?
            .ok_or_else(gone)?;
        Ok(user.email)
    }

    /// Uses a password-set link: once, before it expires. Ends every session and refresh
    /// token of the user.
    pub async fn password_link_set(
        &self,
        token: &str,
        password: SecretString,
        confirm: SecretString,
    ) -> Result<(), AdminError> {
        let mut record = AuditRecord::success("user.password.set_by_link", self.broker.now());
        let result = async {
            let gone = || AdminError::Refused(Msg::new("password-link-gone"));
            if token.is_empty() || token.len() > 128 {
                return Err(gone());
            }
            // Check the form before spending the link.
            check_password(password.expose_secret())?;
            if !crate::secret::ct_eq(
                password.expose_secret().as_bytes(),
                confirm.expose_secret().as_bytes(),
            ) {
                return Err(AdminError::Refused(Msg::new("password-differ")));
            }
            // Hash before spending the link, so that a busy hashing queue (or a failure)
            // leaves it usable; but only for a link that exists, so an invalid token costs
            // no Argon2 work.
            let usable = |s: &PasswordLinkState| s.expires_at > self.broker.now();
            self.broker
                .store
                .peek_once(ONCE_PASSWORD, &digest(token))
                .await?
                .filter(usable)
                .ok_or_else(gone)?;
            let hash = self.broker.passwords.hash(password).await?;
            let state: PasswordLinkState = self
                .broker
                .store
                .take_once(ONCE_PASSWORD, &digest(token))
                .await?
                .ok_or_else(gone)?;
            record.user_id = Some(state.user_id.clone());
            if !usable(&state) {
                return Err(gone());
            }
            if state.reset {
                record.event = "user.password.reset".into();
            }
            let now = self.broker.now();
            let user = self
                .change_user(&state.user_id, |u| {
                    u.password_hash = Some(hash.clone());
                    u.updated_at = now;
                })
                .await?;
            record.name_user(&user);
            // A new password ends what the old one opened: whoever knew it (or holds one of
            // its sessions) is out. OWASP Forgot Password Cheat Sheet: "invalidate existing
            // sessions". The link's user has no session in this browser to keep.
            let revoked = self.revoke_user_counted(&user.id).await?;
            record.detail = Some(format!(
                "{} sessions, {} refresh token families ended",
                revoked.sessions, revoked.refresh_token_families
            ));
            Ok(())
        }
        .await;
        self.audited(record, result)
    }

    /// Disables a user and ends what they hold (sessions, refresh tokens, access tokens).
    pub async fn disable(
        &self,
        id: &str,
        disabled: bool,
        ctx: &AdminCtx,
    ) -> Result<UserView, AdminError> {
        let event = if disabled {
            "admin.user.disable"
        } else {
            "admin.user.enable"
        };
        let record = self.event(event, ctx);
        self.user_action(record, id, |admin, user| async move {
            let now = admin.broker.now();
            let user = admin
                .change_user(&user.id, |u| {
                    u.disabled = disabled;
                    u.updated_at = now;
                })
                .await?;
            if disabled {
                admin.revoke_user_counted(&user.id).await?;
            }
            Ok(user)
        })
        .await
    }

    /// Ends every session and refresh-token family of the user; access tokens issued until
    /// now stop being honoured at `/userinfo` and `/introspect`.
    pub async fn revoke(&self, id: &str, ctx: &AdminCtx) -> Result<Revoked, AdminError> {
        let mut record = self.event("admin.user.revoke", ctx);
        let result = async {
            let user = self.resolve_user(id).await?;
            record.name_user(&user);
            let revoked = self.revoke_user_counted(&user.id).await?;
            record.detail = Some(format!(
                "{} sessions, {} refresh token families",
                revoked.sessions, revoked.refresh_token_families
            ));
            Ok(revoked)
        }
        .await;
        self.audited(record, result)
    }

    /// Like [`SignIn::revoke_user`](crate::service::SignIn::revoke_user), counting what was ended.
    pub(crate) async fn revoke_user_counted(&self, user_id: &str) -> Result<Revoked, AdminError> {
        let now = self.broker.now();
        // Everything issued up to the end of this second is covered (`iat` has seconds).
        self.change_user(user_id, |u| u.tokens_valid_after = now + 1)
            .await?;
        let sessions = self.broker.store.delete_sessions_of_user(user_id).await?;
        let refresh_token_families = self
            .broker
            .store
            .revoke_refresh_families_of_user(user_id, now)
            .await?;
        Ok(Revoked {
            sessions,
            refresh_token_families,
        })
    }

    /// Resolves `id`, runs `action`, audits with the user named, answers the user's view.
    async fn user_action<F, Fut>(
        self,
        mut record: AuditRecord,
        id: &str,
        action: F,
    ) -> Result<UserView, AdminError>
    where
        F: FnOnce(Admin<'a>, User) -> Fut,
        Fut: Future<Output = Result<User, AdminError>> + 'a,
    {
        let result = async {
            let user = self.resolve_user(id).await?;
            record.name_user(&user);
            let user = action(self, user).await?;
            Ok(user_view(&self.broker.policy(), &user))
        }
        .await;
        self.audited(record, result)
    }

    async fn change_user(
        &self,
        id: &str,
        change: impl FnMut(&mut User),
    ) -> Result<User, AdminError> {
        self.broker
            .store
            .update_user(id, change)
            .await?
            .map_err(|e| match e {
                UserConflict::NotFound => AdminError::NotFound("no such user".into()),
                other => AdminError::Conflict(other.to_string()),
            })
    }
}

fn check_password(p: &str) -> Result<(), AdminError> {
    let n = p.chars().count();
    if n < PASSWORD_MIN_CHARS {
        return Err(AdminError::Refused(
            Msg::new("password-too-short").arg("min", PASSWORD_MIN_CHARS.to_string()),
        ));
    }
    // The login page refuses more than 1024 bytes before hashing; a password set here must
    // be usable there, so the cap is in bytes too.
    if n > PASSWORD_MAX_CHARS || p.len() > crate::service::login::MAX_PASSWORD {
        return Err(AdminError::Refused(
            Msg::new("password-too-long")
                .arg("max", crate::service::login::MAX_PASSWORD.to_string()),
        ));
    }
    Ok(())
}
