//! The audit trail kept in the store for the admin API (the JSON-lines sink is elsewhere).
//!
//! Keys: `v1/audit/{id}` where the id is a UUIDv7, so key order is time order.

use std::time::Duration;

use super::backend::KvBackend;
use super::{AuditRecord, Store, StoreError, Txn, encode};

/// What to select from the audit trail.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub user_id: Option<String>,
    pub organization: Option<String>,
    pub since: Option<u64>,
    pub limit: Option<usize>,
}

impl Store {
    /// Appends a record, kept for `retention`.
    pub async fn append_audit(
        &self,
        record: &AuditRecord,
        retention: Duration,
    ) -> Result<(), StoreError> {
        let txn = Txn::new().put(
            format!("v1/audit/{}", record.id),
            encode(record)?,
            Some(retention),
        );
        self.kv.commit(txn).await?;
        Ok(())
    }

    /// Matching records, newest first.
    pub async fn audit(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>, StoreError> {
        let mut out: Vec<AuditRecord> = self
            .list_docs::<AuditRecord>("audit")
            .await?
            .into_iter()
            .map(|(_, r)| r)
            .filter(|r| filter.since.is_none_or(|t| r.time >= t))
            .filter(|r| {
                filter
                    .user_id
                    .as_deref()
                    .is_none_or(|u| r.user_id.as_deref() == Some(u))
            })
            .filter(|r| {
                filter
                    .organization
                    .as_deref()
                    .is_none_or(|o| r.organization.as_deref() == Some(o))
            })
            .collect();
        out.reverse();
        if let Some(limit) = filter.limit {
            out.truncate(limit);
        }
        Ok(out)
    }
}
