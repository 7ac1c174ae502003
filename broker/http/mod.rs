//! The HTTP surface. Only this module knows axum and HTTP; each handler parses the request,
//! calls one [`crate::service::Broker`] method, and maps the result to a response.

mod account;
mod admin;
mod authorize;
pub mod chrome;
mod console;
pub mod cookies;
mod device;
mod discovery;
pub mod error;
pub mod extract;
mod health;
mod login;
mod logout;
mod mfa;
pub mod observe;
pub mod pages;
mod qr;
mod reset;
mod token;
mod userinfo;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use tower::util::MapResponseLayer;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::sensitive_headers::SetSensitiveHeadersLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::service::Broker;

/// Largest request body accepted (every form the broker takes is small); more is a 413.
pub const MAX_BODY: usize = 64 * 1024;

/// What the server runs for each request: the routes inside the layers every request goes
/// through. Cheap to clone (the server clones it per request, as tower services are used).
pub trait App:
    tower::Service<
        axum::http::Request<hyper::body::Incoming>,
        Response = axum::response::Response,
        Error = std::convert::Infallible,
        Future: Send + 'static,
    > + Clone
    + Send
    + Sync
    + 'static
{
}

impl<T> App for T where
    T: tower::Service<
            axum::http::Request<hyper::body::Incoming>,
            Response = axum::response::Response,
            Error = std::convert::Infallible,
            Future: Send + 'static,
        > + Clone
        + Send
        + Sync
        + 'static
{
}

/// The whole application: the routes, wrapped once in the layers.
pub fn router(broker: Arc<Broker>) -> impl App {
    let https = broker.policy().issuer.is_https();
    // The pages: they speak the reader's language and wear the policy's brand (see
    // [`chrome`]). The protocol endpoints below stay out of that layer: they serve no page
    // but `/authorize`'s error pages, which are here for that reason.
    let pages = Router::new()
        .route("/authorize", get(authorize::get).post(authorize::post))
        .route("/login", get(login::page))
        .route("/login/identifier", post(login::identifier))
        .route("/login/password", post(login::password))
        .route("/login/restart", post(login::restart))
        .route("/login/upstream", post(login::upstream))
        .route(pages::FORGOT_PATH, get(reset::page).post(reset::request))
        .route("/login/passkey", post(login::passkey))
        .route("/login/otp", post(mfa::otp))
        .route("/login/otp/enrol", post(mfa::otp_enrol))
        .route("/login/otp/continue", post(mfa::otp_continue))
        .route(
            crate::service::sso::CALLBACK_PATH,
            get(login::upstream_callback),
        )
        .route("/device", get(device::page).post(device::enter))
        .route("/device/decision", post(device::decision))
        .route("/logout", get(logout::get).post(logout::post))
        .route("/account", get(account::page))
        .route("/account/callback", get(account::callback))
        .route("/account/reauth", get(account::reauth))
        .route("/account/passkeys", post(account::register_passkey))
        .route("/account/passkeys/remove", post(account::remove_passkey))
        .route("/account/logout", post(account::sign_out))
        .route(
            "/account/mfa/totp",
            get(mfa::setup_page).post(mfa::setup_confirm),
        )
        .route("/account/mfa/totp/remove", post(mfa::remove))
        .route("/admin", get(console::organizations))
        .route("/admin/callback", get(console::callback))
        .route(
            "/admin/organizations/new",
            get(console::new_organization).post(console::create_organization),
        )
        .route("/admin/organizations/{org}", get(console::organization))
        .route(
            "/admin/organizations/{org}/edit",
            get(console::edit_organization).post(console::replace_organization),
        )
        .route(
            "/admin/organizations/{org}/delete",
            post(console::delete_organization),
        )
        .route("/admin/organizations/{org}/consent", post(console::consent))
        .route("/admin/organizations/{org}/sync", post(console::sync))
        .route(
            "/admin/organizations/{org}/tenant-users",
            get(console::tenant_users),
        )
        .route("/admin/organizations/{org}/import", post(console::import))
        .route(
            "/admin/organizations/{org}/admins",
            post(console::org_admin),
        )
        .route("/admin/users/{id}/sso", post(console::user_sso))
        .route("/admin/users/{id}/disabled", post(console::user_disabled))
        .route(
            "/admin/users/{id}/password-link",
            post(console::user_password_link),
        )
        .route("/admin/users/{id}/revoke", post(console::user_revoke))
        .route(
            "/admin/users/{id}/totp/remove",
            post(console::user_remove_totp),
        )
        .route(
            "/admin/users/{id}/passkeys/remove",
            post(console::user_remove_passkeys),
        )
        .route("/admin/audit", get(console::audit))
        .merge(admin::routes())
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&broker),
            chrome::scope,
        ));
    let router = Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(discovery::openid_configuration),
        )
        .route("/jwks", get(discovery::jwks))
        .route("/token", post(token::token))
        .route("/device_authorization", post(device::authorization))
        .route("/revoke", post(token::revoke))
        .route("/introspect", post(token::introspect))
        .route(
            "/userinfo",
            get(userinfo::userinfo).post(userinfo::userinfo),
        )
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route("/static/idbroker.css", get(stylesheet))
        .route("/static/localtime.js", get(localtime_script))
        .route("/static/passkey.js", get(passkey_script))
        .route("/branding/{name}", get(branding_asset))
        .merge(pages)
        .with_state(broker);
    with_layers(router, https)
}

