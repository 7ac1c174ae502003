//! `/token` (RFC 6749 §3.2, §4.1.3, §4.4, §6).

use std::sync::Arc;

use super::issue::{TokenResponse, UserGrant, split_refresh_token};
use super::{ServiceError, Tokens};
use crate::op::claims::{self, AuthContext, TYP_ACCESS_TOKEN};
use crate::op::{ErrorCode, OpError, pkce, resource, scope};
use crate::policy::{Client, GrantType, Policy};
use crate::secret::{digest, random_handle, random_id};
use crate::store::{
    AuditRecord, CodeRecord, CodeRedemption, Redemption, RefreshStep, Rotation, SPENT_SECRETS_KEPT,
    SecretMatch, User,
};

/// The grant parameters of a token request (client credentials are separate).
#[derive(Debug, Default)]
pub struct TokenParams {
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
    /// RFC 8628 §3.4.
    pub device_code: Option<String>,
    /// RFC 8693 §2.1.
    pub subject_token: Option<String>,
    pub subject_token_type: Option<String>,
    pub requested_token_type: Option<String>,
    pub actor_token: Option<String>,
    pub audience: Option<String>,
    /// RFC 8707 §2: every `resource` value, in order (the parameter may be repeated).
    pub resource: Vec<String>,
    /// Where the request came from, for the audit log.
    pub ip: Option<String>,
}

