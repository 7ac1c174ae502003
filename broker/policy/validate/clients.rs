//! `clients[]`: the applications (OAuth clients) the broker issues tokens to.

use std::collections::HashMap;
use std::sync::Arc;

use serde_saphyr::Spanned;
use url::Url;

use super::{DEFAULT_CLIENT_SCOPES, Validator, at, non_empty};
use crate::policy::raw::{RawClient, Text};
use crate::policy::rules;
use crate::policy::{Client, ClientSecret, GrantType};

impl Validator<'_> {
    pub(super) fn clients(&mut self, raw: &[Spanned<RawClient>]) -> HashMap<String, Arc<Client>> {
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
        if let (Some(id_text), Some(_)) = (c.id.as_ref(), id.as_ref())
            && id_text.value == crate::service::account::ACCOUNT_CLIENT_ID
        {
            // The built-in account page is a client of the broker under this id.
            self.add(
                at(id_text),
                &format!("{path}.id"),
                "the client id \"idbroker-account\" is reserved for the built-in account page",
            );
        }
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
}
