//! The built-in account page: a first-party client of the broker that shows who you are,
//! how you signed in, and your sessions, and lets you sign out.

use std::sync::Arc;

use super::logout::logout_csrf;
use super::token::TokenParams;
use super::{ServiceError, SignIn};
use crate::policy::{ACCOUNT_CLIENT_ID, Client};
use crate::secret::{ct_eq, digest};
use crate::store::{Session, User};

/// What the account page shows.
#[derive(Debug)]
pub struct AccountView {
    pub user: User,
    pub current: Session,
    /// Every live session of the user, with `true` for the current one.
    pub sessions: Vec<(Session, bool)>,
    pub csrf: String,
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
        Ok(Some(AccountView {
            user,
            current,
            sessions,
            csrf: logout_csrf(session_cookie.unwrap_or_default()),
        }))
    }

    /// Completes the account page's own sign-in: redeems the code like any client would
    /// (PKCE included), so the page goes through the same checks as an application.
    pub async fn account_callback(&self, code: &str, verifier: &str) -> Result<(), ServiceError> {
        let client = self
            .account_client()
            .ok_or_else(|| ServiceError::Restart("The account page is not available.".into()))?;
        let params = TokenParams {
            grant_type: Some("authorization_code".into()),
            code: Some(code.to_owned()),
            redirect_uri: client.redirect_uris.first().map(|u| u.to_string()),
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
            return Err(ServiceError::Restart(
                "The form expired; please try again.".into(),
            ));
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
