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
use crate::service::Broker;
use crate::service::account::{ACCOUNT_SIGN_IN_SECS, Landing};
use crate::store::Session;

pub async fn page(
    State(broker): State<Arc<Broker>>,
    Browser(ctx): Browser,
    jar: CookieJar,
) -> Result<Response, PageError> {
    let Some(view) = broker.sign_in().account(ctx.session.as_deref()).await? else {
        return Ok(start_sign_in(&broker, jar, Landing::Account));
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

/// Sends the browser through `/authorize` as the account client, back to `landing`'s
/// callback, remembering what the callback needs in a short-lived cookie. The admin console
/// signs in the same way.
pub(super) fn start_sign_in(broker: &Broker, jar: CookieJar, landing: Landing) -> Response {
    let Ok(start) = broker.sign_in().first_party_sign_in(landing) else {
        return pages::message(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Sign-in unavailable",
            "The issuer URL is not valid.",
            true,
        );
    };
    let names = Names::for_issuer(&broker.policy().issuer);
    let jar = jar.add(names.build(names.account, start.flow, Some(ACCOUNT_SIGN_IN_SECS)));
    (jar, Redirect::to(&start.location)).into_response()
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
    first_party_callback(&broker, jar, q, Landing::Account).await
}

/// The callback of a first-party sign-in: checks the flow cookie's `state`, redeems the code
/// as any client would, and lands on `landing`'s page.
pub(super) async fn first_party_callback(
    broker: &Broker,
    jar: CookieJar,
    q: CallbackQuery,
    landing: Landing,
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
    broker
        .sign_in()
        .first_party_callback(
            landing,
            flow.as_deref(),
            q.state.as_deref(),
            q.code.as_deref(),
        )
        .await?;
    let page = match landing {
        Landing::Account => "/account",
        Landing::Admin => "/admin",
    };
    Ok((jar, Redirect::to(page)).into_response())
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
            .sign_in()
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
