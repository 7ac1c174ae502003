//! Real applications against the real binary: the Node (`openid-client`) and Python (Flask
//! with `Authlib`) apps of `tests/apps/`, whose code is the copy-paste snippets of
//! `docs/src/connecting/libraries.md`. Each app is registered as a confidential client, signs
//! the policy's user in through the login page (its script plays the browser with plain HTTP
//! requests), and prints the subject and email of the ID token it verified.
//!
//! `tests/run` installs what they need (`npm ci` in `tests/apps/node`, a virtualenv with
//! `tests/apps/python/requirements.txt` in `target/apps-pyenv`); a missing one fails the test.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::Command;

use crate::support::broker::{PASSWORD, USER, password_hash};
use crate::support::net::free_port;

const APP_SECRET: &str = "app-client-secret-0123456789abcdef0123";
const ADMIN_TOKEN: &str = "apps-admin-token-0123456789abcdef0123456789";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The Python interpreter of the apps' virtualenv (made by `tests/run`).
fn python() -> PathBuf {
    std::env::var_os("IDBROKER_APPS_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/apps-pyenv/bin/python"))
}

/// `idbroker serve` on a policy with the two apps as confidential clients (the secret from the
/// environment, as an operator would give it) and the admin API on.
struct RealBroker {
    base: String,
    node_port: u16,
    python_port: u16,
    /// With `--dev-tls`: the self-signed certificate the broker made (its own CA).
    ca: Option<PathBuf>,
    http: reqwest::Client,
    _child: tokio::process::Child,
    _dir: tempfile::TempDir,
}

impl RealBroker {
    /// Plain HTTP, as in the docs' quick start.
    async fn start() -> RealBroker {
        RealBroker::start_with(false).await
    }

    /// `idbroker serve --dev-tls`: an https issuer, which strict relying parties require
    /// (RFC 8414 §2, OIDC Discovery §3), with the default policy otherwise.
    async fn start_https() -> RealBroker {
        RealBroker::start_with(true).await
    }

    async fn start_with(tls: bool) -> RealBroker {
        let dir = tempfile::tempdir().unwrap();
        let (port, node_port, python_port) = (free_port(), free_port(), free_port());
        let d = dir.path().display();
        let policy = format!(
            r#"issuer: http://127.0.0.1:{port}
listen: 127.0.0.1:{port}
keys: {{dir: {d}/keys}}
store: {{kind: embedded, path: {d}/broker.db}}
audit: {{sink: off}}
admin: {{token_env: IDBROKER_ADMIN_TOKEN}}
clients:
  - id: node-app
    name: Node app
    secret_env: APP_CLIENT_SECRET
    redirect_uris: [http://127.0.0.1:{node_port}/callback]
  - id: python-app
    name: Python app
    secret_env: APP_CLIENT_SECRET
    redirect_uris: [http://127.0.0.1:{python_port}/callback]
users:
  - email: {USER}
    name: Alice Example
    password_hash: "{hash}"
"#,
            hash = password_hash()
        );
        let path = dir.path().join("broker.yaml");
        std::fs::write(&path, policy).unwrap();
        let mut args = vec!["serve", "--config", path.to_str().unwrap()];
        if tls {
            // Writes certs/dev-cert.pem under the working directory, the temporary one.
            args.push("--dev-tls");
        }
        let child = Command::new(env!("CARGO_BIN_EXE_idbroker"))
            .args(&args)
            .current_dir(dir.path())
            .env("APP_CLIENT_SECRET", APP_SECRET)
            .env("IDBROKER_ADMIN_TOKEN", ADMIN_TOKEN)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let scheme = if tls { "https" } else { "http" };
        let base = format!("{scheme}://127.0.0.1:{port}");
        let ca = tls.then(|| dir.path().join("certs/dev-cert.pem"));
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let mut http = reqwest::Client::builder();
            if let Some(ca) = &ca {
                let Ok(pem) = std::fs::read(ca) else { continue };
                http = http.add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap());
            }
            let http = http.build().unwrap();
            if http
                .get(format!("{base}/readyz"))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
            {
                return RealBroker {
                    base,
                    node_port,
                    python_port,
                    ca,
                    http,
                    _child: child,
                    _dir: dir,
                };
            }
        }
        panic!("the broker did not come up");
    }

    /// The broker's id for the user (the `sub` every client gets), from the admin API.
    async fn sub_of(&self, email: &str) -> String {
        let user: serde_json::Value = self
            .http
            .get(format!("{}/admin/api/users/{email}", self.base))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap()
            .json()
            .await
            .unwrap();
        user["id"].as_str().unwrap().to_owned()
    }

