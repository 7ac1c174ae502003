//! The built-in account page: a first-party client of the broker that shows who you are,
//! how you signed in, and your sessions, and lets you sign out.

use std::sync::Arc;

use super::logout::logout_csrf;
use super::token::TokenParams;
use super::{ServiceError, SignIn};
use crate::op::pkce;
use crate::policy::{ACCOUNT_CLIENT_ID, Client};
use crate::secret::{ct_eq, digest, random_handle};
use crate::store::{Session, User};

/// How long the account page's sign-in may take, from the redirect to `/authorize` to the
/// callback (the life of the cookie that carries [`AccountSignIn::flow`]).
pub const ACCOUNT_SIGN_IN_SECS: u64 = 900;

/// The start of the account page's own sign-in.
#[derive(Debug)]
pub struct AccountSignIn {
    /// Where to send the browser: `/authorize?…`, relative, so the browser stays on the
    /// origin it used (a proxy may front the issuer).
    pub location: String,
    /// What the browser keeps until the callback (`state` and the PKCE verifier), opaque to
    /// the caller: given back to [`SignIn::first_party_callback`].
    pub flow: String,
}

/// The first-party pages that sign in through the broker as the account client: where the
/// callback is, and so where the browser lands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Landing {
    /// `/account`.
    Account,
    /// `/admin`, the admin console.
    Admin,
}

impl Landing {
    /// The callback path, one of the account client's redirect URIs.
    pub fn callback(self) -> &'static str {
        match self {
            Landing::Account => "/account/callback",
            Landing::Admin => "/admin/callback",
        }
    }
}

/// Where a fresh first-party sign-in comes back to (see [`SignIn::fresh_sign_in`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    /// `/account/mfa/totp`: setting up one-time codes.
    TotpSetup,
    /// `/account`, where the removal of one-time codes was asked.
    Account,
}

impl After {
    fn as_str(self) -> &'static str {
        match self {
            After::TotpSetup => "totp",
            After::Account => "account",
        }
    }

    fn parse(s: &str) -> Option<After> {
        match s {
            "totp" => Some(After::TotpSetup),
            "account" => Some(After::Account),
            _ => None,
        }
    }

    /// The page's path.
    pub fn path(self) -> &'static str {
        match self {
            After::TotpSetup => "/account/mfa/totp",
            After::Account => "/account",
        }
    }
}

/// Shown when the account page's sign-in cannot be completed and must start again.
const MSG_SIGN_IN_EXPIRED: &str = "account-sign-in-expired";

/// What the account page shows.
#[derive(Debug)]
pub struct AccountView {
    pub user: User,
    pub current: Session,
    /// Every live session of the user, with `true` for the current one.
    pub sessions: Vec<(Session, bool)>,
    pub csrf: String,
    /// The passkeys section (`passkeys.rs`).
    pub passkeys: super::passkeys::AccountPasskeys,
    /// When the user set up one-time codes, if they have.
    pub totp_enrolled_at: Option<crate::clock::UnixTime>,
}

