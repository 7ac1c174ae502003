//! The self-service password reset by email, against a local SMTP sink: the "Forgot
//! password?" link of the password step, the same answer for every address (and no wait for
//! the mail), the mailed link that works once and ends the user's sessions, and the limits
//! per address and per IP.

use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use idbroker::clock::{Clock, system_now};
use reqwest::StatusCode;

use crate::support::broker::{PASSWORD, TestBroker, USER};
use crate::support::browser::{Browser, Page, sign_in};
use crate::support::oauth::spa_authorize_url;
use crate::support::smtp::{Received, SmtpSink};

const NEW_PASSWORD: &str = "a freshly chosen password";

async fn broker_with(sink: &SmtpSink, extra: &str, clock: Clock) -> TestBroker {
    TestBroker::start_with(&format!("{}{extra}", sink.policy()), None, clock).await
}

/// Opens the login page in `b` and types `who`: the password step.
async fn password_step(b: &mut Browser, tb: &TestBroker, who: &str) -> Page {
    let first = b.get(&spa_authorize_url(&tb.base, "openid")).await;
    let page = b.follow(&tb.base, first).await;
    let (tx, csrf) = (page.field("tx"), page.field("csrf"));
    let step = b
        .post(
            &tb.url("/login/identifier"),
            &[("tx", &tx), ("csrf", &csrf), ("identifier", who)],
        )
        .await;
    assert_eq!(step.status, StatusCode::OK, "{}", step.body);
    step
}

/// Signs Alice in with `password` from a new browser: the redirect back to the app, or the
/// password step again.
async fn sign_in_fresh(tb: &TestBroker, password: &str) -> Page {
    let mut b = Browser::new();
    sign_in(
        &mut b,
        &tb.base,
        &spa_authorize_url(&tb.base, "openid"),
        USER,
        password,
    )
    .await
}

/// Asks for a reset of `address` from the login transaction of `page`.
async fn request_reset(b: &mut Browser, tb: &TestBroker, page: &Page, address: &str) -> Page {
    b.post(
        &tb.url("/password/forgot"),
        &[
            ("tx", page.field("tx").as_str()),
            ("csrf", page.field("csrf").as_str()),
            ("email", address),
        ],
    )
    .await
}

/// Every mail that arrives within `wait`.
async fn drain(sink: &mut SmtpSink, wait: Duration) -> Vec<Received> {
    let mut all = Vec::new();
    while let Some(m) = sink.next(wait).await {
        all.push(m);
    }
    all
}

