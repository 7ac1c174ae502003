//! The policy in force is the policy file's, with the organisations created at run time
//! merged in ([`crate::policy::runtime`]). The broker keeps both sources; when either
//! changes (a reload of the file; a runtime organisation created, changed or deleted here or
//! on another replica) it merges them again and swaps the result in. Merges take turns, so
//! a reload and a change arriving together cannot undo each other.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;

use super::Broker;
use crate::policy::Policy;
use crate::policy::runtime::{Merged, merge};
use crate::store::{RuntimeOrganization, StoreError};

/// What the policy in force is merged from.
pub(super) struct Sources {
    /// The policy as the file says (with what `prepare` adds).
    file: ArcSwap<Policy>,
    /// The runtime organisations as last read from the store.
    runtime: ArcSwap<Vec<RuntimeOrganization>>,
    /// Those of them left out of the policy in force, with why.
    out_of_force: ArcSwap<BTreeMap<String, String>>,
    merging: tokio::sync::Mutex<()>,
}

impl Sources {
    /// The sources, and the policy they make.
    pub(super) fn new(file: Arc<Policy>, runtime: Vec<RuntimeOrganization>) -> (Policy, Sources) {
        let merged = merge(&file, &runtime);
        report(&BTreeMap::new(), &merged.out_of_force);
        let sources = Sources {
            file: ArcSwap::new(file),
            runtime: ArcSwap::from_pointee(runtime),
            out_of_force: ArcSwap::from_pointee(merged.out_of_force),
            merging: tokio::sync::Mutex::new(()),
        };
        (merged.policy, sources)
    }
}

/// Logs the runtime organisations that went out of force (or came back) with this merge.
fn report(before: &BTreeMap<String, String>, now: &BTreeMap<String, String>) {
    for (id, why) in now {
        if before.get(id) != Some(why) {
            tracing::warn!(organization = %id, reason = %why, "a runtime organization is out of force");
        }
    }
    for id in before.keys().filter(|id| !now.contains_key(*id)) {
        tracing::info!(organization = %id, "a runtime organization is in force again");
    }
}

/// Merges on the blocking pool: thousands of organisations take milliseconds.
async fn merge_apart(file: Arc<Policy>, runtime: Arc<Vec<RuntimeOrganization>>) -> Merged {
    let work = {
        let (file, runtime) = (Arc::clone(&file), Arc::clone(&runtime));
        tokio::task::spawn_blocking(move || merge(&file, &runtime))
    };
    match work.await {
        Ok(merged) => merged,
        // The pool is shutting down: merge here rather than lose the change.
        Err(_) => merge(&file, &runtime),
    }
}

impl Broker {
    /// Puts a new policy file in force, with the runtime organisations merged in again.
    pub(super) async fn replace_file_policy(&self, file: Arc<Policy>) {
        let _turn = self.sources.merging.lock().await;
        let merged = merge_apart(Arc::clone(&file), self.sources.runtime.load_full()).await;
        self.sources.file.store(file);
        self.install(merged);
    }

    /// Reads the runtime organisations from the store again and puts them in force.
    pub(super) async fn reload_runtime_organizations(&self) -> Result<(), StoreError> {
        let _turn = self.sources.merging.lock().await;
        let runtime = Arc::new(self.store.runtime_organizations().await?);
        let merged = merge_apart(self.sources.file.load_full(), Arc::clone(&runtime)).await;
        self.sources.runtime.store(runtime);
        self.install(merged);
        Ok(())
    }

    fn install(&self, merged: Merged) {
        report(&self.sources.out_of_force.load(), &merged.out_of_force);
        self.sources
            .out_of_force
            .store(Arc::new(merged.out_of_force));
        self.policy.store(Arc::new(merged.policy));
    }

    /// The runtime organisation `id` as last read.
    pub(super) fn runtime_organization(&self, id: &str) -> Option<RuntimeOrganization> {
        let runtime = self.sources.runtime.load();
        // The store lists them in the order of their ids.
        runtime
            .binary_search_by(|r| r.spec.id.as_str().cmp(id))
            .ok()
            .and_then(|i| runtime.get(i).cloned())
    }

    /// The runtime organisations as last read (in the order of their ids), and those out of
    /// force with why.
    pub(super) fn runtime_organizations(
        &self,
    ) -> (Arc<Vec<RuntimeOrganization>>, Arc<BTreeMap<String, String>>) {
        (
            self.sources.runtime.load_full(),
            self.sources.out_of_force.load_full(),
        )
    }

    /// Follows changes of the runtime organisations, made here or on another replica.
    pub(super) fn spawn_runtime_org_watch(self: &Arc<Self>) {
        let mut changes = self.store.watch_runtime_organizations();
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            while changes.changed().await.is_ok() {
                let mut wait = Duration::from_millis(100);
                loop {
                    let Some(broker) = weak.upgrade() else { return };
                    match broker.reload_runtime_organizations().await {
                        Ok(()) => break,
                        Err(e) => {
                            tracing::warn!(error = %e, "cannot read the runtime organizations; trying again");
                        }
                    }
                    drop(broker);
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(5));
                }
            }
        });
    }
}
