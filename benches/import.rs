//! Import throughput: a facilitator's Bazaar list of N resources on H loopback hosts
//! (`127.20.x.y`, 10,000 on 1,000 in the full run; `AGORA_BENCH_SMOKE=1`: 600 on 60) is read page
//! by page, every URL registered, probed and made searchable by the real product (`build_app`,
//! `sources::import`, the crawl service, the index) — next to the crawl service alone probing the
//! same endpoints registered directly, measured in the same run as the ceiling. Prints the time
//! to all searchable, both rates and their ratio, and the memory each grew by.
//! `AGORA_BENCH_SIZES=N` sets the list's size.

#[path = "support/memory.rs"]
mod memory;

use agora::config::Cli;
use agora::db::Store;
use agora::db::register::NewService;
use agora::jobs::CrawlSettings;
use agora::jobs::scheduler::{collect_while, crawl_once};
use agora::search::SearchRequest;
use agora::sources::{SourceKind, import};
use agora::{AppConfig, build_app};
use agora_crawler::testkit::{Reply, Request, Seller, v2_challenge};
use agora_crawler::{AddressPolicy, ProbeConfig};
use clap::Parser;
use serde_json::json;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

const CONCURRENCY: usize = 64;

struct Fleet {
    _sellers: Vec<Seller>,
    urls: Vec<(String, String)>,
}

/// `endpoints` valid sellers' routes spread over `hosts` loopback hosts.
async fn start_fleet(endpoints: usize, hosts: usize) -> Fleet {
    let per_host = endpoints.div_ceil(hosts);
    let mut sellers = Vec::with_capacity(hosts);
    let mut urls = Vec::with_capacity(endpoints);
    for h in 0..hosts {
        let ip = IpAddr::from([127, 20, (h / 250) as u8, (h % 250 + 1) as u8]);
        let reply = Reply::v2(&v2_challenge("http://127.0.0.1/paid"));
        let seller = Seller::start(
            ip,
            move |request: &Request| {
                if request.path == "/robots.txt" { Reply::new(404) } else { reply.clone() }
            },
        )
        .await
        .expect("seller starts");
        for index in (0..per_host).map(|i| h * per_host + i).filter(|i| *i < endpoints) {
            urls.push((seller.url(&format!("/e/{index}")), ip.to_string()));
        }
        sellers.push(seller);
    }
    Fleet { _sellers: sellers, urls }
}

/// A facilitator serving `urls` as its Bazaar list, 100 to a page.
async fn start_facilitator(urls: Vec<String>) -> Seller {
    let urls = Arc::new(urls);
    Seller::start(IpAddr::from([127, 20, 255, 1]), move |request: &Request| {
        if !request.path.starts_with("/discovery/resources") {
            return Reply::new(404);
        }
        let offset: usize = request
            .path
            .split(['?', '&'])
            .find_map(|pair| pair.strip_prefix("offset="))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let offer = &v2_challenge("http://127.0.0.1/paid")["accepts"][0];
        let items: Vec<_> = urls
            .iter()
            .skip(offset)
            .take(100)
            .map(|url| json!({"resource": url, "type": "http", "x402Version": 2, "accepts": [offer], "lastUpdated": "2026-12-01T00:00:00Z"}))
            .collect();
        let body = json!({"x402Version": 2, "items": items, "pagination": {"limit": 100, "offset": offset, "total": urls.len()}});
        Reply::new(200).header("content-type", "application/json").body(body.to_string())
    })
    .await
    .expect("facilitator starts")
}

/// The ceiling: the crawl service alone, the same endpoints registered directly.
async fn crawl_ceiling(fleet: &Fleet) -> Duration {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(dir.path()).await.expect("store");
    let new: Vec<NewService> = fleet
        .urls
        .iter()
        .map(|(url, host)| NewService { url: url.clone(), method: "GET".into(), host: host.clone() })
        .collect();
    store.writer().register(new, 0).await.expect("register");
    let settings = CrawlSettings {
        probe: ProbeConfig {
            policy: AddressPolicy::new(AddressPolicy::parse_allowlist("127.0.0.0/8").expect("cidr")),
            ..ProbeConfig::default()
        },
        host_delay: Duration::ZERO,
        concurrency: CONCURRENCY,
        ..CrawlSettings::default()
    };
    let cancel = tokio_util::sync::CancellationToken::new();
    let dispatcher =
        agora::jobs::start(store.clone(), &settings, Arc::new(agora::clock::SystemClock), cancel).expect("crawler");
    let started = Instant::now();
    crawl_once(&dispatcher, |_, _, _| {}).await.expect("crawl");
    let elapsed = started.elapsed();
    store.close().await;
    elapsed
}

