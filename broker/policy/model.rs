//! The validated policy: what `config/broker.yaml` means once it has been parsed and checked.
//!
//! Everything here is plain data plus the indexes the hot paths need (clients by id,
//! organisations by id and by email domain). It is built once per load or reload by
//! [`super::load`] and then shared read-only behind an `Arc`; a reload swaps the whole value.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;
use url::Url;

/// The whole validated policy. Cloning it is cheap next to a reload (the big parts are
/// behind `Arc`s); it is cloned to merge in the organisations created at run time.
#[derive(Debug, Clone)]
pub struct Policy {
    /// The file this policy was read from (for messages and reloads).
    pub source: PathBuf,
    pub issuer: Issuer,
    pub listen: SocketAddr,
    pub tls: Option<TlsFiles>,
    pub keys: KeysPolicy,
    pub store: StorePolicy,
    pub lifetimes: Lifetimes,
    pub admin: AdminPolicy,
    pub clients: HashMap<String, Arc<Client>>,
    /// The APIs (resource servers) access tokens may be addressed to.
    pub apis: Apis,
    pub upstreams: HashMap<String, Arc<Upstream>>,
    /// The file's organisations, then those created at run time that are in force (see
    /// [`super::runtime`]).
    pub organizations: Vec<Arc<Organization>>,
    /// Organisation index by id.
    pub org_by_id: HashMap<String, Arc<Organization>>,
    /// Organisation index by lower-case email domain.
    pub org_by_domain: HashMap<String, Arc<Organization>>,
    pub users: Arc<[PolicyUser]>,
    /// `users[].groups` by normalised email (only users with groups).
    pub groups_by_email: Arc<HashMap<String, Vec<String>>>,
    pub rate_limits: RateLimits,
    pub audit: AuditPolicy,
    /// Peers whose `X-Forwarded-For` / `Forwarded` headers are believed.
    pub trusted_proxies: Vec<IpAddr>,
    /// Connection limits of the listener.
    pub server: ServerLimits,
    /// The Argon2 hashing threads and their queue (fixed at start).
    pub password_hashing: PasswordHashing,
    /// The pages' product name, logo, colours and footer (`branding`).
    pub branding: Arc<Branding>,
    /// The pages' message catalogs and default language (`i18n`).
    pub i18n: Arc<crate::i18n::Catalogs>,
    /// How the broker sends mail (`mail`), when it does.
    pub mail: Option<Arc<MailPolicy>>,
    /// The self-service password reset (`password_reset`).
    pub password_reset: PasswordReset,
    /// `passkeys: required` at the top level: every local user.
    pub passkeys: Passkeys,
    /// The policy file's users with `passkey: required` (normalised emails).
    pub passkey_users: Arc<std::collections::HashSet<String>>,
    /// The policy file's users with `mfa: required` (normalised emails).
    pub mfa_users: Arc<std::collections::HashSet<String>>,
    /// Second factors for everyone local (`mfa`).
    pub mfa: MfaPolicy,
}

/// Whether passkeys are required of local users (`passkeys`, `organizations[].passkeys`,
/// `users[].passkey`). Required: once the user has a passkey, the password is refused.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Passkeys {
    #[default]
    Optional,
    Required,
}

/// `mfa:` the second-factor settings of the whole broker.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MfaPolicy {
    /// `mfa.required`: every password sign-in adds a second factor.
    pub required: bool,
}

impl Policy {
    pub fn client(&self, id: &str) -> Option<&Arc<Client>> {
        self.clients.get(id)
    }

    /// The organisation owning the domain of `email` (already normalised), if any.
    pub fn org_for_email(&self, email: &str) -> Option<&Arc<Organization>> {
        let domain = email.rsplit_once('@').map(|(_, d)| d)?;
        self.org_by_domain.get(domain)
    }

    pub fn upstream(&self, id: &str) -> Option<&Arc<Upstream>> {
        self.upstreams.get(id)
    }

    /// Whether the login page offers the self-service password reset: mail is configured
    /// and `password_reset.enabled` is not `false`.
    pub fn reset_by_mail(&self) -> Option<&MailPolicy> {
        self.mail.as_deref().filter(|_| self.password_reset.enabled)
    }

    /// The broker groups the policy file gives the user who signs in with `email`.
    pub fn groups_of(&self, email: &str) -> &[String] {
        self.groups_by_email.get(email).map_or(&[], Vec::as_slice)
    }
}

