//! Several `agora serve` nodes on one PostgreSQL database, as real processes: a registration
//! through one is searchable through the other, the crawl backlog is shared without probing a
//! service twice, a node killed mid-crawl leaves its claims to the other once they expire, and a
//! database restart is survived by both. Each test runs its own throwaway cluster
//! (scripts/pg-cluster), so it can stop and restart it; these run in both test passes.

use agora::db::Store;
use agora::db::register::NewService;
use agora_crawler::testkit::{Reply, Request, Seller, v2_challenge};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::AsyncBufReadExt;

const CLUSTER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/pg-cluster");

/// A PostgreSQL cluster of the test's own, removed on drop.
pub struct Cluster {
    dir: PathBuf,
    admin: String,
}

impl Cluster {
    pub fn start() -> Cluster {
        Cluster::created_by("start")
    }

    /// A cluster reached over TCP with TLS only; its URL verifies the server's certificate.
    pub fn start_tls() -> Cluster {
        Cluster::created_by("start-tls")
    }

    fn created_by(action: &str) -> Cluster {
        // Directly under /tmp: the server runs as `postgres` when the tests run as root, and
        // must reach its directory.
        let dir = PathBuf::from(format!("/tmp/agora-nodes-{}-{:08x}", std::process::id(), fastrand::u32(..)));
        let out = std::process::Command::new(CLUSTER).arg(action).arg(&dir).output().expect("pg-cluster runs");
        assert!(out.status.success(), "pg-cluster {action}: {}", String::from_utf8_lossy(&out.stderr));
        let admin = String::from_utf8(out.stdout).expect("utf-8").trim().to_string();
        Cluster { dir, admin }
    }

