//! Backups, restores and moves between engines: the whole store as versioned JSON lines.
//!
//! The first line is a header (`{"idbroker_store_export": 1, "format": 1, "exported_at":
//! …}`); each further line is one live entry: `{"key", "value" (base64) | "set" (members),
//! "expires_at_ms"}`, ordered by key. Everything is in it: users and their links, sessions,
//! refresh families, codes in flight, organisations and their state, rate counters and the
//! audit trail. An import goes into an empty store of either engine, so embedded → Redis is
//! an export and an import. Entries that expired since the export are left out.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use super::format::FORMAT_VERSION;
use super::{DumpData, KvBackend, Store, StoreError, Txn};

/// The version of the export's own layout (not the store's format).
pub const EXPORT_VERSION: u32 = 1;

/// The format key is the target store's own business.
const SKIPPED: &str = "v1/meta/format";

/// Entries written per transaction while importing.
const IMPORT_BATCH: usize = 500;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    idbroker_store_export: u32,
    format: u32,
    exported_at: u64,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    set: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at_ms: Option<u64>,
}

/// What an import wrote.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Imported {
    pub entries: usize,
    /// Entries that expired between the export and the import.
    pub expired: usize,
}

fn refused(why: impl Into<String>) -> StoreError {
    StoreError::Refused(why.into())
}

impl Store {
    /// The whole store as JSON lines (see the module). `now` is unix seconds, for the header.
    pub async fn export(&self, now: u64) -> Result<String, StoreError> {
        let entries = self.kv.dump().await?;
        let mut out = String::new();
        let header = Header {
            idbroker_store_export: EXPORT_VERSION,
            format: FORMAT_VERSION,
            exported_at: now,
        };
        push_json(&mut out, &header)?;
        for e in entries.into_iter().filter(|e| e.key != SKIPPED) {
            let (value, set) = match e.data {
                DumpData::Value(bytes) => (Some(STANDARD.encode(bytes)), None),
                DumpData::Set(members) => (None, Some(members)),
            };
            let line = Line {
                key: e.key,
                value,
                set,
                expires_at_ms: e.expires_at_ms,
            };
            push_json(&mut out, &line)?;
        }
        Ok(out)
    }

    /// Loads an export into this store, which must be empty. `now_ms` decides what has
    /// expired meanwhile. Nothing is written unless the whole text reads well.
    pub async fn import(&self, text: &str, now_ms: u64) -> Result<Imported, StoreError> {
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        let (_, first) = lines.next().ok_or_else(|| refused("the export is empty"))?;
        let header: Header = serde_json::from_str(first)
            .map_err(|e| refused(format!("line 1 is not an idbroker store export: {e}")))?;
        if header.idbroker_store_export != EXPORT_VERSION {
            return Err(refused(format!(
                "the export is of layout {}; this idbroker reads layout {EXPORT_VERSION}",
                header.idbroker_store_export
            )));
        }
        if header.format > FORMAT_VERSION {
            return Err(refused(format!(
                "the export holds a store of format {}, newer than this idbroker's {FORMAT_VERSION}",
                header.format
            )));
        }
        let mut parsed = Vec::new();
        for (i, text) in lines {
            let line: Line =
                serde_json::from_str(text).map_err(|e| refused(format!("line {}: {e}", i + 1)))?;
            let data = match (line.value, line.set) {
                (Some(v), None) => DumpData::Value(
                    STANDARD
                        .decode(v)
                        .map_err(|e| refused(format!("line {}: {e}", i + 1)))?,
                ),
                (None, Some(members)) => DumpData::Set(members),
                _ => {
                    return Err(refused(format!(
                        "line {}: an entry has a value or a set",
                        i + 1
                    )));
                }
            };
            parsed.push((line.key, data, line.expires_at_ms));
        }
        let existing = self.kv.dump().await?;
        if existing.iter().any(|e| e.key != SKIPPED) {
            return Err(refused(format!(
                "the store holds {} entries already; import into an empty store",
                existing.len()
            )));
        }
        let mut report = Imported::default();
        // One transaction per slot group and batch (see `slots`): a cluster refuses a script
        // across slots.
        let mut batches: std::collections::BTreeMap<String, (Txn, usize)> = Default::default();
        for (key, data, expires_at_ms) in parsed {
            if key == SKIPPED {
                continue;
            }
            let ttl = match expires_at_ms {
                None => None,
                Some(at) if at <= now_ms => {
                    report.expired += 1;
                    continue;
                }
                Some(at) => Some(std::time::Duration::from_millis(at - now_ms)),
            };
            let group = format!("{:?}", super::slots::group(&key));
            let (txn, in_txn) = batches.entry(group).or_default();
            *txn = match data {
                DumpData::Value(bytes) => std::mem::take(txn).put(key, bytes, ttl),
                DumpData::Set(members) => members
                    .into_iter()
                    .fold(std::mem::take(txn), |t, m| t.set_add(key.clone(), m, ttl)),
            };
            report.entries += 1;
            *in_txn += 1;
            if *in_txn == IMPORT_BATCH {
                self.kv.commit(std::mem::take(txn)).await?;
                *in_txn = 0;
            }
        }
        for (txn, in_txn) in batches.into_values() {
            if in_txn > 0 {
                self.kv.commit(txn).await?;
            }
        }
        // Everything cached from the store before is stale now.
        let _ = self.kv.publish(super::MSG_ALL).await;
        Ok(report)
    }
}

fn push_json<T: Serialize>(out: &mut String, value: &T) -> Result<(), StoreError> {
    let line = serde_json::to_string(value).map_err(|e| StoreError::Corrupt {
        key: "export".into(),
        reason: e.to_string(),
    })?;
    out.push_str(&line);
    out.push('\n');
    Ok(())
}
