//! `apis[]`: the resource servers access tokens can be addressed to (RFC 8707, RFC 9068 §3).

use std::collections::HashMap;

use serde_saphyr::Spanned;

use super::{Validator, at};
use crate::policy::raw::{RawApi, RawClient, Text};
use crate::policy::{Api, ClientSecret, resource_key, rules};

/// Scopes with a meaning of their own at the broker (OIDC Core §5.4, §11; the `groups` and
/// `roles` claims): an API cannot define them.
const RESERVED_SCOPES: &[&str] = &[
    "openid",
    "profile",
    "email",
    "address",
    "phone",
    "offline_access",
    "groups",
    "roles",
];

/// Where an API's scope was first defined: the API's id and the line.
struct Defined {
    api: String,
    line: u64,
}

/// What the APIs before the current one took: ids, identifiers (as parsed URIs) and scopes.
#[derive(Default)]
struct Seen {
    ids: HashMap<String, u64>,
    identifiers: HashMap<String, u64>,
    scopes: HashMap<String, Defined>,
}

impl Validator<'_> {
    /// Checks `apis[]` against the clients the file declares (`clients`, as written: a broken
    /// client does not also make every grant naming it fail).
    pub(super) fn apis(
        &mut self,
        raw: &[Spanned<RawApi>],
        clients: &[Spanned<RawClient>],
    ) -> Vec<Api> {
        let declared: HashMap<&str, &RawClient> = clients
            .iter()
            .filter_map(|c| Some((c.value.id.as_ref()?.value.as_str(), &c.value)))
            .collect();
        let mut seen = Seen::default();
        let mut out = Vec::new();
        for (i, a) in raw.iter().enumerate() {
            if let Some(api) = self.api(&format!("apis[{i}]"), a, &declared, &mut seen) {
                out.push(api);
            }
        }
        self.client_scopes_of_apis(clients, &seen.scopes);
        out
    }

    fn api(
        &mut self,
        path: &str,
        raw: &Spanned<RawApi>,
        clients: &HashMap<&str, &RawClient>,
        seen: &mut Seen,
    ) -> Option<Api> {
        let before = self.problems.len();
        let a = &raw.value;
        let id = self.unique_id(path, at(raw), a.id.as_ref(), "API", &mut seen.ids);
        if let (Some(text), Some(id)) = (a.id.as_ref(), id.as_deref()) {
            // The id is the API's `client_id` at `/introspect`: it must not name a client too.
            if clients.contains_key(id) || id == crate::policy::ACCOUNT_CLIENT_ID {
                self.add(
                    at(text),
                    &format!("{path}.id"),
                    format!(
                        "{id:?} is a client's id; an API authenticates at /introspect with its id, \
                         so give it another"
                    ),
                );
            }
        }
        let identifier = self.identifier(path, raw, &mut seen.identifiers);
        let scopes = self.api_scopes(path, a.scopes.as_deref(), id.as_deref(), &mut seen.scopes);
        let grants = self.api_grants(path, a, &scopes, clients);
        let secret = self.api_secret(path, a);
        if self.problems.len() > before {
            return None;
        }
        Some(Api {
            id: id?,
            identifier: identifier?,
            scopes,
            clients: grants,
            secret,
        })
    }

    /// Required; an absolute URI without a fragment (RFC 8707 §2), unique among APIs.
    fn identifier(
        &mut self,
        path: &str,
        raw: &Spanned<RawApi>,
        seen: &mut HashMap<String, u64>,
    ) -> Option<String> {
        let Some(text) = raw.value.identifier.as_ref() else {
            self.add(
                at(raw),
                path,
                "`identifier` is required: the API's absolute URI, the `aud` of its tokens, e.g. \
                 identifier: https://orders.example.com",
            );
            return None;
        };
        let p = format!("{path}.identifier");
        let key = self.check(text, &p, resource_key)?;
        if let Some(line) = seen.get(&key) {
            self.add(
                at(text),
                &p,
                format!(
                    "{:?} is already the identifier of another API (line {line})",
                    text.value
                ),
            );
            return None;
        }
        seen.insert(key, at(text).line);
        Some(text.value.clone())
    }

    /// Each scope one word, not an OIDC scope, and defined by no other API.
    fn api_scopes(
        &mut self,
        path: &str,
        raw: Option<&[Text]>,
        id: Option<&str>,
        defined: &mut HashMap<String, Defined>,
    ) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (i, s) in raw.unwrap_or_default().iter().enumerate() {
            let p = format!("{path}.scopes[{i}]");
            if self.check(s, &p, rules::scope).is_none() || out.contains(&s.value) {
                continue;
            }
            if RESERVED_SCOPES.contains(&s.value.as_str()) {
                self.add(
                    at(s),
                    &p,
                    format!(
                        "{:?} is a scope of the broker itself; an API defines scopes of its own, \
                         e.g. orders.read",
                        s.value
                    ),
                );
                continue;
            }
            if let Some(first) = defined.get(&s.value) {
                self.add(
                    at(s),
                    &p,
                    format!(
                        "{:?} is already a scope of the API {:?} (line {}); a scope belongs to one \
                         API, so that a token's audience follows from its scopes",
                        s.value, first.api, first.line
                    ),
                );
                continue;
            }
            defined.insert(
                s.value.clone(),
                Defined {
                    api: id.unwrap_or("?").to_owned(),
                    line: at(s).line,
                },
            );
            out.push(s.value.clone());
        }
        out
    }

    /// `clients: {client id: [scope, …]}`: declared clients, and scopes of this API.
    fn api_grants(
        &mut self,
        path: &str,
        a: &RawApi,
        scopes: &[String],
        clients: &HashMap<&str, &RawClient>,
    ) -> HashMap<String, Vec<String>> {
        let mut out = HashMap::new();
        let Some(grants) = &a.clients else {
            return out;
        };
        for (client, granted) in &grants.value.0 {
            let p = format!("{path}.clients.{}", client.value);
            if !clients.contains_key(client.value.as_str()) {
                self.add(
                    at(client),
                    &p,
                    format!(
                        "unknown client {:?}; name a client of `clients`",
                        client.value
                    ),
                );
                continue;
            }
            let mut list: Vec<String> = Vec::new();
            for (i, s) in granted.iter().enumerate() {
                if !scopes.contains(&s.value) {
                    self.add(
                        at(s),
                        &format!("{p}[{i}]"),
                        format!(
                            "{:?} is not one of this API's scopes ({})",
                            s.value,
                            if scopes.is_empty() {
                                "it has none".to_owned()
                            } else {
                                scopes.join(", ")
                            }
                        ),
                    );
                } else if !list.contains(&s.value) {
                    list.push(s.value.clone());
                }
            }
            out.insert(client.value.clone(), list);
        }
        out
    }

    /// At most one of `secret_env`, `secret_file`, `secret_hash`, read as a client's.
    fn api_secret(&mut self, path: &str, a: &RawApi) -> Option<ClientSecret> {
        let present: Vec<_> = [
            ("secret_env", a.secret_env.as_ref()),
            ("secret_file", a.secret_file.as_ref()),
            ("secret_hash", a.secret_hash.as_ref()),
        ]
        .into_iter()
        .filter_map(|(name, t)| t.map(|t| (name, at(t), t)))
        .collect();
        match self.at_most_one(path, present)? {
            ("secret_hash", t) => self
                .check(t, &format!("{path}.secret_hash"), rules::argon2id_phc)
                .map(|()| ClientSecret::Argon2(t.value.clone())),
            ("secret_env", t) => self
                .secret_from_env(t, &format!("{path}.secret_env"))
                .map(|s| ClientSecret::Sha256(crate::secret::sha256(s.as_bytes()))),
            (_, t) => self
                .secret_from_file(t, &format!("{path}.secret_file"))
                .map(|s| ClientSecret::Sha256(crate::secret::sha256(s.as_bytes()))),
        }
    }

    /// A client's own `scopes` must not list an API's scope: the grant belongs under the
    /// API's `clients`, where the audience of the token is known.
    fn client_scopes_of_apis(
        &mut self,
        clients: &[Spanned<RawClient>],
        defined: &HashMap<String, Defined>,
    ) {
        for (i, c) in clients.iter().enumerate() {
            for (j, s) in c.value.scopes.iter().flatten().enumerate() {
                if let Some(api) = defined.get(&s.value) {
                    self.add(
                        at(s),
                        &format!("clients[{i}].scopes[{j}]"),
                        format!(
                            "{:?} is a scope of the API {:?}; grant it under that API's `clients` \
                             instead",
                            s.value, api.api
                        ),
                    );
                }
            }
        }
    }
}
