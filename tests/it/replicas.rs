//! Two brokers on one Redis: a login begun on one replica finishes on the other, rotation and
//! reuse detection hold across replicas, a user change, a revoked access token and a client's
//! failed authentications reach the other replica's in-memory mirrors within a second, and a
//! Redis outage gives clear 503s and heals without a restart.

use std::time::{Duration, Instant};

use idbroker::op::pkce;
use reqwest::StatusCode;
use serde_json::Value;

use crate::support::broker::{
    PASSWORD, TestBroker, USER, WEB_SECRET, replica_pair, replica_pair_store,
};
use crate::support::browser::{Browser, Page};
use crate::support::redis_server::RedisServer;
use crate::support::redis_topologies::RedisCluster;

pub(crate) const VERIFIER: &str = "verifier-verifier-verifier-verifier-verifier-0001";
pub(crate) const WEB_CB: &str = "https://web.example.com/callback";

/// Two replicas behind one public issuer, sharing Redis and a mounted signing-key folder.
async fn replicas(redis: &RedisServer) -> (TestBroker, TestBroker, tempfile::TempDir) {
    replica_pair(&redis.url(), "").await
}

/// The Redis that replicas share: one server, or a Cluster of three primaries with a
/// replica each.
enum Shared {
    Single(RedisServer),
    Cluster(RedisCluster),
}

impl Shared {
    async fn cluster() -> Shared {
        Shared::Cluster(
            tokio::task::spawn_blocking(|| RedisCluster::start(1))
                .await
                .unwrap(),
        )
    }

    /// Cuts every pub/sub connection on every node; returns how many.
    async fn kill_pubsub_clients(&self) -> i64 {
        let urls: Vec<String> = match self {
            Shared::Single(r) => vec![r.url()],
            Shared::Cluster(c) => c.urls().split(',').map(str::to_owned).collect(),
        };
        let mut killed = 0;
        for url in urls {
            let mut admin = redis::Client::open(url)
                .unwrap()
                .get_multiplexed_async_connection()
                .await
                .unwrap();
            let n: i64 = redis::cmd("CLIENT")
                .arg("KILL")
                .arg("TYPE")
                .arg("pubsub")
                .query_async(&mut admin)
                .await
                .unwrap();
            killed += n;
        }
        killed
    }

    fn store(&self) -> String {
        match self {
            Shared::Single(r) => format!("{{kind: redis, url: \"{}\"}}", r.url()),
            Shared::Cluster(c) => {
                format!("{{kind: redis, topology: cluster, url: \"{}\"}}", c.urls())
            }
        }
    }
}

/// Instantiates each body on one Redis (`<name>::single`) and on a Cluster
/// (`<name>::cluster`).
macro_rules! on_both {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn single() {
                super::$name(super::Shared::Single(super::RedisServer::start())).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn cluster() {
                super::$name(super::Shared::cluster().await).await;
            }
        }
    )+};
}

on_both!(
    a_login_begun_on_one_replica_finishes_on_the_other,
    the_same_refresh_token_raced_on_both_replicas_wins_once,
    a_user_change_on_one_replica_reaches_the_others_cache_within_a_second,
    an_access_token_revoked_on_one_replica_is_inactive_on_the_other,
    failed_client_authentications_on_one_replica_limit_the_other,
);

pub(crate) fn local(tb: &TestBroker) -> String {
    format!("http://127.0.0.1:{}", tb.port)
}

fn authorize_url(base: &str) -> String {
    format!(
        "{base}/authorize?response_type=code&client_id=web&redirect_uri={WEB_CB}&scope=openid%20offline_access&state=s&code_challenge={}&code_challenge_method=S256",
        pkce::s256_challenge(VERIFIER)
    )
}

/// Opens the login page on `start`, then types identifier and password on `finish`.
pub(crate) async fn login_across(b: &mut Browser, start: &TestBroker, finish: &TestBroker) -> Page {
    let first = b.get(&authorize_url(&local(start))).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
    let page = b
        .get(&format!("{}{}", local(start), first.location.unwrap()))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let (tx, csrf) = (page.field("tx"), page.field("csrf"));
    let step = b
        .post(
            &format!("{}/login/identifier", local(finish)),
            &[("tx", &tx), ("csrf", &csrf), ("identifier", USER)],
        )
        .await;
    assert_eq!(step.status, StatusCode::OK, "{}", step.body);
    b.post(
        &format!("{}/login/password", local(finish)),
        &[("tx", &tx), ("csrf", &csrf), ("password", PASSWORD)],
    )
    .await
}

