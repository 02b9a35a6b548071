//! Crawl throughput against a simulated fleet: N endpoints on H loopback hosts (`127.10.x.y`),
//! a realistic mix (valid v2 and v1, malformed, slow, oversized, failing, not x402), crawled by
//! the real service — per-host queues, robots.txt, prober, batched SQLite writer — next to the
//! raw ceiling of a bare HTTP client fetching the same URLs with the same concurrency in the same
//! run — on SQLite, on PostgreSQL with one node, and with two nodes sharing one PostgreSQL
//! database (claims, `db::leases`). Prints probes/s, p50/p99 latency, peak RSS and classification
//! correctness (must be 100 %, every endpoint probed exactly once).
//!
//! `AGORA_BENCH_SMOKE=1` runs a small fleet (CI); the full run is 10,000 endpoints on 1,000 hosts.

#[path = "support/memory.rs"]
mod memory;
#[path = "support/pg.rs"]
mod pg;

use agora::clock::SystemClock;
use agora::db::Store;
use agora::db::register::NewService;
use agora::db::services;
use agora::jobs::CrawlSettings;
use agora::jobs::scheduler::crawl_once;
use agora_crawler::testkit::{Reply, Request, Seller, v1_challenge, v2_challenge};
use agora_crawler::{AddressPolicy, ProbeConfig};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

const CONCURRENCY: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    ValidV2,
    ValidV1,
    Malformed,
    Slow,
    Oversized,
    Failing,
    NotX402,
}

impl Kind {
    /// The fleet's mix, per 100 endpoints.
    const MIX: [(Kind, usize); 7] = [
        (Kind::ValidV2, 78),
        (Kind::ValidV1, 5),
        (Kind::Malformed, 5),
        (Kind::Slow, 3),
        (Kind::Oversized, 2),
        (Kind::Failing, 5),
        (Kind::NotX402, 2),
    ];

    fn of(index: usize) -> Kind {
        let mut slot = index % 100;
        for (kind, share) in Kind::MIX {
            if slot < share {
                return kind;
            }
            slot -= share;
        }
        Kind::ValidV2
    }

    fn expected(self) -> &'static str {
        match self {
            Kind::ValidV2 | Kind::ValidV1 | Kind::Slow => "listed",
            Kind::Malformed => "invalid",
            Kind::Oversized | Kind::Failing => "fetch_error",
            Kind::NotX402 => "not_x402",
        }
    }

    fn reply(self) -> Reply {
        let url = "http://127.0.0.1/paid";
        match self {
            Kind::ValidV2 => Reply::v2(&v2_challenge(url)),
            Kind::ValidV1 => Reply::v1(&v1_challenge(url)),
            Kind::Malformed => {
                let mut challenge = v2_challenge(url);
                challenge["accepts"][0]["amount"] = "0x3e8".into();
                Reply::v2(&challenge)
            }
            Kind::Slow => Reply::v2(&v2_challenge(url)).drip(b" ", Duration::from_millis(100), 3),
            Kind::Oversized => Reply::new(402).body(vec![b'x'; 400 * 1024]),
            Kind::Failing => Reply::new(500).body("internal error"),
            Kind::NotX402 => Reply::new(200).body("{\"ok\":true}"),
        }
    }
}

struct Fleet {
    _sellers: Vec<Seller>,
    endpoints: Vec<(String, String, Kind)>,
}

async fn start_fleet(endpoints: usize, hosts: usize) -> Fleet {
    let per_host = endpoints.div_ceil(hosts);
    let mut sellers = Vec::with_capacity(hosts);
    let mut list = Vec::with_capacity(endpoints);
    for h in 0..hosts {
        let ip = IpAddr::from([127, 10, (h / 250) as u8, (h % 250 + 1) as u8]);
        let replies: HashMap<String, Reply> = (0..per_host)
            .map(|i| h * per_host + i)
            .filter(|index| *index < endpoints)
            .map(|index| (format!("/e/{index}"), Kind::of(index).reply()))
            .collect();
        let seller = Seller::start(ip, move |request: &Request| {
            replies.get(&request.path).cloned().unwrap_or_else(|| Reply::new(404))
        })
        .await
        .expect("seller starts");
        for index in (0..per_host).map(|i| h * per_host + i).filter(|i| *i < endpoints) {
            list.push((seller.url(&format!("/e/{index}")), ip.to_string(), Kind::of(index)));
        }
        sellers.push(seller);
    }
    Fleet { _sellers: sellers, endpoints: list }
}

