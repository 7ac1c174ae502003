//! Which groups a user is in, as tokens name them, and which of a client's roles they grant.
//! Pure: the policy, the user's upstream groups as last read, and the client decide.
//!
//! - **Groups** are the union of the policy's broker groups (`users[].groups`, and
//!   `organizations[].groups.everyone` for the user's organisation) and, when the organisation
//!   reads them (`groups.upstream: true`), the user's upstream groups, filtered by
//!   `groups.only` and named by `groups.names` (object id by default, or display name).
//!   Display names are not unique: two upstream groups of one name appear once, and a role
//!   mapped to that name is granted by either (map roles to ids when that matters).
//! - **Roles** are the client's own (`clients[].roles`): a role is granted when one of its
//!   groups is among the user's groups, or is the object id of one of the user's upstream
//!   groups (so roles can always be mapped to immutable ids, whatever `names` says).
//! - **The claims** `groups` and `roles` go to a client that asked for the scope of that name
//!   or is configured to always get them (`clients[].claims`). A token never silently loses
//!   groups: past `clients[].groups_limit` it carries no `groups` but `groups_overflow: true`,
//!   and `/userinfo` answers the whole list (roles are never cut).

use super::scope;
use crate::directory::UserGroups;
use crate::policy::{Client, GroupNames, Organization};

/// A user's groups, and the ids of their upstream groups that count, borrowed from the
/// policy and the groups as read: nothing is copied until a claim needs it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Membership<'a> {
    /// As tokens name them, sorted, without duplicates.
    pub groups: Vec<&'a str>,
    /// The object ids of the upstream groups that count (for role mapping), sorted.
    pub upstream_ids: Vec<&'a str>,
}

/// The groups of a user: `policy_groups` (`users[].groups`), their organisation's, and their
/// upstream groups as last read (stored sorted by id, so sorting here is cheap).
pub fn membership<'a>(
    policy_groups: &'a [String],
    org: Option<&'a Organization>,
    upstream: Option<&'a UserGroups>,
) -> Membership<'a> {
    // The policy's few groups, sorted; the upstream's many, merged in: stored sorted by id,
    // so with ids as names only a check is needed, not a sort.
    let mut own: Vec<&str> = policy_groups.iter().map(String::as_str).collect();
    let mut named: Vec<&str> = Vec::new();
    let mut upstream_ids: Vec<&str> = Vec::new();
    if let Some(org) = org {
        own.extend(org.groups.everyone.iter().map(String::as_str));
        if org.groups.upstream
            && let Some(read) = upstream
        {
            upstream_ids.reserve(read.groups.len());
            named.reserve(read.groups.len());
            for g in &read.groups {
                if org
                    .groups
                    .only
                    .as_ref()
                    .is_some_and(|only| !only.iter().any(|id| id == &g.id))
                {
                    continue;
                }
                upstream_ids.push(g.id.as_str());
                named.push(match (org.groups.names, &g.name) {
                    (GroupNames::Name, Some(name)) => name.as_str(),
                    // No display name (a generic provider's value): the id it is.
                    _ => g.id.as_str(),
                });
            }
        }
    }
    sorted_set(&mut own);
    sorted_set(&mut named);
    sorted_set(&mut upstream_ids);
    Membership {
        groups: merge(&own, &named),
        upstream_ids,
    }
}

/// Sorts and deduplicates, cheaply when already sorted (the stored groups are).
fn sorted_set(v: &mut Vec<&str>) {
    if !v.is_sorted() {
        v.sort_unstable();
    }
    v.dedup();
}

