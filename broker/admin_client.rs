//! The client side of the admin API (`/admin/api/…`), for the `idbroker admin` verbs: where
//! the broker is, which token to send, one call, and errors that say which of "the broker
//! said no" and "the broker could not be reached" happened (the CLI exits 1 or 2 on them).
//!
//! The token is read from the environment or the policy's `admin.token_file`, never from an
//! argument: a command line is visible to every user of the machine in `ps`.

use std::time::Duration;

use reqwest::Method;
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;
use serde_json::Value;
use url::Url;

/// The environment variable the CLI reads the admin token from first.
pub const TOKEN_ENV: &str = "IDBROKER_ADMIN_TOKEN";

/// Connecting is quick or not at all; a Graph fetch of a large tenant can take a while.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);
/// How much of a non-JSON error body (a proxy's page) is quoted.
const QUOTE_CHARS: usize = 200;

#[derive(Debug, thiserror::Error)]
pub enum AdminClientError {
    /// The CLI's own setup: no URL, no token, an unusable URL.
    #[error("{0}")]
    Config(String),
    /// No answer: refused connection, DNS failure, TLS failure, timeout.
    #[error("cannot reach the broker at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    /// The broker answered with an error (RFC 6749 §5.2 shape: `error`, `error_description`).
    #[error("{status} {error}: {description}")]
    Api {
        status: u16,
        error: String,
        description: String,
    },
    /// A success status whose body is not JSON.
    #[error("the broker answered {status} with a body that is not JSON: {reason}")]
    BadAnswer { status: u16, reason: String },
}

/// The two things the CLI needs from a policy file. Read leniently (unknown keys ignored,
/// nothing validated), so the admin's machine needs none of the broker's secrets.
#[derive(Debug, Default, Deserialize)]
pub struct PolicyHints {
    pub issuer: Option<String>,
    pub admin: Option<AdminHints>,
}

#[derive(Debug, Default, Deserialize)]
pub struct AdminHints {
    pub token_env: Option<String>,
    pub token_file: Option<String>,
}

impl PolicyHints {
    pub fn parse(text: &str) -> Result<PolicyHints, AdminClientError> {
        serde_saphyr::from_str(text)
            .map_err(|e| AdminClientError::Config(format!("cannot read the policy: {e}")))
    }
}

/// The admin token: `IDBROKER_ADMIN_TOKEN`, else the variable the policy's `admin.token_env`
/// names, else the policy's `admin.token_file` (trimmed, as the broker reads it).
pub fn admin_token(
    env: &dyn Fn(&str) -> Option<String>,
    hints: Option<&AdminHints>,
) -> Result<SecretString, AdminClientError> {
    let non_empty = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
    if let Some(t) = non_empty(env(TOKEN_ENV)) {
        return Ok(SecretString::from(t.trim().to_owned()));
    }
    if let Some(name) = hints.and_then(|h| h.token_env.as_deref())
        && let Some(t) = non_empty(env(name))
    {
        return Ok(SecretString::from(t.trim().to_owned()));
    }
    if let Some(file) = hints.and_then(|h| h.token_file.as_deref()) {
        let text = std::fs::read_to_string(file).map_err(|e| {
            AdminClientError::Config(format!("cannot read the admin token file {file}: {e}"))
        })?;
        if let Some(t) = non_empty(Some(text)) {
            return Ok(SecretString::from(t.trim().to_owned()));
        }
    }
    let named = hints
        .and_then(|h| h.token_env.as_deref())
        .filter(|n| *n != TOKEN_ENV)
        .map(|n| format!(" or {n} (the policy's admin.token_env)"))
        .unwrap_or_default();
    Err(AdminClientError::Config(format!(
        "no admin token: set {TOKEN_ENV}{named} to the broker's admin token"
    )))
}

pub struct AdminClient {
    http: reqwest::Client,
    base: Url,
    token: SecretString,
}

impl AdminClient {
    /// `base` is the broker's public URL (its issuer); routes are under `{base}/admin/api`.
    pub fn new(base: &str, token: SecretString) -> Result<AdminClient, AdminClientError> {
        let base = Url::parse(base.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .ok_or_else(|| {
                AdminClientError::Config(format!(
                    "the broker URL {base:?} is not an http(s) URL with a host"
                ))
            })?;
        let http = reqwest::Client::builder()
            // The bearer token goes to this origin only.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("idbroker-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| AdminClientError::Config(format!("cannot set up HTTP: {e}")))?;
        Ok(AdminClient { http, base, token })
    }

    pub fn base(&self) -> &Url {
        &self.base
    }

    /// True when the token would cross a network in clear text (plain HTTP, not loopback).
    pub fn token_in_clear(&self) -> bool {
        let loopback = match self.base.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            None => false,
        };
        self.base.scheme() == "http" && !loopback
    }

