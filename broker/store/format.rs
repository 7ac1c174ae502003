//! The store's format version, recorded in the store itself (`v1/meta/format`), so that an
//! older idbroker never reads, and so never damages, a store that a newer one has written
//! in a format it does not know. The first start on an empty store records this version;
//! an upgrade that changes the format will migrate and record the new one.

use super::{Backend, KvBackend, StoreError, Txn};

/// The format this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

const FORMAT_KEY: &str = "v1/meta/format";

/// Records [`FORMAT_VERSION`] in a store that has none, and refuses a store of a newer
/// format. Returns the store's format.
pub async fn check_format(kv: &Backend) -> Result<u32, StoreError> {
    for _ in 0..2 {
        match kv.get(FORMAT_KEY).await? {
            Some(bytes) => {
                let found = std::str::from_utf8(&bytes)
                    .ok()
                    .and_then(|s| s.trim().parse::<u32>().ok())
                    .ok_or_else(|| StoreError::Corrupt {
                        key: FORMAT_KEY.into(),
                        reason: "not a format version".into(),
                    })?;
                if found > FORMAT_VERSION {
                    return Err(StoreError::Unavailable(format!(
                        "the store is in format {found}, written by a newer idbroker; this one \
                         reads format {FORMAT_VERSION} at most. Run the newer idbroker, or \
                         restore a backup made before the upgrade"
                    )));
                }
                return Ok(found);
            }
            None => {
                let txn = Txn::new().expect_absent(FORMAT_KEY).put(
                    FORMAT_KEY,
                    FORMAT_VERSION.to_string().into_bytes(),
                    None,
                );
                if kv.commit(txn).await? {
                    return Ok(FORMAT_VERSION);
                }
                // Another replica recorded it meanwhile: read what it wrote.
            }
        }
    }
    Err(StoreError::Contended)
}
