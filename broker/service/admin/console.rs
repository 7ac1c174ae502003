//! The admin console's side of the admin use cases: who the person signed in through the
//! broker may administer. Operators (`admin.operators`) may do everything; an organisation's
//! admins (`organizations[].admins`) may see and change that organisation only, and another
//! organisation is answered exactly as one that does not exist ([`AdminError::Forbidden`]),
//! so its id reveals nothing. The console calls the same use cases as the bearer-token API;
//! this file only decides whether it may.

use std::collections::BTreeSet;

use super::audit::AuditQuery;
use super::organizations::OrgView;
use super::users::{PasswordLink, Revoked, UserView};
use super::{Admin, AdminCtx, AdminError};
use crate::service::logout::logout_csrf;
use crate::store::AuditRecord;

/// What a console admin may administer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// An operator: every organisation, and creating new ones.
    Everything,
    /// An organisation admin: these organisations only.
    Organizations(BTreeSet<String>),
}

/// The person using the console, signed in through the broker.
#[derive(Debug, Clone)]
pub struct ConsoleAdmin {
    pub email: String,
    pub user_id: String,
    pub reach: Reach,
    /// The token every console form carries (tied to the session, as the account page's).
    pub csrf: String,
    /// Who they are in audit records and where they call from.
    pub ctx: AdminCtx,
}

impl ConsoleAdmin {
    pub fn is_operator(&self) -> bool {
        self.reach == Reach::Everything
    }

    pub fn may_manage(&self, org: &str) -> bool {
        match &self.reach {
            Reach::Everything => true,
            Reach::Organizations(orgs) => orgs.contains(org),
        }
    }

    /// Refuses an organisation out of reach as if it did not exist.
    pub fn check_org(&self, org: &str) -> Result<(), AdminError> {
        if self.may_manage(org) {
            Ok(())
        } else {
            Err(AdminError::Forbidden)
        }
    }

    /// Refuses a form whose token is not this session's.
    pub fn check_csrf(&self, csrf: &str) -> Result<(), AdminError> {
        if crate::secret::ct_eq(csrf.as_bytes(), self.csrf.as_bytes()) {
            Ok(())
        } else {
            Err(AdminError::Refused(crate::i18n::Msg::new(
                "console-form-expired",
            )))
        }
    }
}

/// An organisation's console admins.
#[derive(Debug, Clone, Default)]
pub struct OrgAdmins {
    /// From the policy file (`organizations[].admins`): read-only here.
    pub file: Vec<String>,
    /// Granted by an operator in the console, kept in the store.
    pub granted: Vec<String>,
}

/// Whether the console may be used at all, for a browser session.
#[derive(Debug)]
pub enum ConsoleAccess {
    /// No live session: sign in first.
    SignIn,
    /// Signed in, but not an administrator (the email is shown, so they know who they are).
    NotAnAdmin(String),
    Admin(Box<ConsoleAdmin>),
}

/// An organisation's console page: the organisation, its users and admins, and what each
/// user has besides a password.
pub struct OrgPage {
    pub view: OrgView,
    pub users: Vec<UserView>,
    pub admins: OrgAdmins,
    pub factors: std::collections::HashMap<String, super::factors::FactorCount>,
}

