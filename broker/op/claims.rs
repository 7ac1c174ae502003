//! The claims of the tokens the broker signs: ID tokens (OIDC Core §2) and JWT access
//! tokens (RFC 9068 §2.2). These structs are the wire format of the tokens.

use serde::{Deserialize, Serialize};

use super::groups::GroupClaims;
use super::scope;
use crate::clock::UnixTime;
use crate::directory::{Authentication, User};

/// `typ` header values: RFC 9068 §2.1 requires `at+jwt` for access tokens, which is also
/// what keeps an ID token from being accepted as an access token and vice versa.
pub const TYP_ID_TOKEN: &str = "JWT";
pub const TYP_ACCESS_TOKEN: &str = "at+jwt";

/// How the user authenticated and where, and in which session: carried from the session
/// (through its code or refresh family) into every token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthContext {
    pub auth: Authentication,
    /// The `sid` claim (OIDC Front-Channel Logout §3); none for grants without a session.
    pub session_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdTokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: UnixTime,
    pub iat: UnixTime,
    pub auth_time: UnixTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    pub amr: Vec<String>,
    /// OIDC Core §2: the authentication context class achieved, when a request or the
    /// client asked for one (see `crate::acr`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub acr: Option<String>,
    /// OIDC Core §2: the party to which the token was issued.
    pub azp: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// OIDC Core §5.1, with the `profile` scope, where the broker knows them.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub given_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub family_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub preferred_username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub locale: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub zoneinfo: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub picture: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub updated_at: Option<UnixTime>,
    /// The upstream that authenticated the user (absent for local passwords).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idp: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    /// The user's groups and this client's roles (`groups` / `roles` scopes; see
    /// [`super::groups`]).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub groups: Option<Vec<String>>,
    /// More groups than the client's limit: `groups` is left out, `/userinfo` has them all.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub groups_overflow: bool,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub roles: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    pub iss: String,
    /// The user id, or the client id for `client_credentials` (RFC 9068 §2.2).
    pub sub: String,
    /// RFC 9068 §3: the API the token is for (its identifier, RFC 8707); without one, the
    /// default resource is the client itself.
    pub aud: String,
    pub exp: UnixTime,
    pub iat: UnixTime,
    pub jti: String,
    pub client_id: String,
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<UnixTime>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub amr: Vec<String>,
    /// RFC 9068 §2.2.3.1: as in the ID token of the same grant.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub acr: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idp: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    /// The user's groups and this client's roles (`groups` / `roles` scopes; see
    /// [`super::groups`]).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub groups: Option<Vec<String>>,
    /// More groups than the client's limit: `groups` is left out, `/userinfo` has them all.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub groups_overflow: bool,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub roles: Option<Vec<String>>,
}

impl AccessTokenClaims {
    /// Whether `client` may learn about this token at introspection (RFC 7662 §2.1, §4): the
    /// client it was issued to, or the resource server it is for (`aud`). An API, which is
    /// not a client, sees the tokens addressed to it (`op::resource::api_sees`).
    pub fn concerns(&self, client: &str) -> bool {
        self.client_id == client || self.aud == client
    }
}

/// Everything needed to mint the tokens of one grant.
pub struct Grant<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    /// The access token's audience: an API's identifier, or `None` for the client itself.
    pub audience: Option<&'a str>,
    pub user: &'a User,
    pub scope: &'a [String],
    pub nonce: Option<&'a str>,
    pub ctx: &'a AuthContext,
    pub now: UnixTime,
    pub access_ttl: u64,
    pub id_ttl: u64,
    pub jti: &'a str,
    pub groups: &'a GroupClaims,
}

/// OIDC Core §5.1 `preferred_username`: the upstream's (Entra: the UPN), else the sign-in
/// identifier. Not unique over time, as §5.1 warns: `sub` is the key.
pub fn preferred_username(user: &User) -> String {
    user.profile
        .preferred_username
        .clone()
        .unwrap_or_else(|| user.email.clone())
}

/// The ID token of a grant; `email` and `name` only with the `email` / `profile` scopes
/// (OIDC Core §5.4).
pub fn id_token(g: &Grant<'_>) -> IdTokenClaims {
    let email = scope::has(g.scope, "email");
    let profile = scope::has(g.scope, "profile");
    let p = &g.user.profile;
    IdTokenClaims {
        iss: g.issuer.to_owned(),
        sub: g.user.id.clone(),
        aud: g.client_id.to_owned(),
        exp: g.now + g.id_ttl,
        iat: g.now,
        auth_time: g.ctx.auth.auth_time,
        nonce: g.nonce.map(str::to_owned),
        amr: g.ctx.auth.amr.clone(),
        acr: g.ctx.auth.acr.clone(),
        azp: g.client_id.to_owned(),
        sid: g.ctx.session_id.clone(),
        email: email.then(|| g.user.email.clone()),
        // The directory says: the admin's addresses are, a just-in-time user's only when
        // the upstream vouched for it.
        email_verified: email.then_some(g.user.email_verified),
        name: profile.then(|| g.user.name.clone()),
        given_name: profile.then(|| p.given_name.clone()).flatten(),
        family_name: profile.then(|| p.family_name.clone()).flatten(),
        preferred_username: profile.then(|| preferred_username(g.user)),
        locale: profile.then(|| p.locale.clone()).flatten(),
        zoneinfo: profile.then(|| p.zoneinfo.clone()).flatten(),
        picture: profile.then(|| p.picture.clone()).flatten(),
        updated_at: profile.then_some(g.user.updated_at),
        idp: g.ctx.auth.idp.clone(),
        org: g.ctx.auth.organization.clone(),
        groups: g.groups.groups.clone(),
        groups_overflow: g.groups.groups_overflow,
        roles: g.groups.roles.clone(),
    }
}

pub fn access_token(g: &Grant<'_>) -> AccessTokenClaims {
    AccessTokenClaims {
        iss: g.issuer.to_owned(),
        sub: g.user.id.clone(),
        aud: g.audience.unwrap_or(g.client_id).to_owned(),
        exp: g.now + g.access_ttl,
        iat: g.now,
        jti: g.jti.to_owned(),
        client_id: g.client_id.to_owned(),
        scope: scope::join(g.scope),
        auth_time: Some(g.ctx.auth.auth_time),
        amr: g.ctx.auth.amr.clone(),
        acr: g.ctx.auth.acr.clone(),
        sid: g.ctx.session_id.clone(),
        idp: g.ctx.auth.idp.clone(),
        org: g.ctx.auth.organization.clone(),
        groups: g.groups.groups.clone(),
        groups_overflow: g.groups.groups_overflow,
        roles: g.groups.roles.clone(),
    }
}

/// An access token for a client acting on its own behalf (`client_credentials`), addressed
/// to `audience` (an API's identifier) or else to the client itself.
pub fn client_access_token(
    issuer: &str,
    client_id: &str,
    audience: Option<&str>,
    scope: &[String],
    jti: &str,
    now: UnixTime,
    ttl: u64,
) -> AccessTokenClaims {
    AccessTokenClaims {
        iss: issuer.to_owned(),
        sub: client_id.to_owned(),
        aud: audience.unwrap_or(client_id).to_owned(),
        exp: now + ttl,
        iat: now,
        jti: jti.to_owned(),
        client_id: client_id.to_owned(),
        scope: scope::join(scope),
        auth_time: None,
        amr: Vec::new(),
        acr: None,
        sid: None,
        idp: None,
        org: None,
        groups: None,
        groups_overflow: false,
        roles: None,
    }
}
