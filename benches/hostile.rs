//! Hostile sellers under load (docs/LIMITS.md): the real `agora serve` holding N ordinary sellers
//! (plain v2 challenges), all registered through its API, while `wrk` loads the API with what
//! ordinary clients ask about them (their details, a text search, a Bazaar page). The clean run
//! re-probes the ordinary fleet continuously meanwhile; the hostile run also registers N hostile
//! sellers and re-probes them continuously too — a third each: the amplification body of 87,000
//! empty `accepts` entries, 64 entries with every key missing (the most problems a report holds),
//! and the widest valid challenge (every field at its cap).
//!
//! Printed side by side: peak RSS of the server, the largest answer it gave about anyone
//! (registration, detail, service page, search page, discovery page, export line), the largest
//! stored report, stored bytes per probe, probes run, and the API mix's req/s, p50 and p99.
//! Targets: peak RSS ≤ 256 MiB and p99 within 2× of the clean run.
//!
//! 100 sellers and 10 s of load; `AGORA_BENCH_SMOKE=1` runs 30 and 3 s (CI).

#[path = "support/serve.rs"]
mod serve;
#[path = "support/wrk.rs"]
mod wrk;

use agora_crawler::testkit::{Reply, Request, Seller, empty_entries_body, v2_challenge, widest_valid_challenge};
use serve::{metric, start_agora, stop};
use sqlx::{Connection, SqliteConnection};
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use wrk::{Figures, rotating_script, wrk};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fleet {
    Clean,
    Hostile,
}

/// Seller hosts (loopback addresses), so probes of different sellers run in parallel.
const HOSTS: [[u8; 4]; 4] = [[127, 0, 0, 21], [127, 0, 0, 22], [127, 0, 0, 23], [127, 0, 0, 24]];

struct Outcome {
    /// Peak RSS by the end of the load (registrations, re-probes, the API mix).
    load_rss_kib: u64,
    /// Peak RSS once every answer about every service was also read once.
    peak_rss_kib: u64,
    largest: (usize, String),
    registration_max: usize,
    report_max: i64,
    stored_per_probe: f64,
    probes: f64,
    load: Figures,
}

/// The answers each kind of seller gives, built once.
struct Answers {
    amplify: Vec<u8>,
    broken: Vec<u8>,
    widest: Vec<u8>,
    clean: Vec<u8>,
}

impl Answers {
    fn new() -> Answers {
        let url = "http://127.0.0.21/s/0";
        Answers {
            amplify: empty_entries_body(87_000),
            broken: empty_entries_body(64),
            widest: widest_valid_challenge(url).to_string().into_bytes(),
            clean: v2_challenge(url).to_string().into_bytes(),
        }
    }

    /// The answer at `path`: `/c/{i}` ordinary sellers, `/h/{i}` hostile ones.
    fn reply(&self, path: &str) -> Reply {
        let json = |body: &[u8]| Reply::new(402).header("content-type", "application/json").body(body.to_vec());
        let index = path.rsplit('/').next().and_then(|n| n.parse::<usize>().ok());
        match (path.get(..3), index.map(|i| i % 3)) {
            (Some("/c/"), Some(_)) => json(&self.clean),
            (Some("/h/"), Some(0)) => json(&self.amplify),
            (Some("/h/"), Some(1)) => json(&self.broken),
            (Some("/h/"), Some(_)) => json(&self.widest),
            _ => Reply::new(404),
        }
    }
}

async fn start_sellers(answers: Arc<Answers>) -> Vec<Seller> {
    let mut sellers = Vec::new();
    for ip in HOSTS {
        let answers = Arc::clone(&answers);
        let seller = Seller::start(IpAddr::from(ip), move |request: &Request| answers.reply(&request.path))
            .await
            .expect("seller starts");
        sellers.push(seller);
    }
    sellers
}

fn database_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("agora.db").display())
}

