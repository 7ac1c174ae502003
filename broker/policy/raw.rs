//! The policy file as written: serde structs that mirror the YAML one to one.
//!
//! Every struct denies unknown keys, so a typo is an error with its location rather than a
//! silently ignored setting. Every value that is checked after parsing is wrapped in
//! [`Spanned`], so a problem found later still points at its line and column. Fields the
//! schema requires are `Option` here anyway: the validator reports a missing one with the
//! location of its parent and a sentence saying what to write, and keeps looking for more.
//!
//! No enum here is internally tagged or untagged: serde buffers those and the locations
//! inside them are lost. Kinds (`store.kind`, `upstreams[].kind`) are plain fields instead.

use serde::Deserialize;
use serde_saphyr::Spanned;

pub(super) type Text = Spanned<String>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPolicy {
    pub issuer: Option<Text>,
    pub listen: Option<Text>,
    pub tls: Option<Spanned<RawTls>>,
    pub keys: Option<RawKeys>,
    pub store: Option<Spanned<RawStore>>,
    pub lifetimes: Option<RawLifetimes>,
    pub admin: Option<Spanned<RawAdmin>>,
    #[serde(default)]
    pub clients: Vec<Spanned<RawClient>>,
    #[serde(default)]
    pub apis: Vec<Spanned<RawApi>>,
    #[serde(default)]
    pub upstreams: Vec<Spanned<RawUpstream>>,
    #[serde(default)]
    pub organizations: Vec<Spanned<RawOrganization>>,
    #[serde(default)]
    pub users: Vec<Spanned<RawUser>>,
    pub rate_limits: Option<RawRateLimits>,
    pub audit: Option<RawAudit>,
    #[serde(default)]
    pub trusted_proxies: Vec<Text>,
    pub server: Option<RawServer>,
    pub password_hashing: Option<RawPasswordHashing>,
    pub branding: Option<Spanned<RawBranding>>,
    pub i18n: Option<Spanned<RawI18n>>,
    pub mail: Option<Spanned<RawMail>>,
    pub password_reset: Option<Spanned<RawPasswordReset>>,
    /// Whether every local user must sign in with a passkey.
    pub passkeys: Option<RawPasskeys>,
    /// `mfa:` second factors for everyone local.
    pub mfa: Option<RawMfaPolicy>,
}

/// `mail:` how the broker sends mail (password-reset links).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMail {
    /// The `From:` mailbox, `Name <address>` or `address`.
    pub from: Option<Text>,
    pub smtp: Option<Spanned<RawSmtp>>,
}

/// `mail.smtp:` the relay.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSmtp {
    pub host: Option<Text>,
    pub port: Option<Spanned<u16>>,
    /// `tls` (implicit TLS), `starttls` or `none` (a relay on the loopback only).
    pub security: Option<Text>,
    pub username_env: Option<Text>,
    pub username_file: Option<Text>,
    pub password_env: Option<Text>,
    pub password_file: Option<Text>,
    pub timeout: Option<Text>,
}

/// `password_reset:` the self-service reset by email.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPasswordReset {
    pub enabled: Option<Spanned<bool>>,
    pub link_lifetime: Option<Text>,
    pub per_address: Option<Spanned<u32>>,
    pub per_ip: Option<Spanned<u32>>,
    pub window: Option<Text>,
}

/// `passkeys:` (top level, `organizations[]`) and `users[].passkey`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum RawPasskeys {
    Optional,
    Required,
}

/// `mfa:` (top level).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMfaPolicy {
    /// Every password sign-in adds a second factor.
    pub required: Option<bool>,
}

/// `users[].mfa`, `organizations[].mfa`, `clients[].mfa`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum RawMfa {
    Optional,
    Required,
}

/// `branding:` the pages' product name, logo, colours and footer.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBranding {
    pub product_name: Option<Text>,
    /// The folder the logos are read from.
    pub assets: Option<Text>,
    pub logo: Option<Text>,
    pub favicon: Option<Text>,
    pub primary_color: Option<Text>,
    pub primary_color_dark: Option<Text>,
    pub links: Option<Spanned<RawFooterLinks>>,
    pub forgot_password: Option<Text>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFooterLinks {
    pub privacy: Option<Text>,
    pub terms: Option<Text>,
    pub help: Option<Text>,
}

/// `i18n:` the pages' default language and the operator's catalogs.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawI18n {
    pub default_locale: Option<Text>,
    pub messages: Option<Text>,
}

