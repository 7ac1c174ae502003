//! From the parsed file ([`super::raw`]) to the validated [`Policy`].
//!
//! The validator walks the whole file and collects every problem, each with the line and column
//! of the offending value and a reason that starts with the value's path
//! (`clients[1].redirect_uris[0]: ...`). A value that fails is left out of the model, and the
//! checks that depend on it are skipped, so one mistake gives one problem, not a cascade.
//! Cross references (organisation → upstream, user → organisation) are checked against what the
//! file *declares*, so a broken upstream does not also make every organisation naming it fail.
//!
//! I/O here is limited to what the schema asks for: `*_env` reads an environment variable
//! through the caller's lookup function, `*_file` reads a file. Relative paths are relative to
//! the working directory of the process. No secret ever enters a message.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_saphyr::Spanned;

use super::raw::{RawOrganization, RawPolicy, RawUpstreamKind, Text};
use super::rules;
use super::{Organization, Policy, Problem, Upstream, UpstreamKind};

pub(super) use directory::Taken;

mod apis;
mod branding;
mod client_tokens;
mod clients;
mod directory;
mod groups;
mod mail;
mod settings;
mod upstreams;

/// Looks up an environment variable; the seam that lets tests supply their own environment.
pub(super) type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Secret files hold one value; anything bigger is a wrong path.
const MAX_SECRET_FILE_BYTES: u64 = 64 * 1024;
/// RFC 6749 §10.10 asks for tokens an attacker cannot guess; 32 characters of a random token
/// is the least we accept for the admin API's bearer token.
const MIN_ADMIN_TOKEN_CHARS: usize = 32;

const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
const DEFAULT_KEYS_DIR: &str = "certs/signing";
const DEFAULT_STORE_PATH: &str = "data/broker.db";
const DEFAULT_ENTRA_AUTHORITY: &str = "https://login.microsoftonline.com";
const DEFAULT_ENTRA_GRAPH: &str = "https://graph.microsoft.com";
const DEFAULT_CLIENT_SCOPES: [&str; 4] = ["openid", "email", "profile", "offline_access"];
const DEFAULT_UPSTREAM_SCOPES: [&str; 3] = ["openid", "email", "profile"];
const DEFAULT_UPSTREAM_TIMEOUT: Duration = Duration::from_secs(10);

const fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}
const MINUTE: u64 = 60;
const HOUR: u64 = 3600;
const DAY: u64 = 86_400;

/// Where a problem is: 1-based line and column.
#[derive(Debug, Clone, Copy)]
struct At {
    line: u64,
    column: u64,
}

impl At {
    const START: At = At { line: 1, column: 1 };
}

fn at<T>(s: &Spanned<T>) -> At {
    // Locations inside serde-buffered values are unknown (0:0); the document start is the
    // best remaining anchor.
    At {
        line: s.referenced.line().max(1),
        column: s.referenced.column().max(1),
    }
}