    /// `{base}/admin/api/{segments…}?{query}`; each segment is percent-encoded, so an email
    /// or id can never change the route.
    pub fn url(&self, segments: &[&str], query: &[(&str, String)]) -> Url {
        let mut url = self.base.clone();
        url.set_query(None);
        url.set_fragment(None);
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty()
                .extend(["admin", "api"])
                .extend(segments);
        }
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (k, v)));
        }
        url
    }

    /// One admin call; the JSON answer of a 2xx, or the error.
    pub async fn call(
        &self,
        method: Method,
        segments: &[&str],
        query: &[(&str, String)],
        body: Option<Value>,
    ) -> Result<Value, AdminClientError> {
        let url = self.url(segments, query);
        let mut req = self
            .http
            .request(method, url.clone())
            .bearer_auth(self.token.expose_secret());
        if let Some(b) = &body {
            req = req.json(b);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| AdminClientError::Unreachable {
                url: self.base.to_string(),
                reason: error_chain(&e),
            })?;
        let status = resp.status();
        let ndjson = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-ndjson"));
        let text = resp
            .text()
            .await
            .map_err(|e| AdminClientError::Unreachable {
                url: self.base.to_string(),
                reason: format!("the answer was cut off: {}", error_chain(&e)),
            })?;
        // 204 No Content (a deletion) has no body; JSON lines (the store export) are text.
        if status.is_success() && text.is_empty() {
            return Ok(Value::Null);
        }
        if status.is_success() && ndjson {
            return Ok(Value::String(text));
        }
        let json = serde_json::from_str::<Value>(&text);
        if status.is_success() {
            return json.map_err(|e| AdminClientError::BadAnswer {
                status: status.as_u16(),
                reason: e.to_string(),
            });
        }
        let field = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        let (error, description) = match &json {
            Ok(v) if field(v, "error").is_some() => (
                field(v, "error").unwrap_or_default(),
                field(v, "error_description").unwrap_or_default(),
            ),
            // Not the broker's JSON (a proxy's page, say): quote the start of it.
            _ => (
                status
                    .canonical_reason()
                    .unwrap_or("error")
                    .to_ascii_lowercase(),
                text.chars().take(QUOTE_CHARS).collect::<String>(),
            ),
        };
        Err(AdminClientError::Api {
            status: status.as_u16(),
            error,
            description,
        })
    }
}

/// reqwest's error with its sources ("error sending request: connection refused").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

/// Reads one organisation (an `organizations[]` entry of the policy, YAML or JSON) from
/// `path`, or stdin for `-`.
pub fn read_organization_file(path: &std::path::Path) -> Result<Value, AdminClientError> {
    let text = if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .map_err(|e| AdminClientError::Config(format!("cannot read stdin: {e}")))?;
        text
    } else {
        std::fs::read_to_string(path)
            .map_err(|e| AdminClientError::Config(format!("cannot read {}: {e}", path.display())))?
    };
    serde_saphyr::from_str::<Value>(&text).map_err(|e| {
        AdminClientError::Config(format!(
            "{} is not one organization in YAML or JSON: {e}",
            path.display()
        ))
    })
}

/// The runtime organisations of a `GET /admin/api/organizations` answer as policy YAML
/// (`organizations:` and one entry each, as written), ready to paste into the policy file.
pub fn organizations_as_policy_yaml(list: &Value) -> Result<String, String> {
    #[derive(serde::Serialize)]
    struct Section {
        organizations: Vec<crate::directory::OrganizationSpec>,
    }
    let specs = list
        .as_array()
        .ok_or("the broker's list of organizations is not a list")?
        .iter()
        .filter(|o| o.get("origin").and_then(Value::as_str) == Some("runtime"))
        .filter_map(|o| o.get("spec"))
        .map(|spec| serde_json::from_value(spec.clone()).map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    let count = specs.len();
    let options = serde_saphyr::ser_options! { compact_list_indent: false };
    let section = Section {
        organizations: specs,
    };
    let body =
        serde_saphyr::to_string_with_options(&section, options).map_err(|e| e.to_string())?;
    Ok(format!(
        "# The organizations created at run time ({} of them), as policy YAML.\n\
         # In the policy file an organization wins over a runtime one with the same id,\n\
         # domain or tenant: once these are in the file, delete the runtime copies\n\
         # (idbroker admin delete-org ID).\n{body}",
        count
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(base: &str) -> AdminClient {
        AdminClient::new(base, SecretString::from("t")).unwrap()
    }

    #[test]
    fn urls_keep_a_base_path_and_encode_segments() {
        let c = client("https://id.example.com/broker/");
        assert_eq!(
            c.url(&["users", "a/b?c@example.com", "sso"], &[]).as_str(),
            "https://id.example.com/broker/admin/api/users/a%2Fb%3Fc@example.com/sso"
        );
        let c = client("http://127.0.0.1:8080");
        assert_eq!(
            c.url(&["audit"], &[("user", "a b&c".into())]).as_str(),
            "http://127.0.0.1:8080/admin/api/audit?user=a+b%26c"
        );
        assert!(!c.token_in_clear());
        assert!(client("http://id.example.com").token_in_clear());
        assert!(AdminClient::new("id.example.com", SecretString::from("t")).is_err());
    }

    #[test]
    fn token_comes_from_env_then_named_env_then_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, "from-file\n").unwrap();
        let hints = AdminHints {
            token_env: Some("OTHER".into()),
            token_file: Some(file.display().to_string()),
        };
        let env = |n: &str| match n {
            TOKEN_ENV => Some("from-env".to_owned()),
            "OTHER" => Some("from-other".to_owned()),
            _ => None,
        };
        let got = |e: &dyn Fn(&str) -> Option<String>| {
            admin_token(e, Some(&hints))
                .map(|s| s.expose_secret().to_owned())
                .unwrap()
        };
        assert_eq!(got(&env), "from-env");
        assert_eq!(
            got(&|n: &str| (n == "OTHER").then(|| "from-other".to_owned())),
            "from-other"
        );
        assert_eq!(got(&|_: &str| None), "from-file");
        let err = admin_token(&|_| None, None).unwrap_err().to_string();
        assert!(err.contains(TOKEN_ENV), "{err}");
    }

    #[test]
    fn hints_ignore_the_rest_of_the_policy() {
        let h = PolicyHints::parse(
            "issuer: https://id.example.com\nclients: [{id: x}]\nadmin: {token_env: T}\n",
        )
        .unwrap();
        assert_eq!(h.issuer.as_deref(), Some("https://id.example.com"));
        assert_eq!(h.admin.unwrap().token_env.as_deref(), Some("T"));
    }
}
