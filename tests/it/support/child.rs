//! `idbroker serve` as a child process on a folder of its own, which can be killed and
//! started again on the same store. Used by the burst and durability tests and benches.

use std::process::Stdio;
use std::time::Duration;

use super::broker::{WEB_SECRET, policy_yaml};

pub struct ChildBroker {
    pub child: tokio::process::Child,
    pub pid: u32,
    pub base: String,
    pub dir: tempfile::TempDir,
    port: u16,
}

impl ChildBroker {
    /// Starts the binary on a fresh folder with the standard test policy plus `extra`, and
    /// waits until `/healthz` answers.
    pub async fn start(extra: &str) -> ChildBroker {
        let dir = tempfile::tempdir().unwrap();
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let base = format!("http://127.0.0.1:{port}");
        let yaml = policy_yaml(&base, dir.path(), extra, None)
            .replace("listen: 127.0.0.1:0", &format!("listen: 127.0.0.1:{port}"));
        std::fs::write(dir.path().join("broker.yaml"), &yaml).unwrap();
        let child = spawn(&dir, &base).await;
        let pid = child.id().unwrap();
        ChildBroker {
            child,
            pid,
            base,
            dir,
            port,
        }
    }

    /// `SIGKILL`: no shutdown, no flush, as in a power cut of the process.
    pub async fn kill(&mut self) {
        self.child.kill().await.unwrap();
    }

    /// Starts the binary again on the same folder (store, keys, policy) and port.
    pub async fn restart(&mut self) {
        let _ = self.child.kill().await;
        assert_eq!(self.base, format!("http://127.0.0.1:{}", self.port));
        self.child = spawn(&self.dir, &self.base).await;
        self.pid = self.child.id().unwrap();
    }
}

async fn spawn(dir: &tempfile::TempDir, base: &str) -> tokio::process::Child {
    let path = dir.path().join("broker.yaml");
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_idbroker"))
        .args(["serve", "--config", path.to_str().unwrap()])
        .env("WEB_SECRET", WEB_SECRET)
        .env(
            "IDBROKER_ADMIN_TOKEN",
            super::broker::test_env("IDBROKER_ADMIN_TOKEN").unwrap_or_default(),
        )
        .env(
            "ENTRA_SECRET",
            super::broker::test_env("ENTRA_SECRET").unwrap_or_default(),
        )
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    for _ in 0..200 {
        if reqwest::get(format!("{base}/healthz")).await.is_ok() {
            return child;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the broker did not come up at {base}");
}
