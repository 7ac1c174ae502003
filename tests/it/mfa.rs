//! One-time codes (TOTP, RFC 6238) as a second factor: set up on the account page and
//! inside a login the policy requires it for, signing in with a code or a recovery code,
//! wrong and reused codes, the rate limit, the admin API. Codes are computed here with
//! totp-rs from the key the page shows, as an authenticator app would.

use std::sync::atomic::AtomicU64;

use idbroker::clock::{Clock, system_now};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::admin::admin_token;
use crate::support::broker::{PASSWORD, TestBroker, USER, password_hash};
use crate::support::browser::{Browser, Page, sign_in};
use crate::support::oauth::{claims, redeem_spa_code, spa_authorize_url};

const MFA_ACR: &str = "urn:idbroker:acr:mfa";

fn manual() -> Clock {
    Clock::Manual(AtomicU64::new(system_now()))
}

/// The code an authenticator app shows for `secret` (base32) at `time`.
fn code_at(secret: &str, time: u64) -> String {
    let secret = totp_rs::Secret::try_from_base32(secret).unwrap();
    totp_rs::Builder::new()
        .with_secret(secret)
        .with_account_name("x")
        .build()
        .unwrap()
        .generate(time)
        .to_string()
}

fn now(tb: &TestBroker) -> u64 {
    tb.broker.now()
}

/// Moves the broker's manual clock on to the start of the next time step, so that a new
/// code is due.
fn next_step(tb: &TestBroker) {
    let t = now(tb);
    tb.broker.internals().clock.advance(30 - t % 30);
}

/// The key shown by a set-up page (without the spaces of its groups).
fn secret_on(page: &Page) -> String {
    let start = page
        .body
        .find("id=\"totp-secret\"")
        .expect("a key on the page");
    let rest = &page.body[start..];
    let text = &rest[rest.find('>').unwrap() + 1..rest.find("</code>").unwrap()];
    text.replace(' ', "")
}

/// The recovery codes shown once after a set-up.
fn recovery_codes_on(page: &Page) -> Vec<String> {
    let start = page
        .body
        .find("id=\"recovery-codes\"")
        .expect("recovery codes");
    let list = &page.body[start..page.body[start..].find("</ol>").unwrap() + start];
    list.split("<code>")
        .skip(1)
        .map(|s| s[..s.find("</code>").unwrap()].to_owned())
        .collect()
}

/// Signs `USER` in to the account page and lands there.
async fn account(b: &mut Browser, tb: &TestBroker) -> Page {
    let start = b.get(&tb.url("/account")).await;
    assert_eq!(start.status, 303);
    let authorize = format!("{}{}", tb.base, start.location.unwrap());
    let back = sign_in(b, &tb.base, &authorize, USER, PASSWORD).await;
    let page = b.follow(&tb.base, back).await;
    assert_eq!(page.status, 200, "{}", page.body);
    page
}