/// The issuer identifier: an absolute http(s) URL without a trailing slash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuer(String);

impl Issuer {
    /// Accepts `http(s)://host[:port][/path]`; strips one trailing slash. No query, no fragment
    /// (OIDC Discovery §3: "https URL ... with no query or fragment components").
    pub fn parse(s: &str) -> Result<Issuer, String> {
        let url = Url::parse(s).map_err(|e| format!("not a URL: {e}"))?;
        if url.scheme() != "https" && url.scheme() != "http" {
            return Err("the issuer must be an http or https URL".into());
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err("the issuer must not have a query or fragment".into());
        }
        if url.host_str().is_none() {
            return Err("the issuer must have a host".into());
        }
        Ok(Issuer(s.trim_end_matches('/').to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `issuer + path`, where `path` starts with `/`.
    pub fn join(&self, path: &str) -> String {
        format!("{}{}", self.0, path)
    }

    /// True when the public URL is HTTPS: cookies get `Secure` and the `__Host-` prefix.
    pub fn is_https(&self) -> bool {
        self.0.starts_with("https://")
    }
}

#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SigningAlg {
    ES256,
    EdDSA,
    RS256,
}

impl SigningAlg {
    /// The JWA name (RFC 7518 §3.1, RFC 8037 §3.1), as in a JOSE header and in discovery.
    pub fn as_str(self) -> &'static str {
        match self {
            SigningAlg::ES256 => "ES256",
            SigningAlg::EdDSA => "EdDSA",
            SigningAlg::RS256 => "RS256",
        }
    }

    /// The JWA name back; exact case, as JOSE compares it.
    pub fn parse(s: &str) -> Option<SigningAlg> {
        [SigningAlg::ES256, SigningAlg::EdDSA, SigningAlg::RS256]
            .into_iter()
            .find(|a| a.as_str() == s)
    }
}

#[derive(Debug, Clone)]
pub struct KeysPolicy {
    pub dir: PathBuf,
    /// The algorithm that signs unless a client chooses another (`keys.algorithm`).
    pub algorithm: SigningAlg,
}

impl KeysPolicy {
    /// Every algorithm the broker keeps a key for and signs with: the configured one, then
    /// RS256 beside it. OIDC Core §15.1 makes RS256 the algorithm every OP supports, and
    /// OIDC Discovery §3 says `id_token_signing_alg_values_supported` MUST include it.
    pub fn algorithms(&self) -> &'static [SigningAlg] {
        match self.algorithm {
            SigningAlg::ES256 => &[SigningAlg::ES256, SigningAlg::RS256],
            SigningAlg::EdDSA => &[SigningAlg::EdDSA, SigningAlg::RS256],
            SigningAlg::RS256 => &[SigningAlg::RS256],
        }
    }
}

#[derive(Debug, Clone)]
pub enum StorePolicy {
    Embedded {
        path: PathBuf,
    },
    Redis {
        /// May carry a password, hence secret. Sentinel and Cluster: several URLs,
        /// comma-separated.
        url: SecretString,
        topology: RedisTopology,
        /// Acknowledge security-relevant writes only once this many replicas have them.
        wait: Option<RedisWait>,
    },
}

