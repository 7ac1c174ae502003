//! The admin surface, organisation side: authenticating the admin, the organisations and
//! their connection state, the admin-consent link and its callback, fetching a tenant's users
//! from Microsoft Graph and importing the selected ones (SPEC "Entra tenant connection and
//! user sync"). The user side (SSO switch, passwords, disable, revoke, audit) is in
//! [`super::admin_users`].
//!
//! Every call is audited: a refused token as `admin.auth`, everything else under its own
//! `admin.*` event, success or failure.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Broker, audit};
use crate::clock::UnixTime;
use crate::policy::{Organization, Policy, Upstream, UpstreamKind};
use crate::secret::{ct_eq, digest, random_handle, sha256};
use crate::store::{
    AuditRecord, ConsentState, OrgState, StoreError, SyncState, UpstreamLink, User, UserConflict,
    UserSource,
};
use crate::upstream::graph::{GraphError, GraphUser};

/// Where Entra sends the admin back after the consent screen (register
/// `{issuer}/admin/consent/callback` as a redirect URI of the broker's app registration).
pub const CONSENT_CALLBACK_PATH: &str = "/admin/consent/callback";
/// How long a consent link (its `state`) may be used.
pub const CONSENT_LINK_TTL: Duration = Duration::from_secs(3600);
/// The most users one import request may name.
pub const MAX_IMPORT: usize = 1000;

const ONCE_CONSENT: &str = "admin-consent";

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The policy has no `admin` section: the API does not exist.
    #[error("the admin API is turned off")]
    Disabled,
    #[error("a valid admin bearer token is required")]
    Unauthorized,
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Graph(#[from] GraphError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Password(#[from] crate::password::PasswordError),
    /// Too many refused authentications from this address: retry after this many seconds.
    #[error("too many refused admin authentications from this address; retry later")]
    RateLimited(u64),
}

impl AdminError {
    fn reason(&self) -> String {
        match self {
            AdminError::Disabled => "disabled".into(),
            AdminError::Unauthorized => "bad_token".into(),
            AdminError::NotFound(_) => "not_found".into(),
            AdminError::BadRequest(_) => "bad_request".into(),
            AdminError::Conflict(_) => "conflict".into(),
            AdminError::Graph(g) => g.code().into(),
            AdminError::Store(_) => "store_unavailable".into(),
            AdminError::Password(crate::password::PasswordError::Busy) => "password_busy".into(),
            AdminError::Password(_) => "password_pool".into(),
            AdminError::RateLimited(_) => "rate_limited".into(),
        }
    }
}

/// Who is calling the admin API (one shared token, so: from where).
#[derive(Debug, Clone, Default)]
pub struct AdminCtx {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// An organisation as the admin API shows it.
#[derive(Debug, Serialize)]
pub struct OrgView {
    pub id: String,
    pub domains: Vec<String>,
    pub upstream: Option<String>,
    pub tenant_id: Option<String>,
    pub sso: &'static str,
    pub password_fallback: bool,
    pub jit: bool,
    pub sync_interval_secs: Option<u64>,
    /// True when the last word on consent is "granted".
    pub consent_granted: bool,
    #[serde(flatten)]
    pub state: OrgState,
}

/// A user of the tenant as Graph lists them, and whether they are in the directory already.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FetchedUser {
    pub id: String,
    pub display_name: Option<String>,
    pub mail: Option<String>,
    pub user_principal_name: Option<String>,
    pub account_enabled: Option<bool>,
    pub imported: bool,
}

/// What an import did, per Entra object id.
#[derive(Debug, Default, Serialize)]
pub struct ImportReport {
    pub created: Vec<ImportedUser>,
    pub updated: Vec<ImportedUser>,
    pub unchanged: Vec<ImportedUser>,
    /// Ids the tenant does not have (nothing was imported for them).
    pub not_found: Vec<String>,
    /// Users that could not be imported, with why.
    pub conflicts: Vec<ImportConflict>,
}

#[derive(Debug, Serialize)]
pub struct ImportedUser {
    pub oid: String,
    pub user_id: String,
    pub email: String,
}

