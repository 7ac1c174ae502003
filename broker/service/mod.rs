//! Use cases: each public function here is one thing a handler asks for ("validate this
//! authorization request", "check this password", "redeem this code"). They fetch records
//! from the store, apply the pure rules of [`crate::op`] and [`crate::hrd`], and store the
//! results. They know nothing of HTTP: handlers turn their results into responses.

pub mod account;
pub mod acr;
pub mod admin;
pub mod audit;
pub mod authorize;
pub mod client_auth;
pub mod device;
pub mod documents;
pub mod error;
pub mod exchange;
pub mod introspect;
pub mod issue;
pub mod login;
pub mod login_flow;
pub mod logout;
pub mod mfa;
pub mod mfa_enrol;
pub mod passkeys;
mod password_link;
pub mod rate;
pub mod reset;
pub mod runtime_orgs;
pub mod sso;
pub mod token;
mod upstream_groups;
pub mod userinfo;
pub mod verified;

use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;

pub use error::ServiceError;

use crate::clock::{Clock, UnixTime};
use crate::keys::KeyRing;
use crate::password::PasswordPool;
use crate::policy::Policy;
use crate::store::{Store, User, UserSource};

/// The running broker: policy, store, keys and workers, shared by every request.
///
/// Its parts are private to the use cases. A handler reaches them through one of the
/// handles below, each a group of use cases with one file per use case:
/// [`Broker::sign_in`] (the login page, upstream SSO, sessions, logout, the account page),
/// [`Broker::tokens`] (the token endpoint, introspection, revocation, userinfo, client
/// authentication), [`Broker::devices`] (RFC 8628) and [`Broker::admin`].
pub struct Broker {
    /// The policy in force: the file's, with the runtime organisations in force merged in.
    policy: ArcSwap<Policy>,
    /// The policy file's own, and what the runtime organisations are (see `runtime_orgs.rs`).
    sources: runtime_orgs::Sources,
    store: Arc<Store>,
    keys: Arc<KeyRing>,
    passwords: PasswordPool,
    clock: Clock,
    audit: audit::AuditLog,
    /// Upstream providers (discovery and keys cached per upstream and tenant).
    upstreams: crate::upstream::Upstreams,
    /// Microsoft Graph (app-only tokens cached per upstream and tenant).
    graph: crate::upstream::graph::GraphClient,
    /// Documents served as they are, rebuilt when the policy or the keys change.
    documents: documents::Documents,
    /// Access tokens whose signature was checked (see `verified.rs`).
    verified: verified::VerifiedTokens,
}

/// Why the broker could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Keys(#[from] crate::keys::KeyError),
    #[error(transparent)]
    Password(#[from] crate::password::PasswordError),
    #[error("cannot seed the policy's users: {0}")]
    Seed(String),
}

impl Broker {
    /// Assembles a broker from its parts and seeds the policy's users into the directory.
    pub async fn new(
        policy: Policy,
        store: Arc<Store>,
        keys: Arc<KeyRing>,
        clock: Clock,
    ) -> Result<Arc<Broker>, StartError> {
        let hashing = policy.password_hashing;
        let audit = audit::AuditLog::new(&policy.audit, store.clone());
        let runtime = store.runtime_organizations().await?;
        let policy = Arc::new(prepare(policy));
        let (merged, sources) = runtime_orgs::Sources::new(policy, runtime);
        let broker = Arc::new(Broker {
            policy: ArcSwap::from_pointee(merged),
            sources,
            store,
            keys,
            passwords: PasswordPool::new(hashing.threads, hashing.queue)?,
            clock,
            audit,
            upstreams: crate::upstream::Upstreams::new(),
            graph: crate::upstream::graph::GraphClient::new(),
            documents: documents::Documents::default(),
            verified: verified::VerifiedTokens::default(),
        });
        let policy = broker.policy();
        broker.seed_policy_users(&policy).await?;
        broker.spawn_runtime_org_watch();
        Ok(broker)
    }

