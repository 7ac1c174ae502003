//! The records the store keeps. They are serialised as JSON; every key carries the schema
//! version (`v1/…`) so a future format can live beside this one during a rolling upgrade.

use serde::{Deserialize, Serialize};

pub use crate::clock::UnixTime;
/// The directory's domain types live in [`crate::directory`]; the store keeps them as they
/// serialise there, so their JSON is this module's record format too.
pub use crate::directory::{
    AuthRequest, Authentication, OrganizationSpec, RuntimeOrganization, Session, SyncSpec,
    UpstreamGroup, UpstreamLink, User, UserGroups, UserSource,
};

/// Which step of the login page a transaction is at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoginStage {
    Identifier,
    Password,
    Upstream,
    /// The password was right; the user's one-time code is asked for.
    Otp,
    /// The password was right; a second factor is required and the user is setting one up.
    OtpEnrol,
    /// The second factor was just set up; the recovery codes are shown before continuing.
    OtpEnrolled,
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
    #[serde(flatten)]
    pub request: AuthRequest,
    /// The client's `state`, returned with the code (RFC 6749 §4.1.2).
    pub state: Option<String>,
    pub response_mode: Option<String>,
    pub max_age: Option<u64>,
    pub login_hint: Option<String>,
    /// OIDC Core §3.1.2.1 `ui_locales`: the pages' languages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ui_locales: Option<String>,
    /// An email domain naming the user's organisation, for its brand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain_hint: Option<String>,
    /// Digest of the browser-binding cookie: only this browser may continue the login.
    pub browser: String,
    /// CSRF token of this transaction's forms (compared in constant time).
    pub csrf: String,
    pub stage: LoginStage,
    pub identifier: Option<String>,
    pub upstream: Option<UpstreamLeg>,
    /// Set when the login serves an RFC 8628 device authorisation (the device code digest).
    pub device: Option<String>,
    /// The second-factor step: set once the password was right (stages `Otp…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa: Option<PendingMfa>,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
}

/// A login between its password and its second factor.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingMfa {
    /// The user whose password was right.
    pub user_id: String,
    /// Inline enrolment: the secret being set up (base32), until a code confirms it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrol_secret: Option<String>,
    /// The methods used when the step is passed (RFC 8176), decided by the step.
    #[serde(default)]
    pub amr: Vec<String>,
}

impl std::fmt::Debug for PendingMfa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingMfa")
            .field("user_id", &self.user_id)
            .field("enrol_secret", &self.enrol_secret.as_ref().map(|_| "…"))
            .field("amr", &self.amr)
            .finish()
    }
}

/// A user's one-time-code enrolment (RFC 6238): `v1/user-totp/{user_id}`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpFactor {
    /// The shared secret (RFC 4226 §4 R6: 160 bits), base32 (RFC 4648 §6) without padding,
    /// as the authenticator app holds it. A credential: never logged.
    pub secret: String,
    /// The last time step accepted (RFC 6238 §5.2): a code of it or an earlier one is refused.
    pub last_step: Option<u64>,
    /// Digests (`crate::secret::digest`) of the recovery codes not used yet.
    pub recovery: Vec<String>,
    pub created_at: UnixTime,
}