#[derive(Debug, Serialize)]
pub struct ImportConflict {
    pub oid: String,
    pub email: Option<String>,
    pub reason: String,
}

/// What the consent `state` remembers.
#[derive(Debug, Serialize, Deserialize)]
struct ConsentLinkState {
    organization: String,
    tenant: String,
    expires_at: UnixTime,
}

/// What Entra sends to the consent callback (Microsoft identity platform admin consent:
/// `admin_consent=True&tenant=…&state=…`, or `error=…&error_description=…&state=…`).
#[derive(Debug, Default, Deserialize)]
pub struct ConsentCallback {
    pub state: Option<String>,
    pub admin_consent: Option<String>,
    pub tenant: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// How a consent callback ended, for the page the admin sees.
#[derive(Debug)]
pub enum ConsentOutcome {
    Granted {
        organization: String,
    },
    /// Entra returned an error (declined, or another failure); recorded on the organisation.
    NotGranted {
        organization: String,
        error: String,
        description: String,
    },
    /// The callback itself is refused (unknown, used or expired state; another tenant).
    Refused(&'static str),
}

impl Broker {
    /// Checks the admin bearer token in constant time. A refusal is audited, up to
    /// `rate_limits.admin_auth_failures_per_ip` per client IP per window; the refusals
    /// beyond are answered `429` and only counted (`idbroker_rate_limited_total`), so
    /// unauthenticated traffic cannot fill the audit trail. The right token is never refused
    /// for its address's refusals: guessing it is hopeless, and an admin behind the same
    /// NAT as an attacker keeps working.
    pub async fn admin_authenticate(
        &self,
        token: Option<&str>,
        ctx: &AdminCtx,
        what: &str,
    ) -> Result<(), AdminError> {
        let policy = self.policy();
        let Some(expected) = policy.admin.token_sha256 else {
            return Err(AdminError::Disabled);
        };
        // Hash first so the comparison is over equal-length values whatever was sent.
        let ok = token.is_some_and(|t| ct_eq(&sha256(t.as_bytes()), &expected));
        if ok {
            return Ok(());
        }
        let limits = policy.rate_limits;
        if self
            .ip_hit_over(
                "admin-auth-ip",
                ctx.ip.as_deref(),
                limits.admin_auth_failures_per_ip,
                limits.window,
            )
            .await?
        {
            metrics::counter!("idbroker_rate_limited_total", "limit" => "admin_auth").increment(1);
            return Err(AdminError::RateLimited(limits.window.as_secs()));
        }
        let mut record = self.admin_event("admin.auth", ctx);
        record.outcome = "failure".into();
        record.reason = Some(
            if token.is_some() {
                "bad_token"
            } else {
                "no_token"
            }
            .into(),
        );
        record.detail = Some(what.chars().take(200).collect());
        self.audit.record(record);
        Err(AdminError::Unauthorized)
    }

    /// An audit record of an admin action (outcome `success` until told otherwise).
    pub(crate) fn admin_event(&self, event: &str, ctx: &AdminCtx) -> AuditRecord {
        let mut record = audit::event(event, "success", self.now());
        record.ip = ctx.ip.clone();
        record.user_agent = ctx.user_agent.clone();
        record
    }

    /// Records `record` with the outcome of `result`, and passes `result` on.
    pub(crate) fn audited<T>(
        &self,
        mut record: AuditRecord,
        result: Result<T, AdminError>,
    ) -> Result<T, AdminError> {
        if let Err(e) = &result {
            record.outcome = "failure".into();
            record.reason = Some(e.reason());
        }
        self.audit.record(record);
        result
    }

    pub async fn admin_organizations(&self, ctx: &AdminCtx) -> Result<Vec<OrgView>, AdminError> {
        let record = self.admin_event("admin.organizations.list", ctx);
        let policy = self.policy();
        let mut out = Vec::new();
        let result = async {
            for org in &policy.organizations {
                out.push(self.org_view(org).await?);
            }
            Ok(out)
        }
        .await;
        self.audited(record, result)
    }