    pub fn control(&self, action: &str) {
        let out = std::process::Command::new(CLUSTER).arg(action).arg(&self.dir).output().expect("pg-cluster runs");
        assert!(out.status.success(), "pg-cluster {action}: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// The catalog's database (created empty; the first node migrates it).
    pub async fn database(&self) -> String {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&self.admin).await.expect("cluster answers");
        sqlx::raw_sql("CREATE DATABASE catalog").execute(&mut conn).await.expect("create database");
        self.admin.replacen("/postgres?", "/catalog?", 1)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = std::process::Command::new(CLUSTER).arg("stop").arg(&self.dir).output();
    }
}

/// One `agora serve` process on the shared database, with its own data directory (its index).
pub(crate) struct Node {
    pub(crate) child: tokio::process::Child,
    pub(crate) base: String,
    _data: tempfile::TempDir,
}

impl Node {
    /// `concurrency` probes at once; a node claims 16 services per probe slot, so at 1 two
    /// nodes share a backlog of 40.
    pub(crate) async fn start(database: &str, lease_secs: u32, concurrency: u32) -> Node {
        let data = tempfile::tempdir().expect("data dir");
        let lease = lease_secs.to_string();
        let concurrency = concurrency.to_string();
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_agora"))
            .arg("--data-dir")
            .arg(data.path())
            .args(["--database-url", database, "--allow-cidr", "127.0.0.0/8", "--host-delay-ms", "0"])
            .args(["--crawl-lease-secs", &lease, "--concurrency", &concurrency, "serve", "--listen", "127.0.0.1:0"])
            .env_remove("AGORA_ALLOW_CIDRS")
            .env_remove("AGORA_LISTEN")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("agora serve starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        let line = lines.next_line().await.expect("read").expect("listening line");
        let addr = line.strip_prefix("agora listening on http://").expect("address line").to_string();
        Node { child, base: format!("http://{addr}"), _data: data }
    }

    pub(crate) async fn get(&self, path: &str) -> (u16, Value) {
        let response = reqwest::get(format!("{}{path}", self.base)).await.expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub(crate) async fn register(&self, url: &str) -> (u16, Value) {
        let response = reqwest::Client::new()
            .post(format!("{}/api/v1/services", self.base))
            .json(&json!({ "url": url }))
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Ids of the services a search for `q` finds.
    pub(crate) async fn search(&self, q: &str) -> Vec<i64> {
        let (status, body) = self.get(&format!("/api/v1/services?q={q}")).await;
        if status != 200 {
            return Vec::new();
        }
        body["hits"].as_array().into_iter().flatten().filter_map(|hit| hit["id"].as_i64()).collect()
    }

    /// Scheduled probes this node ran (its `agora_probes_total`).
    async fn scheduled_probes(&self) -> u64 {
        let text = reqwest::get(format!("{}/metrics", self.base)).await.expect("metrics").text().await.expect("text");
        text.lines()
            .filter(|line| line.starts_with("agora_probes_total{") && line.contains("lane=\"scheduled\""))
            .filter_map(|line| line.rsplit(' ').next()?.parse::<u64>().ok())
            .sum()
    }

    fn kill_9(&mut self) {
        let pid = self.child.id().expect("running");
        let status = std::process::Command::new("kill").args(["-9", &pid.to_string()]).status().expect("kill");
        assert!(status.success());
    }
}

/// A seller answering a valid challenge on every path (named after the path, so each is found by
/// its own word), counting requests per path; paths in `held` answer only after `hold`.
pub(crate) struct CountingSeller {
    pub(crate) seller: Seller,
    requests: Arc<Mutex<HashMap<String, usize>>>,
    held: Arc<Mutex<Vec<String>>>,
}

impl CountingSeller {
    pub(crate) async fn start(ip: [u8; 4], hold: Duration) -> CountingSeller {
        let requests = Arc::new(Mutex::new(HashMap::new()));
        let held: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(Vec::new()));
        let (counts, slow) = (Arc::clone(&requests), Arc::clone(&held));
        let seller = Seller::start(IpAddr::from(ip), move |request: &Request| {
            *counts.lock().expect("lock").entry(request.path.clone()).or_insert(0) += 1;
            if request.path == "/robots.txt" {
                return Reply::new(404);
            }
            let word = request.path.trim_start_matches('/');
            let mut challenge = v2_challenge(&format!("http://seller{}", request.path));
            challenge["resource"]["description"] = json!(format!("The {word} service"));
            let reply = Reply::v2(&challenge);
            if slow.lock().expect("lock").contains(&request.path) {
                // Headers only after `hold`: the probe is in flight all that time.
                return reply.drip(b"", hold, 1);
            }
            reply
        })
        .await
        .expect("seller starts");
        CountingSeller { seller, requests, held }
    }

    pub(crate) fn count(&self, path: &str) -> usize {
        self.requests.lock().expect("lock").get(path).copied().unwrap_or(0)
    }
}

/// Registers `paths` of `seller` straight into the store (pending, due now), as a bulk import
/// would: acknowledged once this returns. Each under a politeness key of its own, as services on
/// different hosts are: probes of one host wait for each other.
async fn register_due(database: &str, seller: &Seller, paths: &[String]) {
    let store = Store::open_postgres(database).await.expect("store");
    let services = paths
        .iter()
        .map(|path| NewService { url: seller.url(path), method: "GET".into(), host: format!("host{path}") })
        .collect();
    store.writer().register(services, now_ms()).await.expect("registered");
    store.close().await;
}

fn now_ms() -> i64 {
    i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_millis())
        .expect("ms")
}

/// Statuses of every service, by URL path.
async fn statuses(database: &str) -> HashMap<String, String> {
    let pool = sqlx::PgPool::connect(database).await.expect("connect");
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT url, status FROM services").fetch_all(&pool).await.expect("rows");
    pool.close().await;
    rows.into_iter()
        .map(|(url, status)| {
            (
                url.split_once("//")
                    .and_then(|(_, rest)| rest.split_once('/'))
                    .map(|(_, p)| format!("/{p}"))
                    .unwrap_or(url),
                status,
            )
        })
        .collect()
}

/// Polls `check` every 50 ms until it holds or `within` has passed; answers whether it held.
pub(crate) async fn eventually<F: Future<Output = bool>>(within: Duration, mut check: impl FnMut() -> F) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if check().await {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_nodes_share_registrations_search_and_the_crawl_backlog() {
    let cluster = Cluster::start();
    let database = cluster.database().await;
    let seller = CountingSeller::start([127, 0, 0, 71], Duration::ZERO).await;
    let backlog: Vec<String> = (0..40).map(|n| format!("/backlog{n}")).collect();
    // Migrated by the first store open; due at once.
    register_due(&database, &seller.seller, &backlog).await;
    let a = Node::start(&database, 60, 1).await;
    let b = Node::start(&database, 60, 1).await;

    // The backlog: every service probed, by one node or the other, once.
    let all_listed = eventually(Duration::from_secs(60), || async {
        let statuses = statuses(&database).await;
        backlog.iter().all(|path| statuses.get(path).is_some_and(|s| s == "listed"))
    })
    .await;
    assert!(all_listed, "{:?}", statuses(&database).await);
    for path in &backlog {
        assert_eq!(seller.count(path), 1, "{path} probed once, by one node");
    }
    let (by_a, by_b) = (a.scheduled_probes().await, b.scheduled_probes().await);
    assert_eq!(by_a + by_b, 40, "every probe counted by the node that ran it");
    assert!(by_a > 0 && by_b > 0, "both nodes crawled: {by_a} + {by_b}");

    // A registration through node A is searchable through node B within 2 s.
    let (status, body) = a.register(&seller.seller.url("/zebrafish")).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_i64().expect("id");
    let registered = Instant::now();
    let found = eventually(Duration::from_secs(2), || async { b.search("zebrafish").await == [id] }).await;
    assert!(found, "not searchable through B {:?} after the registration through A", registered.elapsed());
    // And the detail through B is the stored one (no stale cached page).
    let (status, detail) = b.get(&format!("/api/v1/services/{id}")).await;
    assert_eq!((status, detail["status"].as_str()), (200, Some("listed")), "{detail}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_node_killed_mid_crawl_leaves_its_claims_to_the_other_and_loses_no_registration() {
    let cluster = Cluster::start();
    let database = cluster.database().await;
    let seller = CountingSeller::start([127, 0, 0, 72], Duration::from_secs(30)).await;
    let slow: Vec<String> = (0..4).map(|n| format!("/slow{n}")).collect();
    seller.held.lock().expect("lock").extend(slow.iter().cloned());
    register_due(&database, &seller.seller, &slow).await;
    let mut a = Node::start(&database, 2, 4).await;
    // A has claimed the slow services and is probing them (their answers are held).
    let probing = eventually(Duration::from_secs(30), || async { slow.iter().all(|p| seller.count(p) == 1) }).await;
    assert!(probing, "node A probes the backlog");
    // Acknowledged by A just before it dies.
    let (status, body) = a.register(&seller.seller.url("/acknowledged")).await;
    assert_eq!(status, 201, "{body}");
    a.kill_9();
    let _ = a.child.wait().await;

    // The seller answers at once now; B takes the claims over when they expire.
    seller.held.lock().expect("lock").clear();
    let b = Node::start(&database, 2, 4).await;
    let done = eventually(Duration::from_secs(60), || async {
        let statuses = statuses(&database).await;
        slow.iter().all(|path| statuses.get(path).is_some_and(|s| s == "listed"))
    })
    .await;
    assert!(done, "B finished A's claimed work: {:?}", statuses(&database).await);
    for path in &slow {
        assert_eq!(seller.count(path), 2, "{path}: A's probe that died, then B's");
    }
    let statuses = statuses(&database).await;
    assert_eq!(
        statuses.get("/acknowledged").map(String::as_str),
        Some("listed"),
        "the acknowledged registration stays"
    );
    let (status, _) = b.get("/healthz").await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn both_nodes_survive_a_database_restart_and_catch_up() {
    let cluster = Cluster::start();
    let database = cluster.database().await;
    let seller = CountingSeller::start([127, 0, 0, 73], Duration::ZERO).await;
    let a = Node::start(&database, 60, 4).await;
    let b = Node::start(&database, 60, 4).await;
    let (status, body) = a.register(&seller.seller.url("/before")).await;
    assert_eq!(status, 201, "{body}");
    let before = body["id"].as_i64().expect("id");
    assert!(eventually(Duration::from_secs(10), || async { b.search("before").await == [before] }).await);

    // The database goes away: both say they are not ready (no panic, no hang past the pool's
    // timeout), and keep serving what their index holds.
    cluster.control("pause");
    for node in [&a, &b] {
        let (status, body) = node.get("/healthz").await;
        assert_eq!(status, 503, "{body}");
        assert_eq!(body["code"], "database_unavailable", "{body}");
    }
    assert_eq!(b.search("before").await, [before], "searches answer from the index");

    // Back: both reconnect; a registration through A reaches B's index.
    cluster.control("resume");
    let deadline = Instant::now() + Duration::from_secs(30);
    let after = loop {
        let (status, body) = a.register(&seller.seller.url("/after")).await;
        if let Some(id) = body["id"].as_i64().filter(|_| status == 201 || status == 200) {
            break id;
        }
        assert!(Instant::now() < deadline, "A registers again once the database is back: {status} {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(eventually(Duration::from_secs(30), || async { b.search("after").await == [after] }).await, "B catches up");
    for node in [&a, &b] {
        let (status, body) = node.get("/healthz").await;
        assert_eq!(status, 200, "{body}");
    }
}
