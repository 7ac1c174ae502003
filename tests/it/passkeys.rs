//! Passkeys, the server side: registration on the account page after a fresh sign-in,
//! sign-in at the identifier and password steps with `amr`/`acr` to show it, every refusal
//! (forged, replayed, unverified, foreign, stale), removal by the user and by the admin API,
//! and the policy that requires passkeys. The assertions come from a software authenticator
//! (`support/authenticator.rs`); the browser test drives Chromium's virtual one.

use idbroker::clock::Clock;
use serde_json::Value;

use crate::admin::admin_token;
use crate::support::authenticator::{
    SoftAuthenticator, UP_ONLY, account, data_options, form_field, localhost_broker, public_key,
    register,
};
use crate::support::broker::{PASSWORD, TestBroker, USER};
use crate::support::browser::{Browser, Page};
use crate::support::oauth::{SPA_CB, claims, redeem_spa_code, spa_authorize_url};

const MFA: &str = "urn:idbroker:acr:mfa";
const FAILED: &str = "That passkey could not be used.";

fn authorize_url(tb: &TestBroker) -> String {
    format!(
        "{}&acr_values=urn%3Aidbroker%3Aacr%3Amfa",
        spa_authorize_url(&tb.base, "openid%20email")
    )
}

/// Opens the application's login page: the identifier step.
async fn login_page(b: &mut Browser, tb: &TestBroker) -> Page {
    let first = b.get(&authorize_url(tb)).await;
    let page = b.follow(&tb.base, first).await;
    assert_eq!(page.status, 200, "{}", page.body);
    page
}

/// Posts `credential` against the passkey challenge of `page`.
async fn post_assertion(b: &mut Browser, tb: &TestBroker, page: &Page, credential: &str) -> Page {
    let state = form_field(&page.body, "passkey-form", "state").expect("a passkey challenge");
    b.post(
        &tb.url("/login/passkey"),
        &[
            ("tx", &page.field("tx")),
            ("csrf", &page.field("csrf")),
            ("state", &state),
            ("credential", credential),
        ],
    )
    .await
}

fn options(page: &Page) -> String {
    data_options(&page.body, "passkey-form").expect("passkey options on the page")
}

/// The ID token of a redirect back to the application.
async fn id_token(tb: &TestBroker, done: &Page) -> Value {
    let loc = done.location.as_deref().unwrap_or_default();
    assert!(loc.starts_with(SPA_CB), "{loc} {}", done.body);
    let code = done.location_param("code").expect("a code");
    let tokens = redeem_spa_code(tb, &code).await;
    claims(tokens["id_token"].as_str().unwrap())
}

/// A broker on `localhost`, and alice with a passkey registered on the account page.
async fn alice_with_a_passkey(extra: &str) -> (TestBroker, SoftAuthenticator) {
    let tb = localhost_broker(extra, None, Clock::System).await;
    let mut b = Browser::new();
    let page = account(&mut b, &tb, USER).await;
    let (answer, auth) = register(&mut b, &tb, &page, "Work laptop").await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    assert_eq!(answer.location.as_deref(), Some("/account#passkeys"));
    (tb, auth)
}

#[tokio::test]
async fn a_passkey_registered_on_the_account_page_signs_in_with_mfa() {
    let (tb, mut auth) = alice_with_a_passkey("").await;
    // The account page lists it, by its name.
    let mut b = Browser::new();
    let page = account(&mut b, &tb, USER).await;
    assert!(page.body.contains("Work laptop"), "{}", page.body);
    assert!(page.body.contains("never used"));

    // At the identifier step (what the autofill does): no address typed.
    let mut b = Browser::new();
    let page = login_page(&mut b, &tb).await;
    assert!(page.body.contains("autocomplete=\"username webauthn\""));
    let pk = public_key(&options(&page));
    assert_eq!(pk["rpId"], "localhost");
    assert_eq!(pk["userVerification"], "required");
    assert!(pk["allowCredentials"].as_array().is_none_or(Vec::is_empty));
    let done = post_assertion(&mut b, &tb, &page, &auth.assert(&options(&page))).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let claims = id_token(&tb, &done).await;
    assert_eq!(claims["amr"], serde_json::json!(["hwk", "user", "mfa"]));
    assert_eq!(claims["acr"], MFA);
    assert_eq!(claims["email"], USER);

    // After the identifier, at the password step ("Use a passkey").
    let mut b = Browser::new();
    let login = login_page(&mut b, &tb).await;
    let step = b
        .post(
            &tb.url("/login/identifier"),
            &[
                ("tx", &login.field("tx")),
                ("csrf", &login.field("csrf")),
                ("identifier", USER),
            ],
        )
        .await;
    assert!(step.body.contains("id=\"passkey-button\""), "{}", step.body);
    let done = post_assertion(&mut b, &tb, &step, &auth.assert(&options(&step))).await;
    let claims = id_token(&tb, &done).await;
    assert_eq!(claims["acr"], MFA);

    // The account page now says when it was last used.
    let mut b = Browser::new();
    let page = account(&mut b, &tb, USER).await;
    assert!(!page.body.contains("never used"), "{}", page.body);
    // The sessions signed in with it say so.
    assert!(page.body.contains("Passkey · "), "{}", page.body);

    let audit = tb.audit_lines().await;
    let events = |e: &str, outcome: &str| {
        audit
            .iter()
            .filter(|r| r["event"] == e && r["outcome"] == outcome)
            .count()
    };
    assert_eq!(events("user.passkey.registered", "success"), 1);
    assert_eq!(events("login.passkey", "success"), 2);
}

