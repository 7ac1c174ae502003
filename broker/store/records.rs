//! The records the store keeps. They are serialised as JSON; every key carries the schema
//! version (`v1/…`) so a future format can live beside this one during a rolling upgrade.

use serde::{Deserialize, Serialize};

pub use crate::clock::UnixTime;
/// The directory's domain types live in [`crate::directory`]; the store keeps them as they
/// serialise there, so their JSON is this module's record format too.
pub use crate::directory::{Session, UpstreamLink, User, UserSource};

/// Which step of the login page a transaction is at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoginStage {
    Identifier,
    Password,
    Upstream,
    Done,
}

/// The upstream leg of a login: what we sent upstream, to check what comes back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpstreamLeg {
    pub upstream: String,
    pub organization: Option<String>,
    pub nonce: String,
    pub pkce_verifier: String,
    /// The identifier the user typed (sent as `login_hint`).
    pub login_hint: String,
}

/// A login in progress: the validated `/authorize` request plus the login page's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginTx {
    pub id: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: Vec<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub response_mode: Option<String>,
    pub max_age: Option<u64>,
    pub login_hint: Option<String>,
    /// Digest of the browser-binding cookie: only this browser may continue the login.
    pub browser: String,
    /// CSRF token of this transaction's forms (compared in constant time).
    pub csrf: String,
    pub stage: LoginStage,
    pub identifier: Option<String>,
    pub upstream: Option<UpstreamLeg>,
    /// Set when the login serves an RFC 8628 device authorisation (the device code digest).
    pub device: Option<String>,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
}

/// What a code gave when it was redeemed, kept so a replay can revoke it (RFC 6749 §4.1.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redemption {
    pub access_jti: String,
    pub access_expires_at: UnixTime,
    pub refresh_family: Option<String>,
}

/// An authorization code. Stored under the digest of the code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeRecord {
    pub client_id: String,
    pub redirect_uri: String,
    pub user_id: String,
    pub session_id: String,
    pub scope: Vec<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub auth_time: UnixTime,
    pub amr: Vec<String>,
    pub idp: Option<String>,
    pub organization: Option<String>,
    pub issued_at: UnixTime,
    pub expires_at: UnixTime,
    /// `None` until redeemed; then what the redemption issued.
    pub redeemed: Option<Redemption>,
}

/// A refresh-token family: one login's chain of rotated refresh tokens (RFC 9700 §4.14.2).
/// The token is `{family id}.{secret}`; the family keeps digests of its secrets, never the
/// secrets. The id alone is not a credential: only a secret the family issued acts on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshFamily {
    pub id: String,
    pub user_id: String,
    pub client_id: String,
    pub session_id: Option<String>,
    pub scope: Vec<String>,
    pub auth_time: UnixTime,
    pub amr: Vec<String>,
    pub idp: Option<String>,
    pub organization: Option<String>,
    /// Digest of the one refresh secret that is valid now.
    pub current: String,
    pub generation: u32,
    pub created_at: UnixTime,
    /// The family ends here whatever the rotations (absolute lifetime).
    pub expires_at: UnixTime,
    pub revoked: bool,
    /// The secrets this family issued and that were rotated away, oldest first: presenting
    /// one of them is reuse (RFC 9700 §4.14.2) and revokes the family. At most
    /// [`SPENT_SECRETS_KEPT`]. Absent in records written before this field existed.
    #[serde(default)]
    pub spent: Vec<SpentSecret>,
    /// The access tokens minted from this family that may still be live, so that revoking
    /// the family denies them too. Pruned as they expire.
    #[serde(default)]
    pub access: Vec<IssuedAccess>,
}

/// How many spent secrets a refresh family remembers (see [`RefreshFamily::spent`]). The
/// family may rotate at most this many times per `spent_window` (the service's choice), so a
/// stolen token cannot push its victim's secret out of the family's memory quickly.
pub const SPENT_SECRETS_KEPT: usize = 64;

/// A rotated-away refresh secret: its digest and when it was spent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpentSecret {
    pub digest: String,
    pub spent_at: UnixTime,
}

/// An access token minted from a refresh family (its `jti` and `exp`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedAccess {
    pub jti: String,
    pub expires_at: UnixTime,
}

/// What a presented refresh secret is to its family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretMatch {
    /// The one secret valid now.
    Current,
    /// A secret this family issued and has rotated away since: reuse.
    Spent,
    /// Not a secret this family issued (or one it no longer remembers).
    Unknown,
}

impl RefreshFamily {
    /// Compares the digest of a presented secret with the family's current and spent ones,
    /// in constant time each.
    pub fn recognise(&self, digest: &str) -> SecretMatch {
        use crate::secret::ct_eq;
        if ct_eq(self.current.as_bytes(), digest.as_bytes()) {
            SecretMatch::Current
        } else if self.spent.iter().fold(false, |hit, s| {
            hit | ct_eq(s.digest.as_bytes(), digest.as_bytes())
        }) {
            SecretMatch::Spent
        } else {
            SecretMatch::Unknown
        }
    }
}

