//! Microsoft Graph, app-only: the broker reads a tenant's users (names and email addresses)
//! with its own app registration's credentials.
//!
//! - Token: OAuth 2.0 client credentials (RFC 6749 §4.4) at
//!   `{authority}/{tenant}/oauth2/v2.0/token` with `scope=https://graph.microsoft.com/.default`,
//!   authenticated with the upstream's secret or certificate (`private_key_jwt`, RFC 7523
//!   §2.2). Cached per (upstream, tenant) until [`TOKEN_EARLY_REFRESH`] before it expires.
//! - Users: `GET {graph}/v1.0/users?$select=…&$top=…`, following every `@odata.nextLink`
//!   (server-driven paging: the link is opaque and used as given, but only on the Graph
//!   origin we were configured with).
//! - Throttling: 429 and 503 are retried after `Retry-After` (capped at [`MAX_RETRY_SLEEP`]),
//!   at most [`ATTEMPTS`] tries per request, then [`GraphError::Throttled`]. The loop is
//!   written here rather than taken from a retry crate: the wait comes from each answer's
//!   `Retry-After`, which backoff crates do not read, so the crate would wrap this same code.
//! - 401/403 mean the app lacks consent in the tenant (or it was revoked):
//!   [`GraphError::ConsentMissing`]. A 401 first drops the cached token and tries once more,
//!   since a token can also be refused for having expired early.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret as _, SecretString};
use serde::{Deserialize, Serialize};
use url::Url;

use super::assertion::{ASSERTION_TYPE, CertificateKey};
use super::http_client::OidcHttp;
use crate::clock::UnixTime;
use crate::policy::{Upstream, UpstreamCredential, UpstreamKind};

/// The properties the broker reads, and nothing more (SPEC: "only names and email
/// addresses"; the given name, surname and preferred language are the `profile` scope's).
pub const USER_SELECT: &str =
    "id,displayName,mail,userPrincipalName,accountEnabled,givenName,surname,preferredLanguage";
/// Graph's largest page.
pub const DEFAULT_PAGE_SIZE: usize = 999;
/// Tries per Graph request when throttled (the first plus three retries).
pub const ATTEMPTS: u32 = 4;
/// The longest the broker waits on one `Retry-After` (an admin is waiting on the answer).
pub const MAX_RETRY_SLEEP: Duration = Duration::from_secs(5);
/// A cached app-only token is replaced this long before it expires.
pub const TOKEN_EARLY_REFRESH: Duration = Duration::from_secs(120);
/// At most this many pages are followed (999 users each): a loop guard, not a quota.
const MAX_PAGES: usize = 10_000;
/// The default scope of an app-only token for Graph (Microsoft identity platform:
/// client credentials must ask for `{resource}/.default`).
const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";

/// The `.default` scope of the upstream's Graph: a national cloud's Graph
/// (`graph.microsoft.us`, `dod-graph.microsoft.us`, `microsoftgraph.chinacloudapi.cn`) is its
/// own resource; anything else (the global cloud, test fakes) asks for the global one.
fn graph_scope(upstream: &Upstream) -> String {
    const NATIONAL: [&str; 3] = [
        "graph.microsoft.us",
        "dod-graph.microsoft.us",
        "microsoftgraph.chinacloudapi.cn",
    ];
    match &upstream.kind {
        UpstreamKind::Entra { graph, .. }
            if graph.scheme() == "https"
                && graph.host_str().is_some_and(|h| NATIONAL.contains(&h)) =>
        {
            format!("{}/.default", graph.origin().ascii_serialization())
        }
        _ => GRAPH_SCOPE.to_owned(),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    /// The app has no admin consent in the tenant, or it was revoked.
    #[error("consent missing or revoked: the tenant's administrator must grant consent (again)")]
    ConsentMissing,
    /// Still throttled after every attempt.
    #[error("Microsoft Graph is throttling requests (still after {0} attempts); try again later")]
    Throttled(u32),
    /// Down, slow or answering nonsense.
    #[error("Microsoft Graph is unavailable: {0}")]
    Unavailable(String),
    /// The token endpoint refused our credentials (an AADSTS error).
    #[error("the tenant refused the broker's credentials: {0}")]
    Refused(String),
    /// Our configuration cannot work (not an Entra upstream, no credential, bad certificate).
    #[error("configuration: {0}")]
    Config(String),
}

impl GraphError {
    /// A short machine-readable code for audit records and the API.
    pub fn code(&self) -> &'static str {
        match self {
            GraphError::ConsentMissing => "consent_missing",
            GraphError::Throttled(_) => "throttled",
            GraphError::Unavailable(_) => "graph_unavailable",
            GraphError::Refused(_) => "credentials_refused",
            GraphError::Config(_) => "configuration",
        }
    }
}

