//! Authorization codes, refresh-token families and the access-token deny list.
//!
//! Keys: `v1/code/{digest}`, `v1/refresh/{family id}`, `v1/user-families/{user id}` (set of
//! family ids), `v1/denied-jti/{jti}`.

use std::sync::Arc;

use super::backend::KvBackend;
use super::{
    Cas, CodeRecord, IssuedAccess, MSG_DENIED, Redemption, RefreshFamily, SPENT_SECRETS_KEPT,
    SecretMatch, SpentSecret, Store, StoreError, Txn, encode, records::UnixTime, ttl_until,
};

fn code_key(digest: &str) -> String {
    format!("v1/code/{digest}")
}
fn family_key(id: &str) -> String {
    format!("v1/refresh/{id}")
}
fn user_families_key(user_id: &str) -> String {
    format!("v1/user-families/{user_id}")
}
const DENIED_PREFIX: &str = "v1/denied-jti/";

fn denied_key(jti: &str) -> String {
    format!("{DENIED_PREFIX}{jti}")
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

/// A refresh family and the stored bytes it was read from (see [`Store::rotate_seen`]).
#[derive(Debug, Clone)]
pub struct SeenFamily {
    bytes: Vec<u8>,
    pub family: RefreshFamily,
}

/// The outcome of presenting a refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// The presented secret was current; the family now expects the new one.
    Rotated(RefreshFamily),
    /// The presented secret was one this family issued and rotated away: the family has just
    /// been revoked, with its live access tokens (RFC 9700 §4.14.2, refresh token reuse
    /// detection).
    Reused(RefreshFamily),
    /// The family had been revoked before (and the secret is one it issued).
    Revoked,
    /// The secret was current, but rotating now would make the family forget a secret spent
    /// less than `spent_window` ago: refused, and nothing changed.
    TooFrequent,
    /// No such family, a secret it did not issue, or past its absolute expiry: nothing
    /// changed.
    Unknown,
}

