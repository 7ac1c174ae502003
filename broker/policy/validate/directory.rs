//! `organizations[]` and `users[]`: who signs in where.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_saphyr::Spanned;

use super::{DAY, DeclaredUpstreams, MINUTE, Validator, at, non_empty, secs};
use crate::directory::UpstreamLink;
use crate::policy::raw::{
    RawLink, RawMfa, RawOrganization, RawSso, RawUpstreamKind, RawUser, Text,
};
use crate::policy::rules;
use crate::policy::{OrgOrigin, Organization, PolicyUser, SsoMode};

/// Where an organisation claiming a domain or a tenant was defined, for the messages.
#[derive(Debug, Clone, Copy)]
enum Where {
    /// At this line of the file being checked.
    Line(u64),
    /// In the policy file (checking an organisation created at run time).
    PolicyFile,
    /// Created at run time.
    Runtime,
}

/// The ids, domains and tenants that organisations already hold, for checking those
/// created at run time one after another.
#[derive(Debug, Default)]
pub(in crate::policy) struct Taken {
    ids: HashMap<String, Where>,
    claimed: HashMap<String, (String, Where)>,
    tenants: HashMap<String, (String, Where)>,
}

impl Taken {
    /// What the policy file's organisations hold.
    pub(in crate::policy) fn of_file(orgs: &[Arc<Organization>]) -> Taken {
        let mut taken = Taken::default();
        for o in orgs {
            taken.mark(&o.id, &o.domains, o.tenant_id.as_deref(), Where::PolicyFile);
        }
        taken
    }

    /// Adds what runtime organisations hold.
    pub(in crate::policy) fn runtime(&mut self, orgs: &[Arc<Organization>]) {
        for o in orgs {
            self.mark(&o.id, &o.domains, o.tenant_id.as_deref(), Where::Runtime);
        }
    }

    fn mark(&mut self, id: &str, domains: &[String], tenant: Option<&str>, place: Where) {
        self.ids.insert(id.to_owned(), place);
        for d in domains {
            self.claimed.insert(d.clone(), (id.to_owned(), place));
        }
        if let Some(t) = tenant {
            self.tenants.insert(t.to_owned(), (id.to_owned(), place));
        }
    }
}

impl std::fmt::Display for Where {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Where::Line(line) => write!(f, "line {line}"),
            Where::PolicyFile => f.write_str("defined in the policy file"),
            Where::Runtime => f.write_str("created at run time"),
        }
    }
}

