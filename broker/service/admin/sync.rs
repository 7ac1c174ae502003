//! Re-sync of imported users with their Entra tenant (SPEC "Re-sync on a schedule"): names
//! and emails follow Entra; a user disabled or deleted in Entra is disabled here and their
//! sessions and refresh tokens are revoked. Each change is an audit event.
//!
//! The whole tenant is read first; only then is the directory changed, so a failing Graph
//! leaves the directory as it was (and the failure is recorded on the organisation and
//! counted in `idbroker_sync_total`). Users are never created here: only the admin imports.
//! For organisations with `groups.upstream`, the groups of users who signed in before are
//! read again from Graph.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use super::{Admin, AdminCtx, AdminError, entra_of, org};
use crate::service::Broker;
use crate::store::{AuditRecord, Outcome, UpstreamLink, User};
use crate::upstream::graph::GraphUser;

/// How often the scheduler looks for organisations due a re-sync.
pub const SYNC_TICK: Duration = Duration::from_secs(30);

/// What one re-sync did.
#[derive(Debug, Default, Serialize)]
pub struct SyncReport {
    /// Imported users of the tenant that were compared.
    pub checked: usize,
    /// Users whose name or email followed Entra.
    pub updated: Vec<String>,
    /// Users whose upstream groups were read again (those who signed in before).
    pub groups_read: usize,
    /// Users disabled because Entra disabled or deleted them (ids).
    pub deprovisioned: Vec<String>,
    /// Users whose new email is taken by another directory user, or who could not be
    /// disabled (left unchanged; the rest of the sync goes on).
    pub conflicts: Vec<String>,
}

