//! `/authorize` (RFC 6749 §4.1.1, OIDC Core §3.1.2): GET with a query, or POST with a form.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::cookies::Names;
use super::error::PageError;
use super::extract::{Browser, PageQuery, PageResourceForm, resources};
use super::pages;
use crate::op::authorize::AuthorizeParams;
use crate::service::Broker;
use crate::service::authorize::AuthorizeOutcome;

#[derive(Debug, Deserialize, Default)]
pub struct AuthorizeQuery {
    client_id: Option<String>,
    redirect_uri: Option<String>,
    response_type: Option<String>,
    response_mode: Option<String>,
    scope: Option<String>,
    state: Option<String>,
    nonce: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    prompt: Option<String>,
    max_age: Option<String>,
    login_hint: Option<String>,
    request: Option<String>,
    request_uri: Option<String>,
    acr_values: Option<String>,
    ui_locales: Option<String>,
    domain_hint: Option<String>,
}

/// The query or form, with its `resource` values (RFC 8707 §2; see [`resources`]).
impl From<(AuthorizeQuery, Vec<String>)> for AuthorizeParams {
    fn from((q, resource): (AuthorizeQuery, Vec<String>)) -> Self {
        AuthorizeParams {
            client_id: q.client_id,
            redirect_uri: q.redirect_uri,
            response_type: q.response_type,
            response_mode: q.response_mode,
            scope: q.scope,
            state: q.state,
            nonce: q.nonce,
            code_challenge: q.code_challenge,
            code_challenge_method: q.code_challenge_method,
            prompt: q.prompt,
            max_age: q.max_age,
            login_hint: q.login_hint,
            request: q.request,
            request_uri: q.request_uri,
            resource,
            acr_values: q.acr_values,
            ui_locales: q.ui_locales,
            domain_hint: q.domain_hint,
        }
    }
}

pub async fn get(
    State(broker): State<Arc<Broker>>,
    Browser(ctx): Browser,
    jar: CookieJar,
    PageQuery(q): PageQuery<AuthorizeQuery>,
    RawQuery(raw): RawQuery,
) -> Result<Response, PageError> {
    let found = resources(raw.unwrap_or_default().as_bytes());
    handle(broker, ctx, jar, AuthorizeParams::from((q, found))).await
}

/// OIDC Core §3.1.2.1: the authorization endpoint MUST support POST as well.
pub async fn post(
    State(broker): State<Arc<Broker>>,
    Browser(ctx): Browser,
    jar: CookieJar,
    PageResourceForm(q, found): PageResourceForm<AuthorizeQuery>,
) -> Result<Response, PageError> {
    handle(broker, ctx, jar, AuthorizeParams::from((q, found))).await
}

async fn handle(
    broker: Arc<Broker>,
    ctx: crate::service::authorize::BrowserContext,
    jar: CookieJar,
    params: AuthorizeParams,
) -> Result<Response, PageError> {
    match broker.sign_in().authorize(&params, &ctx).await? {
        AuthorizeOutcome::Redirect(url) => Ok(Redirect::to(url.as_str()).into_response()),
        AuthorizeOutcome::Page(msg) => Ok(pages::message(
            StatusCode::BAD_REQUEST,
            "error-invalid-request-title",
            msg,
            true,
        )),
        AuthorizeOutcome::Login { tx, new_browser } => {
            let names = Names::for_issuer(&broker.policy().issuer);
            let jar = match new_browser {
                // A year: the binding carries no identity, it only ties logins to a browser.
                Some(b) => jar.add(names.build(names.browser, b, Some(365 * 86_400))),
                None => jar,
            };
            Ok((jar, Redirect::to(&format!("/login?tx={tx}"))).into_response())
        }
    }
}