/// One user as Graph lists it (`microsoft.graph.user`, the selected properties).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphUser {
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub mail: Option<String>,
    #[serde(default)]
    pub user_principal_name: Option<String>,
    #[serde(default)]
    pub account_enabled: Option<bool>,
    #[serde(default)]
    pub given_name: Option<String>,
    #[serde(default)]
    pub surname: Option<String>,
    #[serde(default)]
    pub preferred_language: Option<String>,
}

impl GraphUser {
    /// What Graph says of the person for the `profile` scope.
    pub fn profile(&self) -> crate::directory::Profile {
        let text = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty() && t.len() <= 256)
                .map(str::to_owned)
        };
        crate::directory::Profile {
            given_name: text(&self.given_name),
            family_name: text(&self.surname),
            preferred_username: text(&self.user_principal_name).map(|u| u.to_lowercase()),
            locale: text(&self.preferred_language),
            zoneinfo: None,
            picture: None,
        }
    }

    /// The sign-in identifier: `mail`, or `userPrincipalName` when `mail` is empty,
    /// normalised (trimmed, lower-case).
    pub fn sign_in_email(&self) -> Option<String> {
        [self.mail.as_deref(), self.user_principal_name.as_deref()]
            .into_iter()
            .flatten()
            .map(str::trim)
            .find(|s| !s.is_empty())
            .map(str::to_lowercase)
    }
}

/// One group a user is a member of (`microsoft.graph.group`, the selected properties).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphGroup {
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
}

#[derive(Deserialize)]
struct GroupPage {
    #[serde(default)]
    value: Vec<GraphGroup>,
    #[serde(rename = "@odata.nextLink")]
    next_link: Option<String>,
}

/// At most this many groups are read for one user (a member of more is refused: no token
/// could carry them, and the pages would cost a sign-in seconds).
pub const MAX_USER_GROUPS: usize = 5_000;

/// What [`GraphClient::search_users`] asks for.
#[derive(Debug, Clone, Copy)]
pub struct UserQuery<'a> {
    /// The start of a display name, mail or UPN.
    pub search: Option<&'a str>,
    /// Where the previous page ended.
    pub skiptoken: Option<&'a str>,
    pub page_size: usize,
}

#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    value: Vec<GraphUser>,
    #[serde(rename = "@odata.nextLink")]
    next_link: Option<String>,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

#[derive(Deserialize)]
struct TokenErrorBody {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: String,
    #[serde(default)]
    error_codes: Vec<u64>,
}

struct CachedToken {
    token: SecretString,
    refresh_at: Instant,
}

/// The Graph client shared by the broker.
pub struct GraphClient {
    http: Option<OidcHttp>,
    tokens: Mutex<HashMap<String, CachedToken>>,
    page_size: AtomicUsize,
    max_retry_sleep: Duration,
}

impl Default for GraphClient {
    fn default() -> Self {
        GraphClient::new()
    }
}

impl GraphClient {
    pub fn new() -> GraphClient {
        GraphClient {
            http: OidcHttp::new(Duration::from_secs(30)).ok(),
            tokens: Mutex::new(HashMap::new()),
            page_size: AtomicUsize::new(DEFAULT_PAGE_SIZE),
            max_retry_sleep: MAX_RETRY_SLEEP,
        }
    }

    /// Sets `$top` (1..=999). Smaller pages are only useful to exercise paging in tests.
    pub fn set_page_size(&self, n: usize) {
        self.page_size.store(n.clamp(1, 999), Ordering::Relaxed);
    }

