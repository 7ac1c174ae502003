//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0).

use url::Url;

use super::{ServiceError, SignIn};
use crate::op::claims::{IdTokenClaims, TYP_ID_TOKEN};
use crate::op::redirect_uri;
use crate::secret::{ct_eq, digest};

#[derive(Debug, Default, Clone)]
pub struct LogoutParams {
    pub id_token_hint: Option<String>,
    pub client_id: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
}

#[derive(Debug)]
pub enum LogoutOutcome {
    /// Ask the user first (a logout request without proof that it comes from the session's
    /// own application could be a cross-site forgery; RP-Initiated Logout §2 "SHOULD ask").
    Confirm {
        csrf: String,
        client_name: Option<String>,
    },
    /// Signed out: go to the client's registered URI, or show the signed-out page.
    Done { redirect: Option<Url> },
    /// The request cannot be honoured; redirect nowhere. A message id of the catalogs.
    Page(&'static str),
}

impl SignIn<'_> {
    /// `confirmed_csrf` is the token from the confirmation form, when it was sent.
    pub async fn logout(
        &self,
        p: &LogoutParams,
        session_cookie: Option<&str>,
        confirmed_csrf: Option<&str>,
    ) -> Result<LogoutOutcome, ServiceError> {
        let policy = self.broker.policy();
        let now = self.broker.now();
        // §2: the hint may have expired; its signature and issuer must still be ours.
        let hint: Option<IdTokenClaims> = match p.id_token_hint.as_deref() {
            None => None,
            Some(t) => match self
                .broker
                .keys
                .verify::<IdTokenClaims>(t, Some(TYP_ID_TOKEN), now)
            {
                Ok(c) if c.iss == policy.issuer.as_str() => Some(c),
                _ => {
                    return Ok(LogoutOutcome::Page("logout-bad-hint"));
                }
            },
        };
        let client_id = match (&hint, p.client_id.as_deref()) {
            (Some(h), Some(c)) if h.aud != c => {
                return Ok(LogoutOutcome::Page("logout-two-clients"));
            }
            (Some(h), _) => Some(h.aud.clone()),
            (None, c) => c.map(str::to_owned),
        };
        let client = client_id.as_deref().and_then(|c| policy.client(c)).cloned();
        let redirect = match (p.post_logout_redirect_uri.as_deref(), &client) {
            (None, _) => None,
            (Some(uri), Some(c)) => match redirect_uri::match_post_logout(c, uri) {
                Some(mut url) => {
                    if let Some(state) = &p.state {
                        url.query_pairs_mut().append_pair("state", state);
                    }
                    Some(url)
                }
                None => {
                    return Ok(LogoutOutcome::Page("error-unregistered-redirect"));
                }
            },
            (Some(_), None) => {
                return Ok(LogoutOutcome::Page("logout-no-client"));
            }
        };

        let live = self.live_session(session_cookie).await?;
        let Some((session, _user)) = live else {
            return Ok(LogoutOutcome::Done { redirect });
        };
        let csrf = logout_csrf(session_cookie.unwrap_or_default());
        let hint_matches = hint
            .as_ref()
            .is_some_and(|h| h.sub == session.user_id && h.sid.as_deref() == Some(&session.id));
        let confirmed = confirmed_csrf.is_some_and(|c| ct_eq(c.as_bytes(), csrf.as_bytes()));
        if !hint_matches && !confirmed {
            return Ok(LogoutOutcome::Confirm {
                csrf,
                // The account page's name is no subject for "… asks to sign you out".
                client_name: client
                    .filter(|c| c.id != crate::policy::ACCOUNT_CLIENT_ID)
                    .map(|c| c.name.clone()),
            });
        }
        self.end_session(session_cookie.unwrap_or_default()).await?;
        Ok(LogoutOutcome::Done { redirect })
    }

    /// Ends the session behind a cookie and revokes the refresh tokens issued from it.
    pub async fn end_session(&self, session_cookie: &str) -> Result<(), ServiceError> {
        let now = self.broker.now();
        if let Some(session) = self
            .broker
            .store
            .delete_session(&digest(session_cookie))
            .await?
        {
            for family in self
                .broker
                .store
                .refresh_families_of_user(&session.user_id, now)
                .await?
            {
                if family.session_id.as_deref() == Some(session.id.as_str()) {
                    self.broker
                        .store
                        .revoke_refresh_family(&family.id, now)
                        .await?;
                }
            }
        }
        Ok(())
    }
}

/// The CSRF token of forms that act on the current session: derived from the session cookie,
/// which a cross-site attacker cannot read.
pub fn logout_csrf(session_cookie: &str) -> String {
    digest(&format!("session-form:{session_cookie}"))
}
