//! A fake of Microsoft Entra ID (v2.0 endpoints) and Microsoft Graph (`/v1.0/users`), plus a
//! generic OpenID Provider at `{authority}/oidc`, for the broker's integration tests.
//!
//! ```ignore
//! let fake = FakeEntra::start().await;
//! let tid = fake.add_tenant("contoso.com");
//! let alice = fake.tenant(&tid).add_user(NewUser::new("alice@contoso.com", "Alice"));
//! fake.register_app(CLIENT_ID, &["http://127.0.0.1:8080/callback"]);
//! fake.add_app_secret(CLIENT_ID, "s3cret");
//! fake.next_id_token(Misbehave::WrongAudience);
//! // broker config: authority = fake.authority(), graph = fake.graph()
//! ```
//!
//! Two listeners on 127.0.0.1: the login authority (Entra + generic OIDC) and Graph, each with
//! its own [`Outage`] switch. All state and knobs live behind one mutex shared by the handlers
//! and this handle; the servers stop when the handle is dropped.
//!
//! Entra behaviours reproduced because they trip real relying parties: the `{tenantid}` issuer
//! template in `common`/`organizations` metadata; no `code_challenge_methods_supported` in the
//! metadata; `oid`, `name` and `preferred_username` only with the `profile` scope and `email`
//! only with the `email` scope; a pairwise `sub` that differs from `oid`; Graph's default
//! `/users` properties leave out `accountEnabled`; Graph's `$top` is capped at 999 and `$skip`
//! is refused; app-only tokens lose their `roles` once admin consent is revoked.

// A toolkit for the other test modules: not every helper is used by the self-tests.
#![allow(dead_code)]

mod authorize;
mod claims;
mod client_auth;
mod consent;
mod crypto;
mod discovery;
mod graph;
mod model;
mod selftest;
mod server;
mod token;
mod wire;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};
use tokio_util::sync::CancellationToken;

pub use claims::pairwise_sub;
pub use client_auth::JWT_BEARER;
pub use crypto::{AppCertificate, ClientAssertion, RsaAlg, Thumbprint};
pub use model::{
    AuthorizeRecord, EntraUser, Misbehave, NewUser, OidcUser, RecordedRequest, Surface,
};
pub use server::Outage;

use model::{AppRegistration, DirEntry, ForcedError, GraphFailure, KeySet, State, Tenant};
use server::Switch;

/// What the handlers share with the test's handle.
pub(crate) struct Shared {
    authority: String,
    graph: String,
    state: Mutex<State>,
    login_switch: Switch,
    graph_switch: Switch,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn switch(&self, surface: Surface) -> &Switch {
        match surface {
            Surface::Login => &self.login_switch,
            Surface::Graph => &self.graph_switch,
        }
    }

    fn oidc_issuer(&self) -> String {
        format!("{}/oidc", self.authority)
    }
}

/// The running fake. Dropping it stops both listeners.
pub struct FakeEntra {
    shared: Arc<Shared>,
    cancel: CancellationToken,
}

impl Drop for FakeEntra {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

fn login_router(shared: &Arc<Shared>) -> Router {
    Router::new()
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(discovery::entra_metadata),
        )
        .route("/{tenant}/discovery/v2.0/keys", get(discovery::entra_keys))
        .route("/{tenant}/oauth2/v2.0/authorize", get(authorize::entra))
        .route(
            "/{tenant}/oauth2/v2.0/token",
            post(token::entra).get(token::wrong_method),
        )
        .route("/{tenant}/adminconsent", get(consent::v1))
        .route("/{tenant}/v2.0/adminconsent", get(consent::v2))
        .route(
            "/oidc/.well-known/openid-configuration",
            get(discovery::oidc_metadata),
        )
        .route("/oidc/authorize", get(authorize::oidc))
        .route("/oidc/token", post(token::oidc))
        .route("/oidc/jwks", get(discovery::oidc_keys))
        .with_state(shared.clone())
        .layer(from_fn_with_state(
            (shared.clone(), Surface::Login),
            server::front,
        ))
}