    /// Runs an app script in its test mode and returns what it printed.
    async fn run_app(&self, mut cmd: Command, client_id: &str, port: u16) -> String {
        cmd.env("IDBROKER_ISSUER", &self.base)
            .env("CLIENT_ID", client_id)
            .env("CLIENT_SECRET", APP_SECRET)
            .env("APP_PORT", port.to_string())
            .env("FLASK_SECRET_KEY", "apps-test-flask-session-key")
            .env("TEST_USER", USER)
            .env("TEST_PASSWORD", PASSWORD)
            .kill_on_drop(true);
        if let Some(ca) = &self.ca {
            cmd.env("REQUESTS_CA_BUNDLE", ca);
        }
        let out = tokio::time::timeout(Duration::from_secs(90), cmd.output())
            .await
            .expect("the app finished within 90 s")
            .expect("the app's interpreter runs");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "{client_id} failed:\n{stdout}\n{stderr}"
        );
        stdout
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_openid_client_app_signs_a_user_in() {
    let app = root().join("tests/apps/node");
    assert!(
        app.join("node_modules/openid-client").exists(),
        "openid-client is not installed: run tests/run, which runs npm ci in tests/apps/node"
    );
    let broker = RealBroker::start().await;
    let mut cmd = Command::new("node");
    cmd.arg(app.join("app.mjs")).current_dir(&app);
    let out = broker.run_app(cmd, "node-app", broker.node_port).await;
    let sub = broker.sub_of(USER).await;
    assert_eq!(out.trim(), format!("signed in: sub={sub} email={USER}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
/// Authlib validates the discovery document first (`OpenIDProviderMetadata.validate()`: an
/// https issuer and endpoints, RS256 among `id_token_signing_alg_values_supported`), then
/// signs in with the default policy's ID tokens (ES256) and verifies them.
async fn python_authlib_app_signs_a_user_in() {
    let python = python();
    assert!(
        python.exists(),
        "{} is missing: run tests/run, which makes the virtualenv of tests/apps/python",
        python.display()
    );
    let broker = RealBroker::start_https().await;
    let app = root().join("tests/apps/python");
    let mut cmd = Command::new(python);
    cmd.arg(app.join("app.py")).current_dir(&app);
    let out = broker.run_app(cmd, "python-app", broker.python_port).await;
    let sub = broker.sub_of(USER).await;
    assert_eq!(out.trim(), format!("signed in: sub={sub} email={USER}"));
}

/// The region of `source` between `ANCHOR: {name}` and `ANCHOR_END: {name}` (mdBook's
/// anchors), without the anchor lines.
fn anchored(source: &str, name: &str) -> String {
    let mut lines = source.lines();
    let start = format!("ANCHOR: {name}");
    let end = format!("ANCHOR_END: {name}");
    assert!(
        lines.by_ref().any(|l| l.trim_end().ends_with(&start)),
        "no `{start}` line"
    );
    let mut out = String::new();
    for line in lines {
        if line.trim_end().ends_with(&end) {
            return out;
        }
        out.push_str(line);
        out.push('\n');
    }
    panic!("no `{end}` line");
}

/// Every `<!-- snippet: path#anchor -->` of the docs page is followed by a fenced block that is
/// exactly that region of the tested file, and both apps are shown: a snippet edited on one
/// side only fails here. (`python3 docs/split-readme.py --snippets` copies the regions into
/// the page.)
#[test]
fn docs_snippets_are_the_tested_apps() {
    let page_path = root().join("docs/src/connecting/libraries.md");
    let page = std::fs::read_to_string(&page_path).unwrap();
    let mut shown = Vec::new();
    let mut lines = page.lines();
    while let Some(line) = lines.next() {
        let Some(rest) = line.trim().strip_prefix("<!-- snippet: ") else {
            continue;
        };
        let spec = rest
            .strip_suffix(" -->")
            .expect("a snippet marker ends with -->");
        let (file, anchor) = spec.split_once('#').expect("snippet: path#anchor");
        let fence = lines.next().expect("a fenced block follows the marker");
        assert!(fence.starts_with("```"), "no fence after {line}");
        let mut block = String::new();
        for l in lines.by_ref() {
            if l.starts_with("```") {
                break;
            }
            block.push_str(l);
            block.push('\n');
        }
        let source = std::fs::read_to_string(root().join(file)).unwrap();
        assert_eq!(
            block,
            anchored(&source, anchor),
            "{} shows {file}#{anchor} differently from the tested file: run python3 docs/split-readme.py --snippets",
            page_path.display()
        );
        shown.push(file.to_owned());
    }
    for app in ["tests/apps/node/app.mjs", "tests/apps/python/app.py"] {
        assert!(
            shown.iter().any(|f| f == app),
            "the page shows no snippet of {app}"
        );
    }
}