/// `clients[].branding` and `organizations[].branding`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBrand {
    pub logo: Option<Text>,
    pub primary_color: Option<Text>,
    pub primary_color_dark: Option<Text>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTls {
    pub cert: Option<Text>,
    pub key: Option<Text>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawKeys {
    pub dir: Option<Text>,
    pub algorithm: Option<RawAlgorithm>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
pub(super) enum RawAlgorithm {
    ES256,
    EdDSA,
    RS256,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStore {
    pub kind: Option<RawStoreKind>,
    pub path: Option<Text>,
    pub url: Option<Text>,
    pub url_env: Option<Text>,
    pub topology: Option<Spanned<RawTopology>>,
    pub service: Option<Text>,
    pub sentinel_password_env: Option<Text>,
    pub wait: Option<Spanned<RawWait>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum RawTopology {
    Single,
    Sentinel,
    Cluster,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWait {
    pub replicas: Option<Spanned<u32>>,
    pub timeout_ms: Option<Spanned<u64>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum RawStoreKind {
    Embedded,
    Redis,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLifetimes {
    pub session: Option<Text>,
    pub code: Option<Text>,
    pub access_token: Option<Text>,
    pub id_token: Option<Text>,
    pub refresh_token: Option<Text>,
    pub login: Option<Text>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAdmin {
    pub token_env: Option<Text>,
    pub token_file: Option<Text>,
    /// Who may use the admin console for everything (emails).
    #[serde(default)]
    pub operators: Vec<Text>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawClient {
    pub id: Option<Text>,
    pub name: Option<Text>,
    pub secret_env: Option<Text>,
    pub secret_file: Option<Text>,
    pub secret_hash: Option<Text>,
    /// `private_key_jwt`: an inline JWK Set of public keys.
    pub jwks: Option<Spanned<RawJwks>>,
    /// `private_key_jwt`: a JSON file holding a JWK Set of public keys.
    pub jwks_file: Option<Text>,
    pub redirect_uris: Option<Spanned<Vec<Text>>>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<Text>,
    pub grants: Option<Spanned<Vec<Text>>>,
    pub scopes: Option<Vec<Text>>,
    pub native: Option<Spanned<bool>>,
    /// OIDC Registration §2: the JWS algorithm of the client's ID tokens.
    pub id_token_signed_response_alg: Option<Text>,
    /// The JWS algorithm of the client's access tokens (RFC 9068 JWTs).
    pub access_token_signed_response_alg: Option<Text>,
    /// OIDC Registration §2: the `acr` values asked for when a request names none.
    pub default_acr_values: Option<Spanned<Vec<Text>>>,
    /// `acr` values one of which every sign-in for this client must achieve.
    pub required_acr_values: Option<Spanned<Vec<Text>>>,
    /// Role name → the groups that grant it (broker group names or upstream group ids).
    pub roles: Option<Spanned<std::collections::BTreeMap<String, Vec<Text>>>>,
    /// Claims the client always gets, without asking for their scope: `groups`, `roles`.
    pub claims: Option<Vec<Text>>,
    /// The most groups a token carries before the overflow rule applies.
    pub groups_limit: Option<Spanned<u32>>,
    pub branding: Option<Spanned<RawBrand>>,
    /// `required`: every password sign-in for this client adds a second factor.
    pub mfa: Option<RawMfa>,
}

/// An API (a resource server, RFC 8707): the audience of the access tokens it accepts.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawApi {
    pub id: Option<Text>,
    pub identifier: Option<Text>,
    pub scopes: Option<Vec<Text>>,
    /// Client id → the scopes of this API the client may ask for. The keys keep their
    /// location too, so an unknown client id is reported where it is written.
    pub clients: Option<Spanned<RawGrants>>,
    pub secret_env: Option<Text>,
    pub secret_file: Option<Text>,
    pub secret_hash: Option<Text>,
}

/// A mapping of client ids to lists of scopes (`{web: [orders.read]}`), in document order.
/// Read by hand because serde's maps would lose the keys' order and locations.
#[derive(Debug)]
pub(super) struct RawGrants(pub Vec<(Text, Vec<Text>)>);

impl<'de> Deserialize<'de> for RawGrants {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Entries;
        impl<'de> serde::de::Visitor<'de> for Entries {
            type Value = RawGrants;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a mapping of client ids to lists of scopes, e.g. {web: [orders.read]}")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<RawGrants, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = map.next_entry::<Text, Vec<Text>>()? {
                    out.push(entry);
                }
                Ok(RawGrants(out))
            }
        }
        d.deserialize_map(Entries)
    }
}

/// A JWK Set (RFC 7517 §5). The keys themselves are free-form JSON objects, checked member
/// by member by the validator (a JWK may carry members we do not use, like `x5c`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawJwks {
    pub keys: Option<Spanned<Vec<Spanned<serde_json::Value>>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawUpstream {
    pub id: Option<Text>,
    pub kind: Option<RawUpstreamKind>,
    pub client_id: Option<Text>,
    pub client_secret_env: Option<Text>,
    pub client_secret_file: Option<Text>,
    pub client_certificate: Option<Spanned<RawCertificate>>,
    pub authority: Option<Text>,
    pub graph: Option<Text>,
    pub issuer: Option<Text>,
    pub scopes: Option<Vec<Text>>,
    pub timeout: Option<Text>,
    pub display_name: Option<Text>,
    pub exchange_apps: Option<Vec<Text>>,
    /// Generic OIDC: the ID-token claim that lists the user's groups (default `groups`).
    pub groups_claim: Option<Text>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum RawUpstreamKind {
    Entra,
    Oidc,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCertificate {
    pub cert: Option<Text>,
    pub key: Option<Text>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOrganization {
    pub id: Option<Text>,
    #[serde(default)]
    pub domains: Vec<Text>,
    /// Who may administer this organisation in the console (emails).
    #[serde(default)]
    pub admins: Vec<Text>,
    pub upstream: Option<Text>,
    pub tenant_id: Option<Text>,
    pub sso: Option<Spanned<RawSso>>,
    pub password_fallback: Option<bool>,
    pub jit: Option<Spanned<bool>>,
    pub sync: Option<Spanned<RawSync>>,
    pub groups: Option<Spanned<RawOrgGroups>>,
    pub branding: Option<Spanned<RawBrand>>,
    /// Whether the organisation's local users must sign in with a passkey.
    pub passkeys: Option<RawPasskeys>,
    /// `required`: the organisation's users add a second factor to a password.
    pub mfa: Option<RawMfa>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOrgGroups {
    /// Read each user's groups from the upstream at sign-in.
    pub upstream: Option<Spanned<bool>>,
    /// Only these upstream group ids count.
    pub only: Option<Spanned<Vec<Text>>>,
    /// How upstream groups are named in tokens: `id` (default) or `name`.
    pub names: Option<Spanned<RawGroupNames>>,
    /// Broker groups every user of the organisation is in.
    #[serde(default)]
    pub everyone: Vec<Text>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum RawGroupNames {
    Id,
    Name,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum RawSso {
    Off,
    PerUser,
    AllSyncedUsers,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSync {
    pub interval: Option<Text>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawUser {
    pub email: Option<Text>,
    pub name: Option<Text>,
    pub password_hash: Option<Text>,
    pub organization: Option<Text>,
    pub link: Option<Spanned<RawLink>>,
    pub sso: Option<bool>,
    pub disabled: Option<bool>,
    /// Broker groups this user is in.
    #[serde(default)]
    pub groups: Vec<Text>,
    pub given_name: Option<Text>,
    pub family_name: Option<Text>,
    pub preferred_username: Option<Text>,
    pub locale: Option<Text>,
    pub zoneinfo: Option<Text>,
    pub picture: Option<Text>,
    /// Whether this user must sign in with a passkey.
    pub passkey: Option<RawPasskeys>,
    /// `required`: this user adds a second factor to their password.
    pub mfa: Option<RawMfa>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLink {
    pub tid: Option<Text>,
    pub oid: Option<Text>,
    pub iss: Option<Text>,
    pub sub: Option<Text>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRateLimits {
    pub password_per_ip: Option<Spanned<u32>>,
    pub password_per_identifier: Option<Spanned<u32>>,
    pub token_per_client: Option<Spanned<u32>>,
    pub window: Option<Text>,
    pub authorize_per_ip: Option<Spanned<u32>>,
    pub login_tx_per_ip: Option<Spanned<u32>>,
    pub identifier_per_ip: Option<Spanned<u32>>,
    pub admin_auth_failures_per_ip: Option<Spanned<u32>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAudit {
    pub sink: Option<RawSink>,
    pub retention: Option<Text>,
}

/// `sink: stdout`, `sink: off`, or `sink: {file: path}` (externally tagged, so spans survive).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum RawSink {
    Stdout,
    Off,
    File(Text),
}

/// `server`: how long a connection may take and how many may be open.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawServer {
    pub max_connections: Option<Spanned<u32>>,
    pub header_read_timeout: Option<Text>,
    pub idle_timeout: Option<Text>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPasswordHashing {
    pub threads: Option<Spanned<u32>>,
    pub queue: Option<Spanned<u32>>,
}