    pub async fn admin_organization(
        &self,
        id: &str,
        ctx: &AdminCtx,
    ) -> Result<OrgView, AdminError> {
        let mut record = self.admin_event("admin.organizations.get", ctx);
        record.organization = Some(id.to_owned());
        let policy = self.policy();
        let result = async {
            let org = org(&policy, id)?;
            self.org_view(org).await
        }
        .await;
        self.audited(record, result)
    }

    async fn org_view(&self, org: &Organization) -> Result<OrgView, AdminError> {
        let state = self.store.org_state(&org.id).await?;
        Ok(OrgView {
            id: org.id.clone(),
            domains: org.domains.clone(),
            upstream: org.upstream.clone(),
            tenant_id: org.tenant_id.clone(),
            sso: org.sso.as_str(),
            password_fallback: org.password_fallback,
            jit: org.jit,
            sync_interval_secs: org.sync_interval.map(|d| d.as_secs()),
            consent_granted: state.consent.as_ref().is_some_and(|c| c.granted),
            state,
        })
    }

    /// The admin-consent URL for the organisation's tenant, with a fresh single-use `state`.
    pub async fn admin_consent_link(&self, id: &str, ctx: &AdminCtx) -> Result<String, AdminError> {
        let mut record = self.admin_event("admin.consent.link", ctx);
        record.organization = Some(id.to_owned());
        let policy = self.policy();
        let result = async {
            let org = org(&policy, id)?;
            let (upstream, tenant) = entra_of(&policy, org)?;
            record.upstream = Some(upstream.id.clone());
            let UpstreamKind::Entra { authority, .. } = &upstream.kind else {
                return Err(AdminError::BadRequest("not an Entra organisation".into()));
            };
            let state = random_handle();
            let now = self.now();
            self.store
                .put_once(
                    ONCE_CONSENT,
                    &digest(&state),
                    &ConsentLinkState {
                        organization: org.id.clone(),
                        tenant: tenant.to_owned(),
                        expires_at: now + CONSENT_LINK_TTL.as_secs(),
                    },
                    CONSENT_LINK_TTL,
                )
                .await?;
            let mut url = url::Url::parse(&format!(
                "{}/{tenant}/adminconsent",
                authority.as_str().trim_end_matches('/')
            ))
            .map_err(|e| AdminError::BadRequest(format!("the authority is not a URL: {e}")))?;
            url.query_pairs_mut()
                .append_pair("client_id", &upstream.client_id)
                .append_pair("redirect_uri", &policy.issuer.join(CONSENT_CALLBACK_PATH))
                .append_pair("state", &state);
            Ok(url.to_string())
        }
        .await;
        self.audited(record, result)
    }

