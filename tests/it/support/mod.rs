pub mod broker;
pub mod browser;
