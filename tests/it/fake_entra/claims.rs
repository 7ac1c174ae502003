//! Token minting: Entra v2.0 ID tokens, generic OIDC ID tokens, the v1.0 access tokens Entra
//! issues for Microsoft Graph, and the misbehaviour knobs applied to the next ID token.

use serde_json::{Value, json};

use super::crypto::{
    self, CryptoError, RsaAlg, Signer, SigningKey, b64url, compact, guid, random_b64, sha256,
};
use super::model::{EntraUser, Misbehave, State};

/// Graph's resource URI and its well-known application id: both are valid `aud` values.
pub const GRAPH_RESOURCE: &str = "https://graph.microsoft.com";
pub const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
/// The application permission the broker needs to list users.
pub const USER_READ_ALL: &str = "User.Read.All";
/// The application permission the broker needs to read a user's groups.
pub const GROUP_MEMBER_READ_ALL: &str = "GroupMember.Read.All";
/// Entra's limit of groups in a JWT; past it the token carries the overage markers.
pub const GROUPS_IN_JWT: usize = 200;

/// Entra's v1 token issuer (what Graph access tokens carry).
pub fn sts_issuer(tid: &str) -> String {
    format!("https://sts.windows.net/{tid}/")
}

/// A pairwise-style subject: stable per (app, tenant, user), never equal to the `oid`.
pub fn pairwise_sub(client_id: &str, tid: &str, oid: &str) -> String {
    b64url(&sha256(format!("{client_id}|{tid}|{oid}").as_bytes()))
}

/// The active signing key, or the error a handler reports if there is none (a test retired it).
fn active_key(state: &State) -> Result<&SigningKey, CryptoError> {
    state
        .keys
        .active()
        .ok_or_else(|| CryptoError::KeyRejected("no active signing key".into()))
}

fn rogue_key(state: &mut State) -> Result<&SigningKey, CryptoError> {
    if state.keys.rogue.is_none() {
        state.keys.rogue = Some(SigningKey::generate("rogue signer")?);
    }
    state
        .keys
        .rogue
        .as_ref()
        .ok_or_else(|| CryptoError::KeyRejected("no rogue key".into()))
}

/// What the ID token is about.
pub struct IdTokenRequest<'a> {
    pub client_id: &'a str,
    pub scopes: &'a [String],
    pub nonce: Option<&'a str>,
    /// The client secret the app authenticated with, if any (keys `Hs256ClientSecret`).
    pub client_secret: Option<&'a str>,
    pub now: u64,
}

impl IdTokenRequest<'_> {
    fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
}

/// An Entra v2.0 ID token for `user` of tenant `tid`, with the next queued misbehaviour.
pub fn entra_id_token(
    state: &mut State,
    authority: &str,
    tid: &str,
    user: &EntraUser,
    request: &IdTokenRequest<'_>,
) -> Result<String, CryptoError> {
    let misbehave = state.knobs.misbehave.pop_front();
    let (tid, user) = match &misbehave {
        Some(Misbehave::OtherTenant(other)) => other_tenant_twin(state, other, user),
        _ => (tid.to_owned(), user.clone()),
    };
    let lifetime = state.knobs.id_token_lifetime;
    let now = request.now;
    let mut claims = json!({
        "aud": request.client_id,
        "iss": format!("{authority}/{tid}/v2.0"),
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
        "aio": random_b64(60),
        "rh": format!("1.{}", random_b64(48)),
        "sub": pairwise_sub(request.client_id, &tid, &user.id),
        "tid": tid,
        "uti": random_b64(16),
        "ver": "2.0",
    });
    // ID token claims reference: `name`, `preferred_username` and `oid` need the `profile`
    // scope; `email` comes with the `email` scope when the user has one.
    if request.has_scope("profile") {
        claims["name"] = json!(user.display_name);
        claims["preferred_username"] = json!(user.user_principal_name);
        claims["oid"] = json!(user.id);
    }
    if request.has_scope("email")
        && let Some(mail) = &user.mail
    {
        claims["email"] = json!(mail);
        if let Some(edov) = state.knobs.xms_edov {
            claims["xms_edov"] = json!(edov);
        }
    }
    if let Some(nonce) = request.nonce {
        claims["nonce"] = json!(nonce);
    }
    // groupMembershipClaims: the object ids, or past 200 the overage markers pointing at
    // the (legacy) Graph endpoint, as Entra writes them.
    let emits = state.app(request.client_id).is_some_and(|a| a.group_claims);
    let groups: Vec<String> = state
        .tenant(&tid)
        .and_then(|t| t.members.get(&user.id))
        .cloned()
        .unwrap_or_default();
    if emits && !groups.is_empty() {
        if groups.len() > GROUPS_IN_JWT {
            claims["_claim_names"] = json!({"groups": "src1"});
            claims["_claim_sources"] = json!({"src1": {"endpoint": format!(
                "https://graph.windows.net/{tid}/users/{}/getMemberObjects", user.id
            )}});
        } else {
            claims["groups"] = json!(groups);
        }
    }
    let wrong_issuer = sts_issuer(&tid);
    finish_id_token(state, claims, misbehave, request, &wrong_issuer)
}