/// The union of two sorted sets, sorted.
fn merge<'a>(a: &[&'a str], b: &[&'a str]) -> Vec<&'a str> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(b[j]) {
            std::cmp::Ordering::Less => {
                out.push(a[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(b[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

/// The roles of `client` that `m` grants, sorted by name.
pub fn roles(client: &Client, m: &Membership<'_>) -> Vec<String> {
    let has = |g: &String| {
        m.groups.binary_search(&g.as_str()).is_ok()
            || m.upstream_ids.binary_search(&g.as_str()).is_ok()
    };
    client
        .roles
        .iter()
        .filter(|(_, groups)| groups.iter().any(has))
        .map(|(role, _)| role.clone())
        .collect()
}

/// The group and role claims of one token or userinfo answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupClaims {
    pub groups: Option<Vec<String>>,
    /// More groups than the client's limit: `groups` is left out, `/userinfo` has them all.
    pub groups_overflow: bool,
    pub roles: Option<Vec<String>>,
}

/// Where the claims go: a token is size-limited, `/userinfo` is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carrier {
    Token,
    UserInfo,
}

/// Whether `client` gets the `groups` / `roles` claims for `granted` scopes.
pub fn wants(client: &Client, granted: &[String]) -> (bool, bool) {
    (
        client.always_groups || scope::has(granted, "groups"),
        client.always_roles || scope::has(granted, "roles"),
    )
}

/// The claims `client` gets for `granted` scopes.
pub fn claims(
    client: &Client,
    granted: &[String],
    m: &Membership<'_>,
    carrier: Carrier,
) -> GroupClaims {
    let (want_groups, want_roles) = wants(client, granted);
    let mut out = GroupClaims::default();
    if want_groups {
        if carrier == Carrier::Token && m.groups.len() > client.groups_limit {
            out.groups_overflow = true;
        } else {
            out.groups = Some(m.groups.iter().map(|g| (*g).to_owned()).collect());
        }
    }
    if want_roles {
        out.roles = Some(roles(client, m));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::UpstreamGroup;
    use crate::policy::{OrgGroups, OrgOrigin, SsoMode};

    fn org(groups: OrgGroups) -> Organization {
        Organization {
            id: "contoso".into(),
            origin: OrgOrigin::PolicyFile,
            domains: vec!["contoso.com".into()],
            upstream: Some("entra".into()),
            tenant_id: None,
            sso: SsoMode::AllSyncedUsers,
            password_fallback: false,
            jit: false,
            sync_interval: None,
            admins: vec![],
            groups,
            branding: Default::default(),
            passkeys: Default::default(),
            mfa_required: false,
        }
    }

    fn read(groups: &[(&str, &str)]) -> UserGroups {
        UserGroups {
            groups: groups
                .iter()
                .map(|(id, name)| UpstreamGroup {
                    id: (*id).into(),
                    name: Some((*name).into()),
                })
                .collect(),
            upstream: "entra".into(),
            updated_at: 0,
        }
    }

    fn client(roles: &[(&str, &[&str])], limit: usize) -> Client {
        Client {
            id: "app".into(),
            secret: None,
            jwks: None,
            redirect_uris: vec![],
            post_logout_redirect_uris: vec![],
            grants: vec![],
            scopes: vec![],
            native: false,
            signing: Default::default(),
            acr: Default::default(),
            name: "app".into(),
            roles: roles
                .iter()
                .map(|(r, g)| ((*r).into(), g.iter().map(|s| (*s).to_owned()).collect()))
                .collect(),
            always_groups: false,
            always_roles: false,
            groups_limit: limit,
            logo: None,
            mfa_required: false,
        }
    }

    #[test]
    fn policy_organisation_and_upstream_groups_are_one_sorted_set() {
        let o = org(OrgGroups {
            upstream: true,
            only: None,
            names: GroupNames::Id,
            everyone: vec!["staff".into()],
        });
        let policy = ["admins".to_owned(), "staff".to_owned()];
        let r = read(&[("g2", "Two"), ("g1", "One")]);
        let m = membership(&policy, Some(&o), Some(&r));
        assert_eq!(m.groups, ["admins", "g1", "g2", "staff"]);
        assert_eq!(m.upstream_ids, ["g1", "g2"]);
    }

    #[test]
    fn upstream_groups_count_only_when_the_organisation_reads_them_and_only_the_listed() {
        let off = org(OrgGroups::default());
        let r = read(&[("g1", "One")]);
        let m = membership(&[], Some(&off), Some(&r));
        assert!(m.groups.is_empty());
        let only = org(OrgGroups {
            upstream: true,
            only: Some(vec!["g2".into()]),
            names: GroupNames::Name,
            everyone: vec![],
        });
        let r = read(&[("g1", "One"), ("g2", "Two")]);
        let m = membership(&[], Some(&only), Some(&r));
        assert_eq!(m.groups, ["Two"]);
        assert_eq!(m.upstream_ids, ["g2"]);
    }

    #[test]
    fn display_names_that_clash_appear_once() {
        let o = org(OrgGroups {
            upstream: true,
            only: None,
            names: GroupNames::Name,
            everyone: vec![],
        });
        let r = read(&[("g1", "Sales"), ("g2", "Sales")]);
        let m = membership(&[], Some(&o), Some(&r));
        assert_eq!(m.groups, ["Sales"]);
        assert_eq!(m.upstream_ids, ["g1", "g2"]);
    }

    #[test]
    fn roles_match_group_names_or_upstream_ids_and_are_the_clients_own() {
        let o = org(OrgGroups {
            upstream: true,
            only: None,
            names: GroupNames::Name,
            everyone: vec![],
        });
        let policy = ["admins".to_owned()];
        let r = read(&[("g1", "Readers")]);
        let m = membership(&policy, Some(&o), Some(&r));
        let a = client(
            &[
                ("admin", &["admins"]),
                ("reader", &["g1"]),
                ("x", &["nope"]),
            ],
            10,
        );
        assert_eq!(roles(&a, &m), ["admin", "reader"]);
        let b = client(&[("viewer", &["Readers"])], 10);
        assert_eq!(roles(&b, &m), ["viewer"]);
    }

    #[test]
    fn claims_follow_the_scopes_and_overflow_in_tokens_only() {
        let names: Vec<String> = (0..5).map(|i| format!("g{i}")).collect();
        let m = Membership {
            groups: names.iter().map(String::as_str).collect(),
            upstream_ids: vec![],
        };
        let c = client(&[("r", &["g0"])], 3);
        let none = claims(&c, &["openid".into()], &m, Carrier::Token);
        assert_eq!(none, GroupClaims::default());
        let scopes = ["openid".to_owned(), "groups".to_owned(), "roles".to_owned()];
        let token = claims(&c, &scopes, &m, Carrier::Token);
        assert_eq!(token.groups, None);
        assert!(token.groups_overflow);
        assert_eq!(token.roles.as_deref(), Some(&["r".to_owned()][..]));
        let info = claims(&c, &scopes, &m, Carrier::UserInfo);
        assert_eq!(info.groups.as_ref().map(Vec::len), Some(5));
        assert!(!info.groups_overflow);
        let mut always = client(&[], 10);
        always.always_groups = true;
        let t = claims(&always, &["openid".into()], &m, Carrier::Token);
        assert_eq!(t.groups.as_ref().map(Vec::len), Some(5));
        assert_eq!(t.roles, None);
    }

    #[test]
    fn merging_keeps_one_sorted_set() {
        assert_eq!(
            merge(&["a", "c", "x"], &["b", "c", "d"]),
            ["a", "b", "c", "d", "x"]
        );
        assert_eq!(merge(&[], &["b"]), ["b"]);
        let mut v = vec!["b", "a", "b"];
        sorted_set(&mut v);
        assert_eq!(v, ["a", "b"]);
    }
}