    /// The public consent callback: takes the `state` once and records what Entra said.
    pub async fn consent_callback(
        &self,
        params: &ConsentCallback,
    ) -> Result<ConsentOutcome, AdminError> {
        let now = self.now();
        let mut record = audit::event("admin.consent.callback", "failure", now);
        let Some(state) = params
            .state
            .as_deref()
            .filter(|s| !s.is_empty() && s.len() <= 128)
        else {
            record.reason = Some("no_state".into());
            self.audit.record(record);
            return Ok(ConsentOutcome::Refused(
                "This consent response has no valid state. Start again from a new consent link.",
            ));
        };
        let taken: Option<ConsentLinkState> =
            self.store.take_once(ONCE_CONSENT, &digest(state)).await?;
        let Some(link) = taken.filter(|l| l.expires_at > now) else {
            record.reason = Some("unknown_state".into());
            self.audit.record(record);
            return Ok(ConsentOutcome::Refused(
                "This consent link has expired or was already used. Create a new consent link.",
            ));
        };
        record.organization = Some(link.organization.clone());
        if let Some(error) = params.error.as_deref().filter(|e| !e.is_empty()) {
            let error: String = error.chars().take(100).collect();
            // The AADSTS text is Entra's, shown to the admin: keep its first line only.
            let description: String = params
                .error_description
                .as_deref()
                .unwrap_or_default()
                .lines()
                .next()
                .unwrap_or_default()
                .chars()
                .take(500)
                .collect();
            self.store
                .update_org_state(&link.organization, |s| {
                    s.consent = Some(ConsentState {
                        granted: false,
                        at: now,
                        tenant: params.tenant.clone(),
                        error: Some(error.clone()),
                        error_description: Some(description.clone()),
                    });
                })
                .await?;
            record.reason = Some(format!("entra_error:{error}"));
            self.audit.record(record);
            return Ok(ConsentOutcome::NotGranted {
                organization: link.organization,
                error,
                description,
            });
        }
        let granted = params
            .admin_consent
            .as_deref()
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let tenant = params.tenant.as_deref().unwrap_or_default().to_lowercase();
        if !granted {
            record.reason = Some("not_granted".into());
            self.audit.record(record);
            return Ok(ConsentOutcome::Refused(
                "Microsoft did not report that consent was granted. Try the consent link again.",
            ));
        }
        if tenant != link.tenant {
            // Consent in another tenant says nothing about this organisation's tenant.
            record.reason = Some("wrong_tenant".into());
            record.detail = Some(format!("tenant {tenant}"));
            self.audit.record(record);
            return Ok(ConsentOutcome::Refused(
                "Consent was granted in a different Microsoft Entra tenant than this organisation's. \
                 Sign in to the organisation's own tenant and use a new consent link.",
            ));
        }
        self.store
            .update_org_state(&link.organization, |s| {
                s.consent = Some(ConsentState {
                    granted: true,
                    at: now,
                    tenant: Some(tenant.clone()),
                    error: None,
                    error_description: None,
                });
            })
            .await?;
        record.outcome = "success".into();
        self.audit.record(record);
        Ok(ConsentOutcome::Granted {
            organization: link.organization,
        })
    }

    /// The tenant's users from Graph, each marked `imported` when the directory has them.
    pub async fn admin_fetch_users(
        &self,
        id: &str,
        ctx: &AdminCtx,
    ) -> Result<Vec<FetchedUser>, AdminError> {
        let mut record = self.admin_event("admin.users.fetch", ctx);
        record.organization = Some(id.to_owned());
        let policy = self.policy();
        let result = async {
            let org = org(&policy, id)?;
            let (upstream, tenant) = entra_of(&policy, org)?;
            record.upstream = Some(upstream.id.clone());
            let users = self.graph_users(org, upstream, tenant, "fetch").await?;
            let mut out = Vec::with_capacity(users.len());
            for u in users {
                let link = entra_link(tenant, &u.id);
                let imported = self.store.user_by_link(&link).await?.is_some();
                out.push(FetchedUser {
                    id: u.id,
                    display_name: u.display_name,
                    mail: u.mail,
                    user_principal_name: u.user_principal_name,
                    account_enabled: u.account_enabled,
                    imported,
                });
            }
            record.detail = Some(format!("{} users", out.len()));
            Ok(out)
        }
        .await;
        self.audited(record, result)
    }

    /// Imports exactly the users named by `user_ids` (Entra object ids), keyed by (tid, oid).
    /// Importing again changes only what changed in Entra (name, email, enabled).
    pub async fn admin_import(
        &self,
        id: &str,
        user_ids: &[String],
        ctx: &AdminCtx,
    ) -> Result<ImportReport, AdminError> {
        let mut record = self.admin_event("admin.users.import", ctx);
        record.organization = Some(id.to_owned());
        let policy = self.policy();
        let result = async {
            let org = org(&policy, id)?;
            let (upstream, tenant) = entra_of(&policy, org)?;
            record.upstream = Some(upstream.id.clone());
            let wanted = parse_object_ids(user_ids)?;
            let users = self.graph_users(org, upstream, tenant, "import").await?;
            let by_oid: HashMap<String, GraphUser> = users
                .into_iter()
                .map(|u| (u.id.to_lowercase(), u))
                .filter(|(oid, _)| wanted.contains(oid))
                .collect();
            let mut report = ImportReport::default();
            for oid in &wanted {
                match by_oid.get(oid) {
                    None => report.not_found.push(oid.clone()),
                    Some(u) => {
                        self.import_one(org, tenant, oid, u, &mut report, ctx)
                            .await?
                    }
                }
            }
            let changed = report.created.len() + report.updated.len();
            self.store
                .update_org_state(&org.id, |s| {
                    s.last_sync = Some(SyncState {
                        at: self.now(),
                        operation: "import".into(),
                        outcome: "success".into(),
                        users: Some(changed),
                        error: None,
                    });
                })
                .await?;
            record.detail = Some(format!(
                "created {}, updated {}, unchanged {}, not found {}, conflicts {}",
                report.created.len(),
                report.updated.len(),
                report.unchanged.len(),
                report.not_found.len(),
                report.conflicts.len()
            ));
            Ok(report)
        }
        .await;
        self.audited(record, result)
    }