impl Admin<'_> {
    /// Re-syncs one organisation now (the admin API's `sync`, and the scheduler).
    pub async fn resync(&self, id: &str, ctx: &AdminCtx) -> Result<SyncReport, AdminError> {
        let mut record = self.event("admin.sync", ctx);
        record.organization = Some(id.to_owned());
        let result = self.run_resync(id).await;
        if let Ok(r) = &result {
            record.detail = Some(format!(
                "checked {}, updated {}, deprovisioned {}",
                r.checked,
                r.updated.len(),
                r.deprovisioned.len()
            ));
        }
        self.audited(record, result)
    }

    async fn run_resync(&self, id: &str) -> Result<SyncReport, AdminError> {
        let policy = self.broker.policy();
        let org = org(&policy, id)?;
        let (upstream, tenant) = entra_of(&policy, org)?;
        let listed = self.graph_users(org, upstream, tenant, "resync").await;
        metrics::counter!("idbroker_sync_total",
            "organization" => org.id.clone(),
            "outcome" => Outcome::of(listed.is_ok()).as_str())
        .increment(1);
        let by_oid: HashMap<String, GraphUser> = listed?
            .into_iter()
            .map(|u| (u.id.to_lowercase(), u))
            .collect();
        let tenant = tenant.to_lowercase();
        let mut report = SyncReport::default();
        for user in self.broker.store.list_users().await? {
            let Some(UpstreamLink::Entra { tid, oid }) = &user.link else {
                continue;
            };
            // The policy file is the source of truth for its own users: a re-sync changing
            // them would be undone by the next reload.
            if *tid != tenant || user.source == crate::store::UserSource::Policy {
                continue;
            }
            report.checked += 1;
            match by_oid.get(oid) {
                Some(g) if g.account_enabled != Some(false) => {
                    self.follow_entra(&user, g, &mut report).await?;
                    // Groups read at a sign-in are read again, so that refresh tokens follow
                    // Entra between sign-ins too; users who never signed in have none to
                    // follow.
                    if org.groups.upstream
                        && self.broker.store.user_groups(&user.id).await?.is_some()
                    {
                        self.broker
                            .refresh_upstream_groups(
                                upstream,
                                Some(org),
                                &user,
                                &crate::upstream::verify::GroupsClaim::Absent,
                            )
                            .await;
                        report.groups_read += 1;
                    }
                }
                gone_or_disabled => {
                    if user.disabled {
                        continue;
                    }
                    let reason = if gone_or_disabled.is_some() {
                        "disabled_in_entra"
                    } else {
                        "deleted_in_entra"
                    };
                    let now = self.broker.now();
                    // One user that cannot be changed must not stop the rest of the sync.
                    if let Err(e) = self
                        .broker
                        .store
                        .update_user(&user.id, |u| {
                            u.disabled = true;
                            u.updated_at = now;
                        })
                        .await?
                    {
                        tracing::warn!(user = %user.id, error = %e, "re-sync could not disable a user");
                        report.conflicts.push(user.id.clone());
                        continue;
                    }
                    let revoked = self.revoke_user_counted(&user.id).await?;
                    // A success, with the reason the user was deprovisioned.
                    let mut record = AuditRecord::success("sync.user.deprovision", now)
                        .user(&user.id)
                        .identifier(&user.email)
                        .organization(&org.id)
                        .upstream(&upstream.id)
                        .detail(format!(
                            "{} sessions, {} refresh token families revoked",
                            revoked.sessions, revoked.refresh_token_families
                        ));
                    record.reason = Some(reason.into());
                    self.broker.audit.record(record);
                    report.deprovisioned.push(user.id.clone());
                }
            }
        }
        Ok(report)
    }

    async fn follow_entra(
        &self,
        user: &User,
        g: &GraphUser,
        report: &mut SyncReport,
    ) -> Result<(), AdminError> {
        let Some(email) = g.sign_in_email() else {
            return Ok(());
        };
        let name = g
            .display_name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| email.clone());
        let profile = user.profile.updated_by(&g.profile());
        if user.email == email && user.name == name && user.profile == profile {
            return Ok(());
        }
        let now = self.broker.now();
        let changed = self
            .broker
            .store
            .update_user(&user.id, |u| {
                u.email = email.clone();
                u.name = name.clone();
                u.profile = profile.clone();
                u.updated_at = now;
            })
            .await?;
        let mut record = AuditRecord::success("sync.user.update", now)
            .user(&user.id)
            .identifier(&email);
        record.organization = user.organization.clone();
        let record = match changed {
            Ok(_) => {
                report.updated.push(user.id.clone());
                record.detail(if user.email != email {
                    format!("email {} -> {email}", user.email)
                } else if user.name != name {
                    "name".into()
                } else {
                    "profile".into()
                })
            }
            Err(e) => {
                report.conflicts.push(user.id.clone());
                record.because("conflict").detail(e.to_string())
            }
        };
        self.broker.audit.record(record);
        Ok(())
    }
}

/// Re-syncs every organisation with `sync.interval`, each at most once per interval
/// across all replicas (a shared fixed-window counter decides who runs).
pub(in crate::service) fn spawn_scheduler(
    broker: &Arc<Broker>,
    cancel: tokio_util::sync::CancellationToken,
) {
    let weak = Arc::downgrade(broker);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(SYNC_TICK);
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tick.tick() => {}
            }
            let Some(broker) = weak.upgrade() else { return };
            let policy = broker.policy();
            for org in &policy.organizations {
                let Some(interval) = org.sync_interval else {
                    continue;
                };
                let due = broker
                    .store
                    .rate_hit(&format!("sync/{}", org.id), interval)
                    .await;
                if !matches!(due, Ok(crate::store::RateCount(1))) {
                    continue;
                }
                let ctx = AdminCtx {
                    ip: None,
                    user_agent: Some("idbroker scheduled sync".into()),
                    actor: Some("scheduled sync".into()),
                };
                if let Err(e) = broker.admin().resync(&org.id, &ctx).await {
                    tracing::warn!(organization = %org.id, error = %e, "scheduled re-sync failed");
                }
            }
        }
    });
}
