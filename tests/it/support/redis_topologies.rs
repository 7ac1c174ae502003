//! Redis without a single point of failure, started privately for one test: a primary with a
//! replica watched by three sentinels, and a Redis Cluster made with `redis-cli --cluster
//! create`. Every process is on a free port of 127.0.0.1 and is killed when its handle drops.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::redis_server::{RedisServer, free_port};

/// The name the sentinels monitor the primary under.
pub const SERVICE: &str = "idbprimary";

/// Runs `redis-cli -p port args…` and returns its output.
pub fn cli(port: u16, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .output()
        .expect("run redis-cli (tests/run installs redis-tools with redis-server)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn wait_until(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !ok() {
        assert!(Instant::now() < deadline, "{what} within {limit:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A primary, a replica and three sentinels.
pub struct SentinelSet {
    pub primary: RedisServer,
    pub replica: RedisServer,
    sentinels: Vec<(u16, Child, tempfile::TempDir)>,
}

impl SentinelSet {
    pub fn start() -> SentinelSet {
        let primary = RedisServer::start_args(true, Vec::new());
        let replica = RedisServer::start_args(
            true,
            vec![
                "--replicaof".into(),
                "127.0.0.1".into(),
                primary.port().to_string(),
            ],
        );
        wait_until("the replica is in sync", Duration::from_secs(10), || {
            cli(replica.port(), &["INFO", "replication"]).contains("master_link_status:up")
        });
        let mut sentinels = Vec::new();
        for _ in 0..3 {
            let port = free_port();
            let dir = tempfile::tempdir().expect("a directory for a sentinel");
            let conf = dir.path().join("sentinel.conf");
            std::fs::write(
                &conf,
                format!(
                    "port {port}\nbind 127.0.0.1\ndir {dir}\nlogfile {dir}/sentinel.log\n\
                     sentinel monitor {SERVICE} 127.0.0.1 {primary} 2\n\
                     sentinel down-after-milliseconds {SERVICE} 1000\n\
                     sentinel failover-timeout {SERVICE} 5000\n\
                     sentinel parallel-syncs {SERVICE} 1\n",
                    dir = dir.path().display(),
                    primary = primary.port(),
                ),
            )
            .expect("write sentinel.conf");
            let child = Command::new("redis-server")
                .arg(&conf)
                .arg("--sentinel")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start a sentinel");
            wait_until("a sentinel answers", Duration::from_secs(10), || {
                cli(port, &["PING"]).contains("PONG")
            });
            sentinels.push((port, child, dir));
        }
        let set = SentinelSet {
            primary,
            replica,
            sentinels,
        };
        // Every sentinel knows the replica and the other sentinels before a test begins.
        wait_until(
            "the sentinels know each other",
            Duration::from_secs(20),
            || {
                set.sentinels.iter().all(|(port, _, _)| {
                    let info = cli(*port, &["SENTINEL", "MASTER", SERVICE]);
                    let field = |name: &str| {
                        let lines: Vec<&str> = info.lines().collect();
                        lines
                            .iter()
                            .position(|l| *l == name)
                            .and_then(|i| lines.get(i + 1))
                            .map(|v| v.to_string())
                    };
                    field("num-slaves").as_deref() == Some("1")
                        && field("num-other-sentinels").as_deref() == Some("2")
                })
            },
        );
        set
    }

    /// The sentinels' URLs, comma-separated, as `store.url` takes them.
    pub fn urls(&self) -> String {
        self.sentinels
            .iter()
            .map(|(port, _, _)| format!("redis://127.0.0.1:{port}/0"))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The port the sentinels name as primary now.
    pub fn primary_port(&self) -> u16 {
        let out = cli(
            self.sentinels[0].0,
            &["SENTINEL", "GET-MASTER-ADDR-BY-NAME", SERVICE],
        );
        out.lines()
            .nth(1)
            .and_then(|p| p.trim().parse().ok())
            .expect("the sentinels name a primary")
    }
}

impl Drop for SentinelSet {
    fn drop(&mut self) {
        for (_, child, _) in &mut self.sentinels {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A Redis Cluster of three primaries, each with `replicas` replicas.
pub struct RedisCluster {
    pub nodes: Vec<RedisServer>,
}

impl RedisCluster {
    pub fn start(replicas: usize) -> RedisCluster {
        let count = 3 * (1 + replicas);
        let nodes: Vec<RedisServer> = (0..count)
            .map(|_| {
                RedisServer::start_args(
                    true,
                    vec![
                        "--cluster-enabled".into(),
                        "yes".into(),
                        "--cluster-node-timeout".into(),
                        "1000".into(),
                    ],
                )
            })
            .collect();
        let addrs: Vec<String> = nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port()))
            .collect();
        let out = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(&addrs)
            .args(["--cluster-replicas", &replicas.to_string(), "--cluster-yes"])
            .stdin(Stdio::null())
            .output()
            .expect("run redis-cli --cluster create");
        assert!(
            out.status.success(),
            "redis-cli --cluster create failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let cluster = RedisCluster { nodes };
        cluster.wait_ok();
        cluster
    }

    /// Waits until every running node says the cluster is ok and every replica is in sync.
    pub fn wait_ok(&self) {
        wait_until("the cluster is ok", Duration::from_secs(30), || {
            self.nodes
                .iter()
                .all(|n| cli(n.port(), &["CLUSTER", "INFO"]).contains("cluster_state:ok"))
        });
        // A replica still loading its primary's data counts for no `WAIT`.
        wait_until("every replica is in sync", Duration::from_secs(30), || {
            self.nodes.iter().all(|n| {
                let info = cli(n.port(), &["INFO", "replication"]);
                !info.contains("role:slave") || info.contains("master_link_status:up")
            })
        });
    }

    /// The seed URLs, comma-separated, as `store.url` takes them.
    pub fn urls(&self) -> String {
        self.nodes
            .iter()
            .map(|n| format!("redis://127.0.0.1:{}/0", n.port()))
            .collect::<Vec<_>>()
            .join(",")
    }
}
