//! Every bad input gets a clear protocol error or page, and changes nothing.

use idbroker::clock::Clock;
use idbroker::op::pkce;
use serde_json::Value;

use crate::support::broker::{PASSWORD, TestBroker, USER, WEB_SECRET};
use crate::support::browser::{Browser, sign_in};

const SPA_CB: &str = "http://127.0.0.1:9000/callback";

/// An authorization request for `spa`; `extra` may replace the default `scope`.
fn authorize_url(base: &str, extra: &str) -> String {
    let scope = if extra.contains("&scope=") {
        ""
    } else {
        "&scope=openid"
    };
    format!(
        "{base}/authorize?response_type=code&client_id=spa&redirect_uri={SPA_CB}{scope}&state=s1{extra}"
    )
}

fn challenge_params(verifier: &str) -> String {
    format!(
        "&code_challenge={}&code_challenge_method=S256",
        pkce::s256_challenge(verifier)
    )
}

const VERIFIER: &str = "verifier-verifier-verifier-verifier-verifier-0001";

/// A code for `spa`, obtained through the login page.
async fn code(tb: &TestBroker) -> String {
    let mut b = Browser::new();
    let back = sign_in(
        &mut b,
        &tb.base,
        &authorize_url(&tb.base, &challenge_params(VERIFIER)),
        USER,
        PASSWORD,
    )
    .await;
    back.location_param("code").unwrap()
}

