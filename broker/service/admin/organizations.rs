//! The organisations with their tenant's connection state, and the organisations created
//! at run time (checked by the policy file's own rules, see [`crate::policy::runtime`]).

use serde::Serialize;

use super::{Admin, AdminCtx, AdminError, org};
use crate::directory::entra_guid;
use crate::policy::runtime::check;
use crate::policy::{OrgOrigin, Organization, UpstreamKind};
use crate::store::{OrgState, OrgWrite, OrganizationSpec, RuntimeOrganization};

/// An organisation as the admin API shows it.
#[derive(Debug, Serialize)]
pub struct OrgView {
    pub id: String,
    /// `policy_file` (read-only here) or `runtime`.
    pub origin: &'static str,
    /// False for a runtime organisation the policy file overrides; see `out_of_force`.
    pub in_force: bool,
    /// Why a runtime organisation is not in force (the file defines its id, a domain or its
    /// tenant).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub out_of_force: Option<String>,
    /// A runtime organisation as it was written (what `export-organizations` prints).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spec: Option<OrganizationSpec>,
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
            // Runtime organisations that the policy file overrides: listed, with why.
            let (runtime, out_of_force) = self.broker.runtime_organizations();
            for r in runtime.iter() {
                if let Some(why) = out_of_force.get(&r.spec.id) {
                    out.push(self.shadowed_view(r, why).await?);
                }
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

    /// Creates an organisation at run time. `spec.tenant_id` may name the tenant by one of
    /// its verified domains; it is stored as the tenant id.
    pub async fn create_organization(
        &self,
        spec: OrganizationSpec,
        ctx: &AdminCtx,
    ) -> Result<OrgView, AdminError> {
        let mut record = self.event("admin.organizations.create", ctx);
        record.organization = Some(spec.id.clone());
        let result = async {
            let spec = self.resolve_tenant(spec).await?;
            let policy = self.broker.policy();
            if self.broker.runtime_organizations().1.contains_key(&spec.id) {
                return Err(AdminError::Conflict(format!(
                    "organization {:?} already exists (created at run time)",
                    spec.id
                )));
            }
            check(&policy, &spec, None).map_err(AdminError::Invalid)?;
            let now = self.broker.now();
            let stored = RuntimeOrganization {
                spec,
                created_at: now,
                created_by: ctx.who(),
                updated_at: now,
                updated_by: ctx.who(),
            };
            match self
                .broker
                .store
                .create_runtime_organization(&stored)
                .await?
            {
                OrgWrite::Done => {}
                OrgWrite::Conflict => {
                    return Err(AdminError::Conflict(format!(
                        "organization {:?} already exists (created at run time)",
                        stored.spec.id
                    )));
                }
            }
            self.in_force_view(&stored.spec.id).await
        }
        .await;
        self.audited(record, result)
    }

    /// Replaces a runtime organisation's settings (its id stays).
    pub async fn replace_organization(
        &self,
        id: &str,
        spec: OrganizationSpec,
        ctx: &AdminCtx,
    ) -> Result<OrgView, AdminError> {
        let mut record = self.event("admin.organizations.replace", ctx);
        record.organization = Some(id.to_owned());
        let result = async {
            if spec.id != id {
                return Err(AdminError::BadRequest(
                    "the id of an organization cannot change; create another one".into(),
                ));
            }
            let existing = self.runtime_record(id)?;
            let spec = self.resolve_tenant(spec).await?;
            check(&self.broker.policy(), &spec, Some(id)).map_err(AdminError::Invalid)?;
            let stored = RuntimeOrganization {
                spec,
                updated_at: self.broker.now(),
                updated_by: ctx.who(),
                ..existing
            };
            match self
                .broker
                .store
                .replace_runtime_organization(&stored)
                .await?
            {
                OrgWrite::Done => self.in_force_view(id).await,
                OrgWrite::Conflict => Err(AdminError::NotFound(format!("no organization {id}"))),
            }
        }
        .await;
        self.audited(record, result)
    }

    /// Deletes a runtime organisation. Its users stay in the directory; without their
    /// organisation they sign in with a password if they have one (SPEC, step 3).
    pub async fn delete_organization(&self, id: &str, ctx: &AdminCtx) -> Result<(), AdminError> {
        let mut record = self.event("admin.organizations.delete", ctx);
        record.organization = Some(id.to_owned());
        let result = async {
            self.runtime_record(id)?;
            match self.broker.store.delete_runtime_organization(id).await? {
                OrgWrite::Done => {
                    self.broker.reload_runtime_organizations().await?;
                    Ok(())
                }
                OrgWrite::Conflict => Err(AdminError::NotFound(format!("no organization {id}"))),
            }
        }
        .await;
        self.audited(record, result)
    }

    /// The stored record of runtime organisation `id`; a file organisation cannot be
    /// changed here.
    fn runtime_record(&self, id: &str) -> Result<RuntimeOrganization, AdminError> {
        if let Some(r) = self.broker.runtime_organization(id) {
            return Ok(r);
        }
        let policy = self.broker.policy();
        match policy.org_by_id.get(id) {
            Some(o) if o.origin == OrgOrigin::PolicyFile => Err(AdminError::Conflict(format!(
                "organization {id} is defined in the policy file; change it there"
            ))),
            _ => Err(AdminError::NotFound(format!("no organization {id}"))),
        }
    }

    /// Reads the runtime organisations again (this change is in them) and shows `id`.
    async fn in_force_view(&self, id: &str) -> Result<OrgView, AdminError> {
        self.broker.reload_runtime_organizations().await?;
        let policy = self.broker.policy();
        match policy.org_by_id.get(id) {
            Some(org) if org.origin == OrgOrigin::Runtime => self.org_view(org).await,
            _ => {
                let (_, out_of_force) = self.broker.runtime_organizations();
                let r = self.broker.runtime_organization(id);
                match (r, out_of_force.get(id)) {
                    (Some(r), Some(why)) => self.shadowed_view(&r, why).await,
                    _ => Err(AdminError::NotFound(format!("no organization {id}"))),
                }
            }
        }
    }

    /// A tenant given as a domain (`contoso.com`) becomes the tenant's id, read from the
    /// Entra upstream's discovery document for that domain.
    async fn resolve_tenant(
        &self,
        mut spec: OrganizationSpec,
    ) -> Result<OrganizationSpec, AdminError> {
        let Some(tenant) = spec.tenant_id.as_deref().map(str::trim) else {
            return Ok(spec);
        };
        if entra_guid(tenant).is_some() {
            return Ok(spec);
        }
        let policy = self.broker.policy();
        let upstream = spec.upstream.as_deref().and_then(|u| policy.upstream(u));
        let Some(upstream) = upstream.filter(|u| matches!(u.kind, UpstreamKind::Entra { .. }))
        else {
            // Not an Entra upstream: the rules say what is wrong.
            return Ok(spec);
        };
        let domain = crate::policy::email_domain(tenant).map_err(|why| {
            AdminError::Invalid(vec![format!(
                "organization.tenant_id: {tenant:?} is neither a tenant id nor a domain: {why}"
            )])
        })?;
        let tid = crate::upstream::provider::entra_tenant_of_domain(upstream, &domain)
            .await
            .map_err(|e| {
                AdminError::Invalid(vec![format!(
                    "organization.tenant_id: the tenant of domain {domain:?} could not be found \
                     at {}: {e}",
                    upstream.id
                )])
            })?;
        spec.tenant_id = Some(tid);
        Ok(spec)
    }

    async fn shadowed_view(
        &self,
        r: &RuntimeOrganization,
        why: &str,
    ) -> Result<OrgView, AdminError> {
        let state = self.broker.store.org_state(&r.spec.id).await?;
        Ok(OrgView {
            id: r.spec.id.clone(),
            origin: OrgOrigin::Runtime.as_str(),
            in_force: false,
            out_of_force: Some(why.to_owned()),
            spec: Some(r.spec.clone()),
            domains: r.spec.domains.clone(),
            upstream: r.spec.upstream.clone(),
            tenant_id: r.spec.tenant_id.clone(),
            sso: "off",
            password_fallback: r.spec.password_fallback.unwrap_or(false),
            jit: false,
            sync_interval_secs: None,
            consent_granted: state.consent.as_ref().is_some_and(|c| c.granted),
            state,
        })
    }

    /// A runtime organisation's spec as stored (as it was written, the tenant resolved).
    fn stored_spec(&self, org: &Organization) -> Option<OrganizationSpec> {
        if org.origin != OrgOrigin::Runtime {
            return None;
        }
        self.broker.runtime_organization(&org.id).map(|r| r.spec)
    }

    async fn org_view(&self, org: &Organization) -> Result<OrgView, AdminError> {
        let state = self.broker.store.org_state(&org.id).await?;
        Ok(OrgView {
            id: org.id.clone(),
            origin: org.origin.as_str(),
            in_force: true,
            out_of_force: None,
            spec: self.stored_spec(org),
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