#[derive(Debug, Clone)]
pub enum RedisTopology {
    Single,
    /// The URLs name the sentinels of `service`; their credentials and database are the
    /// data nodes'.
    Sentinel {
        service: String,
        sentinel_password: Option<SecretString>,
    },
    /// The URLs name seed nodes of a Redis Cluster.
    Cluster,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RedisWait {
    pub replicas: u32,
    pub timeout: Duration,
}

#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    pub session: Duration,
    pub code: Duration,
    pub access_token: Duration,
    pub id_token: Duration,
    pub refresh_token: Duration,
    /// How long a login transaction (from `/authorize` to the code) may take.
    pub login: Duration,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Lifetimes {
            session: Duration::from_secs(8 * 3600),
            code: Duration::from_secs(60),
            access_token: Duration::from_secs(600),
            id_token: Duration::from_secs(600),
            refresh_token: Duration::from_secs(30 * 86400),
            login: Duration::from_secs(15 * 60),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct AdminPolicy {
    /// SHA-256 of the admin bearer token read from `token_env`; `None` disables the admin API.
    pub token_sha256: Option<[u8; 32]>,
    /// Who may do everything in the admin console (normalised emails).
    pub operators: Vec<String>,
}

/// A registered application (OAuth client).
#[derive(Debug)]
pub struct Client {
    pub id: String,
    pub secret: Option<ClientSecret>,
    /// `private_key_jwt` (OIDC Core §9): the client's public keys, from `jwks` or
    /// `jwks_file`. Never together with `secret`.
    pub jwks: Option<jsonwebtoken::jwk::JwkSet>,
    pub redirect_uris: Vec<Url>,
    pub post_logout_redirect_uris: Vec<Url>,
    pub grants: Vec<GrantType>,
    pub scopes: Vec<String>,
    /// RFC 8252 native app: loopback redirect URIs match with any port (§7.3).
    pub native: bool,
    /// Which of the broker's keys sign this client's tokens.
    pub signing: ClientSigning,
    /// The authentication context classes the client asks for or requires.
    pub acr: ClientAcr,
    /// Shown on consent-like pages (device approval); defaults to the id.
    pub name: String,
    /// Role name → the groups that grant it, ordered by role name. A group is a broker
    /// group name or an upstream group id (or name, when the organisation names groups so).
    pub roles: Vec<(String, Vec<String>)>,
    /// `groups` / `roles` claims without asking for the scope.
    pub always_groups: bool,
    pub always_roles: bool,
    /// The most groups a token carries; more, and the token says `groups_overflow`.
    pub groups_limit: usize,
    /// The application's logo on the login page (`clients[].branding.logo`).
    pub logo: Option<Arc<Asset>>,
    /// `clients[].mfa: required`: password sign-ins for it add a second factor.
    pub mfa_required: bool,
}

/// The default of `clients[].groups_limit`: under Entra's 200, so that a token fits a
/// header or a cookie comfortably.
pub const DEFAULT_GROUPS_LIMIT: usize = 150;

impl Client {
    /// A client without a secret or keys is public: PKCE S256 is mandatory for it.
    pub fn is_public(&self) -> bool {
        self.secret.is_none() && self.jwks.is_none()
    }

    pub fn allows_grant(&self, grant: GrantType) -> bool {
        self.grants.contains(&grant)
    }
}

/// The algorithms a client chose for its tokens; `None` follows `keys.algorithm` (so a
/// reload changing it changes them too).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientSigning {
    /// `id_token_signed_response_alg` (OIDC Registration §2).
    pub id_token: Option<SigningAlg>,
    /// `access_token_signed_response_alg`: the JWT access tokens (RFC 9068 §2.1), and
    /// what `/userinfo` and `/introspect` are shown.
    pub access_token: Option<SigningAlg>,
}

/// The `acr` values of a client (each one of `crate::acr::SUPPORTED`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientAcr {
    /// `default_acr_values` (OIDC Registration §2): requested, voluntarily, when the
    /// authorization request has no `acr_values`, and on grants that cannot send any
    /// (device, token exchange).
    pub default: Vec<String>,
    /// `required_acr_values`: a sign-in that achieves none of these gets no tokens for the
    /// client (`unmet_authentication_requirements` at `/authorize`).
    pub required: Vec<String>,
}

/// The algorithms that sign one client's tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenAlgs {
    pub id_token: SigningAlg,
    pub access_token: SigningAlg,
}

impl Policy {
    /// What signs `client_id`'s tokens: its own choice, else `keys.algorithm` (also for a
    /// client a reload has just removed, whose grant is being finished).
    pub fn token_algs(&self, client_id: &str) -> TokenAlgs {
        let chosen = self
            .client(client_id)
            .map(|c| c.signing)
            .unwrap_or_default();
        TokenAlgs {
            id_token: chosen.id_token.unwrap_or(self.keys.algorithm),
            access_token: chosen.access_token.unwrap_or(self.keys.algorithm),
        }
    }
}

/// How a confidential client proves itself.
#[derive(Debug)]
pub enum ClientSecret {
    /// From `secret_env` / `secret_file`: we keep only the SHA-256 (constant-time compared).
    Sha256([u8; 32]),
    /// From `secret_hash`: an argon2id PHC string made by `idbroker hash-secret`.
    Argon2(String),
}

