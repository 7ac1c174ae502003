//! Prometheus metrics at `/metrics` (text exposition format).
//!
//! Code records with the `metrics` macros where things happen; this module installs the one
//! process-wide recorder and renders it. Names are `idbroker_*`; labels are small closed sets
//! (method, outcome, grant, event), never user or client input.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the recorder on first use (several brokers in one process, as in tests, share
/// it). `None` if another recorder was installed first.
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| match PrometheusBuilder::new().install_recorder() {
            Ok(handle) => {
                describe();
                Some(handle)
            }
            Err(e) => {
                tracing::warn!(error = %e, "metrics recorder not installed; /metrics is empty");
                None
            }
        })
        .as_ref()
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
        "Requests refused by a rate limit, by limit (password, identifier, authorize, login_tx, admin_auth, client_auth, user_code)"
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
