//! The YAML policy: parsing with located errors ([`load`]) and the validated model
//! ([`model`]). See the policy reference (docs/src/policy.md) for the schema.

mod load;
pub mod model;
mod raw;
mod rules;
pub mod runtime;
mod validate;

pub use load::{load, load_str, load_str_with_env};
pub use model::*;

/// A policy that cannot be used. Every variant names the file; validation problems also name
/// the line and column (1-based) of the offending value.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{file}: cannot read the policy: {reason}")]
    Io { file: String, reason: String },
    #[error("{}", render_problems(.file, .problems))]
    Invalid {
        file: String,
        problems: Vec<Problem>,
    },
}

/// One thing wrong with a policy, where it is, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: u64,
    pub column: u64,
    pub reason: String,
}

fn render_problems(file: &str, problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("{file}:{}:{}: {}", p.line, p.column, p.reason))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Checks an email domain as the policy does (`organizations[].domains`): lower-cased, or
/// why it is not one.
pub fn email_domain(text: &str) -> Result<String, String> {
    rules::domain(text)
}

/// Checks an email address as the policy does (`users[].email`, `admins`): lower-cased, or
/// why it is not one.
pub fn email_address(text: &str) -> Result<String, String> {
    rules::email(text)
}
