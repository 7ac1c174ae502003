//! The directory: users, unique by sign-in email and by upstream link.
//!
//! Keys: `v1/user/{id}` holds the record; `v1/user-email/{email}` and
//! `v1/user-link/{link}` hold the id. Record and indexes change in one transaction, and
//! every change is compare-and-swap on the record, so two admins (or an admin and a
//! re-sync) never overwrite each other's change silently.

use std::sync::Arc;

use super::backend::KvBackend;
use super::{Cas, MSG_USER, Store, StoreError, Txn, UpstreamLink, User, UserGroups, encode};

/// Why a directory change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserConflict {
    #[error("another user already signs in with this email")]
    EmailTaken,
    #[error("another user is already linked to this upstream identity")]
    LinkTaken,
    #[error("no such user")]
    NotFound,
}

fn user_key(id: &str) -> String {
    format!("v1/user/{id}")
}
fn email_key(email: &str) -> String {
    format!("v1/user-email/{email}")
}
fn link_key(link: &UpstreamLink) -> String {
    format!("v1/user-link/{}", link.index_key())
}
fn groups_key(user_id: &str) -> String {
    format!("v1/user-groups/{user_id}")
}

impl Store {
    /// The hot-path lookup: the cached answer for `email` when there is one, without I/O.
    /// `Some(None)` is a cached "no such user".
    pub fn cached_user_by_email(&self, email: &str) -> Option<Option<Arc<User>>> {
        self.users_by_email.get(email)
    }

    /// The user who signs in with `email` (normalised), through the cache.
    pub async fn user_by_email(&self, email: &str) -> Result<Option<Arc<User>>, StoreError> {
        if let Some(hit) = self.users_by_email.get(email) {
            metrics::counter!("idbroker_user_cache_total", "result" => "hit").increment(1);
            return Ok(hit);
        }
        metrics::counter!("idbroker_user_cache_total", "result" => "miss").increment(1);
        let user = match self.get_json::<String>(&email_key(email)).await? {
            None => None,
            Some(id) => self.user_by_id(&id).await?.map(Arc::new),
        };
        self.users_by_email.insert(email.to_owned(), user.clone());
        Ok(user)
    }

    pub async fn user_by_id(&self, id: &str) -> Result<Option<User>, StoreError> {
        self.get_json(&user_key(id)).await
    }

    pub async fn user_by_link(&self, link: &UpstreamLink) -> Result<Option<User>, StoreError> {
        match self.get_json::<String>(&link_key(link)).await? {
            None => Ok(None),
            Some(id) => self.user_by_id(&id).await,
        }
    }

    /// Adds a user; refused when the email or the link is taken. The id must be new.
    pub async fn create_user(&self, user: &User) -> Result<Result<(), UserConflict>, StoreError> {
        let id = encode(&user.id)?;
        let mut txn = Txn::new()
            .expect_absent(user_key(&user.id))
            .expect_absent(email_key(&user.email))
            .put(user_key(&user.id), encode(user)?, None)
            .put(email_key(&user.email), id.clone(), None);
        if let Some(link) = &user.link {
            txn = txn
                .expect_absent(link_key(link))
                .put(link_key(link), id, None);
        }
        if self.kv.commit(txn).await? {
            self.invalidate_user(&user.email).await;
            return Ok(Ok(()));
        }
        // Say which index was taken.
        if self.kv.get(&email_key(&user.email)).await?.is_some() {
            return Ok(Err(UserConflict::EmailTaken));
        }
        Ok(Err(UserConflict::LinkTaken))
    }

