//! Rate-limit counters and single-use values.
//!
//! Keys: `v1/rate/{bucket}`, `v1/once/{family}/{digest}`.

use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::backend::KvBackend;
use super::{MSG_RATE, Store, StoreError, Txn, decode, encode};

/// A counter reading: how many hits the bucket has seen in its current window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateCount(pub u64);

/// A place taken in a failure bucket before an attempt is checked (see
/// [`Store::reserve_place`]); the attempt's outcome either keeps it or gives it back.
#[derive(Debug)]
#[must_use = "a reservation is kept or released"]
pub struct Reservation {
    /// The place taken: 1 for the first attempt of the window.
    pub place: u64,
    bucket: String,
    generation: u64,
}

impl Store {
    /// Counts one hit in `bucket` (fixed window of `window`), shared by every replica.
    pub async fn rate_hit(&self, bucket: &str, window: Duration) -> Result<RateCount, StoreError> {
        Ok(RateCount(
            self.kv.incr(&format!("v1/rate/{bucket}"), window).await?,
        ))
    }

    /// Takes back one hit of `bucket` (a reservation made with [`Store::rate_hit`] that turned
    /// out not to count); the window's end does not move.
    pub async fn rate_unhit(&self, bucket: &str) -> Result<RateCount, StoreError> {
        Ok(RateCount(self.kv.decr(&format!("v1/rate/{bucket}")).await?))
    }

    /// Whether this replica knows that `bucket` holds no kept failure in its current window
    /// (see `clear_buckets.rs` for what "knows" means across replicas). Never true right
    /// after a start.
    pub fn failure_bucket_clear(&self, bucket: &str) -> bool {
        self.clear_buckets.is_clear(bucket)
    }

    /// Takes the next place in the failure bucket `bucket` (fixed window of `window`),
    /// shared by every replica.
    pub async fn reserve_place(
        &self,
        bucket: &str,
        window: Duration,
    ) -> Result<Reservation, StoreError> {
        let generation = self.clear_buckets.generation();
        let RateCount(place) = self.rate_hit(bucket, window).await?;
        Ok(Reservation {
            place,
            bucket: bucket.to_owned(),
            generation,
        })
    }

    /// The attempt failed: its place stays taken, and every replica learns that the bucket
    /// is not clear.
    pub async fn keep_place(&self, r: Reservation) -> Result<(), StoreError> {
        self.clear_buckets.dirty(&r.bucket);
        self.kv.publish(&format!("{MSG_RATE}{}", r.bucket)).await
    }

    /// The attempt did not count: the place is given back. A bucket left at zero, with no
    /// failure kept anywhere since the reservation, is then known clear.
    pub async fn release_place(&self, r: Reservation) -> Result<(), StoreError> {
        let RateCount(left) = self.rate_unhit(&r.bucket).await?;
        if left == 0 {
            self.clear_buckets.seen_empty(&r.bucket, r.generation);
        }
        Ok(())
    }

    /// The hits `bucket` has seen in its current window, without counting one.
    pub async fn rate_count(&self, bucket: &str) -> Result<RateCount, StoreError> {
        let bytes = self.kv.get(&format!("v1/rate/{bucket}")).await?;
        let n = bytes
            .and_then(|b| std::str::from_utf8(&b).ok()?.parse::<u64>().ok())
            .unwrap_or(0);
        Ok(RateCount(n))
    }

    /// Forgets `bucket`'s hits: its next hit starts a new window at 1.
    pub async fn rate_clear(&self, bucket: &str) -> Result<(), StoreError> {
        self.kv
            .commit(Txn::new().delete(format!("v1/rate/{bucket}")))
            .await?;
        Ok(())
    }

    /// Stores a single-use value (consent `state`, password-set link) under a digest.
    pub async fn put_once<T: Serialize>(
        &self,
        family: &str,
        digest: &str,
        value: &T,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let key = format!("v1/once/{family}/{digest}");
        let txn = Txn::new()
            .expect_absent(&key)
            .put(&key, encode(value)?, Some(ttl));
        self.kv.commit(txn).await?;
        Ok(())
    }

    /// Marks `digest` as used until `ttl` passes: `true` for the first caller, `false` for
    /// every later one (a replayed client-assertion `jti`, RFC 7523 §3 item 7).
    pub async fn mark_once(
        &self,
        family: &str,
        digest: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let key = format!("v1/once/{family}/{digest}");
        let txn = Txn::new()
            .expect_absent(&key)
            .put(&key, encode(&true)?, Some(ttl));
        self.kv.commit(txn).await
    }

    /// Takes a single-use value: of all callers, exactly one gets it.
    pub async fn take_once<T: DeserializeOwned>(
        &self,
        family: &str,
        digest: &str,
    ) -> Result<Option<T>, StoreError> {
        let key = format!("v1/once/{family}/{digest}");
        match self.kv.take(&key).await? {
            None => Ok(None),
            Some(bytes) => decode(&key, &bytes).map(Some),
        }
    }

    /// Reads a single-use value without taking it (to show a page before the form is sent).
    pub async fn peek_once<T: DeserializeOwned>(
        &self,
        family: &str,
        digest: &str,
    ) -> Result<Option<T>, StoreError> {
        self.get_json(&format!("v1/once/{family}/{digest}")).await
    }
}
