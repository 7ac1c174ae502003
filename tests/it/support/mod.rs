//! Helpers shared by the integration tests.

pub mod broker;
pub mod browser;
pub mod net;
pub mod redis_server;