    async fn import_one(
        &self,
        org: &Organization,
        tenant: &str,
        oid: &str,
        u: &GraphUser,
        report: &mut ImportReport,
        ctx: &AdminCtx,
    ) -> Result<(), AdminError> {
        let Some(email) = u.sign_in_email() else {
            report.conflicts.push(ImportConflict {
                oid: oid.to_owned(),
                email: None,
                reason: "the user has neither mail nor userPrincipalName".into(),
            });
            return Ok(());
        };
        let name = u
            .display_name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| email.clone());
        let link = entra_link(tenant, oid);
        let now = self.now();
        let conflict = |reason: &str| ImportConflict {
            oid: oid.to_owned(),
            email: Some(email.clone()),
            reason: reason.to_owned(),
        };
        let mut record = self.admin_event("admin.user.import", ctx);
        record.organization = Some(org.id.clone());
        record.identifier = Some(email.clone());
        match self.store.user_by_link(&link).await? {
            Some(existing) => {
                let org_id = org.id.clone();
                let changed = self
                    .store
                    .update_user(&existing.id, |x| {
                        if x.name != name
                            || x.email != email
                            || x.organization.as_deref() != Some(&org_id)
                        {
                            x.name = name.clone();
                            x.email = email.clone();
                            x.organization = Some(org_id.clone());
                            x.updated_at = now;
                        }
                    })
                    .await?;
                let entry = ImportedUser {
                    oid: oid.to_owned(),
                    user_id: existing.id.clone(),
                    email: email.clone(),
                };
                record.user_id = Some(existing.id.clone());
                match changed {
                    Ok(new) if new == existing => report.unchanged.push(entry),
                    Ok(_) => {
                        record.detail = Some("updated".into());
                        self.audit.record(record);
                        report.updated.push(entry);
                    }
                    Err(e) => report.conflicts.push(conflict(&e.to_string())),
                }
            }
            None => {
                let user = User {
                    id: uuid::Uuid::new_v4().to_string(),
                    email: email.clone(),
                    name,
                    organization: Some(org.id.clone()),
                    password_hash: None,
                    link: Some(link),
                    sso: false,
                    // A user disabled in Entra comes in disabled.
                    disabled: u.account_enabled == Some(false),
                    source: UserSource::Import,
                    created_at: now,
                    updated_at: now,
                    tokens_valid_after: 0,
                    email_verified: true,
                };
                match self.store.create_user(&user).await? {
                    Ok(()) => {
                        record.user_id = Some(user.id.clone());
                        record.detail = Some("created".into());
                        self.audit.record(record);
                        report.created.push(ImportedUser {
                            oid: oid.to_owned(),
                            user_id: user.id,
                            email,
                        });
                    }
                    Err(UserConflict::EmailTaken) => report.conflicts.push(conflict(
                        "another directory user already signs in with this email",
                    )),
                    Err(e) => report.conflicts.push(conflict(&e.to_string())),
                }
            }
        }
        Ok(())
    }

