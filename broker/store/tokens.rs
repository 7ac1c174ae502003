//! Authorization codes, refresh-token families and the access-token deny list.
//!
//! Keys: `v1/code/{digest}`, `v1/refresh/{family id}`, `v1/user-families/{user id}` (set of
//! family ids), `v1/denied-jti/{jti}`.

use super::backend::KvBackend;
use super::{
    CAS_ATTEMPTS, CodeRecord, Redemption, RefreshFamily, Store, StoreError, Txn, encode,
    records::UnixTime, ttl_until,
};
use crate::secret::ct_eq;

fn code_key(digest: &str) -> String {
    format!("v1/code/{digest}")
}
fn family_key(id: &str) -> String {
    format!("v1/refresh/{id}")
}
fn user_families_key(user_id: &str) -> String {
    format!("v1/user-families/{user_id}")
}
fn denied_key(jti: &str) -> String {
    format!("v1/denied-jti/{jti}")
}

/// The outcome of redeeming a code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeRedemption {
    /// This call redeemed it; the record as it was before.
    Fresh(CodeRecord),
    /// It had been redeemed already (RFC 6749 §4.1.2: revoke what the first redemption got).
    Replayed(CodeRecord),
    /// No such code (never issued, or expired and gone).
    Unknown,
}

/// The outcome of presenting a refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// The presented secret was current; the family now expects the new one.
    Rotated(RefreshFamily),
    /// The presented secret was an old one: the family has just been revoked (RFC 9700
    /// §4.14.2, refresh token reuse detection).
    Reused(RefreshFamily),
    /// The family had been revoked before.
    Revoked,
    /// No such family, or it has reached its absolute expiry.
    Unknown,
}

impl Store {
    pub async fn put_code(
        &self,
        digest: &str,
        code: &CodeRecord,
        now: UnixTime,
    ) -> Result<(), StoreError> {
        // A code lost in a crash is a failed sign-in to retry; taking one is always durable.
        let txn = Txn::new().relaxed().expect_absent(code_key(digest)).put(
            code_key(digest),
            encode(code)?,
            Some(ttl_until(now, code.expires_at)),
        );
        self.kv.commit(txn).await?;
        Ok(())
    }

    pub async fn code(&self, digest: &str) -> Result<Option<CodeRecord>, StoreError> {
        self.get_json(&code_key(digest)).await
    }

    /// Marks the code redeemed with what this redemption issues, exactly once. `expected` is
    /// the record the caller validated; the record is kept (as a tombstone) until the access
    /// token of the redemption expires, so that a replay can still revoke.
    pub async fn redeem_code(
        &self,
        digest: &str,
        expected: &CodeRecord,
        redemption: Redemption,
        now: UnixTime,
    ) -> Result<CodeRedemption, StoreError> {
        let key = code_key(digest);
        for _ in 0..CAS_ATTEMPTS {
            let Some((bytes, current)) = self.get_versioned::<CodeRecord>(&key).await? else {
                return Ok(CodeRedemption::Unknown);
            };
            if current.redeemed.is_some() {
                return Ok(CodeRedemption::Replayed(current));
            }
            if &current != expected {
                return Ok(CodeRedemption::Unknown);
            }
            let keep_until = redemption.access_expires_at.max(current.expires_at);
            let mut next = current.clone();
            next.redeemed = Some(redemption.clone());
            let txn = Txn::new().expect_equals(&key, bytes).put(
                &key,
                encode(&next)?,
                Some(ttl_until(now, keep_until)),
            );
            if self.kv.commit(txn).await? {
                return Ok(CodeRedemption::Fresh(current));
            }
        }
        Err(StoreError::Contended)
    }

    pub async fn create_refresh_family(
        &self,
        family: &RefreshFamily,
        now: UnixTime,
    ) -> Result<(), StoreError> {
        let ttl = ttl_until(now, family.expires_at);
        let txn = Txn::new()
            .expect_absent(family_key(&family.id))
            .put(family_key(&family.id), encode(family)?, Some(ttl))
            .set_add(user_families_key(&family.user_id), &family.id, Some(ttl));
        self.kv.commit(txn).await?;
        Ok(())
    }

