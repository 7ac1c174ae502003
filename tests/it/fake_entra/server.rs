//! The fake's listeners. Each surface (login, Graph) has its own 127.0.0.1 port and an
//! [`Outage`] switch: `Refuse` really closes the listening socket and every open connection
//! (so clients get "connection refused", pooled connections included), `Hang` accepts and then
//! answers nothing until the switch changes, `Unavailable` answers 503. A front middleware
//! records every request before any of that.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::Shared;
use super::model::{RecordedRequest, Surface};
use super::wire::{EntraError, Params, graph_error};

/// How a surface of the fake is (un)available.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outage {
    Up,
    /// Not listening: new connections are refused and open ones are closed.
    Refuse,
    /// Requests are accepted but not answered until the outage changes (at most 10 minutes),
    /// so the client's own timeout must fire.
    Hang,
    /// Every request is answered `503` (Entra: `temporarily_unavailable`; Graph:
    /// `serviceNotAvailable` with `Retry-After`).
    Unavailable,
}

const MAX_HANG: Duration = Duration::from_secs(600);

/// The outage switch of one surface. `set` returns once the listener has applied the change
/// (socket closed or bound again), so a test's next request sees the new state.
pub struct Switch {
    /// The requested outage and its sequence number.
    state: watch::Sender<(Outage, u64)>,
    /// The sequence number the listener has applied.
    applied: watch::Sender<u64>,
}

impl Switch {
    pub fn new() -> Switch {
        Switch {
            state: watch::Sender::new((Outage::Up, 0)),
            applied: watch::Sender::new(0),
        }
    }

    pub fn current(&self) -> Outage {
        self.state.borrow().0
    }

    pub async fn set(&self, outage: Outage) -> bool {
        let mut seq = 0;
        self.state.send_modify(|(o, s)| {
            *o = outage;
            *s += 1;
            seq = *s;
        });
        let mut applied = self.applied.subscribe();
        let ok = tokio::time::timeout(Duration::from_secs(10), applied.wait_for(|n| *n >= seq))
            .await
            .is_ok_and(|r| r.is_ok());
        // Let connection tasks woken by the change close their sockets before the test goes on.
        for _ in 0..4 {
            tokio::task::yield_now().await;
        }
        ok
    }

    fn subscribe(&self) -> watch::Receiver<(Outage, u64)> {
        self.state.subscribe()
    }
}

pub async fn bind_local() -> std::io::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await?;
    let addr = listener.local_addr()?;
    Ok((listener, addr))
}

/// Serves `router` on `listener` until `cancel`, obeying the `switch` of `surface`.
pub fn spawn(
    listener: TcpListener,
    router: Router,
    shared: Arc<Shared>,
    surface: Surface,
    cancel: CancellationToken,
) {
    // Subscribe before the task runs, so a change made right after `start` is not missed.
    let requested = shared.switch(surface).subscribe();
    tokio::spawn(run(listener, router, shared, surface, requested, cancel));
}

async fn run(
    first: TcpListener,
    router: Router,
    shared: Arc<Shared>,
    surface: Surface,
    mut requested: watch::Receiver<(Outage, u64)>,
    cancel: CancellationToken,
) {
    let Ok(addr) = first.local_addr() else {
        return;
    };
    let switch = shared.switch(surface);
    let mut listener = Some(first);
    loop {
        let changed = tokio::select! {
            _ = cancel.cancelled() => return,
            accepted = accept(listener.as_ref()) => {
                if let Ok((stream, _)) = accepted {
                    serve_connection(stream, router.clone(), switch.subscribe(), cancel.clone());
                }
                continue;
            }
            changed = requested.changed() => changed,
        };
        if changed.is_err() {
            return;
        }
        let (outage, seq) = *requested.borrow_and_update();
        match (outage, listener.is_some()) {
            // Dropping the listener closes the port: connections are refused from now on.
            (Outage::Refuse, true) => listener = None,
            (Outage::Refuse, false) => {}
            (_, true) => {}
            (_, false) => {
                listener = rebind(addr, &cancel).await;
                if listener.is_none() {
                    return;
                }
            }
        }
        switch.applied.send_replace(seq);
    }
}

async fn accept(listener: Option<&TcpListener>) -> std::io::Result<(TcpStream, SocketAddr)> {
    match listener {
        Some(listener) => listener.accept().await,
        None => std::future::pending().await,
    }
}

/// Binds the same port again after an outage (the kernel may need a moment to release it).
async fn rebind(addr: SocketAddr, cancel: &CancellationToken) -> Option<TcpListener> {
    for _ in 0..200 {
        if cancel.is_cancelled() {
            return None;
        }
        if let Ok(listener) = TcpListener::bind(addr).await {
            return Some(listener);
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    None
}

fn serve_connection(
    stream: TcpStream,
    router: Router,
    mut outage: watch::Receiver<(Outage, u64)>,
    cancel: CancellationToken,
) {
    tokio::spawn(async move {
        let builder = auto::Builder::new(TokioExecutor::new());
        let connection =
            builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(router));
        // Dropping the connection future closes the socket: that is how `Refuse` and the end of
        // the test cut open (keep-alive) connections.
        tokio::select! {
            _ = connection => {}
            _ = cancel.cancelled() => {}
            _ = outage.wait_for(|(o, _)| *o == Outage::Refuse) => {}
        }
    });
}

/// Records the request, then applies the surface's outage.
pub async fn front(
    State((shared, surface)): State<(Arc<Shared>, Surface)>,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 1 << 20).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let is_form = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let recorded = RecordedRequest {
        surface,
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: Params::from_query(parts.uri.query()).0,
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        form: if is_form {
            Params::parse(&bytes).0
        } else {
            Vec::new()
        },
    };
    shared.lock().requests.push(recorded);

    let mut outage = shared.switch(surface).subscribe();
    if outage.borrow().0 == Outage::Hang {
        let _ = tokio::time::timeout(MAX_HANG, outage.wait_for(|(o, _)| *o != Outage::Hang)).await;
    }
    let current = outage.borrow().0;
    if current != Outage::Up {
        return unavailable(surface);
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

fn unavailable(surface: Surface) -> Response {
    match surface {
        Surface::Login => EntraError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            90006,
            "The service is temporarily unavailable. Please try again later.",
        )
        .to_json(),
        Surface::Graph => {
            let mut response = graph_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "serviceNotAvailable",
                "The service is temporarily unavailable. Please retry after some time.",
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            response
        }
    }
}
