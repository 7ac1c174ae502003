//! The directory's domain types: users, their upstream links, sessions, and the two bundles
//! a sign-in carries from record to record (what was asked for, how the user authenticated).
//!
//! Every layer speaks of these: the routing decision (`hrd`), the OAuth rules (`op`), the
//! upstream checks, the policy's seed users, the services and the store. So they depend on
//! nothing but std and serde, and do no I/O; the store keeps them as their JSON.

use serde::{Deserialize, Serialize};

pub use crate::clock::UnixTime;

/// The immutable upstream identity a directory user is matched by; never the email.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum UpstreamLink {
    /// Entra: (tenant id `tid`, object id `oid`), both lower-case GUIDs.
    Entra { tid: String, oid: String },
    /// Any OIDC provider: (`iss`, `sub`).
    Oidc { iss: String, sub: String },
}

impl UpstreamLink {
    /// The key of the link index. `iss` may contain any character, so it is percent-encoded.
    pub fn index_key(&self) -> String {
        match self {
            UpstreamLink::Entra { tid, oid } => format!("entra/{tid}/{oid}"),
            UpstreamLink::Oidc { iss, sub } => {
                let iss: String = form_urlencoded::byte_serialize(iss.as_bytes()).collect();
                let sub: String = form_urlencoded::byte_serialize(sub.as_bytes()).collect();
                format!("oidc/{iss}/{sub}")
            }
        }
    }
}

/// An Entra GUID (tenant, object or application id) in its hyphenated form, any case;
/// returned lower-case, as Entra writes it in `tid` and `oid`. Braced, URN and unhyphenated
/// forms are refused: Entra never writes them, so they are a typo in a policy or a request.
pub fn entra_guid(text: &str) -> Option<String> {
    const HYPHENATED_LEN: usize = 36;
    if text.len() != HYPHENATED_LEN {
        return None;
    }
    uuid::Uuid::try_parse(text)
        .ok()
        .map(|u| u.hyphenated().to_string())
}

/// Where a directory user came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserSource {
    /// Listed under `users:` in the policy file.
    Policy,
    /// Created through the admin API.
    Admin,
    /// Imported from an Entra tenant through Graph.
    Import,
    /// Created on first upstream sign-in (`jit: true`).
    Jit,
}

/// A directory user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// The stable broker user id: the `sub` of every token. Never reused, never changes.
    pub id: String,
    /// The normalised sign-in identifier (trimmed, lower-case email or UPN). Unique.
    pub email: String,
    pub name: String,
    pub organization: Option<String>,
    /// Argon2id PHC string.
    pub password_hash: Option<String>,
    pub link: Option<UpstreamLink>,
    /// The per-user SSO switch (used when the organisation's `sso` is `per_user`).
    pub sso: bool,
    pub disabled: bool,
    pub source: UserSource,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
    /// Tokens and sessions issued before this instant are no longer honoured.
    pub tokens_valid_after: UnixTime,
    /// The `email_verified` of the broker's tokens. True for addresses from the policy file
    /// or an import (the admin's); for a just-in-time user, whether the upstream vouched for
    /// the address. Records written before this field existed read as true.
    #[serde(default = "verified")]
    pub email_verified: bool,
    /// What else the broker knows of the person (OIDC Core §5.1), for the `profile` scope.
    #[serde(default, skip_serializing_if = "Profile::is_empty")]
    pub profile: Profile,
    /// For a user the policy file lists: the password hash the file last gave
    /// (`users[].password_hash`). A reload puts the file's hash in force only when the file
    /// changes it, so a password reset (or set by an admin) since then stays.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_password_hash: Option<String>,
}

/// The OIDC Core §5.1 standard claims the broker keeps besides `name` and `email`: from
/// Entra (the ID token and Graph) for SSO and imported users, from the policy for its own.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    /// BCP 47 language tag, such as `de-CH`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// IANA time zone, such as `Europe/Zurich`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zoneinfo: Option<String>,
    /// An `https` URL of the person's picture.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picture: Option<String>,
}

impl Profile {
    pub fn is_empty(&self) -> bool {
        self == &Profile::default()
    }