impl Validator<'_> {
    pub(super) fn organizations(
        &mut self,
        raw: &[Spanned<RawOrganization>],
        upstreams: &DeclaredUpstreams,
    ) -> (Vec<Arc<Organization>>, HashSet<String>) {
        let mut seen = HashMap::new();
        let mut declared = HashSet::new();
        // domain -> (the organisation claiming it, where)
        let mut claimed: HashMap<String, (String, Where)> = HashMap::new();
        // tenant id -> (the organisation it belongs to, where)
        let mut tenants: HashMap<String, (String, Where)> = HashMap::new();
        let mut out = Vec::new();
        for (i, o) in raw.iter().enumerate() {
            let path = format!("organizations[{i}]");
            let before = self.problems.len();
            let id = self.unique_id(&path, at(o), o.value.id.as_ref(), "organization", &mut seen);
            if let Some(id) = &id {
                declared.insert(id.clone());
            }
            let org = self.organization(&path, o, id.as_deref(), upstreams, &mut claimed);
            if let Some(org) = &org {
                self.tenant_of_one(&path, o, org, &mut tenants);
            }
            if let Some(org) = org.filter(|_| self.problems.len() == before) {
                out.push(Arc::new(org));
            }
        }
        (out, declared)
    }

    /// Users are matched by (tenant, object id): a tenant shared by two organisations would
    /// make whose user it is a guess.
    fn tenant_of_one(
        &mut self,
        path: &str,
        raw: &Spanned<RawOrganization>,
        org: &Organization,
        tenants: &mut HashMap<String, (String, Where)>,
    ) {
        let (Some(t), Some(tid)) = (raw.value.tenant_id.as_ref(), &org.tenant_id) else {
            return;
        };
        match tenants.get(tid) {
            Some((other, place)) => self.add(
                at(t),
                &format!("{path}.tenant_id"),
                format!(
                    "tenant {tid:?} already belongs to organization {other:?} ({place}); one \
                     Entra tenant belongs to one organization"
                ),
            ),
            None => {
                tenants.insert(tid.clone(), (org.id.clone(), Where::Line(at(t).line)));
            }
        }
    }

    /// Checks one organisation created at run time against what is `taken` (the file's
    /// organisations and the runtime ones accepted before it), by the same rules and with
    /// the same messages as an entry of the file. Accepted, it is added to `taken`; refused,
    /// `taken` is as it was.
    pub(in crate::policy) fn runtime_organization(
        &mut self,
        raw: &Spanned<RawOrganization>,
        taken: &mut Taken,
        upstreams: &DeclaredUpstreams,
    ) -> Option<Organization> {
        let path = "organization";
        let before = self.problems.len();
        let id = match raw.value.id.as_ref() {
            None => {
                self.add(
                    at(raw),
                    path,
                    "`id` is required; give the organization an id",
                );
                None
            }
            Some(t) => self
                .check(t, &format!("{path}.id"), rules::id)
                .and_then(|()| match taken.ids.get(&t.value) {
                    Some(place) => {
                        self.add(
                            at(t),
                            &format!("{path}.id"),
                            format!("organization {:?} already exists ({place})", t.value),
                        );
                        None
                    }
                    None => Some(t.value.clone()),
                }),
        };
        let org = self.organization(path, raw, id.as_deref(), upstreams, &mut taken.claimed);
        if let Some(org) = &org {
            self.tenant_of_one(path, raw, org, &mut taken.tenants);
        }
        let owner = id.as_deref().unwrap_or(path);
        match org.filter(|_| self.problems.len() == before) {
            Some(org) => {
                taken.mark(
                    &org.id,
                    &org.domains,
                    org.tenant_id.as_deref(),
                    Where::Runtime,
                );
                Some(Organization {
                    origin: OrgOrigin::Runtime,
                    ..org
                })
            }
            None => {
                // What this check claimed on the way goes back.
                taken
                    .claimed
                    .retain(|_, (o, place)| !(o == owner && matches!(place, Where::Line(_))));
                taken
                    .tenants
                    .retain(|_, (o, place)| !(o == owner && matches!(place, Where::Line(_))));
                None
            }
        }
    }

    fn organization(
        &mut self,
        path: &str,
        raw: &Spanned<RawOrganization>,
        id: Option<&str>,
        upstreams: &DeclaredUpstreams,
        claimed: &mut HashMap<String, (String, Where)>,
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
                Some((other, Where::Line(line))) if other == owner => self.add(
                    at(d),
                    &p,
                    format!("domain {domain:?} is listed twice (first at line {line})"),
                ),
                Some((other, place)) => self.add(
                    at(d),
                    &p,
                    format!(
                        "domain {domain:?} is claimed by both organization {other:?} \
                         ({place}) and {owner:?}; an email domain belongs to one organization"
                    ),
                ),
                None => {
                    claimed.insert(domain.clone(), (owner.to_owned(), Where::Line(at(d).line)));
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
        let admins = self.emails(&o.admins, &format!("{path}.admins"));
        let groups = self.org_groups(path, o.groups.as_ref(), kind);
        let branding = self.org_branding(path, o.branding.as_ref());
        Some(Organization {
            id: id?.to_owned(),
            origin: OrgOrigin::PolicyFile,
            admins,
            domains,
            upstream: upstream_name.map(str::to_owned),
            tenant_id,
            sso,
            password_fallback: o.password_fallback.unwrap_or(false),
            jit,
            sync_interval,
            groups,
            branding,
            passkeys: passkeys(o.passkeys),
            mfa_required: o.mfa == Some(RawMfa::Required),
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
            groups: self.group_names(&format!("{path}.groups"), &u.groups),
            profile: self.profile(path, u),
            passkey: passkeys(u.passkey),
            mfa_required: u.mfa == Some(RawMfa::Required),
        })
    }

    /// The OIDC Core §5.1 claims of a policy user.
    fn profile(&mut self, path: &str, u: &RawUser) -> crate::directory::Profile {
        let mut text = |t: &Option<Text>, name: &str, rule: fn(&str) -> Result<String, String>| {
            t.as_ref()
                .and_then(|t| self.check(t, &format!("{path}.{name}"), rule))
        };
        crate::directory::Profile {
            given_name: text(&u.given_name, "given_name", short_text),
            family_name: text(&u.family_name, "family_name", short_text),
            preferred_username: text(&u.preferred_username, "preferred_username", short_text),
            locale: text(&u.locale, "locale", language_tag),
            zoneinfo: text(&u.zoneinfo, "zoneinfo", time_zone),
            picture: text(&u.picture, "picture", picture_url),
        }
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

fn short_text(t: &str) -> Result<String, String> {
    let t = t.trim();
    if t.is_empty() || t.chars().count() > 256 || t.chars().any(char::is_control) {
        return Err("must be 1 to 256 characters, without control characters".into());
    }
    Ok(t.to_owned())
}

/// A BCP 47 language tag as OIDC Core §5.1 `locale` takes it (`de`, `de-CH`, `zh-Hant-TW`):
/// letters, digits and hyphens, the first subtag two or three letters.
fn language_tag(t: &str) -> Result<String, String> {
    let t = t.trim();
    let mut parts = t.split('-');
    let first_ok = parts
        .next()
        .is_some_and(|p| (2..=3).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphabetic()));
    let rest_ok =
        parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()));
    if first_ok && rest_ok {
        Ok(t.to_owned())
    } else {
        Err(format!("{t:?} is not a language tag (BCP 47), e.g. de-CH"))
    }
}

/// An IANA time zone name as OIDC Core §5.1 `zoneinfo` takes it (`Europe/Zurich`, `UTC`).
fn time_zone(t: &str) -> Result<String, String> {
    let t = t.trim();
    let ok = !t.is_empty()
        && t.len() <= 64
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | '+'));
    if ok {
        Ok(t.to_owned())
    } else {
        Err(format!("{t:?} is not a time zone name, e.g. Europe/Zurich"))
    }
}

/// `picture`: an `https` URL (a browser fetches it from the application's page).
fn picture_url(t: &str) -> Result<String, String> {
    let t = t.trim();
    match url::Url::parse(t) {
        Ok(u) if u.scheme() == "https" && u.host_str().is_some() => Ok(t.to_owned()),
        _ => Err(format!("{t:?} is not an https URL")),
    }
}

/// `passkeys:` / `passkey:` as the model says it (absent: optional).
pub(super) fn passkeys(raw: Option<super::super::raw::RawPasskeys>) -> crate::policy::Passkeys {
    match raw {
        Some(super::super::raw::RawPasskeys::Required) => crate::policy::Passkeys::Required,
        _ => crate::policy::Passkeys::Optional,
    }
}