fn graph_router(shared: &Arc<Shared>) -> Router {
    Router::new()
        .route("/v1.0/users", get(graph::list_users))
        .route("/v1.0/users/{id}", get(graph::get_user))
        .route(
            "/v1.0/users/{id}/transitiveMemberOf/microsoft.graph.group",
            get(graph::member_of),
        )
        .with_state(shared.clone())
        .layer(from_fn_with_state(
            (shared.clone(), Surface::Graph),
            server::front,
        ))
}

// Test infrastructure: a failure to start is a broken environment, reported by panicking.
#[allow(clippy::expect_used, clippy::panic)]
impl FakeEntra {
    /// Binds two free ports on 127.0.0.1, makes a signing key and starts serving.
    pub async fn start() -> FakeEntra {
        let (login_listener, login_addr) = server::bind_local()
            .await
            .expect("fake Entra: bind the login port");
        let (graph_listener, graph_addr) = server::bind_local()
            .await
            .expect("fake Entra: bind the Graph port");
        let key = crypto::SigningKey::generate("login.microsoftonline.com")
            .expect("fake Entra: generate a signing key");
        let keys = KeySet {
            active_kid: key.kid.clone(),
            published: vec![key],
            rogue: None,
        };
        let shared = Arc::new(Shared {
            authority: format!("http://{login_addr}"),
            graph: format!("http://{graph_addr}"),
            state: Mutex::new(State::new(keys)),
            login_switch: Switch::new(),
            graph_switch: Switch::new(),
        });
        let cancel = CancellationToken::new();
        server::spawn(
            login_listener,
            login_router(&shared),
            shared.clone(),
            Surface::Login,
            cancel.clone(),
        );
        server::spawn(
            graph_listener,
            graph_router(&shared),
            shared.clone(),
            Surface::Graph,
            cancel.clone(),
        );
        FakeEntra { shared, cancel }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.shared.lock()
    }

    // ----- addresses -----

    /// The login authority, e.g. `http://127.0.0.1:PORT` (the broker's `authority`).
    pub fn authority(&self) -> String {
        self.shared.authority.clone()
    }

    /// The Graph base URL, e.g. `http://127.0.0.1:PORT` (the broker's `graph`).
    pub fn graph(&self) -> String {
        self.shared.graph.clone()
    }

    /// The generic OIDC provider's issuer, `{authority}/oidc`.
    pub fn oidc_issuer(&self) -> String {
        self.shared.oidc_issuer()
    }

    /// `{authority}/{tid}/v2.0`: the `iss` of the tenant's ID tokens.
    pub fn issuer(&self, tid: &str) -> String {
        format!("{}/{tid}/v2.0", self.shared.authority)
    }

    /// `{authority}/{tenant}/oauth2/v2.0/token` (also the `aud` of client assertions).
    pub fn token_endpoint(&self, tenant: &str) -> String {
        format!("{}/{tenant}/oauth2/v2.0/token", self.shared.authority)
    }

    pub fn authorize_endpoint(&self, tenant: &str) -> String {
        format!("{}/{tenant}/oauth2/v2.0/authorize", self.shared.authority)
    }

    // ----- tenants and directories -----

    /// Creates a tenant with a random id and the given verified domain; returns the id.
    pub fn add_tenant(&self, domain: &str) -> String {
        let tid = crypto::guid();
        self.add_tenant_with_id(&tid, domain);
        tid
    }

    pub fn add_tenant_with_id(&self, tid: &str, domain: &str) {
        let mut state = self.lock();
        assert!(state.tenant(tid).is_none(), "tenant {tid} exists already");
        state.tenants.push(Tenant {
            id: tid.to_owned(),
            domain: domain.to_owned(),
            users: Vec::new(),
            service_principals: Default::default(),
            consented: Default::default(),
            groups: Vec::new(),
            members: Default::default(),
        });
    }

