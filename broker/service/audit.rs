//! The audit trail: one structured record per sign-in attempt and admin action, written as
//! JSON lines to the configured sink and kept in the store for the admin API.
//!
//! Writing never blocks a request: records go through a bounded channel to one writer task,
//! which writes each batch with one call on the blocking pool.
//! Records carry no password, token, code or secret, by construction of [`AuditRecord`].

use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::policy::{AuditPolicy, AuditSink};
use crate::store::{AuditRecord, Store};

pub struct AuditLog {
    tx: mpsc::Sender<Msg>,
}

enum Msg {
    Record(Box<AuditRecord>),
    Flush(tokio::sync::oneshot::Sender<()>),
}

impl AuditLog {
    pub fn new(policy: &AuditPolicy, store: Arc<Store>) -> AuditLog {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(writer(policy.sink.clone(), policy.retention, store, rx));
        AuditLog { tx }
    }

    /// Records an event; returns at once.
    pub fn record(&self, record: AuditRecord) {
        let outcome = record.outcome.as_str();
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
        if self.tx.try_send(Msg::Record(Box::new(record))).is_err() {
            metrics::counter!("idbroker_audit_dropped_total").increment(1);
            tracing::error!("audit queue full: a record was dropped");
        }
    }

    /// Waits until every record sent so far has been written (shutdown, tests).
    pub async fn flush(&self) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        if self.tx.send(Msg::Flush(tx)).await.is_ok() {
            let _ = rx.await;
        }
    }
}

async fn writer(
    sink: AuditSink,
    retention: Duration,
    store: Arc<Store>,
    mut rx: mpsc::Receiver<Msg>,
) {
    let mut file = match &sink {
        AuditSink::File(path) => match crate::files::open_private_append(path) {
            Ok(f) => Some(f),
            Err(e) => {
                tracing::error!(path = %path.display(), error = %e, "cannot open the audit file; audit records go to stdout");
                None
            }
        },
        _ => None,
    };
    let mut batch = Vec::new();
    loop {
        // Everything queued goes out in one write on the blocking pool.
        if rx.recv_many(&mut batch, BATCH).await == 0 {
            return;
        }
        let mut lines = Vec::new();
        let mut records = Vec::new();
        let mut waiting = Vec::new();
        for msg in batch.drain(..) {
            match msg {
                Msg::Record(record) => {
                    if let Ok(line) = serde_json::to_vec(&record) {
                        lines.extend_from_slice(&line);
                        lines.push(b'\n');
                    }
                    records.push(record);
                }
                Msg::Flush(done) => waiting.push(done),
            }
        }
        if !lines.is_empty() && !matches!(sink, AuditSink::Off) {
            let target = file.take();
            let written = tokio::task::spawn_blocking(move || {
                let mut target = target;
                match target.as_mut() {
                    Some(f) => {
                        let _ = f.write_all(&lines);
                    }
                    None => {
                        let _ = std::io::stdout().lock().write_all(&lines);
                    }
                }
                target
            })
            .await;
            file = written.unwrap_or_default();
        }
        for record in &records {
            if let Err(e) = store.append_audit(record, retention).await {
                tracing::warn!(error = %e, event = %record.event, "audit record not stored");
            }
        }
        for done in waiting {
            let _ = done.send(());
        }
    }
}

/// Records written per batch at most.
const BATCH: usize = 256;
/// Records queued at most; beyond, new ones are dropped and counted (a flood must not
/// exhaust memory).
const QUEUE: usize = 65_536;
