//! The login page: no user enumeration, CSRF and browser binding, headers and cookies,
//! rate limits before Argon2.

use std::time::{Duration, Instant};

use idbroker::op::pkce;

use crate::support::broker::{PASSWORD, TestBroker, USER};
use crate::support::browser::{Browser, Page};

fn authorize(base: &str, extra: &str) -> String {
    format!(
        "{base}/authorize?response_type=code&client_id=spa&redirect_uri=http://127.0.0.1:9000/callback&scope=openid&state=s&code_challenge={}&code_challenge_method=S256{extra}",
        pkce::s256_challenge("verifier-verifier-verifier-verifier-verifier-0001")
    )
}

/// Opens the login page and returns it.
async fn open(b: &mut Browser, tb: &TestBroker, extra: &str) -> Page {
    let first = b.get(&authorize(&tb.base, extra)).await;
    b.follow(&tb.base, first).await
}

async fn identifier(b: &mut Browser, tb: &TestBroker, page: &Page, who: &str) -> Page {
    b.post(
        &tb.url("/login/identifier"),
        &[
            ("tx", &page.field("tx")),
            ("csrf", &page.field("csrf")),
            ("identifier", who),
        ],
    )
    .await
}

async fn password(b: &mut Browser, tb: &TestBroker, page: &Page, pw: &str) -> Page {
    b.post(
        &tb.url("/login/password"),
        &[
            ("tx", &page.field("tx")),
            ("csrf", &page.field("csrf")),
            ("password", pw),
        ],
    )
    .await
}

/// A user with one-time codes in the enumeration test; the same length as [`USER`], so that
/// the pages compare equal once the identifier is replaced.
const OTP_USER: &str = "tessa@example.com";

/// Removes what legitimately differs between two renderings (handles and the identifier).
fn normalise(body: &str, tx: &str, csrf: &str, who: &str) -> String {
    body.replace(tx, "TX")
        .replace(csrf, "CSRF")
        .replace(who, "WHO")
}

#[tokio::test]
async fn unknown_users_get_the_same_page_message_and_time() {
    let users = format!(
        r#"users:
  - email: {USER}
    name: Alice Example
    password_hash: "{hash}"
  - email: nopass@example.com
    name: No Password
  - email: {OTP_USER}
    name: Alice Example
    password_hash: "{hash}"
"#,
        hash = crate::support::broker::password_hash()
    );
    let tb = TestBroker::start_with("", Some(&users), idbroker::clock::Clock::System).await;
    // A user with one-time codes: the same identifier and password steps as anyone.
    let otp_user = tb
        .broker
        .internals()
        .store
        .user_by_email(OTP_USER)
        .await
        .unwrap()
        .unwrap();
    let factor = idbroker::store::TotpFactor {
        secret: idbroker::mfa::new_secret(),
        last_step: None,
        recovery: Vec::new(),
        created_at: 1,
    };
    assert!(
        tb.broker
            .internals()
            .store
            .enrol_totp(&otp_user.id, &factor)
            .await
            .unwrap()
    );
    let mut pages = Vec::new();
    for who in [USER, "nobody@example.com", "nopass@example.com", OTP_USER] {
        let mut b = Browser::new();
        let login = open(&mut b, &tb, "").await;
        let step = identifier(&mut b, &tb, &login, who).await;
        assert_eq!(step.status, 200);
        let fail = password(&mut b, &tb, &login, "wrong password").await;
        assert_eq!(fail.status, 200);
        assert!(
            fail.body
                .contains("The email address or password is incorrect.")
        );
        let (tx, csrf) = (login.field("tx"), login.field("csrf"));
        pages.push((
            normalise(&step.body, &tx, &csrf, who),
            normalise(&fail.body, &tx, &csrf, who),
        ));
    }
    assert_eq!(
        pages[0], pages[1],
        "known and unknown users see the same pages"
    );
    assert_eq!(
        pages[0], pages[2],
        "a user without a password sees the same pages"
    );
    assert_eq!(
        pages[0], pages[3],
        "a user with one-time codes sees the same pages"
    );
    // The code step comes only after the right password.
    let mut b = Browser::new();
    let login = open(&mut b, &tb, "").await;
    identifier(&mut b, &tb, &login, OTP_USER).await;
    let otp = password(&mut b, &tb, &login, PASSWORD).await;
    assert!(otp.body.contains("action=\"/login/otp\""), "{}", otp.body);

    // Time: a known user with a wrong password and an unknown user both cost one Argon2id
    // verification. Medians of several attempts, compared with a generous margin.
    async fn median_failure(tb: &TestBroker, who: &str) -> Duration {
        let mut times = Vec::new();
        for _ in 0..5 {
            let mut b = Browser::new();
            let login = open(&mut b, tb, "").await;
            identifier(&mut b, tb, &login, who).await;
            let t = Instant::now();
            password(&mut b, tb, &login, "wrong password").await;
            times.push(t.elapsed());
        }
        times.sort();
        times[2]
    }
    let _warm_up = median_failure(&tb, "ghost-0@example.com").await;
    let known = median_failure(&tb, USER).await;
    let unknown = median_failure(&tb, "ghost@example.com").await;
    let ratio = known.as_secs_f64() / unknown.as_secs_f64();
    assert!(
        (0.5..2.0).contains(&ratio),
        "known {known:?} vs unknown {unknown:?}: the timing tells them apart"
    );
    // Each attempt is audited, with its real reason (for the admin, not the user).
    let audit = tb.audit_lines().await;
    assert!(audit.iter().any(|r| r["reason"] == "unknown_identifier"));
    assert!(
        audit
            .iter()
            .any(|r| r["reason"] == "bad_password" && r["identifier"] == USER)
    );
    assert!(audit.iter().any(|r| r["reason"] == "no_sign_in_method"));
}

