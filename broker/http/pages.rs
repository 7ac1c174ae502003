//! Server-rendered pages (askama templates in `broker/templates/`, escaped by default).

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::service::login_flow::{LoginView, Step};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    step: Step,
    tx: &'a str,
    csrf: &'a str,
    identifier: &'a str,
    client_name: &'a str,
    upstream_name: &'a str,
    error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage<'a> {
    title: &'a str,
    message: &'a str,
    is_error: bool,
    link: Option<(&'a str, &'a str)>,
}

#[derive(Template)]
#[template(path = "logout_confirm.html")]
pub struct LogoutConfirmPage<'a> {
    pub csrf: &'a str,
    pub client_name: Option<&'a str>,
    pub id_token_hint: Option<&'a str>,
    pub client_id: Option<&'a str>,
    pub post_logout_redirect_uri: Option<&'a str>,
    pub state: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "device.html")]
struct DeviceEntryPage<'a> {
    csrf: &'a str,
    user_code: &'a str,
    error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "device_consent.html")]
struct DeviceConsentPage<'a> {
    tx: &'a str,
    csrf: &'a str,
    client_name: &'a str,
    user_email: &'a str,
    user_code: &'a str,
}

/// The `/device` code entry page (RFC 8628 §3.3).
pub fn device_entry(view: &crate::service::device::DeviceEntryView) -> Response {
    render(
        if view.error.is_some() {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        },
        &DeviceEntryPage {
            csrf: &view.csrf,
            user_code: &view.user_code,
            error: view.error,
        },
    )
}

/// The approve/deny page after signing in for a device.
pub fn device_consent(view: &crate::service::login_flow::DeviceConsentView) -> Response {
    render(
        StatusCode::OK,
        &DeviceConsentPage {
            tx: &view.tx,
            csrf: &view.csrf,
            client_name: &view.client_name,
            user_email: &view.user_email,
            user_code: &view.user_code,
        },
    )
}

pub struct SessionLine {
    pub method: String,
    pub since: String,
    pub user_agent: Option<String>,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "account.html")]
pub struct AccountPage<'a> {
    pub name: &'a str,
    pub email: &'a str,
    pub organization: Option<&'a str>,
    pub method: String,
    pub signed_in_at: String,
    pub user_id: &'a str,
    pub sessions: Vec<SessionLine>,
    pub csrf: &'a str,
}

/// Renders a template as a 200/`status` HTML response; a rendering failure is a 500 page.
pub fn render<T: Template>(status: StatusCode, page: &T) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a page failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

pub fn login(view: &LoginView) -> Response {
    let status = match (view.retry_after, view.error) {
        (Some(_), _) => StatusCode::TOO_MANY_REQUESTS,
        _ => StatusCode::OK,
    };
    let mut resp = render(
        status,
        &LoginPage {
            step: view.step,
            tx: &view.tx,
            csrf: &view.csrf,
            identifier: &view.identifier,
            client_name: &view.client_name,
            upstream_name: view.upstream_name.as_deref().unwrap_or("your organisation"),
            error: view.error,
        },
    );
    if let Some(secs) = view.retry_after
        && let Ok(v) = HeaderValue::from_str(&secs.to_string())
    {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

pub fn message(status: StatusCode, title: &str, message: &str, is_error: bool) -> Response {
    render(
        status,
        &MessagePage {
            title,
            message,
            is_error,
            link: None,
        },
    )
}

pub fn message_with_link(
    status: StatusCode,
    title: &str,
    message: &str,
    link: (&str, &str),
) -> Response {
    render(
        status,
        &MessagePage {
            title,
            message,
            is_error: false,
            link: Some(link),
        },
    )
}

#[derive(Template)]
#[template(path = "password_set.html")]
struct PasswordSetPage<'a> {
    email: &'a str,
    token: &'a str,
    error: Option<&'a str>,
}

/// The page of a password-set link (the admin API's `password-link`).
pub fn password_set(status: StatusCode, email: &str, token: &str, error: Option<&str>) -> Response {
    render(
        status,
        &PasswordSetPage {
            email,
            token,
            error,
        },
    )
}

/// Formats unix seconds as `YYYY-MM-DD HH:MM UTC`; a time out of range reads "unknown".
pub fn format_time(t: u64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    i64::try_from(t)
        .ok()
        .and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok())
        .and_then(|at| at.format(format).ok())
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    #[test]
    fn format_time_known_dates() {
        assert_eq!(super::format_time(0), "1970-01-01 00:00 UTC");
        assert_eq!(super::format_time(1_795_392_000), "2026-11-23 00:00 UTC");
        assert_eq!(
            super::format_time(951_782_400 + 3661),
            "2000-02-29 01:01 UTC"
        );
        assert_eq!(super::format_time(u64::MAX), "unknown");
    }
}