    /// The policy in force now. Hold the `Arc` for the length of one request so the request
    /// sees one policy throughout, even if a reload happens meanwhile.
    pub fn policy(&self) -> Arc<Policy> {
        self.policy.load_full()
    }

    /// Swaps in a new, fully validated policy (atomically: readers see the old or the new).
    /// The new policy's users are seeded first: if that fails, the old policy stays in force
    /// and the reload is reported as refused, which is then true.
    pub async fn replace_policy(&self, policy: Policy) -> Result<(), StartError> {
        let policy = Arc::new(prepare(policy));
        self.ensure_keys(&policy).await?;
        self.seed_policy_users(&policy).await?;
        self.replace_file_policy(policy).await;
        // An upstream's endpoints or credentials may have changed with the policy.
        self.upstreams.clear();
        self.graph.clear();
        Ok(())
    }

    pub fn now(&self) -> UnixTime {
        self.clock.now()
    }

    /// A policy whose `keys.algorithm` changed needs a key of the new algorithm before any
    /// client is signed for with it: made now (on the blocking pool; an RSA key takes a
    /// moment), or the reload is refused.
    async fn ensure_keys(&self, policy: &Policy) -> Result<(), StartError> {
        let keys = self.keys.clone();
        let algorithms = policy.keys.algorithms();
        let now = self.now();
        tokio::task::spawn_blocking(move || keys.ensure(algorithms, now))
            .await
            .map_err(|e| crate::keys::KeyError::Generate(e.to_string()))??;
        Ok(())
    }

