//! Hostile traffic against storage and the per-IP limits (issue #10, items 3 and 9): what an
//! unauthenticated client can make the broker store, and whom the password limiter refuses.

use idbroker::clock::Clock;
use idbroker::store::AuditFilter;
use reqwest::StatusCode;

use crate::support::broker::{PASSWORD, TestBroker, USER, test_env};
use crate::support::browser::{Browser, sign_in};
use crate::support::net::query_map;

const SPA_CB: &str = "http://127.0.0.1:9000/callback";

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A valid authorization request of `spa` with the given `state`, `nonce` and `login_hint`.
fn authorize_with(base: &str, state: &str, nonce: &str, hint: &str) -> String {
    format!(
        "{base}/authorize?response_type=code&client_id=spa&redirect_uri={SPA_CB}&scope=openid&state={state}&nonce={nonce}&login_hint={hint}&code_challenge={}&code_challenge_method=S256",
        idbroker::op::pkce::s256_challenge("verifier-verifier-verifier-verifier-verifier-0001")
    )
}

fn db_size(tb: &TestBroker) -> u64 {
    std::fs::metadata(tb.dir.path().join("broker.db"))
        .unwrap()
        .len()
}

/// Where `/authorize` sent the browser: `"login"` for the login page, else the `error` of
/// the redirect back to the client.
async fn authorize_outcome(http: &reqwest::Client, url: &str) -> String {
    let resp = http.get(url).send().await.unwrap();
    assert!(resp.status().is_redirection(), "{}", resp.status());
    let loc = resp.headers()["location"].to_str().unwrap().to_owned();
    if loc.starts_with("/login") {
        return "login".into();
    }
    assert!(loc.starts_with(SPA_CB), "{loc}");
    query_map(&loc).get("error").cloned().unwrap_or_default()
}

// ---------------------------------------------------------------- item 3: storage growth

/// `state`, `nonce` and `login_hint` are stored as sent in a login transaction. Values over
/// their limits are refused with `invalid_request` (a redirect: the client is known) and
/// store nothing, however many are sent; values at the limits are accepted.
#[tokio::test]
async fn oversized_authorize_values_are_refused_and_store_nothing() {
    let tb = TestBroker::start().await;
    let http = no_redirects();
    let big = "x".repeat(2000);
    assert_eq!(
        authorize_outcome(
            &http,
            &authorize_with(
                &tb.base,
                &"s".repeat(512),
                &"n".repeat(512),
                &"h".repeat(256)
            )
        )
        .await,
        "login",
        "values at the limits are accepted"
    );
    for (state, nonce, hint) in [
        ("s".repeat(513), "n".into(), "h".into()),
        ("s".into(), "n".repeat(513), "h".into()),
        ("s".into(), "n".into(), "h".repeat(257)),
    ] {
        let url = authorize_with(&tb.base, &state, &nonce, &hint);
        assert_eq!(authorize_outcome(&http, &url).await, "invalid_request");
    }
    tb.broker.internals().store.sweep().await.unwrap();
    let before = db_size(&tb);
    for _ in 0..300 {
        let url = authorize_with(&tb.base, &big, &big, &big);
        assert_eq!(authorize_outcome(&http, &url).await, "invalid_request");
    }
    let after = db_size(&tb);
    // Stored, 300 transactions of 6 KB would add about 2 MB.
    assert!(
        after <= before + 256 * 1024,
        "the store grew from {before} to {after} bytes"
    );
}

/// One address gets `authorize_per_ip` authorization requests per window; beyond, the
/// client gets `temporarily_unavailable` and nothing is stored.
#[tokio::test]
async fn authorize_is_rate_limited_per_ip() {
    let tb = TestBroker::start().await;
    // The default `authorize_per_ip`.
    let limit = 600;
    let http = no_redirects();
    let url = authorize_with(&tb.base, "s", "n", "h");
    let mut outcomes = std::collections::BTreeMap::<String, u32>::new();
    for _ in 0..limit + 50 {
        *outcomes
            .entry(authorize_outcome(&http, &url).await)
            .or_default() += 1;
    }
    assert_eq!(
        outcomes,
        [
            ("login".to_owned(), limit),
            ("temporarily_unavailable".to_owned(), 50)
        ]
        .into()
    );
}

/// Login transactions started from one address are capped per login lifetime, so the
/// store holds a bounded number of them per address. A signed-in browser needs no
/// transaction and is still answered.
#[tokio::test]
async fn live_login_transactions_are_capped_per_ip() {
    let tb = TestBroker::start_with(
        "rate_limits: {password_per_ip: 1000, password_per_identifier: 100, window: 5m, authorize_per_ip: 1000, login_tx_per_ip: 5}",
        None,
        Clock::System,
    )
    .await;
    let mut signed_in = Browser::new();
    let url = authorize_with(&tb.base, "s", "n", "h");
    let back = sign_in(&mut signed_in, &tb.base, &url, USER, PASSWORD).await;
    assert!(back.location_param("code").is_some(), "{:?}", back.location);
    let http = no_redirects();
    let mut outcomes = Vec::new();
    for _ in 0..6 {
        outcomes.push(authorize_outcome(&http, &url).await);
    }
    assert_eq!(
        outcomes,
        [
            "login",
            "login",
            "login",
            "login",
            "temporarily_unavailable",
            "temporarily_unavailable"
        ]
    );
    let again = signed_in.get(&url).await;
    assert!(
        again.location_param("code").is_some(),
        "a live session still gets a code: {:?}",
        again.location
    );
}

