//! Crash safety: SIGKILL the real binary in the middle of bulk registration and of a crawl, at a
//! moment the test knows (a seller holding its answer open has received its request), then check
//! `PRAGMA integrity_check`, that every acknowledged registration and printed result is stored,
//! and that the next crawl picks up exactly what was left.

use crate::support::{Switchable, T0};
use agora::db::register::NewService;
use agora::db::services;
use agora_crawler::testkit::{Reply, Request, Seller, v2_challenge};
use sqlx::{ConnectOptions, Connection};
use std::net::IpAddr;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::mpsc;

/// A seller that, while `hold` is set, reports each paid request and keeps its answer open for a
/// minute; once `hold` is cleared it answers at once.
struct HoldingSeller {
    seller: Seller,
    hold: Arc<AtomicBool>,
    arrived: mpsc::UnboundedReceiver<String>,
}

impl HoldingSeller {
    async fn start(ip: [u8; 4]) -> HoldingSeller {
        let hold = Arc::new(AtomicBool::new(true));
        let (tell, arrived) = mpsc::unbounded_channel();
        let holding = Arc::clone(&hold);
        let seller = Seller::start(IpAddr::from(ip), move |request: &Request| {
            if request.path == "/robots.txt" {
                return Reply::new(404);
            }
            let reply = Reply::v2(&v2_challenge("http://127.0.0.1/"));
            if holding.load(Ordering::SeqCst) {
                let _ = tell.send(request.path.clone());
                return reply.drip(b" ", Duration::from_secs(1), 60);
            }
            reply
        })
        .await
        .expect("seller");
        HoldingSeller { seller, hold, arrived }
    }
}

fn agora(dir: &Path, args: &[&str]) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_agora"));
    command
        .arg("--data-dir")
        .arg(dir)
        .args(crate::support::store_flags(dir))
        .args(["--allow-cidr", "127.0.0.0/8", "--host-delay-ms", "0"])
        .args(args)
        .env_remove("AGORA_ALLOW_CIDRS")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    command
}

async fn integrity_ok(dir: &Path) {
    if crate::support::postgres_store().is_some() {
        return; // PostgreSQL's own recovery keeps its files consistent; there is no file of ours to check.
    }
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(dir.join("agora.db"))
        .connect()
        .await
        .expect("open after crash");
    let verdict: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&mut conn).await.expect("check");
    assert_eq!(verdict, "ok");
    conn.close().await.expect("close");
}

async fn open_store(dir: &Path) -> agora::db::Store {
    let options = crate::support::options(dir, &[]);
    agora::db::Store::open_for(&options).await.expect("store opens")
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_during_bulk_registration_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().expect("temp dir");
    let quick: Vec<Switchable> = start_all(
        (41..44).map(|last| Switchable::start([127, 0, 0, last], Reply::v2(&v2_challenge("http://127.0.0.1/")))),
    )
    .await;
    let mut holder = HoldingSeller::start([127, 0, 0, 44]).await;
    let mut lines = Vec::new();
    for i in 0..12 {
        for seller in &quick {
            lines.push(seller.seller.url(&format!("/paid/{i}")));
        }
    }
    lines.push(holder.seller.url("/hold/1"));
    lines.push(format!("{} POST", holder.seller.url("/hold/2")));
    let file = dir.path().join("urls.txt");
    std::fs::write(&file, format!("# many endpoints\n{}\n", lines.join("\n"))).expect("write list");

    let data = dir.path().join("data");
    let mut child = agora(&data, &["register", "--from-file", file.to_str().expect("path")]).spawn().expect("spawn");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut registered_line = None;
    let mut results = Vec::new();
    let mut hold_arrived = false;
    // Kill once the registrations are acknowledged, a third of the results are out, and the
    // holding seller is mid-answer.
    while registered_line.is_none() || results.len() < 12 || !hold_arrived {
        tokio::select! {
            line = stdout.next_line() => {
                let line = line.expect("read").expect("agora exited before the kill");
                if line.starts_with("registered ") {
                    registered_line = Some(line);
                } else if line.contains(" #") {
                    results.push(line);
                }
            }
            Some(_) = holder.arrived.recv() => hold_arrived = true,
        }
    }
    child.start_kill().expect("SIGKILL");
    child.wait().await.expect("reaped");
    assert_eq!(registered_line.as_deref(), Some("registered 38 services (38 new, 0 already known); 0 lines refused"));

    integrity_ok(&data).await;
    let store = open_store(&data).await;
    let all = services::all(store.read()).await.expect("services");
    assert_eq!(all.len(), 38, "every acknowledged registration survived");
    for line in &results {
        // "<status> #<id> <METHOD> <url>"
        let mut parts = line.split_whitespace();
        let status = parts.next().expect("status");
        let id: i64 = parts.next().and_then(|p| p.strip_prefix('#')).and_then(|p| p.parse().ok()).expect("id");
        let row = all.iter().find(|s| s.id == id).expect("printed service stored");
        assert_eq!(row.status.as_str(), status, "{line}");
        assert!(row.last_probed_at.is_some());
    }
    let held: Vec<_> = all.iter().filter(|s| s.url.contains("/hold/")).collect();
    assert!(held.iter().all(|s| s.status.as_str() == "pending" && s.last_probed_at.is_none()), "{held:?}");
    // Results may have been recorded after the last line the test read; none is lost either way.
    let left = all.iter().filter(|s| s.last_probed_at.is_none()).count();
    assert!(left <= 38 - results.len());
    store.close().await;

    // Restart: the crawl probes exactly what was left, and everything ends up listed.
    holder.hold.store(false, Ordering::SeqCst);
    let output = agora(&data, &["crawl", "--once"]).output().await.expect("crawl");
    assert!(output.status.success());
    let summary = String::from_utf8(output.stdout).expect("utf8");
    assert!(summary.starts_with(&format!("probed {left} ")), "{summary}");
    let store = open_store(&data).await;
    let all = services::all(store.read()).await.expect("services");
    assert!(all.iter().all(|s| s.status.as_str() == "listed"), "{all:?}");
    store.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_during_a_crawl_then_the_crawl_resumes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let quick: Vec<Switchable> = start_all(
        (51..56).map(|last| Switchable::start([127, 0, 0, last], Reply::v2(&v2_challenge("http://127.0.0.1/")))),
    )
    .await;
    let mut holder = HoldingSeller::start([127, 0, 0, 56]).await;
    let mut new = Vec::new();
    for i in 0..40 {
        for seller in &quick {
            let host = seller.seller.addr().ip().to_string();
            new.push(NewService { url: seller.seller.url(&format!("/p/{i}")), method: "GET".into(), host });
        }
    }
    new.push(NewService { url: holder.seller.url("/hold"), method: "GET".into(), host: "127.0.0.56".into() });
    let store = open_store(&data).await;
    store.writer().register(new, T0).await.expect("stored");
    store.close().await;

    let mut child = agora(&data, &["crawl", "--once"]).spawn().expect("spawn");
    holder.arrived.recv().await.expect("the holding seller was reached");
    child.start_kill().expect("SIGKILL");
    child.wait().await.expect("reaped");

    integrity_ok(&data).await;
    let store = open_store(&data).await;
    let done_before =
        services::all(store.read()).await.expect("all").iter().filter(|s| s.last_probed_at.is_some()).count();
    store.close().await;

    holder.hold.store(false, Ordering::SeqCst);
    let output = agora(&data, &["crawl", "--once"]).output().await.expect("crawl");
    assert!(output.status.success());
    let summary = String::from_utf8(output.stdout).expect("utf8");
    assert!(summary.starts_with(&format!("probed {} ", 201 - done_before)), "{summary} after {done_before} done");
    let store = open_store(&data).await;
    let all = services::all(store.read()).await.expect("all");
    assert!(all.iter().all(|s| s.status.as_str() == "listed" && s.last_probed_at.is_some()));
    store.close().await;
}

