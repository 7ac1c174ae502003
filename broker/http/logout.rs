//! `/logout` (OpenID Connect RP-Initiated Logout 1.0 §2): GET or POST.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::cookies::Names;
use super::error::PageError;
use super::extract::{Browser, PageForm, PageQuery};
use super::pages::{self, LogoutConfirmPage};
use crate::service::Broker;
use crate::service::logout::{LogoutOutcome, LogoutParams};

#[derive(Deserialize, Default)]
pub struct LogoutQuery {
    id_token_hint: Option<String>,
    client_id: Option<String>,
    post_logout_redirect_uri: Option<String>,
    state: Option<String>,
    /// Present when the user confirmed on our page.
    csrf: Option<String>,
}

pub async fn get(
    State(broker): State<Arc<Broker>>,
    Browser(ctx): Browser,
    jar: CookieJar,
    PageQuery(q): PageQuery<LogoutQuery>,
) -> Result<Response, PageError> {
    // A GET never counts as a confirmation, even with a csrf parameter.
    handle(broker, ctx.session, jar, LogoutQuery { csrf: None, ..q }).await
}

pub async fn post(
    State(broker): State<Arc<Broker>>,
    Browser(ctx): Browser,
    jar: CookieJar,
    PageForm(q): PageForm<LogoutQuery>,
) -> Result<Response, PageError> {
    handle(broker, ctx.session, jar, q).await
}

async fn handle(
    broker: Arc<Broker>,
    session: Option<String>,
    jar: CookieJar,
    q: LogoutQuery,
) -> Result<Response, PageError> {
    let params = LogoutParams {
        id_token_hint: q.id_token_hint.clone(),
        client_id: q.client_id.clone(),
        post_logout_redirect_uri: q.post_logout_redirect_uri.clone(),
        state: q.state.clone(),
    };
    match broker
        .sign_in()
        .logout(&params, session.as_deref(), q.csrf.as_deref())
        .await?
    {
        LogoutOutcome::Page(msg) => Ok(pages::message(
            StatusCode::BAD_REQUEST,
            "logout-invalid-title",
            msg,
            true,
        )),
        LogoutOutcome::Confirm { csrf, client_name } => Ok(pages::render(
            StatusCode::OK,
            &LogoutConfirmPage {
                c: super::chrome::Chrome::current(super::chrome::For::default()),
                csrf: &csrf,
                client_name: client_name.as_deref(),
                id_token_hint: q.id_token_hint.as_deref(),
                client_id: q.client_id.as_deref(),
                post_logout_redirect_uri: q.post_logout_redirect_uri.as_deref(),
                state: q.state.as_deref(),
            },
        )),
        LogoutOutcome::Done { redirect } => {
            let names = Names::for_issuer(&broker.policy().issuer);
            let jar = jar.add(names.removal(names.session));
            Ok(match redirect {
                Some(url) => (jar, Redirect::to(url.as_str())).into_response(),
                None => (jar, pages::signed_out(&broker.policy())).into_response(),
            })
        }
    }
}
