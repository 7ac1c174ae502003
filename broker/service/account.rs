//! The built-in account page: a first-party client of the broker that shows who you are,
//! how you signed in, and your sessions, and lets you sign out.

use std::sync::Arc;

use url::Url;

use super::logout::logout_csrf;
use super::token::TokenParams;
use super::{Broker, ServiceError};
use crate::policy::{Client, GrantType, Issuer};
use crate::secret::{ct_eq, digest};
use crate::store::{Session, User};

/// The account page's client id; reserved (a policy may not register it).
pub const ACCOUNT_CLIENT_ID: &str = "idbroker-account";

/// The account page's registration: a public client with PKCE, like any SPA or native app.
pub fn builtin_client(issuer: &Issuer) -> Client {
    let url = |p: &str| Url::parse(&issuer.join(p)).ok();
    Client {
        id: ACCOUNT_CLIENT_ID.into(),
        secret: None,
        jwks: None,
        redirect_uris: url("/account/callback").into_iter().collect(),
        post_logout_redirect_uris: url("/account").into_iter().collect(),
        grants: vec![GrantType::AuthorizationCode],
        scopes: vec!["openid".into(), "email".into(), "profile".into()],
        native: false,
        // Read mid-sentence on the login page: "to continue to your account".
        name: "your account".into(),
    }
}

/// What the account page shows.
#[derive(Debug)]
pub struct AccountView {
    pub user: User,
    pub current: Session,
    /// Every live session of the user, with `true` for the current one.
    pub sessions: Vec<(Session, bool)>,
    pub csrf: String,
}

impl Broker {
    pub fn account_client(&self) -> Option<Arc<Client>> {
        self.policy().client(ACCOUNT_CLIENT_ID).cloned()
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
            .store
            .sessions_of_user(&user.id)
            .await?
            .into_iter()
            .filter(|(_, s)| s.expires_at > self.now())
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
        self.token(client, &params).await?;
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
        let Some(session) = self.store.session(&digest(session_cookie)).await? else {
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
        let now = self.now();
        self.store.delete_sessions_of_user(user_id).await?;
        self.store
            .revoke_refresh_families_of_user(user_id, now)
            .await?;
        // Access tokens are short-lived JWTs; this stops /userinfo and /introspect honouring
        // the ones already out.
        let _ = self
            .store
            .update_user(user_id, |u| u.tokens_valid_after = now)
            .await?;
        Ok(())
    }
}
