//! Admin consent: the link an admin of the tenant follows to grant the broker's app its
//! Microsoft Graph permission, and the callback that records Entra's answer (Microsoft
//! identity platform admin consent endpoint).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Admin, AdminCtx, AdminError, entra_of, org};
use crate::clock::UnixTime;
use crate::policy::UpstreamKind;
use crate::secret::{digest, random_handle};
use crate::store::{AuditRecord, ConsentState};

/// Where Entra sends the admin back after the consent screen (register
/// `{issuer}/admin/consent/callback` as a redirect URI of the broker's app registration).
pub const CONSENT_CALLBACK_PATH: &str = "/admin/consent/callback";

/// How long a consent link (its `state`) may be used.
pub const CONSENT_LINK_TTL: Duration = Duration::from_secs(3600);

const ONCE_CONSENT: &str = "admin-consent";

/// What the consent `state` remembers.
#[derive(Debug, Serialize, Deserialize)]
struct ConsentLinkState {
    organization: String,
    tenant: String,
    expires_at: UnixTime,
}

/// What Entra sends to the consent callback (Microsoft identity platform admin consent:
/// `admin_consent=True&tenant=…&state=…`, or `error=…&error_description=…&state=…`).
#[derive(Debug, Default, Deserialize)]
pub struct ConsentCallback {
    pub state: Option<String>,
    pub admin_consent: Option<String>,
    pub tenant: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// How a consent callback ended, for the page the admin sees.
#[derive(Debug)]
pub enum ConsentOutcome {
    Granted {
        organization: String,
    },
    /// Entra returned an error (declined, or another failure); recorded on the organisation.
    NotGranted {
        organization: String,
        error: String,
        description: String,
    },
    /// The callback itself is refused (unknown, used or expired state; another tenant).
    Refused(crate::i18n::Msg),
}

impl Admin<'_> {
    /// The admin-consent URL for the organisation's tenant, with a fresh single-use `state`.
    pub async fn consent_link(&self, id: &str, ctx: &AdminCtx) -> Result<String, AdminError> {
        let mut record = self.event("admin.consent.link", ctx);
        record.organization = Some(id.to_owned());
        let policy = self.broker.policy();
        let result = async {
            let org = org(&policy, id)?;
            let (upstream, tenant) = entra_of(&policy, org)?;
            record.upstream = Some(upstream.id.clone());
            let UpstreamKind::Entra { authority, .. } = &upstream.kind else {
                return Err(AdminError::BadRequest("not an Entra organisation".into()));
            };
            let state = random_handle();
            let now = self.broker.now();
            self.broker
                .store
                .put_once(
                    ONCE_CONSENT,
                    &digest(&state),
                    &ConsentLinkState {
                        organization: org.id.clone(),
                        tenant: tenant.to_owned(),
                        expires_at: now + CONSENT_LINK_TTL.as_secs(),
                    },
                    CONSENT_LINK_TTL,
                )
                .await?;
            let mut url = url::Url::parse(&format!(
                "{}/{tenant}/adminconsent",
                authority.as_str().trim_end_matches('/')
            ))
            .map_err(|e| AdminError::BadRequest(format!("the authority is not a URL: {e}")))?;
            url.query_pairs_mut()
                .append_pair("client_id", &upstream.client_id)
                .append_pair("redirect_uri", &policy.issuer.join(CONSENT_CALLBACK_PATH))
                .append_pair("state", &state);
            Ok(url.to_string())
        }
        .await;
        self.audited(record, result)
    }

    /// The public consent callback: takes the `state` once and records what Entra said.
    pub async fn consent_callback(
        &self,
        params: &ConsentCallback,
    ) -> Result<ConsentOutcome, AdminError> {
        let now = self.broker.now();
        let record = AuditRecord::failure("admin.consent.callback", now);
        let Some(state) = params
            .state
            .as_deref()
            .filter(|s| !s.is_empty() && s.len() <= 128)
        else {
            self.broker.audit.record(record.because("no_state"));
            return Ok(ConsentOutcome::Refused(crate::i18n::Msg::new(
                "consent-no-state",
            )));
        };
        let taken: Option<ConsentLinkState> = self
            .broker
            .store
            .take_once(ONCE_CONSENT, &digest(state))
            .await?;
        let Some(link) = taken.filter(|l| l.expires_at > now) else {
            self.broker.audit.record(record.because("unknown_state"));
            return Ok(ConsentOutcome::Refused(crate::i18n::Msg::new(
                "consent-link-gone",
            )));
        };
        let record = record.organization(&link.organization);
        if let Some(error) = params.error.as_deref().filter(|e| !e.is_empty()) {
            let error: String = error.chars().take(100).collect();
            // The AADSTS text is Entra's, shown to the admin: keep its first line only.
            let description: String = params
                .error_description
                .as_deref()
                .unwrap_or_default()
                .lines()
                .next()
                .unwrap_or_default()
                .chars()
                .take(500)
                .collect();
            self.broker
                .store
                .update_org_state(&link.organization, |s| {
                    s.consent = Some(ConsentState {
                        granted: false,
                        at: now,
                        tenant: params.tenant.clone(),
                        error: Some(error.clone()),
                        error_description: Some(description.clone()),
                    });
                })
                .await?;
            self.broker
                .audit
                .record(record.because(format!("entra_error:{error}")));
            return Ok(ConsentOutcome::NotGranted {
                organization: link.organization,
                error,
                description,
            });
        }
        let granted = params
            .admin_consent
            .as_deref()
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let tenant = params.tenant.as_deref().unwrap_or_default().to_lowercase();
        if !granted {
            self.broker.audit.record(record.because("not_granted"));
            return Ok(ConsentOutcome::Refused(crate::i18n::Msg::new(
                "consent-not-reported",
            )));
        }
        if tenant != link.tenant {
            // Consent in another tenant says nothing about this organisation's tenant.
            self.broker.audit.record(
                record
                    .because("wrong_tenant")
                    .detail(format!("tenant {tenant}")),
            );
            return Ok(ConsentOutcome::Refused(crate::i18n::Msg::new(
                "consent-wrong-tenant",
            )));
        }
        self.broker
            .store
            .update_org_state(&link.organization, |s| {
                s.consent = Some(ConsentState {
                    granted: true,
                    at: now,
                    tenant: Some(tenant.clone()),
                    error: None,
                    error_description: None,
                });
            })
            .await?;
        self.broker.audit.record(record.succeeded());
        Ok(ConsentOutcome::Granted {
            organization: link.organization,
        })
    }
}
