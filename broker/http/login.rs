//! The login page: `GET /login?tx=…` and its forms.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use secrecy::SecretString;
use serde::Deserialize;

use super::cookies::Names;
use super::error::PageError;
use super::extract::{Browser, PageForm, PageQuery};
use super::pages;
use crate::service::Broker;
use crate::service::login_flow::LoginNext;
use crate::service::sso::CallbackParams;

#[derive(Deserialize)]
pub struct TxQuery {
    tx: Option<String>,
}

pub async fn page(
    State(broker): State<Arc<Broker>>,
    Browser(ctx): Browser,
    PageQuery(q): PageQuery<TxQuery>,
) -> Result<Response, PageError> {
    let Some(tx) = q.tx else {
        return Ok(pages::message_with_link(
            StatusCode::OK,
            "login-title",
            "login-no-request",
            ("/account", "login-go-to-account"),
        ));
    };
    let view = broker.sign_in().login_page(&tx, &ctx).await?;
    Ok(pages::login(&view))
}

#[derive(Deserialize)]
pub struct IdentifierForm {
    tx: String,
    csrf: String,
    #[serde(default)]
    identifier: String,
}

pub async fn identifier(
    State(broker): State<Arc<Broker>>,
    Browser(ctx): Browser,
    jar: CookieJar,
    PageForm(f): PageForm<IdentifierForm>,
) -> Result<Response, PageError> {
    let next = broker
        .sign_in()
        .submit_identifier(&f.tx, &f.csrf, &f.identifier, &ctx)
        .await?;
    Ok(respond(&broker, jar, next))
}

#[derive(Deserialize)]
pub struct PasswordForm {
    tx: String,
    csrf: String,
    #[serde(default)]
    password: String,
}

pub async fn password(
    State(broker): State<Arc<Broker>>,
    Browser(ctx): Browser,
    jar: CookieJar,
    PageForm(f): PageForm<PasswordForm>,
) -> Result<Response, PageError> {
    let next = broker
        .sign_in()
        .submit_password(&f.tx, &f.csrf, SecretString::from(f.password), &ctx)
        .await?;
    Ok(respond(&broker, jar, next))
}

#[derive(Deserialize)]
pub struct PasskeyForm {
    tx: String,
    csrf: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    credential: String,
}

/// `POST /login/passkey`: the assertion `passkey.js` got from the browser.
pub async fn passkey(
    State(broker): State<Arc<Broker>>,
    Browser(ctx): Browser,
    jar: CookieJar,
    PageForm(f): PageForm<PasskeyForm>,
) -> Result<Response, PageError> {
    let next = broker
        .sign_in()
        .submit_passkey(&f.tx, &f.csrf, &f.state, &f.credential, &ctx)
        .await?;
    Ok(respond(&broker, jar, next))
}

#[derive(Deserialize)]
pub struct TxForm {
    tx: String,
    csrf: String,
}

pub async fn restart(
    State(broker): State<Arc<Broker>>,
    Browser(ctx): Browser,
    PageForm(f): PageForm<TxForm>,
) -> Result<Response, PageError> {
    let view = broker.sign_in().restart_login(&f.tx, &f.csrf, &ctx).await?;
    Ok(pages::login(&view))
}

pub async fn upstream(
    State(broker): State<Arc<Broker>>,
    Browser(ctx): Browser,
    PageForm(f): PageForm<TxForm>,
) -> Result<Response, PageError> {
    let next = broker
        .sign_in()
        .choose_upstream(&f.tx, &f.csrf, &ctx)
        .await?;
    Ok(respond(&broker, CookieJar::new(), next))
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    state: Option<String>,
    code: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// `GET /upstream/callback`: the upstream provider sends the browser back here.
pub async fn upstream_callback(
    State(broker): State<Arc<Broker>>,
    Browser(ctx): Browser,
    jar: CookieJar,
    PageQuery(q): PageQuery<CallbackQuery>,
) -> Result<Response, PageError> {
    let params = CallbackParams {
        state: q.state,
        code: q.code,
        error: q.error,
        error_description: q.error_description,
    };
    let next = broker.sign_in().upstream_callback(&params, &ctx).await?;
    Ok(respond(&broker, jar, next))
}

/// Turns the next step of a login into a response.
pub(super) fn respond(broker: &Broker, jar: CookieJar, next: LoginNext) -> Response {
    match next {
        LoginNext::WithDeviceCookie(next, cookie) => {
            let names = Names::for_issuer(&broker.policy().issuer);
            let max_age = crate::service::login::DEVICE_COOKIE_TTL.as_secs();
            let jar = jar.add(names.build(names.device, cookie, Some(max_age)));
            // Whatever the next step is (the client, or the device approval page).
            (jar, respond(broker, CookieJar::new(), *next)).into_response()
        }
        LoginNext::Show(view) => pages::login(&view),
        LoginNext::Upstream(url) => Redirect::to(url.as_str()).into_response(),
        LoginNext::Device(view) => pages::device_consent(&view),
        LoginNext::Complete {
            redirect,
            session_cookie,
        } => {
            let names = Names::for_issuer(&broker.policy().issuer);
            // A browser-session cookie; the server-side session carries the real expiry.
            let jar = jar.add(names.build(names.session, session_cookie, None));
            (jar, Redirect::to(redirect.as_str())).into_response()
        }
    }
}