/// Response headers every answer carries unless its handler set them: pages load only our
/// stylesheet and nothing may frame them (clickjacking), nothing is sniffed, leaked through
/// `Referer` or cached.
const SECURITY_HEADERS: [(HeaderName, &str); 6] = [
    (
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::REFERRER_POLICY, "no-referrer"),
    (header::CACHE_CONTROL, "no-store"),
    (
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    ),
];

/// Adds [`SECURITY_HEADERS`] (and HSTS on https) where absent. One pass over the response,
/// rather than one layer per header: each layer cost a clone and a drop per request.
fn security_headers(
    https: bool,
) -> impl Fn(axum::response::Response) -> axum::response::Response + Clone {
    move |mut response| {
        let headers = response.headers_mut();
        // One growth of the map at most, not one per threshold crossed.
        headers.reserve(SECURITY_HEADERS.len() + 1);
        for (name, value) in SECURITY_HEADERS {
            headers
                .entry(name)
                .or_insert(HeaderValue::from_static(value));
        }
        if https {
            headers
                .entry(header::STRICT_TRANSPORT_SECURITY)
                .or_insert(HeaderValue::from_static(
                    "max-age=31536000; includeSubDomains",
                ));
        }
        response
    }
}

/// The layers, around the router rather than inside it: `Router::layer` wraps every route,
/// and each request then cloned and dropped the whole boxed stack (a fifth of a `/jwks`
/// answer's instructions).
fn with_layers(router: Router, https: bool) -> impl App {
    tower::ServiceBuilder::new()
        // One body type towards the server, whatever the layers made of it.
        .map_response(|response: axum::http::Response<_>| response.map(axum::body::Body::new))
        // Outermost: the request id (for every log line of the request) and the metrics.
        .layer(observe::ObserveLayer)
        .layer(CatchPanicLayer::new())
        .layer(SetSensitiveHeadersLayer::new([
            header::AUTHORIZATION,
            header::COOKIE,
            header::SET_COOKIE,
        ]))
        // Spans name the method and path only: queries carry codes, states and hints
        // (`/upstream/callback?code=…`, `/authorize?login_hint=…`) and never reach a log.
        // At `debug`: an enabled span is formatted at creation, a sixth of a `/jwks` answer's
        // instructions; `RUST_LOG=info,idbroker::http=debug` turns them on.
        .layer(TraceLayer::new_for_http().make_span_with(
            |req: &axum::http::Request<hyper::body::Incoming>| {
                tracing::debug_span!("request", method = %req.method(), path = %req.uri().path())
            },
        ))
        .layer(RequestBodyLimitLayer::new(MAX_BODY))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(MapResponseLayer::new(security_headers(https)))
        .service(router)
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

/// The page script: shows every `<time>` in the reader's time zone and language. The pages
/// work without it (the times then read in UTC).
async fn localtime_script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        include_str!("static/localtime.js"),
    )
}

/// The passkey script of the login and account pages (`navigator.credentials`). Password
/// users never need it: the pages work without it.
async fn passkey_script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        include_str!("static/passkey.js"),
    )
}

/// A logo, favicon or theme of the policy, by the digest in its name: cached for a year
/// (a changed file has a new name). An SVG is an image here, never a document that runs.
async fn branding_asset(
    axum::extract::State(broker): axum::extract::State<Arc<Broker>>,
    axum::extract::Path(name): axum::extract::Path<String>,
) -> axum::response::Response {
    let policy = broker.policy();
    let Some(asset) = policy.branding.assets.get(&name) else {
        return not_found().await.into_response();
    };
    (
        [
            (header::CONTENT_TYPE, asset.content_type),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; sandbox",
            ),
        ],
        axum::body::Bytes::from_owner(ArcBytes(Arc::clone(&asset.bytes))),
    )
        .into_response()
}

/// An asset's bytes as a response body, without copying them.
struct ArcBytes(Arc<[u8]>);

impl AsRef<[u8]> for ArcBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

async fn not_found() -> impl IntoResponse {
    pages::message(
        StatusCode::NOT_FOUND,
        "error-not-found-title",
        "error-not-found",
        true,
    )
}