    /// `self` with every field `newer` has taken from it: an upstream that leaves a claim
    /// out does not erase what another source said.
    pub fn updated_by(&self, newer: &Profile) -> Profile {
        let pick = |new: &Option<String>, old: &Option<String>| new.clone().or_else(|| old.clone());
        Profile {
            given_name: pick(&newer.given_name, &self.given_name),
            family_name: pick(&newer.family_name, &self.family_name),
            preferred_username: pick(&newer.preferred_username, &self.preferred_username),
            locale: pick(&newer.locale, &self.locale),
            zoneinfo: pick(&newer.zoneinfo, &self.zoneinfo),
            picture: pick(&newer.picture, &self.picture),
        }
    }
}

fn verified() -> bool {
    true
}

/// A group a user belongs to at their upstream: Entra's object id and display name, or a
/// generic OIDC provider's group value (then `name` is `None`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpstreamGroup {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// The upstream groups of a user as last read: at each SSO sign-in, from the ID token or,
/// when Entra signals overage, from Graph. Kept apart from [`User`], which the routing
/// decision caches for every user: a member of 250 groups should not weigh on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserGroups {
    pub groups: Vec<UpstreamGroup>,
    /// The upstream they were read from.
    pub upstream: String,
    pub updated_at: UnixTime,
}

/// A signed-in browser session at the broker (the SSO session behind the session cookie).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// Public id (`sid` claim); the cookie holds a separate secret handle.
    pub id: String,
    pub user_id: String,
    #[serde(flatten)]
    pub auth: Authentication,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
}

/// How and where the user authenticated: what a session holds and every code, refresh
/// family, device grant and token of that sign-in repeats (OIDC Core §2 `auth_time` and
/// `amr`). Records embed it with `#[serde(flatten)]`, so its fields sit at the top level of
/// their JSON, as they did before this struct existed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authentication {
    pub auth_time: UnixTime,
    /// RFC 8176 authentication method references: `pwd` or `fed`.
    pub amr: Vec<String>,
    /// The upstream id when signed in through SSO.
    pub idp: Option<String>,
    pub organization: Option<String>,
    /// The authentication context class asserted to the client (OIDC Core §2 `acr`, see
    /// `acr.rs`): decided when a code is issued, and kept by its refresh family, so refreshed
    /// ID tokens repeat it. Never set on a session, whose sign-in serves every client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
}

/// The parts of a validated authorization request that its code is bound to: checked again
/// when the code is redeemed (RFC 6749 §4.1.3 `client_id` and `redirect_uri`, RFC 7636 §4.6
/// `code_challenge`) and repeated in the ID token (OIDC Core §2 `nonce`). `state` is not
/// here: it goes back to the client with the code (RFC 6749 §4.1.2) and is never stored with
/// the code. Records embed it with `#[serde(flatten)]`, keeping their JSON flat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: Vec<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    /// The API the grant is for (its identifier; RFC 8707 §2), from `resource` or from the
    /// API's scopes; `None` for the client itself. Absent from records written before APIs
    /// existed, which read as `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// The request's `acr_values` the broker knows (OIDC Core §3.1.2.1), in its order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub acr_values: Vec<String>,
}

/// An organisation as an operator wrote it: the fields of one `organizations[]` entry of
/// the policy file, one to one, so the same rules check it and `export-organizations` can
/// print it back as policy YAML. Organisations created at run time are stored as this and
/// checked again whenever the policy file changes (the file wins every conflict).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganizationSpec {
    pub id: String,
    #[serde(default)]
    pub domains: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// `off`, `per_user` or `all_synced_users`, as in the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sso: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_fallback: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jit: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync: Option<SyncSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<GroupsSpec>,
}

/// `groups:` of an organisation, as in the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupsSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub only: Option<Vec<String>>,
    /// `id` or `name`, as in the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub names: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub everyone: Vec<String>,
}

/// `sync: {interval: 1h}` of an organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncSpec {
    pub interval: String,
}

/// An organisation created at run time, as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuntimeOrganization {
    pub spec: OrganizationSpec,
    pub created_at: UnixTime,
    /// Who created it, as the audit log names admins.
    pub created_by: String,
    pub updated_at: UnixTime,
    pub updated_by: String,
}
