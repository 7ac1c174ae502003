//! Issuing what a successful sign-in produces: sessions, codes, and token responses.

use url::Url;

use super::authorize::CodeRequest;
use super::{Broker, ServiceError};
use crate::clock::UnixTime;
use crate::op::claims::{self, AuthContext, Grant, TYP_ACCESS_TOKEN, TYP_ID_TOKEN};
use crate::op::groups::{self, GroupClaims};
use crate::op::{OpError, scope};
use crate::secret::{digest, random_handle};
use crate::store::{Authentication, CodeRecord, IssuedAccess, RefreshFamily, Session, User};

/// A token endpoint success response (RFC 6749 §5.1, OIDC Core §3.1.3.3).
#[derive(Debug, Clone, serde::Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    pub scope: String,
    /// RFC 8693 §2.2.1: what kind of token `access_token` is (token exchange only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued_token_type: Option<&'static str>,
}

/// Who gets tokens, for what, and how they authenticated.
#[derive(Clone, Copy)]
pub struct UserGrant<'a> {
    pub client_id: &'a str,
    /// The API the access token is addressed to (its identifier), or `None` for the client.
    pub resource: Option<&'a str>,
    pub user: &'a User,
    pub scopes: &'a [String],
    pub nonce: Option<&'a str>,
    pub ctx: &'a AuthContext,
    pub access: &'a AccessTicket,
}

/// The access token a grant is about to mint, fixed before it is minted so that it can be
/// recorded first (in a code's redemption, in its refresh family).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessTicket {
    pub jti: String,
    pub issued_at: UnixTime,
    pub expires_at: UnixTime,
}

impl AccessTicket {
    /// What a refresh family remembers of it.
    pub fn issued(&self) -> IssuedAccess {
        IssuedAccess {
            jti: self.jti.clone(),
            expires_at: self.expires_at,
        }
    }
}

/// A new session: its cookie value (to set) and the record (as stored).
pub struct NewSession {
    pub cookie: String,
    pub session: Session,
}

impl Broker {
    /// A new access token's `jti`, issue time and expiry, under the current policy.
    pub(super) fn access_ticket(&self) -> AccessTicket {
        let now = self.now();
        AccessTicket {
            jti: crate::secret::random_uuid().to_string(),
            issued_at: now,
            expires_at: now + self.policy().lifetimes.access_token.as_secs(),
        }
    }

    /// Starts a session for `user` after a successful authentication.
    pub(super) async fn start_session(
        &self,
        user: &User,
        amr: &[&str],
        idp: Option<String>,
        organization: Option<String>,
        ip: Option<String>,
        user_agent: Option<String>,
    ) -> Result<NewSession, ServiceError> {
        let now = self.now();
        let cookie = random_handle();
        let session = Session {
            id: crate::secret::random_uuid().to_string(),
            user_id: user.id.clone(),
            auth: Authentication {
                auth_time: now,
                amr: amr.iter().map(|m| (*m).to_owned()).collect(),
                idp,
                organization,
                acr: None,
            },
            created_at: now,
            expires_at: now + self.policy().lifetimes.session.as_secs(),
            user_agent: user_agent.map(|u| u.chars().take(256).collect()),
            ip,
        };
        self.store
            .create_session(&digest(&cookie), &session, now)
            .await?;
        Ok(NewSession { cookie, session })
    }

