//! The upstream leg of a login (single sign-on at Entra or another OIDC provider).

use super::authorize::BrowserContext;
use super::login::{LoginNext, Step};
use super::{Broker, ServiceError};
use crate::hrd::UpstreamRoute;
use crate::store::{LoginStage, LoginTx};

impl Broker {
    /// Sends the user to their upstream. Until upstream sign-in is built, the user gets the
    /// password step, which fails for them like for anyone without a password.
    pub(crate) async fn begin_upstream(
        &self,
        tx: &LoginTx,
        mut next: LoginTx,
        _route: UpstreamRoute<'_>,
        _ctx: &BrowserContext,
    ) -> Result<LoginNext, ServiceError> {
        next.stage = LoginStage::Password;
        if !self.store.swap_login_tx(tx, &next, self.now()).await? {
            return Err(ServiceError::Restart(super::login::MSG_RESTART.into()));
        }
        Ok(LoginNext::Show(self.view(&next, Step::Password, None)))
    }
}

impl Broker {
    /// The choice step's "Continue with …" button (`password_fallback: true`).
    pub async fn choose_upstream(
        &self,
        tx: &str,
        csrf: &str,
        ctx: &BrowserContext,
    ) -> Result<LoginNext, ServiceError> {
        let tx = self.load_tx(tx, ctx, Some(csrf)).await?;
        let identifier = tx
            .identifier
            .clone()
            .filter(|_| tx.stage == LoginStage::Upstream)
            .ok_or_else(|| ServiceError::Restart(super::login::MSG_RESTART.into()))?;
        let policy = self.policy();
        let user = self.store.user_by_email(&identifier).await?;
        match crate::hrd::decide(&policy, &identifier, user.as_deref()) {
            crate::hrd::LoginMethod::Upstream(route) => {
                let next = tx.clone();
                self.begin_upstream(&tx, next, route, ctx).await
            }
            _ => Ok(LoginNext::Show(self.view(&tx, Step::Password, None))),
        }
    }
}
