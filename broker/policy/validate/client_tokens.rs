//! `clients[]`: how the broker signs a client's tokens (`id_token_signed_response_alg`,
//! `access_token_signed_response_alg`) and which authentication context classes it asks for
//! (`default_acr_values`, `required_acr_values`).

use serde_saphyr::Spanned;

use super::{Validator, at};
use crate::policy::raw::{RawClient, Text};
use crate::policy::{ClientAcr, ClientSigning, KeysPolicy, SigningAlg};

/// One `acr` value: one the broker can assert (`crate::acr::SUPPORTED`); any other could
/// never be met.
fn acr_value(value: &str) -> Result<String, String> {
    if crate::acr::SUPPORTED.contains(&value) {
        return Ok(value.to_owned());
    }
    let (last, rest) = crate::acr::SUPPORTED.split_last().unwrap_or((&"", &[]));
    Err(format!(
        "unknown acr value {value:?}; the broker asserts {} or {last}",
        rest.join(", ")
    ))
}

/// The names of `algorithms`, for messages: `ES256 or RS256`.
fn names(algorithms: &[SigningAlg]) -> String {
    let names: Vec<&str> = algorithms.iter().map(|a| a.as_str()).collect();
    match names.split_last() {
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// One algorithm a client may choose: one the broker has a key for (`keys.algorithm`, or
/// RS256 beside it). Never `none` (OIDC Core §2 and §10: ID tokens are always signed; an
/// RFC 9068 access token is a signed JWT) and never an HMAC, which would need a secret
/// shared with the client.
pub(super) fn signing_alg(value: &str, keys: &KeysPolicy) -> Result<SigningAlg, String> {
    let offered = keys.algorithms();
    match SigningAlg::parse(value) {
        Some(alg) if offered.contains(&alg) => Ok(alg),
        Some(alg) => Err(format!(
            "the broker has no {} key: it signs with {} (keys.algorithm: {}, and RS256 beside \
             it); use one of those, or set keys.algorithm: {}",
            alg.as_str(),
            names(offered),
            keys.algorithm.as_str(),
            alg.as_str()
        )),
        None if value == "none" => Err(format!("tokens are always signed; use {}", names(offered))),
        None => Err(format!(
            "unknown or unsupported algorithm {value:?}; use {} (exact spelling)",
            names(offered)
        )),
    }
}

impl Validator<'_> {
    pub(super) fn client_signing(
        &mut self,
        path: &str,
        c: &RawClient,
        keys: &KeysPolicy,
    ) -> ClientSigning {
        let mut alg = |raw: Option<&Text>, key: &str| {
            raw.and_then(|t| self.check(t, &format!("{path}.{key}"), |s| signing_alg(s, keys)))
        };
        ClientSigning {
            id_token: alg(
                c.id_token_signed_response_alg.as_ref(),
                "id_token_signed_response_alg",
            ),
            access_token: alg(
                c.access_token_signed_response_alg.as_ref(),
                "access_token_signed_response_alg",
            ),
        }
    }

    pub(super) fn client_acr(&mut self, path: &str, c: &RawClient) -> ClientAcr {
        ClientAcr {
            default: self.acr_values(path, "default_acr_values", c.default_acr_values.as_ref()),
            required: self.acr_values(path, "required_acr_values", c.required_acr_values.as_ref()),
        }
    }

    fn acr_values(
        &mut self,
        path: &str,
        key: &str,
        raw: Option<&Spanned<Vec<Text>>>,
    ) -> Vec<String> {
        let Some(list) = raw else {
            return Vec::new();
        };
        if list.value.is_empty() {
            self.add(
                at(list),
                &format!("{path}.{key}"),
                format!(
                    "is empty; leave {key} out, or list {}",
                    crate::acr::SUPPORTED.join(", ")
                ),
            );
        }
        let mut out: Vec<String> = Vec::new();
        for (i, t) in list.value.iter().enumerate() {
            let p = format!("{path}.{key}[{i}]");
            if let Some(v) = self.check(t, &p, acr_value) {
                if out.contains(&v) {
                    self.add(at(t), &p, format!("{v:?} is listed twice"));
                } else {
                    out.push(v);
                }
            }
        }
        out
    }
}