    /// A handle on one tenant's directory and consent. Panics later if the tenant is unknown.
    pub fn tenant(&self, tid: &str) -> TenantRef<'_> {
        TenantRef {
            fake: self,
            tid: tid.to_owned(),
        }
    }

    // ----- app registrations -----

    /// Registers an app (or adds redirect URIs to an existing one). Without a secret or a
    /// certificate it is a public client.
    pub fn register_app(&self, client_id: &str, redirect_uris: &[&str]) {
        let mut state = self.lock();
        if state.app(client_id).is_none() {
            state.apps.push(AppRegistration {
                client_id: client_id.to_owned(),
                display_name: format!("app {client_id}"),
                ..AppRegistration::default()
            });
        }
        let app = state.app_mut(client_id).expect("registered just now");
        for uri in redirect_uris {
            if !app.redirect_uris.iter().any(|r| r == uri) {
                app.redirect_uris.push((*uri).to_owned());
            }
        }
    }

    /// The app's `groupMembershipClaims`: its ID tokens list the user's groups.
    pub fn emit_group_claims(&self, client_id: &str, on: bool) {
        let mut state = self.lock();
        let app = state
            .app_mut(client_id)
            .unwrap_or_else(|| panic!("app {client_id} is not registered"));
        app.group_claims = on;
    }

    pub fn add_app_secret(&self, client_id: &str, secret: &str) {
        let mut state = self.lock();
        let app = state
            .app_mut(client_id)
            .unwrap_or_else(|| panic!("app {client_id} is not registered"));
        app.secrets.push(secret.to_owned());
    }

    /// Uploads a certificate (DER) as a credential of the app (for `private_key_jwt`).
    pub fn register_app_certificate(&self, client_id: &str, cert_der: &[u8]) {
        let mut state = self.lock();
        let app = state
            .app_mut(client_id)
            .unwrap_or_else(|| panic!("app {client_id} is not registered"));
        app.certificates.push(cert_der.to_vec());
    }

    /// A fresh RSA certificate + PKCS#8 key pair for an app credential / broker config.
    pub fn new_app_certificate(common_name: &str) -> AppCertificate {
        AppCertificate::generate(common_name).expect("fake Entra: generate an app certificate")
    }

    // ----- the generic OIDC provider -----

    pub fn add_oidc_user(&self, user: OidcUser) {
        let mut state = self.lock();
        state.oidc_users.retain(|u| u.sub != user.sub);
        state.oidc_users.push(user);
    }

    pub fn set_oidc_user_email(&self, sub: &str, email: Option<&str>) {
        let mut state = self.lock();
        let user = state
            .oidc_users
            .iter_mut()
            .find(|u| u.sub == sub)
            .unwrap_or_else(|| panic!("no OIDC user {sub}"));
        user.email = email.map(str::to_owned);
    }

    // ----- tokens without a browser -----

    /// The Entra v2.0 ID token the platform's sign-in broker (WAM on Windows) would give an
    /// app silently for user `oid` of tenant `tid`, with audience `aud`: signed by the
    /// tenant's active key, `profile` and `email` claims, no nonce. The next queued
    /// [`Misbehave`] applies, as for the interactive flow.
    pub fn silent_id_token(&self, tid: &str, oid: &str, aud: &str) -> String {
        let authority = self.shared.authority.clone();
        let mut state = self.lock();
        let user = state
            .tenant(tid)
            .and_then(|t| t.user(oid))
            .cloned()
            .unwrap_or_else(|| panic!("fake Entra: no user {oid} in tenant {tid}"));
        let scopes = [
            "openid".to_owned(),
            "profile".to_owned(),
            "email".to_owned(),
        ];
        let request = claims::IdTokenRequest {
            client_id: aud,
            scopes: &scopes,
            nonce: None,
            client_secret: None,
            now: idbroker::clock::system_now(),
        };
        claims::entra_id_token(&mut state, &authority, tid, &user, &request)
            .unwrap_or_else(|e| panic!("fake Entra: minting an ID token failed: {e}"))
    }

    /// A v2.0 access token for the web API `aud`, requested by the client app `azp`.
    pub fn silent_access_token(&self, tid: &str, oid: &str, aud: &str, azp: &str) -> String {
        let authority = self.shared.authority.clone();
        let mut state = self.lock();
        let user = state
            .tenant(tid)
            .and_then(|t| t.user(oid))
            .cloned()
            .unwrap_or_else(|| panic!("fake Entra: no user {oid} in tenant {tid}"));
        claims::entra_access_token(
            &mut state,
            &authority,
            tid,
            &user,
            aud,
            azp,
            idbroker::clock::system_now(),
        )
        .unwrap_or_else(|e| panic!("fake Entra: minting an access token failed: {e}"))
    }

    // ----- knobs -----

    /// Puts a defect into the next ID token issued (queued: one per token).
    pub fn next_id_token(&self, misbehave: Misbehave) {
        self.lock().knobs.misbehave.push_back(misbehave);
    }

    /// The next `/authorize` answers with this error redirect instead of signing in, e.g.
    /// `("access_denied", "AADSTS50105: The signed in user is not assigned to a role ...")`.
    pub fn next_authorize_error(&self, error: &str, description: &str) {
        self.lock().knobs.authorize_errors.push_back(ForcedError {
            status: 302,
            error: error.to_owned(),
            description: description.to_owned(),
        });
    }

    /// The next admin consent is declined (`error=access_denied`, AADSTS65004).
    pub fn next_admin_consent_declined(&self) {
        self.next_admin_consent_error(
            "access_denied",
            "AADSTS65004: User declined to consent to access the app.",
        );
    }

    pub fn next_admin_consent_error(&self, error: &str, description: &str) {
        self.lock().knobs.consent_errors.push_back(ForcedError {
            status: 302,
            error: error.to_owned(),
            description: description.to_owned(),
        });
    }

    /// The next token request fails with this status and Entra error JSON; `description`
    /// should start with an `AADSTS<code>: ` prefix.
    pub fn next_token_error(&self, status: u16, error: &str, description: &str) {
        self.lock().knobs.token_errors.push_back(ForcedError {
            status,
            error: error.to_owned(),
            description: description.to_owned(),
        });
    }

    /// The next `count` Graph requests answer `status` (429 or 503) with `Retry-After: 1`.
    pub fn graph_throttle(&self, count: u32, status: u16) {
        self.graph_throttle_with_retry_after(count, status, 1);
    }

    pub fn graph_throttle_with_retry_after(&self, count: u32, status: u16, retry_after_secs: u64) {
        self.lock().knobs.graph_failure = Some(GraphFailure {
            remaining: count,
            status,
            retry_after_secs,
        });
    }

    /// Lifetime of the app-only Graph tokens issued from now on (0: already expired).
    pub fn set_app_token_lifetime(&self, secs: u64) {
        self.lock().knobs.app_token_lifetime = secs;
    }

    /// ID tokens with `email` carry `xms_edov: edov` from now on (`None`: no such claim, as
    /// when the app registration does not ask for the optional claim).
    pub fn set_xms_edov(&self, edov: Option<bool>) {
        self.lock().knobs.xms_edov = edov;
    }

    pub fn set_id_token_lifetime(&self, secs: u64) {
        self.lock().knobs.id_token_lifetime = secs;
    }

    /// Lifetime of authorization codes issued from now on (0: expired at once).
    pub fn set_code_lifetime(&self, secs: u64) {
        self.lock().knobs.code_lifetime = secs;
    }

    /// Both surfaces refuse connections (`true`) or serve again (`false`).
    pub async fn set_down(&self, down: bool) {
        let outage = if down { Outage::Refuse } else { Outage::Up };
        self.set_outage(Surface::Login, outage).await;
        self.set_outage(Surface::Graph, outage).await;
    }

    /// Returns once the listener has applied the change.
    pub async fn set_outage(&self, surface: Surface, outage: Outage) {
        let applied = self.shared.switch(surface).set(outage).await;
        assert!(
            applied,
            "fake Entra: the {surface:?} listener did not apply {outage:?}"
        );
    }

    pub fn outage(&self, surface: Surface) -> Outage {
        self.shared.switch(surface).current()
    }

    // ----- signing keys -----

    /// Publishes a new signing key and signs with it from now on; the old keys stay
    /// published. Returns the new `kid`.
    pub fn rotate_signing_key(&self) -> String {
        let key = crypto::SigningKey::generate("login.microsoftonline.com")
            .expect("fake Entra: generate a signing key");
        let kid = key.kid.clone();
        let mut state = self.lock();
        state.keys.published.push(key);
        state.keys.active_kid = kid.clone();
        kid
    }

    /// Stops publishing a key (tokens it signed no longer verify).
    pub fn retire_signing_key(&self, kid: &str) {
        self.lock().keys.published.retain(|k| k.kid != kid);
    }

    pub fn active_kid(&self) -> String {
        self.lock().keys.active_kid.clone()
    }

    pub fn published_kids(&self) -> Vec<String> {
        self.lock()
            .keys
            .published
            .iter()
            .map(|k| k.kid.clone())
            .collect()
    }

    // ----- what the fake saw -----

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().requests.clone()
    }

    /// Requests whose path ends with `suffix` (e.g. `/oauth2/v2.0/token`, `/v1.0/users`).
    pub fn requests_to(&self, suffix: &str) -> Vec<RecordedRequest> {
        self.lock()
            .requests
            .iter()
            .filter(|r| r.path.ends_with(suffix))
            .cloned()
            .collect()
    }

    pub fn authorizations(&self) -> Vec<AuthorizeRecord> {
        self.lock().authorizations.clone()
    }

    pub fn last_authorization(&self) -> Option<AuthorizeRecord> {
        self.lock().authorizations.last().cloned()
    }

    pub fn clear_requests(&self) {
        let mut state = self.lock();
        state.requests.clear();
        state.authorizations.clear();
    }
}