/// Bytes of the database in use (pages not on the free list), as the latest commit left it.
async fn stored_bytes(dir: &Path) -> i64 {
    let mut conn = SqliteConnection::connect(&database_url(dir)).await.expect("connect");
    let pages: i64 =
        sqlx::query_scalar("SELECT page_count - freelist_count FROM pragma_page_count, pragma_freelist_count")
            .fetch_one(&mut conn)
            .await
            .expect("pages");
    let size: i64 =
        sqlx::query_scalar("SELECT page_size FROM pragma_page_size").fetch_one(&mut conn).await.expect("size");
    conn.close().await.expect("close");
    pages * size
}

/// Peak resident memory of a process (Linux `VmHWM`), in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

async fn get_len(client: &reqwest::Client, url: &str) -> usize {
    match client.get(url).send().await {
        Ok(response) => response.bytes().await.map_or(0, |b| b.len()),
        Err(_) => 0,
    }
}

fn run(fleet: Fleet, n: usize, seconds: u64, connections: u32, runtime: &tokio::runtime::Runtime) -> Outcome {
    let dir = tempfile::tempdir().expect("temp dir");
    let answers = Arc::new(Answers::new());
    let sellers = runtime.block_on(start_sellers(answers));
    let (agora, address) = start_agora(dir.path(), &["--allow-cidr", "127.0.0.0/8", "--host-delay-ms", "0"]);
    let base = format!("http://{address}");
    let client = reqwest::Client::new();

    // Every seller registered through the API (each registration probes at once): the ordinary
    // ones first (ids 1..=n), then the hostile ones.
    let url = |kind: &str, i: usize| sellers[i % sellers.len()].url(&format!("/{kind}/{i}"));
    let mut urls: Vec<String> = (0..n).map(|i| url("c", i)).collect();
    if fleet == Fleet::Hostile {
        urls.extend((0..n).map(|i| url("h", i)));
    }
    let registration_max = runtime.block_on(async {
        let mut largest = 0;
        for url in &urls {
            let body = serde_json::json!({ "url": url }).to_string();
            let request = client.post(format!("{base}/api/v1/services")).header("content-type", "application/json");
            let answer = request.body(body).send().await.expect("register");
            largest = largest.max(answer.bytes().await.expect("body").len());
        }
        largest
    });

    // The load: what ordinary clients ask about the ordinary sellers.
    let scripts = dir.path().join("wrk");
    std::fs::create_dir_all(&scripts).expect("script dir");
    let mut paths: Vec<String> = (1..=n).map(|id| format!("/api/v1/services/{id}")).collect();
    paths.extend(
        ["/api/v1/services?q=weather&testnet=include&limit=20", "/discovery/resources?limit=20", "/?q=weather"]
            .map(str::to_string),
    );
    let script = rotating_script(&scripts, "mix.lua", &paths);
    let probes_before = metric(&address, "agora_probes_total");
    let bytes_before = runtime.block_on(stored_bytes(dir.path()));
    let done = Arc::new(AtomicBool::new(false));
    let load = {
        let (url, script, done) = (base.clone(), script.clone(), Arc::clone(&done));
        std::thread::spawn(move || {
            let figures = wrk(&url, &script, seconds, connections);
            done.store(true, Ordering::SeqCst);
            figures
        })
    };
    // Meanwhile every seller is due again and again: the crawler re-probes the fleet throughout.
    runtime.block_on(async {
        let mut conn = SqliteConnection::connect(&database_url(dir.path())).await.expect("connect");
        while !done.load(Ordering::SeqCst) {
            let _ = sqlx::query("UPDATE services SET next_due_at = 0").execute(&mut conn).await;
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        conn.close().await.expect("close");
    });
    let load = load.join().expect("wrk thread");
    let load_rss_kib = peak_rss_kib(agora.id());
    let probes = metric(&address, "agora_probes_total") - probes_before;
    let bytes_after = runtime.block_on(stored_bytes(dir.path()));

    // The largest answer about any of them, on every read path.
    let largest = runtime.block_on(async {
        let mut candidates = Vec::new();
        for id in 1..=urls.len() {
            candidates.push(format!("{base}/api/v1/services/{id}"));
            candidates.push(format!("{base}/services/{id}"));
        }
        candidates.extend([
            format!("{base}/api/v1/services?limit=100&testnet=include"),
            format!("{base}/?testnet=include"),
            format!("{base}/discovery/resources?limit=100"),
        ]);
        let mut largest = (0, String::new());
        for url in candidates {
            let size = get_len(&client, &url).await;
            if size > largest.0 {
                largest = (size, url.trim_start_matches(&base).to_string());
            }
        }
        let export = client.get(format!("{base}/api/v1/export.ndjson")).send().await.expect("export");
        let text = export.text().await.expect("export body");
        let line = text.lines().map(str::len).max().unwrap_or(0);
        if line > largest.0 {
            largest = (line, "/api/v1/export.ndjson (one line)".to_string());
        }
        largest
    });
    let report_max = runtime.block_on(async {
        let mut conn = SqliteConnection::connect(&database_url(dir.path())).await.expect("connect");
        let max: Option<i64> = sqlx::query_scalar("SELECT MAX(length(report)) FROM latest_reports")
            .fetch_one(&mut conn)
            .await
            .expect("reports");
        conn.close().await.expect("close");
        max.unwrap_or(0)
    });
    let peak_rss_kib = peak_rss_kib(agora.id());
    stop(agora);
    drop(sellers);
    Outcome {
        load_rss_kib,
        peak_rss_kib,
        largest,
        registration_max,
        report_max,
        stored_per_probe: (bytes_after - bytes_before) as f64 / probes.max(1.0),
        probes,
        load,
    }
}

fn main() {
    let smoke = std::env::var("AGORA_BENCH_SMOKE").is_ok_and(|v| v == "1");
    let number = |name: &str, default: u64| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let n = number("AGORA_BENCH_SELLERS", if smoke { 30 } else { 100 }) as usize;
    let seconds = number("AGORA_BENCH_SECONDS", if smoke { 3 } else { 10 });
    let connections = number("AGORA_BENCH_CONNECTIONS", 8) as u32;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    println!(
        "\n== hostile sellers: {n} sellers registered, re-probed continuously under wrk -c{connections} -d{seconds}s"
    );
    let started = Instant::now();
    let clean = run(Fleet::Clean, n, seconds, connections, &runtime);
    let hostile = run(Fleet::Hostile, n, seconds, connections, &runtime);
    let row = |label: &str, outcome: &Outcome| {
        println!(
            "{label:<8} peak RSS {:>6.1} MiB under load, {:>6.1} MiB after reading every answer | largest answer {:>9} B ({}) | registration answer ≤ {:>7} B | stored report ≤ {:>7} B | {:>7.0} B stored/probe over {:>5.0} probes | {:>7.0} req/s p50 {:>6.2} ms p99 {:>7.2} ms, {} requests, {} errors",
            outcome.load_rss_kib as f64 / 1024.0,
            outcome.peak_rss_kib as f64 / 1024.0,
            outcome.largest.0,
            outcome.largest.1,
            outcome.registration_max,
            outcome.report_max,
            outcome.stored_per_probe,
            outcome.probes,
            outcome.load.requests_per_second,
            outcome.load.p50_ms,
            outcome.load.p99_ms,
            outcome.load.requests,
            outcome.load.errors,
        );
    };
    row("clean", &clean);
    row("hostile", &hostile);
    let ratio = hostile.load.p99_ms / clean.load.p99_ms.max(0.001);
    let rss_ok = hostile.peak_rss_kib <= 256 * 1024;
    println!(
        "targets: peak RSS ≤ 256 MiB ({}: {:.1} MiB); p99 within 2× of clean ({}: {ratio:.2}×); {:.0} s in all",
        if rss_ok { "met" } else { "MISSED" },
        hostile.peak_rss_kib as f64 / 1024.0,
        if ratio <= 2.0 { "met" } else { "MISSED" },
        started.elapsed().as_secs_f64()
    );
}
