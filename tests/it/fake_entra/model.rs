//! The fake's state: tenants and their directories, app registrations, pending authorization
//! codes, signing keys, the misbehaviour knobs and what was received. One `State` sits behind a
//! mutex shared by the HTTP handlers and the test's `FakeEntra` handle.

use std::collections::{HashMap, HashSet, VecDeque};

use super::crypto::SigningKey;

/// A user of a tenant's directory, as Microsoft Graph shows it (`id` is the `oid`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntraUser {
    pub id: String,
    pub display_name: String,
    /// `mail` may be null in Graph (no mailbox).
    pub mail: Option<String>,
    pub user_principal_name: String,
    pub account_enabled: bool,
}

/// What a test supplies to create a user; see [`NewUser::new`].
#[derive(Debug, Clone)]
pub struct NewUser {
    pub user_principal_name: String,
    pub display_name: String,
    pub mail: Option<String>,
    /// The object id; a random GUID when `None`.
    pub id: Option<String>,
    pub account_enabled: bool,
}

impl NewUser {
    /// An enabled user whose `mail` equals the UPN.
    pub fn new(upn: &str, display_name: &str) -> NewUser {
        NewUser {
            user_principal_name: upn.to_owned(),
            display_name: display_name.to_owned(),
            mail: Some(upn.to_owned()),
            id: None,
            account_enabled: true,
        }
    }

    pub fn mail(mut self, mail: Option<&str>) -> NewUser {
        self.mail = mail.map(str::to_owned);
        self
    }

    pub fn id(mut self, oid: &str) -> NewUser {
        self.id = Some(oid.to_owned());
        self
    }

    pub fn disabled(mut self) -> NewUser {
        self.account_enabled = false;
        self
    }
}

/// A directory entry: the user plus its position in Graph's listing order (never reused, so
/// paging survives deletions).
#[derive(Debug, Clone)]
pub struct DirEntry {
    pub seq: u64,
    pub user: EntraUser,
}

#[derive(Debug)]
pub struct Tenant {
    pub id: String,
    pub domain: String,
    pub users: Vec<DirEntry>,
    /// Apps with a service principal here (created by admin consent), client id → SP object id.
    pub service_principals: HashMap<String, String>,
    /// Apps whose application permissions (User.Read.All, GroupMember.Read.All) are
    /// currently granted here.
    pub consented: HashSet<String>,
    /// The tenant's groups, in creation order: (object id, display name).
    pub groups: Vec<(String, String)>,
    /// Each user's groups (object ids), nested memberships already flattened: what
    /// `transitiveMemberOf` answers and the `groups` claim lists.
    pub members: HashMap<String, Vec<String>>,
}

impl Tenant {
    pub fn user(&self, oid: &str) -> Option<&EntraUser> {
        self.users.iter().map(|e| &e.user).find(|u| u.id == oid)
    }

    pub fn user_mut(&mut self, oid: &str) -> Option<&mut EntraUser> {
        self.users
            .iter_mut()
            .map(|e| &mut e.user)
            .find(|u| u.id == oid)
    }

    /// Sign-in name lookup: the UPN, or the mail address (Entra's "email as alternate login
    /// ID"), case-insensitive.
    pub fn find_by_sign_in_name(&self, name: &str) -> Option<&EntraUser> {
        let by_upn = self
            .users
            .iter()
            .map(|e| &e.user)
            .find(|u| u.user_principal_name.eq_ignore_ascii_case(name));
        by_upn.or_else(|| {
            self.users.iter().map(|e| &e.user).find(|u| {
                u.mail
                    .as_deref()
                    .is_some_and(|m| m.eq_ignore_ascii_case(name))
            })
        })
    }
}

/// An app registration (multi-tenant): where it may redirect and how it authenticates.
#[derive(Debug, Clone, Default)]
pub struct AppRegistration {
    pub client_id: String,
    pub display_name: String,
    pub redirect_uris: Vec<String>,
    pub secrets: Vec<String>,
    /// DER certificates uploaded as credentials.
    pub certificates: Vec<Vec<u8>>,
    /// `groupMembershipClaims`: ID tokens carry `groups` (object ids), or the overage
    /// markers past 200.
    pub group_claims: bool,
}

