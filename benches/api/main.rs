//! The HTTP API under load: `agora serve` (the real binary) holding N synthetic listings
//! (100,000; `AGORA_BENCH_SMOKE=1` runs 3,000 for CI) with its crawler running, loaded by `wrk`
//! (Debian package) on loopback: requests per second, p50 and p99 for search (a rotating mix of
//! text, filter and facet queries) and for service detail (random ids), next to a trivial axum
//! JSON endpoint measured in the same run as the ceiling. Prints errors (non-2xx, socket
//! errors) and how many probes the crawler ran meanwhile.
//!
//! Every mix also runs against a third server on PostgreSQL: the same catalog copied there by
//! `agora migrate-store`, served by `agora serve --database-url` with its own data directory.
//! Both mixes run twice: against `agora serve` as shipped (answer caches on; the hit rate,
//! read from `/metrics`, is printed) and against `agora serve --no-answer-cache` on the same
//! data, where every request is answered from the index and SQLite.
//!
//! The same search mix runs as MCP `search_services` calls (stateless POSTs to `/mcp`, kept in
//! their own answer cache), beside the API's in both servers.
//!
//! The served HTML pages (search page over the same mix, service pages over the same ids) run in
//! both servers too, under load and on one connection (where p50 is the time to answer one).
//!
//! The long tail: thousands of distinct queries of every kind (`long_tail.rs`), so every request
//! is a miss even in the shipped server (the hit rate printed shows it), beside the trivial
//! endpoint; measured after 5 s of 10,000 other queries of the same kinds (the steady state of a
//! server agents have been asking). `AGORA_BENCH_ONLY=long_tail` runs just that mix.
//!
//! `AGORA_BENCH_SIZES=N`, `AGORA_BENCH_SECONDS=S` (per run), `AGORA_BENCH_CONNECTIONS=C`.

#[path = "../search/data.rs"]
mod data;
mod long_tail;
mod mcp;
#[path = "../support/pg.rs"]
mod pg;
#[path = "../support/serve.rs"]
mod serve;
#[path = "../support/wrk.rs"]
mod wrk;

use agora::clock::{Clock, SystemClock};
use agora::db::connect;
use serve::{metric, start_agora, stop};
use sqlx::{Connection, SqliteConnection};
use std::path::Path;
use std::time::Instant;
use wrk::{Figures, rotating_post_script, rotating_script, wrk};

/// The search mix wrk rotates through (the search benchmark's, as URLs).
const SEARCHES: &[&str] = &[
    "q=weather",
    "q=stock+price",
    "q=translate+text",
    "q=image+resize",
    "q=crypto&network=base",
    "q=geocode+address&min_usd=0.001&max_usd=0.01",
    "q=llm+chat&testnet=include",
    "q=speech&network=solana&network=polygon",
    "q=forecast+temperature+city",
    "q=market&asset=USDC&sort=price_asc",
    "q=embedding&version=2&has_schema=true",
    "q=t1234",
    "q=realtime+data",
    "q=wether",
    "q=transalte+txt",
    "q=forec",
    "sort=newest",
    "network=base&sort=price_asc",
    "min_usd=0.01&max_usd=0.1&sort=verified",
    "testnet=only",
    "sort=uptime&version=1",
];

/// Share of the listings due for a probe when the server starts, so the crawler works during
/// the load (their hosts do not resolve here: each probe is a quick fetch error, written as one).
const DUE_EVERY: i64 = 20;

fn report(label: &str, figures: &Figures, ceiling: &Figures) {
    println!(
        "{label:<24} {:>8.0} req/s ({:>4.1}% of ceiling)  p50 {:>6.2} ms  p99 {:>6.2} ms  {} requests, {} errors",
        figures.requests_per_second,
        100.0 * figures.requests_per_second / ceiling.requests_per_second.max(1.0),
        figures.p50_ms,
        figures.p99_ms,
        figures.requests,
        figures.errors
    );
}

/// The ceiling: a trivial axum JSON endpoint on its own 2-thread runtime in this process.
fn start_ceiling() -> String {
    let (ready, address) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("rt");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
            ready.send(listener.local_addr().expect("addr").to_string()).expect("send");
            let app = axum::Router::new()
                .route("/ping", axum::routing::get(|| async { axum::Json(serde_json::json!({"status": "ok"})) }));
            axum::serve(listener, app).await.expect("serve");
        });
    });
    address.recv().expect("ceiling address")
}

/// Probes the server has run so far.
fn probes_run(address: &str) -> f64 {
    metric(address, "agora_probes_total")
}

/// Answer cache (hits, misses) of one cache so far.
fn cache_lookups(address: &str, cache: &str) -> (f64, f64) {
    let outcome = |outcome: &str| {
        metric(address, &format!("agora_answer_cache_lookups_total{{cache=\"{cache}\",outcome=\"{outcome}\"}}"))
    };
    (outcome("hit"), outcome("miss"))
}

