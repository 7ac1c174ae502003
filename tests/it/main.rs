//! The one integration-test binary (each file under `tests/` would be its own binary).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mod store_conformance;
