//! RFC 8628 device authorization grant.

use super::issue::TokenResponse;
use super::token::TokenParams;
use super::{Broker, ServiceError};
use crate::op::{ErrorCode, OpError};
use crate::policy::Client;

impl Broker {
    pub(crate) async fn device_code_grant(
        &self,
        _client: &Client,
        _p: &TokenParams,
    ) -> Result<TokenResponse, ServiceError> {
        Err(OpError::new(ErrorCode::UnsupportedGrantType, "not yet").into())
    }
}
