//! Politeness: one request at a time per host (ports do not make separate hosts) with the
//! configured gap between the end of one request and the start of the next; robots.txt honoured.

use crate::support::{T0, open_app, options};
use agora::clock::ManualClock;
use agora::db::register::NewService;
use agora::db::services;
use agora::jobs::register::register;
use agora::jobs::scheduler::crawl_once;
use agora::lifecycle::Status;
use agora_crawler::testkit::{Reply, Request, Seller, v2_challenge};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const GAP: Duration = Duration::from_millis(150);
const HOLD: Duration = Duration::from_millis(120);

type Log = Arc<Mutex<Vec<(Instant, String)>>>;

/// A seller that holds every paid answer open for [`HOLD`] and logs when each request arrived.
async fn slow_seller(ip: [u8; 4], log: &Log) -> Seller {
    let log = Arc::clone(log);
    Seller::start(IpAddr::from(ip), move |request: &Request| {
        log.lock().expect("lock").push((Instant::now(), request.path.clone()));
        if request.path == "/robots.txt" {
            return Reply::new(404);
        }
        Reply::v2(&v2_challenge("http://127.0.0.1/")).drip(b" ", HOLD / 3, 3)
    })
    .await
    .expect("seller")
}

#[tokio::test(flavor = "multi_thread")]
async fn one_request_at_a_time_per_host_with_the_gap() {
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = ManualClock::new(T0);
    let gap_ms = GAP.as_millis().to_string();
    let opts = options(dir.path(), &["--allow-cidr", "127.0.0.0/8", "--host-delay-ms", &gap_ms, "--concurrency", "64"]);
    let app = open_app(&opts, &clock).await;
    let log_a: Log = Arc::default();
    let log_b: Log = Arc::default();
    // Host A is two servers on one IP (two ports): still one host.
    let a1 = slow_seller([127, 0, 0, 21], &log_a).await;
    let a2 = slow_seller([127, 0, 0, 21], &log_a).await;
    let b = slow_seller([127, 0, 0, 22], &log_b).await;
    let mut new = Vec::new();
    for i in 0..4 {
        for (seller, host) in [(&a1, "127.0.0.21"), (&a2, "127.0.0.21"), (&b, "127.0.0.22")] {
            new.push(NewService { url: seller.url(&format!("/paid/{i}")), method: "GET".into(), host: host.into() });
        }
    }
    app.store.writer().register(new, T0).await.expect("stored");

    let summary = crawl_once(&app.dispatcher, |_, _, _| {}).await.expect("crawl");
    assert_eq!((summary.probed, summary.listed), (12, 12));

    for (name, log, requests) in [("A", &log_a, 8 + 2), ("B", &log_b, 4 + 1)] {
        let mut log = log.lock().expect("lock").clone();
        log.sort();
        // One robots.txt per origin (scheme, host, port), then the endpoints.
        assert_eq!(log.len(), requests, "host {name}: {log:?}");
        for pair in log.windows(2) {
            let ((start, path), (next, _)) = (&pair[0], &pair[1]);
            let busy = if path == "/robots.txt" { Duration::ZERO } else { HOLD };
            let apart = *next - *start;
            assert!(
                apart >= busy + GAP,
                "host {name}: {path} started {apart:?} before the next request; it needs {busy:?} + gap {GAP:?}"
            );
        }
    }
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn robots_txt_is_honoured() {
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = ManualClock::new(T0);
    let app = open_app(&options(dir.path(), &["--allow-cidr", "127.0.0.0/8", "--host-delay-ms", "0"]), &clock).await;
    let hits: Arc<Mutex<Vec<String>>> = Arc::default();
    let with_robots = |robots: Option<&'static str>, status: u16| {
        let hits = Arc::clone(&hits);
        move |request: &Request| {
            hits.lock().expect("lock").push(request.path.clone());
            match (request.path.as_str(), robots) {
                ("/robots.txt", Some(text)) => Reply::new(status).body(text),
                ("/robots.txt", None) => Reply::new(status),
                _ => Reply::v2(&v2_challenge("http://127.0.0.1/")),
            }
        }
    };
    let everyone =
        Seller::start(IpAddr::from([127, 0, 0, 31]), with_robots(Some("User-agent: *\nDisallow: /private\n"), 200))
            .await
            .expect("seller");
    let agora_only = Seller::start(
        IpAddr::from([127, 0, 0, 32]),
        with_robots(Some("User-agent: AgoraBot\nDisallow: /\n\nUser-agent: *\nAllow: /\n"), 200),
    )
    .await
    .expect("seller");
    let broken = Seller::start(IpAddr::from([127, 0, 0, 33]), with_robots(None, 503)).await.expect("seller");
    let paywalled = Seller::start(IpAddr::from([127, 0, 0, 34]), with_robots(None, 402)).await.expect("seller");

    let public = register(&app.dispatcher, &everyone.url("/public"), None).await.expect("registered");
    assert_eq!(public.service.status, Status::Listed);
    let private = register(&app.dispatcher, &everyone.url("/private/data"), None).await.expect("registered");
    assert_eq!(private.service.status, Status::Rejected);
    assert_eq!(private.service.reason_code.as_deref(), Some("robots_disallowed"));
    assert_eq!(private.report.verdict.as_str(), "refused");
    let named = register(&app.dispatcher, &agora_only.url("/api"), None).await.expect("registered");
    assert_eq!(named.service.reason_code.as_deref(), Some("robots_disallowed"));
    // An unreadable robots.txt (5xx) is a transient failure, retried soon — not a rejection for good.
    let flaky = register(&app.dispatcher, &broken.url("/api"), None).await.expect("registered");
    assert_eq!(
        (flaky.report.verdict.as_str(), flaky.service.reason_code.as_deref()),
        ("fetch_error", Some("robots_unreachable"))
    );
    assert!(flaky.service.next_due_at - T0 <= 6 * 60_000, "retried after the first backoff step");
    // Any 4xx — a paywalled robots.txt included — means no rules.
    let open = register(&app.dispatcher, &paywalled.url("/api"), None).await.expect("registered");
    assert_eq!(open.service.status, Status::Listed);

    let hits = hits.lock().expect("lock").clone();
    assert!(!hits.iter().any(|p| p.starts_with("/private")), "disallowed paths are never fetched: {hits:?}");
    assert_eq!(hits.iter().filter(|p| p.as_str() == "/api").count(), 1, "only the 402-robots seller's /api: {hits:?}");
    assert_eq!(hits.iter().filter(|p| p.as_str() == "/robots.txt").count(), 4, "robots.txt cached per origin");
    assert_eq!(services::all(app.store.read()).await.expect("all").len(), 5);
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn robots_crawl_delay_widens_the_gap() {
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = ManualClock::new(T0);
    let app = open_app(&options(dir.path(), &["--allow-cidr", "127.0.0.0/8", "--host-delay-ms", "0"]), &clock).await;
    let log: Log = Arc::default();
    let logged = Arc::clone(&log);
    let seller = Seller::start(IpAddr::from([127, 0, 0, 35]), move |request: &Request| {
        logged.lock().expect("lock").push((Instant::now(), request.path.clone()));
        match request.path.as_str() {
            "/robots.txt" => Reply::new(200).body("User-agent: *\nCrawl-delay: 0.3\n"),
            _ => Reply::v2(&v2_challenge("http://127.0.0.1/")),
        }
    })
    .await
    .expect("seller");
    let new = (0..3)
        .map(|i| NewService { url: seller.url(&format!("/p/{i}")), method: "GET".into(), host: "127.0.0.35".into() })
        .collect();
    app.store.writer().register(new, T0).await.expect("stored");
    let summary = crawl_once(&app.dispatcher, |_, _, _| {}).await.expect("crawl");
    assert_eq!(summary.listed, 3);
    let mut probes: Vec<Instant> =
        log.lock().expect("lock").iter().filter(|(_, path)| path != "/robots.txt").map(|(at, _)| *at).collect();
    probes.sort();
    assert_eq!(probes.len(), 3);
    for pair in probes.windows(2) {
        assert!(pair[1] - pair[0] >= Duration::from_millis(300), "Crawl-delay ignored: {:?}", pair[1] - pair[0]);
    }
    app.shutdown().await;
}