/// Validates a parsed policy; on failure, every problem found, sorted by position.
pub(super) fn validate(
    raw: RawPolicy,
    source: &Path,
    env: EnvLookup<'_>,
) -> Result<Policy, Vec<Problem>> {
    let mut v = Validator {
        env,
        problems: Vec::new(),
        assets: branding::Assets::default(),
    };
    let issuer = v.issuer(raw.issuer.as_ref());
    let listen = v.listen(raw.listen.as_ref());
    let tls = raw.tls.as_ref().and_then(|t| v.tls(t));
    let keys = v.keys(raw.keys.as_ref());
    let store = v.store(raw.store.as_ref());
    let lifetimes = v.lifetimes(raw.lifetimes.as_ref());
    let admin = raw.admin.as_ref().map(|a| v.admin(a)).unwrap_or_default();
    // Before the clients and organisations: their logos come from its folder.
    let mut branding = v.branding(raw.branding.as_ref());
    let i18n = v.i18n(raw.i18n.as_ref());
    let clients = v.clients(&raw.clients, &keys);
    let apis = v.apis(&raw.apis, &raw.clients);
    let (upstreams, declared_upstreams) = v.upstreams(&raw.upstreams);
    let (organizations, declared_orgs) = v.organizations(&raw.organizations, &declared_upstreams);
    let users = v.users(&raw.users, &declared_orgs);
    let rate_limits = v.rate_limits(raw.rate_limits.as_ref());
    let audit = v.audit(raw.audit.as_ref());
    let trusted_proxies = v.trusted_proxies(&raw.trusted_proxies);
    let server = v.server(raw.server.as_ref());
    let password_hashing = v.password_hashing(raw.password_hashing.as_ref());
    let mail = raw.mail.as_ref().and_then(|m| v.mail(m)).map(Arc::new);
    let password_reset = v.password_reset(raw.password_reset.as_ref(), raw.mail.is_some());

    branding.assets = std::mem::take(&mut v.assets).into_served();
    let mut problems = v.problems;
    let Some(issuer) = issuer.filter(|_| problems.is_empty()) else {
        if problems.is_empty() {
            // Unreachable by construction (a missing issuer is a problem); never build a
            // policy without one.
            problems.push(problem(At::START, "issuer", "required"));
        }
        problems.sort_by_key(|p| (p.line, p.column));
        return Err(problems);
    };

    let org_by_id: HashMap<String, Arc<Organization>> = organizations
        .iter()
        .map(|o| (o.id.clone(), Arc::clone(o)))
        .collect();
    let org_by_domain: HashMap<String, Arc<Organization>> = organizations
        .iter()
        .flat_map(|o| o.domains.iter().map(move |d| (d.clone(), Arc::clone(o))))
        .collect();

    Ok(Policy {
        source: source.to_path_buf(),
        issuer,
        listen,
        tls,
        keys,
        store,
        lifetimes,
        admin,
        clients,
        apis: super::Apis::new(apis),
        upstreams,
        organizations,
        org_by_id,
        org_by_domain,
        groups_by_email: Arc::new(
            users
                .iter()
                .filter(|u| !u.groups.is_empty())
                .map(|u| (u.email.clone(), u.groups.clone()))
                .collect(),
        ),
        passkey_users: Arc::new(
            users
                .iter()
                .filter(|u| u.passkey == super::Passkeys::Required)
                .map(|u| u.email.clone())
                .collect(),
        ),
        mfa_users: Arc::new(
            users
                .iter()
                .filter(|u| u.mfa_required)
                .map(|u| u.email.clone())
                .collect(),
        ),
        passkeys: directory::passkeys(raw.passkeys),
        users: users.into(),
        rate_limits,
        audit,
        trusted_proxies,
        server,
        password_hashing,
        branding: Arc::new(branding),
        i18n,
        mail,
        password_reset,
        mfa: super::MfaPolicy {
            required: raw.mfa.as_ref().and_then(|m| m.required).unwrap_or(false),
        },
    })
}

fn problem(at: At, path: &str, reason: impl std::fmt::Display) -> Problem {
    Problem {
        line: at.line,
        column: at.column,
        reason: format!("{path}: {reason}"),
    }
}

/// Checks one organisation created at run time (see [`super::runtime`]) against what is
/// `taken`, which it joins when it is accepted.
pub(super) fn runtime_organization(
    raw: &Spanned<RawOrganization>,
    taken: &mut Taken,
    upstreams: &HashMap<String, Arc<Upstream>>,
) -> Result<Organization, Vec<Problem>> {
    let declared: DeclaredUpstreams = upstreams
        .iter()
        .map(|(id, u)| {
            let kind = match u.kind {
                UpstreamKind::Entra { .. } => RawUpstreamKind::Entra,
                UpstreamKind::Oidc { .. } => RawUpstreamKind::Oidc,
            };
            (id.clone(), Some(kind))
        })
        .collect();
    let mut v = Validator {
        env: &|_| None,
        problems: Vec::new(),
        assets: branding::Assets::default(),
    };
    match v.runtime_organization(raw, taken, &declared) {
        Some(org) if v.problems.is_empty() => Ok(org),
        _ => Err(v.problems),
    }
}

/// What the file declares an upstream to be, for cross references.
type DeclaredUpstreams = HashMap<String, Option<RawUpstreamKind>>;

struct Validator<'e> {
    env: EnvLookup<'e>,
    problems: Vec<Problem>,
    /// The logos read so far (see [`branding`]).
    assets: branding::Assets,
}

