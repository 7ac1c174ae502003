//! The service layer's error: a protocol answer, or a failure of a part below.

use crate::op::OpError;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The request is wrong; the answer is a protocol error (never a 5xx).
    #[error(transparent)]
    Op(#[from] OpError),
    /// The store cannot be reached: answer 503 and change nothing.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Keys(#[from] crate::keys::KeyError),
    #[error(transparent)]
    Password(#[from] crate::password::PasswordError),
    /// The user's login cannot continue and must start again (expired or foreign
    /// transaction, bad CSRF token). The text is shown to the user.
    #[error("{0}")]
    Restart(crate::i18n::Msg),
    /// Single sign-on did not succeed. `title` and `message` are shown to the user and say
    /// nothing internal; `unavailable` means the upstream (not the user) is the problem.
    #[error("{title}: {message}")]
    SignIn {
        unavailable: bool,
        title: crate::i18n::Msg,
        message: crate::i18n::Msg,
    },
    /// Too many attempts: come back after this many seconds.
    #[error("too many attempts; retry after {0} s")]
    RateLimited(u64),
}