    /// Forgets every cached token (policy reload: credentials may have changed).
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, CachedToken>> {
        self.tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn http(&self) -> Result<&OidcHttp, GraphError> {
        self.http
            .as_ref()
            .ok_or_else(|| GraphError::Config("the HTTP client could not be built".into()))
    }

    /// Every user of `tenant`, all pages.
    pub async fn list_users(
        &self,
        upstream: &Upstream,
        tenant: &str,
        now: UnixTime,
    ) -> Result<Vec<GraphUser>, GraphError> {
        let (graph, url) = users_url(upstream, self.page_size.load(Ordering::Relaxed))?;
        let mut users = Vec::new();
        let mut next = Some(url);
        let mut pages = 0;
        while let Some(url) = next.take() {
            pages += 1;
            if pages > MAX_PAGES {
                return Err(GraphError::Unavailable("too many pages".into()));
            }
            let page: Page = self.get_json(upstream, tenant, &url, now).await?;
            users.extend(page.value);
            next = match page.next_link {
                None => None,
                Some(link) => Some(same_origin(graph, &link)?),
            };
        }
        Ok(users)
    }

    /// Every group `oid` is a member of, directly or through nested groups
    /// (`GET /v1.0/users/{oid}/transitiveMemberOf/microsoft.graph.group`, all pages), as
    /// Entra's overage claim asks (needs `GroupMember.Read.All`, application permission).
    pub async fn member_groups(
        &self,
        upstream: &Upstream,
        tenant: &str,
        oid: &str,
        now: UnixTime,
    ) -> Result<Vec<GraphGroup>, GraphError> {
        let UpstreamKind::Entra { graph, .. } = &upstream.kind else {
            return Err(GraphError::Config(format!(
                "upstream {} is not an Entra upstream",
                upstream.id
            )));
        };
        // An object id is a GUID; anything else never reaches a URL.
        let oid = crate::directory::entra_guid(oid)
            .ok_or_else(|| GraphError::Config("the object id is not a GUID".into()))?;
        let base = graph.as_str().trim_end_matches('/');
        let mut url = Url::parse(&format!(
            "{base}/v1.0/users/{oid}/transitiveMemberOf/microsoft.graph.group"
        ))
        .map_err(|e| GraphError::Config(format!("the graph URL is invalid: {e}")))?;
        url.query_pairs_mut()
            .append_pair("$select", "id,displayName")
            .append_pair(
                "$top",
                &self
                    .page_size
                    .load(Ordering::Relaxed)
                    .clamp(1, 999)
                    .to_string(),
            );
        let mut groups = Vec::new();
        let mut next = Some(url);
        while let Some(url) = next.take() {
            let page: GroupPage = self.get_json(upstream, tenant, &url, now).await?;
            groups.extend(page.value);
            if groups.len() > MAX_USER_GROUPS {
                return Err(GraphError::Unavailable(format!(
                    "the user is in more than {MAX_USER_GROUPS} groups"
                )));
            }
            next = match page.next_link {
                None => None,
                Some(link) => Some(same_origin(graph, &link)?),
            };
        }
        Ok(groups)
    }

    /// One page of the tenant's users whose display name, mail or UPN starts with `search`
    /// (Graph's `$filter` with `startswith`, case-insensitive; all users without it), after
    /// `skiptoken` (from the previous page). Returns the page and the next page's skiptoken.
    /// Never more than one Graph page: a tenant may have 100,000 users.
    pub async fn search_users(
        &self,
        upstream: &Upstream,
        tenant: &str,
        query: &UserQuery<'_>,
        now: UnixTime,
    ) -> Result<(Vec<GraphUser>, Option<String>), GraphError> {
        let (graph, mut url) = users_url(upstream, query.page_size)?;
        {
            let mut q = url.query_pairs_mut();
            if let Some(text) = query.search.map(str::trim).filter(|t| !t.is_empty()) {
                // OData: a quote inside a string literal is doubled.
                let text = text.replace('\'', "''");
                q.append_pair(
                    "$filter",
                    &format!(
                        "startswith(displayName,'{text}') or startswith(mail,'{text}') or \
                         startswith(userPrincipalName,'{text}')"
                    ),
                );
            }
            if let Some(token) = query.skiptoken {
                q.append_pair("$skiptoken", token);
            }
        }
        let page: Page = self.get_json(upstream, tenant, &url, now).await?;
        let next = match page.next_link {
            None => None,
            Some(link) => same_origin(graph, &link)?
                .query_pairs()
                .find(|(k, _)| k == "$skiptoken")
                .map(|(_, v)| v.into_owned()),
        };
        Ok((page.value, next))
    }

    /// One GET with throttling retries and one token refresh on 401.
    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        upstream: &Upstream,
        tenant: &str,
        url: &Url,
        now: UnixTime,
    ) -> Result<T, GraphError> {
        let http = self.http()?;
        let mut refreshed = false;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let token = self.token(upstream, tenant, now).await?;
            let response = http
                .reqwest()
                .get(url.clone())
                .bearer_auth(token.expose_secret())
                .send()
                .await
                .map_err(|e| GraphError::Unavailable(transport(&e)))?;
            let status = response.status().as_u16();
            match status {
                200..=299 => {
                    return response
                        .json::<T>()
                        .await
                        .map_err(|_| GraphError::Unavailable("a Graph page did not parse".into()));
                }
                // Microsoft Graph throttling guidance: wait Retry-After, then retry.
                429 | 503 => {
                    if attempt >= ATTEMPTS {
                        return Err(GraphError::Throttled(attempt));
                    }
                    let wait = retry_after(response.headers()).min(self.max_retry_sleep);
                    tracing::info!(
                        status,
                        wait_ms = wait.as_millis() as u64,
                        attempt,
                        "Graph throttled; retrying"
                    );
                    tokio::time::sleep(wait).await;
                }
                401 if !refreshed => {
                    refreshed = true;
                    self.lock().remove(&cache_key(upstream, tenant));
                }
                401 | 403 => return Err(GraphError::ConsentMissing),
                other => {
                    return Err(GraphError::Unavailable(format!("Graph answered {other}")));
                }
            }
        }
    }

    /// The cached app-only token, or a new one.
    async fn token(
        &self,
        upstream: &Upstream,
        tenant: &str,
        now: UnixTime,
    ) -> Result<SecretString, GraphError> {
        let key = cache_key(upstream, tenant);
        if let Some(hit) = self.lock().get(&key)
            && hit.refresh_at > Instant::now()
        {
            return Ok(hit.token.clone());
        }
        let fetched = self.fetch_token(upstream, tenant, now).await?;
        let lifetime = Duration::from_secs(fetched.expires_in.unwrap_or(300));
        let token = SecretString::from(fetched.access_token);
        self.lock().insert(
            key,
            CachedToken {
                token: token.clone(),
                refresh_at: Instant::now() + lifetime.saturating_sub(TOKEN_EARLY_REFRESH),
            },
        );
        Ok(token)
    }

    /// RFC 6749 §4.4.2: the client credentials grant, authenticated per the upstream.
    async fn fetch_token(
        &self,
        upstream: &Upstream,
        tenant: &str,
        now: UnixTime,
    ) -> Result<TokenResponse, GraphError> {
        let UpstreamKind::Entra { authority, .. } = &upstream.kind else {
            return Err(GraphError::Config("not an Entra upstream".into()));
        };
        let endpoint = format!(
            "{}/{tenant}/oauth2/v2.0/token",
            authority.as_str().trim_end_matches('/')
        );
        let mut form: Vec<(&str, String)> = vec![
            ("grant_type", "client_credentials".into()),
            ("client_id", upstream.client_id.clone()),
            ("scope", graph_scope(upstream)),
        ];
        match &upstream.credential {
            UpstreamCredential::Secret(s) => {
                form.push(("client_secret", s.expose_secret().to_owned()));
            }
            UpstreamCredential::Certificate { cert, key } => {
                let key = CertificateKey::load(cert, key)
                    .map_err(|e| GraphError::Config(e.to_string()))?;
                let assertion = key
                    .assertion(&upstream.client_id, &endpoint, now)
                    .map_err(|e| GraphError::Config(e.to_string()))?;
                form.push(("client_assertion_type", ASSERTION_TYPE.into()));
                form.push(("client_assertion", assertion));
            }
            UpstreamCredential::None => {
                return Err(GraphError::Config(format!(
                    "upstream {} has no client credential",
                    upstream.id
                )));
            }
        }
        let response = self
            .http()?
            .reqwest()
            .post(&endpoint)
            .form(&form)
            .send()
            .await
            .map_err(|e| GraphError::Unavailable(transport(&e)))?;
        let status = response.status();
        if status.is_success() {
            return response
                .json::<TokenResponse>()
                .await
                .map_err(|_| GraphError::Unavailable("the token response did not parse".into()));
        }
        if status.is_server_error() {
            return Err(GraphError::Unavailable(format!(
                "the token endpoint answered {status}"
            )));
        }
        let body: TokenErrorBody = response.json().await.unwrap_or(TokenErrorBody {
            error: status.to_string(),
            error_description: String::new(),
            error_codes: Vec::new(),
        });
        // AADSTS7000229: no service principal in the tenant (never consented);
        // AADSTS65001: consent not granted.
        if body
            .error_codes
            .iter()
            .any(|c| *c == 7_000_229 || *c == 65_001)
            || body.error == "consent_required"
        {
            return Err(GraphError::ConsentMissing);
        }
        let first_line = body.error_description.lines().next().unwrap_or_default();
        Err(GraphError::Refused(format!("{}: {first_line}", body.error)))
    }
}