fn percentile(sorted: &[f64], pct: usize) -> f64 {
    agora::db::maintain::percentile(sorted, pct).unwrap_or(f64::NAN)
}

/// The ceiling: a bare client, same URLs, same concurrency, no politeness, no validation, no store.
async fn raw_ceiling(fleet: &Fleet) -> (f64, Vec<f64>) {
    let client =
        reqwest::Client::builder().pool_max_idle_per_host(0).timeout(Duration::from_secs(10)).build().expect("client");
    let permits = Arc::new(Semaphore::new(CONCURRENCY));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (url, _, _) in &fleet.endpoints {
        let (client, url, permits) = (client.clone(), url.clone(), Arc::clone(&permits));
        tasks.spawn(async move {
            let _permit = permits.acquire().await.expect("semaphore");
            let t = Instant::now();
            if let Ok(response) = client.get(&url).send().await {
                let _ = response.bytes().await;
            }
            t.elapsed().as_secs_f64() * 1000.0
        });
    }
    let mut latencies = Vec::with_capacity(fleet.endpoints.len());
    while let Some(latency) = tasks.join_next().await {
        latencies.push(latency.expect("task"));
    }
    let rate = fleet.endpoints.len() as f64 / started.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    (rate, latencies)
}

/// One crawl of the whole fleet by `nodes` crawlers (each its own store handle and node name) on
/// one store; the first handle registers the fleet and checks every verdict after.
struct Crawled {
    rate: f64,
    latencies: Vec<f64>,
    summaries: Vec<String>,
    probed: usize,
    wrong: Vec<String>,
}

async fn crawl(fleet: &Fleet, stores: &[Store]) -> Crawled {
    let endpoints = fleet.endpoints.len();
    let new: Vec<NewService> = fleet
        .endpoints
        .iter()
        .map(|(url, host, _)| NewService { url: url.clone(), method: "GET".into(), host: host.clone() })
        .collect();
    stores[0].writer().register(new, 0).await.expect("register fleet");
    let started = Instant::now();
    let mut runs = tokio::task::JoinSet::new();
    for (n, store) in stores.iter().enumerate() {
        let settings = CrawlSettings {
            probe: ProbeConfig {
                policy: AddressPolicy::new(AddressPolicy::parse_allowlist("127.0.0.0/8").expect("cidr")),
                ..ProbeConfig::default()
            },
            host_delay: Duration::ZERO,
            concurrency: CONCURRENCY,
            node: format!("bench-node-{n}"),
            ..CrawlSettings::default()
        };
        let cancel = tokio_util::sync::CancellationToken::new();
        let dispatcher = agora::jobs::start(store.clone(), &settings, Arc::new(SystemClock), cancel).expect("crawler");
        runs.spawn(async move {
            let mut latencies = Vec::new();
            let summary = crawl_once(&dispatcher, |_, _, result| {
                if let Ok(probed) = result
                    && let Some(http) = &probed.report.http
                {
                    latencies.push(http.timings_ms.total);
                }
            })
            .await
            .expect("crawl");
            (summary, latencies)
        });
    }
    let (mut latencies, mut summaries, mut probed) = (Vec::new(), Vec::new(), 0);
    while let Some(run) = runs.join_next().await {
        let (summary, run_latencies) = run.expect("crawl task");
        latencies.extend(run_latencies);
        probed += summary.probed;
        summaries.push(summary.to_string());
    }
    let rate = endpoints as f64 / started.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    let stored = services::all(stores[0].read()).await.expect("services");
    let expected: HashMap<&str, Kind> = fleet.endpoints.iter().map(|(url, _, kind)| (url.as_str(), *kind)).collect();
    let mut wrong = Vec::new();
    for service in &stored {
        let kind = expected[service.url.as_str()];
        if service.verdict.as_deref() != Some(kind.expected()) {
            wrong.push(format!("{kind:?} {} → {:?} {:?}", service.url, service.verdict, service.reason_code));
        }
    }
    if stored.len() != endpoints {
        wrong.push(format!("{} services stored of {endpoints}", stored.len()));
    }
    Crawled { rate, latencies, summaries, probed, wrong }
}