#[tokio::test]
async fn forms_need_the_transactions_csrf_token_and_browser() {
    let tb = TestBroker::start().await;
    let mut b = Browser::new();
    let login = open(&mut b, &tb, "").await;
    let tx = login.field("tx");
    // A wrong CSRF token: refused, the transaction is unchanged.
    let forged = b
        .post(
            &tb.url("/login/identifier"),
            &[("tx", &tx), ("csrf", "forged"), ("identifier", USER)],
        )
        .await;
    assert_eq!(forged.status, 400);
    let again = b.get(&tb.url(&format!("/login?tx={tx}"))).await;
    assert!(
        again.body.contains("name=\"identifier\""),
        "still at the identifier step"
    );
    // Another browser (no binding cookie) cannot use the transaction, even with its token.
    let mut other = Browser::new();
    let stolen = other
        .post(
            &tb.url("/login/identifier"),
            &[
                ("tx", &tx),
                ("csrf", &login.field("csrf")),
                ("identifier", USER),
            ],
        )
        .await;
    assert_eq!(stolen.status, 400);
    assert!(stolen.body.contains("start again"));
    // The real browser continues and signs in.
    identifier(&mut b, &tb, &login, USER).await;
    let done = password(&mut b, &tb, &login, PASSWORD).await;
    assert_eq!(done.status, 303);
    // A second submission of the finished transaction is refused.
    let replay = password(&mut b, &tb, &login, PASSWORD).await;
    assert_eq!(replay.status, 400);
}

#[tokio::test]
async fn security_headers_and_cookie_attributes() {
    let tb = TestBroker::start().await;
    let mut b = Browser::new();
    let first = b
        .get(&authorize(&tb.base, "&login_hint=Alice@Example.com"))
        .await;
    let browser_cookie = first.headers["set-cookie"].to_str().unwrap().to_owned();
    assert!(browser_cookie.contains("HttpOnly"), "{browser_cookie}");
    assert!(browser_cookie.contains("SameSite=Lax"), "{browser_cookie}");
    let login = b.follow(&tb.base, first).await;
    let h = &login.headers;
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["cache-control"], "no-store");
    // login_hint prefills the identifier; the field is labelled.
    assert!(
        login.body.contains("value=\"Alice@Example.com\""),
        "{}",
        login.body
    );
    assert!(login.body.contains("<label for=\"identifier\">"));
    identifier(&mut b, &tb, &login, USER).await;
    let done = password(&mut b, &tb, &login, PASSWORD).await;
    let session_cookie = done.headers["set-cookie"].to_str().unwrap();
    assert!(session_cookie.starts_with("idb_session="));
    assert!(session_cookie.contains("HttpOnly") && session_cookie.contains("SameSite=Lax"));
    // An error is tied to its field for screen readers.
    let mut b = Browser::new();
    let login = open(&mut b, &tb, "").await;
    identifier(&mut b, &tb, &login, USER).await;
    let fail = password(&mut b, &tb, &login, "nope").await;
    assert!(fail.body.contains("aria-describedby=\"password-error\""));
    assert!(fail.body.contains("id=\"password-error\""));
}