fn cache_key(upstream: &Upstream, tenant: &str) -> String {
    format!("{}|{tenant}", upstream.id)
}

/// The next page, only on the configured Graph origin: the broker's token must never be sent
/// anywhere else, whatever a response says.
/// The Graph of an Entra upstream, and its `/v1.0/users?$select=…&$top=page_size`.
fn users_url(upstream: &Upstream, page_size: usize) -> Result<(&Url, Url), GraphError> {
    let UpstreamKind::Entra { graph, .. } = &upstream.kind else {
        return Err(GraphError::Config(format!(
            "upstream {} is not an Entra upstream",
            upstream.id
        )));
    };
    let base = graph.as_str().trim_end_matches('/');
    let mut url = Url::parse(&format!("{base}/v1.0/users"))
        .map_err(|e| GraphError::Config(format!("the graph URL is invalid: {e}")))?;
    url.query_pairs_mut()
        .append_pair("$select", USER_SELECT)
        .append_pair("$top", &page_size.clamp(1, 999).to_string());
    Ok((graph, url))
}

fn same_origin(graph: &Url, link: &str) -> Result<Url, GraphError> {
    let url =
        Url::parse(link).map_err(|_| GraphError::Unavailable("a next link is not a URL".into()))?;
    if url.origin() != graph.origin() {
        return Err(GraphError::Unavailable(
            "a next link points outside Microsoft Graph".into(),
        ));
    }
    Ok(url)
}