#[tokio::test]
async fn a_mailed_link_sets_a_new_password_once_and_ends_the_users_sessions() {
    let mut sink = SmtpSink::start().await;
    let clock = Clock::Manual(AtomicU64::new(system_now()));
    let tb = broker_with(&sink, "", clock).await;

    // Alice is signed in somewhere: a browser with a session goes straight back to the app.
    let mut elsewhere = Browser::new();
    let done = sign_in(
        &mut elsewhere,
        &tb.base,
        &spa_authorize_url(&tb.base, "openid"),
        USER,
        PASSWORD,
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let again = elsewhere.get(&spa_authorize_url(&tb.base, "openid")).await;
    assert!(again.location_param("code").is_some(), "session in force");

    // The password step offers the reset, back into this login.
    let mut b = Browser::new();
    let step = password_step(&mut b, &tb, USER).await;
    let tx = step.field("tx");
    let href = format!("href=\"/password/forgot?tx={tx}\"");
    assert!(step.body.contains(&href), "{}", step.body);
    let form = b.get(&tb.url(&format!("/password/forgot?tx={tx}"))).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert_eq!(form.field("email"), USER, "the identifier is filled in");

    let sent = request_reset(&mut b, &tb, &form, USER).await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    assert!(sent.body.contains("id=\"reset-sent\""), "{}", sent.body);
    assert!(
        sent.body.contains(&format!("/login?tx={tx}")),
        "back to this login"
    );

    let mail = sink
        .next(Duration::from_secs(10))
        .await
        .expect("the reset mail");
    assert_eq!(mail.to, vec![USER.to_owned()]);
    assert!(mail.from.contains("no-reply@example.com"), "{}", mail.from);
    assert!(mail.text().contains("Subject: Reset your"), "{}", mail.data);
    let link = mail.link().expect("a link in the mail");
    assert!(
        link.starts_with(&tb.url("/password/set?token=")),
        "{link}\n{}",
        mail.data
    );

    // The link's page names the account; the new password is set once.
    let page = b.get(&link).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(USER), "{}", page.body);
    let token = page.field("token");
    let set = |pw: &'static str| {
        [
            ("token", token.clone()),
            ("password", pw.to_owned()),
            ("confirm", pw.to_owned()),
        ]
    };
    let done = b
        .post(
            &tb.url("/password/set"),
            &set(NEW_PASSWORD).each_ref().map(|(k, v)| (*k, v.as_str())),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let reuse = b
        .post(
            &tb.url("/password/set"),
            &set("yet another password")
                .each_ref()
                .map(|(k, v)| (*k, v.as_str())),
        )
        .await;
    assert_eq!(reuse.status, StatusCode::BAD_REQUEST, "single use");
    assert!(reuse.body.contains("already used"), "{}", reuse.body);
    assert_eq!(b.get(&link).await.status, StatusCode::BAD_REQUEST);

    // The other session is over: that browser sees the login page again.
    tb.broker.internals().clock.advance(2);
    let again = elsewhere.get(&spa_authorize_url(&tb.base, "openid")).await;
    assert!(again.location_param("code").is_none(), "session ended");

    // The old password is refused, the new one works.
    let old = sign_in_fresh(&tb, PASSWORD).await;
    assert_eq!(
        old.status,
        StatusCode::OK,
        "refused: the password step again"
    );
    let new = sign_in_fresh(&tb, NEW_PASSWORD).await;
    assert_eq!(new.status, StatusCode::SEE_OTHER, "{}", new.body);

    // Alice is a user of the policy file: a reload of the unchanged file keeps her new
    // password (the file's hash counts again only when the file changes it).
    let yaml = std::fs::read_to_string(&tb.policy_path).unwrap();
    let policy = idbroker::policy::load_str_with_env(
        &tb.policy_path,
        &yaml,
        &crate::support::broker::test_env,
    )
    .unwrap();
    tb.broker.replace_policy(policy).await.unwrap();
    let after_reload = sign_in_fresh(&tb, NEW_PASSWORD).await;
    assert_eq!(
        after_reload.status,
        StatusCode::SEE_OTHER,
        "{}",
        after_reload.body
    );

    let audit = tb.audit_lines().await;
    let event = |name: &str| {
        audit
            .iter()
            .find(|l| l["event"] == name && l["outcome"] == "success")
            .unwrap_or_else(|| panic!("no {name} in {audit:#?}"))
            .clone()
    };
    assert_eq!(event("password.reset.request")["identifier"], USER);
    let reset = event("user.password.reset");
    assert!(
        reset["detail"].as_str().unwrap().starts_with("1 sessions"),
        "{reset}"
    );
    let text = serde_json::to_string(&audit).unwrap();
    assert!(!text.contains(&token) && !text.contains(NEW_PASSWORD));
}

