//! idbroker's one integration-test binary (each file under `tests/` would be its own binary,
//! and linking them dominates the run; see STYLE.md).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod acr;
mod admin;
mod apis;
mod apps;
mod architecture;
mod audit;
mod backup;
mod branding;
mod browser;
mod cli;
mod client_assertion;
mod console;
mod device;
mod durability;
mod fake_entra;
mod groups;
mod growth;
mod hostile_connections;
mod login_page;
mod metrics;
mod mfa;
mod native;
mod op_errors;
mod op_flow;
mod passkeys;
mod password_reset;
mod passwords;
mod profile;
mod redis_ha;
mod reload;
mod replicas;
mod runtime_orgs;
mod signing;
mod sso;
mod store_conformance;
mod support;
mod tls;
mod token_abuse;
mod token_exchange;
mod userinfo;
