//! Shared test scaffolding: an `App` (built by `agora::build_app`) over a temp data dir with a
//! manual clock, and a seller whose behaviour a test switches while the catalog watches it.

use agora::clock::ManualClock;
use agora::config::{Cli, GlobalOptions};
use agora::db::services::{self, ServiceRow};
use agora::{App, AppConfig};
use agora_crawler::testkit::{Reply, Request, Seller};
use clap::Parser;
use std::net::IpAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// 2026-11-21T06:00:00Z: a fixed start so day boundaries are known.
pub const T0: i64 = 1_795_240_800_000;

/// Global options as a user would type them, plus `extra` flags. Under `AGORA_TEST_STORE=postgres`
/// (scripts/test's second pass) the store is a fresh PostgreSQL database of the test cluster.
pub fn options(dir: &Path, extra: &[&str]) -> GlobalOptions {
    let dir = dir.to_str().expect("utf-8 temp path");
    let mut args = vec!["agora", "--data-dir", dir];
    let store = store_flags(Path::new(dir));
    args.extend(store.iter().map(String::as_str));
    args.extend_from_slice(extra);
    args.push("migrate");
    Cli::try_parse_from(args).expect("valid options").global
}

/// Options for tests against loopback sellers: 127/8 allowed, no politeness gap.
pub fn loopback_options(dir: &Path) -> GlobalOptions {
    options(dir, &["--allow-cidr", "127.0.0.0/8", "--host-delay-ms", "0"])
}

/// The whole product over `options`, started the way `agora serve` starts it, on `clock`.
pub async fn open_app(options: &GlobalOptions, clock: &ManualClock) -> App {
    let config = AppConfig { clock: Arc::new(clock.clone()), ..AppConfig::new(options.clone()) };
    agora::build_app(config).await.expect("app opens")
}

pub async fn service(app: &App, id: i64) -> ServiceRow {
    services::get(app.store.read(), id).await.expect("query").expect("service exists")
}

/// A seller whose answer the test changes at will; robots.txt is a 404 (no rules).
pub struct Switchable {
    pub seller: Seller,
    reply: Arc<Mutex<Reply>>,
    pub requests: Arc<Mutex<Vec<String>>>,
}

impl Switchable {
    pub async fn start(ip: [u8; 4], reply: Reply) -> Switchable {
        let current = Arc::new(Mutex::new(reply));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (c, r) = (Arc::clone(&current), Arc::clone(&requests));
        let seller = Seller::start(IpAddr::from(ip), move |request: &Request| {
            r.lock().expect("lock").push(request.path.clone());
            if request.path == "/robots.txt" {
                return Reply::new(404);
            }
            c.lock().expect("lock").clone()
        })
        .await
        .expect("seller starts");
        Switchable { seller, reply: current, requests }
    }

    pub fn set(&self, reply: Reply) {
        *self.reply.lock().expect("lock") = reply;
    }

    pub fn requests_to(&self, path: &str) -> usize {
        self.requests.lock().expect("lock").iter().filter(|p| p.as_str() == path).count()
    }
}

/// The header of a `side`×`side` PNG: all a size check reads.
pub fn png(side: u32) -> Vec<u8> {
    let mut bytes = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, b'I', b'H', b'D', b'R'];
    bytes.extend_from_slice(&side.to_be_bytes());
    bytes.extend_from_slice(&side.to_be_bytes());
    bytes.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
    bytes
}

/// Global options on SQLite in `dir`, whatever the test pass.
pub fn sqlite_options(dir: &Path, extra: &[&str]) -> GlobalOptions {
    let dir = dir.to_str().expect("utf-8 temp path");
    let mut args = vec!["agora", "--data-dir", dir];
    args.extend_from_slice(extra);
    args.push("migrate");
    Cli::try_parse_from(args).expect("valid options").global
}

/// The store flags of the catalog in `dir`: none on SQLite (the file is in `dir`); on PostgreSQL
/// `--database-url` of the database made for `dir` (made on first use), so every process a test
/// starts on `dir` shares one store, as `agora serve` and its companions do.
pub fn store_flags(dir: &Path) -> Vec<String> {
    static DATABASES: std::sync::LazyLock<Mutex<std::collections::HashMap<std::path::PathBuf, String>>> =
        std::sync::LazyLock::new(Mutex::default);
    let Some(cluster) = postgres_store() else { return Vec::new() };
    let mut databases = DATABASES.lock().expect("databases");
    let url = databases.entry(dir.to_path_buf()).or_insert_with(|| cluster.fresh_database());
    vec!["--database-url".to_string(), url.clone()]
}

/// A pool on the store of the catalog in `dir`, writable, for tests that set up or inspect rows
/// behind the product's back.
pub async fn raw_pool(dir: &Path) -> agora::db::Pool {
    match store_flags(dir).get(1) {
        Some(url) => agora::db::Pool::Postgres(sqlx::PgPool::connect(url).await.expect("connect to the test database")),
        None => {
            let url = format!("sqlite://{}", dir.join("agora.db").display());
            agora::db::Pool::Sqlite(sqlx::SqlitePool::connect(&url).await.expect("connect to the test database"))
        }
    }
}

/// The test cluster, when this run tests the PostgreSQL store (`AGORA_TEST_STORE=postgres`, with
/// `AGORA_TEST_POSTGRES` its admin URL: scripts/test starts it with scripts/pg-cluster). Asking
/// for PostgreSQL without a cluster is a failure, never a quiet fallback to SQLite.
pub fn postgres_store() -> Option<TestCluster> {
    if std::env::var("AGORA_TEST_STORE").ok().as_deref() != Some("postgres") {
        return None;
    }
    let admin = std::env::var("AGORA_TEST_POSTGRES").expect("AGORA_TEST_STORE=postgres needs AGORA_TEST_POSTGRES");
    Some(TestCluster { admin })
}

/// A running PostgreSQL cluster for tests.
pub struct TestCluster {
    pub admin: String,
}

impl TestCluster {
    /// Creates an empty database of its own for one test and answers its URL.
    pub fn fresh_database(&self) -> String {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("t{}_{}_{n}", std::process::id(), fastrand::u32(..));
        let admin = self.admin.clone();
        let create = name.clone();
        // On a thread of its own: callers may already be inside a runtime.
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            runtime.block_on(async {
                use sqlx::Connection;
                let mut conn = sqlx::PgConnection::connect(&admin).await.expect("the test cluster answers");
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {create}")))
                    .execute(&mut conn)
                    .await
                    .expect("create database");
            });
        })
        .join()
        .expect("create thread");
        self.admin.replacen("/postgres?", &format!("/{name}?"), 1)
    }
}