    /// Signing in: the login page, upstream SSO, sessions, logout and the account page.
    pub fn sign_in(&self) -> SignIn<'_> {
        SignIn { broker: self }
    }

    /// The token endpoint's grants, introspection, revocation, userinfo and client
    /// authentication.
    pub fn tokens(&self) -> Tokens<'_> {
        Tokens { broker: self }
    }

    /// The device authorization grant (RFC 8628).
    pub fn devices(&self) -> Devices<'_> {
        Devices { broker: self }
    }

    /// The admin API's use cases.
    pub fn admin(&self) -> admin::Admin<'_> {
        admin::Admin::new(self)
    }

    /// The JWK Set document (RFC 7517 §5) as served.
    pub fn jwks_json(&self) -> Arc<[u8]> {
        self.keys.jwks_json()
    }

    /// Answers when the store answers (readiness).
    pub async fn ping_store(&self) -> Result<(), crate::store::StoreError> {
        self.store.ping().await
    }

    /// Waits until every audit record sent so far is written (shutdown, tests).
    pub async fn flush_audit(&self) {
        self.audit.flush().await;
    }

    /// The broker's parts, for tests and benches that check what a use case stored. The
    /// HTTP layer never uses this (the import-direction test fails if it does).
    #[doc(hidden)]
    pub fn internals(&self) -> Internals<'_> {
        Internals {
            store: &self.store,
            keys: &self.keys,
            clock: &self.clock,
            graph: &self.graph,
        }
    }

    /// Creates or updates the users listed in the policy file. The file is their source of
    /// truth for name, link and flags, and for the password hash whenever the file changes
    /// it (see [`User::policy_password_hash`]); their broker id never changes.
    async fn seed_policy_users(&self, policy: &Policy) -> Result<(), StartError> {
        let now = self.now();
        for pu in policy.users.iter() {
            let existing = self.store.user_by_email(&pu.email).await?;
            match existing {
                None => {
                    let user = User {
                        id: crate::secret::random_uuid().to_string(),
                        email: pu.email.clone(),
                        name: pu.name.clone(),
                        organization: pu.organization.clone(),
                        password_hash: pu.password_hash.clone(),
                        link: pu.link.clone(),
                        sso: pu.sso,
                        disabled: pu.disabled,
                        source: UserSource::Policy,
                        created_at: now,
                        updated_at: now,
                        tokens_valid_after: 0,
                        email_verified: true,
                        profile: pu.profile.clone(),
                        policy_password_hash: pu.password_hash.clone(),
                    };
                    self.store
                        .create_user(&user)
                        .await?
                        .map_err(|e| StartError::Seed(format!("{}: {e}", pu.email)))?;
                }
                Some(user) if user.source == UserSource::Policy => {
                    self.store
                        .update_user(&user.id, |u| {
                            u.name = pu.name.clone();
                            u.organization = pu.organization.clone();
                            // The file's hash wins when the file changes it; until then a
                            // password the user reset (or an admin set) stays.
                            if u.policy_password_hash != pu.password_hash {
                                u.password_hash = pu.password_hash.clone();
                                u.policy_password_hash = pu.password_hash.clone();
                            }
                            u.link = pu.link.clone();
                            u.sso = pu.sso;
                            u.disabled = pu.disabled;
                            u.profile = pu.profile.clone();
                        })
                        .await?
                        .map_err(|e| StartError::Seed(format!("{}: {e}", pu.email)))?;
                }
                // A user of the same email created another way (import, admin) wins: the
                // policy file does not take over accounts it did not create.
                Some(_) => {}
            }
        }
        // A user the file created and no longer lists is disabled, not deleted: its id (the
        // `sub` apps know) is never reused, and putting it back in the file re-enables it.
        for user in self.store.list_users().await? {
            let listed = policy.users.iter().any(|pu| pu.email == user.email);
            if user.source == UserSource::Policy && !listed && !user.disabled {
                self.store
                    .update_user(&user.id, |u| u.disabled = true)
                    .await?
                    .map_err(|e| StartError::Seed(format!("{}: {e}", user.email)))?;
                tracing::info!(email = %user.email, "user removed from the policy file: disabled");
            }
        }
        Ok(())
    }

    /// Re-syncs organisations with `sync.interval` on schedule (see [`admin::sync`]).
    pub fn spawn_sync(self: &Arc<Self>, cancel: tokio_util::sync::CancellationToken) {
        admin::sync::spawn_scheduler(self, cancel);
    }

    /// Background upkeep: sweeping expired records and picking up rotated keys.
    pub fn spawn_upkeep(self: &Arc<Self>, cancel: tokio_util::sync::CancellationToken) {
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(5));
            let mut n: u64 = 0;
            loop {
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tick.tick() => {}
                }
                let Some(broker) = weak.upgrade() else { return };
                // Drains the latency histograms' buckets even when nobody scrapes /metrics.
                if let Some(metrics) = crate::metrics::handle() {
                    metrics.run_upkeep();
                }
                if let Err(e) = broker.keys.reload() {
                    tracing::warn!(error = %e, "signing keys could not be reloaded");
                }
                n += 1;
                if n.is_multiple_of(12)
                    && let Err(e) = broker.store.sweep().await
                {
                    tracing::warn!(error = %e, "sweeping expired records failed");
                }
            }
        });
    }
}

/// See [`Broker::internals`].
#[doc(hidden)]
pub struct Internals<'a> {
    pub store: &'a Store,
    pub keys: &'a KeyRing,
    pub clock: &'a Clock,
    pub graph: &'a crate::upstream::graph::GraphClient,
}

/// Signing in; see [`Broker::sign_in`].
#[derive(Clone, Copy)]
pub struct SignIn<'a> {
    broker: &'a Broker,
}

/// Tokens; see [`Broker::tokens`].
#[derive(Clone, Copy)]
pub struct Tokens<'a> {
    broker: &'a Broker,
}

/// Devices; see [`Broker::devices`].
#[derive(Clone, Copy)]
pub struct Devices<'a> {
    broker: &'a Broker,
}

/// Adds what every policy carries beyond the file: the built-in account page's client.
fn prepare(mut policy: Policy) -> Policy {
    let client = crate::policy::builtin_account_client(&policy.issuer);
    policy.clients.insert(client.id.clone(), Arc::new(client));
    policy
}