/// An API (a resource server): what its access tokens are addressed to, the scopes it
/// defines, which clients may ask for them, and how it authenticates at `/introspect`.
#[derive(Debug)]
pub struct Api {
    /// A short name; also its `client_id` at `/introspect` (never a client's id).
    pub id: String,
    /// An absolute URI without a fragment (RFC 8707 §2), as written in the policy: the `aud`
    /// of its access tokens and the `resource` value that asks for them.
    pub identifier: String,
    /// The scopes it defines; no other API defines them, and they are no client's own scopes.
    pub scopes: Vec<String>,
    /// Client id → the scopes of this API the client may ask for. A client listed with no
    /// scopes may still get tokens addressed to the API (through `resource`).
    pub clients: HashMap<String, Vec<String>>,
    /// Its credential at `/introspect` (compared like a client secret); without one, the API
    /// cannot introspect.
    pub secret: Option<ClientSecret>,
}

impl Api {
    /// The scopes of this API `client` may ask for; `None` when it may not target the API.
    pub fn granted(&self, client: &str) -> Option<&[String]> {
        self.clients.get(client).map(Vec::as_slice)
    }
}

/// The APIs of the policy and their indexes: by id, by resource (the identifier as a parsed
/// URI) and by scope.
#[derive(Debug, Clone, Default)]
pub struct Apis {
    by_id: HashMap<String, Arc<Api>>,
    by_resource: HashMap<String, Arc<Api>>,
    by_scope: HashMap<String, Arc<Api>>,
}

impl Apis {
    /// Indexes `apis`, which the validator has checked: unique ids, identifiers and scopes.
    pub fn new(apis: Vec<Api>) -> Apis {
        let mut out = Apis::default();
        for api in apis.into_iter().map(Arc::new) {
            if let Ok(key) = resource_key(&api.identifier) {
                out.by_resource.insert(key, Arc::clone(&api));
            }
            for s in &api.scopes {
                out.by_scope.insert(s.clone(), Arc::clone(&api));
            }
            out.by_id.insert(api.id.clone(), api);
        }
        out
    }

    pub fn get(&self, id: &str) -> Option<&Arc<Api>> {
        self.by_id.get(id)
    }

    /// The API a `resource` value names: compared as parsed URIs (as redirect URIs are), so
    /// `https://api.example` and `https://api.example/` name the same API.
    pub fn by_resource(&self, resource: &str) -> Option<&Arc<Api>> {
        self.by_resource.get(&resource_key(resource).ok()?)
    }

