//! `/account`: the built-in account page, a first-party client of the broker. It signs in
//! through `/authorize` with PKCE like any application, then shows the session.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::cookies::Names;
use super::error::PageError;
use super::extract::{Browser, PageForm, PageQuery};
use super::pages::{self, AccountPage, SessionLine, format_time};
use crate::op::pkce;
use crate::policy::ACCOUNT_CLIENT_ID;
use crate::secret::{ct_eq, random_handle};
use crate::service::{Broker, ServiceError};
use crate::store::Session;

pub async fn page(
    State(broker): State<Arc<Broker>>,
    Browser(ctx): Browser,
    jar: CookieJar,
) -> Result<Response, PageError> {
    let Some(view) = broker.account(ctx.session.as_deref()).await? else {
        return Ok(start_sign_in(&broker, jar));
    };
    let policy = broker.policy();
    let method = |s: &Session| match &s.auth.idp {
        // The upstream's display name ("Microsoft"), or its id if it left the policy.
        Some(idp) => format!(
            "Single sign-on ({})",
            policy
                .upstream(idp)
                .map_or(idp.as_str(), |u| u.display_name.as_str())
        ),
        None => "Password".to_owned(),
    };
    let sessions = view
        .sessions
        .iter()
        .map(|(s, current)| SessionLine {
            method: method(s),
            since: format_time(s.auth.auth_time),
            user_agent: s.user_agent.clone(),
            current: *current,
        })
        .collect();
    Ok(pages::render(
        StatusCode::OK,
        &AccountPage {
            name: &view.user.name,
            email: &view.user.email,
            organization: view.user.organization.as_deref(),
            method: method(&view.current),
            signed_in_at: format_time(view.current.auth.auth_time),
            user_id: &view.user.id,
            sessions,
            csrf: &view.csrf,
        },
    ))
}

/// Sends the browser through `/authorize` as the account client, remembering `state` and
/// the PKCE verifier in a short-lived cookie.
fn start_sign_in(broker: &Broker, jar: CookieJar) -> Response {
    let policy = broker.policy();
    let names = Names::for_issuer(&policy.issuer);
    let state = random_handle();
    let verifier = random_handle();
    let mut url = match url::Url::parse(&policy.issuer.join("/authorize")) {
        Ok(u) => u,
        Err(_) => {
            return pages::message(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Account page unavailable",
                "The issuer URL is not valid.",
                true,
            );
        }
    };
    url.query_pairs_mut()
        .append_pair("client_id", ACCOUNT_CLIENT_ID)
        .append_pair("redirect_uri", &policy.issuer.join("/account/callback"))
        .append_pair("response_type", "code")
        .append_pair("scope", "openid email profile")
        .append_pair("state", &state)
        .append_pair("code_challenge", &pkce::s256_challenge(&verifier))
        .append_pair("code_challenge_method", "S256");
    let jar = jar.add(names.build(names.account, format!("{state}.{verifier}"), Some(900)));
    // Relative, so the browser stays on the origin it used (a proxy may front the issuer).
    let target = format!("/authorize?{}", url.query().unwrap_or_default());
    (jar, Redirect::to(&target)).into_response()
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

pub async fn callback(
    State(broker): State<Arc<Broker>>,
    jar: CookieJar,
    PageQuery(q): PageQuery<CallbackQuery>,
) -> Result<Response, PageError> {
    let names = Names::for_issuer(&broker.policy().issuer);
    let flow = jar.get(names.account).map(|c| c.value().to_owned());
    let jar = jar.add(names.removal(names.account));
    if let Some(error) = q.error {
        return Ok((
            jar,
            pages::message(
                StatusCode::BAD_REQUEST,
                "Sign-in did not complete",
                &format!(
                    "The sign-in ended with: {}",
                    crate::op::scope::sanitize(&error)
                ),
                true,
            ),
        )
            .into_response());
    }
    let restart = || {
        PageError(ServiceError::Restart(
            "The sign-in expired. Open your account page again.".into(),
        ))
    };
    let (state, verifier) = flow
        .as_deref()
        .and_then(|f| f.split_once('.'))
        .ok_or_else(restart)?;
    let given_state = q.state.as_deref().unwrap_or_default();
    if !ct_eq(state.as_bytes(), given_state.as_bytes()) {
        return Err(restart());
    }
    let code = q.code.ok_or_else(restart)?;
    broker.account_callback(&code, verifier).await?;
    Ok((jar, Redirect::to("/account")).into_response())
}

#[derive(Deserialize)]
pub struct SignOutForm {
    csrf: String,
    scope: Option<String>,
}

pub async fn sign_out(
    State(broker): State<Arc<Broker>>,
    Browser(ctx): Browser,
    jar: CookieJar,
    PageForm(f): PageForm<SignOutForm>,
) -> Result<Response, PageError> {
    let names = Names::for_issuer(&broker.policy().issuer);
    if let Some(session) = ctx.session.as_deref() {
        let everywhere = f.scope.as_deref() == Some("everywhere");
        broker
            .account_sign_out(session, &f.csrf, everywhere)
            .await?;
    }
    Ok((
        jar.add(names.removal(names.session)),
        pages::message_with_link(
            StatusCode::OK,
            "You are signed out",
            "You have been signed out of idbroker.",
            ("/account", "Sign in again"),
        ),
    )
        .into_response())
}