/// `Retry-After` in seconds (RFC 9110 §10.2.3; Graph sends delay-seconds); 1 s when absent.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Duration {
    headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or(Duration::from_secs(1))
}

fn transport(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "connection failed".into()
    } else {
        "request failed".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_in_email_prefers_mail_then_upn_lower_case() {
        let mut u = GraphUser {
            id: "x".into(),
            display_name: None,
            mail: Some(" Ada@Contoso.com ".into()),
            user_principal_name: Some("ada_upn@contoso.com".into()),
            account_enabled: Some(true),
            given_name: None,
            surname: None,
            preferred_language: None,
        };
        assert_eq!(u.sign_in_email().as_deref(), Some("ada@contoso.com"));
        u.mail = Some(String::new());
        assert_eq!(u.sign_in_email().as_deref(), Some("ada_upn@contoso.com"));
        u.mail = None;
        u.user_principal_name = None;
        assert_eq!(u.sign_in_email(), None);
    }

    #[test]
    fn next_links_must_stay_on_the_graph_origin() {
        let graph = Url::parse("https://graph.microsoft.com").unwrap();
        assert!(
            same_origin(
                &graph,
                "https://graph.microsoft.com/v1.0/users?$skiptoken=a"
            )
            .is_ok()
        );
        assert!(same_origin(&graph, "https://evil.example/v1.0/users").is_err());
        assert!(same_origin(&graph, "http://graph.microsoft.com/v1.0/users").is_err());
    }

    #[test]
    fn retry_after_reads_seconds_and_defaults_to_one() {
        let mut h = reqwest::header::HeaderMap::new();
        assert_eq!(retry_after(&h), Duration::from_secs(1));
        h.insert(reqwest::header::RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after(&h), Duration::from_secs(7));
    }
}