fn report(label: &str, crawled: &Crawled, ceiling: f64) {
    println!(
        "  {label:<34} {:>8.0} probes/s    p50 {:>6.1} ms   p99 {:>6.1} ms   ratio to ceiling {:.2}",
        crawled.rate,
        percentile(&crawled.latencies, 50),
        percentile(&crawled.latencies, 99),
        crawled.rate / ceiling
    );
    for summary in &crawled.summaries {
        println!("      {summary}");
    }
    println!("      classification correct: {} wrong; probes run {}", crawled.wrong.len(), crawled.probed);
    for line in crawled.wrong.iter().take(10) {
        println!("      WRONG {line}");
    }
}

fn main() {
    let smoke = std::env::var_os("AGORA_BENCH_SMOKE").is_some();
    let (endpoints, hosts) = if smoke { (600, 60) } else { (10_000, 1_000) };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(async move {
        let fleet = start_fleet(endpoints, hosts).await;
        let rss_fleet = memory::peak_rss_mib();
        let (ceiling, raw_latencies) = raw_ceiling(&fleet).await;

        let dir = tempfile::tempdir().expect("temp dir");
        let sqlite = Store::open(dir.path()).await.expect("store");
        let on_sqlite = crawl(&fleet, std::slice::from_ref(&sqlite)).await;
        sqlite.close().await;

        // The same fleet on PostgreSQL: one node, then two nodes (two crawlers, each its own
        // pools and claims) on a fresh database.
        let cluster = pg::Cluster::start("crawl");
        let one = Store::open_postgres(&cluster.database("one_node").await).await.expect("store");
        let on_postgres = crawl(&fleet, std::slice::from_ref(&one)).await;
        one.close().await;
        let two_url = cluster.database("two_nodes").await;
        let two = [
            Store::open_postgres(&two_url).await.expect("store"),
            Store::open_postgres(&two_url).await.expect("store"),
        ];
        let on_two = crawl(&fleet, &two).await;
        for store in &two {
            store.close().await;
        }

        println!(
            "crawl benchmark: {endpoints} endpoints on {hosts} hosts, concurrency {CONCURRENCY} per node, host delay 0"
        );
        println!(
            "  raw ceiling (bare client):         {ceiling:>8.0} fetches/s   p50 {:>6.1} ms   p99 {:>6.1} ms",
            percentile(&raw_latencies, 50),
            percentile(&raw_latencies, 99)
        );
        println!("  ({hosts} robots.txt fetches per node are included in each crawl's time; target ratio ≥ 0.50)");
        report("agora crawl, SQLite:", &on_sqlite, ceiling);
        report("agora crawl, PostgreSQL, 1 node:", &on_postgres, ceiling);
        report("agora crawl, PostgreSQL, 2 nodes:", &on_two, ceiling);
        println!(
            "  peak RSS: {:.0} MiB (process: fleet servers {rss_fleet:.0} MiB + clients + crawlers)",
            memory::peak_rss_mib()
        );
        for crawled in [&on_sqlite, &on_postgres, &on_two] {
            assert!(crawled.wrong.is_empty(), "classification must be 100 %");
            assert_eq!(crawled.probed, endpoints, "every endpoint probed exactly once");
        }
    });
}
