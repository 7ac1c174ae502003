//! The self-service password reset: `GET`/`POST /password/forgot` (the link itself leads to
//! `/password/set`, in `admin.rs`).

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::Response;
use serde::Deserialize;

use super::error::PageError;
use super::extract::{Browser, PageForm, PageQuery};
use super::pages;
use crate::service::Broker;

#[derive(Deserialize)]
pub struct ForgotQuery {
    #[serde(default)]
    tx: String,
}

pub async fn page(
    State(broker): State<Arc<Broker>>,
    Browser(ctx): Browser,
    PageQuery(q): PageQuery<ForgotQuery>,
) -> Result<Response, PageError> {
    let view = broker.reset().form(&q.tx, &ctx).await?;
    Ok(pages::password_forgot(&view))
}

#[derive(Deserialize)]
pub struct ForgotForm {
    tx: String,
    csrf: String,
    #[serde(default)]
    email: String,
}

pub async fn request(
    State(broker): State<Arc<Broker>>,
    Browser(ctx): Browser,
    headers: HeaderMap,
    PageForm(f): PageForm<ForgotForm>,
) -> Result<Response, PageError> {
    // The mail speaks the language of the page that asked for it.
    let accept_language = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    let view = broker
        .reset()
        .request(&f.tx, &f.csrf, &f.email, accept_language, &ctx)
        .await?;
    Ok(pages::password_forgot(&view))
}