pub(crate) async fn token(tb: &TestBroker, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let resp = reqwest::Client::new()
        .post(format!("{}/token", local(tb)))
        .basic_auth("web", Some(WEB_SECRET))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn a_login_begun_on_one_replica_finishes_on_the_other(redis: Shared) {
    let (a, b, _keys) = replica_pair_store(&redis.store(), "", "").await;
    let mut browser = Browser::new();
    let back = login_across(&mut browser, &a, &b).await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.body);
    let code = back.location_param("code").unwrap();

    // Redeemed on B; the ID token's key is published by A too (one mounted key folder).
    let (status, tokens) = token(
        &b,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", WEB_CB),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let id_token = tokens["id_token"].as_str().unwrap();
    let kid = crate::op_flow::jwt_part(id_token, 0)["kid"].clone();
    let jwks: Value = reqwest::get(format!("{}/jwks", local(&a)))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["kid"] == kid)
    );

    // Rotation on A, replay of the old token on B: reuse detected, family revoked.
    let r1 = tokens["refresh_token"].as_str().unwrap().to_owned();
    let (status, rotated) = token(
        &a,
        &[("grant_type", "refresh_token"), ("refresh_token", &r1)],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let r2 = rotated["refresh_token"].as_str().unwrap().to_owned();
    let (replay, body) = token(
        &b,
        &[("grant_type", "refresh_token"), ("refresh_token", &r1)],
    )
    .await;
    assert_eq!(replay, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
    let (after, _) = token(
        &a,
        &[("grant_type", "refresh_token"), ("refresh_token", &r2)],
    )
    .await;
    assert_eq!(
        after,
        StatusCode::BAD_REQUEST,
        "the family is revoked on every replica"
    );

    // The code is taken once, whichever replica is asked second (RFC 6749 §4.1.2).
    let (again, _) = token(
        &a,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", WEB_CB),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!(again, StatusCode::BAD_REQUEST);
}

async fn the_same_refresh_token_raced_on_both_replicas_wins_once(redis: Shared) {
    let (a, b, _keys) = replica_pair_store(&redis.store(), "", "").await;
    for _ in 0..5 {
        let back = login_across(&mut Browser::new(), &a, &a).await;
        let code = back.location_param("code").unwrap();
        let (_, tokens) = token(
            &a,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", WEB_CB),
                ("code_verifier", VERIFIER),
            ],
        )
        .await;
        let r = tokens["refresh_token"].as_str().unwrap().to_owned();
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", r.as_str()),
        ];
        let (x, y) = tokio::join!(token(&a, &form), token(&b, &form));
        let wins = [x.0, y.0].iter().filter(|s| **s == StatusCode::OK).count();
        assert_eq!(wins, 1, "{x:?} {y:?}");
        // And the winner's new token dies with the family (reuse detected by the loser).
        let winner = if x.0 == StatusCode::OK { x.1 } else { y.1 };
        let next = winner["refresh_token"].as_str().unwrap();
        let (status, _) = token(
            &b,
            &[("grant_type", "refresh_token"), ("refresh_token", next)],
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
}

async fn a_user_change_on_one_replica_reaches_the_others_cache_within_a_second(redis: Shared) {
    let (a, b, _keys) = replica_pair_store(&redis.store(), "", "").await;
    // B has alice cached (the routing path reads the cache).
    let cached = b
        .broker
        .internals()
        .store
        .user_by_email(USER)
        .await
        .unwrap()
        .unwrap();
    assert!(!cached.sso);
    assert!(
        b.broker
            .internals()
            .store
            .cached_user_by_email(USER)
            .is_some()
    );
    let started = Instant::now();
    a.broker
        .internals()
        .store
        .update_user(&cached.id, |u| u.sso = true)
        .await
        .unwrap()
        .unwrap();
    loop {
        let seen = b
            .broker
            .internals()
            .store
            .user_by_email(USER)
            .await
            .unwrap()
            .unwrap();
        if seen.sso {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "replica B still sees the old user after 1 s"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    eprintln!("cross-replica invalidation took {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_outage_gives_503s_and_heals_without_a_restart() {
    let mut redis = RedisServer::start_durable();
    let (a, _b, _keys) = replicas(&redis).await;
    let base = local(&a);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    // Logins work, and yield codes.
    let mut codes = Vec::new();
    for _ in 0..3 {
        let back = login_across(&mut Browser::new(), &a, &a).await;
        codes.push(back.location_param("code").unwrap());
    }
    let first_code = codes.remove(0);
    let (ok, _) = token(
        &a,
        &[
            ("grant_type", "authorization_code"),
            ("code", &first_code),
            ("redirect_uri", WEB_CB),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!(ok, StatusCode::OK);

    redis.stop();
    let started = Instant::now();
    let ready = http.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    // The browser gets a page, the API a JSON 503; neither hangs past the store timeout.
    let page = http.get(authorize_url(&base)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(page.text().await.unwrap().contains("unavailable"));
    let (status, body) = token(
        &a,
        &[
            ("grant_type", "authorization_code"),
            ("code", &codes[0]),
            ("redirect_uri", WEB_CB),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"], "temporarily_unavailable");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "requests hung: {:?}",
        started.elapsed()
    );

    redis.restart();
    // Heals by itself: /readyz, then a new login, with no broker restart.
    let mut healed = false;
    for _ in 0..100 {
        if http
            .get(format!("{base}/readyz"))
            .send()
            .await
            .unwrap()
            .status()
            == StatusCode::OK
        {
            healed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(healed, "/readyz did not recover");
    let back = login_across(&mut Browser::new(), &a, &a).await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.body);
    // Nothing was accepted twice: the code redeemed before the outage stays spent, the
    // one refused during the outage is still good exactly once.
    let redeem = |code: String| {
        let a = &a;
        async move {
            token(
                a,
                &[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", WEB_CB),
                    ("code_verifier", VERIFIER),
                ],
            )
            .await
            .0
        }
    };
    assert_eq!(redeem(first_code).await, StatusCode::BAD_REQUEST);
    assert_eq!(redeem(codes[0].clone()).await, StatusCode::OK);
    assert_eq!(redeem(codes[0].clone()).await, StatusCode::BAD_REQUEST);
}

async fn introspect(tb: &TestBroker, token: &str) -> Value {
    reqwest::Client::new()
        .post(format!("{}/introspect", local(tb)))
        .basic_auth("web", Some(WEB_SECRET))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Revokes `token` as `web` at this replica's own address.
async fn revoke(tb: &TestBroker, token: &str) -> StatusCode {
    reqwest::Client::new()
        .post(format!("{}/revoke", local(tb)))
        .basic_auth("web", Some(WEB_SECRET))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap()
        .status()
}

/// Polls `check` for up to a second; true as soon as it holds.
async fn within_a_second<F, Fut>(mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(1);
    while Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

/// Each replica answers `/introspect` from an in-memory mirror of the deny list (issue 12):
/// an access token revoked on A must be inactive on B within a second, and stay so after
/// B's pub/sub connection was cut (B then reloads the list from Redis).
async fn an_access_token_revoked_on_one_replica_is_inactive_on_the_other(redis: Shared) {
    let (a, b, _keys) = replica_pair_store(&redis.store(), "", "").await;
    let (status, issued) = token(&a, &[("grant_type", "client_credentials")]).await;
    assert_eq!(status, StatusCode::OK, "{issued}");
    let at = issued["access_token"].as_str().unwrap().to_owned();
    assert_eq!(introspect(&b, &at).await["active"], true);

    assert_eq!(revoke(&a, &at).await, StatusCode::OK);
    assert!(
        within_a_second(|| async { introspect(&b, &at).await["active"] == false }).await,
        "B still says the revoked token is active"
    );

    // Cut every pub/sub connection, then revoke a second token on A: B misses the message
    // and must not answer from its mirror as if it were complete.
    let (_, issued) = token(&a, &[("grant_type", "client_credentials")]).await;
    let at2 = issued["access_token"].as_str().unwrap().to_owned();
    assert_eq!(introspect(&b, &at2).await["active"], true);
    let killed = redis.kill_pubsub_clients().await;
    assert!(killed >= 2, "both replicas subscribe: {killed}");
    assert_eq!(revoke(&a, &at2).await, StatusCode::OK);
    assert!(
        within_a_second(|| async { introspect(&b, &at2).await["active"] == false }).await,
        "B answered from a mirror that missed a denial"
    );
    // And the first one is still known after B reloaded.
    assert_eq!(introspect(&b, &at).await["active"], false);
}

/// A right secret is answered without the store while no failure is recorded (issue 12);
/// failures recorded on A must make B count again within a second, so that the right secret
/// is refused on B too once the limit is reached.
async fn failed_client_authentications_on_one_replica_limit_the_other(redis: Shared) {
    let (a, b, _keys) = replica_pair_store(
        &redis.store(),
        "",
        "rate_limits: {password_per_ip: 100, password_per_identifier: 100, token_per_client: 3, window: 5m}",
    )
    .await;
    // Two successes on B: the first finds the client's failure count at zero, the second is
    // answered from B's memory.
    for _ in 0..2 {
        let (status, _) = token(&b, &[("grant_type", "client_credentials")]).await;
        assert_eq!(status, StatusCode::OK);
    }
    for _ in 0..3 {
        let wrong = reqwest::Client::new()
            .post(format!("{}/token", local(&a)))
            .basic_auth("web", Some("wrong-guess"))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    }
    assert!(
        within_a_second(|| async {
            token(&b, &[("grant_type", "client_credentials")]).await.0
                == StatusCode::TOO_MANY_REQUESTS
        })
        .await,
        "B still answers the right secret while the client is over its failure limit"
    );
}