/// One presentation of a refresh token, for [`Store::rotate_refresh`].
#[derive(Debug, Clone)]
pub struct RefreshStep<'a> {
    /// Digest of the presented secret.
    pub presented: &'a str,
    /// Digest of the secret that replaces it.
    pub next: &'a str,
    /// The access token this rotation will mint, recorded before it exists.
    pub access: IssuedAccess,
    /// A spent secret is remembered at least this long (seconds): the family refuses to
    /// rotate when that would push out a younger one.
    pub spent_window: u64,
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
        self.cas(&key, |current: Option<CodeRecord>| {
            let Some(current) = current else {
                return Ok(Cas::Stop(CodeRedemption::Unknown));
            };
            if current.redeemed.is_some() {
                return Ok(Cas::Stop(CodeRedemption::Replayed(current)));
            }
            if &current != expected {
                return Ok(Cas::Stop(CodeRedemption::Unknown));
            }
            let keep_until = redemption.access_expires_at.max(current.expires_at);
            let mut next = current.clone();
            next.redeemed = Some(redemption.clone());
            let txn = Txn::new().put(&key, encode(&next)?, Some(ttl_until(now, keep_until)));
            Ok(Cas::Commit(txn, CodeRedemption::Fresh(current)))
        })
        .await
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

    /// A refresh family as read now, to rotate with [`Store::rotate_seen`] without reading it
    /// again.
    pub async fn refresh_family_seen(&self, id: &str) -> Result<Option<SeenFamily>, StoreError> {
        Ok(self
            .get_versioned::<RefreshFamily>(&family_key(id))
            .await?
            .map(|(bytes, family)| SeenFamily { bytes, family }))
    }

    /// One atomic step of refresh-token rotation. If the presented secret is the family's
    /// current one, make `next` current, remember the presented one as spent and record the
    /// access token to be minted; if it is a spent one, revoke the family and deny its access
    /// tokens; if the family never issued it, change nothing. Of two concurrent presentations
    /// of the same token exactly one rotates and the other revokes.
    pub async fn rotate_refresh(
        &self,
        family_id: &str,
        step: &RefreshStep<'_>,
        now: UnixTime,
    ) -> Result<Rotation, StoreError> {
        self.rotate(family_id, None, step, now).await
    }

    /// [`Store::rotate_refresh`] of the family as `seen`: the same step, one read fewer
    /// when the family has not changed since.
    pub async fn rotate_seen(
        &self,
        seen: SeenFamily,
        step: &RefreshStep<'_>,
        now: UnixTime,
    ) -> Result<Rotation, StoreError> {
        let id = seen.family.id.clone();
        self.rotate(&id, Some(Some((seen.bytes, seen.family))), step, now)
            .await
    }

    async fn rotate(
        &self,
        family_id: &str,
        seen: Option<Option<(Vec<u8>, RefreshFamily)>>,
        step: &RefreshStep<'_>,
        now: UnixTime,
    ) -> Result<Rotation, StoreError> {
        let key = family_key(family_id);
        let (outcome, denials) = self
            .cas_from(&key, seen, |family: Option<RefreshFamily>| {
                let Some(family) = family else {
                    return Ok(Cas::Stop((Rotation::Unknown, Vec::new())));
                };
                let matched = family.recognise(step.presented);
                if matched == SecretMatch::Unknown {
                    return Ok(Cas::Stop((Rotation::Unknown, Vec::new())));
                }
                if family.revoked {
                    return Ok(Cas::Stop((Rotation::Revoked, Vec::new())));
                }
                if family.expires_at <= now {
                    return Ok(Cas::Stop((Rotation::Unknown, Vec::new())));
                }
                if matched == SecretMatch::Spent {
                    let (txn, updated, denials) = revocation(&key, &family, now)?;
                    return Ok(Cas::Commit(txn, (Rotation::Reused(updated), denials)));
                }
                let mut updated = family.clone();
                updated.spent.push(SpentSecret {
                    digest: std::mem::replace(&mut updated.current, step.next.to_owned()),
                    spent_at: now,
                });
                if updated.spent.len() > SPENT_SECRETS_KEPT {
                    let forgotten = updated.spent.remove(0);
                    if forgotten.spent_at.saturating_add(step.spent_window) > now {
                        return Ok(Cas::Stop((Rotation::TooFrequent, Vec::new())));
                    }
                }
                updated.generation += 1;
                updated.access.retain(|a| a.expires_at > now);
                updated.access.push(step.access.clone());
                let txn = Txn::new().put(
                    &key,
                    encode(&updated)?,
                    Some(ttl_until(now, family.expires_at)),
                );
                Ok(Cas::Commit(txn, (Rotation::Rotated(updated), Vec::new())))
            })
            .await?;
        self.denied_now(&denials).await;
        Ok(outcome)
    }

    /// Revokes a family and denies the access tokens minted from it that are still live;
    /// true if it was live.
    pub async fn revoke_refresh_family(&self, id: &str, now: UnixTime) -> Result<bool, StoreError> {
        let key = family_key(id);
        let (revoked, denials) = self
            .cas(&key, |family: Option<RefreshFamily>| match family {
                Some(family) if !family.revoked => {
                    let (txn, _, denials) = revocation(&key, &family, now)?;
                    Ok(Cas::Commit(txn, (true, denials)))
                }
                _ => Ok(Cas::Stop((false, Vec::new()))),
            })
            .await?;
        self.denied_now(&denials).await;
        Ok(revoked)
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
        let ttl = ttl_until(now, expires_at);
        let until = denial_until(ttl);
        let txn = Txn::new().put(denied_key(jti), until.to_string().into_bytes(), Some(ttl));
        self.kv.commit(txn).await?;
        self.denied_now(&[(jti.to_owned(), until)]).await;
        Ok(())
    }

    /// Whether `jti` is denied: from the in-memory mirror when it is complete, else from
    /// the store.
    pub async fn is_access_token_denied(&self, jti: &str) -> Result<bool, StoreError> {
        if let Some(denied) = self.denied.lookup(jti, crate::clock::system_now()) {
            return Ok(denied);
        }
        Ok(self.kv.get(&denied_key(jti)).await?.is_some())
    }

    /// Denials just committed: into this replica's mirror before anyone is answered, and to
    /// the other replicas' mirrors through pub/sub. A lost message is the other replicas'
    /// staleness, bounded by their reconnect (which makes them ask the store again).
    async fn denied_now(&self, denials: &[(String, UnixTime)]) {
        for (jti, expires_at) in denials {
            self.denied.insert(jti, *expires_at);
            let message = format!("{MSG_DENIED}{expires_at}:{jti}");
            if let Err(e) = self.kv.publish(&message).await {
                tracing::warn!(error = %e, "cannot tell the other replicas of a denied token");
            }
        }
    }

    /// Loads every denial in the store into the mirror, in the background; the mirror is
    /// complete when it is done, unless messages were missed since `generation`.
    pub(super) fn spawn_deny_list_load(self: &Arc<Self>, generation: u64) {
        let store = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut backoff = std::time::Duration::from_millis(100);
            loop {
                let Some(s) = store.upgrade() else { return };
                if s.denied.generation() != generation {
                    // A newer load has been started.
                    return;
                }
                match s.kv.scan_prefix(DENIED_PREFIX).await {
                    Ok(rows) => {
                        let now = crate::clock::system_now();
                        let entries = rows
                            .into_iter()
                            .filter_map(|(key, value)| {
                                let jti = key.strip_prefix(DENIED_PREFIX)?.to_owned();
                                Some((jti, stored_denial_until(&value, now)))
                            })
                            .collect();
                        s.denied.loaded(generation, entries);
                        return;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, retry_in = ?backoff, "cannot load the deny list; checks ask the store meanwhile");
                    }
                }
                drop(s);
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(std::time::Duration::from_secs(30));
            }
        });
    }
}

