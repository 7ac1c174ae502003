//! `organizations[]` and `users[]`: who signs in where.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_saphyr::Spanned;

use super::{DAY, DeclaredUpstreams, MINUTE, Validator, at, non_empty, secs};
use crate::directory::UpstreamLink;
use crate::policy::raw::{RawLink, RawOrganization, RawSso, RawUpstreamKind, RawUser};
use crate::policy::rules;
use crate::policy::{Organization, PolicyUser, SsoMode};

impl Validator<'_> {
    pub(super) fn organizations(
        &mut self,
        raw: &[Spanned<RawOrganization>],
        upstreams: &DeclaredUpstreams,
    ) -> (Vec<Arc<Organization>>, HashSet<String>) {
        let mut seen = HashMap::new();
        let mut declared = HashSet::new();
        // domain -> (the organisation claiming it, line)
        let mut claimed: HashMap<String, (String, u64)> = HashMap::new();
        // tenant id -> (the organisation it belongs to, line)
        let mut tenants: HashMap<String, (String, u64)> = HashMap::new();
        let mut out = Vec::new();
        for (i, o) in raw.iter().enumerate() {
            let path = format!("organizations[{i}]");
            let before = self.problems.len();
            let id = self.unique_id(&path, at(o), o.value.id.as_ref(), "organization", &mut seen);
            if let Some(id) = &id {
                declared.insert(id.clone());
            }
            let org = self.organization(&path, o, id.as_deref(), upstreams, &mut claimed);
            // Users are matched by (tenant, object id): a tenant shared by two organisations
            // would make whose user it is a guess.
            if let (Some(org), Some(t)) = (&org, o.value.tenant_id.as_ref())
                && let Some(tid) = &org.tenant_id
            {
                match tenants.get(tid) {
                    Some((other, line)) => self.add(
                        at(t),
                        &format!("{path}.tenant_id"),
                        format!(
                            "tenant {tid:?} already belongs to organization {other:?} (line \
                             {line}); one Entra tenant belongs to one organization"
                        ),
                    ),
                    None => {
                        tenants.insert(tid.clone(), (org.id.clone(), at(t).line));
                    }
                }
            }
            if let Some(org) = org.filter(|_| self.problems.len() == before) {
                out.push(Arc::new(org));
            }
        }
        (out, declared)
    }

    fn organization(
        &mut self,
        path: &str,
        raw: &Spanned<RawOrganization>,
        id: Option<&str>,
        upstreams: &DeclaredUpstreams,
        claimed: &mut HashMap<String, (String, u64)>,
    ) -> Option<Organization> {
        let o = &raw.value;
        let owner = id.unwrap_or(path);
        let mut domains = Vec::new();
        for (j, d) in o.domains.iter().enumerate() {
            let p = format!("{path}.domains[{j}]");
            let Some(domain) = self.check(d, &p, rules::domain) else {
                continue;
            };
            match claimed.get(&domain) {
                Some((other, line)) if other == owner => self.add(
                    at(d),
                    &p,
                    format!("domain {domain:?} is listed twice (first at line {line})"),
                ),
                Some((other, line)) => self.add(
                    at(d),
                    &p,
                    format!(
                        "domain {domain:?} is claimed by both organization {other:?} (line \
                         {line}) and {owner:?}; an email domain belongs to one organization"
                    ),
                ),
                None => {
                    claimed.insert(domain.clone(), (owner.to_owned(), at(d).line));
                    domains.push(domain);
                }
            }
        }

        // The upstream's kind, when the file declares the upstream and its kind.
        let kind: Option<RawUpstreamKind> = match &o.upstream {
            None => None,
            Some(t) => match upstreams.get(&t.value) {
                Some(kind) => *kind,
                None => {
                    let mut known: Vec<&str> = upstreams.keys().map(String::as_str).collect();
                    known.sort_unstable();
                    let hint = if known.is_empty() {
                        "no upstreams are declared; add one under `upstreams:`".to_owned()
                    } else {
                        format!("declared upstreams: {}", known.join(", "))
                    };
                    self.add(
                        at(t),
                        &format!("{path}.upstream"),
                        format!("no upstream with id {:?}; {hint}", t.value),
                    );
                    None
                }
            },
        };
        let upstream_name = o.upstream.as_ref().map(|t| t.value.as_str());

        let tenant_id = match (&o.tenant_id, upstream_name, kind) {
            (Some(t), None, _) => {
                self.add(
                    at(t),
                    &format!("{path}.tenant_id"),
                    "needs an upstream of kind entra; add `upstream: <id>`",
                );
                None
            }
            (Some(t), Some(up), Some(RawUpstreamKind::Oidc)) => {
                self.add(
                    at(t),
                    &format!("{path}.tenant_id"),
                    format!("only for an entra upstream; {up:?} is kind oidc"),
                );
                None
            }
            (Some(t), _, _) => self.check(t, &format!("{path}.tenant_id"), rules::guid),
            (None, Some(up), Some(RawUpstreamKind::Entra)) => {
                self.add(
                    at(raw),
                    path,
                    format!(
                        "`tenant_id` is required because upstream {up:?} is kind entra; it is \
                         the organization's Entra directory (tenant) id"
                    ),
                );
                None
            }
            (None, _, _) => None,
        };

        let sso = match &o.sso {
            None => SsoMode::Off,
            Some(s) => {
                if s.value != RawSso::Off && upstream_name.is_none() {
                    self.add(
                        at(s),
                        &format!("{path}.sso"),
                        "needs an upstream to send users to; add `upstream: <id>` or set sso: off",
                    );
                }
                match s.value {
                    RawSso::Off => SsoMode::Off,
                    RawSso::PerUser => SsoMode::PerUser,
                    RawSso::AllSyncedUsers => SsoMode::AllSyncedUsers,
                }
            }
        };
        let jit = match &o.jit {
            Some(j) if j.value && upstream_name.is_none() => {
                self.add(
                    at(j),
                    &format!("{path}.jit"),
                    "needs an upstream that creates the users; add `upstream: <id>` or set jit: false",
                );
                false
            }
            Some(j) if j.value && sso == SsoMode::Off => {
                self.add(
                    at(j),
                    &format!("{path}.jit"),
                    "has no effect with sso: off (just-in-time users sign in through the \
                     upstream); set sso: all_synced_users or per_user, or jit: false",
                );
                false
            }
            Some(j) => j.value,
            None => false,
        };
        let sync_interval = match &o.sync {
            None => None,
            Some(s) if kind != Some(RawUpstreamKind::Entra) => {
                // Unknown upstream or kind: already reported; say nothing more.
                if upstream_name.is_none() || kind.is_some() {
                    self.add(
                        at(s),
                        &format!("{path}.sync"),
                        "user sync reads Microsoft Graph, so it needs an upstream of kind entra",
                    );
                }
                None
            }
            Some(s) => match &s.value.interval {
                None => {
                    self.add(
                        at(s),
                        &format!("{path}.sync"),
                        "`interval` is required, e.g. sync: {interval: 1h}",
                    );
                    None
                }
                Some(t) => self.check(t, &format!("{path}.sync.interval"), |text| {
                    rules::duration_within(text, secs(5 * MINUTE), secs(30 * DAY), "")
                }),
            },
        };
        Some(Organization {
            id: id?.to_owned(),
            domains,
            upstream: upstream_name.map(str::to_owned),
            tenant_id,
            sso,
            password_fallback: o.password_fallback.unwrap_or(false),
            jit,
            sync_interval,
        })
    }

    pub(super) fn users(
        &mut self,
        raw: &[Spanned<RawUser>],
        orgs: &HashSet<String>,
    ) -> Vec<PolicyUser> {
        let mut emails: HashMap<String, u64> = HashMap::new();
        let mut links: HashMap<String, u64> = HashMap::new();
        let mut out = Vec::new();
        for (i, u) in raw.iter().enumerate() {
            let before = self.problems.len();
            let user = self.user(&format!("users[{i}]"), u, orgs, &mut emails, &mut links);
            if let Some(user) = user.filter(|_| self.problems.len() == before) {
                out.push(user);
            }
        }
        out
    }

    fn user(
        &mut self,
        path: &str,
        raw: &Spanned<RawUser>,
        orgs: &HashSet<String>,
        emails: &mut HashMap<String, u64>,
        links: &mut HashMap<String, u64>,
    ) -> Option<PolicyUser> {
        let u = &raw.value;
        let email = match &u.email {
            None => {
                self.add(at(raw), path, "`email` is required");
                None
            }
            Some(t) => {
                let p = format!("{path}.email");
                self.check(t, &p, rules::email).and_then(|e| {
                    if let Some(line) = emails.get(&e) {
                        self.add(
                            at(t),
                            &p,
                            format!("duplicate user {e:?} (first defined at line {line})"),
                        );
                        None
                    } else {
                        emails.insert(e.clone(), at(t).line);
                        Some(e)
                    }
                })
            }
        };
        let password_hash = u.password_hash.as_ref().and_then(|t| {
            self.check(t, &format!("{path}.password_hash"), rules::argon2id_phc)
                .map(|()| t.value.clone())
        });
        let organization = match &u.organization {
            None => None,
            Some(t) if orgs.contains(&t.value) => Some(t.value.clone()),
            Some(t) => {
                self.add(
                    at(t),
                    &format!("{path}.organization"),
                    format!(
                        "no organization with id {:?}; declare it under `organizations:`",
                        t.value
                    ),
                );
                None
            }
        };
        let link = u
            .link
            .as_ref()
            .and_then(|l| self.link(&format!("{path}.link"), l, links));
        let name = match &u.name {
            Some(t) => self.check(t, &format!("{path}.name"), non_empty),
            None => email
                .as_deref()
                .and_then(|e| e.split_once('@'))
                .map(|(local, _)| local.to_owned()),
        };
        Some(PolicyUser {
            email: email?,
            name: name?,
            password_hash,
            organization,
            link,
            sso: u.sso.unwrap_or(false),
            disabled: u.disabled.unwrap_or(false),
        })
    }

    fn link(
        &mut self,
        path: &str,
        raw: &Spanned<RawLink>,
        seen: &mut HashMap<String, u64>,
    ) -> Option<UpstreamLink> {
        let l = &raw.value;
        let link = match (&l.tid, &l.oid, &l.iss, &l.sub) {
            (Some(tid), Some(oid), None, None) => {
                let tid = self.check(tid, &format!("{path}.tid"), rules::guid);
                let oid = self.check(oid, &format!("{path}.oid"), rules::guid);
                UpstreamLink::Entra {
                    tid: tid?,
                    oid: oid?,
                }
            }
            (None, None, Some(iss), Some(sub)) => {
                let iss_ok = self.check(iss, &format!("{path}.iss"), non_empty);
                let sub_ok = self.check(sub, &format!("{path}.sub"), non_empty);
                UpstreamLink::Oidc {
                    iss: iss_ok?,
                    sub: sub_ok?,
                }
            }
            _ => {
                self.add(
                    at(raw),
                    path,
                    "write {tid, oid} for an Entra user or {iss, sub} for another OIDC provider",
                );
                return None;
            }
        };
        let key = link.index_key();
        if let Some(line) = seen.get(&key) {
            self.add(
                at(raw),
                path,
                format!("another user (line {line}) is already linked to this upstream identity"),
            );
            return None;
        }
        seen.insert(key, at(raw).line);
        Some(link)
    }
}
