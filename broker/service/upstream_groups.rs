//! Reading a user's upstream groups at sign-in, for the organisations that use them
//! (`organizations[].groups.upstream: true`).
//!
//! - **Entra**: the ID token's `groups` claim (object ids) when it lists them and the
//!   organisation names groups by id. Graph's `transitiveMemberOf` (app-only,
//!   `GroupMember.Read.All`) when Entra signals overage (`_claim_names`, `hasgroups`), when
//!   the app registration emits no `groups` claim, or when the organisation names groups by
//!   display name (tokens carry ids only).
//! - **Generic OIDC**: the upstream's `groups_claim`, as listed.
//!
//! A failure to read them never fails the sign-in: the groups read last are kept (the
//! tokens then say what was known), and the failure is logged and counted.

use super::Broker;
use crate::directory::{UpstreamGroup, UpstreamLink, User, UserGroups};
use crate::policy::{GroupNames, Organization, Upstream, UpstreamKind};
use crate::upstream::verify::GroupsClaim;

/// How old stored upstream groups may be when a grant without a browser sign-in (token
/// exchange) is about to use them; older, they are read again first.
pub const GROUPS_MAX_AGE: u64 = 3600;

impl Broker {
    /// [`Broker::refresh_upstream_groups`] for a grant that brought no groups claim of its
    /// own (token exchange: an access token): only when the stored groups are missing or
    /// older than [`GROUPS_MAX_AGE`].
    pub(super) async fn refresh_stale_upstream_groups(
        &self,
        upstream: &Upstream,
        org: &Organization,
        user: &User,
    ) {
        if !org.groups.upstream {
            return;
        }
        let fresh = match self.store.user_groups(&user.id).await {
            Ok(Some(g)) => g.updated_at.saturating_add(GROUPS_MAX_AGE) > self.now(),
            _ => false,
        };
        if !fresh {
            self.refresh_upstream_groups(upstream, Some(org), user, &GroupsClaim::Absent)
                .await;
        }
    }

    /// Reads and stores the upstream groups of `user`, who just signed in through
    /// `upstream` for `org`, if the organisation uses them.
    pub(super) async fn refresh_upstream_groups(
        &self,
        upstream: &Upstream,
        org: Option<&Organization>,
        user: &User,
        claim: &GroupsClaim,
    ) {
        let Some(org) = org.filter(|o| o.groups.upstream) else {
            return;
        };
        let now = self.now();
        let read = match (&upstream.kind, claim) {
            (UpstreamKind::Entra { .. }, GroupsClaim::Listed(ids))
                if org.groups.names == GroupNames::Id =>
            {
                Ok(ids
                    .iter()
                    .map(|id| UpstreamGroup {
                        id: id.to_ascii_lowercase(),
                        name: None,
                    })
                    .collect())
            }
            (UpstreamKind::Entra { .. }, _) => self.graph_groups(upstream, org, user, now).await,
            (UpstreamKind::Oidc { .. }, GroupsClaim::Listed(values)) => Ok(values
                .iter()
                .map(|v| UpstreamGroup {
                    id: v.clone(),
                    name: None,
                })
                .collect()),
            (UpstreamKind::Oidc { .. }, _) => Ok(Vec::new()),
        };
        let outcome = match read {
            Ok(mut groups) => {
                // Sorted by id as stored: the membership is built from it at every token.
                groups.sort_unstable_by(|a, b| a.id.cmp(&b.id));
                groups.dedup_by(|a, b| a.id == b.id);
                let record = UserGroups {
                    groups,
                    upstream: upstream.id.clone(),
                    updated_at: now,
                };
                match self.store.put_user_groups(&user.id, &record).await {
                    Ok(()) => "read",
                    Err(e) => {
                        tracing::warn!(user = %user.id, error = %e, "storing the user's groups failed");
                        "store_failed"
                    }
                }
            }
            Err(why) => {
                tracing::warn!(user = %user.id, upstream = %upstream.id, error = %why,
                    "reading the user's groups failed; the groups read last are kept");
                "upstream_failed"
            }
        };
        metrics::counter!("idbroker_upstream_groups_total", "outcome" => outcome).increment(1);
    }

    /// The user's groups from Microsoft Graph, with display names.
    async fn graph_groups(
        &self,
        upstream: &Upstream,
        org: &Organization,
        user: &User,
        now: u64,
    ) -> Result<Vec<UpstreamGroup>, String> {
        let (Some(UpstreamLink::Entra { oid, .. }), Some(tenant)) =
            (&user.link, org.tenant_id.as_deref())
        else {
            return Err("the user has no Entra link or the organisation no tenant".into());
        };
        let groups = self
            .graph
            .member_groups(upstream, tenant, oid, now)
            .await
            .map_err(|e| e.to_string())?;
        Ok(groups
            .into_iter()
            .map(|g| UpstreamGroup {
                id: g.id.to_ascii_lowercase(),
                name: g.display_name,
            })
            .collect())
    }
}