    /// Lists the tenant's users and records the outcome on the organisation; a Graph refusal
    /// for want of consent also marks consent as missing.
    pub(crate) async fn graph_users(
        &self,
        org: &Organization,
        upstream: &Upstream,
        tenant: &str,
        operation: &str,
    ) -> Result<Vec<GraphUser>, AdminError> {
        let started = std::time::Instant::now();
        let result = self.graph.list_users(upstream, tenant, self.now()).await;
        let now = self.now();
        tracing::info!(
            organization = %org.id,
            ok = result.is_ok(),
            users = result.as_ref().map(Vec::len).unwrap_or(0),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "Graph users listed"
        );
        metrics::counter!("idbroker_graph_fetches_total",
            "outcome" => if result.is_ok() { "success" } else { "failure" })
        .increment(1);
        let (count, error) = match &result {
            Ok(users) => (Some(users.len()), None),
            Err(e) => (None, Some(e.to_string())),
        };
        let consent_missing = matches!(result, Err(GraphError::ConsentMissing));
        self.store
            .update_org_state(&org.id, |s| {
                s.last_sync = Some(SyncState {
                    at: now,
                    operation: operation.to_owned(),
                    outcome: if error.is_none() {
                        "success"
                    } else {
                        "failure"
                    }
                    .into(),
                    users: count,
                    error: error.clone(),
                });
                if consent_missing {
                    s.consent = Some(ConsentState {
                        granted: false,
                        at: now,
                        tenant: Some(tenant.to_owned()),
                        error: Some("consent_missing".into()),
                        error_description: Some(
                            "Microsoft Graph refused the broker: consent missing or revoked."
                                .into(),
                        ),
                    });
                }
            })
            .await?;
        Ok(result?)
    }
}

pub(crate) fn org<'p>(policy: &'p Policy, id: &str) -> Result<&'p Organization, AdminError> {
    policy
        .org_by_id
        .get(id)
        .map(|o| &**o)
        .ok_or_else(|| AdminError::NotFound(format!("no organization {id}")))
}

/// The organisation's Entra upstream and tenant, or why it has none.
pub(crate) fn entra_of<'p>(
    policy: &'p Policy,
    org: &'p Organization,
) -> Result<(&'p Upstream, &'p str), AdminError> {
    let upstream = org
        .upstream
        .as_deref()
        .and_then(|u| policy.upstream(u))
        .ok_or_else(|| {
            AdminError::BadRequest(format!("organization {} has no upstream", org.id))
        })?;
    if !matches!(upstream.kind, UpstreamKind::Entra { .. }) {
        return Err(AdminError::BadRequest(format!(
            "organization {} does not use an Entra upstream",
            org.id
        )));
    }
    let tenant = org.tenant_id.as_deref().ok_or_else(|| {
        AdminError::BadRequest(format!("organization {} has no tenant_id", org.id))
    })?;
    Ok((upstream, tenant))
}

pub(crate) fn entra_link(tenant: &str, oid: &str) -> UpstreamLink {
    UpstreamLink::Entra {
        tid: tenant.to_lowercase(),
        oid: oid.to_lowercase(),
    }
}

/// Entra object ids: GUIDs, lower-cased, without duplicates (in request order).
fn parse_object_ids(ids: &[String]) -> Result<Vec<String>, AdminError> {
    if ids.is_empty() {
        return Err(AdminError::BadRequest("user_ids is empty".into()));
    }
    if ids.len() > MAX_IMPORT {
        return Err(AdminError::BadRequest(format!(
            "at most {MAX_IMPORT} user_ids per import"
        )));
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for id in ids {
        let Some(oid) = crate::directory::entra_guid(id.trim()) else {
            return Err(AdminError::BadRequest(format!(
                "{:?} is not an Entra object id (a GUID)",
                id.chars().take(64).collect::<String>()
            )));
        };
        if seen.insert(oid.clone()) {
            out.push(oid);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_ids_are_guids_deduplicated_in_order() {
        let a = "0B7C4D1E-5F60-4A7B-8C9D-0E1F2A3B4C5D".to_string();
        let b = "11111111-2222-3333-4444-555555555555".to_string();
        let got = parse_object_ids(&[a.clone(), b.clone(), a.to_lowercase()]).unwrap();
        assert_eq!(got, vec![a.to_lowercase(), b]);
        assert!(parse_object_ids(&[]).is_err());
        assert!(parse_object_ids(&["not-a-guid".into()]).is_err());
        assert!(parse_object_ids(&["0b7c4d1e-5f60-4a7b-8c9d-0e1f2a3b4c5".into()]).is_err());
    }
}
