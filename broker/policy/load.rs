//! Parsing and validation of the policy file. (Being written.)
use std::path::Path;

use super::{ConfigError, Policy};

/// Reads, parses and validates the policy at `path`.
pub fn load(path: &Path) -> Result<Policy, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Io {
        file: path.display().to_string(),
        reason: e.to_string(),
    })?;
    load_str(path, &text)
}

/// Parses and validates policy text; `path` names it in messages and anchors relative paths.
pub fn load_str(path: &Path, _text: &str) -> Result<Policy, ConfigError> {
    Err(ConfigError::Io {
        file: path.display().to_string(),
        reason: "policy loading is not built yet".into(),
    })
}
