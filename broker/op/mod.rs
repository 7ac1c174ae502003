//! The OpenID Provider's rules, as pure functions: what a valid authorization request is,
//! how codes, PKCE, redirect URIs, scopes, sessions and tokens are judged.
//!
//! Nothing here does I/O or reads the clock; callers pass `now`. The service layer
//! (`crate::service`) fetches records, calls these rules, and stores the results.

pub mod authorize;
pub mod bearer;
pub mod claims;
pub mod client_assertion;
pub mod discovery;
pub mod error;
pub mod groups;
pub mod pkce;
pub mod redirect_uri;
pub mod resource;
pub mod scope;
pub mod session;

pub use error::{ErrorCode, OpError};
