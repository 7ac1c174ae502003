//! Bearer access tokens: checking them (`/userinfo`) and what `/userinfo` returns
//! (OIDC Core §5.3).

use serde::Serialize;

use super::{ServiceError, Tokens};
use crate::op::claims::{AccessTokenClaims, TYP_ACCESS_TOKEN};
use crate::op::{ErrorCode, OpError, groups, scope};
use crate::store::User;

#[derive(Debug, Serialize)]
pub struct UserInfo {
    pub sub: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zoneinfo: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub picture: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    /// Every group, whatever the client's token limit (see [`crate::op::groups`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
}

impl Tokens<'_> {
    /// Checks one of our access tokens: signature, `typ: at+jwt`, issuer, expiry, not
    /// revoked. Returns its claims.
    pub async fn check_access_token(&self, token: &str) -> Result<AccessTokenClaims, ServiceError> {
        let invalid = || {
            ServiceError::Op(OpError::new(
                ErrorCode::InvalidToken,
                "the access token is invalid",
            ))
        };
        let now = self.broker.now();
        let policy = self.broker.policy();
        let issuer = policy.issuer.as_str();
        // The key set in force: read before verifying, so a reload in between makes the
        // entry stale rather than wrong.
        let keys = self.broker.keys.jwks_json();
        let claims = match self.broker.verified.get(token, &keys) {
            Some(claims) => claims,
            None => {
                let claims: AccessTokenClaims = self
                    .broker
                    .keys
                    .verify(token, Some(TYP_ACCESS_TOKEN), now)
                    .map_err(|_| invalid())?;
                if claims.iss == issuer && claims.exp > now {
                    self.broker.verified.insert(token, &claims, keys);
                }
                claims
            }
        };
        if claims.iss != issuer || claims.exp <= now {
            return Err(invalid());
        }
        if self
            .broker
            .store
            .is_access_token_denied(&claims.jti)
            .await?
        {
            return Err(invalid());
        }
        Ok(claims)
    }

    /// The user behind an access token, if it is a user token and they are still active.
    pub async fn token_user(
        &self,
        claims: &AccessTokenClaims,
    ) -> Result<Option<User>, ServiceError> {
        if claims.sub == claims.client_id && claims.auth_time.is_none() {
            return Ok(None);
        }
        Ok(self
            .broker
            .store
            .user_by_id(&claims.sub)
            .await?
            .filter(|u| !u.disabled && claims.iat >= u.tokens_valid_after))
    }

    pub async fn userinfo(&self, token: &str) -> Result<UserInfo, ServiceError> {
        let claims = self.check_access_token(token).await?;
        let scopes = scope::parse(Some(&claims.scope));
        // OIDC Core §5.3: userinfo needs an access token for the openid scope.
        if !scope::has(&scopes, "openid") {
            return Err(
                OpError::new(ErrorCode::InvalidToken, "the token lacks the openid scope").into(),
            );
        }
        let user = self
            .token_user(&claims)
            .await?
            .ok_or_else(|| OpError::new(ErrorCode::InvalidToken, "the access token is invalid"))?;
        let email = scope::has(&scopes, "email");
        let profile = scope::has(&scopes, "profile");
        let group_claims = self
            .broker
            .group_claims(&claims.client_id, &user, &scopes, groups::Carrier::UserInfo)
            .await?;
        let p = &user.profile;
        Ok(UserInfo {
            groups: group_claims.groups,
            roles: group_claims.roles,
            given_name: profile.then(|| p.given_name.clone()).flatten(),
            family_name: profile.then(|| p.family_name.clone()).flatten(),
            preferred_username: profile.then(|| crate::op::claims::preferred_username(&user)),
            locale: profile.then(|| p.locale.clone()).flatten(),
            zoneinfo: profile.then(|| p.zoneinfo.clone()).flatten(),
            picture: profile.then(|| p.picture.clone()).flatten(),
            updated_at: profile.then_some(user.updated_at),
            sub: user.id,
            email: email.then_some(user.email),
            email_verified: email.then_some(user.email_verified),
            name: profile.then_some(user.name),
            org: profile.then_some(user.organization).flatten(),
        })
    }
}