/// Sets up one-time codes for `USER` on the account page: the key and the recovery codes.
async fn enrol_on_account(b: &mut Browser, tb: &TestBroker) -> (String, Vec<String>) {
    let page = account(b, tb).await;
    assert!(page.body.contains("id=\"totp-set-up\""), "{}", page.body);
    let setup = b.get(&tb.url("/account/mfa/totp")).await;
    assert_eq!(setup.status, 200, "{}", setup.body);
    assert!(
        setup.body.contains("<svg class=\"qr\""),
        "an inline QR code"
    );
    assert!(setup.body.contains("otpauth://totp/"), "{}", setup.body);
    let secret = secret_on(&setup);
    let csrf = setup.field("csrf");
    let wrong = b
        .post(
            &tb.url("/account/mfa/totp"),
            &[("csrf", &csrf), ("code", "000000")],
        )
        .await;
    assert!(
        wrong.body.contains("That code is not right"),
        "{}",
        wrong.body
    );
    assert_eq!(
        secret_on(&wrong),
        secret,
        "the same key until it is confirmed"
    );
    let code = code_at(&secret, now(tb));
    let done = b
        .post(
            &tb.url("/account/mfa/totp"),
            &[("csrf", &csrf), ("code", &code)],
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    let codes = recovery_codes_on(&done);
    assert_eq!(codes.len(), 10);
    (secret, codes)
}

/// Opens a `spa` login (with `extra` query parameters), submits the identifier and
/// `password`: the page after the password.
async fn password_step(
    b: &mut Browser,
    tb: &TestBroker,
    who: &str,
    password: &str,
    extra: &str,
) -> Page {
    let url = format!("{}{extra}", spa_authorize_url(&tb.base, "openid%20email"));
    let first = b.get(&url).await;
    let login = b.follow(&tb.base, first).await;
    let (tx, csrf) = (login.field("tx"), login.field("csrf"));
    let step = b
        .post(
            &tb.url("/login/identifier"),
            &[("tx", &tx), ("csrf", &csrf), ("identifier", who)],
        )
        .await;
    assert!(step.body.contains("name=\"password\""), "{}", step.body);
    b.post(
        &tb.url("/login/password"),
        &[("tx", &tx), ("csrf", &csrf), ("password", password)],
    )
    .await
}

async fn submit(b: &mut Browser, tb: &TestBroker, path: &str, page: &Page, code: &str) -> Page {
    b.post(
        &tb.url(path),
        &[
            ("tx", &page.field("tx")),
            ("csrf", &page.field("csrf")),
            ("code", code),
        ],
    )
    .await
}

/// The ID token's claims after a login that came back to the client.
async fn id_token(tb: &TestBroker, back: &Page) -> Value {
    assert_eq!(back.status, 303, "{}", back.body);
    let code = back.location_param("code").expect("a code for the client");
    let tokens = redeem_spa_code(tb, &code).await;
    claims(tokens["id_token"].as_str().unwrap())
}

#[tokio::test]
async fn codes_set_up_on_the_account_page_make_sign_in_two_steps() {
    let tb = TestBroker::start_with("", None, manual()).await;
    let mut b = Browser::new();
    let (secret, _) = enrol_on_account(&mut b, &tb).await;
    let page = b.get(&tb.url("/account")).await;
    assert!(page.body.contains("id=\"totp-remove\""), "{}", page.body);
    assert!(!page.body.contains(&secret), "the key is not shown again");

    // Another browser: after the right password, the code step.
    next_step(&tb);
    let mut other = Browser::new();
    let otp = password_step(
        &mut other,
        &tb,
        USER,
        PASSWORD,
        &format!("&acr_values={MFA_ACR}"),
    )
    .await;
    assert_eq!(otp.status, 200);
    assert!(otp.body.contains("action=\"/login/otp\""), "{}", otp.body);
    assert!(otp.body.contains("autocomplete=\"one-time-code\""));
    assert!(otp.body.contains("inputmode=\"numeric\""));
    let back = submit(
        &mut other,
        &tb,
        "/login/otp",
        &otp,
        &code_at(&secret, now(&tb)),
    )
    .await;
    let id = id_token(&tb, &back).await;
    assert_eq!(id["amr"], json!(["pwd", "otp", "mfa"]));
    assert_eq!(id["acr"], MFA_ACR);

    let audit = tb.audit_lines().await;
    assert!(
        audit
            .iter()
            .any(|r| r["event"] == "user.mfa.enrolled" && r["outcome"] == "success")
    );
    assert!(
        audit
            .iter()
            .any(|r| r["event"] == "login.otp" && r["outcome"] == "success")
    );
    let text = std::fs::read_to_string(tb.dir.path().join("audit.jsonl")).unwrap();
    assert!(!text.contains(&secret), "the key is never audited");
}

#[tokio::test]
async fn wrong_and_reused_codes_are_refused_and_change_nothing() {
    let tb = TestBroker::start_with("", None, manual()).await;
    let (secret, _) = enrol_on_account(&mut Browser::new(), &tb).await;
    next_step(&tb);
    let mut b = Browser::new();
    let otp = password_step(&mut b, &tb, USER, PASSWORD, "").await;
    let wrong = submit(&mut b, &tb, "/login/otp", &otp, "123 456").await;
    assert_eq!(wrong.status, 200);
    assert!(
        wrong.body.contains("That code is not right"),
        "{}",
        wrong.body
    );
    assert!(
        wrong.body.contains("action=\"/login/otp\""),
        "still the code step"
    );
    let code = code_at(&secret, now(&tb));
    let back = submit(&mut b, &tb, "/login/otp", &otp, &code).await;
    assert_eq!(
        id_token(&tb, &back).await["amr"],
        json!(["pwd", "otp", "mfa"])
    );

    // The same code again, within its window, in another login: refused.
    tb.broker.internals().clock.advance(5);
    let mut again = Browser::new();
    let otp = password_step(&mut again, &tb, USER, PASSWORD, "").await;
    let reused = submit(&mut again, &tb, "/login/otp", &otp, &code).await;
    assert_eq!(reused.status, 200);
    assert!(
        reused.body.contains("This code was already used"),
        "{}",
        reused.body
    );
    // The previous step's code is right (clock skew) but earlier than the one used.
    let earlier = code_at(&secret, now(&tb) - 30);
    let refused = submit(&mut again, &tb, "/login/otp", &otp, &earlier).await;
    assert!(refused.body.contains("already used"), "{}", refused.body);
    // The next step's code (a phone clock a little ahead) is accepted.
    let ahead = code_at(&secret, now(&tb) + 30);
    let back = submit(&mut again, &tb, "/login/otp", &otp, &ahead).await;
    assert_eq!(back.status, 303, "{}", back.body);
    let audit = tb.audit_lines().await;
    assert!(
        audit
            .iter()
            .any(|r| r["event"] == "login.otp" && r["reason"] == "code_used")
    );
    assert!(
        audit
            .iter()
            .any(|r| r["event"] == "login.otp" && r["reason"] == "bad_code")
    );
}

#[tokio::test]
async fn code_attempts_are_limited_like_passwords() {
    let tb = TestBroker::start_with(
        "rate_limits: {password_per_ip: 1000, password_per_identifier: 3, window: 5m}",
        None,
        manual(),
    )
    .await;
    let (secret, _) = enrol_on_account(&mut Browser::new(), &tb).await;
    next_step(&tb);
    let mut b = Browser::new();
    let otp = password_step(&mut b, &tb, USER, PASSWORD, "").await;
    for _ in 0..3 {
        let wrong = submit(&mut b, &tb, "/login/otp", &otp, "000000").await;
        assert_eq!(wrong.status, 200);
    }
    let limited = submit(&mut b, &tb, "/login/otp", &otp, &code_at(&secret, now(&tb))).await;
    assert_eq!(
        limited.status, 429,
        "even the right code waits: {}",
        limited.body
    );
    assert!(limited.headers.contains_key("retry-after"));
    assert!(
        limited.body.contains("action=\"/login/otp\""),
        "still the code step"
    );
    // The refused code was not spent: its step is still free for the user's next try
    // (checked on the store, as the counters' window runs on the engine's clock).
    let user = tb
        .broker
        .internals()
        .store
        .user_by_email(USER)
        .await
        .unwrap()
        .unwrap();
    let factor = tb
        .broker
        .internals()
        .store
        .totp_factor(&user.id)
        .await
        .unwrap()
        .unwrap();
    assert!(factor.last_step.unwrap() < now(&tb) / 30);
    let audit = tb.audit_lines().await;
    assert!(
        audit
            .iter()
            .any(|r| r["event"] == "login.otp" && r["reason"] == "rate_limited")
    );
}

#[tokio::test]
async fn a_recovery_code_signs_in_once() {
    let tb = TestBroker::start_with("", None, manual()).await;
    let (_, codes) = enrol_on_account(&mut Browser::new(), &tb).await;
    let mut b = Browser::new();
    let otp = password_step(&mut b, &tb, USER, PASSWORD, "").await;
    // Typed loosely: upper case, a space instead of the dash.
    let typed = codes[3].to_uppercase().replace('-', " ");
    let back = submit(&mut b, &tb, "/login/otp", &otp, &typed).await;
    let id = id_token(&tb, &back).await;
    assert_eq!(
        id["amr"],
        json!(["pwd", "mfa"]),
        "two factors, but no one-time password"
    );

    let mut again = Browser::new();
    let otp = password_step(&mut again, &tb, USER, PASSWORD, "").await;
    let second = submit(&mut again, &tb, "/login/otp", &otp, &codes[3]).await;
    assert_eq!(second.status, 200);
    assert!(
        second.body.contains("That code is not right"),
        "{}",
        second.body
    );
    let other = submit(&mut again, &tb, "/login/otp", &otp, &codes[4]).await;
    assert_eq!(other.status, 303, "another recovery code still works");
    let audit = tb.audit_lines().await;
    assert!(
        audit
            .iter()
            .any(|r| r["event"] == "user.mfa.recovery_used"
                && r["detail"] == "9 recovery codes left")
    );
}

#[tokio::test]
async fn a_required_second_factor_is_set_up_inside_the_login() {
    let users = format!(
        r#"users:
  - email: {USER}
    password_hash: "{hash}"
    mfa: required
  - email: bob@example.com
    password_hash: "{hash}"
"#,
        hash = password_hash()
    );
    let tb = TestBroker::start_with("", Some(&users), manual()).await;
    let mut b = Browser::new();
    let setup = password_step(&mut b, &tb, USER, PASSWORD, "").await;
    assert_eq!(setup.status, 200);
    assert!(
        setup.body.contains("action=\"/login/otp/enrol\""),
        "{}",
        setup.body
    );
    assert!(setup.body.contains("<svg class=\"qr\""));
    let secret = secret_on(&setup);
    let wrong = submit(&mut b, &tb, "/login/otp/enrol", &setup, "000000").await;
    assert!(wrong.body.contains("That code is not right"));
    assert_eq!(secret_on(&wrong), secret);
    let done = submit(
        &mut b,
        &tb,
        "/login/otp/enrol",
        &setup,
        &code_at(&secret, now(&tb)),
    )
    .await;
    assert_eq!(recovery_codes_on(&done).len(), 10);
    assert!(
        done.body.contains("action=\"/login/otp/continue\""),
        "{}",
        done.body
    );
    let back = b
        .post(
            &tb.url("/login/otp/continue"),
            &[("tx", &setup.field("tx")), ("csrf", &setup.field("csrf"))],
        )
        .await;
    assert_eq!(
        id_token(&tb, &back).await["amr"],
        json!(["pwd", "otp", "mfa"])
    );

    // The next sign-in asks for a code of that generator.
    next_step(&tb);
    let mut again = Browser::new();
    let otp = password_step(&mut again, &tb, USER, PASSWORD, "").await;
    assert!(otp.body.contains("action=\"/login/otp\""), "{}", otp.body);

    // A user the policy does not require it of: straight to the client, even when the
    // request asks for the MFA class (acr_values is voluntary, OIDC Core §3.1.2.1): the
    // token says what the sign-in achieved.
    let mut bob = Browser::new();
    let back = password_step(&mut bob, &tb, "bob@example.com", PASSWORD, "").await;
    assert_eq!(id_token(&tb, &back).await["amr"], json!(["pwd"]));
    let mut bob = Browser::new();
    let asked = password_step(
        &mut bob,
        &tb,
        "bob@example.com",
        PASSWORD,
        &format!("&acr_values={MFA_ACR}"),
    )
    .await;
    assert_eq!(asked.status, 303, "{}", asked.body);
    let id = id_token(&tb, &asked).await;
    assert_eq!(
        (id["amr"].clone(), id["acr"].clone()),
        (json!(["pwd"]), json!("urn:idbroker:acr:pwd"))
    );
}

#[tokio::test]
async fn everyone_local_can_be_required_to_add_a_second_factor() {
    let tb = TestBroker::start_with("mfa: {required: true}", None, manual()).await;
    let mut b = Browser::new();
    let setup = password_step(&mut b, &tb, USER, PASSWORD, "").await;
    assert!(
        setup.body.contains("action=\"/login/otp/enrol\""),
        "{}",
        setup.body
    );
}

#[tokio::test]
async fn changing_codes_on_the_account_page_needs_a_fresh_sign_in() {
    let tb = TestBroker::start_with("", None, manual()).await;
    let mut b = Browser::new();
    account(&mut b, &tb).await;
    tb.broker.internals().clock.advance(601);
    let stale = b.get(&tb.url("/account/mfa/totp")).await;
    assert_eq!(stale.status, 303);
    assert_eq!(stale.location_param("prompt").as_deref(), Some("login"));
    // Signing in again comes back to the set-up.
    let authorize = format!("{}{}", tb.base, stale.location.unwrap());
    let back = sign_in(&mut b, &tb.base, &authorize, USER, PASSWORD).await;
    let callback = back.location.clone().unwrap();
    let landed = b.get(&callback).await;
    assert_eq!(
        landed.location.as_deref(),
        Some("/account/mfa/totp"),
        "{}",
        landed.body
    );
    let setup = b.get(&tb.url("/account/mfa/totp")).await;
    let secret = secret_on(&setup);
    let done = b
        .post(
            &tb.url("/account/mfa/totp"),
            &[
                ("csrf", &setup.field("csrf")),
                ("code", &code_at(&secret, now(&tb))),
            ],
        )
        .await;
    assert_eq!(recovery_codes_on(&done).len(), 10);

    // Removing: fresh now, so it is done; the account page offers the set-up again.
    let page = b.get(&tb.url("/account")).await;
    let removed = b
        .post(
            &tb.url("/account/mfa/totp/remove"),
            &[("csrf", &page.field("csrf"))],
        )
        .await;
    assert_eq!(removed.location.as_deref(), Some("/account"));
    let page = b.get(&tb.url("/account")).await;
    assert!(page.body.contains("id=\"totp-set-up\""), "{}", page.body);
    let audit = tb.audit_lines().await;
    assert!(
        audit
            .iter()
            .any(|r| r["event"] == "user.mfa.removed" && r["outcome"] == "success")
    );
}

#[tokio::test]
async fn admins_list_and_remove_a_users_codes() {
    let tb =
        TestBroker::start_with("admin: {token_env: IDBROKER_ADMIN_TOKEN}", None, manual()).await;
    let http = reqwest::Client::new();
    let user = tb
        .broker
        .internals()
        .store
        .user_by_email(USER)
        .await
        .unwrap()
        .unwrap();
    let factors = |id: String| {
        let http = http.clone();
        let url = tb.url(&format!("/admin/api/users/{id}/factors"));
        async move {
            let resp = http
                .get(url)
                .bearer_auth(admin_token())
                .send()
                .await
                .unwrap();
            (resp.status(), resp.json::<Value>().await.unwrap())
        }
    };
    let (status, none) = factors(user.id.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(none, json!({"totp": null, "passkeys": []}));

    enrol_on_account(&mut Browser::new(), &tb).await;
    let (_, some) = factors(USER.to_owned()).await;
    assert_eq!(some["totp"]["enrolled_at"].as_u64(), Some(now(&tb)));
    assert_eq!(some["totp"]["recovery_codes_left"], 10);
    assert!(some["totp"].get("secret").is_none());

    let delete = |id: String| {
        let http = http.clone();
        let url = tb.url(&format!("/admin/api/users/{id}/totp"));
        async move {
            http.delete(url)
                .bearer_auth(admin_token())
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(delete(user.id.clone()).await, StatusCode::NO_CONTENT);
    assert_eq!(factors(user.id.clone()).await.1["totp"], Value::Null);
    assert_eq!(delete(user.id.clone()).await, StatusCode::NOT_FOUND);
    // Without the password's second step again.
    let mut b = Browser::new();
    let back = password_step(&mut b, &tb, USER, PASSWORD, "").await;
    assert_eq!(back.status, 303, "{}", back.body);
    let audit = tb.audit_lines().await;
    assert!(audit.iter().any(|r| r["event"] == "user.mfa.removed"
        && r["actor"] == "admin API token"
        && r["user_id"] == user.id.as_str()));
}