/// One tenant of the fake (see [`FakeEntra::tenant`]).
pub struct TenantRef<'a> {
    fake: &'a FakeEntra,
    tid: String,
}

#[allow(clippy::panic)]
impl TenantRef<'_> {
    pub fn id(&self) -> &str {
        &self.tid
    }

    fn with<R>(&self, f: impl FnOnce(&mut State, &str) -> R) -> R {
        let mut state = self.fake.lock();
        if state.tenant(&self.tid).is_none() {
            panic!("fake Entra: no tenant {}", self.tid);
        }
        f(&mut state, &self.tid)
    }

    fn with_user<R>(&self, oid: &str, f: impl FnOnce(&mut EntraUser) -> R) -> R {
        self.with(|state, tid| {
            let user = state
                .tenant_mut(tid)
                .and_then(|t| t.user_mut(oid))
                .unwrap_or_else(|| panic!("fake Entra: no user {oid} in tenant {tid}"));
            f(user)
        })
    }

    pub fn domain(&self) -> String {
        self.with(|state, tid| {
            state
                .tenant(tid)
                .map(|t| t.domain.clone())
                .unwrap_or_default()
        })
    }

    pub fn add_user(&self, new: NewUser) -> EntraUser {
        self.with(|state, tid| {
            let seq = state.next_seq();
            let user = EntraUser {
                id: new.id.unwrap_or_else(crypto::guid),
                display_name: new.display_name,
                mail: new.mail,
                user_principal_name: new.user_principal_name,
                account_enabled: new.account_enabled,
            };
            if let Some(tenant) = state.tenant_mut(tid) {
                tenant.users.push(DirEntry {
                    seq,
                    user: user.clone(),
                });
            }
            user
        })
    }

    /// Adds `count` users `user001@{domain}`… ("User 001"…), each with mail = UPN.
    pub fn add_users(&self, count: usize) -> Vec<EntraUser> {
        let domain = self.domain();
        let start = self.users().len();
        (start + 1..=start + count)
            .map(|i| {
                self.add_user(NewUser::new(
                    &format!("user{i:03}@{domain}"),
                    &format!("User {i:03}"),
                ))
            })
            .collect()
    }

    pub fn users(&self) -> Vec<EntraUser> {
        self.with(|state, tid| {
            state
                .tenant(tid)
                .map(|t| t.users.iter().map(|e| e.user.clone()).collect())
                .unwrap_or_default()
        })
    }

    pub fn user(&self, oid: &str) -> Option<EntraUser> {
        self.with(|state, tid| state.tenant(tid).and_then(|t| t.user(oid)).cloned())
    }

    pub fn rename(&self, oid: &str, display_name: &str) {
        self.with_user(oid, |u| u.display_name = display_name.to_owned());
    }

    pub fn set_mail(&self, oid: &str, mail: Option<&str>) {
        self.with_user(oid, |u| u.mail = mail.map(str::to_owned));
    }

    pub fn set_upn(&self, oid: &str, upn: &str) {
        self.with_user(oid, |u| u.user_principal_name = upn.to_owned());
    }

    pub fn disable(&self, oid: &str) {
        self.with_user(oid, |u| u.account_enabled = false);
    }

    pub fn enable(&self, oid: &str) {
        self.with_user(oid, |u| u.account_enabled = true);
    }

    pub fn delete(&self, oid: &str) {
        self.with(|state, tid| {
            if let Some(tenant) = state.tenant_mut(tid) {
                let before = tenant.users.len();
                tenant.users.retain(|e| e.user.id != oid);
                if tenant.users.len() == before {
                    panic!("fake Entra: no user {oid} in tenant {tid}");
                }
            }
        });
    }

    /// A new group; returns its object id.
    pub fn add_group(&self, display_name: &str) -> String {
        let id = crypto::guid();
        self.with(|state, tid| {
            if let Some(tenant) = state.tenant_mut(tid) {
                tenant.groups.push((id.clone(), display_name.to_owned()));
            }
        });
        id
    }

    /// Makes `oid` a member of `group` (directly or through nesting: the fake keeps the
    /// flattened membership).
    pub fn add_to_group(&self, oid: &str, group: &str) {
        self.with(|state, tid| {
            if let Some(tenant) = state.tenant_mut(tid) {
                let list = tenant.members.entry(oid.to_owned()).or_default();
                if !list.iter().any(|g| g == group) {
                    list.push(group.to_owned());
                }
            }
        });
    }

    /// As if an admin had consented (service principal created, permissions granted).
    pub fn grant_consent(&self, client_id: &str) {
        self.with(|state, tid| {
            if let Some(tenant) = state.tenant_mut(tid) {
                tenant
                    .service_principals
                    .entry(client_id.to_owned())
                    .or_insert_with(crypto::guid);
                tenant.consented.insert(client_id.to_owned());
            }
        });
    }

    /// Revokes the app's permissions; its service principal stays (as in Entra), so client
    /// credentials still yield a token, but without `roles`, and Graph answers 403.
    pub fn revoke_consent(&self, client_id: &str) {
        self.with(|state, tid| {
            if let Some(tenant) = state.tenant_mut(tid) {
                tenant.consented.remove(client_id);
            }
        });
    }

    pub fn has_consent(&self, client_id: &str) -> bool {
        self.with(|state, tid| {
            state
                .tenant(tid)
                .is_some_and(|t| t.consented.contains(client_id))
        })
    }
}