impl Tokens<'_> {
    /// Answers a token request from an authenticated client.
    pub async fn token(
        &self,
        client: Arc<Client>,
        p: &TokenParams,
    ) -> Result<TokenResponse, ServiceError> {
        let grant = match p.grant_type.as_deref() {
            None => return Err(OpError::invalid_request("grant_type is missing").into()),
            Some(g) => GrantType::parse(g).ok_or_else(|| {
                OpError::new(
                    ErrorCode::UnsupportedGrantType,
                    "this grant type is not supported",
                )
            })?,
        };
        if !client.allows_grant(grant) {
            return Err(OpError::new(
                ErrorCode::UnauthorizedClient,
                "this client may not use this grant type",
            )
            .into());
        }
        let result = match grant {
            GrantType::AuthorizationCode => self.redeem_code(&client, p).await,
            GrantType::RefreshToken => self.refresh(&client, p).await,
            GrantType::ClientCredentials => self.client_credentials(&client, p),
            GrantType::DeviceCode => self.broker.devices().device_code_grant(&client, p).await,
            GrantType::TokenExchange => self.token_exchange(&client, p).await,
        };
        let name = if result.is_ok() {
            "idbroker_tokens_issued_total"
        } else {
            "idbroker_token_errors_total"
        };
        metrics::counter!(name, "grant" => grant.as_str()).increment(1);
        result
    }

    /// RFC 6749 §4.1.3 with RFC 7636 §4.6.
    async fn redeem_code(
        &self,
        client: &Client,
        p: &TokenParams,
    ) -> Result<TokenResponse, ServiceError> {
        let now = self.broker.now();
        let code = p
            .code
            .as_deref()
            .filter(|c| !c.is_empty() && c.len() <= 128)
            .ok_or_else(|| OpError::invalid_request("code is missing"))?;
        let key = digest(code);
        let bad = |d: &'static str| ServiceError::Op(OpError::invalid_grant(d));
        let record = self
            .broker
            .store
            .code(&key)
            .await?
            .ok_or_else(|| bad("the code is invalid"))?;
        if let Some(first) = &record.redeemed {
            // RFC 6749 §4.1.2: a code used twice revokes what the first use issued.
            self.revoke_redemption(&record, first).await?;
            return Err(bad(
                "the code was already used; its tokens have been revoked",
            ));
        }
        // Each check below refuses without consuming the code ("changes nothing").
        if record.request.client_id != client.id {
            return Err(bad("the code was issued to another client"));
        }
        if record.expires_at <= now {
            return Err(bad("the code has expired"));
        }
        // RFC 6749 §4.1.3: redirect_uri must be identical to the authorization request's.
        // Compared as parsed URLs, like the match at /authorize: `https://app.example` and
        // `https://app.example/` are one URL, written either way by RPs.
        let same = p
            .redirect_uri
            .as_deref()
            .and_then(|r| url::Url::parse(r).ok())
            .is_some_and(|r| url::Url::parse(&record.request.redirect_uri).is_ok_and(|s| s == r));
        if !same {
            return Err(bad("redirect_uri does not match the authorization request"));
        }
        match (&record.request.code_challenge, p.code_verifier.as_deref()) {
            (Some(challenge), Some(verifier)) if pkce::verify_s256(verifier, challenge) => {}
            (Some(_), Some(_)) => return Err(bad("the PKCE code_verifier does not match")),
            (Some(_), None) => return Err(bad("the PKCE code_verifier is missing")),
            // RFC 9700 §2.1.1: a verifier without a challenge is a downgrade attempt.
            (None, Some(_)) => {
                return Err(bad("code_verifier sent for a code issued without PKCE"));
            }
            (None, None) => {}
        }
        // RFC 8707 §2.2: the request may name the code's resource and no other; and the grant
        // is checked again against the policy in force (an API or a grant removed since).
        let granted = record.request.resource.as_deref();
        resource::within_grant(granted, resource::single(&p.resource)?)?;
        resource::target(
            &self.broker.policy(),
            client,
            &record.request.scope,
            granted,
        )?;
        let user = self
            .usable_user(&record.user_id, record.auth.auth_time)
            .await?;

        let access = self.broker.access_ticket();
        // Refresh tokens go to every client allowed the grant (as Keycloak and Entra do);
        // `offline_access` is accepted but not required.
        let family = client.allows_grant(GrantType::RefreshToken).then(random_id);
        let redemption = Redemption {
            access_jti: access.jti.clone(),
            access_expires_at: access.expires_at,
            refresh_family: family.clone(),
        };
        match self
            .broker
            .store
            .redeem_code(&key, &record, redemption, now)
            .await?
        {
            CodeRedemption::Fresh(_) => {}
            CodeRedemption::Replayed(current) => {
                if let Some(first) = &current.redeemed {
                    self.revoke_redemption(&current, first).await?;
                }
                return Err(bad(
                    "the code was already used; its tokens have been revoked",
                ));
            }
            CodeRedemption::Unknown => return Err(bad("the code is invalid")),
        }
        let ctx = AuthContext {
            auth: record.auth.clone(),
            session_id: Some(record.session_id.clone()),
        };
        let grant = UserGrant {
            client_id: &client.id,
            resource: granted,
            user: &user,
            scopes: &record.request.scope,
            nonce: record.request.nonce.as_deref(),
            ctx: &ctx,
            access: &access,
        };
        let refresh = match &family {
            Some(f) => Some(self.broker.new_refresh_family(f, &grant).await?),
            None => None,
        };
        let mut ev = AuditRecord::success("token.code", now)
            .user(&user.id)
            .client(&client.id);
        ev.organization = user.organization.clone();
        self.broker.audit.record(ev);
        self.broker.mint_user_tokens(&grant, refresh).await
    }

    /// Revokes the access token and refresh family a code's first redemption issued, with
    /// every access token minted from that family since (as reuse detection does).
    async fn revoke_redemption(
        &self,
        record: &CodeRecord,
        first: &Redemption,
    ) -> Result<(), ServiceError> {
        let now = self.broker.now();
        self.broker
            .store
            .deny_access_token(&first.access_jti, first.access_expires_at, now)
            .await?;
        if let Some(f) = &first.refresh_family {
            self.broker.store.revoke_refresh_family(f, now).await?;
        }
        self.broker.audit.record(
            AuditRecord::failure("token.code", now)
                .because("code_replayed")
                .user(&record.user_id)
                .client(&record.request.client_id),
        );
        Ok(())
    }

    /// RFC 6749 §6 with rotation and reuse detection (RFC 9700 §4.14.2).
    async fn refresh(
        &self,
        client: &Client,
        p: &TokenParams,
    ) -> Result<TokenResponse, ServiceError> {
        let now = self.broker.now();
        let bad = |d: &'static str| ServiceError::Op(OpError::invalid_grant(d));
        let token = p
            .refresh_token
            .as_deref()
            .ok_or_else(|| OpError::invalid_request("refresh_token is missing"))?;
        let (family_id, secret) =
            split_refresh_token(token).ok_or_else(|| bad("the refresh token is invalid"))?;
        let presented = digest(secret);
        let seen = self
            .broker
            .store
            .refresh_family_seen(family_id)
            .await?
            .ok_or_else(|| bad("the refresh token is invalid"))?;
        let family = &seen.family;
        // A secret this family never issued is no token of it: it tells nothing about the
        // family and changes nothing (knowing a family id is not a credential).
        if family.recognise(&presented) == SecretMatch::Unknown {
            return Err(bad("the refresh token is invalid"));
        }
        if family.client_id != client.id {
            return Err(bad("the refresh token was issued to another client"));
        }
        // RFC 6749 §6: a narrower scope may be asked for, never a wider one.
        let scopes = match p.scope.as_deref() {
            None => family.scope.clone(),
            Some(s) => {
                let asked = scope::parse(Some(s));
                scope::check_allowed(&asked, &family.scope)?;
                asked
            }
        };
        // RFC 8707 §2.2: a refresh stays within the family's resource, checked again against
        // the policy in force.
        let granted = family.resource.clone();
        resource::within_grant(granted.as_deref(), resource::single(&p.resource)?)?;
        resource::target(&self.broker.policy(), client, &scopes, granted.as_deref())?;
        let user = self
            .usable_user(&family.user_id, family.auth.auth_time)
            .await?;
        let next_secret = random_handle();
        let access = self.broker.access_ticket();
        let step = RefreshStep {
            presented: &presented,
            next: &digest(&next_secret),
            access: access.issued(),
            spent_window: spent_window(&self.broker.policy()),
        };
        let rotated = match self.broker.store.rotate_seen(seen, &step, now).await? {
            Rotation::Rotated(rotated) => rotated,
            Rotation::Reused(f) => {
                self.broker.audit.record(
                    AuditRecord::failure("token.refresh", now)
                        .because("refresh_token_reused")
                        .user(&f.user_id)
                        .client(&f.client_id),
                );
                return Err(bad(
                    "the refresh token was already used; the session has been revoked",
                ));
            }
            Rotation::Revoked => return Err(bad("the refresh token has been revoked")),
            Rotation::TooFrequent => {
                self.broker.audit.record(
                    AuditRecord::failure("token.refresh", now)
                        .because("refresh_too_frequent")
                        .user(&user.id)
                        .client(&client.id),
                );
                return Err(bad("the refresh token is used too often; try again later"));
            }
            Rotation::Unknown => return Err(bad("the refresh token is invalid or expired")),
        };
        // The family as rotated: the same sign-in, owned.
        let ctx = AuthContext {
            auth: rotated.auth,
            session_id: rotated.session_id,
        };
        let grant = UserGrant {
            client_id: &client.id,
            resource: granted.as_deref(),
            user: &user,
            scopes: &scopes,
            nonce: None,
            ctx: &ctx,
            access: &access,
        };
        self.broker
            .mint_user_tokens(&grant, Some(format!("{family_id}.{next_secret}")))
            .await
    }

    /// RFC 6749 §4.4: the client acts for itself; no user, no refresh token, no ID token.
    fn client_credentials(
        &self,
        client: &Client,
        p: &TokenParams,
    ) -> Result<TokenResponse, ServiceError> {
        if client.is_public() {
            return Err(OpError::new(
                ErrorCode::UnauthorizedClient,
                "client_credentials needs a confidential client",
            )
            .into());
        }
        let policy = self.broker.policy();
        let mut scopes = scope::parse(p.scope.as_deref());
        // RFC 8707 §2: the token is addressed to the API named, or whose scopes are asked for.
        let api = resource::target(&policy, client, &scopes, resource::single(&p.resource)?)?;
        // User scopes mean nothing without a user.
        scopes.retain(|s| {
            !matches!(
                s.as_str(),
                "openid" | "offline_access" | "email" | "profile"
            )
        });
        let ttl = policy.lifetimes.access_token.as_secs();
        let jti = crate::secret::random_uuid().to_string();
        let claims = claims::client_access_token(
            policy.issuer.as_str(),
            &client.id,
            api.as_ref().map(|a| a.identifier.as_str()),
            &scopes,
            &jti,
            self.broker.now(),
            ttl,
        );
        Ok(TokenResponse {
            access_token: self.broker.keys.sign(
                policy.token_algs(&client.id).access_token,
                TYP_ACCESS_TOKEN,
                &claims,
            )?,
            token_type: "Bearer",
            expires_in: ttl,
            refresh_token: None,
            id_token: None,
            scope: scope::join(&scopes),
            issued_token_type: None,
        })
    }

    /// The user a grant is for, if they may still get tokens: present, enabled, and not
    /// revoked since they authenticated.
    pub(crate) async fn usable_user(
        &self,
        user_id: &str,
        auth_time: u64,
    ) -> Result<User, ServiceError> {
        match self.broker.store.user_by_id(user_id).await? {
            Some(u) if !u.disabled && auth_time >= u.tokens_valid_after => Ok(u),
            _ => Err(OpError::invalid_grant("the user can no longer sign in").into()),
        }
    }
}

/// How long a refresh family remembers a spent secret at least: 32 access-token lifetimes,
/// at most an hour. With [`SPENT_SECRETS_KEPT`] (64) spent secrets kept, a family may rotate
/// 64 times in that window: twice per access-token lifetime at the shortest (1 minute), 64
/// times an hour with the default (10 minutes). So whoever refreshes with a stolen token
/// cannot make the family forget the victim's copy within the window, and the victim's next
/// refresh revokes the family.
pub fn spent_window(policy: &Policy) -> u64 {
    const MAX: u64 = 3600;
    let per = u64::try_from(SPENT_SECRETS_KEPT / 2).unwrap_or(u64::MAX);
    policy
        .lifetimes
        .access_token
        .as_secs()
        .saturating_mul(per)
        .min(MAX)
}