/// Runs `script` against the server and reports it with the cache's hit rate during the run
/// (`cache`: the answer cache the requests go through, if any).
fn measured(label: &str, address: &str, script: &Path, cache: Option<&str>, run: &Run, ceiling: &Figures) {
    let lookups = |cache| cache_lookups(address, cache);
    let before = cache.map(lookups);
    let figures = wrk(&format!("http://{address}"), script, run.seconds, run.connections);
    report(label, &figures, ceiling);
    let (Some(cache), Some((hits_before, misses_before))) = (cache, before) else { return };
    let (hits, misses) = lookups(cache);
    let (hits, misses) = (hits - hits_before, misses - misses_before);
    println!(
        "{:<24} cache hits {:.1}% ({hits:.0} of {:.0})",
        "",
        100.0 * hits / (hits + misses).max(1.0),
        hits + misses
    );
}

struct Run {
    seconds: u64,
    connections: u32,
}

async fn seed(dir: &Path, n: usize) {
    let now = SystemClock.now_ms();
    connect::migrate(dir).await.expect("migrate");
    let mut conn = SqliteConnection::connect(&database_url(dir)).await.expect("connect");
    data::seed(&mut conn, n, now).await.expect("seed");
    conn.close().await.expect("close");
}

fn database_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join(connect::DB_FILE).display())
}

/// Makes 1 in [`DUE_EVERY`] listings due now, so each server's crawler has the same work.
async fn make_due(store: &Served) {
    const SQL: &str = "UPDATE services SET next_due_at = $1 WHERE id % $2 = 0";
    match store {
        Served::Sqlite => {
            let mut conn = SqliteConnection::connect(&database_url(&store_dir(store))).await.expect("connect");
            sqlx::query(SQL).bind(SystemClock.now_ms()).bind(DUE_EVERY).execute(&mut conn).await.expect("due");
        }
        Served::Postgres(url, _) => {
            let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
            sqlx::query(SQL).bind(SystemClock.now_ms()).bind(DUE_EVERY).execute(&mut conn).await.expect("due");
        }
    }
}

/// The store a server runs on: the seeded SQLite catalog, or its copy on PostgreSQL (with the
/// node's own data directory for its index).
enum Served {
    Sqlite,
    Postgres(String, tempfile::TempDir),
}

/// Set by `main`: the seeded data directory.
static SEEDED: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();

fn store_dir(store: &Served) -> std::path::PathBuf {
    match store {
        Served::Sqlite => SEEDED.get().expect("seeded").clone(),
        Served::Postgres(_, dir) => dir.path().to_path_buf(),
    }
}

