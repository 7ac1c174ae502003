//! `clients[]`: the applications (OAuth clients) the broker issues tokens to.

use std::collections::HashMap;
use std::sync::Arc;

use serde_saphyr::Spanned;
use url::Url;

use super::{DEFAULT_CLIENT_SCOPES, Validator, at, non_empty};
use crate::policy::raw::{RawClient, RawJwks, RawMfa, Text};
use crate::policy::rules;
use crate::policy::{Client, ClientSecret, GrantType, KeysPolicy};

/// The largest `jwks_file` read (a JWK Set of a few public keys is a few KiB).
const MAX_JWKS_FILE_BYTES: u64 = 64 * 1024;

/// One of the mutually exclusive credential keys of a client.
enum Cred<'a> {
    Text(Option<&'a Text>),
    Jwks(Option<&'a Spanned<RawJwks>>),
}

fn at_opt<T>(v: &Option<Spanned<T>>) -> Option<super::At> {
    v.as_ref().map(at)
}

/// Private or symmetric key material: a JWK carrying any of these is refused (RFC 7518
/// §6.2.2, §6.3.2, §6.4.1; RFC 8037 §2).
const PRIVATE_MEMBERS: &[&str] = &["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// Checks one JWK of a client: a public signing key we can verify with.
fn public_jwk(v: &serde_json::Value) -> Result<jsonwebtoken::jwk::Jwk, String> {
    let obj = v
        .as_object()
        .ok_or("a key must be a JWK object with kty, kid, …")?;
    let kty = obj
        .get("kty")
        .and_then(|k| k.as_str())
        .ok_or("the key has no kty; use RSA, EC or OKP")?;
    match kty {
        "RSA" | "EC" | "OKP" => {}
        "oct" => {
            return Err(
                "symmetric (oct) keys are refused; register the client's public key (RSA, EC \
                 or OKP)"
                    .into(),
            );
        }
        other => return Err(format!("unknown kty {other:?}; use RSA, EC or OKP")),
    }
    if let Some(m) = PRIVATE_MEMBERS.iter().find(|m| obj.contains_key(**m)) {
        return Err(format!(
            "the key has the private member {m:?}; register only the public key (never the \
             private key)"
        ));
    }
    if let Some(u) = obj.get("use").filter(|u| u.as_str() != Some("sig")) {
        return Err(format!(
            "the key's use is {u}; a client's key must be for \"sig\""
        ));
    }
    match (kty, obj.get("crv").and_then(|c| c.as_str())) {
        ("EC", Some("P-256")) | ("OKP", Some("Ed25519")) | ("RSA", None) => {}
        ("EC", c) => {
            return Err(format!(
                "EC curve {c:?} is not supported; use P-256 (ES256)"
            ));
        }
        ("OKP", c) => return Err(format!("OKP curve {c:?} is not supported; use Ed25519")),
        _ => return Err("an RSA key has no crv".into()),
    }
    let jwk: jsonwebtoken::jwk::Jwk =
        serde_json::from_value(v.clone()).map_err(|e| format!("not a valid JWK: {e}"))?;
    if let Some(alg) = jwk.common.key_algorithm {
        let alg = alg.to_string().parse::<jsonwebtoken::Algorithm>().ok();
        if !alg.is_some_and(|a| crate::jose::CLIENT_ASSERTION_ALGS.contains(&a)) {
            return Err("the key's alg is not allowed; use RS256, PS256, ES256 or EdDSA".into());
        }
    }
    jsonwebtoken::DecodingKey::from_jwk(&jwk).map_err(|e| format!("not a usable key: {e}"))?;
    Ok(jwk)
}

/// Checks a whole key set: at least one key, and every key named by a distinct `kid` when
/// there are several (the assertion's `kid` picks the key).
fn public_jwks(keys: &[serde_json::Value]) -> Result<jsonwebtoken::jwk::JwkSet, (usize, String)> {
    if keys.is_empty() {
        return Err((0, "keys is empty; register at least one public key".into()));
    }
    let mut out = Vec::new();
    let mut kids = std::collections::HashSet::new();
    for (i, k) in keys.iter().enumerate() {
        let jwk = public_jwk(k).map_err(|e| (i, e))?;
        match &jwk.common.key_id {
            Some(kid) if !kids.insert(kid.clone()) => {
                return Err((i, format!("kid {kid:?} is used by another key")));
            }
            None if keys.len() > 1 => {
                return Err((i, "with several keys, every key needs a kid".into()));
            }
            _ => {}
        }
        out.push(jwk);
    }
    Ok(jsonwebtoken::jwk::JwkSet { keys: out })
}

impl Validator<'_> {
    fn inline_jwks(
        &mut self,
        raw: &Spanned<RawJwks>,
        path: &str,
    ) -> Option<jsonwebtoken::jwk::JwkSet> {
        let Some(keys) = &raw.value.keys else {
            self.add(
                at(raw),
                path,
                "`keys` is required: jwks: {keys: [{kty: EC, crv: P-256, kid: …, x: …, y: …}]}",
            );
            return None;
        };
        let values: Vec<serde_json::Value> = keys.value.iter().map(|k| k.value.clone()).collect();
        match public_jwks(&values) {
            Ok(set) => Some(set),
            Err((i, why)) => {
                let a = keys.value.get(i).map(at).unwrap_or_else(|| at(keys));
                self.add(a, &format!("{path}.keys[{i}]"), why);
                None
            }
        }
    }

    fn jwks_from_file(&mut self, file: &Text, path: &str) -> Option<jsonwebtoken::jwk::JwkSet> {
        let p = self.path_value(file, path)?;
        let read = std::fs::metadata(&p).and_then(|m| {
            if m.len() > MAX_JWKS_FILE_BYTES {
                Ok(None)
            } else {
                std::fs::read(&p).map(Some)
            }
        });
        let bytes = match read {
            Err(e) => {
                self.add(at(file), path, format!("cannot read {}: {e}", p.display()));
                return None;
            }
            Ok(None) => {
                self.add(
                    at(file),
                    path,
                    format!("{} is larger than 64 KiB", p.display()),
                );
                return None;
            }
            Ok(Some(b)) => b,
        };
        #[derive(serde::Deserialize)]
        struct FileJwks {
            keys: Vec<serde_json::Value>,
        }
        let set = match serde_json::from_slice::<FileJwks>(&bytes) {
            Ok(s) => s,
            Err(e) => {
                self.add(
                    at(file),
                    path,
                    format!(
                        "{} is not a JWK Set ({{\"keys\": [...]}}): {e}",
                        p.display()
                    ),
                );
                return None;
            }
        };
        match public_jwks(&set.keys) {
            Ok(s) => Some(s),
            Err((i, why)) => {
                self.add(at(file), path, format!("{}: keys[{i}]: {why}", p.display()));
                None
            }
        }
    }

    pub(super) fn clients(
        &mut self,
        raw: &[Spanned<RawClient>],
        keys: &KeysPolicy,
    ) -> HashMap<String, Arc<Client>> {
        let mut seen = HashMap::new();
        let mut out = HashMap::new();
        for (i, c) in raw.iter().enumerate() {
            if let Some(client) = self.client(&format!("clients[{i}]"), c, keys, &mut seen) {
                out.insert(client.id.clone(), Arc::new(client));
            }
        }
        out
    }

    fn client(
        &mut self,
        path: &str,
        raw: &Spanned<RawClient>,
        keys: &KeysPolicy,
        seen: &mut HashMap<String, u64>,
    ) -> Option<Client> {
        let before = self.problems.len();
        let c = &raw.value;
        let id = self.unique_id(path, at(raw), c.id.as_ref(), "client", seen);
        if let (Some(id_text), Some(_)) = (c.id.as_ref(), id.as_ref())
            && id_text.value == crate::policy::ACCOUNT_CLIENT_ID
        {
            // The built-in account page is a client of the broker under this id.
            self.add(
                at(id_text),
                &format!("{path}.id"),
                "the client id \"idbroker-account\" is reserved for the built-in account page",
            );
        }
        let native = c.native.as_ref().is_some_and(|n| n.value);

        // One credential kind per client: a secret (client_secret_basic/post) or public keys
        // (private_key_jwt, OIDC Core §9), never both.
        let present: Vec<_> = [
            (
                "secret_env",
                at_opt(&c.secret_env),
                Cred::Text(c.secret_env.as_ref()),
            ),
            (
                "secret_file",
                at_opt(&c.secret_file),
                Cred::Text(c.secret_file.as_ref()),
            ),
            (
                "secret_hash",
                at_opt(&c.secret_hash),
                Cred::Text(c.secret_hash.as_ref()),
            ),
            ("jwks", at_opt(&c.jwks), Cred::Jwks(c.jwks.as_ref())),
            (
                "jwks_file",
                at_opt(&c.jwks_file),
                Cred::Text(c.jwks_file.as_ref()),
            ),
        ]
        .into_iter()
        .filter_map(|(n, a, f)| a.map(|a| (n, a, f)))
        .collect();
        let confidential = !present.is_empty();
        let mut secret = None;
        let mut jwks = None;
        match self.at_most_one(path, present) {
            None => {}
            Some(("secret_hash", Cred::Text(Some(t)))) => {
                secret = self
                    .check(t, &format!("{path}.secret_hash"), rules::argon2id_phc)
                    .map(|()| ClientSecret::Argon2(t.value.clone()));
            }
            Some(("secret_env", Cred::Text(Some(t)))) => {
                secret = self
                    .secret_from_env(t, &format!("{path}.secret_env"))
                    .map(|s| ClientSecret::Sha256(crate::secret::sha256(s.as_bytes())));
            }
            Some(("secret_file", Cred::Text(Some(t)))) => {
                secret = self
                    .secret_from_file(t, &format!("{path}.secret_file"))
                    .map(|s| ClientSecret::Sha256(crate::secret::sha256(s.as_bytes())));
            }
            Some(("jwks_file", Cred::Text(Some(t)))) => {
                jwks = self.jwks_from_file(t, &format!("{path}.jwks_file"));
            }
            Some((_, Cred::Jwks(Some(j)))) => {
                jwks = self.inline_jwks(j, &format!("{path}.jwks"));
            }
            Some(_) => {}
        }
        if let Some(n) = c.native.as_ref().filter(|n| n.value && confidential) {
            // RFC 8252 §8.5: a secret shipped in a native app is not a secret, and neither
            // is a private key.
            self.add(
                at(n),
                &format!("{path}.native"),
                "a native app cannot keep a secret (RFC 8252 §8.5), nor a private key; remove \
                 its secret_* / jwks* or set native: false",
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
        let signing = self.client_signing(path, c, keys);
        let acr = self.client_acr(path, c);
        let name = match &c.name {
            Some(n) => self.check(n, &format!("{path}.name"), non_empty)?,
            None => id.clone()?,
        };
        let groups = self.client_groups(
            path,
            c.roles.as_ref(),
            c.claims.as_ref(),
            c.groups_limit.as_ref(),
        );
        let logo = self.client_logo(path, c.branding.as_ref());
        if self.problems.len() > before {
            return None;
        }
        Some(Client {
            id: id?,
            secret,
            jwks,
            redirect_uris,
            post_logout_redirect_uris,
            grants,
            scopes,
            native,
            signing,
            acr,
            name,
            roles: groups.roles,
            always_groups: groups.always_groups,
            always_roles: groups.always_roles,
            groups_limit: groups.groups_limit,
            logo,
            mfa_required: c.mfa == Some(RawMfa::Required),
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
                     the client secret_env, secret_file, secret_hash, jwks or jwks_file",
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
