//! The admin surface (SPEC "Entra tenant connection and user sync"), one use case a file:
//! the organisations and their connection state ([`organizations`]), the admin-consent link
//! and its callback ([`consent`]), fetching a tenant's users from Microsoft Graph and
//! importing the selected ones ([`import`]), the directory's users ([`users`]), re-sync with
//! the tenant ([`sync`]) and reading the audit trail ([`audit`]).
//!
//! Every call is audited: a refused token as `admin.auth`, everything else under its own
//! `admin.*` event, success or failure. [`Admin`] is the handle the HTTP layer calls.

pub mod audit;
pub mod backup;
pub mod consent;
pub mod console;
pub mod factors;
pub mod import;
pub mod organizations;
pub mod sync;
pub mod users;

use super::Broker;
use crate::policy::{Organization, Policy, Upstream, UpstreamKind};
use crate::secret::{ct_eq, sha256};
use crate::store::{AuditRecord, StoreError, UpstreamLink};
use crate::upstream::graph::GraphError;

/// The admin use cases, borrowed from the broker: `broker.admin().users(…)`.
#[derive(Clone, Copy)]
pub struct Admin<'a> {
    broker: &'a Broker,
}

impl<'a> Admin<'a> {
    pub(in crate::service) fn new(broker: &'a Broker) -> Admin<'a> {
        Admin { broker }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The policy has no `admin` section: the API does not exist.
    #[error("the admin API is turned off")]
    Disabled,
    #[error("a valid admin bearer token is required")]
    Unauthorized,
    #[error("{0}")]
    NotFound(String),
    /// A console admin asked for an organisation (or its user) out of their reach; answered
    /// as an unknown one would be, so it reveals nothing.
    #[error("you may not administer this, or it does not exist")]
    Forbidden,
    #[error("{0}")]
    BadRequest(String),
    /// A refusal a user reads on a page (a password-set link's), in their language.
    #[error("{0}")]
    Refused(crate::i18n::Msg),
    #[error("{0}")]
    Conflict(String),
    /// An organisation the policy's rules refuse: every problem, each naming its field.
    #[error("{}", .0.join("; "))]
    Invalid(Vec<String>),
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
            AdminError::Forbidden => "forbidden".into(),
            AdminError::BadRequest(_) | AdminError::Refused(_) => "bad_request".into(),
            AdminError::Conflict(_) => "conflict".into(),
            AdminError::Invalid(_) => "invalid_organization".into(),
            AdminError::Graph(g) => g.code().into(),
            AdminError::Store(_) => "store_unavailable".into(),
            AdminError::Password(crate::password::PasswordError::Busy) => "password_busy".into(),
            AdminError::Password(_) => "password_pool".into(),
            AdminError::RateLimited(_) => "rate_limited".into(),
        }
    }
}

/// Who is calling: through the admin API (one shared token, so: from where), or a console
/// admin signed in through the broker.
#[derive(Debug, Clone, Default)]
pub struct AdminCtx {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// Who it is when not the bearer-token API: the console admin's email, or the
    /// scheduler.
    pub actor: Option<String>,
}

impl AdminCtx {
    /// Who made a change, as records of it name them.
    pub fn who(&self) -> String {
        self.actor
            .clone()
            .unwrap_or_else(|| "admin API token".to_owned())
    }
}

impl Admin<'_> {
    /// Checks the admin bearer token in constant time. A refusal is audited, up to
    /// `rate_limits.admin_auth_failures_per_ip` per client IP per window; the refusals
    /// beyond are answered `429` and only counted (`idbroker_rate_limited_total`), so
    /// unauthenticated traffic cannot fill the audit trail. The right token is never refused
    /// for its address's refusals: guessing it is hopeless, and an admin behind the same
    /// NAT as an attacker keeps working.
    pub async fn authenticate(
        &self,
        token: Option<&str>,
        ctx: &AdminCtx,
        what: &str,
    ) -> Result<(), AdminError> {
        let policy = self.broker.policy();
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
            .broker
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
        let reason = if token.is_some() {
            "bad_token"
        } else {
            "no_token"
        };
        let record = self
            .event("admin.auth", ctx)
            .because(reason)
            .detail(what.chars().take(200).collect::<String>());
        self.broker.audit.record(record);
        Err(AdminError::Unauthorized)
    }

    /// An audit record of an admin action (outcome `success` until told otherwise).
    pub(crate) fn event(&self, event: &str, ctx: &AdminCtx) -> AuditRecord {
        AuditRecord::success(event, self.broker.now())
            .request(ctx.ip.as_deref(), ctx.user_agent.as_deref())
            .actor(ctx.who())
    }

    /// Records `record` with the outcome of `result`, and passes `result` on.
    pub(crate) fn audited<T>(
        &self,
        record: AuditRecord,
        result: Result<T, AdminError>,
    ) -> Result<T, AdminError> {
        let record = match &result {
            Ok(_) => record,
            Err(e) => record.because(e.reason()),
        };
        self.broker.audit.record(record);
        result
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