impl AppRegistration {
    pub fn is_confidential(&self) -> bool {
        !self.secrets.is_empty() || !self.certificates.is_empty()
    }
}

/// A user of the generic OIDC provider, identified by `sub`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcUser {
    pub sub: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: String,
    /// Sent as the claim `(claim name, values)` when set.
    pub groups: Option<(String, Vec<String>)>,
}

impl OidcUser {
    pub fn new(sub: &str, email: &str, name: &str) -> OidcUser {
        OidcUser {
            sub: sub.to_owned(),
            email: Some(email.to_owned()),
            email_verified: true,
            name: name.to_owned(),
            groups: None,
        }
    }

    /// The user's groups, in the claim `claim` of their ID tokens.
    pub fn with_groups(mut self, claim: &str, groups: &[&str]) -> OidcUser {
        self.groups = Some((
            claim.to_owned(),
            groups.iter().map(|g| (*g).to_owned()).collect(),
        ));
        self
    }
}

/// A defect to put into the next ID token the fake issues (Entra or generic OIDC), one per
/// token, in the order queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Misbehave {
    /// Signed with a key that is not in the JWKS (a `kid` nobody publishes).
    UnknownKey,
    /// `alg: none` and an empty signature.
    AlgNone,
    /// `alg: HS256`, MAC keyed with the app's client secret.
    Hs256ClientSecret,
    /// `iss` is Entra's v1 issuer `https://sts.windows.net/{tid}/` (OIDC mode: another URL).
    WrongIssuer,
    /// A correctly signed token of tenant `B` (its `tid`, `iss`, `oid`) for the user of B whose
    /// mail equals the signed-in user's (made up if B has none). OIDC mode: another issuer.
    OtherTenant(String),
    /// `aud` is some other application's id.
    WrongAudience,
    /// `exp` an hour in the past.
    Expired,
    /// `nbf` and `iat` an hour in the future.
    NotYetValid,
    /// A `nonce` other than the one sent to `/authorize`.
    WrongNonce,
    /// No `nonce` claim although one was sent.
    MissingNonce,
    /// A valid token whose signature bytes were then altered.
    TamperedSignature,
}

/// Which protocol flavour a code belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    Entra { tid: String, oid: String },
    Oidc { sub: String },
}

/// An authorization code waiting to be redeemed (RFC 6749 §4.1.2, RFC 7636 §4.4).
#[derive(Debug, Clone)]
pub struct PendingCode {
    pub client_id: String,
    pub redirect_uri: String,
    /// The `{t}` path segment it was issued under (a tenant GUID, `common`, `organizations`).
    pub tenant_segment: String,
    pub subject: Subject,
    pub scopes: Vec<String>,
    pub nonce: Option<String>,
    pub code_challenge: String,
    pub issued_at: u64,
    pub redeemed: bool,
}

/// The token signing keys: all published ones (JWKS) and the one that signs now.
pub struct KeySet {
    pub published: Vec<SigningKey>,
    pub active_kid: String,
    /// Signs the `UnknownKey` misbehaviour; never published. Made on first use.
    pub rogue: Option<SigningKey>,
}

impl KeySet {
    pub fn active(&self) -> Option<&SigningKey> {
        self.published.iter().find(|k| k.kid == self.active_kid)
    }

    pub fn find(&self, kid: &str) -> Option<&SigningKey> {
        self.published.iter().find(|k| k.kid == kid)
    }
}

/// An error the test wants the next answer of some endpoint to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForcedError {
    pub status: u16,
    pub error: String,
    pub description: String,
}

/// Graph answers the next `remaining` requests with `status` and `Retry-After`.
#[derive(Debug, Clone, Copy)]
pub struct GraphFailure {
    pub remaining: u32,
    pub status: u16,
    pub retry_after_secs: u64,
}