/// How an audited action or a Graph operation ended (stored as `success` or `failure`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    Failure,
}

impl Outcome {
    /// `Success` when `ok`.
    pub fn of(ok: bool) -> Outcome {
        if ok {
            Outcome::Success
        } else {
            Outcome::Failure
        }
    }

    /// The stored word, also the `outcome` label of the metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
        }
    }
}

/// One audit event: a sign-in attempt or an admin action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub id: String,
    pub time: UnixTime,
    /// `login.password`, `login.sso`, `token.exchange`, `admin.user.sso`, …
    pub event: String,
    pub outcome: Outcome,
    /// A stable, machine-readable reason code (`bad_password`, `sso_required`, …).
    pub reason: Option<String>,
    pub user_id: Option<String>,
    pub identifier: Option<String>,
    pub organization: Option<String>,
    pub upstream: Option<String>,
    pub client_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// Free-form, never secret.
    pub detail: Option<String>,
}

impl AuditRecord {
    /// An event that ended well; the other fields are filled in by the methods below.
    pub fn success(event: &str, time: UnixTime) -> AuditRecord {
        AuditRecord::new(event, Outcome::Success, time)
    }

    /// An event that failed (its reason given with [`AuditRecord::because`]), or one that
    /// counts as failed until [`AuditRecord::succeeded`] says otherwise.
    pub fn failure(event: &str, time: UnixTime) -> AuditRecord {
        AuditRecord::new(event, Outcome::Failure, time)
    }

    fn new(event: &str, outcome: Outcome, time: UnixTime) -> AuditRecord {
        AuditRecord {
            // Time-ordered, so the store lists records in the order they happened.
            id: uuid::Uuid::now_v7().to_string(),
            time,
            event: event.to_owned(),
            outcome,
            reason: None,
            user_id: None,
            identifier: None,
            organization: None,
            upstream: None,
            client_id: None,
            ip: None,
            user_agent: None,
            detail: None,
        }
    }

    /// Marks the event failed, for `reason` (a stable code: `bad_password`, …).
    pub fn because(mut self, reason: impl Into<String>) -> AuditRecord {
        self.outcome = Outcome::Failure;
        self.reason = Some(reason.into());
        self
    }

    /// Marks the event successful.
    pub fn succeeded(mut self) -> AuditRecord {
        self.outcome = Outcome::Success;
        self
    }

    pub fn user(mut self, id: impl Into<String>) -> AuditRecord {
        self.user_id = Some(id.into());
        self
    }

    pub fn identifier(mut self, identifier: impl Into<String>) -> AuditRecord {
        self.identifier = Some(identifier.into());
        self
    }

    pub fn organization(mut self, id: impl Into<String>) -> AuditRecord {
        self.organization = Some(id.into());
        self
    }

    pub fn upstream(mut self, id: impl Into<String>) -> AuditRecord {
        self.upstream = Some(id.into());
        self
    }

    pub fn client(mut self, id: impl Into<String>) -> AuditRecord {
        self.client_id = Some(id.into());
        self
    }

    /// Where the request came from.
    pub fn request(mut self, ip: Option<&str>, user_agent: Option<&str>) -> AuditRecord {
        self.ip = ip.map(str::to_owned);
        self.user_agent = user_agent.map(str::to_owned);
        self
    }

    pub fn detail(mut self, detail: impl Into<String>) -> AuditRecord {
        self.detail = Some(detail.into());
        self
    }

    /// Names the directory user the event is about (id, email, organisation).
    pub fn name_user(&mut self, user: &User) {
        self.user_id = Some(user.id.clone());
        self.identifier = Some(user.email.clone());
        self.organization = user.organization.clone();
    }
}

/// The connection state of one organisation's upstream tenant, as the admin API shows it.
/// Stored under `v1/org/{organization id}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgState {
    /// The last answer about admin consent: from the consent callback, or learnt from Graph
    /// refusing the app (`consent_missing`).
    pub consent: Option<ConsentState>,
    /// The last Graph operation (fetch, import) and how it ended.
    pub last_sync: Option<SyncState>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentState {
    pub granted: bool,
    pub at: UnixTime,
    /// The tenant Entra reported on the callback.
    pub tenant: Option<String>,
    /// The error Entra returned (`access_denied`, …), or `consent_missing` when Graph
    /// refused the app after consent had been granted.
    pub error: Option<String>,
    pub error_description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncState {
    pub at: UnixTime,
    /// `fetch` or `import`.
    pub operation: String,
    pub outcome: Outcome,
    /// Users seen in the tenant (fetch) or changed in the directory (import).
    pub users: Option<usize>,
    /// Why it failed; never secret.
    pub error: Option<String>,
}

/// A browser that signed in with a password as an identifier: `v1/known-device/{digest of
/// its device cookie}`. Its password attempts for that identifier count against its own
/// allowance, not the identifier's (OWASP "device cookies").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownDevice {
    /// Digest of the normalised identifier the browser signed in as.
    pub identifier: String,
    pub user_id: String,
    pub created_at: UnixTime,
}
