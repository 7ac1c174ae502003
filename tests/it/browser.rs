//! The login page in a real browser: Debian's chromium driven by playwright-core
//! (`tests/browser/*.mjs`). `tests/run` installs both; a missing one fails the test.

use std::path::Path;

use crate::support::broker::{PASSWORD, TestBroker, USER};

/// Runs a browser script against `base` with `args`; panics with its output on failure.
pub async fn run_script(script: &str, args: &[&str]) {
    run_script_output(script, args).await;
}

/// [`run_script`], giving back what the script printed.
pub async fn run_script_output(script: &str, args: &[&str]) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "chromium is not installed at {chromium}: run tests/run, which installs it"
    );
    assert!(
        root.join("tests/browser/node_modules/playwright-core")
            .exists(),
        "playwright-core is not installed: run tests/run, which runs npm ci in tests/browser"
    );
    let out = tokio::process::Command::new("node")
        .arg(root.join("tests/browser").join(script))
        .args(args)
        .env("SCREENSHOT_DIR", std::env::temp_dir())
        .output()
        .await
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "browser script {script} failed:\n{stdout}\n{stderr}"
    );
    eprintln!("{stdout}");
    stdout.into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_login_in_chromium() {
    let tb = TestBroker::start().await;
    run_script("login.mjs", &[&tb.base, USER, PASSWORD]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_time_codes_in_chromium() {
    let tb = TestBroker::start().await;
    run_script("mfa.mjs", &[&tb.base, USER, PASSWORD]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sso_login_in_chromium() {
    let w = crate::sso::world(crate::sso::Options::default()).await;
    // The account page is a client of the broker; its callback must be registered upstream
    // only for the broker itself, which `world` did.
    run_script(
        "sso.mjs",
        &[&w.tb.base, "ada@contoso.com", &w.fake.authority()],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_page_in_chromium() {
    let clients = "  - id: tv\n    name: Living Room TV\n    grants: [device_code]\n    scopes: [openid, email]\n";
    let tb =
        TestBroker::start_with_clients(clients, "", None, idbroker::clock::Clock::System).await;
    let http = reqwest::Client::new();
    let d: serde_json::Value = http
        .post(tb.url("/device_authorization"))
        .form(&[("client_id", "tv"), ("scope", "openid email")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let poll = || async {
        http.post(tb.url("/token"))
            .form(&[
                ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                ("client_id", "tv"),
                ("device_code", d["device_code"].as_str().unwrap()),
            ])
            .send()
            .await
            .unwrap()
    };
    assert_eq!(poll().await.status(), 400, "pending before the browser");
    run_script(
        "device.mjs",
        &[
            d["verification_uri_complete"].as_str().unwrap(),
            d["user_code"].as_str().unwrap(),
            USER,
            PASSWORD,
            "Living Room TV",
        ],
    )
    .await;
    let resp = poll().await;
    assert_eq!(resp.status(), 200, "approved in the browser");
    let tokens: serde_json::Value = resp.json().await.unwrap();
    assert!(tokens["id_token"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn branding_and_languages_in_chromium() {
    let w = crate::branding::world().await;
    let policy = w.tb.broker.policy();
    let catalogs = std::sync::Arc::new(idbroker::i18n::Catalogs::shipped());
    let mut texts = serde_json::Map::new();
    for tag in ["en", "de", "fr"] {
        let l = catalogs.exactly(tag).unwrap();
        texts.insert(
            tag.into(),
            serde_json::json!({
                "title": l.t("login-title"),
                "next": l.t("login-next"),
                "password_title": l.t("login-password-title"),
            }),
        );
    }
    let contoso = &policy.org_by_id["contoso"].branding;
    texts.insert(
        "contoso_logo".into(),
        contoso.logo.as_ref().unwrap().url().into(),
    );
    texts.insert(
        "contoso_theme".into(),
        contoso.theme.as_ref().unwrap().url().into(),
    );
    texts.insert(
        "broker_logo".into(),
        policy.branding.logo.as_ref().unwrap().url().into(),
    );
    texts.insert(
        "contoso_colour".into(),
        crate::branding::CONTOSO_COLOUR.into(),
    );
    // Kept after the run for people to look at: target/screenshots/.
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    run_script(
        "branding.mjs",
        &[
            &crate::branding::authorize(&w.tb.base, ""),
            &serde_json::Value::Object(texts).to_string(),
            shots.to_str().unwrap(),
            &w.tb.base,
            crate::support::broker::PASSWORD,
        ],
    )
    .await;
    for name in ["login-en-light", "login-de-dark", "contoso-password-dark"] {
        assert!(shots.join(format!("{name}.png")).exists(), "{name}.png");
    }
}

/// An application's redirect URI on a free port: answers every request with a small page.
async fn application() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut conn, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = conn.read(&mut buf).await;
                let body = "<!doctype html><p id=app>signed in</p>";
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = conn.write_all(answer.as_bytes()).await;
            });
        }
    });
    format!("http://127.0.0.1:{port}/callback")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passkeys_in_chromium() {
    use crate::support::oauth::{VERIFIER, claims};
    let redirect = application().await;
    let client = format!(
        "clients:\n  - id: app\n    redirect_uris: [{redirect}]\n    grants: [authorization_code]\n    scopes: [openid, email]\n"
    );
    // WebAuthn needs a domain: the issuer is http://localhost (a secure context).
    let tb = crate::support::authenticator::localhost_broker_with(
        &client,
        idbroker::clock::Clock::System,
    )
    .await;
    let authorize = format!(
        "{}/authorize?response_type=code&client_id=app&redirect_uri={redirect}&scope=openid%20email&state=s&code_challenge={}&code_challenge_method=S256&acr_values=urn%3Aidbroker%3Aacr%3Amfa%20urn%3Aidbroker%3Aacr%3Apwd",
        tb.base,
        idbroker::op::pkce::s256_challenge(VERIFIER)
    );
    let out = run_script_output(
        "passkeys.mjs",
        &[&tb.base, USER, PASSWORD, &authorize, &redirect],
    )
    .await;
    let id_token = |how: &'static str| {
        let code = out
            .lines()
            .find_map(|l| l.strip_prefix(&format!("CODE {how} ")))
            .unwrap_or_else(|| panic!("no {how} sign-in in:\n{out}"))
            .to_owned();
        let (tb, redirect) = (&tb, &redirect);
        async move {
            let resp = reqwest::Client::new()
                .post(tb.url("/token"))
                .form(&[
                    ("grant_type", "authorization_code"),
                    ("client_id", "app"),
                    ("code", &code),
                    ("redirect_uri", redirect),
                    ("code_verifier", VERIFIER),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200, "{how}");
            let tokens: serde_json::Value = resp.json().await.unwrap();
            claims(tokens["id_token"].as_str().unwrap())
        }
    };
    for how in ["autofill", "explicit"] {
        let id = id_token(how).await;
        assert_eq!(
            id["amr"],
            serde_json::json!(["hwk", "user", "mfa"]),
            "{how}"
        );
        assert_eq!(id["acr"], "urn:idbroker:acr:mfa", "{how}");
        assert_eq!(id["email"], USER);
    }
    let id = id_token("password").await;
    assert_eq!(id["amr"], serde_json::json!(["pwd"]));
    assert_eq!(id["acr"], "urn:idbroker:acr:pwd");
}
