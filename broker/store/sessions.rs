//! Browser sessions, login transactions and upstream `state` values.
//!
//! Keys: `v1/session/{digest of cookie handle}`, `v1/user-sessions/{user id}` (set of those
//! digests), `v1/tx/{id}`, `v1/upstream-state/{digest of state}` (→ transaction id).

use super::backend::KvBackend;
use super::{Cas, LoginTx, Session, Store, StoreError, Txn, encode, records::UnixTime, ttl_until};

fn session_key(digest: &str) -> String {
    format!("v1/session/{digest}")
}
fn user_sessions_key(user_id: &str) -> String {
    format!("v1/user-sessions/{user_id}")
}
fn tx_key(id: &str) -> String {
    format!("v1/tx/{id}")
}
fn upstream_state_key(digest: &str) -> String {
    format!("v1/upstream-state/{digest}")
}

impl Store {
    /// Stores a new session under the digest of its cookie handle.
    pub async fn create_session(
        &self,
        digest: &str,
        session: &Session,
        now: UnixTime,
    ) -> Result<(), StoreError> {
        let ttl = ttl_until(now, session.expires_at);
        // A session lost in a crash only asks its user to sign in again.
        let txn = Txn::new()
            .relaxed()
            .expect_absent(session_key(digest))
            .put(session_key(digest), encode(session)?, Some(ttl))
            .set_add(user_sessions_key(&session.user_id), digest, Some(ttl));
        self.kv.commit(txn).await?;
        Ok(())
    }

    pub async fn session(&self, digest: &str) -> Result<Option<Session>, StoreError> {
        self.get_json(&session_key(digest)).await
    }

    pub async fn delete_session(&self, digest: &str) -> Result<Option<Session>, StoreError> {
        let Some(session) = self.session(digest).await? else {
            return Ok(None);
        };
        let txn = Txn::new()
            .delete(session_key(digest))
            .set_remove(user_sessions_key(&session.user_id), digest);
        self.kv.commit(txn).await?;
        Ok(Some(session))
    }

    /// The live sessions of a user with their digests, oldest first.
    pub async fn sessions_of_user(
        &self,
        user_id: &str,
    ) -> Result<Vec<(String, Session)>, StoreError> {
        let mut out = Vec::new();
        for digest in self.kv.set_members(&user_sessions_key(user_id)).await? {
            if let Some(s) = self.session(&digest).await? {
                out.push((digest, s));
            }
        }
        out.sort_by_key(|(_, s)| s.created_at);
        Ok(out)
    }

    /// Ends every session of a user; returns how many were live.
    pub async fn delete_sessions_of_user(&self, user_id: &str) -> Result<usize, StoreError> {
        let mut n = 0;
        for digest in self.kv.set_members(&user_sessions_key(user_id)).await? {
            if self.delete_session(&digest).await?.is_some() {
                n += 1;
            }
        }
        Ok(n)
    }

    pub async fn put_login_tx(&self, tx: &LoginTx, now: UnixTime) -> Result<(), StoreError> {
        let txn = Txn::new().relaxed().put(
            tx_key(&tx.id),
            encode(tx)?,
            Some(ttl_until(now, tx.expires_at)),
        );
        self.kv.commit(txn).await?;
        Ok(())
    }

    pub async fn login_tx(&self, id: &str) -> Result<Option<LoginTx>, StoreError> {
        self.get_json(&tx_key(id)).await
    }

    /// Moves a transaction from `expected` to `next` only if nobody moved it meanwhile (a
    /// double-submitted form loses). Returns false when it had changed or expired.
    pub async fn swap_login_tx(
        &self,
        expected: &LoginTx,
        next: &LoginTx,
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        self.cas(&tx_key(&expected.id), |current: Option<LoginTx>| {
            if current.as_ref() != Some(expected) {
                return Ok(Cas::Stop(false));
            }
            let txn = Txn::new().relaxed().put(
                tx_key(&next.id),
                encode(next)?,
                Some(ttl_until(now, next.expires_at)),
            );
            Ok(Cas::Commit(txn, true))
        })
        .await
    }

    pub async fn delete_login_tx(&self, id: &str) -> Result<(), StoreError> {
        self.kv
            .commit(Txn::new().relaxed().delete(tx_key(id)))
            .await?;
        Ok(())
    }

    /// Remembers that the upstream `state` (by digest) belongs to transaction `tx_id`.
    pub async fn put_upstream_state(
        &self,
        state_digest: &str,
        tx_id: &str,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> Result<(), StoreError> {
        let txn = Txn::new().relaxed().put(
            upstream_state_key(state_digest),
            encode(&tx_id)?,
            Some(ttl_until(now, expires_at)),
        );
        self.kv.commit(txn).await?;
        Ok(())
    }

    /// Takes the transaction id of an upstream `state`, once: a replayed state finds nothing.
    pub async fn take_upstream_state(
        &self,
        state_digest: &str,
    ) -> Result<Option<String>, StoreError> {
        let key = upstream_state_key(state_digest);
        match self.kv.take(&key).await? {
            None => Ok(None),
            Some(bytes) => super::decode(&key, &bytes).map(Some),
        }
    }
}
