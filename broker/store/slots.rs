//! Which keys may change together: every key belongs to one *slot group*, and a [`Txn`]
//! touches keys of one group only.
//!
//! Redis Cluster runs a script only when all its keys hash to one slot (`CROSSSLOT`
//! otherwise), so the keys that one atomic change needs must share a hash tag. The groups are
//! the broker's consistency boundaries:
//!
//! | group      | families                                   | why together                         |
//! |------------|--------------------------------------------|--------------------------------------|
//! | `users`    | `user`, `user-email`, `user-link`, `user-totp`, `passkeys`, `passkey-cred` | a user, its unique indexes, its one-time-code key, its passkeys and their owner index |
//! | `orgs`     | `org`, `rorg`, `org-admins`, `admin-of`    | an organisation, its state, admins   |
//! | `device`   | `device`, `device-user`                    | a device grant and its user code     |
//! | `sessions` | `session`, `user-sessions`                 | a session and its user's index       |
//! | `grants`   | `refresh`, `user-families`, `denied-jti`     | a refresh family, its index, and the access tokens its revocation denies |
//!
//! The families on the hot paths that never change with another key — rate counters,
//! authorization codes, login transactions, single-use values, audit records — have no
//! group: each key is its own, so Redis Cluster spreads them over every primary. Any other
//! family is one group per family.
//!
//! Both engines refuse a transaction that spans groups (see [`check`]), so a change that
//! would fail on a cluster fails in every test, whatever the engine.

use super::StoreError;
use super::backend::{Txn, Write};

/// The slot group of a key; keys of one group may change in one [`Txn`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group<'a> {
    /// A named group of several families (see the module's table) or one family.
    Named(&'a str),
    /// A key that never changes with another: its own group.
    Own(&'a str),
}

impl Group<'_> {
    /// The Redis Cluster hash tag for this group: every key of a named group carries it;
    /// a key of its own carries none and hashes whole.
    pub fn hash_tag(&self) -> Option<&str> {
        match self {
            Group::Named(name) => Some(name),
            Group::Own(_) => None,
        }
    }
}

/// Families whose keys never change together with another key.
const OWN: &[&str] = &[
    "rate",
    "code",
    "tx",
    "once",
    "upstream-state",
    "audit",
    "meta",
    "user-groups",
];

/// The slot group of `key` (a logical key such as `v1/user/…`, without the engine's prefix).
pub fn group(key: &str) -> Group<'_> {
    let rest = key.strip_prefix("v1/").unwrap_or(key);
    let family = rest.split_once('/').map_or(rest, |(f, _)| f);
    match family {
        "user" | "user-email" | "user-link" | "user-totp" | "passkeys" | "passkey-cred" => {
            Group::Named("users")
        }
        "org" | "rorg" | "org-admins" | "admin-of" => Group::Named("orgs"),
        "device" | "device-user" => Group::Named("device"),
        "session" | "user-sessions" => Group::Named("sessions"),
        "refresh" | "user-families" | "denied-jti" => Group::Named("grants"),
        f if OWN.contains(&f) => Group::Own(key),
        f => Group::Named(f),
    }
}

/// The keys a transaction touches, checks first, in order.
pub fn keys(txn: &Txn) -> impl Iterator<Item = &str> {
    let checked = txn.checks.iter().map(|c| c.key.as_str());
    let written = txn.writes.iter().map(|w| match w {
        Write::Put { key, .. }
        | Write::Delete { key }
        | Write::SetAdd { key, .. }
        | Write::SetRemove { key, .. } => key.as_str(),
    });
    checked.chain(written)
}

/// Refuses a transaction whose keys are not all of one slot group.
pub fn check(txn: &Txn) -> Result<(), StoreError> {
    let mut keys = keys(txn);
    let Some(first) = keys.next() else {
        return Ok(());
    };
    let g = group(first);
    match keys.find(|k| group(k) != g) {
        None => Ok(()),
        Some(other) => Err(StoreError::Refused(format!(
            "a transaction may touch one slot group only: {first:?} is in {g:?}, {other:?} in {:?}",
            group(other)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_that_change_together_share_a_group() {
        for (a, b) in [
            ("v1/user/u1", "v1/user-email/a@b.c"),
            ("v1/user/u1", "v1/user-link/entra/t/o"),
            ("v1/passkeys/u1", "v1/passkey-cred/AAAA"),
            ("v1/user/u1", "v1/passkeys/u1"),
            ("v1/user/u1", "v1/user-totp/u1"),
            ("v1/org/contoso", "v1/rorg/contoso"),
            ("v1/org-admins/contoso", "v1/admin-of/a@b.c"),
            ("v1/device/d", "v1/device-user/ABCD-EFGH"),
            ("v1/session/s", "v1/user-sessions/u1"),
            ("v1/refresh/f", "v1/user-families/u1"),
            ("v1/refresh/f", "v1/denied-jti/jti"),
        ] {
            assert_eq!(group(a), group(b), "{a} and {b}");
            assert!(group(a).hash_tag().is_some());
        }
    }

    #[test]
    fn hot_single_key_families_spread() {
        for key in [
            "v1/rate/login/1.2.3.4",
            "v1/code/abc",
            "v1/tx/t",
            "v1/once/consent/x",
            "v1/audit/a",
        ] {
            assert_eq!(group(key), Group::Own(key));
            assert_eq!(group(key).hash_tag(), None);
        }
        assert_ne!(group("v1/code/a"), group("v1/code/b"));
    }

    #[test]
    fn other_families_are_a_group_each() {
        assert_eq!(group("v1/a/keep"), group("v1/a/guard"));
        assert_ne!(group("v1/a/keep"), group("v1/b/keep"));
        assert_eq!(group("v1/loose"), Group::Named("loose"));
    }

    #[test]
    fn a_transaction_across_groups_is_refused() {
        let ok = Txn::new()
            .expect_absent("v1/user/u")
            .put("v1/user-email/e", b"u".to_vec(), None);
        assert!(check(&ok).is_ok());
        assert!(check(&Txn::new()).is_ok());
        let bad =
            Txn::new()
                .put("v1/session/s", Vec::new(), None)
                .put("v1/user/u", Vec::new(), None);
        assert!(matches!(check(&bad), Err(StoreError::Refused(_))));
        let two_codes = Txn::new().delete("v1/code/a").delete("v1/code/b");
        assert!(check(&two_codes).is_err());
    }
}