fn main() {
    let smoke = std::env::var("AGORA_BENCH_SMOKE").is_ok_and(|v| v == "1");
    let number = |name: &str, default: u64| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let n = number("AGORA_BENCH_SIZES", if smoke { 3_000 } else { 100_000 }) as usize;
    let seconds = number("AGORA_BENCH_SECONDS", if smoke { 2 } else { 10 });
    let connections = number("AGORA_BENCH_CONNECTIONS", 32) as u32;
    let dir = tempfile::tempdir().expect("temp dir");
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let seeded = Instant::now();
    runtime.block_on(seed(dir.path(), n));
    let _ = SEEDED.set(dir.path().to_path_buf());
    println!(
        "\n== API under load: {n} listings (seeded in {:.1} s), wrk -t2 -c{connections} -d{seconds}s",
        seeded.elapsed().as_secs_f64()
    );
    // The same catalog on PostgreSQL, copied by the product's own migrate-store.
    let cluster = pg::Cluster::start("api");
    let pg_url = runtime.block_on(cluster.database("catalog"));
    let copied = std::process::Command::new(env!("CARGO_BIN_EXE_agora"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["migrate-store", "--to", &pg_url])
        .output()
        .expect("migrate-store runs");
    assert!(copied.status.success(), "migrate-store: {}", String::from_utf8_lossy(&copied.stderr));
    let pg_node = Served::Postgres(pg_url.clone(), tempfile::tempdir().expect("node dir"));

    let run = Run { seconds, connections };
    let ceiling_address = start_ceiling();
    let scripts = dir.path().join("wrk");
    std::fs::create_dir_all(&scripts).expect("script dir");
    let ping = rotating_script(&scripts, "ping.lua", &["/ping".to_string()]);
    let searches: Vec<String> = SEARCHES.iter().map(|q| format!("/api/v1/services?{q}")).collect();
    let search = rotating_script(&scripts, "search.lua", &searches);
    let mut rng = fastrand::Rng::with_seed(7);
    let ids: Vec<String> = (0..4096).map(|_| format!("/api/v1/services/{}", rng.usize(1..=n))).collect();
    let detail = rotating_script(&scripts, "detail.lua", &ids);
    let pages: Vec<String> = SEARCHES.iter().map(|q| format!("/?{q}")).collect();
    let pages = rotating_script(&scripts, "pages.lua", &pages);
    let service_pages: Vec<String> = ids.iter().map(|id| id.replace("/api/v1", "")).collect();
    let service_pages = rotating_script(&scripts, "service_pages.lua", &service_pages);
    // More distinct queries than a run sends, so none repeats within the answer cache's TTL; and
    // as many again of the same kinds, all different, to warm up with: a server that has answered
    // agents for a while holds the words and rows its next queries need, never their answers.
    let (measured_count, warm_count) = if smoke { (600, 200) } else { (30_000, 10_000) };
    let mut long_tail: Vec<String> =
        long_tail::queries(measured_count + warm_count).iter().map(|q| format!("/api/v1/services?{q}")).collect();
    let warm_tail = rotating_script(&scripts, "long_tail_warm.lua", &long_tail.split_off(measured_count));
    let long_tail = rotating_script(&scripts, "long_tail.lua", &long_tail);
    let only_long_tail = std::env::var("AGORA_BENCH_ONLY").is_ok_and(|v| v == "long_tail");
    let calls: Vec<String> = SEARCHES.iter().map(|q| mcp::call_body(q)).collect();
    let mcp_search = rotating_post_script(&scripts, "mcp.lua", "/mcp", &mcp::headers(), &calls);
    let ceiling = wrk(&format!("http://{ceiling_address}"), &ping, seconds, connections);
    report("trivial axum JSON", &ceiling, &ceiling);

    let on_pg = ["--database-url", pg_url.as_str()];
    let configurations = [
        ("as shipped (answer caches on)", &[][..], &Served::Sqlite),
        ("--no-answer-cache", &["--no-answer-cache"][..], &Served::Sqlite),
        ("on PostgreSQL (answer caches on)", &on_pg[..], &pg_node),
    ];
    for (title, extra, store) in configurations {
        runtime.block_on(make_due(store));
        let started = Instant::now();
        let (agora, address) = start_agora(&store_dir(store), extra);
        println!("-- agora serve {title}: listening after {:.1} s", started.elapsed().as_secs_f64());
        // Warm-up for the long tail: the index's pages in memory, the words and rows of other
        // queries like them (none of the measured ones: no answer in a cache).
        wrk(&format!("http://{address}"), &search, 1, connections);
        wrk(&format!("http://{address}"), &warm_tail, if smoke { 1 } else { 5 }, connections);
        let label = "search long tail";
        measured(label, &address, &long_tail, Some("search"), &run, &ceiling);
        if only_long_tail {
            stop(agora);
            continue;
        }
        // Warm-up: the first pass of each mix fills the page cache (and the caches), as in steady state.
        wrk(&format!("http://{address}"), &detail, 1, connections);
        let probes_before = probes_run(&address);
        measured("search (21-query mix)", &address, &search, Some("search"), &run, &ceiling);
        measured("service detail", &address, &detail, Some("detail"), &run, &ceiling);
        // Every call of the mix is a tool answer, not a tool error (wrk counts only HTTP errors).
        for call in &calls {
            let answer = mcp::call_once(&address, call);
            assert_eq!(answer["result"]["isError"], false, "{call}: {answer}");
        }
        wrk(&format!("http://{address}"), &mcp_search, 1, connections);
        measured("MCP search_services", &address, &mcp_search, Some("mcp_search"), &run, &ceiling);
        // The HTML pages (the search page is cached like the API's search; service pages render
        // per request): under load, then one connection at a time, where p50 is the time to
        // answer one page. Without the cache, the search page's figures are a render from scratch.
        wrk(&format!("http://{address}"), &pages, 1, connections);
        measured("search page (HTML)", &address, &pages, Some("search_page"), &run, &ceiling);
        measured("service page (HTML)", &address, &service_pages, None, &run, &ceiling);
        let alone = Run { seconds: run.seconds, connections: 1 };
        measured("search page, 1 conn", &address, &pages, Some("search_page"), &alone, &ceiling);
        measured("service page, 1 conn", &address, &service_pages, None, &alone, &ceiling);
        let probes = probes_run(&address) - probes_before;
        println!("crawler: {probes:.0} probes during the measured runs (1 in {DUE_EVERY} listings due at start)");
        stop(agora);
    }
    println!("targets: search long tail >= 2,000 req/s with p99 <= 25 ms (every request a miss);");
    println!("         search >= 3,000 req/s, detail >= 10,000 req/s, p99 <= 25 ms, zero errors;");
    println!("         a search page in a few ms (search page, 1 conn: p50)");
}