impl Validator<'_> {
    /// A list of emails (normalised), each checked as a user's; a repeat is reported.
    fn emails(&mut self, raw: &[Text], path: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (i, t) in raw.iter().enumerate() {
            let p = format!("{path}[{i}]");
            if let Some(e) = self.check(t, &p, rules::email) {
                if out.contains(&e) {
                    self.add(at(t), &p, format!("{e:?} is listed twice"));
                } else {
                    out.push(e);
                }
            }
        }
        out
    }

    fn add(&mut self, at: At, path: &str, reason: impl std::fmt::Display) {
        self.problems.push(problem(at, path, reason));
    }

    /// Runs `check` on a spanned text and records its failure at the value.
    fn check<T>(
        &mut self,
        text: &Text,
        path: &str,
        check: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        match check(&text.value) {
            Ok(v) => Some(v),
            Err(why) => {
                self.add(at(text), path, why);
                None
            }
        }
    }

    fn path_value(&mut self, text: &Text, path: &str) -> Option<PathBuf> {
        self.check(text, path, |t| {
            if t.trim().is_empty() {
                Err("must not be empty; write a file path".to_owned())
            } else {
                Ok(PathBuf::from(t))
            }
        })
    }

    fn duration_or(
        &mut self,
        text: Option<&Text>,
        path: &str,
        default: Duration,
        (min, max): (Duration, Duration),
        why_max: &str,
    ) -> Duration {
        match text {
            None => default,
            Some(t) => self
                .check(t, path, |s| rules::duration_within(s, min, max, why_max))
                .unwrap_or(default),
        }
    }

    /// `*_env`: the named variable's value, non-empty. The value never enters a message.
    fn secret_from_env(&mut self, name: &Text, path: &str) -> Option<String> {
        self.check(name, path, rules::env_name)?;
        match (self.env)(&name.value) {
            None => {
                self.add(
                    at(name),
                    path,
                    format!("environment variable {} is not set", name.value),
                );
                None
            }
            Some(v) if v.is_empty() => {
                self.add(
                    at(name),
                    path,
                    format!("environment variable {} is empty", name.value),
                );
                None
            }
            Some(v) => Some(v),
        }
    }

    /// `*_file`: the file's content without trailing line breaks, non-empty.
    fn secret_from_file(&mut self, file: &Text, path: &str) -> Option<String> {
        let p = self.path_value(file, path)?;
        let read = std::fs::metadata(&p).and_then(|m| {
            if m.len() > MAX_SECRET_FILE_BYTES {
                Ok(None)
            } else {
                std::fs::read_to_string(&p).map(Some)
            }
        });
        match read {
            Err(e) => {
                self.add(at(file), path, format!("cannot read {}: {e}", p.display()));
                None
            }
            Ok(None) => {
                self.add(
                    at(file),
                    path,
                    format!(
                        "{} is larger than 64 KiB; it should hold only the secret",
                        p.display()
                    ),
                );
                None
            }
            Ok(Some(content)) => {
                let secret = content.trim_end_matches(['\n', '\r']);
                if secret.is_empty() {
                    self.add(at(file), path, format!("{} is empty", p.display()));
                    return None;
                }
                Some(secret.to_owned())
            }
        }
    }

    /// Reports all but the first (in document order) of a set of mutually exclusive keys;
    /// returns the first.
    fn at_most_one<T>(
        &mut self,
        path: &str,
        mut present: Vec<(&'static str, At, T)>,
    ) -> Option<(&'static str, T)> {
        present.sort_by_key(|(_, a, _)| (a.line, a.column));
        let mut iter = present.into_iter();
        let (first_name, _, first) = iter.next()?;
        for (name, a, _) in iter {
            self.add(
                a,
                &format!("{path}.{name}"),
                format!("{first_name} is already given; use only one of them"),
            );
        }
        Some((first_name, first))
    }

    /// A required, well-formed, unique id.
    fn unique_id(
        &mut self,
        path: &str,
        parent: At,
        id: Option<&Text>,
        what: &str,
        seen: &mut HashMap<String, u64>,
    ) -> Option<String> {
        let Some(id) = id else {
            self.add(
                parent,
                path,
                format!("`id` is required; give the {what} an id"),
            );
            return None;
        };
        let id_path = format!("{path}.id");
        self.check(id, &id_path, rules::id)?;
        if let Some(line) = seen.get(&id.value) {
            self.add(
                at(id),
                &id_path,
                format!(
                    "duplicate {what} id {:?} (first defined at line {line})",
                    id.value
                ),
            );
            return None;
        }
        seen.insert(id.value.clone(), at(id).line);
        Some(id.value.clone())
    }

    fn scopes(&mut self, path: &str, raw: Option<&Vec<Text>>, default: &[&str]) -> Vec<String> {
        let Some(list) = raw else {
            return default.iter().map(|s| (*s).to_owned()).collect();
        };
        let mut out: Vec<String> = Vec::new();
        for (i, s) in list.iter().enumerate() {
            if self
                .check(s, &format!("{path}[{i}]"), rules::scope)
                .is_some()
                && !out.contains(&s.value)
            {
                out.push(s.value.clone());
            }
        }
        out
    }
}

fn non_empty(text: &str) -> Result<String, String> {
    let t = text.trim();
    if t.is_empty() {
        Err("must not be empty".into())
    } else {
        Ok(t.to_owned())
    }
}