pub struct Knobs {
    pub misbehave: VecDeque<Misbehave>,
    pub authorize_errors: VecDeque<ForcedError>,
    pub consent_errors: VecDeque<ForcedError>,
    pub token_errors: VecDeque<ForcedError>,
    pub graph_failure: Option<GraphFailure>,
    /// Lifetime of app-only (client credentials) access tokens; Entra's default is ~1 hour.
    pub app_token_lifetime: u64,
    pub id_token_lifetime: u64,
    /// Lifetime of authorization codes (Entra: about 10 minutes).
    pub code_lifetime: u64,
    /// The optional claim `xms_edov` ("email domain owner verified") on ID tokens that carry
    /// `email`: absent unless the app registration asks for it (`None`).
    pub xms_edov: Option<bool>,
}

impl Default for Knobs {
    fn default() -> Knobs {
        Knobs {
            misbehave: VecDeque::new(),
            authorize_errors: VecDeque::new(),
            consent_errors: VecDeque::new(),
            token_errors: VecDeque::new(),
            graph_failure: None,
            app_token_lifetime: 3599,
            id_token_lifetime: 3600,
            code_lifetime: 600,
            xms_edov: None,
        }
    }
}

/// Which listener a request arrived on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Surface {
    /// The login authority (`login.microsoftonline.com`) and the generic OIDC provider.
    Login,
    /// Microsoft Graph.
    Graph,
}

/// A request as the fake received it, for assertions on what the broker sent.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub surface: Surface,
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    /// Header names are lower-case.
    pub headers: Vec<(String, String)>,
    /// The decoded `application/x-www-form-urlencoded` body, if any.
    pub form: Vec<(String, String)>,
}

impl RecordedRequest {
    pub fn query_param(&self, name: &str) -> Option<&str> {
        find_pair(&self.query, name)
    }

    pub fn form_param(&self, name: &str) -> Option<&str> {
        find_pair(&self.form, name)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        find_pair(&self.headers, &name.to_ascii_lowercase())
    }
}

/// One call of `/authorize` (Entra or OIDC mode) with the parameters tests assert on.
#[derive(Debug, Clone, Default)]
pub struct AuthorizeRecord {
    /// The `{t}` segment (Entra) or `oidc`.
    pub tenant: String,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub login_hint: Option<String>,
    pub domain_hint: Option<String>,
    pub prompt: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
}

pub fn find_pair<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

pub struct State {
    pub tenants: Vec<Tenant>,
    pub apps: Vec<AppRegistration>,
    pub oidc_users: Vec<OidcUser>,
    pub keys: KeySet,
    pub codes: HashMap<String, PendingCode>,
    pub knobs: Knobs,
    pub requests: Vec<RecordedRequest>,
    pub authorizations: Vec<AuthorizeRecord>,
    next_seq: u64,
}

impl State {
    pub fn new(keys: KeySet) -> State {
        State {
            tenants: Vec::new(),
            apps: Vec::new(),
            oidc_users: Vec::new(),
            keys,
            codes: HashMap::new(),
            knobs: Knobs::default(),
            requests: Vec::new(),
            authorizations: Vec::new(),
            next_seq: 0,
        }
    }

    pub fn next_seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    pub fn tenant(&self, tid: &str) -> Option<&Tenant> {
        self.tenants.iter().find(|t| t.id == tid)
    }

    pub fn tenant_mut(&mut self, tid: &str) -> Option<&mut Tenant> {
        self.tenants.iter_mut().find(|t| t.id == tid)
    }

    pub fn app(&self, client_id: &str) -> Option<&AppRegistration> {
        self.apps.iter().find(|a| a.client_id == client_id)
    }

    pub fn app_mut(&mut self, client_id: &str) -> Option<&mut AppRegistration> {
        self.apps.iter_mut().find(|a| a.client_id == client_id)
    }
}
