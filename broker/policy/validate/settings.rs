//! The single-valued settings: issuer, listen, tls, keys, store, lifetimes, admin,
//! rate_limits, audit, trusted_proxies, server.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use secrecy::SecretString;
use serde_saphyr::Spanned;

use super::{
    At, DAY, DEFAULT_KEYS_DIR, DEFAULT_LISTEN, DEFAULT_STORE_PATH, HOUR, MIN_ADMIN_TOKEN_CHARS,
    MINUTE, Validator, at, secs,
};
use crate::policy::raw::{
    RawAdmin, RawAlgorithm, RawAudit, RawKeys, RawLifetimes, RawRateLimits, RawServer, RawSink,
    RawStore, RawStoreKind, RawTls, RawTopology, RawWait, Text,
};
use crate::policy::rules;
use crate::policy::{
    AdminPolicy, AuditPolicy, AuditSink, Issuer, KeysPolicy, Lifetimes, RateLimits, ServerLimits,
    SigningAlg, StorePolicy, TlsFiles,
};
use crate::policy::{RedisTopology, RedisWait};

impl Validator<'_> {
    pub(super) fn issuer(&mut self, raw: Option<&Text>) -> Option<Issuer> {
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

    pub(super) fn listen(&mut self, raw: Option<&Text>) -> SocketAddr {
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

    pub(super) fn tls(&mut self, raw: &Spanned<RawTls>) -> Option<TlsFiles> {
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

    pub(super) fn keys(&mut self, raw: Option<&RawKeys>) -> KeysPolicy {
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

    pub(super) fn store(&mut self, raw: Option<&Spanned<RawStore>>) -> StorePolicy {
        let default = || StorePolicy::Embedded {
            path: PathBuf::from(DEFAULT_STORE_PATH),
        };
        let Some(raw) = raw else { return default() };
        let s = &raw.value;
        match s.kind.unwrap_or(RawStoreKind::Embedded) {
            RawStoreKind::Embedded => {
                for (name, field) in [
                    ("url", &s.url),
                    ("url_env", &s.url_env),
                    ("service", &s.service),
                    ("sentinel_password_env", &s.sentinel_password_env),
                ] {
                    if let Some(f) = field {
                        self.add(
                            at(f),
                            &format!("store.{name}"),
                            "only for kind: redis (add `kind: redis`, or remove it)",
                        );
                    }
                }
                if let Some(t) = &s.topology {
                    self.add(at(t), "store.topology", "only for kind: redis");
                }
                if let Some(w) = &s.wait {
                    self.add(at(w), "store.wait", "only for kind: redis");
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
                let kind = s.topology.as_ref().map_or(RawTopology::Single, |t| t.value);
                let present: Vec<_> = [("url", &s.url), ("url_env", &s.url_env)]
                    .into_iter()
                    .filter_map(|(n, f)| f.as_ref().map(|f| (n, at(f), f)))
                    .collect();
                let several = kind != RawTopology::Single;
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
                        .check(t, "store.url", |u| rules::redis_urls(u, several))
                        .map(|()| t.value.clone()),
                    Some((_, t)) => self.secret_from_env(t, "store.url_env").and_then(|url| {
                        rules::redis_urls(&url, several)
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
                let topology = self.redis_topology(s, kind);
                let wait = s.wait.as_ref().and_then(|w| self.redis_wait(w));
                match (url, topology) {
                    (Some(url), Some(topology)) => StorePolicy::Redis {
                        url: SecretString::from(url),
                        topology,
                        wait,
                    },
                    _ => default(),
                }
            }
        }
    }

    fn redis_topology(&mut self, s: &RawStore, kind: RawTopology) -> Option<RedisTopology> {
        if kind != RawTopology::Sentinel {
            for (name, field) in [
                ("service", &s.service),
                ("sentinel_password_env", &s.sentinel_password_env),
            ] {
                if let Some(f) = field {
                    self.add(
                        at(f),
                        &format!("store.{name}"),
                        "only for topology: sentinel",
                    );
                }
            }
        }
        match kind {
            RawTopology::Single => Some(RedisTopology::Single),
            RawTopology::Cluster => Some(RedisTopology::Cluster),
            RawTopology::Sentinel => {
                let service = match &s.service {
                    Some(t) if !t.value.trim().is_empty() => Some(t.value.clone()),
                    Some(t) => {
                        self.add(at(t), "store.service", "must not be empty");
                        None
                    }
                    None => {
                        let here = s.topology.as_ref().map_or(At::START, at);
                        self.add(
                            here,
                            "store.service",
                            "topology sentinel needs `service`: the name the sentinels monitor \
                             the primary under, e.g. service: mymaster",
                        );
                        None
                    }
                };
                let sentinel_password = match &s.sentinel_password_env {
                    None => Some(None),
                    Some(t) => self
                        .secret_from_env(t, "store.sentinel_password_env")
                        .map(|p| Some(SecretString::from(p))),
                };
                Some(RedisTopology::Sentinel {
                    service: service?,
                    sentinel_password: sentinel_password?,
                })
            }
        }
    }

    fn redis_wait(&mut self, w: &Spanned<RawWait>) -> Option<RedisWait> {
        let replicas = match &w.value.replicas {
            Some(r) if (1..=16).contains(&r.value) => r.value,
            Some(r) => {
                self.add(at(r), "store.wait.replicas", "must be between 1 and 16");
                return None;
            }
            None => {
                self.add(
                    at(w),
                    "store.wait.replicas",
                    "required: how many replicas must have a write before it is acknowledged",
                );
                return None;
            }
        };
        let timeout = match &w.value.timeout_ms {
            None => std::time::Duration::from_millis(500),
            Some(t) if (10..=10_000).contains(&t.value) => {
                std::time::Duration::from_millis(t.value)
            }
            Some(t) => {
                self.add(
                    at(t),
                    "store.wait.timeout_ms",
                    "must be between 10 and 10000: a request waits this long for the replicas",
                );
                return None;
            }
        };
        Some(RedisWait { replicas, timeout })
    }

    pub(super) fn lifetimes(&mut self, raw: Option<&RawLifetimes>) -> Lifetimes {
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

    pub(super) fn admin(&mut self, raw: &Spanned<RawAdmin>) -> AdminPolicy {
        let a = &raw.value;
        let present: Vec<_> = [("token_env", &a.token_env), ("token_file", &a.token_file)]
            .into_iter()
            .filter_map(|(n, f)| f.as_ref().map(|f| (n, at(f), f)))
            .collect();
        let operators = self.emails(&a.operators, "admin.operators");
        let token = match self.at_most_one("admin", present) {
            None if a.operators.is_empty() => {
                self.add(
                    at(raw),
                    "admin",
                    "needs `token_env` or `token_file` for the admin API, or `operators` for \
                     the admin console (or remove `admin` to turn both off)",
                );
                None
            }
            None => None,
            Some(("token_env", t)) => self
                .secret_from_env(t, "admin.token_env")
                .map(|s| (s, t, "admin.token_env")),
            Some((_, t)) => self
                .secret_from_file(t, "admin.token_file")
                .map(|s| (s, t, "admin.token_file")),
        };
        let Some((token, t, path)) = token else {
            return AdminPolicy {
                token_sha256: None,
                operators,
            };
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
            operators,
        }
    }

    pub(super) fn rate_limits(&mut self, raw: Option<&RawRateLimits>) -> RateLimits {
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
        let authorize_per_ip = count(
            self,
            &r.authorize_per_ip,
            "authorize_per_ip",
            d.authorize_per_ip,
        );
        let login_tx_per_ip = count(
            self,
            &r.login_tx_per_ip,
            "login_tx_per_ip",
            d.login_tx_per_ip,
        );
        let identifier_per_ip = count(
            self,
            &r.identifier_per_ip,
            "identifier_per_ip",
            d.identifier_per_ip,
        );
        let admin_auth_failures_per_ip = count(
            self,
            &r.admin_auth_failures_per_ip,
            "admin_auth_failures_per_ip",
            d.admin_auth_failures_per_ip,
        );
        RateLimits {
            password_per_ip,
            password_per_identifier,
            token_per_client,
            window,
            authorize_per_ip,
            login_tx_per_ip,
            identifier_per_ip,
            admin_auth_failures_per_ip,
        }
    }

    pub(super) fn audit(&mut self, raw: Option<&RawAudit>) -> AuditPolicy {
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

    pub(super) fn trusted_proxies(&mut self, raw: &[Text]) -> Vec<IpAddr> {
        raw.iter()
            .enumerate()
            .filter_map(|(i, t)| self.check(t, &format!("trusted_proxies[{i}]"), rules::ip))
            .collect()
    }

    pub(super) fn server(&mut self, raw: Option<&RawServer>) -> ServerLimits {
        let d = ServerLimits::default();
        let empty = RawServer::default();
        let r = raw.unwrap_or(&empty);
        let max_connections = match &r.max_connections {
            Some(n) if !(1..=MAX_CONNECTIONS_CAP).contains(&n.value) => {
                self.add(
                    at(n),
                    "server.max_connections",
                    format!(
                        "{} is out of range; it must be 1 to {MAX_CONNECTIONS_CAP}",
                        n.value
                    ),
                );
                d.max_connections
            }
            Some(n) => n.value,
            None => d.max_connections,
        };
        let header_read_timeout = self.duration_or(
            r.header_read_timeout.as_ref(),
            "server.header_read_timeout",
            d.header_read_timeout,
            (secs(1), secs(5 * MINUTE)),
            "a slow client holds a connection this long",
        );
        let idle_timeout = self.duration_or(
            r.idle_timeout.as_ref(),
            "server.idle_timeout",
            d.idle_timeout,
            (secs(1), secs(HOUR)),
            "",
        );
        ServerLimits {
            max_connections,
            header_read_timeout,
            idle_timeout,
        }
    }
}

/// More connections than this would exceed any open-files limit.
const MAX_CONNECTIONS_CAP: u32 = 1_000_000;

impl Validator<'_> {
    /// `password_hashing`: `threads` 1–256 (default: one per core), `queue` 1–10,000
    /// (default: 64 per thread).
    pub(super) fn password_hashing(
        &mut self,
        raw: Option<&crate::policy::raw::RawPasswordHashing>,
    ) -> crate::policy::PasswordHashing {
        use crate::policy::PasswordHashing as P;
        let mut count = |field: &Option<Spanned<u32>>, name: &str, max: usize, default: usize| {
            let Some(n) = field else { return default };
            let value = usize::try_from(n.value).unwrap_or(usize::MAX);
            if (1..=max).contains(&value) {
                value
            } else {
                self.add(
                    at(n),
                    &format!("password_hashing.{name}"),
                    format!("{} is out of range; it must be 1 to {max}", n.value),
                );
                default
            }
        };
        let empty = crate::policy::raw::RawPasswordHashing::default();
        let r = raw.unwrap_or(&empty);
        let threads = count(&r.threads, "threads", P::MAX_THREADS, P::default_threads());
        let queue = count(&r.queue, "queue", P::MAX_QUEUE, P::default_queue(threads));
        P { threads, queue }
    }
}