    /// Issues a code for `req` from `session` and returns the redirect to the client:
    /// `redirect_uri?code=…&state=…&iss=…` (RFC 6749 §4.1.2, RFC 9207 §2), or, when the
    /// client requires an `acr` this sign-in did not achieve, the error redirect instead
    /// (see `acr.rs`).
    pub(super) async fn code_redirect(
        &self,
        req: &CodeRequest,
        session: &Session,
        user: &User,
    ) -> Result<Url, ServiceError> {
        let now = self.now();
        let policy = self.policy();
        let mut url = Url::parse(&req.request.redirect_uri)
            .map_err(|_| OpError::invalid_request("the redirect URI is malformed"))?;
        let auth = match self.code_authentication(&policy, req, &url, &session.auth, user) {
            Ok(auth) => auth,
            Err(refused) => return Ok(refused),
        };
        let code = random_handle();
        let record = CodeRecord {
            request: req.request.clone(),
            user_id: user.id.clone(),
            session_id: session.id.clone(),
            auth,
            issued_at: now,
            expires_at: now + policy.lifetimes.code.as_secs(),
            redeemed: None,
        };
        self.store.put_code(&digest(&code), &record, now).await?;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("code", &code);
            if let Some(s) = &req.state {
                q.append_pair("state", s);
            }
            q.append_pair("iss", policy.issuer.as_str());
        }
        Ok(url)
    }

    /// The `groups` / `roles` claims of `user` for `client_id` and `scopes`: the policy's
    /// groups and, where their organisation reads them, their upstream groups as last read
    /// (a store read only then). Nothing at all when the client asks for neither.
    pub(super) async fn group_claims(
        &self,
        client_id: &str,
        user: &User,
        scopes: &[String],
        carrier: groups::Carrier,
    ) -> Result<GroupClaims, ServiceError> {
        let policy = self.policy();
        let Some(client) = policy
            .client(client_id)
            .filter(|c| groups::wants(c, scopes) != (false, false))
        else {
            return Ok(GroupClaims::default());
        };
        let org = user
            .organization
            .as_deref()
            .and_then(|o| policy.org_by_id.get(o));
        let upstream = match org {
            Some(o) if o.groups.upstream => self.store.user_groups(&user.id).await?,
            _ => None,
        };
        // The file's groups are its own users': a user of the same email created another
        // way (imported, just in time) is not the file's, and does not get them.
        let own = match user.source {
            crate::store::UserSource::Policy => policy.groups_of(&user.email),
            _ => &[],
        };
        let m = groups::membership(own, org.map(|o| &**o), upstream.as_ref());
        Ok(groups::claims(client, scopes, &m, carrier))
    }

    /// Mints the tokens of a user grant. `refresh` is the refresh token to hand out, if any.
    pub(super) async fn mint_user_tokens(
        &self,
        grant: &UserGrant<'_>,
        refresh: Option<String>,
    ) -> Result<TokenResponse, ServiceError> {
        let UserGrant {
            client_id,
            resource,
            user,
            scopes,
            nonce,
            ctx,
            access,
        } = *grant;
        let policy = self.policy();
        let group_claims = self
            .group_claims(client_id, user, scopes, groups::Carrier::Token)
            .await?;
        // The `acr` this grant asserts (or no tokens: see `acr.rs`).
        let ctx = &self.with_acr(&policy, client_id, ctx)?;
        // Exactly the expiry the ticket promised (and a family or redemption recorded).
        let access_ttl = access.expires_at.saturating_sub(access.issued_at);
        let grant = Grant {
            issuer: policy.issuer.as_str(),
            client_id,
            audience: resource,
            user,
            scope: scopes,
            nonce,
            ctx,
            now: access.issued_at,
            access_ttl,
            id_ttl: policy.lifetimes.id_token.as_secs(),
            jti: &access.jti,
            groups: &group_claims,
        };
        // The client's algorithms (OIDC Registration §2 `id_token_signed_response_alg`),
        // whichever grant this is: code, refresh, device or token exchange.
        let algs = policy.token_algs(client_id);
        let access_token = self.keys.sign(
            algs.access_token,
            TYP_ACCESS_TOKEN,
            &claims::access_token(&grant),
        )?;
        let id_token = if scope::has(scopes, "openid") {
            Some(
                self.keys
                    .sign(algs.id_token, TYP_ID_TOKEN, &claims::id_token(&grant))?,
            )
        } else {
            None
        };
        Ok(TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: access_ttl,
            refresh_token: refresh,
            id_token,
            scope: scope::join(scopes),
            issued_token_type: None,
        })
    }

    /// Starts a refresh-token family for `grant` and returns its first token,
    /// `{family}.{secret}`. The grant's access token is minted with it, and dies with the
    /// family.
    pub(super) async fn new_refresh_family(
        &self,
        family_id: &str,
        grant: &UserGrant<'_>,
    ) -> Result<String, ServiceError> {
        let UserGrant {
            client_id,
            resource,
            user,
            scopes,
            ctx,
            access: first_access,
            ..
        } = *grant;
        let now = self.now();
        let secret = random_handle();
        let family = RefreshFamily {
            id: family_id.to_owned(),
            user_id: user.id.clone(),
            client_id: client_id.to_owned(),
            session_id: ctx.session_id.clone(),
            scope: scopes.to_vec(),
            resource: resource.map(str::to_owned),
            auth: ctx.auth.clone(),
            current: digest(&secret),
            generation: 0,
            created_at: now,
            expires_at: now + self.policy().lifetimes.refresh_token.as_secs(),
            revoked: false,
            spent: Vec::new(),
            access: vec![first_access.issued()],
        };
        self.store.create_refresh_family(&family, now).await?;
        Ok(format!("{family_id}.{secret}"))
    }
}

/// Splits a refresh token into its family id and secret.
pub fn split_refresh_token(token: &str) -> Option<(&str, &str)> {
    let (family, secret) = token.split_once('.')?;
    // Our refresh tokens are two base64url parts; a JWT (three parts) is never one.
    let well_formed = !family.is_empty()
        && !secret.is_empty()
        && family.len() <= 64
        && secret.len() <= 64
        && !secret.contains('.');
    well_formed.then_some((family, secret))
}
