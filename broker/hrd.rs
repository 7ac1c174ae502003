//! Home realm discovery: which way a user signs in. The heart of the product (SPEC.md,
//! "The login method of a user").
//!
//! [`decide`] is a pure function of the policy and the directory record. It runs on every
//! identifier the login page receives, so it borrows everything it returns from the policy
//! and allocates nothing; the only lookups are the policy's in-memory indexes.

use crate::directory::{UpstreamLink, User};
use crate::policy::{Organization, Passkeys, Policy, SsoMode, Upstream, UpstreamKind};

/// The login method for one identifier.
#[derive(Debug, Clone, Copy)]
pub enum LoginMethod<'p> {
    /// Show the password step and check the password against the user's hash.
    Password,
    /// Show the same password step, and fail it after a dummy verification: an unknown
    /// identifier, a disabled user, a user with no sign-in method, or an SSO user whose
    /// organisation no longer has a usable upstream. Indistinguishable from `Password`
    /// from outside, by design (no user enumeration).
    NoMethod,
    /// The policy requires a passkey of this local user (`passkeys: required` at the top,
    /// on their organisation, or `users[].passkey`): the same password step is shown (it
    /// offers a passkey to everyone), and a password is refused with the same message once
    /// the user has a passkey (until then it lets them in to register one).
    Passkey,
    /// Send the user to the upstream provider.
    Upstream(UpstreamRoute<'p>),
}

/// Where to send a user for single sign-on.
#[derive(Debug, Clone, Copy)]
pub struct UpstreamRoute<'p> {
    pub upstream: &'p Upstream,
    pub organization: &'p Organization,
    /// The user may choose their password instead (`password_fallback: true` and a hash).
    pub password_allowed: bool,
    /// True when the user does not exist yet and will be created on return (`jit: true`).
    pub just_in_time: bool,
}

/// Normalises what the user typed: trimmed and lower-cased (SPEC step 1). Borrows when the
/// input is already normal, which is the common case on the hot path.
pub fn normalize(identifier: &str) -> std::borrow::Cow<'_, str> {
    let t = identifier.trim();
    if t.bytes().any(|b| b.is_ascii_uppercase()) || !t.is_ascii() {
        std::borrow::Cow::Owned(t.to_lowercase())
    } else {
        std::borrow::Cow::Borrowed(t)
    }
}

/// Decides the login method of `identifier` (normalised) given its directory record.
pub fn decide<'p>(policy: &'p Policy, identifier: &str, user: Option<&User>) -> LoginMethod<'p> {
    let Some(user) = user else {
        return unknown_identifier(policy, identifier);
    };
    if user.disabled {
        return LoginMethod::NoMethod;
    }
    if let Some(route) = sso_route(policy, user) {
        return LoginMethod::Upstream(route);
    }
    if passkey_required(policy, user) {
        return LoginMethod::Passkey;
    }
    if user.password_hash.is_some() {
        LoginMethod::Password
    } else {
        LoginMethod::NoMethod
    }
}

/// Whether `user` may sign in with a passkey: an enabled user who signs in locally (no
/// single sign-on route, or one that allows the password as a fallback). A passkey never
/// bypasses an organisation's single sign-on.
pub fn passkey_allowed(policy: &Policy, user: &User) -> bool {
    !user.disabled && sso_route(policy, user).is_none_or(|r| r.password_allowed)
}

/// Whether the policy requires a passkey of `user` (a local user): the top-level
/// `passkeys`, their organisation's `passkeys`, or their own `users[].passkey`.
fn passkey_required(policy: &Policy, user: &User) -> bool {
    policy.passkeys == Passkeys::Required
        || user
            .organization
            .as_deref()
            .and_then(|o| policy.org_by_id.get(o))
            .is_some_and(|o| o.passkeys == Passkeys::Required)
        || policy.passkey_users.contains(&user.email)
}

/// SPEC step 3, first case: the user was synced from the organisation's upstream and SSO
/// applies to them (`all_synced_users`, or `per_user` with the user's flag on).
fn sso_route<'p>(policy: &'p Policy, user: &User) -> Option<UpstreamRoute<'p>> {
    let link = user.link.as_ref()?;
    let organization = policy.org_by_id.get(user.organization.as_deref()?)?;
    let applies = match organization.sso {
        SsoMode::Off => false,
        SsoMode::PerUser => user.sso,
        SsoMode::AllSyncedUsers => true,
    };
    if !applies {
        return None;
    }
    let upstream = policy.upstream(organization.upstream.as_deref()?)?;
    // Only a link of the organisation's own upstream counts: an Entra link must be of the
    // organisation's tenant, an OIDC link of the upstream's issuer (SPEC step 4).
    let linked_here = match (&upstream.kind, link) {
        (UpstreamKind::Entra { .. }, UpstreamLink::Entra { tid, .. }) => {
            organization.tenant_id.as_deref() == Some(tid.as_str())
        }
        (UpstreamKind::Oidc { issuer }, UpstreamLink::Oidc { iss, .. }) => {
            issuer.as_str().trim_end_matches('/') == iss.trim_end_matches('/')
        }
        _ => false,
    };
    if !linked_here {
        return None;
    }
    Some(UpstreamRoute {
        upstream,
        organization,
        password_allowed: organization.password_fallback && user.password_hash.is_some(),
        just_in_time: false,
    })
}

/// SPEC step 3, last case: an unknown identifier goes upstream only when its domain belongs
/// to an organisation with `jit: true`; otherwise it gets the password step that fails.
fn unknown_identifier<'p>(policy: &'p Policy, identifier: &str) -> LoginMethod<'p> {
    let Some(organization) = policy.org_for_email(identifier) else {
        return LoginMethod::NoMethod;
    };
    if !organization.jit || organization.sso == SsoMode::Off {
        return LoginMethod::NoMethod;
    }
    match organization
        .upstream
        .as_deref()
        .and_then(|u| policy.upstream(u))
    {
        Some(upstream) => LoginMethod::Upstream(UpstreamRoute {
            upstream,
            organization,
            password_allowed: false,
            just_in_time: true,
        }),
        None => LoginMethod::NoMethod,
    }
}
