//! Scopes (RFC 6749 §3.3): a space-delimited, order-free set.

use super::OpError;

/// Parses a scope parameter into distinct scopes, in request order.
pub fn parse(scope: Option<&str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in scope.unwrap_or("").split(' ').filter(|s| !s.is_empty()) {
        if !out.iter().any(|o| o == s) {
            out.push(s.to_owned());
        }
    }
    out
}

/// Every requested scope must be one the client may ask for (RFC 6749 §3.3: the server may
/// fully or partially ignore; idbroker refuses, so a misconfigured app is noticed at once).
pub fn check_allowed(requested: &[String], allowed: &[String]) -> Result<(), OpError> {
    match requested.iter().find(|s| !allowed.contains(s)) {
        None => Ok(()),
        Some(s) => Err(OpError::new(
            super::ErrorCode::InvalidScope,
            format!(
                "the scope \"{}\" is not allowed for this client",
                sanitize(s)
            ),
        )),
    }
}

pub fn join(scopes: &[String]) -> String {
    scopes.join(" ")
}

pub fn has(scopes: &[String], scope: &str) -> bool {
    scopes.iter().any(|s| s == scope)
}

/// A value echoed in an error description: printable ASCII only, bounded.
pub fn sanitize(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_graphic() || *c == ' ')
        .take(64)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_dedups_and_skips_empty() {
        assert_eq!(parse(Some("openid  email openid")), vec!["openid", "email"]);
        assert!(parse(None).is_empty());
    }

    #[test]
    fn only_allowed_scopes() {
        let allowed = vec!["openid".to_string(), "email".to_string()];
        assert!(check_allowed(&parse(Some("openid email")), &allowed).is_ok());
        let err = check_allowed(&parse(Some("openid admin")), &allowed).unwrap_err();
        assert_eq!(err.code, super::super::ErrorCode::InvalidScope);
    }
}