/// An Entra v2.0 access token for a web API registration `aud` (the app exposes a scope and
/// the client app `azp` asked for it): what the platform's sign-in broker hands an app
/// silently. Access tokens carry `oid`, `tid` and `scp`; `email` only as an optional claim.
pub fn entra_access_token(
    state: &mut State,
    authority: &str,
    tid: &str,
    user: &EntraUser,
    aud: &str,
    azp: &str,
    now: u64,
) -> Result<String, CryptoError> {
    let claims = json!({
        "aud": aud,
        "iss": format!("{authority}/{tid}/v2.0"),
        "iat": now,
        "nbf": now,
        "exp": now + state.knobs.id_token_lifetime,
        "azp": azp,
        "azpacr": "0",
        "name": user.display_name,
        "oid": user.id,
        "preferred_username": user.user_principal_name,
        "scp": "access_as_user",
        "sub": pairwise_sub(aud, tid, &user.id),
        "tid": tid,
        "uti": random_b64(16),
        "ver": "2.0",
    });
    let active = active_key(state)?;
    let header = json!({ "typ": "JWT", "alg": "RS256", "kid": active.kid });
    compact(&header, &claims, &Signer::Rsa(active, RsaAlg::Rs256))
}

/// The user of tenant `other` whose mail (or UPN) equals `user`'s; made up when there is none.
fn other_tenant_twin(state: &State, other: &str, user: &EntraUser) -> (String, EntraUser) {
    let wanted = user.mail.as_deref().unwrap_or(&user.user_principal_name);
    let twin = state
        .tenant(other)
        .and_then(|t| t.find_by_sign_in_name(wanted))
        .cloned()
        .unwrap_or_else(|| EntraUser {
            id: guid(),
            ..user.clone()
        });
    (other.to_owned(), twin)
}

/// A generic OIDC ID token (OIDC Core §2) for the provider at `issuer`.
pub fn oidc_id_token(
    state: &mut State,
    issuer: &str,
    sub: &str,
    request: &IdTokenRequest<'_>,
) -> Result<String, CryptoError> {
    let misbehave = state.knobs.misbehave.pop_front();
    let Some(user) = state.oidc_users.iter().find(|u| u.sub == sub).cloned() else {
        return Err(CryptoError::KeyRejected(format!("no OIDC user {sub}")));
    };
    let (iss, sub) = match &misbehave {
        Some(Misbehave::OtherTenant(_)) => (format!("{issuer}-other"), guid()),
        _ => (issuer.to_owned(), user.sub.clone()),
    };
    let now = request.now;
    let mut claims = json!({
        "iss": iss,
        "sub": sub,
        "aud": request.client_id,
        "iat": now,
        "nbf": now,
        "exp": now + state.knobs.id_token_lifetime,
        "auth_time": now,
        "jti": guid(),
    });
    if request.has_scope("profile") {
        claims["name"] = json!(user.name);
    }
    if request.has_scope("email")
        && let Some(email) = &user.email
    {
        claims["email"] = json!(email);
        claims["email_verified"] = json!(user.email_verified);
    }
    if let Some((claim, groups)) = &user.groups {
        claims[claim.as_str()] = json!(groups);
    }
    if let Some(nonce) = request.nonce {
        claims["nonce"] = json!(nonce);
    }
    let wrong_issuer = format!("{issuer}/not-this-issuer");
    finish_id_token(state, claims, misbehave, request, &wrong_issuer)
}

