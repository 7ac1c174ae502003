//! Prometheus metrics at `/metrics` (text exposition format).
//!
//! Code records with the `metrics` macros where things happen; this module installs the one
//! process-wide recorder and renders it. Names are `idbroker_*`; labels are small closed sets
//! (method, outcome, grant, event), never user or client input.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the recorder on first use (several brokers in one process, as in tests, share
/// it). `None` if another recorder was installed first.
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| match builder().install_recorder() {
            Ok(handle) => {
                describe();
                metrics::gauge!("idbroker_build_info",
                    "version" => env!("CARGO_PKG_VERSION"), "commit" => env!("IDBROKER_COMMIT"))
                .set(1.0);
                Some(handle)
            }
            Err(e) => {
                tracing::warn!(error = %e, "metrics recorder not installed; /metrics is empty");
                None
            }
        })
        .as_ref()
}

/// HTTP latencies as Prometheus histograms (buckets from 0.5 ms to 5 s), so that replicas
/// can be summed and quantiles taken over any window; other timings stay summaries.
fn builder() -> PrometheusBuilder {
    const HTTP_BUCKETS: [f64; 13] = [
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
    ];
    let http = Matcher::Full("idbroker_http_request_duration_seconds".into());
    match PrometheusBuilder::new().set_buckets_for_metric(http, &HTTP_BUCKETS) {
        Ok(b) => b,
        // Only an empty bucket list is refused.
        Err(_) => PrometheusBuilder::new(),
    }
}

/// The exposition text.
pub fn render() -> String {
    handle().map(PrometheusHandle::render).unwrap_or_default()
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        "idbroker_sign_ins_total",
        "Sign-in attempts by method (password, sso) and outcome (success, failure)"
    );
    describe_counter!(
        "idbroker_audit_events_total",
        "Audit events by event name and outcome"
    );
    describe_counter!(
        "idbroker_audit_dropped_total",
        "Audit records dropped because the queue was full"
    );
    describe_counter!(
        "idbroker_sync_total",
        "Scheduled and admin re-syncs of an organisation's users by outcome"
    );
    describe_counter!(
        "idbroker_graph_fetches_total",
        "Microsoft Graph user listings by outcome"
    );
    describe_counter!(
        "idbroker_tokens_issued_total",
        "Token responses by grant type"
    );
    describe_counter!(
        "idbroker_token_errors_total",
        "Refused token requests by grant type"
    );
    describe_counter!(
        "idbroker_rate_limited_total",
        "Requests refused by a rate limit, by limit (password, identifier, authorize, login_tx, admin_auth, client_auth, user_code, password_queue, password_reset)"
    );
    describe_counter!(
        "idbroker_password_reset_mails_total",
        "Password-reset requests past the limits by what was mailed (link, sso_only, none, failed)"
    );
    describe_counter!(
        "idbroker_user_cache_total",
        "Lookups of the routing path's user cache by result (hit, miss)"
    );
    describe_counter!(
        "idbroker_policy_reloads_total",
        "Policy reloads by outcome (applied, refused)"
    );
    describe_gauge!("idbroker_connections_open", "Client connections open now");
    describe_histogram!(
        "idbroker_http_request_duration_seconds",
        metrics::Unit::Seconds,
        "HTTP requests by route (the route template, or other) and status, from the first byte handled to the answer's head; _count counts them"
    );
    describe_gauge!(
        "idbroker_http_requests_in_flight",
        "HTTP requests being handled now"
    );
    describe_gauge!(
        "idbroker_build_info",
        "Always 1; the labels say the version and the commit the binary was built from"
    );
    describe_counter!(
        "idbroker_connections_refused_total",
        "Connections refused at once because server.max_connections were open"
    );
    describe_counter!(
        "idbroker_connections_closed_total",
        "Connections closed by the broker at a deadline, by reason (handshake_timeout, header_timeout, idle_timeout)"
    );
    describe_histogram!(
        "idbroker_upstream_seconds",
        metrics::Unit::Seconds,
        "Upstream calls by step (authorize: discovery; redeem: code redemption and ID token verification) and outcome"
    );
}
