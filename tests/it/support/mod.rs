//! Shared helpers for the integration tests (one module per concern).
pub mod net;