/// When a denial written now with `ttl` stops mattering, in the machine's time (unix seconds),
/// as the store's own expiry counts it: the stored value, the mirror and the messages all
/// use it, so the mirror forgets a denial exactly when the store does.
fn denial_until(ttl: std::time::Duration) -> UnixTime {
    crate::clock::system_now().saturating_add(ttl.as_secs())
}

/// The end of a stored denial (its value). Records written before the value held it say `1`;
/// they are kept for a day at most in memory (an access token lives far less), and the store
/// expires them anyway.
fn stored_denial_until(value: &[u8], now: UnixTime) -> UnixTime {
    std::str::from_utf8(value)
        .ok()
        .and_then(|v| v.parse::<UnixTime>().ok())
        .filter(|until| *until > 1)
        .unwrap_or(now + 86_400)
}

/// Access tokens denied by a change: `(jti, expires_at)`.
type Denials = Vec<(String, UnixTime)>;

/// The writes that revoke `family` (stored under `key`): the family marked revoked, and
/// every access token minted from it that is still live put on the deny list, in one atomic
/// step with the compare-and-swap (RFC 7009 §2.1: revoking a grant invalidates the access
/// tokens based on it).
fn revocation(
    key: &str,
    family: &RefreshFamily,
    now: UnixTime,
) -> Result<(Txn, RefreshFamily, Denials), StoreError> {
    let mut updated = family.clone();
    updated.revoked = true;
    let live = std::mem::take(&mut updated.access);
    let mut txn = Txn::new().put(
        key,
        encode(&updated)?,
        Some(ttl_until(now, family.expires_at)),
    );
    let mut denials = Vec::new();
    for a in live.into_iter().filter(|a| a.expires_at > now) {
        let ttl = ttl_until(now, a.expires_at);
        let until = denial_until(ttl);
        txn = txn.put(
            denied_key(&a.jti),
            until.to_string().into_bytes(),
            Some(ttl),
        );
        denials.push((a.jti, until));
    }
    Ok((txn, updated, denials))
}
