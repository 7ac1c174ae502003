//! Reading the audit trail.

use serde::Deserialize;

use super::{Admin, AdminCtx, AdminError};
use crate::store::{AuditFilter, AuditRecord};

/// Audit records returned when the query sets no limit.
pub const AUDIT_DEFAULT_LIMIT: usize = 1000;

/// The audit query of the admin API.
#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    /// A broker user id or sign-in email.
    pub user: Option<String>,
    pub organization: Option<String>,
    /// Unix seconds.
    pub since: Option<u64>,
    pub limit: Option<usize>,
}

impl Admin<'_> {
    pub async fn audit(
        &self,
        query: &AuditQuery,
        ctx: &AdminCtx,
    ) -> Result<Vec<AuditRecord>, AdminError> {
        let mut record = self.event("admin.audit.query", ctx);
        record.organization = query.organization.clone();
        // The trail shows every record sent so far, this admin's own actions included.
        self.broker.audit.flush().await;
        let result = async {
            let user_id = match query.user.as_deref().filter(|u| !u.is_empty()) {
                None => None,
                Some(u) => Some(match self.resolve_user(u).await {
                    Ok(user) => user.id,
                    // A user since deleted or never created: records may still name the id.
                    Err(AdminError::NotFound(_)) => u.to_owned(),
                    Err(e) => return Err(e),
                }),
            };
            let filter = AuditFilter {
                user_id,
                organization: query.organization.clone().filter(|o| !o.is_empty()),
                since: query.since,
                limit: Some(query.limit.unwrap_or(AUDIT_DEFAULT_LIMIT).min(10_000)),
            };
            Ok(self.broker.store.audit(&filter).await?)
        }
        .await;
        self.audited(record, result)
    }
}
