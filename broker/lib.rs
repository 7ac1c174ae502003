//! idbroker: a standalone OpenID Connect identity broker.
//!
//! The crate is one library with a thin binary (`main.rs`). See `ARCHITECTURE.md` at the
//! repository root for the map of these modules and the invariants they keep.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod acr;
pub mod admin_client;
pub mod branding;
pub mod clock;
pub mod directory;
pub mod files;
pub mod hrd;
pub mod http;
pub mod i18n;
pub mod jose;
pub mod keys;
pub mod logging;
pub mod mail;
pub mod metrics;
pub mod mfa;
pub mod op;
pub mod password;
pub mod policy;
pub mod reload;
pub mod request_id;
pub mod secret;
pub mod server;
pub mod service;
pub mod store;
pub mod tls;
pub mod upstream;
