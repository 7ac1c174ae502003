//! Which access token a protected-resource request carries (RFC 6750 §2): the
//! `Authorization: Bearer` header (§2.1) or an `access_token` parameter of a form-encoded
//! POST body (§2.2), exactly one of them. The URI query (§2.3) is refused: a token there ends
//! up in server logs, proxies and browser histories (§5.3), and nobody needs it. The HTTP
//! layer says what it found; this decides.

use super::{ErrorCode, OpError};

/// Where the request put an access token, as the HTTP layer found it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Presented<'a> {
    /// The token of `Authorization: Bearer …`.
    pub header: Option<&'a str>,
    /// Every `access_token` of a form-encoded POST body (only such a body counts, §2.2).
    pub body: &'a [String],
    /// Whether the query has an `access_token` parameter.
    pub in_query: bool,
}

/// The one access token of the request, or why there is none to use: `invalid_request`
/// for a token in the query or sent more than one way ("Clients MUST NOT use more than one
/// method to transmit the token in each request", §2; §3.1), `invalid_token` when there is
/// none.
pub fn access_token<'a>(p: &Presented<'a>) -> Result<&'a str, OpError> {
    if p.in_query {
        return Err(OpError::invalid_request(
            "the access token must not be sent in the URL (RFC 6750 §2.3); send it in the \
             Authorization header or a form-encoded POST body",
        ));
    }
    match (p.header, p.body) {
        (Some(_), [_, ..]) => Err(OpError::invalid_request(
            "the access token was sent both in the Authorization header and in the body; use \
             one (RFC 6750 §2)",
        )),
        (None, [_, _, ..]) => Err(OpError::invalid_request(
            "access_token is given more than once",
        )),
        (Some(token), []) => Ok(token),
        (None, [token]) if !token.is_empty() => Ok(token.as_str()),
        (None, _) => Err(OpError::new(
            ErrorCode::InvalidToken,
            "send the access token as a Bearer token, or as access_token in a form-encoded \
             POST body",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(p: Presented<'_>, expect: Result<&str, ErrorCode>) {
        assert_eq!(access_token(&p).map_err(|e| e.code), expect, "{p:?}");
    }

    #[test]
    fn one_way_only() {
        let one = ["t1".to_owned()];
        let two = ["t1".to_owned(), "t1".to_owned()];
        let empty = [String::new()];
        let p = Presented::default;
        check(
            Presented {
                header: Some("h"),
                ..p()
            },
            Ok("h"),
        );
        check(Presented { body: &one, ..p() }, Ok("t1"));
        check(p(), Err(ErrorCode::InvalidToken));
        check(
            Presented {
                body: &empty,
                ..p()
            },
            Err(ErrorCode::InvalidToken),
        );
        check(
            Presented {
                header: Some("h"),
                body: &one,
                ..p()
            },
            Err(ErrorCode::InvalidRequest),
        );
        check(
            Presented { body: &two, ..p() },
            Err(ErrorCode::InvalidRequest),
        );
        check(
            Presented {
                in_query: true,
                ..p()
            },
            Err(ErrorCode::InvalidRequest),
        );
        check(
            Presented {
                header: Some("h"),
                in_query: true,
                ..p()
            },
            Err(ErrorCode::InvalidRequest),
        );
    }
}
