//! Live policy reload: watch the policy file (and `SIGHUP`), validate the new text
//! completely, then swap it in whole. A file that does not load changes nothing: the last
//! good policy stays in force and the problems are logged with file, line and column.
//!
//! The folder is watched rather than the file, because editors save by writing a new file
//! and renaming it over the old one, which replaces the inode a file watch would follow.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use notify::{RecursiveMode, Watcher as _};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::policy::{ConfigError, Policy};
use crate::service::Broker;

/// Reads and validates the policy file (the production loader reads the real environment;
/// tests pass their own).
pub type Loader = Arc<dyn Fn(&Path) -> Result<Policy, ConfigError> + Send + Sync>;

/// Events closer together than this are one save (editors write, chmod and rename).
const SETTLE: Duration = Duration::from_millis(150);

#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    #[error("cannot watch {path}: {source}")]
    Watch {
        path: PathBuf,
        #[source]
        source: notify::Error,
    },
}

/// What one reload attempt did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Applied,
    /// The file did not load; the message names file, line, column and reason.
    Refused(String),
}

/// Watches `path` until `cancel` fires. Returns once the watch is set up.
pub fn watch(
    broker: Arc<Broker>,
    path: PathBuf,
    loader: Loader,
    cancel: CancellationToken,
) -> Result<(), ReloadError> {
    let (tx, mut rx) = mpsc::channel::<()>(16);
    let file_name = path.file_name().map(|n| n.to_owned());
    let notify_tx = tx.clone();
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        let Ok(event) = res else { return };
        let ours = event
            .paths
            .iter()
            .any(|p| p.file_name() == file_name.as_deref());
        if ours && !event.kind.is_access() {
            // A full channel already holds a pending reload: dropping this one is fine.
            let _ = notify_tx.try_send(());
        }
    })
    .map_err(|source| ReloadError::Watch {
        path: path.clone(),
        source,
    })?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    watcher
        .watch(&dir, RecursiveMode::NonRecursive)
        .map_err(|source| ReloadError::Watch {
            path: dir.clone(),
            source,
        })?;
    spawn_sighup(tx, cancel.clone());

    tokio::spawn(async move {
        // The watcher lives as long as this task.
        let _watcher = watcher;
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return,
                got = rx.recv() => if got.is_none() { return },
            }
            // Let the save finish, then coalesce what queued meanwhile.
            tokio::time::sleep(SETTLE).await;
            while rx.try_recv().is_ok() {}
            reload_once(&broker, &path, &loader).await;
        }
    });
    Ok(())
}

/// Loads `path` and swaps it in if it is valid. Logs and counts either way.
pub async fn reload_once(broker: &Broker, path: &Path, loader: &Loader) -> Outcome {
    let loaded = {
        let loader = loader.clone();
        let path = path.to_owned();
        // Reading and parsing a file: off the async workers.
        tokio::task::spawn_blocking(move || loader(&path)).await
    };
    let policy = match loaded {
        Ok(Ok(policy)) => policy,
        Ok(Err(e)) => {
            let message = e.to_string();
            metrics::counter!("idbroker_policy_reloads_total", "outcome" => "refused").increment(1);
            tracing::error!(problems = %message, "policy reload refused; the last good policy stays in force");
            return Outcome::Refused(message);
        }
        Err(e) => {
            metrics::counter!("idbroker_policy_reloads_total", "outcome" => "refused").increment(1);
            return Outcome::Refused(format!("the loader failed: {e}"));
        }
    };
    let current = broker.policy();
    if restart_only_changed(&current, &policy) {
        tracing::warn!(
            "listen, store, keys, tls, server.max_connections or password_hashing changed in the policy file: those take effect at the next restart"
        );
    }
    match broker.replace_policy(policy).await {
        Ok(()) => {
            metrics::counter!("idbroker_policy_reloads_total", "outcome" => "applied").increment(1);
            tracing::info!(file = %path.display(), "policy reloaded");
            Outcome::Applied
        }
        Err(e) => {
            metrics::counter!("idbroker_policy_reloads_total", "outcome" => "refused").increment(1);
            tracing::error!(error = %e, "policy reload failed while seeding its users");
            Outcome::Refused(e.to_string())
        }
    }
}

/// Settings a running process cannot change under its own feet.
fn restart_only_changed(old: &Policy, new: &Policy) -> bool {
    old.listen != new.listen
        || old.keys.dir != new.keys.dir
        || format!("{:?}", old.store) != format!("{:?}", new.store)
        || old.tls.as_ref().map(|t| (&t.cert, &t.key))
            != new.tls.as_ref().map(|t| (&t.cert, &t.key))
        || old.server.max_connections != new.server.max_connections
        || old.password_hashing != new.password_hashing
}

#[cfg(unix)]
fn spawn_sighup(tx: mpsc::Sender<()>, cancel: CancellationToken) {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut hup) = signal(SignalKind::hangup()) else {
        tracing::warn!("cannot listen for SIGHUP; file changes still reload the policy");
        return;
    };
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return,
                got = hup.recv() => if got.is_none() { return },
            }
            let _ = tx.try_send(());
        }
    });
}

#[cfg(not(unix))]
fn spawn_sighup(_tx: mpsc::Sender<()>, _cancel: CancellationToken) {}
