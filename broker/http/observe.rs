//! The outermost layer: a request id for every request (`X-Request-Id`, kept from a proxy
//! when it looks like one), and the HTTP metrics: latency per route and status
//! (`idbroker_http_request_duration_seconds`, whose `_count` counts the requests) and the
//! requests in flight. Routes are the router's templates, a closed set; a path no route
//! serves is `other`. The metric handles are made once per (route, status), so a request
//! costs two atomic updates, not a registry lookup.

use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::http::{HeaderName, HeaderValue, Request, Response};
use metrics::{Gauge, Histogram};
use tower::{Layer, Service};

pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The routes with a parameter, by the prefix of their paths.
const PREFIXED: &[(&str, &str)] = &[
    ("/admin/api/", "/admin/api/*"),
    ("/admin/organizations/", "/admin/organizations/{org}/*"),
    ("/admin/users/", "/admin/users/{id}/*"),
];

/// The routes served at one fixed path, in slot order (then [`PREFIXED`], then `other`);
/// the busiest first, since a path is looked for from the top.
const EXACT: &[&str] = &[
    "/token",
    "/introspect",
    "/jwks",
    "/.well-known/openid-configuration",
    "/userinfo",
    "/authorize",
    "/login",
    "/login/identifier",
    "/login/password",
    "/upstream/callback",
    "/device_authorization",
    "/device",
    "/device/decision",
    "/revoke",
    "/logout",
    "/account",
    "/account/callback",
    "/account/logout",
    "/admin",
    "/admin/callback",
    "/admin/audit",
    "/admin/organizations/new",
    "/admin/consent/callback",
    "/password/set",
    "/password/forgot",
    "/healthz",
    "/readyz",
    "/metrics",
    "/static/idbroker.css",
];

const ROUTE_SLOTS: usize = EXACT.len() + PREFIXED.len() + 1;

/// The route label of a path and its slot: the route template that serves it, or `other`.
pub fn route(path: &str) -> (usize, &'static str) {
    if let Some(i) = EXACT.iter().position(|r| *r == path) {
        return (i, EXACT[i]);
    }
    match PREFIXED.iter().position(|(p, _)| path.starts_with(p)) {
        Some(i) => (EXACT.len() + i, PREFIXED[i].1),
        None => (ROUTE_SLOTS - 1, "other"),
    }
}

/// The status label: the codes the broker answers with, else `other`.
const STATUSES: &[u16] = &[
    200, 201, 204, 302, 303, 304, 400, 401, 403, 404, 405, 408, 409, 413, 415, 429, 500, 502, 503,
];

/// One histogram per (route, status), made on first use.
struct Handles {
    histograms: Vec<OnceLock<Histogram>>,
    in_flight: OnceLock<Gauge>,
}

fn handles() -> &'static Handles {
    static HANDLES: OnceLock<Handles> = OnceLock::new();
    HANDLES.get_or_init(|| Handles {
        histograms: (0..ROUTE_SLOTS * (STATUSES.len() + 1))
            .map(|_| OnceLock::new())
            .collect(),
        in_flight: OnceLock::new(),
    })
}

fn histogram((index, route): (usize, &'static str), status: u16) -> Option<&'static Histogram> {
    let s = STATUSES
        .iter()
        .position(|c| *c == status)
        .unwrap_or(STATUSES.len());
    let cell = handles().histograms.get(index * (STATUSES.len() + 1) + s)?;
    Some(cell.get_or_init(|| {
        // The recorder first: a handle made before it would record nowhere, for good.
        let _ = crate::metrics::handle();
        let status = match STATUSES.get(s) {
            Some(code) => code.to_string(),
            None => "other".into(),
        };
        metrics::histogram!("idbroker_http_request_duration_seconds",
            "route" => route, "status" => status)
    }))
}

fn in_flight() -> &'static Gauge {
    handles().in_flight.get_or_init(|| {
        let _ = crate::metrics::handle();
        metrics::gauge!("idbroker_http_requests_in_flight")
    })
}

/// Counts a request in flight until it is answered or dropped.
pub struct InFlight;

impl InFlight {
    fn start() -> InFlight {
        in_flight().increment(1.0);
        InFlight
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        in_flight().decrement(1.0);
    }
}

#[derive(Clone, Copy, Default)]
pub struct ObserveLayer;

impl<S> Layer<S> for ObserveLayer {
    type Service = Observe<S>;
    fn layer(&self, inner: S) -> Observe<S> {
        Observe { inner }
    }
}

#[derive(Clone)]
pub struct Observe<S> {
    inner: S,
}

impl<S, B, R> Service<Request<B>> for Observe<S>
where
    S: Service<Request<B>, Response = Response<R>>,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future = Observed<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let started = Instant::now();
        let in_flight = InFlight::start();
        let route = route(req.uri().path());
        let id = req
            .headers()
            .get(&X_REQUEST_ID)
            .and_then(crate::request_id::accept)
            .unwrap_or_else(crate::request_id::fresh);
        // Polled in place: no box, and the inner future is moved once.
        let inner = crate::request_id::with(&id, || self.inner.call(req));
        Observed {
            inner,
            id,
            route,
            started,
            _in_flight: in_flight,
        }
    }
}

pin_project_lite::pin_project! {
    /// A request's answer, polled with its request id current; timed when it is ready.
    pub struct Observed<F> {
        #[pin]
        inner: F,
        id: HeaderValue,
        route: (usize, &'static str),
        started: Instant,
        _in_flight: InFlight,
    }
}

impl<F, R, E> Future for Observed<F>
where
    F: Future<Output = Result<Response<R>, E>>,
{
    type Output = Result<Response<R>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let id: &HeaderValue = this.id;
        let inner = this.inner;
        let mut answer = match crate::request_id::with(id, || inner.poll(cx)) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(answer) => answer,
        };
        if let Ok(resp) = &mut answer {
            if let Some(h) = histogram(*this.route, resp.status().as_u16()) {
                h.record(this.started.elapsed().as_secs_f64());
            }
            resp.headers_mut().insert(X_REQUEST_ID, id.clone());
        }
        Poll::Ready(answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_a_closed_set() {
        assert_eq!(route("/token").1, "/token");
        assert_eq!(route("/admin/api/users/x@y").1, "/admin/api/*");
        assert_eq!(
            route("/admin/organizations/c/sync").1,
            "/admin/organizations/{org}/*"
        );
        assert_eq!(route("/../etc/passwd"), (ROUTE_SLOTS - 1, "other"));
        assert_eq!(route("/token/").1, "other");
        assert_ne!(route("/token").0, route("/jwks").0);
        for (i, path) in EXACT.iter().enumerate() {
            assert_eq!(route(path), (i, *path));
        }
        // Every slot has its handles.
        for status in [200, 599] {
            assert!(histogram(route("/nowhere"), status).is_some());
        }
    }
}