impl Admin<'_> {
    /// Who is using the console in the browser whose session cookie is `session`.
    pub async fn console_access(
        &self,
        session: Option<&str>,
        ip: Option<String>,
        user_agent: Option<String>,
    ) -> Result<ConsoleAccess, AdminError> {
        let live = self
            .broker
            .sign_in()
            .live_session(session)
            .await
            .map_err(|e| match e {
                // A store outage is a 503 page, not the admin's mistake.
                crate::service::ServiceError::Store(e) => AdminError::Store(e),
                other => AdminError::BadRequest(other.to_string()),
            })?;
        let Some((_, user)) = live else {
            return Ok(ConsoleAccess::SignIn);
        };
        let policy = self.broker.policy();
        let reach = if policy.admin.operators.contains(&user.email) {
            Reach::Everything
        } else {
            let granted = self.broker.store.granted_orgs_of(&user.email).await?;
            let orgs: BTreeSet<String> = policy
                .organizations
                .iter()
                .filter(|o| o.admins.contains(&user.email) || granted.contains(&o.id))
                .map(|o| o.id.clone())
                .collect();
            if orgs.is_empty() {
                return Ok(ConsoleAccess::NotAnAdmin(user.email));
            }
            Reach::Organizations(orgs)
        };
        Ok(ConsoleAccess::Admin(Box::new(ConsoleAdmin {
            csrf: logout_csrf(session.unwrap_or_default()),
            ctx: AdminCtx {
                ip,
                user_agent,
                actor: Some(user.email.clone()),
            },
            email: user.email,
            user_id: user.id,
            reach,
        })))
    }

    /// The organisations `admin` may administer, each with how many directory users it has.
    pub async fn console_organizations(
        &self,
        admin: &ConsoleAdmin,
    ) -> Result<Vec<(OrgView, usize)>, AdminError> {
        let all = self.organizations(&admin.ctx).await?;
        let mut users: std::collections::HashMap<String, usize> = Default::default();
        for u in self.broker.store.list_users().await? {
            if let Some(org) = u.organization {
                *users.entry(org).or_default() += 1;
            }
        }
        Ok(all
            .into_iter()
            .filter(|o| admin.may_manage(&o.id))
            .map(|o| {
                let n = users.get(&o.id).copied().unwrap_or(0);
                (o, n)
            })
            .collect())
    }

    /// One organisation and its users, if `admin` may administer it.
    pub async fn console_organization(
        &self,
        admin: &ConsoleAdmin,
        org: &str,
    ) -> Result<OrgPage, AdminError> {
        admin.check_org(org)?;
        let view = self.organization(org, &admin.ctx).await?;
        let users = self.users(Some(org), &admin.ctx).await?;
        let admins = self.org_admins(org).await?;
        let factors = self.factor_counts(&users).await?;
        Ok(OrgPage {
            view,
            users,
            admins,
            factors,
        })
    }

    /// Removes a user's one-time codes, if the user belongs to an organisation `admin` may
    /// administer.
    pub async fn console_remove_totp(
        &self,
        admin: &ConsoleAdmin,
        user: &str,
    ) -> Result<(), AdminError> {
        self.console_check_user(admin, user).await?;
        self.remove_totp(user, &admin.ctx).await
    }

    /// Removes a user's passkeys, if the user belongs to an organisation `admin` may
    /// administer.
    pub async fn console_remove_passkeys(
        &self,
        admin: &ConsoleAdmin,
        user: &str,
    ) -> Result<(), AdminError> {
        self.console_check_user(admin, user).await?;
        self.remove_all_passkeys(user, &admin.ctx).await
    }

    /// Switches a user's SSO, if the user belongs to an organisation `admin` may administer.
    pub async fn console_set_sso(
        &self,
        admin: &ConsoleAdmin,
        user: &str,
        enabled: bool,
    ) -> Result<UserView, AdminError> {
        self.console_check_user(admin, user).await?;
        self.set_sso(user, enabled, &admin.ctx).await
    }

    /// Disables or enables a user, if the user belongs to an organisation `admin` may
    /// administer.
    pub async fn console_set_disabled(
        &self,
        admin: &ConsoleAdmin,
        user: &str,
        disabled: bool,
    ) -> Result<UserView, AdminError> {
        self.console_check_user(admin, user).await?;
        self.disable(user, disabled, &admin.ctx).await
    }

    /// The organisation's console admins: those of the policy file, and those granted here.
    pub async fn org_admins(&self, org: &str) -> Result<OrgAdmins, AdminError> {
        let policy = self.broker.policy();
        let file = super::org(&policy, org)?.admins.clone();
        let granted = self.broker.store.granted_org_admins(org).await?;
        Ok(OrgAdmins { file, granted })
    }

    /// Grants (or removes) `email` as a console admin of `org`. Operators only; the file's
    /// admins are changed in the file.
    pub async fn console_set_org_admin(
        &self,
        admin: &ConsoleAdmin,
        org: &str,
        email: &str,
        granted: bool,
    ) -> Result<(), AdminError> {
        let event = if granted {
            "admin.organizations.admin_grant"
        } else {
            "admin.organizations.admin_remove"
        };
        let mut record = self.event(event, &admin.ctx);
        record.organization = Some(org.to_owned());
        let result = async {
            if !admin.is_operator() {
                return Err(AdminError::Forbidden);
            }
            let policy = self.broker.policy();
            let file_admins = &super::org(&policy, org)?.admins;
            let email = crate::policy::email_address(email).map_err(|why| {
                AdminError::BadRequest(format!("{email:?} cannot be an admin: {why}"))
            })?;
            record.detail = Some(email.clone());
            if file_admins.contains(&email) {
                return Err(AdminError::Conflict(format!(
                    "{email} is an admin of {org} in the policy file; change it there"
                )));
            }
            self.broker
                .store
                .set_org_admin(org, &email, granted)
                .await?;
            Ok(())
        }
        .await;
        self.audited(record, result)
    }

    /// The stored settings of runtime organisation `org`, for an operator to change them.
    pub fn console_runtime_spec(
        &self,
        admin: &ConsoleAdmin,
        org: &str,
    ) -> Result<crate::directory::OrganizationSpec, AdminError> {
        if !admin.is_operator() {
            return Err(AdminError::Forbidden);
        }
        match self.broker.runtime_organization(org) {
            Some(r) => Ok(r.spec),
            None => Err(AdminError::NotFound(format!(
                "no organization {org} was created here; one of the policy file changes in \
                 the file"
            ))),
        }
    }

    /// A single-use link for a user to set their password, if the user belongs to an
    /// organisation `admin` may administer.
    pub async fn console_password_link(
        &self,
        admin: &ConsoleAdmin,
        user: &str,
    ) -> Result<PasswordLink, AdminError> {
        self.console_check_user(admin, user).await?;
        self.password_link(user, None, &admin.ctx).await
    }

    /// Ends a user's sessions and refresh tokens everywhere, if the user belongs to an
    /// organisation `admin` may administer.
    pub async fn console_revoke(
        &self,
        admin: &ConsoleAdmin,
        user: &str,
    ) -> Result<Revoked, AdminError> {
        self.console_check_user(admin, user).await?;
        self.revoke(user, &admin.ctx).await
    }

    /// The audit trail as `admin` may read it: an organisation admin only the records of
    /// their organisations. `event` keeps the records whose event starts with it.
    pub async fn console_audit(
        &self,
        admin: &ConsoleAdmin,
        query: &AuditQuery,
        event: Option<&str>,
    ) -> Result<Vec<AuditRecord>, AdminError> {
        let organization = query.organization.as_deref().filter(|o| !o.is_empty());
        let orgs: Vec<Option<String>> = match (&admin.reach, organization) {
            (Reach::Everything, org) => vec![org.map(str::to_owned)],
            (Reach::Organizations(mine), Some(org)) => {
                admin.check_org(org)?;
                debug_assert!(mine.contains(org));
                vec![Some(org.to_owned())]
            }
            (Reach::Organizations(mine), None) => mine.iter().cloned().map(Some).collect(),
        };
        let mut out = Vec::new();
        for org in orgs {
            let q = AuditQuery {
                organization: org,
                user: query.user.clone(),
                since: query.since,
                limit: query.limit,
            };
            out.extend(self.audit(&q, &admin.ctx).await?);
        }
        if let Some(event) = event.map(str::trim).filter(|e| !e.is_empty()) {
            out.retain(|r| r.event.starts_with(event));
        }
        // Newest first, as the store lists them; merged lists are sorted again.
        out.sort_by(|a, b| b.id.cmp(&a.id));
        out.truncate(query.limit.unwrap_or(super::audit::AUDIT_DEFAULT_LIMIT));
        Ok(out)
    }

    /// A user of no organisation, or of one out of reach, is for operators only.
    async fn console_check_user(&self, admin: &ConsoleAdmin, user: &str) -> Result<(), AdminError> {
        if admin.is_operator() {
            return Ok(());
        }
        // Looked up without an audit record of its own: the action that follows is audited.
        let found = match self.resolve_user(user).await {
            Ok(u) => u,
            Err(AdminError::Store(e)) => return Err(AdminError::Store(e)),
            Err(_) => return Err(AdminError::Forbidden),
        };
        match found.organization.as_deref() {
            Some(org) if admin.may_manage(org) => Ok(()),
            _ => Err(AdminError::Forbidden),
        }
    }
}