    /// The API that defines `scope`, if any.
    pub fn of_scope(&self, scope: &str) -> Option<&Arc<Api>> {
        self.by_scope.get(scope)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<Api>> {
        self.by_id.values()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

/// A resource indicator as the broker compares it: an absolute URI without a fragment
/// (RFC 8707 §2), in its parsed (normalised) form; or why it is not one.
pub fn resource_key(text: &str) -> Result<String, String> {
    let url = Url::parse(text).map_err(|e| format!("{text:?} is not an absolute URI ({e})"))?;
    if url.fragment().is_some() {
        return Err(format!(
            "{text:?} has a fragment; a resource indicator must not (RFC 8707 §2)"
        ));
    }
    Ok(url.to_string())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GrantType {
    AuthorizationCode,
    RefreshToken,
    ClientCredentials,
    /// RFC 8628.
    DeviceCode,
    /// RFC 8693.
    TokenExchange,
}

impl GrantType {
    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::RefreshToken => "refresh_token",
            GrantType::ClientCredentials => "client_credentials",
            GrantType::DeviceCode => "urn:ietf:params:oauth:grant-type:device_code",
            GrantType::TokenExchange => "urn:ietf:params:oauth:grant-type:token-exchange",
        }
    }

    pub fn parse(s: &str) -> Option<GrantType> {
        Some(match s {
            "authorization_code" => GrantType::AuthorizationCode,
            "refresh_token" => GrantType::RefreshToken,
            "client_credentials" => GrantType::ClientCredentials,
            "urn:ietf:params:oauth:grant-type:device_code" | "device_code" => GrantType::DeviceCode,
            "urn:ietf:params:oauth:grant-type:token-exchange" | "token_exchange" => {
                GrantType::TokenExchange
            }
            _ => return None,
        })
    }
}

/// An upstream identity provider users can be sent to.
#[derive(Debug)]
pub struct Upstream {
    pub id: String,
    pub kind: UpstreamKind,
    pub client_id: String,
    pub credential: UpstreamCredential,
    /// Scopes requested upstream; `openid` is always included.
    pub scopes: Vec<String>,
    /// Upper bound for any one request to the upstream.
    pub timeout: Duration,
    /// Shown on pages: "Sign in with {display_name}".
    pub display_name: String,
    /// `entra` only: other Entra applications (client ids, lower-case) whose tokens for our
    /// app may be exchanged (RFC 8693); tokens our own `client_id` obtained always may.
    pub exchange_apps: Vec<String>,
    /// `oidc` only: the ID-token claim that lists the user's groups.
    pub groups_claim: String,
}

#[derive(Debug)]
pub enum UpstreamKind {
    /// Microsoft Entra ID v2.0: per-tenant authority `{authority}/{tenant}/v2.0`.
    Entra { authority: Url, graph: Url },
    /// Any OpenID provider with discovery at `{issuer}/.well-known/openid-configuration`.
    Oidc { issuer: Url },
}

#[derive(Debug)]
pub enum UpstreamCredential {
    Secret(SecretString),
    /// `private_key_jwt` with a certificate (Entra wants `x5t#S256` in the assertion header).
    Certificate {
        cert: PathBuf,
        key: PathBuf,
    },
    /// A public client upstream (PKCE only); allowed for `kind: oidc` only.
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SsoMode {
    Off,
    PerUser,
    AllSyncedUsers,
}

impl SsoMode {
    pub fn as_str(self) -> &'static str {
        match self {
            SsoMode::Off => "off",
            SsoMode::PerUser => "per_user",
            SsoMode::AllSyncedUsers => "all_synced_users",
        }
    }
}

#[derive(Debug)]
pub struct Organization {
    pub id: String,
    /// Where it was defined: the policy file, or the admin API at run time.
    pub origin: OrgOrigin,
    /// Lower-case email domains.
    pub domains: Vec<String>,
    /// The upstream id; `None` for an organisation of password users only.
    pub upstream: Option<String>,
    /// Entra tenant id (lower-case GUID); required when the upstream is `kind: entra`.
    pub tenant_id: Option<String>,
    pub sso: SsoMode,
    pub password_fallback: bool,
    pub jit: bool,
    pub sync_interval: Option<Duration>,
    /// Who may administer this organisation, and only it, in the console (normalised
    /// emails; the policy file's only).
    pub admins: Vec<String>,
    pub groups: OrgGroups,
    /// The logo and colours its users see once the login knows the organisation.
    pub branding: OrgBranding,
    /// Whether its local users must sign in with a passkey.
    pub passkeys: Passkeys,
    /// `organizations[].mfa: required`: its users add a second factor to a password.
    pub mfa_required: bool,
}

/// Which groups an organisation's users have in tokens.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrgGroups {
    /// Read each user's groups from the upstream at sign-in (Entra: the ID token's
    /// `groups`, or Graph's `transitiveMemberOf` on overage; OIDC: `groups_claim`).
    pub upstream: bool,
    /// Only these upstream group ids count; `None`: all.
    pub only: Option<Vec<String>>,
    pub names: GroupNames,
    /// Broker groups every user of the organisation is in.
    pub everyone: Vec<String>,
}

/// How upstream groups are named in tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum GroupNames {
    /// The immutable object id (Entra's default too).
    #[default]
    Id,
    /// The display name: readable, but not unique (see `docs/src/groups.md`).
    Name,
}

/// Where an organisation was defined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgOrigin {
    PolicyFile,
    Runtime,
}

impl OrgOrigin {
    pub fn as_str(self) -> &'static str {
        match self {
            OrgOrigin::PolicyFile => "policy_file",
            OrgOrigin::Runtime => "runtime",
        }
    }
}

