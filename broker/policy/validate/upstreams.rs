//! `upstreams[]`: the identity providers users can be sent to.

use std::collections::HashMap;
use std::sync::Arc;

use secrecy::SecretString;
use serde_saphyr::Spanned;
use url::Url;

use super::{
    DEFAULT_ENTRA_AUTHORITY, DEFAULT_ENTRA_GRAPH, DEFAULT_UPSTREAM_SCOPES,
    DEFAULT_UPSTREAM_TIMEOUT, DeclaredUpstreams, MINUTE, Validator, at, non_empty, secs,
};
use crate::policy::raw::{RawCertificate, RawUpstream, RawUpstreamKind, Text};
use crate::policy::rules;
use crate::policy::{Upstream, UpstreamCredential, UpstreamKind};

impl Validator<'_> {
    pub(super) fn upstreams(
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
        if let (RawUpstreamKind::Oidc, Some(list)) = (kind, &u.exchange_apps) {
            self.add(
                list.first().map_or_else(|| at(raw), at),
                &format!("{path}.exchange_apps"),
                "only for kind: entra (token exchange takes Entra tokens only)",
            );
        }
        let mut exchange_apps = Vec::new();
        for (j, t) in u.exchange_apps.iter().flatten().enumerate() {
            if let Some(app) = self.check(t, &format!("{path}.exchange_apps[{j}]"), rules::guid)
                && !exchange_apps.contains(&app)
            {
                exchange_apps.push(app);
            }
        }
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
        let groups_claim = match (&u.groups_claim, kind) {
            (None, _) => "groups".to_owned(),
            (Some(t), RawUpstreamKind::Entra) => {
                self.add(
                    at(t),
                    &format!("{path}.groups_claim"),
                    "only for kind: oidc; Entra's groups come from its `groups` claim and Graph",
                );
                "groups".to_owned()
            }
            (Some(t), RawUpstreamKind::Oidc) => self
                .check(t, &format!("{path}.groups_claim"), non_empty)
                .unwrap_or_else(|| "groups".to_owned()),
        };
        Some(Upstream {
            id: id?.to_owned(),
            kind: upstream_kind?,
            client_id: client_id?,
            credential: credential?,
            scopes,
            timeout,
            display_name,
            exchange_apps,
            groups_claim,
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
}