#[tokio::test]
async fn every_address_gets_the_same_page_at_once_and_only_a_password_user_gets_mail() {
    // A relay that takes its time: the page must not wait for it.
    let mut sink = SmtpSink::start_slow(Duration::from_millis(1500)).await;
    let tb = broker_with(&sink, "", Clock::System).await;
    let mut b = Browser::new();
    let step = password_step(&mut b, &tb, "ghost@example.com").await;
    assert!(
        step.body.contains("href=\"/password/forgot?tx="),
        "offered to an unknown identifier alike: {}",
        step.body
    );

    let mut pages = Vec::new();
    for who in [USER, "ghost@example.com", "nopass@example.com"] {
        let started = Instant::now();
        let page = request_reset(&mut b, &tb, &step, who).await;
        let took = started.elapsed();
        assert!(
            took < Duration::from_millis(1000),
            "{who} answered after {took:?}"
        );
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        pages.push(page.body.replace(who, "ADDRESS"));
    }
    assert_eq!(pages[0], pages[1], "known and unknown");
    assert_eq!(pages[0], pages[2], "with and without a password");

    let mails = drain(&mut sink, Duration::from_secs(5)).await;
    assert_eq!(mails.len(), 1, "{mails:#?}");
    assert_eq!(mails[0].to, vec![USER.to_owned()]);

    let audit = tb.audit_lines().await;
    let reasons: Vec<_> = audit
        .iter()
        .filter(|l| l["event"] == "password.reset.request")
        .map(|l| (l["identifier"].clone(), l["reason"].clone()))
        .collect();
    assert!(
        reasons.contains(&("ghost@example.com".into(), "unknown_identifier".into())),
        "{reasons:?}"
    );
    assert!(
        reasons.contains(&("nopass@example.com".into(), "no_sign_in_method".into())),
        "{reasons:?}"
    );
}

#[tokio::test]
async fn requests_are_limited_per_address_and_per_ip() {
    let mut sink = SmtpSink::start().await;
    let tb = broker_with(
        &sink,
        "password_reset: {per_address: 2, per_ip: 3, window: 1h}\n",
        Clock::System,
    )
    .await;
    let mut b = Browser::new();
    let step = password_step(&mut b, &tb, USER).await;
    for _ in 0..2 {
        let page = request_reset(&mut b, &tb, &step, USER).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    }
    // The third for the same address: refused, whoever asks.
    let refused = request_reset(&mut b, &tb, &step, USER).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.headers["retry-after"], "3600");
    assert!(
        refused.body.contains("Too many reset requests"),
        "{}",
        refused.body
    );
    // A fourth from this address, for another account: over the per-IP limit.
    let refused = request_reset(&mut b, &tb, &step, "someone@example.com").await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);

    let mails = drain(&mut sink, Duration::from_secs(3)).await;
    assert_eq!(mails.len(), 2, "only the requests within the limits mail");
}

#[tokio::test]
async fn without_mail_the_reset_is_not_offered() {
    let tb = TestBroker::start().await;
    let mut b = Browser::new();
    let step = password_step(&mut b, &tb, USER).await;
    assert!(!step.body.contains("/password/forgot"), "{}", step.body);
    let page = b
        .get(&tb.url(&format!("/password/forgot?tx={}", step.field("tx"))))
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("not available"), "{}", page.body);
}

#[tokio::test]
async fn the_mail_speaks_the_language_of_the_page() {
    let mut sink = SmtpSink::start().await;
    let tb = broker_with(&sink, "", Clock::System).await;
    let mut b = Browser::speaking("de-DE,de;q=0.9");
    let step = password_step(&mut b, &tb, USER).await;
    let page = request_reset(&mut b, &tb, &step, USER).await;
    assert!(page.body.contains("Passwort zurücksetzen"), "{}", page.body);
    let mail = sink.next(Duration::from_secs(10)).await.expect("mail");
    assert!(mail.link().is_some(), "{}", mail.data);
    assert!(
        mail.text().contains("das Passwort von alice@example.com"),
        "{}",
        mail.data
    );
}