async fn token(tb: &TestBroker, form: &[(&str, &str)]) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(tb.url("/token"))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn unknown_client_and_unregistered_redirect_get_a_page_never_a_redirect() {
    let tb = TestBroker::start().await;
    let mut b = Browser::new();
    for url in [
        format!(
            "{}/authorize?response_type=code&client_id=nope&redirect_uri={SPA_CB}",
            tb.base
        ),
        format!(
            "{}/authorize?response_type=code&client_id=spa&redirect_uri=https://evil.example/cb",
            tb.base
        ),
        format!(
            "{}/authorize?response_type=code&client_id=spa&redirect_uri={SPA_CB}/extra",
            tb.base
        ),
        format!("{}/authorize?response_type=code&client_id=spa", tb.base),
        format!(
            "{}/authorize?response_type=code&redirect_uri={SPA_CB}",
            tb.base
        ),
    ] {
        let page = b.get(&url).await;
        assert_eq!(page.status, 400, "{url}");
        assert!(page.location.is_none(), "{url} must not redirect");
        assert!(
            page.headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
    }
}

#[tokio::test]
async fn authorize_errors_after_a_valid_redirect_go_back_to_the_client() {
    let tb = TestBroker::start().await;
    let mut b = Browser::new();
    let cases = [
        ("", "invalid_request"), // public client without PKCE
        (
            "&code_challenge=abc&code_challenge_method=plain",
            "invalid_request",
        ),
        (
            "&code_challenge=tooshort&code_challenge_method=S256",
            "invalid_request",
        ),
        ("&scope=openid%20admin", "invalid_scope"),
        ("&request=eyJ", "request_not_supported"),
        ("&prompt=none%20login", "invalid_request"),
    ];
    for (extra, error) in cases {
        let page = b.get(&authorize_url(&tb.base, extra)).await;
        assert_eq!(page.status, 303, "{extra}: {}", page.body);
        assert!(
            page.location.as_deref().unwrap().starts_with(SPA_CB),
            "{extra}"
        );
        assert_eq!(
            page.location_param("error").as_deref(),
            Some(error),
            "{extra}"
        );
        assert_eq!(page.location_param("state").as_deref(), Some("s1"));
    }
    let page = b
        .get(&format!(
            "{}/authorize?response_type=token&client_id=spa&redirect_uri={SPA_CB}&state=s1",
            tb.base
        ))
        .await;
    assert_eq!(
        page.location_param("error").as_deref(),
        Some("unsupported_response_type")
    );
    // prompt=none without a session.
    let page = b
        .get(&authorize_url(
            &tb.base,
            &format!("{}&prompt=none", challenge_params(VERIFIER)),
        ))
        .await;
    assert_eq!(
        page.location_param("error").as_deref(),
        Some("login_required")
    );
}

#[tokio::test]
async fn token_request_errors_change_nothing() {
    let tb = TestBroker::start().await;
    let code = code(&tb).await;
    let base = [
        ("grant_type", "authorization_code"),
        ("client_id", "spa"),
        ("redirect_uri", SPA_CB),
    ];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut v: Vec<(&str, &str)> = base.to_vec();
        v.extend_from_slice(extra);
        v
    };
    let code_s: &'static str = Box::leak(code.clone().into_boxed_str());
    // Wrong PKCE verifier, missing verifier, wrong redirect_uri, another client: each fails
    // with invalid_grant and leaves the code redeemable.
    for (form, why) in [
        (
            with(&[
                ("code", code_s),
                (
                    "code_verifier",
                    "wrong-verifier-wrong-verifier-wrong-verifier-01",
                ),
            ]),
            "wrong verifier",
        ),
        (with(&[("code", code_s)]), "missing verifier"),
        (
            vec![
                ("grant_type", "authorization_code"),
                ("client_id", "spa"),
                ("redirect_uri", "http://127.0.0.1:9000/other"),
                ("code", code_s),
                ("code_verifier", VERIFIER),
            ],
            "redirect mismatch",
        ),
        (
            vec![
                ("grant_type", "authorization_code"),
                ("client_id", "web"),
                ("client_secret", WEB_SECRET),
                ("redirect_uri", SPA_CB),
                ("code", code_s),
                ("code_verifier", VERIFIER),
            ],
            "another client",
        ),
    ] {
        let (status, body) = token(&tb, &form).await;
        assert_eq!(status, 400, "{why}: {body}");
        assert_eq!(body["error"], "invalid_grant", "{why}");
    }
    // Wrong client secret: 401 invalid_client.
    let (status, body) = token(
        &tb,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "web"),
            ("client_secret", "wrong"),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    // Unknown grant type.
    let (status, body) = token(&tb, &[("grant_type", "password"), ("client_id", "spa")]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
    // A public client may not use client_credentials.
    let (_, body) = token(
        &tb,
        &[("grant_type", "client_credentials"), ("client_id", "spa")],
    )
    .await;
    assert_eq!(body["error"], "unauthorized_client");
    // Malformed form: a repeated parameter (RFC 6749 §3.2) is invalid_request JSON.
    let r = reqwest::Client::new()
        .post(tb.url("/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=authorization_code&grant_type=refresh_token&client_id=spa")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    // Oversized body: 413.
    let r = reqwest::Client::new()
        .post(tb.url("/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=authorization_code&code={}",
            "a".repeat(200_000)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);

    // After all that, the code still works exactly once.
    let (status, body) = token(&tb, &with(&[("code", code_s), ("code_verifier", VERIFIER)])).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = token(&tb, &with(&[("code", code_s), ("code_verifier", VERIFIER)])).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn expired_code_is_refused() {
    let tb = TestBroker::start_with(
        "",
        None,
        Clock::Manual(idbroker::clock::system_now().into()),
    )
    .await;
    let code = code(&tb).await;
    tb.broker.internals().clock.advance(61);
    let (status, body) = token(
        &tb,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "spa"),
            ("redirect_uri", SPA_CB),
            ("code", &code),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("expired")
    );
}

#[tokio::test]
async fn prompt_login_forces_a_new_authentication() {
    let tb = TestBroker::start().await;
    let mut b = Browser::new();
    let back = sign_in(
        &mut b,
        &tb.base,
        &authorize_url(&tb.base, &challenge_params(VERIFIER)),
        USER,
        PASSWORD,
    )
    .await;
    assert!(back.location_param("code").is_some());
    let sso = b
        .get(&authorize_url(&tb.base, &challenge_params(VERIFIER)))
        .await;
    assert!(sso.location_param("code").is_some(), "session reused");
    let forced = b
        .get(&authorize_url(
            &tb.base,
            &format!("{}&prompt=login", challenge_params(VERIFIER)),
        ))
        .await;
    assert!(
        forced
            .location
            .as_deref()
            .unwrap()
            .starts_with("/login?tx=")
    );
}

/// `/token` client authentication is limited per client before any hashing, with
/// `Retry-After`; the right secret is refused too once over the limit.
#[tokio::test]
async fn client_secret_guessing_is_rate_limited() {
    let tb = crate::support::broker::TestBroker::start_with(
        "rate_limits: {password_per_ip: 100, password_per_identifier: 100, token_per_client: 3, window: 5m}",
        None,
        idbroker::clock::Clock::System,
    )
    .await;
    let attempt = |secret: &'static str| {
        let url = tb.url("/token");
        async move {
            reqwest::Client::new()
                .post(url)
                .basic_auth("web", Some(secret))
                .form(&[("grant_type", "client_credentials")])
                .send()
                .await
                .unwrap()
        }
    };
    for _ in 0..3 {
        assert_eq!(attempt("wrong-guess").await.status(), 401);
    }
    let limited = attempt(crate::support::broker::WEB_SECRET).await;
    assert_eq!(limited.status(), 429);
    assert_eq!(limited.headers()["retry-after"], "300");
    let body: serde_json::Value = limited.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable");
}

/// Failures count toward the limit, successes do not: a busy client is never slowed by its
/// own traffic.
#[tokio::test]
async fn successful_client_authentications_do_not_count_toward_the_limit() {
    let tb = crate::support::broker::TestBroker::start_with(
        "rate_limits: {password_per_ip: 100, password_per_identifier: 100, token_per_client: 2, window: 5m}",
        None,
        idbroker::clock::Clock::System,
    )
    .await;
    for _ in 0..10 {
        let ok = reqwest::Client::new()
            .post(tb.url("/token"))
            .basic_auth("web", Some(crate::support::broker::WEB_SECRET))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), 200);
    }
}

