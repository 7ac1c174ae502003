//! Protocol errors of the OP, with the codes of RFC 6749 §4.1.2.1 / §5.2, OIDC Core
//! §3.1.2.6 and RFC 7009 / 8628. The HTTP layer decides their form (JSON, redirect, page).

use std::borrow::Cow;

/// An error code defined by the OAuth / OIDC specifications.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    UnsupportedResponseType,
    InvalidScope,
    AccessDenied,
    ServerError,
    TemporarilyUnavailable,
    /// OIDC Core §3.1.2.6.
    LoginRequired,
    RequestNotSupported,
    RequestUriNotSupported,
    /// RFC 6750 §3.1.
    InvalidToken,
    /// RFC 7009 §2.2.1.
    UnsupportedTokenType,
    /// RFC 8628 §3.5.
    AuthorizationPending,
    SlowDown,
    ExpiredToken,
    /// RFC 8693 §2.2.2.
    InvalidTarget,
    /// OpenID Connect Core Error Code unmet_authentication_requirements 1.0 §2: the
    /// authentication the client requires was not achieved.
    UnmetAuthenticationRequirements,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::InvalidGrant => "invalid_grant",
            ErrorCode::UnauthorizedClient => "unauthorized_client",
            ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            ErrorCode::UnsupportedResponseType => "unsupported_response_type",
            ErrorCode::InvalidScope => "invalid_scope",
            ErrorCode::AccessDenied => "access_denied",
            ErrorCode::ServerError => "server_error",
            ErrorCode::TemporarilyUnavailable => "temporarily_unavailable",
            ErrorCode::LoginRequired => "login_required",
            ErrorCode::RequestNotSupported => "request_not_supported",
            ErrorCode::RequestUriNotSupported => "request_uri_not_supported",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::UnsupportedTokenType => "unsupported_token_type",
            ErrorCode::AuthorizationPending => "authorization_pending",
            ErrorCode::SlowDown => "slow_down",
            ErrorCode::ExpiredToken => "expired_token",
            ErrorCode::InvalidTarget => "invalid_target",
            ErrorCode::UnmetAuthenticationRequirements => "unmet_authentication_requirements",
        }
    }
}

/// A protocol error: a code and a human-readable description (never secret).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {description}", code.as_str())]
pub struct OpError {
    pub code: ErrorCode,
    pub description: Cow<'static, str>,
}

impl OpError {
    pub fn new(code: ErrorCode, description: impl Into<Cow<'static, str>>) -> OpError {
        OpError {
            code,
            description: description.into(),
        }
    }

    pub fn invalid_request(d: impl Into<Cow<'static, str>>) -> OpError {
        OpError::new(ErrorCode::InvalidRequest, d)
    }

    pub fn invalid_grant(d: impl Into<Cow<'static, str>>) -> OpError {
        OpError::new(ErrorCode::InvalidGrant, d)
    }

    pub fn invalid_client(d: impl Into<Cow<'static, str>>) -> OpError {
        OpError::new(ErrorCode::InvalidClient, d)
    }
}
