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

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;
use serde_saphyr::Spanned;
use url::Url;

use super::raw::{
    RawAdmin, RawAlgorithm, RawAudit, RawCertificate, RawClient, RawKeys, RawLifetimes, RawLink,
    RawOrganization, RawPolicy, RawRateLimits, RawSink, RawSso, RawStore, RawStoreKind, RawTls,
    RawUpstream, RawUpstreamKind, RawUser, Text,
};
use super::rules;
use super::{
    AdminPolicy, AuditPolicy, AuditSink, Client, ClientSecret, GrantType, KeysPolicy, Lifetimes,
    Organization, Policy, PolicyUser, Problem, RateLimits, SigningAlg, SsoMode, StorePolicy,
    TlsFiles, Upstream, UpstreamCredential, UpstreamKind,
};
use crate::store::UpstreamLink;

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
    };
    let issuer = v.issuer(raw.issuer.as_ref());
    let listen = v.listen(raw.listen.as_ref());
    let tls = raw.tls.as_ref().and_then(|t| v.tls(t));
    let keys = v.keys(raw.keys.as_ref());
    let store = v.store(raw.store.as_ref());
    let lifetimes = v.lifetimes(raw.lifetimes.as_ref());
    let admin = raw.admin.as_ref().map(|a| v.admin(a)).unwrap_or_default();
    let clients = v.clients(&raw.clients);
    let (upstreams, declared_upstreams) = v.upstreams(&raw.upstreams);
    let (organizations, declared_orgs) = v.organizations(&raw.organizations, &declared_upstreams);
    let users = v.users(&raw.users, &declared_orgs);
    let rate_limits = v.rate_limits(raw.rate_limits.as_ref());
    let audit = v.audit(raw.audit.as_ref());
    let trusted_proxies = v.trusted_proxies(&raw.trusted_proxies);

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
        upstreams,
        organizations,
        org_by_id,
        org_by_domain,
        users,
        rate_limits,
        audit,
        trusted_proxies,
    })
}

fn problem(at: At, path: &str, reason: impl std::fmt::Display) -> Problem {
    Problem {
        line: at.line,
        column: at.column,
        reason: format!("{path}: {reason}"),
    }
}

/// What the file declares an upstream to be, for cross references.
type DeclaredUpstreams = HashMap<String, Option<RawUpstreamKind>>;

struct Validator<'e> {
    env: EnvLookup<'e>,
    problems: Vec<Problem>,
}