    pub async fn refresh_family(&self, id: &str) -> Result<Option<RefreshFamily>, StoreError> {
        self.get_json(&family_key(id)).await
    }

    /// One atomic step of refresh-token rotation: if `presented` (a secret digest) is the
    /// family's current one, make `next` current; if it is not, revoke the family. Of two
    /// concurrent presentations of the same token exactly one rotates and the other revokes.
    pub async fn rotate_refresh(
        &self,
        family_id: &str,
        presented: &str,
        next: &str,
        now: UnixTime,
    ) -> Result<Rotation, StoreError> {
        let key = family_key(family_id);
        for _ in 0..CAS_ATTEMPTS {
            let Some((bytes, family)) = self.get_versioned::<RefreshFamily>(&key).await? else {
                return Ok(Rotation::Unknown);
            };
            if family.revoked {
                return Ok(Rotation::Revoked);
            }
            if family.expires_at <= now {
                return Ok(Rotation::Unknown);
            }
            let mut updated = family.clone();
            let reused = !ct_eq(family.current.as_bytes(), presented.as_bytes());
            if reused {
                updated.revoked = true;
            } else {
                updated.current = next.to_owned();
                updated.generation += 1;
            }
            let txn = Txn::new().expect_equals(&key, bytes).put(
                &key,
                encode(&updated)?,
                Some(ttl_until(now, family.expires_at)),
            );
            if self.kv.commit(txn).await? {
                return Ok(if reused {
                    Rotation::Reused(updated)
                } else {
                    Rotation::Rotated(updated)
                });
            }
        }
        Err(StoreError::Contended)
    }

    /// Revokes a family; true if it was live.
    pub async fn revoke_refresh_family(&self, id: &str, now: UnixTime) -> Result<bool, StoreError> {
        let key = family_key(id);
        for _ in 0..CAS_ATTEMPTS {
            let Some((bytes, family)) = self.get_versioned::<RefreshFamily>(&key).await? else {
                return Ok(false);
            };
            if family.revoked {
                return Ok(false);
            }
            let mut updated = family.clone();
            updated.revoked = true;
            let txn = Txn::new().expect_equals(&key, bytes).put(
                &key,
                encode(&updated)?,
                Some(ttl_until(now, family.expires_at)),
            );
            if self.kv.commit(txn).await? {
                return Ok(true);
            }
        }
        Err(StoreError::Contended)
    }

    /// Revokes every refresh-token family of a user; returns how many were live.
    pub async fn revoke_refresh_families_of_user(
        &self,
        user_id: &str,
        now: UnixTime,
    ) -> Result<usize, StoreError> {
        let mut n = 0;
        for id in self.kv.set_members(&user_families_key(user_id)).await? {
            if self.revoke_refresh_family(&id, now).await? {
                n += 1;
            }
        }
        Ok(n)
    }

    /// The live (not revoked, not expired) families of a user.
    pub async fn refresh_families_of_user(
        &self,
        user_id: &str,
        now: UnixTime,
    ) -> Result<Vec<RefreshFamily>, StoreError> {
        let mut out = Vec::new();
        for id in self.kv.set_members(&user_families_key(user_id)).await? {
            if let Some(f) = self.refresh_family(&id).await?
                && !f.revoked
                && f.expires_at > now
            {
                out.push(f);
            }
        }
        Ok(out)
    }

    /// Denies the access token `jti` until it would have expired anyway (RFC 7009 §2.2).
    pub async fn deny_access_token(
        &self,
        jti: &str,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> Result<(), StoreError> {
        if expires_at <= now {
            return Ok(());
        }
        let txn = Txn::new().put(
            denied_key(jti),
            b"1".to_vec(),
            Some(ttl_until(now, expires_at)),
        );
        self.kv.commit(txn).await?;
        Ok(())
    }

    pub async fn is_access_token_denied(&self, jti: &str) -> Result<bool, StoreError> {
        Ok(self.kv.get(&denied_key(jti)).await?.is_some())
    }
}