async fn start_all<F: Future<Output = Switchable>>(starts: impl Iterator<Item = F>) -> Vec<Switchable> {
    let mut out = Vec::new();
    for start in starts {
        out.push(start.await);
    }
    out
}

/// SIGKILL `agora import` while the facilitator holds its second page: the source and every
/// service of the first page survive (their writes are durable), and the next `serve` resumes
/// the import (a run that never ended is due at once) and finishes it.
#[tokio::test(flavor = "multi_thread")]
async fn sigkill_during_an_import_loses_no_source_and_resumes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sellers: Vec<Switchable> = start_all(
        (81..85).map(|last| Switchable::start([127, 0, 0, last], Reply::v2(&v2_challenge("http://127.0.0.1/")))),
    )
    .await;
    let urls: Vec<String> = sellers.iter().map(|s| s.seller.url("/paid")).collect();
    let hold = Arc::new(AtomicBool::new(true));
    let (tell, mut arrived) = mpsc::unbounded_channel();
    let (holding, pages) = (Arc::clone(&hold), urls.clone());
    let facilitator = Seller::start(IpAddr::from([127, 0, 0, 85]), move |request: &Request| {
        if request.path == "/robots.txt" {
            return Reply::new(404);
        }
        let second = request.path.contains("offset=2");
        let items: Vec<serde_json::Value> = pages[if second { 2..4 } else { 0..2 }]
            .iter()
            .map(|url| serde_json::json!({"resource": url, "type": "http", "x402Version": 2, "accepts": []}))
            .collect();
        let body = serde_json::json!({"x402Version": 2, "items": items, "pagination": {"total": 4}}).to_string();
        let reply = Reply::new(200).header("content-type", "application/json").body(body);
        if second && holding.load(Ordering::SeqCst) {
            let _ = tell.send(());
            return reply.drip(b" ", Duration::from_secs(1), 60);
        }
        reply
    })
    .await
    .expect("facilitator");

    let data = dir.path().join("data");
    let base = facilitator.url("");
    let mut child = agora(&data, &["import", &base, "--kind", "facilitator"]).spawn().expect("spawn");
    arrived.recv().await.expect("the second page was asked for");
    child.start_kill().expect("SIGKILL");
    child.wait().await.expect("reaped");

    integrity_ok(&data).await;
    let store = open_store(&data).await;
    let stored = agora::db::sources::all(store.read()).await.expect("sources");
    assert_eq!(stored.len(), 1, "the source survived");
    assert_eq!(stored[0].last_run_at, None, "its run never ended");
    let services = services::all(store.read()).await.expect("services");
    assert_eq!(services.len(), 2, "the first page's services survived");
    store.close().await;

    // The next start resumes it.
    hold.store(false, Ordering::SeqCst);
    let clock = agora::clock::ManualClock::new(T0);
    let app = crate::support::open_app(&crate::support::loopback_options(&data), &clock).await;
    assert_eq!(app.state.catalog.run_due_sources().await.expect("due"), 1);
    app.state.catalog.source_finished(stored[0].id).await;
    let source = app.state.catalog.source(stored[0].id).await.expect("read").expect("stored");
    assert_eq!(source.row.last_outcome.as_deref(), Some("ok"));
    assert_eq!(source.row.last_counts.as_ref().map(|c| c["found"].clone()), Some(serde_json::json!(4)));
    assert_eq!(services::all(app.store.read()).await.expect("services").len(), 4);
    app.shutdown().await;
}