    /// Changes the user `id` with `change`, retrying on concurrent changes. The closure may be
    /// called more than once and must be a pure function of the record it gets. Returns the
    /// stored result, or why it was refused.
    pub async fn update_user(
        &self,
        id: &str,
        mut change: impl FnMut(&mut User),
    ) -> Result<Result<User, UserConflict>, StoreError> {
        let key = user_key(id);
        // What the last attempt tried. Reading its record again unchanged means that attempt
        // lost to a taken index, not to a concurrent change.
        let mut tried: Option<(User, User)> = None;
        let attempt = self
            .cas(&key, |current: Option<User>| {
                let Some(old) = current else {
                    return Ok(Cas::Stop(Attempt::NotFound));
                };
                if let Some((before, new)) = tried.take_if(|(before, _)| *before == old) {
                    return Ok(Cas::Stop(Attempt::IndexTaken(before, new)));
                }
                let mut new = old.clone();
                change(&mut new);
                new.id = old.id.clone();
                if new == old {
                    return Ok(Cas::Stop(Attempt::Unchanged(new)));
                }
                let id_bytes = encode(&new.id)?;
                let mut txn = Txn::new().put(&key, encode(&new)?, None);
                if new.email != old.email {
                    txn = txn
                        .expect_absent(email_key(&new.email))
                        .delete(email_key(&old.email))
                        .put(email_key(&new.email), id_bytes.clone(), None);
                }
                if new.link != old.link {
                    if let Some(link) = &old.link {
                        txn = txn.delete(link_key(link));
                    }
                    if let Some(link) = &new.link {
                        txn = txn
                            .expect_absent(link_key(link))
                            .put(link_key(link), id_bytes, None);
                    }
                }
                tried = Some((old.clone(), new.clone()));
                Ok(Cas::Commit(txn, Attempt::Stored(old, new)))
            })
            .await;
        let attempt = match attempt {
            // The last attempt lost too: look once more whether it lost to an index.
            Err(StoreError::Contended) => match tried {
                Some((old, new))
                    if self
                        .kv
                        .get(&key)
                        .await?
                        .is_some_and(|c| decode_eq(&c, &old)) =>
                {
                    Attempt::IndexTaken(old, new)
                }
                _ => return Err(StoreError::Contended),
            },
            other => other?,
        };
        match attempt {
            Attempt::NotFound => Ok(Err(UserConflict::NotFound)),
            Attempt::Unchanged(user) => Ok(Ok(user)),
            Attempt::Stored(old, new) => {
                self.invalidate_user(&old.email).await;
                if new.email != old.email {
                    self.invalidate_user(&new.email).await;
                }
                Ok(Ok(new))
            }
            Attempt::IndexTaken(old, new) => {
                if new.email != old.email && self.kv.get(&email_key(&new.email)).await?.is_some() {
                    return Ok(Err(UserConflict::EmailTaken));
                }
                Ok(Err(UserConflict::LinkTaken))
            }
        }
    }

    /// Every directory user, ordered by id. For the admin API and sync, not for logins.
    pub async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        Ok(self
            .list_docs::<User>("user")
            .await?
            .into_iter()
            .map(|(_, u)| u)
            .collect())
    }

    /// The upstream groups of `user_id` as last read (see [`UserGroups`]).
    pub async fn user_groups(&self, user_id: &str) -> Result<Option<UserGroups>, StoreError> {
        self.get_json(&groups_key(user_id)).await
    }

    /// Replaces the upstream groups of `user_id`: read at a sign-in, written whole.
    pub async fn put_user_groups(
        &self,
        user_id: &str,
        groups: &UserGroups,
    ) -> Result<(), StoreError> {
        self.kv
            .commit(Txn::new().put(groups_key(user_id), encode(groups)?, None))
            .await?;
        Ok(())
    }

    /// Drops the cached entry here and on every other replica.
    async fn invalidate_user(&self, email: &str) {
        self.users_by_email.invalidate(email);
        // Best effort: when publishing fails the store is down, and the other replicas'
        // entries expire with the cache's time to live.
        let _ = self.kv.publish(&format!("{MSG_USER}{email}")).await;
    }
}

/// How one attempt of [`Store::update_user`] ended.
enum Attempt {
    NotFound,
    /// The change changes nothing; nothing was written.
    Unchanged(User),
    /// Stored: the record before and after.
    Stored(User, User),
    /// The record before and the change that lost to a taken email or link.
    IndexTaken(User, User),
}

fn decode_eq(bytes: &[u8], user: &User) -> bool {
    serde_json::from_slice::<User>(bytes).is_ok_and(|u| &u == user)
}