impl SignIn<'_> {
    pub fn account_client(&self) -> Option<Arc<Client>> {
        self.broker.policy().client(ACCOUNT_CLIENT_ID).cloned()
    }

    /// The page for the browser's session, or `None` when it must sign in first.
    pub async fn account(
        &self,
        session_cookie: Option<&str>,
    ) -> Result<Option<AccountView>, ServiceError> {
        let Some((current, user)) = self.live_session(session_cookie).await? else {
            return Ok(None);
        };
        let sessions = self
            .broker
            .store
            .sessions_of_user(&user.id)
            .await?
            .into_iter()
            .filter(|(_, s)| s.expires_at > self.broker.now())
            .map(|(_, s)| {
                let is_current = s.id == current.id;
                (s, is_current)
            })
            .collect();
        let passkeys = self.account_passkeys(&user, &current).await?;
        let totp_enrolled_at = self
            .broker
            .store
            .totp_factor(&user.id)
            .await?
            .map(|f| f.created_at);
        Ok(Some(AccountView {
            passkeys,
            totp_enrolled_at,
            user,
            current,
            sessions,
            csrf: logout_csrf(session_cookie.unwrap_or_default()),
        }))
    }

    /// Starts the own sign-in of the account page or the admin console (`landing`), as any
    /// application would: an authorization request (RFC 6749 §4.1.1) with a fresh `state`
    /// (§10.12) and a PKCE S256 challenge (RFC 7636 §4.2, §4.3). Fails only when the issuer
    /// does not make a valid URL.
    pub fn first_party_sign_in(&self, landing: Landing) -> Result<AccountSignIn, url::ParseError> {
        self.first_party(landing, false, None)
    }

    /// [`SignIn::first_party_sign_in`] that asks for a fresh sign-in (OIDC Core §3.1.2.1
    /// `prompt=login`), for changes that need one (passkeys), landing on `landing`'s page.
    pub fn first_party_sign_in_again(
        &self,
        landing: Landing,
    ) -> Result<AccountSignIn, url::ParseError> {
        self.first_party(landing, true, None)
    }

    /// [`SignIn::first_party_sign_in`] that asks for a fresh sign-in (`prompt=login`, OIDC
    /// Core §3.1.2.1: the user authenticates again whatever their session) and comes back
    /// to `then` (the page that needed it) rather than `landing`'s page.
    pub fn fresh_sign_in(
        &self,
        landing: Landing,
        then: After,
    ) -> Result<AccountSignIn, url::ParseError> {
        self.first_party(landing, true, Some(then))
    }

    fn first_party(
        &self,
        landing: Landing,
        again: bool,
        then: Option<After>,
    ) -> Result<AccountSignIn, url::ParseError> {
        let policy = self.broker.policy();
        let state = random_handle();
        let verifier = random_handle();
        let mut url = url::Url::parse(&policy.issuer.join("/authorize"))?;
        url.query_pairs_mut()
            .append_pair("client_id", ACCOUNT_CLIENT_ID)
            .append_pair("redirect_uri", &policy.issuer.join(landing.callback()))
            .append_pair("response_type", "code")
            .append_pair("scope", "openid email profile")
            .append_pair("state", &state)
            .append_pair("code_challenge", &pkce::s256_challenge(&verifier))
            .append_pair("code_challenge_method", "S256");
        if again {
            url.query_pairs_mut().append_pair("prompt", "login");
        }
        let then = then.map_or(String::new(), |t| format!(".{}", t.as_str()));
        Ok(AccountSignIn {
            location: format!("/authorize?{}", url.query().unwrap_or_default()),
            // Neither contains a dot: both are base64url.
            flow: format!("{state}.{verifier}{then}"),
        })
    }

    /// Completes a first-party sign-in. `flow` is what [`SignIn::first_party_sign_in`] gave
    /// the browser, `state` and `code` what came back to `landing`'s callback. The `state`
    /// must be the one sent (RFC 6749 §10.12, compared in constant time); then the code is
    /// redeemed like any client would (PKCE included, RFC 7636 §4.5), so the page goes
    /// through the same checks as an application.
    pub async fn first_party_callback(
        &self,
        landing: Landing,
        flow: Option<&str>,
        state: Option<&str>,
        code: Option<&str>,
    ) -> Result<Option<After>, ServiceError> {
        let verifier = account_verifier(flow, state)?;
        let code = code.ok_or_else(sign_in_expired)?;
        let (verifier, then) = match verifier.split_once('.') {
            Some((v, then)) => (v, After::parse(then)),
            None => (verifier, None),
        };
        self.account_redeem(landing, code, verifier).await?;
        Ok(then)
    }

    /// Redeems the account page's code with its PKCE verifier.
    async fn account_redeem(
        &self,
        landing: Landing,
        code: &str,
        verifier: &str,
    ) -> Result<(), ServiceError> {
        let client = self
            .account_client()
            .ok_or_else(|| ServiceError::Restart("account-unavailable".into()))?;
        let params = TokenParams {
            grant_type: Some("authorization_code".into()),
            code: Some(code.to_owned()),
            redirect_uri: Some(self.broker.policy().issuer.join(landing.callback())),
            code_verifier: Some(verifier.to_owned()),
            refresh_token: None,
            scope: None,
            ..Default::default()
        };
        self.broker.tokens().token(client, &params).await?;
        Ok(())
    }

    /// Signs out this session, or every session of the user (`everywhere`).
    pub async fn account_sign_out(
        &self,
        session_cookie: &str,
        csrf: &str,
        everywhere: bool,
    ) -> Result<(), ServiceError> {
        if !ct_eq(csrf.as_bytes(), logout_csrf(session_cookie).as_bytes()) {
            return Err(ServiceError::Restart("error-form-expired".into()));
        }
        let Some(session) = self.broker.store.session(&digest(session_cookie)).await? else {
            return Ok(());
        };
        if everywhere {
            self.revoke_user(&session.user_id).await?;
        } else {
            self.end_session(session_cookie).await?;
        }
        Ok(())
    }

    /// Ends every session and refresh token of a user (admin revoke, sign out everywhere,
    /// deprovisioning).
    pub async fn revoke_user(&self, user_id: &str) -> Result<(), ServiceError> {
        let now = self.broker.now();
        self.broker.store.delete_sessions_of_user(user_id).await?;
        self.broker
            .store
            .revoke_refresh_families_of_user(user_id, now)
            .await?;
        // Access tokens are short-lived JWTs; this stops /userinfo and /introspect honouring
        // the ones already out.
        let _ = self
            .broker
            .store
            .update_user(user_id, |u| u.tokens_valid_after = now)
            .await?;
        Ok(())
    }
}

fn sign_in_expired() -> ServiceError {
    ServiceError::Restart(MSG_SIGN_IN_EXPIRED.into())
}

/// The PKCE verifier of the account page's sign-in, if `state` is the one `flow` was started
/// with (RFC 6749 §10.12; compared in constant time).
fn account_verifier<'a>(
    flow: Option<&'a str>,
    state: Option<&str>,
) -> Result<&'a str, ServiceError> {
    let (sent, verifier) = flow
        .and_then(|f| f.split_once('.'))
        .ok_or_else(sign_in_expired)?;
    if !ct_eq(sent.as_bytes(), state.unwrap_or_default().as_bytes()) {
        return Err(sign_in_expired());
    }
    Ok(verifier)
}

#[cfg(test)]
mod tests {
    use super::account_verifier;

    #[test]
    fn the_callback_needs_the_state_it_was_started_with() {
        let flow = Some("st4te.ver1fier");
        assert_eq!(account_verifier(flow, Some("st4te")).unwrap(), "ver1fier");
        for (flow, state) in [
            (flow, Some("other")),
            (flow, Some("st4t")),
            (flow, None),
            (None, Some("st4te")),
            (Some("no-dot"), Some("no-dot")),
        ] {
            assert!(account_verifier(flow, state).is_err(), "{flow:?} {state:?}");
        }
    }
}
