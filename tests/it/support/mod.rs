//! Helpers shared by the integration tests.

pub mod authenticator;
pub mod broker;
pub mod browser;
pub mod burst;
pub mod child;
pub mod net;
pub mod oauth;
pub mod redis_server;
pub mod redis_topologies;
pub mod smtp;
