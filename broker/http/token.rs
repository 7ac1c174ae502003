//! `/token` (RFC 6749 §3.2), `/revoke` (RFC 7009), `/introspect` (RFC 7662).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::error::{ApiError, oauth_json};
use super::extract::{ApiForm, ApiResourceForm, Browser, ClientAuthForm, client_credentials};
use crate::op::{ErrorCode, OpError};
use crate::service::token::TokenParams;
use crate::service::{Broker, ServiceError};

#[derive(Deserialize)]
pub struct TokenForm {
    grant_type: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    refresh_token: Option<String>,
    scope: Option<String>,
    #[serde(flatten)]
    client: ClientAuthForm,
    device_code: Option<String>,
    subject_token: Option<String>,
    subject_token_type: Option<String>,
    requested_token_type: Option<String>,
    actor_token: Option<String>,
    audience: Option<String>,
    // No `resource`: it may be repeated (RFC 8707 §2), so it is read apart.
}

pub async fn token(
    State(broker): State<Arc<Broker>>,
    Browser(ctx): Browser,
    headers: HeaderMap,
    ApiResourceForm(f, resource): ApiResourceForm<TokenForm>,
) -> Result<Response, ApiError> {
    let creds = client_credentials(&headers, &f.client)?;
    let client = broker.tokens().authenticate_client(&creds).await?;
    let params = TokenParams {
        grant_type: f.grant_type,
        code: f.code,
        redirect_uri: f.redirect_uri,
        code_verifier: f.code_verifier,
        refresh_token: f.refresh_token,
        scope: f.scope,
        device_code: f.device_code,
        subject_token: f.subject_token,
        subject_token_type: f.subject_token_type,
        requested_token_type: f.requested_token_type,
        actor_token: f.actor_token,
        audience: f.audience,
        resource,
        ip: ctx.ip,
    };
    match broker.tokens().token(client, &params).await {
        Ok(body) => Ok(no_store(Json(body))),
        // RFC 8628 §3.5 answers access_denied as a §5.2 error response: 400, not 403.
        Err(ServiceError::Op(e)) if e.code == ErrorCode::AccessDenied => Ok(oauth_json(
            StatusCode::BAD_REQUEST,
            e.code.as_str(),
            &e.description,
        )),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct TokenHintForm {
    token: Option<String>,
    #[allow(dead_code)]
    token_type_hint: Option<String>,
    #[serde(flatten)]
    client: ClientAuthForm,
}

pub async fn revoke(
    State(broker): State<Arc<Broker>>,
    headers: HeaderMap,
    ApiForm(f): ApiForm<TokenHintForm>,
) -> Result<Response, ApiError> {
    let creds = client_credentials(&headers, &f.client)?;
    let client = broker.tokens().authenticate_client(&creds).await?;
    let token = f
        .token
        .ok_or_else(|| OpError::invalid_request("token is missing"))?;
    broker.tokens().revoke(&client, &token).await?;
    Ok(no_store(()))
}

pub async fn introspect(
    State(broker): State<Arc<Broker>>,
    headers: HeaderMap,
    ApiForm(f): ApiForm<TokenHintForm>,
) -> Result<Response, ApiError> {
    let creds = client_credentials(&headers, &f.client)?;
    let who = broker.tokens().authenticate_introspector(&creds).await?;
    let token = f
        .token
        .ok_or_else(|| OpError::invalid_request("token is missing"))?;
    Ok(no_store(Json(
        broker.tokens().introspect(&who, &token).await?,
    )))
}

/// RFC 6749 §5.1: token responses carry `Cache-Control: no-store` and `Pragma: no-cache`.
fn no_store(body: impl IntoResponse) -> Response {
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    resp
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::extract::FromRequest;
    use axum::http::Request;
    use serde::Deserialize;
    use serde::de::DeserializeOwned;

    use super::{TokenForm, TokenHintForm};

    async fn parse<T: DeserializeOwned>(body: &str) -> Result<T, String> {
        let req = Request::post("/token")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(body.to_owned()))
            .unwrap();
        axum::Form::<T>::from_request(req, &())
            .await
            .map(|f| f.0)
            .map_err(|r| r.body_text())
    }

    /// The token form as it was written before the client parameters were flattened.
    #[derive(Deserialize)]
    struct Written {
        grant_type: Option<String>,
        code: Option<String>,
        redirect_uri: Option<String>,
        code_verifier: Option<String>,
        refresh_token: Option<String>,
        scope: Option<String>,
        client_id: Option<String>,
        client_secret: Option<String>,
        client_assertion_type: Option<String>,
        client_assertion: Option<String>,
        device_code: Option<String>,
        subject_token: Option<String>,
        subject_token_type: Option<String>,
        requested_token_type: Option<String>,
        actor_token: Option<String>,
        audience: Option<String>,
    }

    type Seen = [Option<String>; 16];

    fn written(f: Written) -> Seen {
        [
            f.grant_type,
            f.code,
            f.redirect_uri,
            f.code_verifier,
            f.refresh_token,
            f.scope,
            f.client_id,
            f.client_secret,
            f.client_assertion_type,
            f.client_assertion,
            f.device_code,
            f.subject_token,
            f.subject_token_type,
            f.requested_token_type,
            f.actor_token,
            f.audience,
        ]
    }

    fn flattened(f: TokenForm) -> Seen {
        [
            f.grant_type,
            f.code,
            f.redirect_uri,
            f.code_verifier,
            f.refresh_token,
            f.scope,
            f.client.client_id,
            f.client.client_secret,
            f.client.client_assertion_type,
            f.client.client_assertion,
            f.device_code,
            f.subject_token,
            f.subject_token_type,
            f.requested_token_type,
            f.actor_token,
            f.audience,
        ]
    }

    /// The flattened client parameters read every body exactly as the written-out form did:
    /// the same values, and the same refusal of a repeated parameter (RFC 6749 §3.2), inside
    /// the flattened part or outside it.
    #[tokio::test]
    async fn flattened_client_parameters_parse_as_before() {
        for body in [
            "",
            "grant_type=client_credentials&client_id=app&client_secret=s3cr%2Bt&scope=a+b",
            "client_id=&client_secret=",
            "client_id=a%3Ab&unknown=1&unknown=2",
            "client_assertion_type=urn%3Aietf&client_assertion=eyJ.x.y&grant_type=refresh_token\
             &refresh_token=r",
            "grant_type=authorization_code&grant_type=refresh_token",
            "client_id=a&client_id=b",
            "client_secret=a&client_secret=a",
            "client_assertion=a&grant_type=x&client_assertion=b",
            "code=c&redirect_uri=https%3A%2F%2Fapp&code_verifier=v&device_code=d\
             &subject_token=t&subject_token_type=st&requested_token_type=rt&actor_token=at\
             &audience=au&resource=re",
            "client_id",
            "client_id=%FF",
        ] {
            let before = parse::<Written>(body).await.map(written);
            let now = parse::<TokenForm>(body).await.map(flattened);
            assert_eq!(now, before, "{body}");
        }
        // `resource` is no field: repeated or not, it leaves the form as it is (RFC 8707 §2),
        // and every value is read apart, in order.
        for body in [
            "grant_type=x&resource=urn%3Aa&resource=urn%3Ab",
            "grant_type=x",
        ] {
            let form = parse::<TokenForm>(body).await.unwrap();
            assert_eq!(form.grant_type.as_deref(), Some("x"));
        }
        assert_eq!(
            super::super::extract::resources(b"resource=urn%3Aa&scope=s&resource=https%3A%2F%2Fb"),
            ["urn:a", "https://b"]
        );
        let hint = parse::<TokenHintForm>("token=t&client_id=a&client_secret=s")
            .await
            .unwrap();
        assert_eq!(
            (hint.token.as_deref(), hint.client.client_id.as_deref()),
            (Some("t"), Some("a"))
        );
        assert!(
            parse::<TokenHintForm>("token=t&client_id=a&client_id=b")
                .await
                .is_err()
        );
    }
}