#[tokio::test]
async fn an_sso_only_user_is_told_where_to_sign_in_and_gets_no_link() {
    let mut sink = SmtpSink::start().await;
    // Bob is synced from Contoso's Entra tenant, where SSO applies to every synced user. The
    // upstream is never contacted: nobody types Bob's address at the identifier step here.
    let extra = format!(
        r#"{mail}upstreams:
  - id: entra
    kind: entra
    display_name: Contoso Entra
    client_id: 11111111-2222-3333-4444-555555555555
    client_secret_env: ENTRA_SECRET
    authority: http://127.0.0.1:9
organizations:
  - id: contoso
    domains: [contoso.com]
    upstream: entra
    tenant_id: 72f988bf-86f1-41af-91ab-2d7cd011db47
    sso: all_synced_users
"#,
        mail = sink.policy()
    );
    let users = format!(
        r#"users:
  - email: {USER}
    name: Alice Example
    password_hash: "{hash}"
  - email: bob@contoso.com
    name: Bob
    organization: contoso
    password_hash: "{hash}"
    link: {{tid: 72f988bf-86f1-41af-91ab-2d7cd011db47, oid: 0c6a2b1e-0000-4000-8000-000000000001}}
"#,
        hash = crate::support::broker::password_hash()
    );
    let tb = TestBroker::start_with(&extra, Some(&users), Clock::System).await;
    let mut b = Browser::new();
    let step = password_step(&mut b, &tb, USER).await;
    let for_bob = request_reset(&mut b, &tb, &step, "bob@contoso.com").await;
    let for_alice = request_reset(&mut b, &tb, &step, USER).await;
    assert_eq!(
        for_bob.body.replace("bob@contoso.com", "ADDRESS"),
        for_alice.body.replace(USER, "ADDRESS"),
        "the same page"
    );

    let mails = drain(&mut sink, Duration::from_secs(3)).await;
    assert_eq!(mails.len(), 2, "{mails:#?}");
    let bob = mails
        .iter()
        .find(|m| m.to == vec!["bob@contoso.com".to_owned()])
        .expect("a mail to Bob");
    assert!(bob.link().is_none(), "no reset link: {}", bob.data);
    assert!(bob.text().contains("Contoso Entra"), "{}", bob.data);
    assert!(!bob.text().contains("/password/set"), "{}", bob.data);
    let alice = mails
        .iter()
        .find(|m| m.to == vec![USER.to_owned()])
        .unwrap();
    assert!(alice.link().is_some());
}

#[tokio::test]
async fn a_relay_that_is_down_changes_nothing_on_the_page_and_is_audited() {
    let port = crate::support::net::free_port();
    let mail = format!(
        "mail: {{from: no-reply@example.com, smtp: {{host: 127.0.0.1, port: {port}, security: none}}}}\n"
    );
    let tb = TestBroker::start_with(&mail, None, Clock::System).await;
    let mut b = Browser::new();
    let step = password_step(&mut b, &tb, USER).await;
    let page = request_reset(&mut b, &tb, &step, USER).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("id=\"reset-sent\""), "{}", page.body);
    let mut reason = None;
    for _ in 0..50 {
        reason = tb
            .audit_lines()
            .await
            .iter()
            .find(|l| l["event"] == "password.reset.request")
            .map(|l| l["reason"].clone());
        if reason.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(reason, Some("mail_failed".into()));
}

#[tokio::test]
async fn the_brands_own_reset_page_wins_and_enabled_false_turns_the_reset_off() {
    let sink = SmtpSink::start().await;
    let tb = broker_with(
        &sink,
        "branding: {forgot_password: \"https://help.example.com/reset\"}\n",
        Clock::System,
    )
    .await;
    let mut b = Browser::new();
    let step = password_step(&mut b, &tb, USER).await;
    assert!(
        step.body
            .contains("href=\"https://help.example.com/reset\""),
        "{}",
        step.body
    );
    assert!(!step.body.contains("/password/forgot"), "{}", step.body);

    let tb = broker_with(&sink, "password_reset: {enabled: false}\n", Clock::System).await;
    let mut b = Browser::new();
    let step = password_step(&mut b, &tb, USER).await;
    assert!(!step.body.contains("/password/forgot"), "{}", step.body);
    let page = request_reset(&mut b, &tb, &step, USER).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
}
