//! The HTTP surface. Only this module knows axum and HTTP; each handler parses the request,
//! calls one [`crate::service::Broker`] method, and maps the result to a response.

mod account;
mod admin;
mod authorize;
pub mod cookies;
mod device;
mod discovery;
pub mod error;
pub mod extract;
mod health;
mod login;
mod logout;
pub mod pages;
mod token;
mod userinfo;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::sensitive_headers::SetSensitiveHeadersLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::service::Broker;

/// Largest request body accepted (every form the broker takes is small); more is a 413.
pub const MAX_BODY: usize = 64 * 1024;

/// The whole application as a router, for `serve` and for tests (`tower::ServiceExt::oneshot`).
pub fn router(broker: Arc<Broker>) -> Router {
    let https = broker.policy().issuer.is_https();
    let router = Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(discovery::openid_configuration),
        )
        .route("/jwks", get(discovery::jwks))
        .route("/authorize", get(authorize::get).post(authorize::post))
        .route("/login", get(login::page))
        .route("/login/identifier", post(login::identifier))
        .route("/login/password", post(login::password))
        .route("/login/restart", post(login::restart))
        .route("/login/upstream", post(login::upstream))
        .route(
            crate::service::sso::CALLBACK_PATH,
            get(login::upstream_callback),
        )
        .route("/token", post(token::token))
        .route("/device_authorization", post(device::authorization))
        .route("/device", get(device::page).post(device::enter))
        .route("/device/decision", post(device::decision))
        .route("/revoke", post(token::revoke))
        .route("/introspect", post(token::introspect))
        .route(
            "/userinfo",
            get(userinfo::userinfo).post(userinfo::userinfo),
        )
        .route("/logout", get(logout::get).post(logout::post))
        .route("/account", get(account::page))
        .route("/account/callback", get(account::callback))
        .route("/account/logout", post(account::sign_out))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route("/static/idbroker.css", get(stylesheet))
        .merge(admin::routes())
        .fallback(not_found)
        .with_state(broker);
    security_layers(router, https)
}

fn security_layers(router: Router, https: bool) -> Router {
    let set = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
    };
    let router = router
        // Pages load only our stylesheet; nothing may frame them (clickjacking).
        .layer(set(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'",
        ))
        .layer(set(header::X_FRAME_OPTIONS, "DENY"))
        .layer(set(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(set(header::REFERRER_POLICY, "no-referrer"))
        .layer(set(header::CACHE_CONTROL, "no-store"))
        .layer(set(
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ));
    let router = if https {
        router.layer(set(
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000; includeSubDomains",
        ))
    } else {
        router
    };
    router
        .layer(RequestBodyLimitLayer::new(MAX_BODY))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        // Spans name the method and path only: queries carry codes, states and hints
        // (`/upstream/callback?code=…`, `/authorize?login_hint=…`) and never reach a log.
        .layer(TraceLayer::new_for_http().make_span_with(
            |req: &axum::http::Request<axum::body::Body>| {
                tracing::info_span!("request", method = %req.method(), path = %req.uri().path())
            },
        ))
        .layer(SetSensitiveHeadersLayer::new([
            header::AUTHORIZATION,
            header::COOKIE,
            header::SET_COOKIE,
        ]))
        .layer(CatchPanicLayer::new())
}

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        include_str!("static/idbroker.css"),
    )
}

async fn not_found() -> impl IntoResponse {
    pages::message(
        StatusCode::NOT_FOUND,
        "Not found",
        "There is nothing at this address.",
        true,
    )
}