/// Refused admin authentications are audited up to `admin_auth_failures_per_ip` per window;
/// later ones are answered 429 and only counted in a metric. The right token still works.
#[tokio::test]
async fn refused_admin_authentications_beyond_the_limit_are_counted_not_stored() {
    let tb = TestBroker::start_with(
        "admin: {token_env: IDBROKER_ADMIN_TOKEN}",
        None,
        Clock::System,
    )
    .await;
    // The default `admin_auth_failures_per_ip`.
    let limit: u32 = 20;
    let http = reqwest::Client::new();
    let mut statuses = std::collections::BTreeMap::<u16, u32>::new();
    for _ in 0..limit + 80 {
        let r = http
            .get(tb.url("/admin/api/organizations"))
            .bearer_auth("wrong-token-0123456789abcdef0123456789abcdef")
            .send()
            .await
            .unwrap();
        *statuses.entry(r.status().as_u16()).or_default() += 1;
    }
    assert_eq!(statuses, [(401, limit), (429, 80)].into());
    let audited = tb
        .audit_lines()
        .await
        .into_iter()
        .filter(|l| l["event"] == "admin.auth")
        .count();
    assert_eq!(audited, limit as usize);
    let stored = tb
        .broker
        .internals()
        .store
        .audit(&AuditFilter::default())
        .await
        .unwrap();
    assert_eq!(
        stored.iter().filter(|r| r.event == "admin.auth").count(),
        limit as usize
    );
    let metrics = reqwest::get(tb.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let counted: f64 = metrics
        .lines()
        .find(|l| l.starts_with("idbroker_rate_limited_total{limit=\"admin_auth\"}"))
        .and_then(|l| l.rsplit(' ').next())
        .map(|v| v.parse().unwrap())
        .unwrap_or(0.0);
    assert!(counted >= 80.0, "{counted}");
    let ok = http
        .get(tb.url("/admin/api/organizations"))
        .bearer_auth(test_env("IDBROKER_ADMIN_TOKEN").unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
}

// ---------------------------------------------------------------- item 9: per-IP limits

/// One password attempt as `who` from `xff` (the client address a trusted proxy reports).
async fn password_from(tb: &TestBroker, xff: &str, who: &str, password: &str) -> u16 {
    let http = no_redirects();
    let url = authorize_with(&tb.base, "s", "n", "h");
    let first = http
        .get(&url)
        .header("x-forwarded-for", xff)
        .send()
        .await
        .unwrap();
    let cookie = first.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let login = tb.url(first.headers()["location"].to_str().unwrap());
    let page = http
        .get(&login)
        .header("cookie", &cookie)
        .header("x-forwarded-for", xff)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let tx = crate::support::browser::field(&page, "tx").unwrap();
    let csrf = crate::support::browser::field(&page, "csrf").unwrap();
    for (path, field) in [
        ("/login/identifier", ("identifier", who)),
        ("/login/password", ("password", password)),
    ] {
        let r = http
            .post(tb.url(path))
            .header("cookie", &cookie)
            .header("x-forwarded-for", xff)
            .form(&[("tx", tx.as_str()), ("csrf", csrf.as_str()), field])
            .send()
            .await
            .unwrap();
        if path == "/login/password" {
            return r.status().as_u16();
        }
        assert_eq!(r.status(), 200);
    }
    unreachable!()
}

/// The addresses of one IPv6 /64 share one allowance: a client cannot walk its interface
/// identifiers to get more attempts.
#[tokio::test]
async fn per_ip_limits_key_ipv6_on_the_64() {
    let tb = TestBroker::start_with(
        "rate_limits: {password_per_ip: 3, password_per_identifier: 100, window: 5m}\ntrusted_proxies: [127.0.0.1]",
        None,
        Clock::System,
    )
    .await;
    let mut statuses = Vec::new();
    for (i, who) in ["a", "b", "c", "d"].iter().enumerate() {
        let xff = format!("2001:db8:1:2::{}", i + 1);
        statuses.push(password_from(&tb, &xff, &format!("{who}@example.com"), "x").await);
    }
    assert_eq!(statuses, [200, 200, 200, 429]);
    // Another /64 has its own allowance.
    assert_eq!(
        password_from(&tb, "2001:db8:1:3::1", "e@example.com", "x").await,
        200
    );
}

/// The identifier step (home realm discovery) is limited per client IP.
#[tokio::test]
async fn the_identifier_step_is_rate_limited_per_ip() {
    let tb = TestBroker::start_with(
        "rate_limits: {password_per_ip: 1000, password_per_identifier: 100, window: 5m, identifier_per_ip: 3}",
        None,
        Clock::System,
    )
    .await;
    let mut statuses = Vec::new();
    for i in 0..4 {
        let mut b = Browser::new();
        let p = crate::support::oauth::identify(&mut b, &tb, &format!("u{i}@example.com")).await;
        statuses.push((p.status.as_u16(), p.headers.contains_key("retry-after")));
    }
    assert_eq!(
        statuses,
        [(200, false), (200, false), (200, false), (429, true)]
    );
}

/// Successful sign-ins do not count against `password_per_identifier`, and a success
/// clears the identifier's failures.
#[tokio::test]
async fn only_failed_passwords_count_and_a_success_clears_them() {
    let tb = TestBroker::start_with(
        "rate_limits: {password_per_ip: 1000, password_per_identifier: 3, window: 5m}",
        None,
        Clock::System,
    )
    .await;
    let url = authorize_with(&tb.base, "s", "n", "h");
    let attempt = |password: &'static str| {
        let tb = &tb;
        let url = url.clone();
        async move {
            // A new browser each time: several devices, no device cookie.
            let p = sign_in(&mut Browser::new(), &tb.base, &url, USER, password).await;
            p.status.as_u16()
        }
    };
    // Six sign-ins in a row (several browsers, one user).
    for _ in 0..6 {
        assert_eq!(attempt(PASSWORD).await, 303);
    }
    // Two failures, a success, then three more failures are allowed...
    assert_eq!(attempt("wrong").await, 200);
    assert_eq!(attempt("wrong").await, 200);
    assert_eq!(attempt(PASSWORD).await, 303);
    for _ in 0..3 {
        assert_eq!(attempt("wrong").await, 200);
    }
    // ... and the fourth failure in a row is refused.
    assert_eq!(attempt("wrong").await, 429);
}

/// A browser that signed in as a user before keeps its own allowance while others' wrong
/// passwords have locked the identifier; a browser that never signed in does not. A device
/// cookie of another identifier changes nothing (no enumeration: unknown identifiers never
/// have one).
#[tokio::test]
async fn a_known_device_keeps_its_own_allowance() {
    let tb = TestBroker::start_with(
        "rate_limits: {password_per_ip: 1000, password_per_identifier: 3, window: 5m}",
        None,
        Clock::System,
    )
    .await;
    // `prompt=login`: the known browser is signed in, and must see the login page again.
    let url = authorize_with(&tb.base, "s", "n", "h") + "&prompt=login";
    let mut known = Browser::new();
    let first = sign_in(&mut known, &tb.base, &url, USER, PASSWORD).await;
    assert_eq!(first.status, 303);
    assert!(
        known.cookies.contains_key("idb_device"),
        "a password sign-in sets a device cookie: {:?}",
        known.cookies
    );
    // An attacker locks the identifier from elsewhere.
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let p = sign_in(&mut Browser::new(), &tb.base, &url, USER, "guess").await;
        statuses.push(p.status.as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 429]);
    // A new browser with the right password is refused; the known one signs in.
    let p = sign_in(&mut Browser::new(), &tb.base, &url, USER, PASSWORD).await;
    assert_eq!(p.status, 429);
    let p = sign_in(&mut known, &tb.base, &url, USER, PASSWORD).await;
    assert_eq!(p.status, 303, "{}", p.body);
    // The known device's failures count against its own allowance.
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let p = sign_in(&mut known, &tb.base, &url, USER, "typo").await;
        statuses.push(p.status.as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 429]);
    // For any other identifier, known or not, its cookie is no cookie at all.
    for who in ["nopass@example.com", "ghost@example.com"] {
        let mut statuses = Vec::new();
        for _ in 0..4 {
            let p = sign_in(&mut known, &tb.base, &url, who, "typo").await;
            statuses.push(p.status.as_u16());
        }
        assert_eq!(statuses, [200, 200, 200, 429], "{who}");
    }
}