fn main() {
    let smoke = std::env::var_os("AGORA_BENCH_SMOKE").is_some();
    let (endpoints, hosts) = if smoke { (600, 60) } else { (10_000, 1_000) };
    // `AGORA_BENCH_SIZES=N`: N resources on the same hosts (to see how memory grows with the list).
    let endpoints = std::env::var("AGORA_BENCH_SIZES").ok().and_then(|n| n.parse().ok()).unwrap_or(endpoints);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(async move {
        let fleet = start_fleet(endpoints, hosts).await;
        let facilitator = start_facilitator(fleet.urls.iter().map(|(url, _)| url.clone()).collect()).await;
        let before_ceiling = memory::status_mib("RssAnon");
        let ceiling = crawl_ceiling(&fleet).await;
        let ceiling_grown = memory::status_mib("RssAnon") - before_ceiling;

        let dir = tempfile::tempdir().expect("temp dir");
        let args = ["agora", "--data-dir", dir.path().to_str().expect("utf-8"), "--allow-cidr", "127.0.0.0/8"];
        let args = args.into_iter().chain(["--host-delay-ms", "0", "--concurrency", "64", "migrate"]);
        let global = Cli::try_parse_from(args).expect("options").global;
        let app = build_app(AppConfig::new(global)).await.expect("app");
        let events = app.dispatcher.subscribe();
        let before = memory::status_mib("RssAnon");
        let started = Instant::now();
        let mut read = Duration::ZERO;
        let reading = async {
            let summary = import(&app.dispatcher, SourceKind::Facilitator, &facilitator.url("")).await;
            read = started.elapsed();
            summary.expect("import")
        };
        // Results are tallied while pages are read (as `agora import` does): none waits in the channel.
        let (summary, probed) =
            collect_while(&app.dispatcher, events, reading, |summary| summary.queued, Instant::now(), |_, _, _| {}).await;
        app.search.flush().await.expect("flush");
        let searchable = started.elapsed();
        let found = app.state.catalog.search(&SearchRequest::new("")).await.expect("search").total;
        let grown = memory::status_mib("RssAnon") - before;

        println!("import benchmark: a facilitator list of {endpoints} resources on {hosts} hosts, concurrency {CONCURRENCY}, host delay 0");
        println!(
            "  list read and registered: {:.2} s ({} pages, {} found, {} new; probes overlap the reading)",
            read.as_secs_f64(),
            summary.pages,
            summary.found,
            summary.new
        );
        println!(
            "  import to all searchable:  {:.2} s  = {:>6.0} services/s ({probed}; {found} searchable)",
            searchable.as_secs_f64(),
            endpoints as f64 / searchable.as_secs_f64()
        );
        println!(
            "  crawl service alone:       {:.2} s  = {:>6.0} probes/s (the same endpoints registered directly; anonymous memory grown {ceiling_grown:.0} MiB)",
            ceiling.as_secs_f64(),
            endpoints as f64 / ceiling.as_secs_f64()
        );
        println!("  ratio import / crawl: {:.2}", ceiling.as_secs_f64() / searchable.as_secs_f64());
        println!(
            "  anonymous memory grown by the import: {grown:.0} MiB ({:.1} KiB per resource); peak RSS {:.0} MiB (fleet servers, facilitator, crawler, store and index in one process)",
            grown * 1024.0 / endpoints as f64,
            memory::peak_rss_mib()
        );
        assert_eq!(found as usize, endpoints, "every imported endpoint is searchable");
        app.shutdown().await;
    });
}