/// A local user kept in the policy file (seeded into the directory at load).
#[derive(Debug, Clone)]
pub struct PolicyUser {
    /// Normalised (trimmed, lower-case).
    pub email: String,
    pub name: String,
    pub password_hash: Option<String>,
    pub organization: Option<String>,
    /// Entra link (`tid`, `oid`) or OIDC link (`iss`, `sub`) for tests and demos before the
    /// admin surface imports users.
    pub link: Option<crate::directory::UpstreamLink>,
    pub sso: bool,
    pub disabled: bool,
    /// Broker groups (`users[].groups`).
    pub groups: Vec<String>,
    /// `given_name`, `family_name`, `preferred_username`, `locale`, `zoneinfo`, `picture`.
    pub profile: crate::directory::Profile,
    /// `users[].passkey`.
    pub passkey: Passkeys,
    /// `users[].mfa: required`: this user adds a second factor to their password.
    pub mfa_required: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct RateLimits {
    /// Password attempts per client IP per window.
    pub password_per_ip: u32,
    /// Password attempts per identifier per window.
    pub password_per_identifier: u32,
    /// Failed client authentications per client id per window before every attempt of that
    /// client is refused until the window ends.
    pub token_per_client: u32,
    pub window: Duration,
    /// `/authorize` requests (that passed validation) per client IP per window.
    pub authorize_per_ip: u32,
    /// Login transactions started per client IP per login lifetime (`lifetimes.login`):
    /// bounds the live transactions one address can keep in the store.
    pub login_tx_per_ip: u32,
    /// Identifier-step submissions (home realm discovery) per client IP per window.
    pub identifier_per_ip: u32,
    /// Refused admin authentications per client IP per window that are audited one by one;
    /// later ones are answered `429` and only counted in a metric.
    pub admin_auth_failures_per_ip: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            password_per_ip: 30,
            password_per_identifier: 5,
            token_per_client: 600,
            window: Duration::from_secs(300),
            authorize_per_ip: 600,
            login_tx_per_ip: 1000,
            identifier_per_ip: 300,
            admin_auth_failures_per_ip: 20,
        }
    }
}

/// How much password work runs at once, and how much may wait. Every thread holds one
/// Argon2 memory (19 MiB for the broker's hashes), so `threads` bounds the memory of password
/// work; `queue` bounds the jobs waiting for a thread (beyond it: `429`, `Retry-After`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordHashing {
    pub threads: usize,
    pub queue: usize,
}

impl PasswordHashing {
    /// Jobs waiting per thread by default: at 20–40 ms a verification, a full queue drains
    /// in one to three seconds, well inside the 30 s request timeout.
    pub const QUEUE_PER_THREAD: usize = 64;

    pub const MAX_THREADS: usize = 256;
    pub const MAX_QUEUE: usize = 10_000;

    /// One thread per core.
    pub fn default_threads() -> usize {
        std::thread::available_parallelism()
            .map_or(2, |n| n.get())
            .min(Self::MAX_THREADS)
    }

    /// 64 per thread (at most [`Self::MAX_QUEUE`]).
    pub fn default_queue(threads: usize) -> usize {
        threads
            .saturating_mul(Self::QUEUE_PER_THREAD)
            .min(Self::MAX_QUEUE)
    }
}

impl Default for PasswordHashing {
    fn default() -> Self {
        let threads = Self::default_threads();
        PasswordHashing {
            threads,
            queue: Self::default_queue(threads),
        }
    }
}

#[derive(Debug, Clone)]
pub enum AuditSink {
    Stdout,
    File(PathBuf),
    Off,
}

#[derive(Debug, Clone)]
pub struct AuditPolicy {
    pub sink: AuditSink,
    pub retention: Duration,
}

impl Default for AuditPolicy {
    fn default() -> Self {
        AuditPolicy {
            sink: AuditSink::Stdout,
            retention: Duration::from_secs(90 * 86400),
        }
    }
}

/// The account page's client id; reserved (a policy may not register it).
pub const ACCOUNT_CLIENT_ID: &str = "idbroker-account";

/// The account page's registration: a public client with PKCE, like any SPA or native app.
pub fn builtin_account_client(issuer: &Issuer) -> Client {
    let url = |p: &str| Url::parse(&issuer.join(p)).ok();
    Client {
        id: ACCOUNT_CLIENT_ID.into(),
        secret: None,
        jwks: None,
        // The account page's and the admin console's callbacks.
        redirect_uris: [url("/account/callback"), url("/admin/callback")]
            .into_iter()
            .flatten()
            .collect(),
        post_logout_redirect_uris: url("/account").into_iter().collect(),
        grants: vec![GrantType::AuthorizationCode],
        scopes: vec!["openid".into(), "email".into(), "profile".into()],
        native: false,
        signing: ClientSigning::default(),
        acr: ClientAcr::default(),
        // Read mid-sentence on the login page: "to continue to your account".
        name: "your account".into(),
        roles: Vec::new(),
        always_groups: false,
        always_roles: false,
        groups_limit: DEFAULT_GROUPS_LIMIT,
        logo: None,
        mfa_required: false,
    }
}

