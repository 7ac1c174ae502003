//! Token introspection (RFC 7662) and revocation (RFC 7009).

use std::sync::Arc;

use serde::Serialize;

use super::issue::split_refresh_token;
use super::{ServiceError, Tokens};
use crate::op::claims::AccessTokenClaims;
use crate::op::resource;
use crate::policy::{Api, Client};
use crate::secret::digest;
use crate::store::SecretMatch;

/// RFC 7662 §2.2. An inactive token is only `{"active": false}`.
#[derive(Debug, Serialize, Default)]
pub struct Introspection {
    pub active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
}

/// Who asks at `/introspect`, authenticated: a confidential client, or an API (a resource
/// server of the policy's `apis`).
#[derive(Debug, Clone)]
pub enum Introspector {
    Client(Arc<Client>),
    Api(Arc<Api>),
}

impl Tokens<'_> {
    /// RFC 7662 §2.1 for an authenticated introspector. A token is active for the client it
    /// was issued to, or (an access token) for its audience: the API it is addressed to. To
    /// anyone else it is `{"active": false}`, exactly as an unknown token (§2.2, §4: nobody
    /// learns about the tokens of others). A refresh token is its client's only: an API
    /// never sees one.
    pub async fn introspect(
        &self,
        who: &Introspector,
        token: &str,
    ) -> Result<Introspection, ServiceError> {
        match who {
            Introspector::Client(client) => {
                if let Some(i) = self.introspect_refresh(client, token).await? {
                    return Ok(i);
                }
            }
            Introspector::Api(_) => {
                if split_refresh_token(token).is_some() {
                    return Ok(Introspection::default());
                }
            }
        }
        let claims: AccessTokenClaims = match self.check_access_token(token).await {
            Ok(c) => c,
            Err(ServiceError::Op(_)) => return Ok(Introspection::default()),
            Err(e) => return Err(e),
        };
        let sees = match who {
            Introspector::Client(client) => claims.concerns(&client.id),
            Introspector::Api(api) => resource::api_sees(api, &claims.aud),
        };
        if !sees {
            return Ok(Introspection::default());
        }
        // A user token stays active only while its user does.
        let username = if claims.auth_time.is_some() {
            match self.token_user(&claims).await? {
                Some(u) => Some(u.email),
                None => return Ok(Introspection::default()),
            }
        } else {
            None
        };
        Ok(Introspection {
            active: true,
            scope: Some(claims.scope),
            client_id: Some(claims.client_id),
            username,
            token_type: Some("Bearer"),
            exp: Some(claims.exp),
            iat: Some(claims.iat),
            sub: Some(claims.sub),
            aud: Some(claims.aud),
            iss: Some(claims.iss),
            jti: Some(claims.jti),
        })
    }

    /// A refresh token is introspectable by its own client only, and active only with its
    /// family's current secret.
    async fn introspect_refresh(
        &self,
        client: &Client,
        token: &str,
    ) -> Result<Option<Introspection>, ServiceError> {
        let Some((family_id, secret)) = split_refresh_token(token) else {
            return Ok(None);
        };
        let Some(family) = self.broker.store.refresh_family(family_id).await? else {
            return Ok(Some(Introspection::default()));
        };
        let now = self.broker.now();
        let current = family.recognise(&digest(secret)) == SecretMatch::Current;
        if !current || family.client_id != client.id || family.revoked || family.expires_at <= now {
            return Ok(Some(Introspection::default()));
        }
        let user = self.broker.store.user_by_id(&family.user_id).await?;
        let user_ok = user
            .as_ref()
            .is_some_and(|u| !u.disabled && family.auth.auth_time >= u.tokens_valid_after);
        if !user_ok {
            return Ok(Some(Introspection::default()));
        }
        Ok(Some(Introspection {
            active: true,
            scope: Some(family.scope.join(" ")),
            client_id: Some(family.client_id),
            username: user.map(|u| u.email),
            token_type: Some("refresh_token"),
            exp: Some(family.expires_at),
            iat: Some(family.created_at),
            sub: Some(family.user_id),
            aud: None,
            iss: Some(self.broker.policy().issuer.as_str().to_owned()),
            jti: None,
        }))
    }

    /// RFC 7009 §2.1: revokes a refresh token (its whole family, with the access tokens minted
    /// from it) or an access token (its `jti`, until it expires) issued to `client`. A refresh
    /// token acts only with a secret its family issued (current or spent): the family id alone
    /// is not a credential. Unknown tokens, wrong secrets and tokens of other clients are
    /// answered the same way (§2.2: 200 either way) and change nothing.
    pub async fn revoke(&self, client: &Client, token: &str) -> Result<(), ServiceError> {
        let now = self.broker.now();
        if let Some((family_id, secret)) = split_refresh_token(token)
            && let Some(family) = self.broker.store.refresh_family(family_id).await?
        {
            if family.client_id == client.id
                && family.recognise(&digest(secret)) != SecretMatch::Unknown
            {
                self.broker
                    .store
                    .revoke_refresh_family(family_id, now)
                    .await?;
            }
            return Ok(());
        }
        if let Ok(claims) = self.check_access_token(token).await
            && claims.client_id == client.id
        {
            self.broker
                .store
                .deny_access_token(&claims.jti, claims.exp, now)
                .await?;
        }
        Ok(())
    }
}
