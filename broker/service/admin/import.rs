//! The tenant's users from Microsoft Graph, and importing the chosen ones, keyed by the
//! immutable (tenant id, object id), never by email.

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;

use super::{Admin, AdminCtx, AdminError, entra_link, entra_of, org};
use crate::policy::{Organization, Upstream};
use crate::store::{ConsentState, Outcome, SyncState, User, UserConflict, UserSource};
use crate::upstream::graph::{GraphError, GraphUser};

/// The most users one import request may name.
pub const MAX_IMPORT: usize = 1000;

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

/// Users of a page of the tenant, as the console and the admin API show them.
#[derive(Debug, Serialize)]
pub struct TenantUsersPage {
    pub users: Vec<FetchedUser>,
    /// Where the next page starts (Graph's `$skiptoken`), if there is one.
    pub next: Option<String>,
}

/// Users a page of the tenant holds.
pub const TENANT_PAGE_SIZE: usize = 50;
/// The longest search text (the start of a name, mail or UPN).
const MAX_SEARCH_CHARS: usize = 100;
/// The longest page token accepted back from a browser.
const MAX_SKIPTOKEN_CHARS: usize = 2048;

impl Admin<'_> {
    /// One page of the tenant's users from Graph, those whose name, mail or UPN starts with
    /// `search` (all without it), after `page` (a previous answer's `next`); each marked
    /// `imported` when the directory has them. Never more than one Graph page per call, so a
    /// tenant of 100,000 users is browsed, not loaded.
    pub async fn tenant_users(
        &self,
        id: &str,
        search: Option<&str>,
        page: Option<&str>,
        ctx: &AdminCtx,
    ) -> Result<TenantUsersPage, AdminError> {
        let mut record = self.event("admin.users.search", ctx);
        record.organization = Some(id.to_owned());
        let policy = self.broker.policy();
        let result = async {
            let org = org(&policy, id)?;
            let (upstream, tenant) = entra_of(&policy, org)?;
            record.upstream = Some(upstream.id.clone());
            let search = search.map(str::trim).filter(|s| !s.is_empty());
            if search.is_some_and(|s| s.chars().count() > MAX_SEARCH_CHARS) {
                return Err(AdminError::BadRequest(format!(
                    "search for at most {MAX_SEARCH_CHARS} characters"
                )));
            }
            let page = page.filter(|p| !p.is_empty());
            if page.is_some_and(|p| {
                p.len() > MAX_SKIPTOKEN_CHARS
                    || !p
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_.~+/=%".contains(&b))
            }) {
                return Err(AdminError::BadRequest("the page token is not valid".into()));
            }
            let query = crate::upstream::graph::UserQuery {
                search,
                skiptoken: page,
                page_size: TENANT_PAGE_SIZE,
            };
            let (users, next) = self
                .broker
                .graph
                .search_users(upstream, tenant, &query, self.broker.now())
                .await?;
            let out = self.marked_imported(tenant, users).await?;
            record.detail = Some(format!("{} users", out.len()));
            Ok(TenantUsersPage { users: out, next })
        }
        .await;
        self.audited(record, result)
    }

    /// The tenant's users from Graph, each marked `imported` when the directory has them.
    pub async fn fetch_users(
        &self,
        id: &str,
        ctx: &AdminCtx,
    ) -> Result<Vec<FetchedUser>, AdminError> {
        let mut record = self.event("admin.users.fetch", ctx);
        record.organization = Some(id.to_owned());
        let policy = self.broker.policy();
        let result = async {
            let org = org(&policy, id)?;
            let (upstream, tenant) = entra_of(&policy, org)?;
            record.upstream = Some(upstream.id.clone());
            let users = self.graph_users(org, upstream, tenant, "fetch").await?;
            let out = self.marked_imported(tenant, users).await?;
            record.detail = Some(format!("{} users", out.len()));
            Ok(out)
        }
        .await;
        self.audited(record, result)
    }

    /// Graph's users, each marked `imported` when the directory has their (tenant, oid).
    async fn marked_imported(
        &self,
        tenant: &str,
        users: Vec<GraphUser>,
    ) -> Result<Vec<FetchedUser>, AdminError> {
        let mut out = Vec::with_capacity(users.len());
        for u in users {
            let link = entra_link(tenant, &u.id);
            let imported = self.broker.store.user_by_link(&link).await?.is_some();
            out.push(FetchedUser {
                id: u.id,
                display_name: u.display_name,
                mail: u.mail,
                user_principal_name: u.user_principal_name,
                account_enabled: u.account_enabled,
                imported,
            });
        }
        Ok(out)
    }

    /// Imports exactly the users named by `user_ids` (Entra object ids), keyed by (tid, oid).
    /// Importing again changes only what changed in Entra (name, email, enabled).
    pub async fn import(
        &self,
        id: &str,
        user_ids: &[String],
        ctx: &AdminCtx,
    ) -> Result<ImportReport, AdminError> {
        let mut record = self.event("admin.users.import", ctx);
        record.organization = Some(id.to_owned());
        let policy = self.broker.policy();
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
            self.broker
                .store
                .update_org_state(&org.id, |s| {
                    s.last_sync = Some(SyncState {
                        at: self.broker.now(),
                        operation: "import".into(),
                        outcome: Outcome::Success,
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
        let now = self.broker.now();
        let conflict = |reason: &str| ImportConflict {
            oid: oid.to_owned(),
            email: Some(email.clone()),
            reason: reason.to_owned(),
        };
        let mut record = self
            .event("admin.user.import", ctx)
            .organization(&org.id)
            .identifier(&email);
        match self.broker.store.user_by_link(&link).await? {
            Some(existing) => {
                let org_id = org.id.clone();
                let changed = self
                    .broker
                    .store
                    .update_user(&existing.id, |x| {
                        let profile = x.profile.updated_by(&u.profile());
                        if x.name != name
                            || x.email != email
                            || x.organization.as_deref() != Some(&org_id)
                            || x.profile != profile
                        {
                            x.name = name.clone();
                            x.email = email.clone();
                            x.organization = Some(org_id.clone());
                            x.profile = profile;
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
                        self.broker.audit.record(record);
                        report.updated.push(entry);
                    }
                    Err(e) => report.conflicts.push(conflict(&e.to_string())),
                }
            }
            None => {
                let user = User {
                    id: crate::secret::random_uuid().to_string(),
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
                    policy_password_hash: None,
                    email_verified: true,
                    profile: u.profile(),
                };
                match self.broker.store.create_user(&user).await? {
                    Ok(()) => {
                        record.user_id = Some(user.id.clone());
                        record.detail = Some("created".into());
                        self.broker.audit.record(record);
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
        let result = self
            .broker
            .graph
            .list_users(upstream, tenant, self.broker.now())
            .await;
        let now = self.broker.now();
        tracing::info!(
            organization = %org.id,
            ok = result.is_ok(),
            users = result.as_ref().map(Vec::len).unwrap_or(0),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "Graph users listed"
        );
        metrics::counter!("idbroker_graph_fetches_total",
            "outcome" => Outcome::of(result.is_ok()).as_str())
        .increment(1);
        let (count, error) = match &result {
            Ok(users) => (Some(users.len()), None),
            Err(e) => (None, Some(e.to_string())),
        };
        let consent_missing = matches!(result, Err(GraphError::ConsentMissing));
        self.broker
            .store
            .update_org_state(&org.id, |s| {
                s.last_sync = Some(SyncState {
                    at: now,
                    operation: operation.to_owned(),
                    outcome: Outcome::of(error.is_none()),
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