#[tokio::test]
async fn https_issuer_uses_host_prefixed_secure_cookies() {
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let yaml =
        crate::support::broker::policy_yaml("https://login.example.test", dir.path(), "", None);
    let tb = TestBroker::start_yaml(dir, listener, &yaml, idbroker::clock::Clock::System).await;
    let local = format!("http://127.0.0.1:{}", tb.port);
    let mut b = Browser::new();
    let first = b.get(&authorize(&local, "")).await;
    let c = first.headers["set-cookie"].to_str().unwrap();
    assert!(c.starts_with("__Host-idb_browser="), "{c}");
    assert!(
        c.contains("Secure") && c.contains("Path=/") && !c.contains("Domain"),
        "{c}"
    );
    assert!(first.headers.contains_key("strict-transport-security"));
}

#[tokio::test]
async fn password_attempts_are_rate_limited_alike_for_known_and_unknown_users() {
    let tb = TestBroker::start_with(
        "rate_limits: {password_per_ip: 100, password_per_identifier: 3, window: 5m}",
        None,
        idbroker::clock::Clock::System,
    )
    .await;
    let limit = tb.broker.policy().rate_limits.password_per_identifier;
    for who in [USER, "ghost@example.com"] {
        let mut statuses = Vec::new();
        for _ in 0..=limit {
            let mut b = Browser::new();
            let login = open(&mut b, &tb, "").await;
            identifier(&mut b, &tb, &login, who).await;
            let p = password(&mut b, &tb, &login, "wrong").await;
            statuses.push((p.status.as_u16(), p.headers.get("retry-after").is_some()));
        }
        let last = statuses.pop().unwrap();
        assert!(statuses.iter().all(|s| s.0 == 200), "{who}: {statuses:?}");
        assert_eq!(
            last,
            (429, true),
            "{who}: the attempt past the limit is refused"
        );
    }
    // Even the right password is refused while the identifier is limited.
    let mut b = Browser::new();
    let login = open(&mut b, &tb, "").await;
    identifier(&mut b, &tb, &login, USER).await;
    assert_eq!(password(&mut b, &tb, &login, PASSWORD).await.status, 429);
}

/// [`normalise`], also without the passkey challenge each page carries (its state handle
/// and options differ on every rendering, for everyone alike).
fn normalise_passkey(body: &str, tx: &str, csrf: &str, who: &str) -> String {
    let mut out = normalise(body, tx, csrf, who);
    for (start, end) in [("name=\"state\" value=\"", "\""), ("data-options=\"", "\"")] {
        let mut from = 0;
        while let Some(i) = out[from..].find(start) {
            let at = from + i + start.len();
            let Some(len) = out[at..].find(end) else {
                break;
            };
            out.replace_range(at..at + len, "");
            from = at;
        }
    }
    out
}

#[tokio::test]
async fn a_user_with_a_passkey_gets_the_same_steps_as_anyone() {
    use crate::support::authenticator::{account, localhost_broker, register};
    let users = format!(
        r#"users:
  - email: {USER}
    name: Alice Example
    password_hash: "{hash}"
  - email: nopass@example.com
    name: No Password
  - email: strict@example.com
    name: Strict
    password_hash: "{hash}"
    passkey: required
"#,
        hash = crate::support::broker::password_hash()
    );
    let tb = localhost_broker("", Some(&users), idbroker::clock::Clock::System).await;
    // Alice and strict register a passkey (strict's password lets them in until then).
    for who in [USER, "strict@example.com"] {
        let mut b = Browser::new();
        let page = account(&mut b, &tb, who).await;
        let (answer, _) = register(&mut b, &tb, &page, "").await;
        assert_eq!(answer.status, 303, "{who}: {}", answer.body);
    }
    let mut pages = Vec::new();
    for who in [
        USER,
        "nobody@example.com",
        "nopass@example.com",
        "strict@example.com",
    ] {
        let mut b = Browser::new();
        let login = open(&mut b, &tb, "").await;
        assert!(
            login.body.contains("id=\"passkey-form\""),
            "autofill offered"
        );
        let step = identifier(&mut b, &tb, &login, who).await;
        assert_eq!(step.status, 200);
        assert!(step.body.contains("id=\"passkey-button\""), "{who}");
        // Strict's right password is refused like a wrong one: passkeys are required.
        let pw = if who == "strict@example.com" {
            PASSWORD
        } else {
            "wrong password"
        };
        let fail = password(&mut b, &tb, &login, pw).await;
        assert_eq!(fail.status, 200);
        assert!(
            fail.body
                .contains("The email address or password is incorrect.")
        );
        let (tx, csrf) = (login.field("tx"), login.field("csrf"));
        pages.push((
            normalise_passkey(&login.body, &tx, &csrf, who),
            normalise_passkey(&step.body, &tx, &csrf, who),
            normalise_passkey(&fail.body, &tx, &csrf, who),
        ));
    }
    for (i, p) in pages.iter().enumerate().skip(1) {
        assert_eq!(&pages[0], p, "case {i} differs from a user with a passkey");
    }
}