/// What one client connection may hold: how long, and how many there may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    /// Open connections at most (TCP, TLS or not); the next one is refused at once. Lowered at
    /// start to fit the open-files limit.
    pub max_connections: u32,
    /// A TLS handshake, and then the first request's head, must each arrive within this;
    /// on HTTP/1.1 a later request's head too, counted from its first byte.
    pub header_read_timeout: Duration,
    /// A connection with no request in flight for this long is closed (HTTP/1.1 keep-alive,
    /// HTTP/2).
    pub idle_timeout: Duration,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            max_connections: 10_000,
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
        }
    }
}

/// The product's name when the policy gives none.
pub const DEFAULT_PRODUCT_NAME: &str = "idbroker";

/// A file the pages show (a logo, a favicon) or the stylesheet of a theme, held in memory and
/// served under a name made of its digest (`/branding/<name>`), so it may be cached forever.
#[derive(Debug)]
pub struct Asset {
    /// `<first 16 hex digits of the SHA-256>.<extension>`.
    pub name: String,
    pub content_type: &'static str,
    pub bytes: Arc<[u8]>,
}

impl Asset {
    /// Where the pages load it from.
    pub fn url(&self) -> String {
        format!("/branding/{}", self.name)
    }
}

/// The broker's brand (`branding`).
#[derive(Debug, Clone)]
pub struct Branding {
    pub product_name: String,
    pub logo: Option<Arc<Asset>>,
    pub favicon: Option<Arc<Asset>>,
    /// The accent colours' stylesheet; `None`: the shipped colours.
    pub theme: Option<Arc<Asset>>,
    pub links: FooterLinks,
    /// Where the password step's "Forgot password?" leads; `None`: no link.
    pub forgot_password: Option<Url>,
    /// Every asset of the policy (the broker's, the clients', the organisations'), by name.
    pub assets: HashMap<String, Arc<Asset>>,
}

impl Default for Branding {
    fn default() -> Self {
        Branding {
            product_name: DEFAULT_PRODUCT_NAME.to_owned(),
            logo: None,
            favicon: None,
            theme: None,
            links: FooterLinks::default(),
            forgot_password: None,
            assets: HashMap::new(),
        }
    }
}

/// The pages' footer (`branding.links`).
#[derive(Debug, Clone, Default)]
pub struct FooterLinks {
    pub privacy: Option<Url>,
    pub terms: Option<Url>,
    pub help: Option<Url>,
}

/// An organisation's brand (`organizations[].branding`).
#[derive(Debug, Clone, Default)]
pub struct OrgBranding {
    pub logo: Option<Arc<Asset>>,
    pub theme: Option<Arc<Asset>>,
}

/// `mail`: the sender and the SMTP relay of the broker's mail (password-reset links).
#[derive(Debug, Clone)]
pub struct MailPolicy {
    /// The `From:` mailbox, checked (`Name <address>` or `address`).
    pub from: String,
    pub smtp: SmtpRelay,
}

/// `mail.smtp`: where mail is handed over.
#[derive(Debug, Clone)]
pub struct SmtpRelay {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    /// The user name and password (RFC 4954 AUTH), from the environment or files.
    pub credentials: Option<(String, SecretString)>,
    /// How long one delivery may take, connection to `QUIT`.
    pub timeout: Duration,
}

/// How the connection to the relay is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// TLS from the first byte (RFC 8314 §3.3, port 465).
    Tls,
    /// `STARTTLS` required before anything is sent (RFC 3207, port 587).
    StartTls,
    /// Plain SMTP: only to a relay on the loopback interface.
    None,
}

impl SmtpSecurity {
    pub fn default_port(self) -> u16 {
        match self {
            SmtpSecurity::Tls => 465,
            SmtpSecurity::StartTls => 587,
            SmtpSecurity::None => 25,
        }
    }
}

/// `password_reset`: the "Forgot password?" link of the password step, its mail and limits.
#[derive(Debug, Clone, Copy)]
pub struct PasswordReset {
    /// Off only when `password_reset.enabled: false`; needs `mail` to be offered.
    pub enabled: bool,
    /// How long a mailed link works (once).
    pub link_lifetime: Duration,
    /// Requests per address (as typed) per window.
    pub per_address: u32,
    /// Requests per client IP per window.
    pub per_ip: u32,
    pub window: Duration,
}

impl Default for PasswordReset {
    fn default() -> Self {
        PasswordReset {
            enabled: true,
            link_lifetime: Duration::from_secs(30 * 60),
            per_address: 3,
            per_ip: 20,
            window: Duration::from_secs(3600),
        }
    }
}