impl Validator<'_> {
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

    // ---- top level -------------------------------------------------------------------------

    fn issuer(&mut self, raw: Option<&Text>) -> Option<super::Issuer> {
        let Some(t) = raw else {
            self.add(
                At::START,
                "issuer",
                "required; write the broker's public base URL, e.g. issuer: https://login.example.com",
            );
            return None;
        };
        self.check(t, "issuer", rules::issuer)
    }

    fn listen(&mut self, raw: Option<&Text>) -> SocketAddr {
        let default = SocketAddr::from(([127, 0, 0, 1], 8080));
        let Some(t) = raw else { return default };
        self.check(t, "listen", |s| {
            s.parse::<SocketAddr>().map_err(|_| {
                format!(
                    "{s:?} is not an address and port; write it like {DEFAULT_LISTEN} or [::]:443"
                )
            })
        })
        .unwrap_or(default)
    }

    fn tls(&mut self, raw: &Spanned<RawTls>) -> Option<TlsFiles> {
        let file = |v: &mut Self, t: Option<&Text>, name: &str| match t {
            Some(t) => v.path_value(t, &format!("tls.{name}")),
            None => {
                v.add(
                    at(raw),
                    "tls",
                    format!("`{name}` is required; tls needs both cert and key (PEM files)"),
                );
                None
            }
        };
        let cert = file(self, raw.value.cert.as_ref(), "cert");
        let key = file(self, raw.value.key.as_ref(), "key");
        Some(TlsFiles {
            cert: cert?,
            key: key?,
        })
    }

    fn keys(&mut self, raw: Option<&RawKeys>) -> KeysPolicy {
        let dir = raw
            .and_then(|k| k.dir.as_ref())
            .and_then(|d| self.path_value(d, "keys.dir"))
            .unwrap_or_else(|| PathBuf::from(DEFAULT_KEYS_DIR));
        let algorithm = match raw.and_then(|k| k.algorithm) {
            None | Some(RawAlgorithm::ES256) => SigningAlg::ES256,
            Some(RawAlgorithm::EdDSA) => SigningAlg::EdDSA,
            Some(RawAlgorithm::RS256) => SigningAlg::RS256,
        };
        KeysPolicy { dir, algorithm }
    }

    fn store(&mut self, raw: Option<&Spanned<RawStore>>) -> StorePolicy {
        let default = || StorePolicy::Embedded {
            path: PathBuf::from(DEFAULT_STORE_PATH),
        };
        let Some(raw) = raw else { return default() };
        let s = &raw.value;
        match s.kind.unwrap_or(RawStoreKind::Embedded) {
            RawStoreKind::Embedded => {
                for (name, field) in [("url", &s.url), ("url_env", &s.url_env)] {
                    if let Some(f) = field {
                        self.add(
                            at(f),
                            &format!("store.{name}"),
                            "only for kind: redis (add `kind: redis`, or remove it)",
                        );
                    }
                }
                match &s.path {
                    None => default(),
                    Some(p) => self
                        .path_value(p, "store.path")
                        .map(|path| StorePolicy::Embedded { path })
                        .unwrap_or_else(default),
                }
            }
            RawStoreKind::Redis => {
                if let Some(p) = &s.path {
                    self.add(at(p), "store.path", "only for kind: embedded");
                }
                let present: Vec<_> = [("url", &s.url), ("url_env", &s.url_env)]
                    .into_iter()
                    .filter_map(|(n, f)| f.as_ref().map(|f| (n, at(f), f)))
                    .collect();
                let url = match self.at_most_one("store", present) {
                    None => {
                        self.add(
                            at(raw),
                            "store",
                            "kind redis needs `url` or `url_env`, e.g. url: redis://127.0.0.1:6379/0",
                        );
                        None
                    }
                    Some(("url", t)) => self
                        .check(t, "store.url", rules::redis_url)
                        .map(|()| t.value.clone()),
                    Some((_, t)) => self.secret_from_env(t, "store.url_env").and_then(|url| {
                        rules::redis_url(&url)
                            .map_err(|why| {
                                self.add(
                                    at(t),
                                    "store.url_env",
                                    format!("the value of {} {why}", t.value),
                                )
                            })
                            .ok()
                            .map(|()| url)
                    }),
                };
                match url {
                    Some(url) => StorePolicy::Redis {
                        url: SecretString::from(url),
                    },
                    None => default(),
                }
            }
        }
    }

    fn lifetimes(&mut self, raw: Option<&RawLifetimes>) -> Lifetimes {
        let d = Lifetimes::default();
        let empty = RawLifetimes::default();
        let r = raw.unwrap_or(&empty);
        Lifetimes {
            session: self.duration_or(
                r.session.as_ref(),
                "lifetimes.session",
                d.session,
                (secs(MINUTE), secs(30 * DAY)),
                "",
            ),
            // RFC 6749 §4.1.2: "A maximum authorization code lifetime of 10 minutes is
            // RECOMMENDED."
            code: self.duration_or(
                r.code.as_ref(),
                "lifetimes.code",
                d.code,
                (secs(1), secs(10 * MINUTE)),
                "RFC 6749 §4.1.2: codes are redeemed at once",
            ),
            access_token: self.duration_or(
                r.access_token.as_ref(),
                "lifetimes.access_token",
                d.access_token,
                (secs(MINUTE), secs(DAY)),
                "a leaked access token cannot be revoked; use refresh tokens for long sessions",
            ),
            id_token: self.duration_or(
                r.id_token.as_ref(),
                "lifetimes.id_token",
                d.id_token,
                (secs(MINUTE), secs(DAY)),
                "",
            ),
            refresh_token: self.duration_or(
                r.refresh_token.as_ref(),
                "lifetimes.refresh_token",
                d.refresh_token,
                (secs(MINUTE), secs(365 * DAY)),
                "",
            ),
            login: self.duration_or(
                r.login.as_ref(),
                "lifetimes.login",
                d.login,
                (secs(MINUTE), secs(HOUR)),
                "",
            ),
        }
    }

    fn admin(&mut self, raw: &Spanned<RawAdmin>) -> AdminPolicy {
        let a = &raw.value;
        let present: Vec<_> = [("token_env", &a.token_env), ("token_file", &a.token_file)]
            .into_iter()
            .filter_map(|(n, f)| f.as_ref().map(|f| (n, at(f), f)))
            .collect();
        let token = match self.at_most_one("admin", present) {
            None => {
                self.add(
                    at(raw),
                    "admin",
                    "needs `token_env` or `token_file` (or remove `admin` to turn the admin API off)",
                );
                None
            }
            Some(("token_env", t)) => self
                .secret_from_env(t, "admin.token_env")
                .map(|s| (s, t, "admin.token_env")),
            Some((_, t)) => self
                .secret_from_file(t, "admin.token_file")
                .map(|s| (s, t, "admin.token_file")),
        };
        let Some((token, t, path)) = token else {
            return AdminPolicy::default();
        };
        if token.chars().count() < MIN_ADMIN_TOKEN_CHARS {
            self.add(
                at(t),
                path,
                format!(
                    "the admin token from {} is shorter than {MIN_ADMIN_TOKEN_CHARS} characters; \
                     a short token can be guessed, so use a long random one \
                     (e.g. `openssl rand -base64 32`)",
                    t.value
                ),
            );
            return AdminPolicy::default();
        }
        AdminPolicy {
            token_sha256: Some(crate::secret::sha256(token.as_bytes())),
        }
    }

    // ---- clients ---------------------------------------------------------------------------

    fn clients(&mut self, raw: &[Spanned<RawClient>]) -> HashMap<String, Arc<Client>> {
        let mut seen = HashMap::new();
        let mut out = HashMap::new();
        for (i, c) in raw.iter().enumerate() {
            if let Some(client) = self.client(&format!("clients[{i}]"), c, &mut seen) {
                out.insert(client.id.clone(), Arc::new(client));
            }
        }
        out
    }

    fn client(
        &mut self,
        path: &str,
        raw: &Spanned<RawClient>,
        seen: &mut HashMap<String, u64>,
    ) -> Option<Client> {
        let before = self.problems.len();
        let c = &raw.value;
        let id = self.unique_id(path, at(raw), c.id.as_ref(), "client", seen);
        let native = c.native.as_ref().is_some_and(|n| n.value);

        let present: Vec<_> = [
            ("secret_env", &c.secret_env),
            ("secret_file", &c.secret_file),
            ("secret_hash", &c.secret_hash),
        ]
        .into_iter()
        .filter_map(|(n, f)| f.as_ref().map(|f| (n, at(f), f)))
        .collect();
        let confidential = !present.is_empty();
        let secret = match self.at_most_one(path, present) {
            None => None,
            Some(("secret_hash", t)) => self
                .check(t, &format!("{path}.secret_hash"), rules::argon2id_phc)
                .map(|()| ClientSecret::Argon2(t.value.clone())),
            Some(("secret_env", t)) => self
                .secret_from_env(t, &format!("{path}.secret_env"))
                .map(|s| ClientSecret::Sha256(crate::secret::sha256(s.as_bytes()))),
            Some((_, t)) => self
                .secret_from_file(t, &format!("{path}.secret_file"))
                .map(|s| ClientSecret::Sha256(crate::secret::sha256(s.as_bytes()))),
        };
        if let Some(n) = c.native.as_ref().filter(|n| n.value && confidential) {
            // RFC 8252 §8.5: a secret shipped in a native app is not a secret.
            self.add(
                at(n),
                &format!("{path}.native"),
                "a native app cannot keep a secret (RFC 8252 §8.5); remove its secret_* or \
                 set native: false",
            );
        }

        let grants = self.grants(path, c.grants.as_ref(), confidential);
        self.redirect_uris_required(path, raw, &grants);
        let redirect_uris = self.uris(
            &format!("{path}.redirect_uris"),
            c.redirect_uris.as_ref().map(|l| l.value.as_slice()),
            native,
        );
        let post_logout_redirect_uris = self.uris(
            &format!("{path}.post_logout_redirect_uris"),
            Some(&c.post_logout_redirect_uris),
            native,
        );
        let scopes = self.scopes(
            &format!("{path}.scopes"),
            c.scopes.as_ref(),
            &DEFAULT_CLIENT_SCOPES,
        );
        let name = match &c.name {
            Some(n) => self.check(n, &format!("{path}.name"), non_empty)?,
            None => id.clone()?,
        };
        if self.problems.len() > before {
            return None;
        }
        Some(Client {
            id: id?,
            secret,
            redirect_uris,
            post_logout_redirect_uris,
            grants,
            scopes,
            native,
            name,
        })
    }

    fn grants(
        &mut self,
        path: &str,
        raw: Option<&Spanned<Vec<Text>>>,
        confidential: bool,
    ) -> Vec<GrantType> {
        let Some(list) = raw else {
            return vec![GrantType::AuthorizationCode, GrantType::RefreshToken];
        };
        if list.value.is_empty() {
            self.add(
                at(list),
                &format!("{path}.grants"),
                "is empty; a client needs at least one grant, e.g. [authorization_code, refresh_token]",
            );
        }
        let mut out = Vec::new();
        for (i, g) in list.value.iter().enumerate() {
            let p = format!("{path}.grants[{i}]");
            let Some(grant) = GrantType::parse(&g.value) else {
                self.add(
                    at(g),
                    &p,
                    format!(
                        "unknown grant {:?}; use authorization_code, refresh_token, \
                         client_credentials, device_code or token_exchange",
                        g.value
                    ),
                );
                continue;
            };
            if grant == GrantType::ClientCredentials && !confidential {
                // RFC 6749 §4.4: "The client credentials grant type MUST only be used by
                // confidential clients."
                self.add(
                    at(g),
                    &p,
                    "client_credentials is only for confidential clients (RFC 6749 §4.4); give \
                     the client secret_env, secret_file or secret_hash",
                );
                continue;
            }
            if !out.contains(&grant) {
                out.push(grant);
            }
        }
        out
    }

    fn redirect_uris_required(
        &mut self,
        path: &str,
        raw: &Spanned<RawClient>,
        grants: &[GrantType],
    ) {
        if !grants.contains(&GrantType::AuthorizationCode) {
            return;
        }
        match &raw.value.redirect_uris {
            Some(list) if !list.value.is_empty() => {}
            Some(list) => self.add(
                at(list),
                &format!("{path}.redirect_uris"),
                "is empty; the authorization_code grant needs at least one redirect URI",
            ),
            None => self.add(
                at(raw),
                path,
                "`redirect_uris` is required for the authorization_code grant, e.g. \
                 redirect_uris: [https://app.example.com/callback]",
            ),
        }
    }

    fn uris(&mut self, path: &str, raw: Option<&[Text]>, native: bool) -> Vec<Url> {
        raw.unwrap_or_default()
            .iter()
            .enumerate()
            .filter_map(|(i, u)| {
                self.check(u, &format!("{path}[{i}]"), |s| {
                    rules::redirect_uri(s, native)
                })
            })
            .collect()
    }

    // ---- upstreams -------------------------------------------------------------------------

    fn upstreams(
        &mut self,
        raw: &[Spanned<RawUpstream>],
    ) -> (HashMap<String, Arc<Upstream>>, DeclaredUpstreams) {
        let mut seen = HashMap::new();
        let mut declared = DeclaredUpstreams::new();
        let mut out = HashMap::new();
        for (i, u) in raw.iter().enumerate() {
            let path = format!("upstreams[{i}]");
            let before = self.problems.len();
            let id = self.unique_id(&path, at(u), u.value.id.as_ref(), "upstream", &mut seen);
            if let Some(id) = &id {
                declared.insert(id.clone(), u.value.kind);
            }
            let upstream = self.upstream_body(&path, u, id.as_deref());
            if let Some(upstream) = upstream.filter(|_| self.problems.len() == before) {
                out.insert(upstream.id.clone(), Arc::new(upstream));
            }
        }
        (out, declared)
    }

    fn upstream_body(
        &mut self,
        path: &str,
        raw: &Spanned<RawUpstream>,
        id: Option<&str>,
    ) -> Option<Upstream> {
        let u = &raw.value;
        let Some(kind) = u.kind else {
            self.add(at(raw), path, "`kind` is required; use entra or oidc");
            return None;
        };
        let client_id = match &u.client_id {
            None => {
                self.add(
                    at(raw),
                    path,
                    "`client_id` is required: the broker's application (client) id at this provider",
                );
                None
            }
            Some(t) if kind == RawUpstreamKind::Entra => {
                self.check(t, &format!("{path}.client_id"), rules::guid)
            }
            Some(t) => self.check(t, &format!("{path}.client_id"), non_empty),
        };

        // Settings that belong to the other kind are mistakes, not silently ignored.
        let foreign: &[(&str, Option<&Text>)] = match kind {
            RawUpstreamKind::Entra => &[("issuer", u.issuer.as_ref())],
            RawUpstreamKind::Oidc => &[
                ("authority", u.authority.as_ref()),
                ("graph", u.graph.as_ref()),
            ],
        };
        let other = match kind {
            RawUpstreamKind::Entra => "oidc",
            RawUpstreamKind::Oidc => "entra",
        };
        for (name, field) in foreign {
            if let Some(f) = field {
                self.add(
                    at(f),
                    &format!("{path}.{name}"),
                    format!("only for kind: {other}"),
                );
            }
        }
        if let (RawUpstreamKind::Oidc, Some(c)) = (kind, &u.client_certificate) {
            self.add(
                at(c),
                &format!("{path}.client_certificate"),
                "only for kind: entra; an oidc upstream uses client_secret_env, \
                 client_secret_file, or no secret (public client with PKCE)",
            );
        }

        let credential = self.upstream_credential(path, raw, kind);
        let upstream_kind = match kind {
            RawUpstreamKind::Entra => {
                let authority = self.url_or(
                    path,
                    "authority",
                    u.authority.as_ref(),
                    DEFAULT_ENTRA_AUTHORITY,
                );
                let graph = self.url_or(path, "graph", u.graph.as_ref(), DEFAULT_ENTRA_GRAPH);
                Some(UpstreamKind::Entra {
                    authority: authority?,
                    graph: graph?,
                })
            }
            RawUpstreamKind::Oidc => match &u.issuer {
                None => {
                    self.add(
                        at(raw),
                        path,
                        "`issuer` is required for kind oidc, e.g. issuer: https://idp.example.com",
                    );
                    None
                }
                Some(t) => self
                    .check(t, &format!("{path}.issuer"), rules::service_url)
                    .map(|issuer| UpstreamKind::Oidc { issuer }),
            },
        };
        let mut scopes = self.scopes(
            &format!("{path}.scopes"),
            u.scopes.as_ref(),
            &DEFAULT_UPSTREAM_SCOPES,
        );
        // OIDC Core §3.1.2.1: without `openid` it is not an OpenID Connect request.
        if !scopes.iter().any(|s| s == "openid") {
            scopes.insert(0, "openid".to_owned());
        }
        let timeout = self.duration_or(
            u.timeout.as_ref(),
            &format!("{path}.timeout"),
            DEFAULT_UPSTREAM_TIMEOUT,
            (secs(1), secs(2 * MINUTE)),
            "a user waits this long for the page",
        );
        let display_name = match &u.display_name {
            Some(t) => self.check(t, &format!("{path}.display_name"), non_empty)?,
            None if kind == RawUpstreamKind::Entra => "Microsoft".to_owned(),
            None => id?.to_owned(),
        };
        Some(Upstream {
            id: id?.to_owned(),
            kind: upstream_kind?,
            client_id: client_id?,
            credential: credential?,
            scopes,
            timeout,
            display_name,
        })
    }

    fn url_or(&mut self, path: &str, name: &str, raw: Option<&Text>, default: &str) -> Option<Url> {
        match raw {
            Some(t) => self.check(t, &format!("{path}.{name}"), rules::service_url),
            None => Url::parse(default).ok(),
        }
    }

    fn upstream_credential(
        &mut self,
        path: &str,
        raw: &Spanned<RawUpstream>,
        kind: RawUpstreamKind,
    ) -> Option<UpstreamCredential> {
        enum Cred<'r> {
            Env(&'r Text),
            File(&'r Text),
            Cert(&'r Spanned<RawCertificate>),
        }
        let u = &raw.value;
        let mut present = Vec::new();
        if let Some(t) = &u.client_secret_env {
            present.push(("client_secret_env", at(t), Cred::Env(t)));
        }
        if let Some(t) = &u.client_secret_file {
            present.push(("client_secret_file", at(t), Cred::File(t)));
        }
        if let Some(c) = u.client_certificate.as_ref() {
            // For kind oidc the certificate is refused elsewhere; do not count it twice.
            if kind == RawUpstreamKind::Entra {
                present.push(("client_certificate", at(c), Cred::Cert(c)));
            }
        }
        match self.at_most_one(path, present) {
            None if kind == RawUpstreamKind::Entra => {
                self.add(
                    at(raw),
                    path,
                    "kind entra needs a credential: client_secret_env, client_secret_file or \
                     client_certificate",
                );
                None
            }
            None => Some(UpstreamCredential::None),
            Some((_, Cred::Env(t))) => self
                .secret_from_env(t, &format!("{path}.client_secret_env"))
                .map(|s| UpstreamCredential::Secret(SecretString::from(s))),
            Some((_, Cred::File(t))) => self
                .secret_from_file(t, &format!("{path}.client_secret_file"))
                .map(|s| UpstreamCredential::Secret(SecretString::from(s))),
            Some((_, Cred::Cert(c))) => self.certificate(path, c),
        }
    }

    fn certificate(
        &mut self,
        path: &str,
        raw: &Spanned<RawCertificate>,
    ) -> Option<UpstreamCredential> {
        let p = format!("{path}.client_certificate");
        let file = |v: &mut Self, t: Option<&Text>, name: &str| {
            let Some(t) = t else {
                v.add(
                    at(raw),
                    &p,
                    format!("`{name}` is required; give both cert and key (PEM files)"),
                );
                return None;
            };
            let file = v.path_value(t, &format!("{p}.{name}"))?;
            if !file.is_file() {
                v.add(
                    at(t),
                    &format!("{p}.{name}"),
                    format!("{} does not exist or is not a file", file.display()),
                );
                return None;
            }
            Some(file)
        };
        let cert = file(self, raw.value.cert.as_ref(), "cert");
        let key = file(self, raw.value.key.as_ref(), "key");
        Some(UpstreamCredential::Certificate {
            cert: cert?,
            key: key?,
        })
    }

    // ---- organisations ---------------------------------------------------------------------

    fn organizations(
        &mut self,
        raw: &[Spanned<RawOrganization>],
        upstreams: &DeclaredUpstreams,
    ) -> (Vec<Arc<Organization>>, HashSet<String>) {
        let mut seen = HashMap::new();
        let mut declared = HashSet::new();
        // domain -> (the organisation claiming it, line)
        let mut claimed: HashMap<String, (String, u64)> = HashMap::new();
        let mut out = Vec::new();
        for (i, o) in raw.iter().enumerate() {
            let path = format!("organizations[{i}]");
            let before = self.problems.len();
            let id = self.unique_id(&path, at(o), o.value.id.as_ref(), "organization", &mut seen);
            if let Some(id) = &id {
                declared.insert(id.clone());
            }
            let org = self.organization(&path, o, id.as_deref(), upstreams, &mut claimed);
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

    // ---- users -----------------------------------------------------------------------------

    fn users(&mut self, raw: &[Spanned<RawUser>], orgs: &HashSet<String>) -> Vec<PolicyUser> {
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

    // ---- the rest --------------------------------------------------------------------------

    fn rate_limits(&mut self, raw: Option<&RawRateLimits>) -> RateLimits {
        let d = RateLimits::default();
        let empty = RawRateLimits::default();
        let r = raw.unwrap_or(&empty);
        let count =
            |v: &mut Self, field: &Option<Spanned<u32>>, name: &str, default: u32| match field {
                Some(n) if n.value == 0 => {
                    v.add(
                        at(n),
                        &format!("rate_limits.{name}"),
                        "must be at least 1 (0 would refuse every attempt)",
                    );
                    default
                }
                Some(n) => n.value,
                None => default,
            };
        let password_per_ip = count(
            self,
            &r.password_per_ip,
            "password_per_ip",
            d.password_per_ip,
        );
        let password_per_identifier = count(
            self,
            &r.password_per_identifier,
            "password_per_identifier",
            d.password_per_identifier,
        );
        let token_per_client = count(
            self,
            &r.token_per_client,
            "token_per_client",
            d.token_per_client,
        );
        let window = self.duration_or(
            r.window.as_ref(),
            "rate_limits.window",
            d.window,
            (secs(1), secs(DAY)),
            "",
        );
        RateLimits {
            password_per_ip,
            password_per_identifier,
            token_per_client,
            window,
        }
    }

    fn audit(&mut self, raw: Option<&RawAudit>) -> AuditPolicy {
        let d = AuditPolicy::default();
        let Some(a) = raw else { return d };
        let sink = match &a.sink {
            None => d.sink,
            Some(RawSink::Stdout) => AuditSink::Stdout,
            Some(RawSink::Off) => AuditSink::Off,
            Some(RawSink::File(t)) => self
                .path_value(t, "audit.sink.file")
                .map_or(d.sink, AuditSink::File),
        };
        let retention = self.duration_or(
            a.retention.as_ref(),
            "audit.retention",
            d.retention,
            (secs(DAY), secs(3650 * DAY)),
            "",
        );
        AuditPolicy { sink, retention }
    }

    fn trusted_proxies(&mut self, raw: &[Text]) -> Vec<IpAddr> {
        raw.iter()
            .enumerate()
            .filter_map(|(i, t)| self.check(t, &format!("trusted_proxies[{i}]"), rules::ip))
            .collect()
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