/// The failure limit holds under concurrency: each attempt reserves its place in the window
/// before its secret is hashed, so 40 wrong secrets sent at once get at most
/// `token_per_client` checks (401) and the rest 429, never 40 Argon2 runs.
#[tokio::test]
async fn concurrent_wrong_secrets_get_at_most_the_limits_number_of_checks() {
    let hash = crate::support::broker::password_hash();
    let clients = format!(
        "  - id: hashed\n    secret_hash: \"{hash}\"\n    grants: [client_credentials]\n    scopes: [reports.read]\n"
    );
    let tb = TestBroker::start_with_clients(
        &clients,
        "rate_limits: {password_per_ip: 100, password_per_identifier: 100, token_per_client: 5, window: 5m}",
        None,
        Clock::System,
    )
    .await;
    let http = reqwest::Client::new();
    let attempts = (0..40).map(|i| {
        let http = http.clone();
        let url = tb.url("/token");
        async move {
            http.post(url)
                .basic_auth("hashed", Some(format!("wrong-guess-{i}")))
                .form(&[("grant_type", "client_credentials")])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    });
    let statuses = futures::future::join_all(attempts).await;
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(checked + limited, 40, "{statuses:?}");
    assert!(checked <= 5, "{checked} secrets were checked: {statuses:?}");
    assert_eq!(checked, 5, "the allowance is used, not lost: {statuses:?}");
    // The right secret is refused too until the window ends.
    let right = http
        .post(tb.url("/token"))
        .basic_auth("hashed", Some(PASSWORD))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 429);
}

/// A reservation is given back when the secret is right, so concurrent successful
/// authentications never use up the allowance.
#[tokio::test]
async fn concurrent_right_secrets_do_not_use_up_the_allowance() {
    let hash = crate::support::broker::password_hash();
    let clients = format!(
        "  - id: hashed\n    secret_hash: \"{hash}\"\n    grants: [client_credentials]\n    scopes: [reports.read]\n"
    );
    let tb = TestBroker::start_with_clients(
        &clients,
        "rate_limits: {password_per_ip: 100, password_per_identifier: 100, token_per_client: 5, window: 5m}",
        None,
        Clock::System,
    )
    .await;
    let http = reqwest::Client::new();
    let send = |secret: &'static str| {
        let http = http.clone();
        let url = tb.url("/token");
        async move {
            http.post(url)
                .basic_auth("hashed", Some(secret))
                .form(&[("grant_type", "client_credentials")])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    // Five rounds of four at once: twenty successes, never more than four in flight.
    for _ in 0..5 {
        let round = futures::future::join_all((0..4).map(|_| send(PASSWORD))).await;
        assert_eq!(round, [200; 4]);
    }
    // The whole allowance is still there: five wrong secrets are checked, the sixth is not.
    for _ in 0..5 {
        assert_eq!(send("wrong-guess").await, 401);
    }
    assert_eq!(send("wrong-guess").await, 429);
}
