//! One-time codes: the login's code step and inline set-up (`/login/otp…`), and the
//! account page's set-up and removal (`/account/mfa/totp…`).

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::chrome::{Chrome, For};
use super::cookies::Names;
use super::error::PageError;
use super::extract::{Browser, PageForm};
use super::login::respond;
use super::pages::{self, AccountTotpPage};
use super::qr::TotpSetupView;
use crate::i18n::Msg;
use crate::service::Broker;
use crate::service::account::{ACCOUNT_SIGN_IN_SECS, After, Landing};
use crate::service::login_flow::LoginNext;
use crate::service::mfa_enrol::{EnrolPage, Enrolled, Gate};

#[derive(Deserialize)]
pub struct CodeForm {
    tx: String,
    csrf: String,
    #[serde(default)]
    code: String,
}

/// `POST /login/otp`: a one-time code or a recovery code.
pub async fn otp(
    State(broker): State<Arc<Broker>>,
    Browser(ctx): Browser,
    jar: CookieJar,
    PageForm(f): PageForm<CodeForm>,
) -> Result<Response, PageError> {
    let next = broker
        .sign_in()
        .submit_otp(&f.tx, &f.csrf, &f.code, &ctx)
        .await?;
    Ok(respond(&broker, jar, next))
}

/// `POST /login/otp/enrol`: the first code of the generator set up inside the login.
pub async fn otp_enrol(
    State(broker): State<Arc<Broker>>,
    Browser(ctx): Browser,
    jar: CookieJar,
    PageForm(f): PageForm<CodeForm>,
) -> Result<Response, PageError> {
    let (next, codes) = broker
        .sign_in()
        .submit_otp_enrol(&f.tx, &f.csrf, &f.code, &ctx)
        .await?;
    Ok(match next {
        LoginNext::Show(view) => pages::login_with_codes(&view, &codes),
        other => respond(&broker, jar, other),
    })
}

#[derive(Deserialize)]
pub struct TxForm {
    tx: String,
    csrf: String,
}

/// `POST /login/otp/continue`: on from the recovery codes.
pub async fn otp_continue(
    State(broker): State<Arc<Broker>>,
    Browser(ctx): Browser,
    jar: CookieJar,
    PageForm(f): PageForm<TxForm>,
) -> Result<Response, PageError> {
    let next = broker
        .sign_in()
        .continue_after_enrol(&f.tx, &f.csrf, &ctx)
        .await?;
    Ok(respond(&broker, jar, next))
}

/// `GET /account/mfa/totp`: the set-up page.
pub async fn setup_page(
    State(broker): State<Arc<Broker>>,
    Browser(ctx): Browser,
    jar: CookieJar,
) -> Result<Response, PageError> {
    match broker
        .sign_in()
        .totp_enrolment(ctx.session.as_deref())
        .await?
    {
        Gate::SignIn => Ok(super::account::start_sign_in(
            &broker,
            jar,
            Landing::Account,
        )),
        Gate::Stale => Ok(fresh_sign_in(&broker, jar, After::TotpSetup)),
        Gate::Ready(None) => Ok(Redirect::to("/account").into_response()),
        Gate::Ready(Some(page)) => Ok(setup(&page)),
    }
}

#[derive(Deserialize)]
pub struct AccountCodeForm {
    csrf: String,
    #[serde(default)]
    code: String,
}

/// `POST /account/mfa/totp`: confirms the set-up; the recovery codes, once.
pub async fn setup_confirm(
    State(broker): State<Arc<Broker>>,
    Browser(ctx): Browser,
    jar: CookieJar,
    PageForm(f): PageForm<AccountCodeForm>,
) -> Result<Response, PageError> {
    match broker
        .sign_in()
        .confirm_totp(ctx.session.as_deref(), &f.csrf, &f.code, &ctx)
        .await?
    {
        Gate::SignIn => Ok(super::account::start_sign_in(
            &broker,
            jar,
            Landing::Account,
        )),
        Gate::Stale => Ok(fresh_sign_in(&broker, jar, After::TotpSetup)),
        Gate::Ready(Enrolled::Already) => Ok(Redirect::to("/account").into_response()),
        Gate::Ready(Enrolled::Again(page)) => Ok(setup(&page)),
        Gate::Ready(Enrolled::Codes(codes)) => Ok(pages::render(
            StatusCode::OK,
            &AccountTotpPage {
                c: Chrome::current(For::default()),
                setup: None,
                csrf: "",
                error: None,
                recovery_codes: &codes,
            },
        )),
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

/// `POST /account/mfa/totp/remove`.
pub async fn remove(
    State(broker): State<Arc<Broker>>,
    Browser(ctx): Browser,
    jar: CookieJar,
    PageForm(f): PageForm<CsrfForm>,
) -> Result<Response, PageError> {
    match broker
        .sign_in()
        .remove_own_totp(ctx.session.as_deref(), &f.csrf, &ctx)
        .await?
    {
        Gate::SignIn => Ok(super::account::start_sign_in(
            &broker,
            jar,
            Landing::Account,
        )),
        Gate::Stale => Ok(fresh_sign_in(&broker, jar, After::Account)),
        Gate::Ready(_) => Ok(Redirect::to("/account").into_response()),
    }
}

fn setup(page: &EnrolPage) -> Response {
    let status = match (page.retry_after, page.error) {
        (Some(_), _) => StatusCode::TOO_MANY_REQUESTS,
        _ => StatusCode::OK,
    };
    let mut resp = pages::render(
        status,
        &AccountTotpPage {
            c: Chrome::current(For::default()),
            setup: Some(TotpSetupView::new(&page.setup)),
            csrf: &page.csrf,
            error: page.error.map(Msg::new),
            recovery_codes: &[],
        },
    );
    if let Some(secs) = page.retry_after
        && let Ok(v) = HeaderValue::from_str(&secs.to_string())
    {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

/// Through `/authorize` again with `prompt=login`, back to `then`.
fn fresh_sign_in(broker: &Broker, jar: CookieJar, then: After) -> Response {
    let Ok(start) = broker.sign_in().fresh_sign_in(Landing::Account, then) else {
        return pages::message(
            StatusCode::INTERNAL_SERVER_ERROR,
            "account-bad-issuer-title",
            "account-bad-issuer",
            true,
        );
    };
    let names = Names::for_issuer(&broker.policy().issuer);
    let jar = jar.add(names.build(names.account, start.flow, Some(ACCOUNT_SIGN_IN_SECS)));
    (jar, Redirect::to(&start.location)).into_response()
}
