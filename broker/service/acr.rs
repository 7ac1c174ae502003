//! The `acr` of a grant (OIDC Core §2, §3.1.2.1, §5.5.1.1): what a code or token asserts, or
//! why the client gets none. The rules are `crate::acr`'s; this applies them with the
//! client's settings in force.

use url::Url;

use super::Broker;
use super::authorize::CodeRequest;
use crate::acr::{self, Decision};
use crate::directory::Authentication;
use crate::op::claims::AuthContext;
use crate::op::{ErrorCode, OpError};
use crate::policy::Policy;
use crate::store::{AuditRecord, User};

impl Broker {
    /// The decision for a grant of `client_id` from a sign-in `auth`, with the request's
    /// `requested` values (if any) and the client's `default_acr_values` and
    /// `required_acr_values`. A client a reload removed asks for nothing.
    pub(super) fn acr_decision(
        &self,
        policy: &Policy,
        client_id: &str,
        auth: &Authentication,
        requested: &[String],
    ) -> Decision {
        match policy.client(client_id) {
            Some(c) => acr::decide(auth, requested, &c.acr.default, &c.acr.required),
            None => acr::decide(auth, requested, &[], &[]),
        }
    }

    /// The sign-in a code is issued from, with the class it asserts to the client; `Err`
    /// with the redirect to send instead when the client requires a class this sign-in did
    /// not achieve (OIDC Core §5.5.1.1: "treat that outcome as a failed authentication
    /// attempt"; the error code of OpenID Connect Core Error Code
    /// unmet_authentication_requirements 1.0 §2). The broker has no other sign-in to offer
    /// the user (home realm discovery chose it), so it does not ask again.
    pub(super) fn code_authentication(
        &self,
        policy: &Policy,
        req: &CodeRequest,
        redirect_uri: &Url,
        auth: &Authentication,
        user: &User,
    ) -> Result<Authentication, Url> {
        let mut auth = auth.clone();
        let client_id = &req.request.client_id;
        match self.acr_decision(policy, client_id, &auth, &req.request.acr_values) {
            Decision::Unasked => {}
            Decision::Assert(value) => auth.acr = Some(value.to_owned()),
            Decision::Unmet => {
                let mut ev = AuditRecord::failure("authorize", self.now())
                    .because("acr_unmet")
                    .user(&user.id)
                    .client(client_id);
                ev.organization = user.organization.clone();
                self.audit.record(ev);
                let error = OpError::new(
                    ErrorCode::UnmetAuthenticationRequirements,
                    "this application requires another way of signing in than the one used",
                );
                return Err(self.sign_in().error_redirect(
                    redirect_uri,
                    req.state.as_deref(),
                    &error,
                ));
            }
        }
        Ok(auth)
    }

    /// The context tokens are minted with: its `acr` decided again under the client's
    /// settings in force (a code's or refresh family's class is asked for again; device and
    /// token-exchange grants have only the client's). A grant whose sign-in no longer meets
    /// the client's `required_acr_values` gets no tokens.
    pub(super) fn with_acr(
        &self,
        policy: &Policy,
        client_id: &str,
        ctx: &AuthContext,
    ) -> Result<AuthContext, OpError> {
        let asked: Vec<String> = ctx.auth.acr.iter().cloned().collect();
        let mut ctx = ctx.clone();
        ctx.auth.acr = match self.acr_decision(policy, client_id, &ctx.auth, &asked) {
            Decision::Unasked => None,
            Decision::Assert(value) => Some(value.to_owned()),
            Decision::Unmet => {
                return Err(OpError::invalid_grant(
                    "this sign-in does not meet the application's required authentication \
                     (required_acr_values)",
                ));
            }
        };
        Ok(ctx)
    }
}
