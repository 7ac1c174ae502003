//! The organisations of the policy with their tenant's connection state.

use serde::Serialize;

use super::{Admin, AdminCtx, AdminError, org};
use crate::policy::Organization;
use crate::store::OrgState;

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

impl Admin<'_> {
    pub async fn organizations(&self, ctx: &AdminCtx) -> Result<Vec<OrgView>, AdminError> {
        let record = self.event("admin.organizations.list", ctx);
        let policy = self.broker.policy();
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

    pub async fn organization(&self, id: &str, ctx: &AdminCtx) -> Result<OrgView, AdminError> {
        let mut record = self.event("admin.organizations.get", ctx);
        record.organization = Some(id.to_owned());
        let policy = self.broker.policy();
        let result = async {
            let org = org(&policy, id)?;
            self.org_view(org).await
        }
        .await;
        self.audited(record, result)
    }

    async fn org_view(&self, org: &Organization) -> Result<OrgView, AdminError> {
        let state = self.broker.store.org_state(&org.id).await?;
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
}
