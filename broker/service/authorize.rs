//! `/authorize`: validate, then answer from the browser's session or start a login.

use url::Url;

use super::{ServiceError, SignIn};
use crate::op::authorize::{self, AuthorizeError, AuthorizeParams};
use crate::op::session::{self, SessionUse};
use crate::op::{ErrorCode, OpError};
use crate::secret::{digest, random_handle};
use crate::store::{AuthRequest, LoginStage, LoginTx, Session, User};

/// What the browser brought: its cookies and where it comes from.
#[derive(Debug, Clone, Default)]
pub struct BrowserContext {
    /// The browser-binding cookie's value (ties a login to this browser).
    pub browser: Option<String>,
    /// The session cookie's value.
    pub session: Option<String>,
    /// The device cookie's value: set by a successful password sign-in (see
    /// [`super::login::DEVICE_COOKIE_TTL`]).
    pub device: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// Where an authorization request goes next.
#[derive(Debug)]
pub enum AuthorizeOutcome {
    /// Back to the client: with a code, or with an error.
    Redirect(Url),
    /// To the login page for transaction `tx`. `new_browser` is a browser-binding value to
    /// set as a cookie when the browser had none.
    Login {
        tx: String,
        new_browser: Option<String>,
    },
    /// An error page: the request cannot be answered to the client (RFC 6749 §4.1.2.1).
    Page(&'static str),
}

/// The parts of an authorization request a code is issued for: what the code is bound to,
/// and the `state` that goes back to the client with it (RFC 6749 §4.1.2).
#[derive(Debug, Clone)]
pub struct CodeRequest {
    pub request: AuthRequest,
    pub state: Option<String>,
}

/// The refusal of a rate-limited authorization request (RFC 6749 §4.1.2.1).
fn too_many(retry_after: u64) -> OpError {
    OpError::new(
        ErrorCode::TemporarilyUnavailable,
        format!("too many sign-in requests from this network; retry in {retry_after} seconds"),
    )
}

impl SignIn<'_> {
    pub async fn authorize(
        &self,
        params: &AuthorizeParams,
        ctx: &BrowserContext,
    ) -> Result<AuthorizeOutcome, ServiceError> {
        let policy = self.broker.policy();
        let now = self.broker.now();
        let req = match authorize::validate(&policy, params) {
            Ok(r) => r,
            Err(AuthorizeError::Page(msg)) => return Ok(AuthorizeOutcome::Page(msg)),
            Err(AuthorizeError::Redirect {
                redirect_uri,
                state,
                error,
            }) => {
                return Ok(AuthorizeOutcome::Redirect(self.error_redirect(
                    &redirect_uri,
                    state.as_deref(),
                    &error,
                )));
            }
        };
        // Per-IP limits, once the request is known to be answerable by redirect: every
        // request counts towards `authorize_per_ip`, and every login transaction it would
        // store towards `login_tx_per_ip` (below). RFC 6749 §4.1.2.1: `temporarily_unavailable`.
        let limits = policy.rate_limits;
        if self
            .broker
            .ip_hit_over(
                "authz-ip",
                ctx.ip.as_deref(),
                limits.authorize_per_ip,
                limits.window,
            )
            .await?
        {
            metrics::counter!("idbroker_rate_limited_total", "limit" => "authorize").increment(1);
            return Ok(AuthorizeOutcome::Redirect(self.error_redirect(
                &req.redirect_uri,
                req.state.as_deref(),
                &too_many(limits.window.as_secs()),
            )));
        }
        let live = self.live_session(ctx.session.as_deref()).await?;
        let code_req = CodeRequest {
            request: AuthRequest {
                client_id: req.client.id.clone(),
                redirect_uri: req.redirect_uri.to_string(),
                scope: req.scope.clone(),
                nonce: req.nonce.clone(),
                code_challenge: req.code_challenge.clone(),
                resource: req.resource.clone(),
                acr_values: req.acr_values.clone(),
            },
            state: req.state.clone(),
        };
        match session::decide(live.as_ref().map(|(s, _)| s), req.prompt, req.max_age, now) {
            SessionUse::Reuse => {
                if let Some((session, user)) = live {
                    let url = self
                        .broker
                        .code_redirect(&code_req, &session, &user)
                        .await?;
                    return Ok(AuthorizeOutcome::Redirect(url));
                }
                Err(ServiceError::Restart("error-session-ended".into()))
            }
            SessionUse::LoginRequired => Ok(AuthorizeOutcome::Redirect(self.error_redirect(
                &req.redirect_uri,
                req.state.as_deref(),
                &OpError::new(ErrorCode::LoginRequired, "the user is not signed in"),
            ))),
            SessionUse::Login => {
                // The live transactions of one address: at most `login_tx_per_ip` started
                // per login lifetime, so at most twice that many alive at any moment.
                if self
                    .broker
                    .ip_hit_over(
                        "login-tx-ip",
                        ctx.ip.as_deref(),
                        limits.login_tx_per_ip,
                        policy.lifetimes.login,
                    )
                    .await?
                {
                    metrics::counter!("idbroker_rate_limited_total", "limit" => "login_tx")
                        .increment(1);
                    return Ok(AuthorizeOutcome::Redirect(self.error_redirect(
                        &req.redirect_uri,
                        req.state.as_deref(),
                        &too_many(policy.lifetimes.login.as_secs()),
                    )));
                }
                let (browser, new_browser) = match ctx.browser.as_deref() {
                    Some(b) if !b.is_empty() && b.len() <= 128 => (b.to_owned(), None),
                    _ => {
                        let b = random_handle();
                        (b.clone(), Some(b))
                    }
                };
                let tx = LoginTx {
                    id: random_handle(),
                    request: code_req.request,
                    state: code_req.state,
                    response_mode: None,
                    max_age: req.max_age,
                    login_hint: req.login_hint,
                    ui_locales: req.ui_locales,
                    domain_hint: req.domain_hint,
                    browser: digest(&browser),
                    csrf: random_handle(),
                    stage: LoginStage::Identifier,
                    identifier: None,
                    upstream: None,
                    device: None,
                    mfa: None,
                    created_at: now,
                    expires_at: now + policy.lifetimes.login.as_secs(),
                };
                self.broker.store.put_login_tx(&tx, now).await?;
                Ok(AuthorizeOutcome::Login {
                    tx: tx.id,
                    new_browser,
                })
            }
        }
    }

    /// The session behind a session cookie, with its user, if both are still good.
    pub async fn live_session(
        &self,
        cookie: Option<&str>,
    ) -> Result<Option<(Session, User)>, ServiceError> {
        let Some(handle) = cookie.filter(|c| !c.is_empty() && c.len() <= 128) else {
            return Ok(None);
        };
        let Some(session) = self.broker.store.session(&digest(handle)).await? else {
            return Ok(None);
        };
        let Some(user) = self.broker.store.user_by_id(&session.user_id).await? else {
            return Ok(None);
        };
        if !session::is_live(&session, &user, self.broker.now()) {
            return Ok(None);
        }
        Ok(Some((session, user)))
    }

    /// `redirect_uri?error=…&error_description=…&state=…&iss=…` (RFC 6749 §4.1.2.1,
    /// RFC 9207 §2 for `iss`).
    pub fn error_redirect(&self, redirect_uri: &Url, state: Option<&str>, error: &OpError) -> Url {
        let mut url = redirect_uri.clone();
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("error", error.code.as_str());
            q.append_pair("error_description", &error.description);
            if let Some(s) = state {
                q.append_pair("state", s);
            }
            q.append_pair("iss", self.broker.policy().issuer.as_str());
        }
        url
    }
}
