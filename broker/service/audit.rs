//! The audit trail: one structured record per sign-in attempt and admin action, written as
//! JSON lines to the configured sink and kept in the store for the admin API.
//!
//! Writing never blocks a request: records go through a channel to one writer task.
//! Records carry no password, token, code or secret, by construction of [`AuditRecord`].

use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::policy::{AuditPolicy, AuditSink};
use crate::store::{AuditRecord, Store};

pub struct AuditLog {
    tx: mpsc::UnboundedSender<Msg>,
}

enum Msg {
    Record(Box<AuditRecord>),
    Flush(tokio::sync::oneshot::Sender<()>),
}

impl AuditLog {
    pub fn new(policy: &AuditPolicy, store: Arc<Store>) -> AuditLog {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(writer(policy.sink.clone(), policy.retention, store, rx));
        AuditLog { tx }
    }

    /// Records an event; returns at once.
    pub fn record(&self, record: AuditRecord) {
        let outcome = if record.outcome == "success" {
            "success"
        } else {
            "failure"
        };
        let method = match record.event.as_str() {
            "login.password" => Some("password"),
            "login.sso" => Some("sso"),
            _ => None,
        };
        if let Some(method) = method {
            metrics::counter!("idbroker_sign_ins_total", "method" => method, "outcome" => outcome)
                .increment(1);
        }
        metrics::counter!("idbroker_audit_events_total", "event" => record.event.clone(), "outcome" => outcome)
            .increment(1);
        let _ = self.tx.send(Msg::Record(Box::new(record)));
    }

    /// Waits until every record sent so far has been written (shutdown, tests).
    pub async fn flush(&self) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        if self.tx.send(Msg::Flush(tx)).is_ok() {
            let _ = rx.await;
        }
    }
}

/// A record with the fields every event has; callers fill in the rest.
pub fn event(event: &str, outcome: &str, time: u64) -> AuditRecord {
    AuditRecord {
        id: uuid::Uuid::now_v7().to_string(),
        time,
        event: event.to_owned(),
        outcome: outcome.to_owned(),
        reason: None,
        user_id: None,
        identifier: None,
        organization: None,
        upstream: None,
        client_id: None,
        ip: None,
        user_agent: None,
        detail: None,
    }
}

async fn writer(
    sink: AuditSink,
    retention: Duration,
    store: Arc<Store>,
    mut rx: mpsc::UnboundedReceiver<Msg>,
) {
    let mut file = match &sink {
        AuditSink::File(path) => match std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            Ok(f) => Some(f),
            Err(e) => {
                tracing::error!(path = %path.display(), error = %e, "cannot open the audit file; audit records go to stdout");
                None
            }
        },
        _ => None,
    };
    while let Some(msg) = rx.recv().await {
        let record = match msg {
            Msg::Record(r) => r,
            Msg::Flush(done) => {
                let _ = done.send(());
                continue;
            }
        };
        if let Ok(mut line) = serde_json::to_vec(&record) {
            line.push(b'\n');
            match (&sink, file.as_mut()) {
                (AuditSink::Off, _) => {}
                (_, Some(f)) => {
                    let _ = f.write_all(&line);
                }
                _ => {
                    let _ = std::io::stdout().lock().write_all(&line);
                }
            }
        }
        if let Err(e) = store.append_audit(&record, retention).await {
            tracing::warn!(error = %e, event = %record.event, "audit record not stored");
        }
    }
}
