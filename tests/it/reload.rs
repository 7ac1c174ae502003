//! Live policy reload: a saved edit is in force within a second or so, a broken edit changes
//! nothing, and a user taken out of the file is disabled.

use std::time::Duration;

use idbroker::clock::Clock;
use idbroker::reload::Outcome;
use reqwest::StatusCode;

use crate::support::broker::{TestBroker, policy_yaml, test_loader};
use crate::support::browser::Browser;

const LATE_CLIENT: &str = r#"
  - id: late
    redirect_uris: [http://127.0.0.1:9100/callback]
    grants: [authorization_code]
    scopes: [openid]
"#;

fn authorize_late(base: &str) -> String {
    format!(
        "{base}/authorize?response_type=code&client_id=late&redirect_uri=http://127.0.0.1:9100/callback&scope=openid&state=s&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256"
    )
}

/// Saves `text` the way editors do: write a new file, rename it over the old one.
fn save_by_rename(tb: &TestBroker, text: &str) {
    let tmp = tb.policy_path.with_extension("yaml.swp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, &tb.policy_path).unwrap();
}

/// The policy text of `tb` with `LATE_CLIENT` added to its clients.
fn with_late_client(tb: &TestBroker) -> String {
    policy_yaml(&tb.base, tb.dir.path(), "", None)
        .replace("clients:\n", &format!("clients:{LATE_CLIENT}"))
}

#[tokio::test]
async fn a_saved_edit_is_live_without_a_restart() {
    let tb = TestBroker::start_with("", None, Clock::System).await;
    let mut b = Browser::new();
    let before = b.get(&authorize_late(&tb.base)).await;
    assert_eq!(
        before.status,
        StatusCode::BAD_REQUEST,
        "unknown client: an error page"
    );

    save_by_rename(&tb, &with_late_client(&tb));
    let mut live = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if b.get(&authorize_late(&tb.base)).await.status == StatusCode::SEE_OTHER {
            live = true;
            break;
        }
    }
    assert!(live, "the new client was not picked up within 5 s");
}

#[tokio::test]
async fn a_broken_edit_changes_nothing_and_says_where() {
    let tb = TestBroker::start_with("", None, Clock::System).await;
    let good = with_late_client(&tb);
    std::fs::write(&tb.policy_path, &good).unwrap();
    assert_eq!(
        idbroker::reload::reload_once(&tb.broker, &tb.policy_path, &test_loader()).await,
        Outcome::Applied
    );
    // An unknown key on the last line: the whole file is refused.
    let broken = format!("{good}colour: blue\n");
    let line = broken.lines().count();
    std::fs::write(&tb.policy_path, &broken).unwrap();
    match idbroker::reload::reload_once(&tb.broker, &tb.policy_path, &test_loader()).await {
        Outcome::Refused(message) => {
            assert!(message.contains("colour"), "{message}");
            assert!(
                message.contains(&format!("broker.yaml:{line}:1")),
                "no line and column in: {message}"
            );
        }
        other => panic!("a broken file was applied: {other:?}"),
    }
    // Still the last good policy: the client added before the broken edit works.
    let mut b = Browser::new();
    assert_eq!(
        b.get(&authorize_late(&tb.base)).await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn a_user_removed_from_the_file_is_disabled_not_deleted() {
    let tb = TestBroker::start_with("", None, Clock::System).await;
    let before = tb
        .broker
        .internals()
        .store
        .user_by_email("nopass@example.com")
        .await
        .unwrap()
        .unwrap();
    let users = format!(
        "users:\n  - email: {}\n    name: Alice Example\n    password_hash: \"{}\"\n",
        crate::support::broker::USER,
        crate::support::broker::password_hash()
    );
    std::fs::write(
        &tb.policy_path,
        policy_yaml(&tb.base, tb.dir.path(), "", Some(&users)),
    )
    .unwrap();
    assert_eq!(
        idbroker::reload::reload_once(&tb.broker, &tb.policy_path, &test_loader()).await,
        Outcome::Applied
    );
    let after = tb
        .broker
        .internals()
        .store
        .user_by_email("nopass@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.id, before.id);
    assert!(after.disabled);
}
