//! A refresh answered is a refresh that survives a crash (issue 12): the broker is killed
//! with `SIGKILL` in the middle of a refresh load on the embedded store, and started again
//! on the same file. Every refresh token it answered before the kill still works, and none
//! of the tokens those answers replaced does. Group commit may batch many rotations into one
//! fsync, but it answers none of them before that fsync.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::Value;

use crate::support::broker::{PASSWORD, USER, WEB_SECRET};
use crate::support::browser::{Browser, sign_in};
use crate::support::child::ChildBroker;
use crate::support::oauth::{redeem_spa_code_at, spa_authorize_url};

/// Families refreshed at once; half stop cleanly just before the kill, half are cut off.
const FAMILIES: usize = 24;

/// What one family's refresher saw.
#[derive(Default)]
struct Chain {
    /// Tokens presented and answered with a new one, oldest first.
    replaced: Vec<String>,
    /// The token of the last answer.
    current: String,
}

/// The refresh token of a redeemed `spa` code.
async fn redeem(base: &str, code: &str) -> String {
    redeem_spa_code_at(base, code).await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Refreshes `token` once: `Ok(new token)`, `Err(status)` when refused, or a transport
/// error (the broker is gone).
async fn refresh(
    http: &reqwest::Client,
    base: &str,
    token: &str,
) -> Result<Result<String, u16>, reqwest::Error> {
    let resp = http
        .post(format!("{base}/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", "spa"),
            ("refresh_token", token),
        ])
        .send()
        .await?;
    let status = resp.status().as_u16();
    let body: Value = resp.json().await?;
    Ok(match body["refresh_token"].as_str() {
        Some(t) if status == 200 => Ok(t.to_owned()),
        _ => Err(status),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refreshes_answered_before_a_kill_survive_it() {
    // Rotation is limited per family (64 a window by default); the load stays under it.
    let mut broker = ChildBroker::start("").await;
    let base = broker.base.clone();
    let http = reqwest::Client::new();

    // One sign-in, then one family per authorization request on the same session.
    let mut browser = Browser::new();
    let url = spa_authorize_url(&base, "openid%20offline_access");
    let back = sign_in(&mut browser, &base, &url, USER, PASSWORD).await;
    let mut tokens = vec![redeem(&base, &back.location_param("code").unwrap()).await];
    while tokens.len() < FAMILIES {
        let first = browser.get(&url).await;
        let back = browser.follow(&base, first).await;
        tokens.push(redeem(&base, &back.location_param("code").unwrap()).await);
    }

    // Each family refreshed in a loop, as fast as the broker answers.
    let stop_clean = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicUsize::new(0));
    let mut refreshers = Vec::new();
    for (i, token) in tokens.into_iter().enumerate() {
        let (http, base) = (http.clone(), base.clone());
        let (stop_clean, answered) = (stop_clean.clone(), answered.clone());
        let clean = i % 2 == 0;
        refreshers.push(tokio::spawn(async move {
            let mut chain = Chain {
                replaced: Vec::new(),
                current: token,
            };
            // A family stops after 60 rotations: the policy allows 64 a window.
            for _ in 0..60 {
                if clean && stop_clean.load(Ordering::Acquire) {
                    break;
                }
                match refresh(&http, &base, &chain.current).await {
                    Ok(Ok(next)) => {
                        let old = std::mem::replace(&mut chain.current, next);
                        chain.replaced.push(old);
                        answered.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(Err(status)) => panic!("refresh refused with {status} before the kill"),
                    // The kill: what was in flight has no answer.
                    Err(_) => break,
                }
            }
            chain
        }));
    }
    // Let the load run, stop the clean half (each finishes the request it has in flight),
    // then kill while the other half is still sending.
    while answered.load(Ordering::Relaxed) < 200 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    stop_clean.store(true, Ordering::Release);
    // Clean refreshers end by themselves; the others are still in their loop.
    let mut clean_chains = Vec::new();
    let mut cut_handles = Vec::new();
    for (i, r) in refreshers.into_iter().enumerate() {
        if i % 2 == 0 {
            clean_chains.push(r.await.unwrap());
        } else {
            cut_handles.push(r);
        }
    }
    broker.kill().await;
    let mut cut_chains = Vec::new();
    for r in cut_handles {
        cut_chains.push(r.await.unwrap());
    }
    let rotations: usize = clean_chains.iter().map(|c| c.replaced.len()).sum();
    assert!(
        rotations >= 50,
        "the load was too short: {rotations} rotations"
    );

    broker.restart().await;

    // Every answer given to a clean family survived: its last token refreshes.
    for chain in &clean_chains {
        let after = refresh(&http, &base, &chain.current).await.unwrap();
        assert!(
            after.is_ok(),
            "a refresh answered before the kill was lost: {after:?} after {} rotations",
            chain.replaced.len()
        );
    }
    // No token that an answer replaced works again, in either half: presenting one is a
    // reuse (RFC 9700 §4.14.2) and is refused.
    for chain in clean_chains.iter().chain(&cut_chains) {
        if let Some(old) = chain.replaced.last() {
            let again = refresh(&http, &base, old).await.unwrap();
            assert_eq!(
                again,
                Err(400),
                "a replaced refresh token worked after the restart"
            );
        }
    }
}

/// A right client secret is answered without the store only once this process has seen the
/// client's failure count at zero (issue 12): a broker started on a store that holds a full
/// window of failures must still refuse the right secret.
#[tokio::test]
async fn a_restart_does_not_forget_a_client_over_its_failure_limit() {
    let mut broker = ChildBroker::start(
        "rate_limits: {password_per_ip: 100, password_per_identifier: 100, token_per_client: 3, window: 5m}",
    )
    .await;
    let (http, base) = (reqwest::Client::new(), broker.base.clone());
    let attempt = |secret: &'static str| {
        let request = http
            .post(format!("{base}/token"))
            .basic_auth("web", Some(secret))
            .form(&[("grant_type", "client_credentials")]);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(attempt(WEB_SECRET).await, 200);
    assert_eq!(attempt(WEB_SECRET).await, 200);
    for _ in 0..3 {
        assert_eq!(attempt("wrong-guess").await, 401);
    }
    assert_eq!(attempt(WEB_SECRET).await, 429);
    // Rate counters are relaxed writes, on disk within a second.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    broker.restart().await;
    assert_eq!(attempt(WEB_SECRET).await, 429);
}
