//! Groups and roles: `organizations[].groups`, `users[].groups`, `upstreams[].groups_claim`
//! and `clients[].roles` / `claims` / `groups_limit`.

use std::collections::BTreeMap;

use serde_saphyr::Spanned;

use super::{Validator, at};
use crate::policy::raw::{RawGroupNames, RawOrgGroups, RawUpstreamKind, Text};
use crate::policy::{DEFAULT_GROUPS_LIMIT, GroupNames, OrgGroups};

/// The longest group or role name (an Entra display name is at most 256 characters).
const MAX_NAME: usize = 256;
/// The most roles one client defines, and groups one role or user lists.
const MAX_ENTRIES: usize = 1000;

/// A group or role name: not empty, no control characters, at most [`MAX_NAME`].
fn name(text: &str) -> Result<String, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("must not be empty".into());
    }
    if t.chars().count() > MAX_NAME {
        return Err(format!("is longer than {MAX_NAME} characters"));
    }
    if t.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(t.to_owned())
}

/// What `clients[]` says about groups and roles.
pub(super) struct ClientGroups {
    pub roles: Vec<(String, Vec<String>)>,
    pub always_groups: bool,
    pub always_roles: bool,
    pub groups_limit: usize,
}

impl Validator<'_> {
    /// A list of group names, without duplicates.
    pub(super) fn group_names(&mut self, path: &str, raw: &[Text]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        if raw.len() > MAX_ENTRIES {
            if let Some(first) = raw.first() {
                self.add(
                    at(first),
                    path,
                    format!("lists more than {MAX_ENTRIES} groups"),
                );
            }
            return out;
        }
        for (i, t) in raw.iter().enumerate() {
            if let Some(n) = self.check(t, &format!("{path}[{i}]"), name)
                && !out.contains(&n)
            {
                out.push(n);
            }
        }
        out
    }

    /// `organizations[].groups`; `kind` is the organisation's upstream's, if it has one.
    pub(super) fn org_groups(
        &mut self,
        path: &str,
        raw: Option<&Spanned<RawOrgGroups>>,
        kind: Option<RawUpstreamKind>,
    ) -> OrgGroups {
        let Some(raw) = raw else {
            return OrgGroups::default();
        };
        let g = &raw.value;
        let path = format!("{path}.groups");
        let upstream = match &g.upstream {
            Some(u) if u.value && kind.is_none() => {
                self.add(
                    at(u),
                    &format!("{path}.upstream"),
                    "needs an upstream to read groups from; add `upstream: <id>` to the \
                     organization or set upstream: false",
                );
                false
            }
            Some(u) => u.value,
            None => false,
        };
        let only = g.only.as_ref().map(|list| {
            let mut out = Vec::new();
            for (i, t) in list.value.iter().enumerate() {
                let p = format!("{path}.only[{i}]");
                let id = match kind {
                    // Entra group ids are GUIDs, lower-case in tokens.
                    Some(RawUpstreamKind::Entra) => self.check(t, &p, |s| {
                        crate::directory::entra_guid(s.trim()).ok_or_else(|| {
                            format!("{s:?} is not an Entra group object id (a GUID)")
                        })
                    }),
                    _ => self.check(t, &p, name),
                };
                if let Some(id) = id.filter(|id| !out.contains(id)) {
                    out.push(id);
                }
            }
            if !upstream {
                self.add(
                    at(list),
                    &format!("{path}.only"),
                    "filters upstream groups; it needs upstream: true",
                );
            }
            out
        });
        let names = match &g.names {
            None => GroupNames::Id,
            Some(n) if n.value == RawGroupNames::Name && kind != Some(RawUpstreamKind::Entra) => {
                self.add(
                    at(n),
                    &format!("{path}.names"),
                    "display names come from Microsoft Graph, so they need an upstream of kind \
                     entra; a generic OIDC provider's groups are named as its claim says",
                );
                GroupNames::Id
            }
            Some(n) => match n.value {
                RawGroupNames::Id => GroupNames::Id,
                RawGroupNames::Name => GroupNames::Name,
            },
        };
        let everyone = self.group_names(&format!("{path}.everyone"), &g.everyone);
        OrgGroups {
            upstream,
            only,
            names,
            everyone,
        }
    }

    /// `clients[].roles`, `claims` and `groups_limit`.
    pub(super) fn client_groups(
        &mut self,
        path: &str,
        roles: Option<&Spanned<BTreeMap<String, Vec<Text>>>>,
        claims: Option<&Vec<Text>>,
        limit: Option<&Spanned<u32>>,
    ) -> ClientGroups {
        let mut out = Vec::new();
        if let Some(map) = roles {
            if map.value.len() > MAX_ENTRIES {
                self.add(
                    at(map),
                    &format!("{path}.roles"),
                    format!("defines more than {MAX_ENTRIES} roles"),
                );
            }
            for (role, groups) in &map.value {
                let p = format!("{path}.roles.{role}");
                match name(role) {
                    Err(why) => self.add(at(map), &p, format!("the role name {why}")),
                    Ok(role) if groups.is_empty() => self.add(
                        at(map),
                        &p,
                        format!("role {role:?} lists no group; list the groups that grant it"),
                    ),
                    Ok(role) => {
                        let groups = self.group_names(&p, groups);
                        out.push((role, groups));
                    }
                }
            }
        }
        let (mut always_groups, mut always_roles) = (false, false);
        for (i, t) in claims.into_iter().flatten().enumerate() {
            match t.value.as_str() {
                "groups" => always_groups = true,
                "roles" => always_roles = true,
                other => self.add(
                    at(t),
                    &format!("{path}.claims[{i}]"),
                    format!(
                        "{other:?} is not a claim a client can always get; use groups or roles"
                    ),
                ),
            }
        }
        let groups_limit = match limit {
            None => DEFAULT_GROUPS_LIMIT,
            Some(l) if (1..=1000).contains(&l.value) => l.value as usize,
            Some(l) => {
                self.add(
                    at(l),
                    &format!("{path}.groups_limit"),
                    "must be between 1 and 1000",
                );
                DEFAULT_GROUPS_LIMIT
            }
        };
        ClientGroups {
            roles: out,
            always_groups,
            always_roles,
            groups_limit,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::name;

    #[test]
    fn group_names_are_trimmed_and_bounded() {
        assert_eq!(name("  Finance EU ").as_deref(), Ok("Finance EU"));
        assert!(name("  ").is_err());
        assert!(name("a\u{7}b").is_err());
        assert!(name(&"x".repeat(257)).is_err());
    }
}