/// Successful sign-ins do not use up the client address's allowance either, and of the
/// attempts refused by a limit only the first of the window is audited: a flood of refused
/// passwords is counted in the metric, not stored one by one.
#[tokio::test]
async fn per_ip_password_limit_counts_failures_and_refusals_are_audited_once() {
    let tb = TestBroker::start_with(
        "rate_limits: {password_per_ip: 3, password_per_identifier: 1000, window: 5m}",
        None,
        Clock::System,
    )
    .await;
    let url = authorize_with(&tb.base, "s", "n", "h");
    let attempt = |password: &'static str| {
        let tb = &tb;
        let url = url.clone();
        async move {
            let p = sign_in(&mut Browser::new(), &tb.base, &url, USER, password).await;
            p.status.as_u16()
        }
    };
    // An office behind one address signs in more often than the limit.
    for _ in 0..6 {
        assert_eq!(attempt(PASSWORD).await, 303);
    }
    for _ in 0..3 {
        assert_eq!(attempt("wrong").await, 200);
    }
    for _ in 0..20 {
        assert_eq!(attempt("wrong").await, 429);
    }
    let refusals = tb
        .audit_lines()
        .await
        .into_iter()
        .filter(|l| l["event"] == "login.password" && l["reason"] == "rate_limited")
        .count();
    assert_eq!(
        refusals, 1,
        "one audited refusal per window, the rest counted"
    );
}
