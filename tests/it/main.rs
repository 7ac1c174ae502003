//! idbroker's one integration-test binary (one binary keeps linking fast; see STYLE.md).

mod browser;
mod cli;
mod login_page;
mod op_errors;
mod op_flow;
mod store_conformance;
mod support;