impl std::fmt::Debug for TotpFactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpFactor")
            .field("secret", &"…")
            .field("last_step", &self.last_step)
            .field("recovery_left", &self.recovery.len())
            .field("created_at", &self.created_at)
            .finish()
    }
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
    #[serde(flatten)]
    pub request: AuthRequest,
    pub user_id: String,
    pub session_id: String,
    #[serde(flatten)]
    pub auth: Authentication,
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
    /// The API the family's access tokens are addressed to (its identifier; RFC 8707 §2.2:
    /// a refresh stays within it); `None` for the client itself, and in families written
    /// before APIs existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    #[serde(flatten)]
    pub auth: Authentication,
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
    /// Who did it, for admin actions: the console admin's email, or `admin API token`.
    /// Absent in records written before this field existed, and in sign-in events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
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
            actor: None,
        }
    }

    /// Who did it (admin actions).
    pub fn actor(mut self, who: impl Into<String>) -> AuditRecord {
        self.actor = Some(who.into());
        self
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

/// The stored format is a compatibility promise: records written before the bundles
/// ([`AuthRequest`], [`Authentication`]) were embedded must still decode, and records written
/// now must read back with the code that wrote the old ones (a rolling upgrade runs both).
/// Each literal is a record exactly as the flat structs of that code serialised it.
#[cfg(test)]
mod stored_format {
    use serde::Serialize;
    use serde::de::DeserializeOwned;
    use serde_json::Value;

    use super::*;
    use crate::store::device::{DeviceAuthorization, DeviceGrant, DeviceStatus};

    const CODE: &str = r#"{"client_id":"helpdesk","redirect_uri":"https://helpdesk.example.com/callback","user_id":"0197a3c2-5d1e-7b7a-9c1d-3f2e4a5b6c7d","session_id":"0197a3c2-6e2f-7c8b-8d2e-4a3f5b6c7d8e","scope":["openid","email","offline_access"],"nonce":"n-0S6_WzA2Mj","code_challenge":"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM","auth_time":1750000000,"amr":["fed"],"idp":"entra","organization":"contoso","issued_at":1750000030,"expires_at":1750000090,"redeemed":{"access_jti":"6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f","access_expires_at":1750000630,"refresh_family":"Zk9hR2xhYmVsX2ZhbWlseQ"}}"#;
    const FAMILY: &str = r#"{"id":"Zk9hR2xhYmVsX2ZhbWlseQ","user_id":"0197a3c2-5d1e-7b7a-9c1d-3f2e4a5b6c7d","client_id":"helpdesk","session_id":"0197a3c2-6e2f-7c8b-8d2e-4a3f5b6c7d8e","scope":["openid","email","offline_access"],"auth_time":1750000000,"amr":["fed"],"idp":"entra","organization":"contoso","current":"q1w2e3r4t5y6u7i8o9p0a1s2d3f4g5h6j7k8l9z0x1c","generation":2,"created_at":1750000030,"expires_at":1752592030,"revoked":false,"spent":[{"digest":"a1s2d3f4g5h6j7k8l9z0x1c2v3b4n5m6q7w8e9r0t1y","spent_at":1750000700},{"digest":"z0x9c8v7b6n5m4a3s2d1f0g9h8j7k6l5q4w3e2r1t0y","spent_at":1750001400}],"access":[{"jti":"7a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d","expires_at":1750002000}]}"#;
    const SESSION: &str = r#"{"id":"0197a3c2-6e2f-7c8b-8d2e-4a3f5b6c7d8e","user_id":"0197a3c2-5d1e-7b7a-9c1d-3f2e4a5b6c7d","auth_time":1750000000,"amr":["pwd"],"idp":null,"organization":"contoso","created_at":1750000000,"expires_at":1750086400,"user_agent":"Mozilla/5.0 (X11; Linux x86_64)","ip":"192.0.2.1"}"#;
    const LOGIN_TX: &str = r#"{"id":"dHgtaGFuZGxlLTAwMDE","client_id":"helpdesk","redirect_uri":"https://helpdesk.example.com/callback","scope":["openid","email"],"state":"af0ifjsldkj","nonce":"n-0S6_WzA2Mj","code_challenge":"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM","response_mode":null,"max_age":3600,"login_hint":"alice@contoso.com","browser":"YnJvd3Nlci1kaWdlc3Q","csrf":"Y3NyZi10b2tlbg","stage":"upstream","identifier":"alice@contoso.com","upstream":{"upstream":"entra","organization":"contoso","nonce":"dXBzdHJlYW0tbm9uY2U","pkce_verifier":"dXBzdHJlYW0tcGtjZS12ZXJpZmllcg","login_hint":"alice@contoso.com"},"device":null,"created_at":1750000000,"expires_at":1750000600}"#;
    const DEVICE: &str = r#"{"client_id":"cli","scope":["openid","offline_access"],"user_code":"BCDFGHJK","status":{"state":"approved","user_id":"0197a3c2-5d1e-7b7a-9c1d-3f2e4a5b6c7d","auth_time":1750000000,"amr":["fed"],"idp":"entra","organization":"contoso"},"interval":5,"last_poll":1750000040,"created_at":1750000000,"expires_at":1750000600}"#;

    /// Decodes `stored`, checks that encoding it again gives the same JSON value (the same
    /// keys and values: what any reader, old or new, sees), and returns the record.
    fn round_trip<T: DeserializeOwned + Serialize>(stored: &str) -> T {
        let record: T = serde_json::from_str(stored).unwrap();
        let written: Value = serde_json::to_value(&record).unwrap();
        let expected: Value = serde_json::from_str(stored).unwrap();
        assert_eq!(written, expected);
        record
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    fn sso_at(auth_time: UnixTime) -> Authentication {
        Authentication {
            auth_time,
            amr: strings(&["fed"]),
            idp: Some("entra".into()),
            organization: Some("contoso".into()),
            acr: None,
        }
    }

    #[test]
    fn code_record_keeps_its_format() {
        let code: CodeRecord = round_trip(CODE);
        assert_eq!(
            code.request,
            AuthRequest {
                client_id: "helpdesk".into(),
                redirect_uri: "https://helpdesk.example.com/callback".into(),
                scope: strings(&["openid", "email", "offline_access"]),
                nonce: Some("n-0S6_WzA2Mj".into()),
                code_challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into()),
                resource: None,
                acr_values: Vec::new(),
            }
        );
        assert_eq!(code.session_id, "0197a3c2-6e2f-7c8b-8d2e-4a3f5b6c7d8e");
        assert_eq!(code.auth, sso_at(1_750_000_000));
        assert_eq!(code.expires_at, 1_750_000_090);
        assert_eq!(
            code.redeemed.map(|r| r.access_jti),
            Some("6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f".into())
        );
    }

    /// A code of a request that asked for `acr_values` keeps them and the class it was
    /// issued with (both absent from older records, which read as none).
    #[test]
    fn code_record_keeps_its_acr() {
        let stored = CODE.replace(
            r#""code_challenge":"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM","#,
            r#""code_challenge":"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM","acr_values":["urn:idbroker:acr:sso"],"acr":"urn:idbroker:acr:sso","#,
        );
        let code: CodeRecord = round_trip(&stored);
        assert_eq!(code.request.acr_values, strings(&["urn:idbroker:acr:sso"]));
        assert_eq!(code.auth.acr.as_deref(), Some("urn:idbroker:acr:sso"));
    }

    #[test]
    fn refresh_family_keeps_its_format() {
        let family: RefreshFamily = round_trip(FAMILY);
        assert_eq!(family.client_id, "helpdesk");
        assert_eq!(
            family.session_id.as_deref(),
            Some("0197a3c2-6e2f-7c8b-8d2e-4a3f5b6c7d8e")
        );
        assert_eq!(
            family.scope,
            strings(&["openid", "email", "offline_access"])
        );
        assert_eq!(family.auth, sso_at(1_750_000_000));
        assert_eq!(family.generation, 2);
        assert_eq!(family.spent.len(), 2);
        assert_eq!(family.access.len(), 1);
        // Same bytes, not only the same value: the embedded fields keep their place.
        assert_eq!(serde_json::to_string(&family).unwrap(), FAMILY);

        // A family written before `spent` and `access` existed still reads, without them.
        let mut old: Value = serde_json::from_str(FAMILY).unwrap();
        if let Value::Object(map) = &mut old {
            map.remove("spent");
            map.remove("access");
        }
        let old: RefreshFamily = serde_json::from_value(old).unwrap();
        assert!(old.spent.is_empty() && old.access.is_empty());
        assert_eq!(old.auth, family.auth);
    }

    /// The API a grant is for (RFC 8707): absent from records written before APIs existed
    /// (they read as "for the client itself", and write back without the key), kept by
    /// records written now.
    #[test]
    fn grants_keep_their_resource_and_old_ones_read_without() {
        let old: CodeRecord = round_trip(CODE);
        assert_eq!(old.request.resource, None);
        let old: RefreshFamily = round_trip(FAMILY);
        assert_eq!(old.resource, None);
        let old: LoginTx = round_trip(LOGIN_TX);
        assert_eq!(old.request.resource, None);

        let with = |stored: &str| {
            stored.replacen(
                r#""scope":["#,
                r#""resource":"https://orders.example.com","scope":["#,
                1,
            )
        };
        let code: CodeRecord = round_trip(&with(CODE));
        assert_eq!(
            code.request.resource.as_deref(),
            Some("https://orders.example.com")
        );
        let family: RefreshFamily = round_trip(&with(FAMILY));
        assert_eq!(
            family.resource.as_deref(),
            Some("https://orders.example.com")
        );
        let tx: LoginTx = round_trip(&with(LOGIN_TX));
        assert_eq!(
            tx.request.resource.as_deref(),
            Some("https://orders.example.com")
        );
    }

    #[test]
    fn session_keeps_its_format() {
        let session: Session = round_trip(SESSION);
        assert_eq!(
            session.auth,
            Authentication {
                auth_time: 1_750_000_000,
                amr: strings(&["pwd"]),
                idp: None,
                organization: Some("contoso".into()),
                acr: None,
            }
        );
        assert_eq!(session.ip.as_deref(), Some("192.0.2.1"));
        assert_eq!(serde_json::to_string(&session).unwrap(), SESSION);
    }

    #[test]
    fn login_tx_keeps_its_format() {
        let tx: LoginTx = round_trip(LOGIN_TX);
        assert_eq!(
            tx.request,
            AuthRequest {
                client_id: "helpdesk".into(),
                redirect_uri: "https://helpdesk.example.com/callback".into(),
                scope: strings(&["openid", "email"]),
                nonce: Some("n-0S6_WzA2Mj".into()),
                code_challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into()),
                resource: None,
                acr_values: Vec::new(),
            }
        );
        assert_eq!(tx.state.as_deref(), Some("af0ifjsldkj"));
        assert_eq!(tx.max_age, Some(3600));
        assert_eq!(tx.stage, LoginStage::Upstream);
        assert_eq!(tx.upstream.map(|leg| leg.upstream), Some("entra".into()));
    }

    #[test]
    fn device_grant_keeps_its_format() {
        let device: DeviceAuthorization = round_trip(DEVICE);
        assert_eq!(
            device.status,
            DeviceStatus::Approved(DeviceGrant {
                user_id: "0197a3c2-5d1e-7b7a-9c1d-3f2e4a5b6c7d".into(),
                auth: sso_at(1_750_000_000),
            })
        );
        assert_eq!(serde_json::to_string(&device).unwrap(), DEVICE);
    }
}

/// A user's passkeys, `v1/passkeys/{user_id}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UserPasskeys {
    /// The WebAuthn user handle (`user.id` of the creation options, a UUID): random, made
    /// at the first registration, never the broker's user id (WebAuthn L2 §14.6.1).
    #[serde(default)]
    pub handle: String,
    #[serde(default)]
    pub keys: Vec<StoredPasskey>,
}

/// One registered passkey.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredPasskey {
    /// The credential id, base64url without padding.
    pub id: String,
    /// The user's name for it ("Passkey 2026-12-05" unless they chose one).
    pub name: String,
    pub created_at: UnixTime,
    #[serde(default)]
    pub last_used_at: Option<UnixTime>,
    /// The verifier's credential (public key, counter, flags), as `webauthn-rs` serialises
    /// its `Passkey`; the store does not read it.
    pub credential: serde_json::Value,
}
