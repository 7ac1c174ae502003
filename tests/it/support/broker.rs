//! A broker running in-process on a free port, with its own store and keys in a temp dir.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use idbroker::clock::Clock;
use idbroker::service::Broker;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// The demo user of every test policy.
pub const USER: &str = "alice@example.com";
pub const PASSWORD: &str = "correct horse battery staple";
/// A confidential client's secret (given through the env seam, never a real env var).
pub const WEB_SECRET: &str = "web-app-secret-0123456789abcdef0123456789";
/// The introspection secrets of the test APIs (`apis[]`).
pub const ORDERS_API_SECRET: &str = "orders-api-secret-0123456789abcdef012345";
pub const BILLING_API_SECRET: &str = "billing-api-secret-0123456789abcdef01234";

pub struct TestBroker {
    pub base: String,
    pub port: u16,
    pub broker: Arc<Broker>,
    pub dir: tempfile::TempDir,
    pub policy_path: std::path::PathBuf,
    cancel: CancellationToken,
    /// The server task; it ends when `cancel` fires (on drop).
    _task: tokio::task::JoinHandle<()>,
}

/// Argon2id of [`PASSWORD`], computed once per test binary.
pub fn password_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| idbroker::password::hash_blocking(PASSWORD).unwrap())
}

/// The standard test policy. `{base}` and `{dir}` are filled in; `extra` is appended
/// (top-level keys such as `upstreams:` / `organizations:`), `users` replaces the users.
pub fn policy_yaml(base: &str, dir: &Path, extra: &str, users: Option<&str>) -> String {
    let dir = dir.display();
    let default_users = format!(
        r#"users:
  - email: {USER}
    name: Alice Example
    password_hash: "{hash}"
  - email: nopass@example.com
    name: No Password
"#,
        hash = password_hash()
    );
    // Generous limits by default; a test of the limiter sets its own.
    let limits = if extra.contains("rate_limits:") {
        ""
    } else {
        "rate_limits: {password_per_ip: 1000, password_per_identifier: 100, window: 5m}"
    };
    format!(
        r#"issuer: {base}
{limits}
listen: 127.0.0.1:0
keys: {{dir: {dir}/keys, algorithm: ES256}}
store: {{kind: embedded, path: {dir}/broker.db}}
lifetimes: {{session: 8h, code: 60s, access_token: 10m, id_token: 10m, refresh_token: 30d}}
audit: {{sink: {{file: {dir}/audit.jsonl}}, retention: 30d}}
clients:
  - id: spa
    redirect_uris: [http://127.0.0.1:9000/callback]
    post_logout_redirect_uris: [http://127.0.0.1:9000/]
    grants: [authorization_code, refresh_token]
    scopes: [openid, email, profile, offline_access]
  - id: web
    secret_env: WEB_SECRET
    redirect_uris: [https://web.example.com/callback]
    post_logout_redirect_uris: [https://web.example.com/]
    grants: [authorization_code, refresh_token, client_credentials]
    scopes: [openid, email, profile, offline_access, reports.read]
{users}
{extra}
"#,
        users = users.unwrap_or(&default_users),
    )
}

pub fn test_env(name: &str) -> Option<String> {
    let vars: HashMap<&str, &str> = [
        ("WEB_SECRET", WEB_SECRET),
        (
            "IDBROKER_ADMIN_TOKEN",
            "admin-token-0123456789abcdef0123456789abcdef",
        ),
        ("ENTRA_SECRET", "entra-app-secret-value"),
        ("PARTNER_SECRET", "partner-secret-value"),
        ("ORDERS_API_SECRET", ORDERS_API_SECRET),
        ("BILLING_API_SECRET", BILLING_API_SECRET),
    ]
    .into_iter()
    .collect();
    vars.get(name).map(|s| s.to_string())
}

/// The policy loader of test brokers: the real one with [`test_env`] for the environment.
pub fn test_loader() -> idbroker::reload::Loader {
    std::sync::Arc::new(|path: &Path| {
        let text =
            std::fs::read_to_string(path).map_err(|e| idbroker::policy::ConfigError::Io {
                file: path.display().to_string(),
                reason: e.to_string(),
            })?;
        idbroker::policy::load_str_with_env(path, &text, &test_env)
    })
}

impl TestBroker {
    /// A broker serving HTTPS with a dev certificate written to `certs`, plus `extra` policy.
    pub async fn start_https(certs: &Path, extra: &str) -> TestBroker {
        let files = idbroker::tls::write_dev_certificate(certs).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!(
            "https://127.0.0.1:{}",
            listener.local_addr().unwrap().port()
        );
        let extra = format!(
            "tls: {{cert: {}, key: {}}}\n{extra}",
            files.cert.display(),
            files.key.display()
        );
        let yaml = policy_yaml(&base, dir.path(), &extra, None);
        TestBroker::start_yaml(dir, listener, &yaml, Clock::System).await
    }

    pub async fn start() -> TestBroker {
        Self::start_with("", None, Clock::System).await
    }

    pub async fn start_with(extra: &str, users: Option<&str>, clock: Clock) -> TestBroker {
        let dir = tempfile::tempdir().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let base = format!("http://127.0.0.1:{port}");
        let yaml = policy_yaml(&base, dir.path(), extra, users);
        Self::start_yaml(dir, listener, &yaml, clock).await
    }

    /// Like [`TestBroker::start_with`], with `clients` (YAML list items, indented two
    /// spaces) added before the standard clients.
    pub async fn start_with_clients(
        clients: &str,
        extra: &str,
        users: Option<&str>,
        clock: Clock,
    ) -> TestBroker {
        let dir = tempfile::tempdir().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let base = format!("http://127.0.0.1:{port}");
        let yaml = policy_yaml(&base, dir.path(), extra, users).replacen(
            "clients:\n",
            &format!("clients:\n{clients}"),
            1,
        );
        Self::start_yaml(dir, listener, &yaml, clock).await
    }

    pub async fn start_yaml(
        dir: tempfile::TempDir,
        listener: TcpListener,
        yaml: &str,
        clock: Clock,
    ) -> TestBroker {
        let port = listener.local_addr().unwrap().port();
        let policy_path = dir.path().join("broker.yaml");
        std::fs::write(&policy_path, yaml).unwrap();
        let policy = idbroker::policy::load_str_with_env(&policy_path, yaml, &test_env)
            .unwrap_or_else(|e| panic!("test policy invalid:\n{e}\n---\n{yaml}"));
        let base = policy.issuer.as_str().to_owned();
        let cancel = CancellationToken::new();
        let broker = idbroker::server::assemble(policy, clock, cancel.clone())
            .await
            .unwrap();
        idbroker::reload::watch(
            broker.clone(),
            policy_path.clone(),
            test_loader(),
            cancel.clone(),
        )
        .unwrap();
        let task = tokio::spawn(idbroker::server::serve(
            broker.clone(),
            listener,
            cancel.clone(),
        ))
        .map_unit();
        TestBroker {
            base,
            port,
            broker,
            dir,
            cancel,
            _task: task,
            policy_path,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Every audit line written so far.
    pub async fn audit_lines(&self) -> Vec<serde_json::Value> {
        self.broker.flush_audit().await;
        std::fs::read_to_string(self.dir.path().join("audit.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

trait MapUnit {
    fn map_unit(self) -> tokio::task::JoinHandle<()>;
}

impl<T: Send + 'static> MapUnit for tokio::task::JoinHandle<T> {
    fn map_unit(self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let _ = self.await;
        })
    }
}

impl Drop for TestBroker {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// Two replicas behind one public issuer (replica A's address), sharing one Redis and one
/// mounted signing-key folder; `clients` is added to the standard clients. The key folder's
/// guard is returned last: keep it alive as long as the replicas.
pub async fn replica_pair(
    redis_url: &str,
    clients: &str,
) -> (TestBroker, TestBroker, tempfile::TempDir) {
    replica_pair_with(redis_url, clients, "").await
}

/// [`replica_pair`] with `extra` top-level policy keys on both replicas.
pub async fn replica_pair_with(
    redis_url: &str,
    clients: &str,
    extra: &str,
) -> (TestBroker, TestBroker, tempfile::TempDir) {
    replica_pair_store(
        &format!("{{kind: redis, url: \"{redis_url}\"}}"),
        clients,
        extra,
    )
    .await
}

/// [`replica_pair_with`] on the Redis store `store` (the policy's `store:` value, such as
/// `{kind: redis, topology: cluster, url: "…"}`).
pub async fn replica_pair_store(
    store: &str,
    clients: &str,
    extra: &str,
) -> (TestBroker, TestBroker, tempfile::TempDir) {
    let keys = tempfile::tempdir().unwrap();
    let a_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!(
        "http://127.0.0.1:{}",
        a_listener.local_addr().unwrap().port()
    );
    let mut out = Vec::new();
    for listener in [a_listener, TcpListener::bind("127.0.0.1:0").await.unwrap()] {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display().to_string();
        let yaml = policy_yaml(&issuer, dir.path(), extra, None)
            .replace(
                &format!("store: {{kind: embedded, path: {d}/broker.db}}"),
                &format!("store: {store}"),
            )
            .replace(
                &format!("keys: {{dir: {d}/keys"),
                &format!("keys: {{dir: {}", keys.path().display()),
            )
            .replacen("clients:\n", &format!("clients:\n{clients}"), 1);
        assert!(yaml.contains("kind: redis"), "{yaml}");
        out.push(TestBroker::start_yaml(dir, listener, &yaml, Clock::System).await);
    }
    let b = out.pop().unwrap();
    let a = out.pop().unwrap();
    (a, b, keys)
}
