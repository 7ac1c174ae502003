//! Reading the policy file: size and shape limits, YAML parsing with located errors, then
//! validation ([`super::validate`]).
//!
//! Parse errors (bad YAML, an unknown or duplicate key, a wrong type) stop at the first one,
//! as serde does; validation problems are all collected. Either way the caller gets
//! [`ConfigError::Invalid`] with every [`Problem`] located by line and column.

use std::path::Path;

use serde_saphyr::budget::BudgetBreach;
use serde_saphyr::{Budget, Error as YamlError, MessageFormatter as _};

use super::raw::RawPolicy;
use super::validate::validate;
use super::{ConfigError, Policy, Problem};

/// A policy is mostly a hand-written file of a few hundred lines, but it may carry thousands
/// of local users (10,000 users and 1,000 organisations are about 2 MiB); 8 MiB is absurd.
const MAX_POLICY_BYTES: usize = 8 * 1024 * 1024;

/// Limits well above any real policy (the schema nests at most five levels deep), well below
/// what could exhaust memory or time: serde-saphyr enforces them while it parses.
fn budget() -> Budget {
    let mut b = Budget::default();
    b.max_depth = 16;
    b.max_nodes = 1_000_000;
    b.max_events = 2_000_000;
    b.max_total_scalar_bytes = MAX_POLICY_BYTES;
    b.max_aliases = 1_000;
    b.max_anchors = 1_000;
    b.max_merge_keys = 1_000;
    b
}

/// Reads, parses and validates the policy at `path`; `*_env` reads the process environment.
pub fn load(path: &Path) -> Result<Policy, ConfigError> {
    let file = path.display().to_string();
    let too_big = std::fs::metadata(path)
        .map(|m| m.len() > MAX_POLICY_BYTES as u64)
        .unwrap_or(false);
    if too_big {
        return Err(ConfigError::Invalid {
            file,
            problems: vec![too_large()],
        });
    }
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Io {
        file,
        reason: e.to_string(),
    })?;
    load_str(path, &text)
}

/// Parses and validates policy text; `path` names it in messages and in [`Policy::source`].
/// `*_env` reads the process environment; `*_file` and every other relative path is
/// relative to the process's working directory.
pub fn load_str(path: &Path, text: &str) -> Result<Policy, ConfigError> {
    load_str_with_env(path, text, &|name| std::env::var(name).ok())
}

/// [`load_str`] with the environment supplied by the caller (the seam for tests, and for a
/// `check-config` that wants to see what a service's environment would give).
pub fn load_str_with_env(
    path: &Path,
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Policy, ConfigError> {
    let invalid = |problems| ConfigError::Invalid {
        file: path.display().to_string(),
        problems,
    };
    if text.len() > MAX_POLICY_BYTES {
        return Err(invalid(vec![too_large()]));
    }
    let raw: RawPolicy = parse(text).map_err(|p| invalid(vec![p]))?;
    validate(raw, path, env).map_err(invalid)
}

fn too_large() -> Problem {
    Problem {
        line: 1,
        column: 1,
        reason: format!(
            "the policy is larger than {} KiB; split large user lists off into the admin API",
            MAX_POLICY_BYTES / 1024
        ),
    }
}

pub(super) fn parse<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, Problem> {
    let options = serde_saphyr::options! {
        budget: Some(budget()),
        // Only `true`/`false`: `native: no` meaning false is a YAML 1.1 surprise.
        strict_booleans: true,
        // `!!binary`, `!include` and friends have no place in a policy.
        reject_unsupported_tags: true,
        // The snippet would be multi-line; a Problem is one line plus its location.
        with_snippet: false,
    };
    serde_saphyr::from_str_with_options::<T>(text, options).map_err(|e| {
        let location = e.location();
        Problem {
            line: location.map_or(1, |l| l.line().max(1)),
            column: location.map_or(1, |l| l.column().max(1)),
            reason: parse_reason(&e),
        }
    })
}

/// The innermost error, past the snippet and alias wrappers.
fn original(mut e: &YamlError) -> &YamlError {
    loop {
        match e {
            YamlError::WithSnippet { error, .. } | YamlError::AliasError { error, .. } => e = error,
            other => return other,
        }
    }
}

/// A plain, one-line reason for a parse error.
fn parse_reason(e: &YamlError) -> String {
    let e = original(e);
    let reason = match e {
        YamlError::Budget { breach, .. } => budget_reason(breach),
        YamlError::Unexpected { expected, .. } => match *expected {
            "sequence start" => {
                "expected a list here, like [a, b] or lines starting with `- `".to_owned()
            }
            "mapping start" => {
                "expected a mapping here, like `key: value` lines or {key: value}".to_owned()
            }
            "string scalar" => "expected a single value here, not a list or mapping".to_owned(),
            other => format!("expected {other} here"),
        },
        YamlError::InvalidScalar { ty, .. } if ty.starts_with('u') || ty.starts_with('i') => {
            "expected a whole number here".to_owned()
        }
        YamlError::NullIntoString { .. } => {
            "a value is missing here (write \"\" for an empty text)".to_owned()
        }
        YamlError::MultipleDocuments { .. } => {
            "the policy must be one YAML document; remove the second `---`".to_owned()
        }
        other => serde_saphyr::UserMessageFormatter
            .format_message(other)
            .into_owned(),
    };
    // One line, no terminal control characters, whatever the file contained.
    reason
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn budget_reason(breach: &BudgetBreach) -> String {
    let b = budget();
    let what = match breach {
        BudgetBreach::Depth { .. } => format!("it nests more than {} levels deep", b.max_depth),
        BudgetBreach::Aliases { .. } | BudgetBreach::AliasAnchorRatio { .. } => {
            format!("it uses more than {} aliases (*name)", b.max_aliases)
        }
        BudgetBreach::Anchors { .. } => {
            format!("it defines more than {} anchors (&name)", b.max_anchors)
        }
        BudgetBreach::MergeKeys { .. } => {
            format!("it uses more than {} merge keys (<<)", b.max_merge_keys)
        }
        BudgetBreach::Nodes { .. } | BudgetBreach::Events { .. } => {
            format!("it has more than {} values", b.max_nodes)
        }
        BudgetBreach::ScalarBytes { .. } => format!(
            "its text adds up to more than {} KiB",
            b.max_total_scalar_bytes / 1024
        ),
        other => format!("{other:?}"),
    };
    format!(
        "the policy is refused as absurdly large or complex: {what}; a policy is a short \
         hand-written file"
    )
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_branding;
#[cfg(test)]
mod tests_mail;
