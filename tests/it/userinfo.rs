//! `/userinfo` (OIDC Core §5.3) and how the access token may reach it (RFC 6750 §2): the
//! `Authorization: Bearer` header, or a form-encoded POST body (§2.2); never the query
//! (§2.3), and never two ways at once (§2, §3.1 `invalid_request`).

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use serde_json::Value;

use crate::support::broker::{PASSWORD, TestBroker, USER};
use crate::support::browser::{Browser, sign_in};
use crate::support::oauth::{redeem_spa_code, spa_authorize_url};

const FORM: &str = "application/x-www-form-urlencoded";

/// A user's access token with the `openid` scope.
async fn access_token(tb: &TestBroker) -> String {
    let back = sign_in(
        &mut Browser::new(),
        &tb.base,
        &spa_authorize_url(&tb.base, "openid%20email"),
        USER,
        PASSWORD,
    )
    .await;
    let tokens = redeem_spa_code(tb, &back.location_param("code").unwrap()).await;
    tokens["access_token"].as_str().unwrap().to_owned()
}

/// Status, `error` and `WWW-Authenticate` of an answer.
async fn outcome(resp: reqwest::Response) -> (StatusCode, Value, Option<String>) {
    let status = resp.status();
    let challenge = resp
        .headers()
        .get(WWW_AUTHENTICATE)
        .map(|v| v.to_str().unwrap().to_owned());
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    (status, body, challenge)
}

#[tokio::test]
async fn the_access_token_in_a_form_encoded_post_body_is_accepted() {
    let tb = TestBroker::start().await;
    let at = access_token(&tb).await;
    let http = reqwest::Client::new();

    // RFC 6750 §2.2.
    let resp = http
        .post(tb.url("/userinfo"))
        .header(CONTENT_TYPE, FORM)
        .body(format!("access_token={at}"))
        .send()
        .await
        .unwrap();
    let (status, body, _) = outcome(resp).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["email"], USER);

    // The header keeps working, for POST (with or without a form body) and GET.
    let resp = http
        .post(tb.url("/userinfo"))
        .bearer_auth(&at)
        .header(CONTENT_TYPE, FORM)
        .body("other=value")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = http
        .get(tb.url("/userinfo"))
        .bearer_auth(&at)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);

    // A body token that is not ours is an invalid token, as in the header.
    let resp = http
        .post(tb.url("/userinfo"))
        .header(CONTENT_TYPE, FORM)
        .body("access_token=not-a-token")
        .send()
        .await
        .unwrap();
    let (status, body, challenge) = outcome(resp).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "invalid_token");
    assert_eq!(challenge.as_deref(), Some("Bearer error=\"invalid_token\""));
}

#[tokio::test]
async fn two_ways_at_once_a_query_token_or_a_non_form_body_are_refused() {
    let tb = TestBroker::start().await;
    let at = access_token(&tb).await;
    let http = reqwest::Client::new();
    let invalid_request = |(status, body, challenge): (StatusCode, Value, Option<String>),
                           what: &str| {
        assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {body}");
        assert_eq!(body["error"], "invalid_request", "{what}");
        assert_eq!(
            challenge.as_deref(),
            Some("Bearer error=\"invalid_request\""),
            "{what}"
        );
    };

    // RFC 6750 §2: "Clients MUST NOT use more than one method to transmit the token".
    let resp = http
        .post(tb.url("/userinfo"))
        .bearer_auth(&at)
        .header(CONTENT_TYPE, FORM)
        .body(format!("access_token={at}"))
        .send()
        .await
        .unwrap();
    invalid_request(outcome(resp).await, "header and body");
    // The same token twice in one body.
    let resp = http
        .post(tb.url("/userinfo"))
        .header(CONTENT_TYPE, FORM)
        .body(format!("access_token={at}&access_token={at}"))
        .send()
        .await
        .unwrap();
    invalid_request(outcome(resp).await, "two body parameters");

    // RFC 6750 §2.3: a token in the URL ends up in logs and histories; refused whether or
    // not the header has it too, and on POST as on GET.
    for with_header in [false, true] {
        let mut req = http.get(format!("{}?access_token={at}", tb.url("/userinfo")));
        if with_header {
            req = req.bearer_auth(&at);
        }
        invalid_request(
            outcome(req.send().await.unwrap()).await,
            &format!("query, header {with_header}"),
        );
    }
    let resp = http
        .post(format!("{}?access_token={at}", tb.url("/userinfo")))
        .send()
        .await
        .unwrap();
    invalid_request(outcome(resp).await, "query on POST");

    // §2.2: only a form-encoded body is read; a JSON body carries no token.
    let resp = http
        .post(tb.url("/userinfo"))
        .json(&serde_json::json!({"access_token": at}))
        .send()
        .await
        .unwrap();
    let (status, body, _) = outcome(resp).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"], "invalid_token");
}