/// Applies the misbehaviour (if any) and signs.
fn finish_id_token(
    state: &mut State,
    mut claims: Value,
    misbehave: Option<Misbehave>,
    request: &IdTokenRequest<'_>,
    wrong_issuer: &str,
) -> Result<String, CryptoError> {
    let now = request.now;
    match &misbehave {
        Some(Misbehave::WrongIssuer) => claims["iss"] = json!(wrong_issuer),
        Some(Misbehave::WrongAudience) => claims["aud"] = json!(guid()),
        Some(Misbehave::Expired) => {
            claims["iat"] = json!(now - 7200);
            claims["nbf"] = json!(now - 7200);
            claims["exp"] = json!(now - 3600);
        }
        Some(Misbehave::NotYetValid) => {
            claims["iat"] = json!(now + 3600);
            claims["nbf"] = json!(now + 3600);
            claims["exp"] = json!(now + 7200);
        }
        Some(Misbehave::WrongNonce) => claims["nonce"] = json!(random_b64(16)),
        Some(Misbehave::MissingNonce) => {
            if let Some(map) = claims.as_object_mut() {
                map.remove("nonce");
            }
        }
        _ => {}
    }
    let active = active_key(state)?;
    let mut header = json!({ "typ": "JWT", "alg": "RS256", "kid": active.kid });
    match misbehave {
        Some(Misbehave::UnknownKey) => {
            let rogue = rogue_key(state)?;
            header["kid"] = json!(rogue.kid);
            compact(&header, &claims, &Signer::Rsa(rogue, RsaAlg::Rs256))
        }
        Some(Misbehave::AlgNone) => {
            header["alg"] = json!("none");
            compact(&header, &claims, &Signer::Unsigned)
        }
        Some(Misbehave::Hs256ClientSecret) => {
            header["alg"] = json!("HS256");
            let secret = request.client_secret.unwrap_or_default();
            compact(&header, &claims, &Signer::Hmac(secret.as_bytes()))
        }
        Some(Misbehave::TamperedSignature) => {
            let token = compact(&header, &claims, &Signer::Rsa(active, RsaAlg::Rs256))?;
            Ok(crypto::tamper_signature(&token))
        }
        _ => compact(&header, &claims, &Signer::Rsa(active, RsaAlg::Rs256)),
    }
}

/// An app-only v1.0 access token for Graph (client credentials). `roles` carries
/// `User.Read.All` only while the tenant's admin consent stands.
pub fn graph_app_token(
    state: &State,
    tid: &str,
    client_id: &str,
    service_principal: &str,
    appidacr: &str,
    now: u64,
) -> Result<(String, u64), CryptoError> {
    let lifetime = state.knobs.app_token_lifetime;
    let consented = state
        .tenant(tid)
        .is_some_and(|t| t.consented.contains(client_id));
    let display_name = state
        .app(client_id)
        .map(|a| a.display_name.clone())
        .unwrap_or_default();
    let mut claims = json!({
        "aud": GRAPH_RESOURCE,
        "iss": sts_issuer(tid),
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
        "aio": random_b64(60),
        "app_displayname": display_name,
        "appid": client_id,
        "appidacr": appidacr,
        "idp": sts_issuer(tid),
        "idtyp": "app",
        "oid": service_principal,
        "rh": format!("1.{}", random_b64(48)),
        "sub": service_principal,
        "tid": tid,
        "uti": random_b64(16),
        "ver": "1.0",
    });
    if consented {
        claims["roles"] = json!([USER_READ_ALL, GROUP_MEMBER_READ_ALL]);
    }
    Ok((sign_access_token(state, &claims)?, lifetime))
}

/// A delegated v1.0 access token for Graph (what the authorization code grant returns).
pub fn graph_user_token(
    state: &State,
    tid: &str,
    user: &EntraUser,
    client_id: &str,
    now: u64,
) -> Result<String, CryptoError> {
    let claims = json!({
        "aud": GRAPH_APP_ID,
        "iss": sts_issuer(tid),
        "iat": now,
        "nbf": now,
        "exp": now + 3599,
        "appid": client_id,
        "idtyp": "user",
        "name": user.display_name,
        "oid": user.id,
        "scp": "openid profile email User.Read",
        "sub": pairwise_sub(GRAPH_APP_ID, tid, &user.id),
        "tid": tid,
        "upn": user.user_principal_name,
        "uti": random_b64(16),
        "ver": "1.0",
    });
    sign_access_token(state, &claims)
}

fn sign_access_token(state: &State, claims: &Value) -> Result<String, CryptoError> {
    let key = active_key(state)?;
    let header = json!({ "typ": "JWT", "alg": "RS256", "x5t": key.kid, "kid": key.kid });
    compact(&header, claims, &Signer::Rsa(key, RsaAlg::Rs256))
}
