//! The embedded engine: redb on one file. (Being written: placeholder so the crate builds.)
use std::time::Duration;

use super::StoreError;
use super::backend::{KvBackend, Txn};

pub struct EmbeddedKv {
    tx: tokio::sync::broadcast::Sender<String>,
}

fn unbuilt() -> StoreError {
    StoreError::Unavailable("the embedded engine is not built yet".into())
}

impl KvBackend for EmbeddedKv {
    async fn get(&self, _key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Err(unbuilt())
    }
    async fn commit(&self, _txn: Txn) -> Result<bool, StoreError> {
        Err(unbuilt())
    }
    async fn take(&self, _key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Err(unbuilt())
    }
    async fn incr(&self, _key: &str, _window: Duration) -> Result<u64, StoreError> {
        Err(unbuilt())
    }
    async fn set_members(&self, _key: &str) -> Result<Vec<String>, StoreError> {
        Err(unbuilt())
    }
    async fn scan_prefix(&self, _prefix: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        Err(unbuilt())
    }
    async fn ping(&self) -> Result<(), StoreError> {
        Err(unbuilt())
    }
    async fn publish(&self, _message: &str) -> Result<(), StoreError> {
        Err(unbuilt())
    }
    fn subscribe(&self) -> tokio::sync::broadcast::Receiver<String> {
        self.tx.subscribe()
    }
    async fn sweep(&self) -> Result<u64, StoreError> {
        Err(unbuilt())
    }
}
