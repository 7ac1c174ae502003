//! The whole store as an export (see [`crate::store::backup`]), for a backup of a running
//! broker: on the embedded engine a snapshot (one read transaction), written meanwhile or not.

use super::{Admin, AdminCtx, AdminError};

impl Admin<'_> {
    /// The export's text: JSON lines. It holds password hashes, token digests and the audit
    /// trail: keep it as the store itself is kept.
    pub async fn export_store(&self, ctx: &AdminCtx) -> Result<String, AdminError> {
        let mut record = self.event("admin.store.export", ctx);
        let result = self.broker.store.export(self.broker.now()).await;
        if let Ok(text) = &result {
            record.detail = Some(format!(
                "{} entries",
                text.lines().count().saturating_sub(1)
            ));
        }
        self.audited(record, result.map_err(AdminError::from))
    }
}