#[tokio::test]
async fn forged_replayed_unverified_and_foreign_assertions_are_refused() {
    let (tb, mut auth) = alice_with_a_passkey("").await;
    let mut b = Browser::new();
    let page = login_page(&mut b, &tb).await;
    let good = auth.assert(&options(&page));

    // A forged signature: the signature of another challenge.
    let other = login_page(&mut Browser::new(), &tb).await;
    let challenge = public_key(&options(&page))["challenge"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut forged: Value = serde_json::from_str(&good).unwrap();
    let foreign: Value = serde_json::from_str(&auth.assert(&options(&other))).unwrap();
    forged["response"]["signature"] = foreign["response"]["signature"].clone();
    let refused = post_assertion(&mut b, &tb, &page, &forged.to_string()).await;
    assert_eq!(refused.status, 200);
    assert!(refused.body.contains(FAILED), "{}", refused.body);
    // The challenge was spent by the refusal: even the good assertion is now refused.
    let replay = b
        .post(
            &tb.url("/login/passkey"),
            &[
                ("tx", &page.field("tx")),
                ("csrf", &page.field("csrf")),
                (
                    "state",
                    &form_field(&page.body, "passkey-form", "state").unwrap(),
                ),
                ("credential", &good),
            ],
        )
        .await;
    assert!(replay.body.contains(FAILED), "{}", replay.body);

    // The refusal page carries a new challenge; a good assertion for it signs in.
    let ok = auth.assert(&options(&replay));
    let done = post_assertion(&mut b, &tb, &replay, &ok).await;
    assert_eq!(done.status, 303, "{}", done.body);

    // Replaying that assertion against a new challenge fails (the challenge differs).
    let mut b = Browser::new();
    let page = login_page(&mut b, &tb).await;
    let refused = post_assertion(&mut b, &tb, &page, &ok).await;
    assert!(refused.body.contains(FAILED));

    // Without user verification: refused.
    let page = refused;
    let unverified = auth.assertion_with(
        public_key(&options(&page))["challenge"].as_str().unwrap(),
        UP_ONLY,
    );
    let refused = post_assertion(&mut b, &tb, &page, &unverified).await;
    assert!(refused.body.contains(FAILED));

    // A counter that does not move on (a cloned authenticator): refused.
    let page = refused;
    let stale = auth.assertion_with(
        public_key(&options(&page))["challenge"].as_str().unwrap(),
        0x05,
    );
    let refused = post_assertion(&mut b, &tb, &page, &stale).await;
    assert!(refused.body.contains(FAILED));

    // Another transaction's challenge (state) cannot be used here.
    let page = refused;
    let mut b2 = Browser::new();
    let theirs = login_page(&mut b2, &tb).await;
    let assertion = auth.assert(&options(&theirs));
    let mixed = b
        .post(
            &tb.url("/login/passkey"),
            &[
                ("tx", &page.field("tx")),
                ("csrf", &page.field("csrf")),
                (
                    "state",
                    &form_field(&theirs.body, "passkey-form", "state").unwrap(),
                ),
                ("credential", &assertion),
            ],
        )
        .await;
    assert!(mixed.body.contains(FAILED));
    // An unknown credential: refused the same way.
    let stranger = SoftAuthenticator::register(
        &serde_json::json!({"publicKey": {
            "challenge": challenge, "rp": {"id": "localhost"}, "user": {"id": "AAAAAAAAAAAAAAAAAAAAAA"}}})
        .to_string(),
        &tb.base,
    )
    .0
    .assert(&options(&mixed));
    let refused = post_assertion(&mut b, &tb, &mixed, &stranger).await;
    assert!(refused.body.contains(FAILED));

    let audit = tb.audit_lines().await;
    let reasons: Vec<&str> = audit
        .iter()
        .filter(|r| r["event"] == "login.passkey" && r["outcome"] == "failure")
        .filter_map(|r| r["reason"].as_str())
        .collect();
    for reason in [
        "verification_failed",
        "challenge_unknown",
        "unknown_credential",
    ] {
        assert!(reasons.contains(&reason), "{reason} in {reasons:?}");
    }
}

#[tokio::test]
async fn route_errors_change_nothing() {
    let (tb, mut auth) = alice_with_a_passkey(ADMIN).await;
    let mut b = Browser::new();
    let page = login_page(&mut b, &tb).await;
    let state = form_field(&page.body, "passkey-form", "state").unwrap();
    let good = auth.assert(&options(&page));
    // A wrong CSRF token or a foreign browser: the restart page, and the challenge stays.
    let forged = b
        .post(
            &tb.url("/login/passkey"),
            &[
                ("tx", &page.field("tx")),
                ("csrf", "forged"),
                ("state", &state),
                ("credential", &good),
            ],
        )
        .await;
    assert_eq!(forged.status, 400);
    let stolen = Browser::new()
        .post(
            &tb.url("/login/passkey"),
            &[
                ("tx", &page.field("tx")),
                ("csrf", &page.field("csrf")),
                ("state", &state),
                ("credential", &good),
            ],
        )
        .await;
    assert_eq!(stolen.status, 400);
    // Not JSON, or no credential: the same step with the message.
    for bad in ["", "not json", "{}"] {
        let mut b = Browser::new();
        let page = login_page(&mut b, &tb).await;
        let refused = post_assertion(&mut b, &tb, &page, bad).await;
        assert_eq!(refused.status, 200);
        assert!(refused.body.contains(FAILED), "{bad:?}: {}", refused.body);
        assert!(refused.body.contains("name=\"identifier\""));
    }
    // The untouched challenge still works.
    let done = post_assertion(&mut b, &tb, &page, &good).await;
    assert_eq!(done.status, 303, "{}", done.body);
    // Registration without a session, or with another CSRF token, is refused.
    let anon = Browser::new()
        .post(
            &tb.url("/account/passkeys"),
            &[("csrf", "x"), ("state", "y"), ("credential", "{}")],
        )
        .await;
    assert_eq!(anon.status, 303, "sent to sign in");
    let mut b = Browser::new();
    let page = account(&mut b, &tb, USER).await;
    let bad_csrf = b
        .post(
            &tb.url("/account/passkeys"),
            &[
                ("csrf", "forged"),
                (
                    "state",
                    &form_field(&page.body, "passkey-register", "state").unwrap(),
                ),
                ("credential", "{}"),
            ],
        )
        .await;
    assert_eq!(bad_csrf.status, 400);
    // A garbage credential is refused and audited; nothing is added.
    let garbage = b
        .post(
            &tb.url("/account/passkeys"),
            &[
                (
                    "csrf",
                    &form_field(&page.body, "passkey-register", "csrf").unwrap(),
                ),
                (
                    "state",
                    &form_field(&page.body, "passkey-register", "state").unwrap(),
                ),
                ("credential", "{\"id\": 1}"),
            ],
        )
        .await;
    assert_eq!(garbage.status, 400);
    let factors = admin_factors(&tb, USER).await;
    assert_eq!(factors["passkeys"].as_array().unwrap().len(), 1);
}

async fn admin_factors(tb: &TestBroker, who: &str) -> Value {
    let resp = reqwest::Client::new()
        .get(tb.url(&format!("/admin/api/users/{who}/factors")))
        .bearer_auth(admin_token())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

const ADMIN: &str = "admin: {token_env: IDBROKER_ADMIN_TOKEN}\n";

#[tokio::test]
async fn a_removed_passkey_no_longer_signs_in() {
    let (tb, mut auth) = alice_with_a_passkey(ADMIN).await;
    // The admin API lists it, without key material.
    let factors = admin_factors(&tb, USER).await;
    let list = factors["passkeys"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["name"], "Work laptop");
    assert!(list[0].get("credential").is_none());
    let id = list[0]["id"].as_str().unwrap().to_owned();

    // The user removes it on the account page (a fresh sign-in).
    let mut b = Browser::new();
    let page = account(&mut b, &tb, USER).await;
    assert!(page.body.contains(&id));
    let removed = b
        .post(
            &tb.url("/account/passkeys/remove"),
            &[("csrf", &page.field("csrf")), ("credential", &id)],
        )
        .await;
    assert_eq!(removed.status, 303, "{}", removed.body);
    let again = b
        .post(
            &tb.url("/account/passkeys/remove"),
            &[("csrf", &page.field("csrf")), ("credential", &id)],
        )
        .await;
    assert_eq!(again.status, 400, "nothing left to remove");
    let mut b = Browser::new();
    let login = login_page(&mut b, &tb).await;
    let refused = post_assertion(&mut b, &tb, &login, &auth.assert(&options(&login))).await;
    assert!(refused.body.contains(FAILED));

    // A new one, removed by the admin API.
    let mut b = Browser::new();
    let page = account(&mut b, &tb, USER).await;
    let (answer, mut second) = register(&mut b, &tb, &page, "").await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    let factors = admin_factors(&tb, USER).await;
    let id = factors["passkeys"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(factors["passkeys"][0]["name"], "");
    let page = b.get(&tb.url("/account")).await;
    assert!(
        page.body.contains("Passkey of "),
        "default name: {}",
        page.body
    );
    let http = reqwest::Client::new();
    let url = tb.url(&format!("/admin/api/users/{USER}/passkeys/{id}"));
    let unauthenticated = http.delete(&url).send().await.unwrap();
    assert_eq!(unauthenticated.status(), 401);
    let resp = http
        .delete(&url)
        .bearer_auth(admin_token())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["passkeys"], serde_json::json!([]));
    let resp = http
        .delete(&url)
        .bearer_auth(admin_token())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let mut b = Browser::new();
    let login = login_page(&mut b, &tb).await;
    let refused = post_assertion(&mut b, &tb, &login, &second.assert(&options(&login))).await;
    assert!(refused.body.contains(FAILED));

    let audit = tb.audit_lines().await;
    let removals: Vec<&Value> = audit
        .iter()
        .filter(|r| r["event"] == "user.passkey.removed" && r["outcome"] == "success")
        .collect();
    assert_eq!(removals.len(), 2);
    assert!(
        removals.iter().any(|r| r["actor"].is_string()),
        "{removals:?}"
    );
}

#[tokio::test]
async fn changing_passkeys_needs_a_fresh_sign_in() {
    let clock = Clock::Manual(std::sync::atomic::AtomicU64::new(1_800_000_000));
    let tb = localhost_broker("", None, clock).await;
    let mut b = Browser::new();
    let page = account(&mut b, &tb, USER).await;
    let options = data_options(&page.body, "passkey-register").unwrap();
    let state = form_field(&page.body, "passkey-register", "state").unwrap();
    let csrf = page.field("csrf");
    // Eleven minutes later: no registration offered, and the form is refused.
    tb.broker.internals().clock.advance(11 * 60);
    let stale = b.get(&tb.url("/account")).await;
    assert!(!stale.body.contains("id=\"passkey-register\""));
    assert!(
        stale.body.contains("href=\"/account/reauth\""),
        "{}",
        stale.body
    );
    let (_, credential) = SoftAuthenticator::register(&options, &tb.base);
    let refused = b
        .post(
            &tb.url("/account/passkeys"),
            &[
                ("csrf", &csrf),
                ("state", &state),
                ("credential", &credential),
            ],
        )
        .await;
    assert_eq!(refused.status, 400);
    assert!(refused.body.contains("sign in again"), "{}", refused.body);
    // "Sign in again" asks for a fresh sign-in (prompt=login) and comes back.
    let reauth = b.get(&tb.url("/account/reauth")).await;
    let loc = reauth.location.clone().unwrap();
    assert!(loc.contains("prompt=login"), "{loc}");
    let login = b.follow(&tb.base, reauth).await;
    assert!(
        login.body.contains("name=\"identifier\""),
        "a fresh sign-in"
    );
}

#[tokio::test]
async fn a_required_passkey_refuses_the_password_once_registered() {
    let users = format!(
        r#"users:
  - email: {USER}
    name: Alice Example
    password_hash: "{hash}"
    passkey: required
"#,
        hash = crate::support::broker::password_hash()
    );
    let tb = localhost_broker(ADMIN, Some(&users), Clock::System).await;
    // No passkey yet: the password lets alice in, to register one.
    let mut b = Browser::new();
    let page = account(&mut b, &tb, USER).await;
    let (answer, mut auth) = register(&mut b, &tb, &page, "Phone").await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    // Now the password is refused with the usual message.
    let mut b = Browser::new();
    let login = login_page(&mut b, &tb).await;
    let (tx, csrf) = (login.field("tx"), login.field("csrf"));
    let step = b
        .post(
            &tb.url("/login/identifier"),
            &[("tx", &tx), ("csrf", &csrf), ("identifier", USER)],
        )
        .await;
    assert!(step.body.contains("name=\"password\""));
    let refused = b
        .post(
            &tb.url("/login/password"),
            &[("tx", &tx), ("csrf", &csrf), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(refused.status, 200);
    assert!(
        refused
            .body
            .contains("The email address or password is incorrect.")
    );
    // The passkey still signs in, from that same page.
    let done = post_assertion(&mut b, &tb, &refused, &auth.assert(&options(&refused))).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let user: Value = reqwest::Client::new()
        .get(tb.url(&format!("/admin/api/users/{USER}")))
        .bearer_auth(admin_token())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(user["sign_in_method"], "passkey");
    let audit = tb.audit_lines().await;
    assert!(audit.iter().any(|r| r["reason"] == "passkey_required"));
}
