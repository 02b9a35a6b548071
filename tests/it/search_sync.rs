//! The index follows SQLite: registrations, price changes, degrade/delist and recovery become
//! what search answers, by a flush in tests or by the indexer's own commit (awaited through its
//! applied-sequence watch, never a sleep); and the index rebuilds itself when missing, corrupt
//! or from another schema version.

use crate::catalog::{Catalog, ServiceSpec, challenge, random_specs};
use crate::support::{loopback_options, open_app};
use agora::app::App;
use agora::clock::ManualClock;
use agora::db::search_feed;
use agora::search::results::search;
use agora::search::{Found as SearchResults, SearchIndex, SearchRequest};
use agora_crawler::testkit::Reply;
use std::path::Path;
use std::time::Duration;

async fn find(app: &App, pairs: &[(&str, &str)]) -> SearchResults {
    let request = SearchRequest::from_pairs(pairs.iter().copied(), &[]).expect("valid");
    search(&app.search, app.store.read(), &request).await.expect("search runs")
}

fn ids(results: &SearchResults) -> Vec<i64> {
    results.hits.iter().map(|h| h.service.id).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn registrations_price_changes_and_delisting_reach_the_index() {
    let flags = ["--degrade-after", "1", "--delist-after-hours", "1"];
    let mut catalog = Catalog::build_with(
        vec![ServiceSpec::new("/weather", "Weather", "Forecasts for any city", &["weather"], "city")],
        &flags,
    )
    .await;
    catalog.search().flush().await.expect("flush");
    let weather = catalog.specs[0].id;
    assert_eq!(ids(&find(&catalog.app, &[("q", "weather")]).await), [weather]);

    // Without a flush: the indexer commits on its own shortly after the registration commits.
    let mut applied = catalog.search().applied_seq();
    let tides = catalog.add(ServiceSpec::new("/tides", "Tide tables", "High and low water", &["sea"], "port")).await;
    // The position that includes the registration's commit, on either store.
    let target = *catalog.app.store.writer().committed_seq().borrow();
    tokio::time::timeout(Duration::from_secs(10), applied.wait_for(|seq| *seq >= target))
        .await
        .expect("the indexer commits within its delay")
        .expect("indexer alive");
    assert_eq!(ids(&find(&catalog.app, &[("q", "tide")]).await), [catalog.specs[tides].id]);

    // A price change: the index filters on the new price only.
    catalog.specs[0].offers[0].amount = 250_000;
    let spec = catalog.specs[0].clone();
    catalog.serve(&spec);
    catalog.reprobe(0).await;
    catalog.search().flush().await.expect("flush");
    assert!(find(&catalog.app, &[("q", "weather"), ("max_usd", "0.001")]).await.hits.is_empty());
    let repriced = find(&catalog.app, &[("q", "weather"), ("min_usd", "0.25"), ("max_usd", "0.25")]).await;
    assert_eq!(ids(&repriced), [weather]);
    assert_eq!(repriced.hits[0].offers[0].amount, "250000");

    // Failing: degraded (hidden by default, shown on request), then delisted (gone).
    catalog.set_reply(&spec, Reply::new(500));
    catalog.reprobe(0).await;
    catalog.search().flush().await.expect("flush");
    assert!(find(&catalog.app, &[("q", "weather")]).await.hits.is_empty());
    assert_eq!(ids(&find(&catalog.app, &[("q", "weather"), ("status", "degraded")]).await), [weather]);
    assert_eq!(ids(&find(&catalog.app, &[("q", "weather"), ("status", "all")]).await), [weather]);
    catalog.clock.advance(Duration::from_secs(2 * 3600));
    catalog.reprobe(0).await;
    catalog.search().flush().await.expect("flush");
    assert!(find(&catalog.app, &[("q", "weather"), ("status", "all")]).await.hits.is_empty());
    assert_eq!(catalog.search().num_docs(), 1);

    // Fixed: listed and findable again.
    catalog.serve(&spec);
    catalog.reprobe(0).await;
    catalog.search().flush().await.expect("flush");
    assert_eq!(ids(&find(&catalog.app, &[("q", "weather")]).await), [weather]);
    catalog.app.shutdown().await;
}

/// Totals and network facets over everything searchable, next to the same counts in SQL.
pub async fn assert_index_matches_sqlite(app: &App) {
    let pool = app.store.read();
    let expected = search_feed::searchable_count(pool).await.expect("count");
    let search = &app.search;
    assert_eq!(search.num_docs(), u64::try_from(expected).expect("count"), "documents");
    let everything = find(app, &[("status", "all"), ("testnet", "include")]).await;
    assert_eq!(everything.total, u64::try_from(expected).expect("count"), "every searchable service has offers");
    let per_network: Vec<(String, i64)> = agora::on_pool!(pool, |p| sqlx::query_as(
        "SELECT o.network, COUNT(DISTINCT o.service_id) FROM offers o JOIN services s ON s.id = o.service_id
         WHERE s.status IN ('listed', 'degraded') GROUP BY o.network ORDER BY o.network",
    )
    .fetch_all(p)
    .await)
    .expect("sql");
    let mut facets: Vec<(String, i64)> =
        everything.facets.network.iter().map(|f| (f.value.clone(), i64::try_from(f.count).expect("count"))).collect();
    facets.sort();
    assert_eq!(facets, per_network);
}

async fn reopen(dir: &Path, clock: &ManualClock) -> App {
    open_app(&loopback_options(dir), clock).await
}

fn meta_path(dir: &Path) -> std::path::PathBuf {
    SearchIndex::dir(dir).join("meta.json")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_corrupt_or_outdated_index_is_rebuilt_on_start() {
    let catalog = Catalog::build(random_specs(30, 11)).await;
    catalog.search().flush().await.expect("flush");
    let queries: [&[(&str, &str)]; 3] = [
        &[("testnet", "include")],
        &[("q", "quokka"), ("sort", "price_asc")],
        &[("network", "base"), ("sort", "uptime")],
    ];
    let mut before = Vec::new();
    for q in queries {
        before.push(ids(&find(&catalog.app, q).await));
    }
    let Catalog { app, dir, clock, .. } = catalog;
    app.shutdown().await;
    let index = SearchIndex::dir(dir.path());

    type Harm<'a> = Box<dyn Fn() + 'a>;
    let damage: [(&str, Harm); 4] = [
        ("deleted", Box::new(|| std::fs::remove_dir_all(&index).expect("delete"))),
        ("garbage meta.json", Box::new(|| std::fs::write(meta_path(dir.path()), b"{not json").expect("write"))),
        (
            "another schema version",
            Box::new(|| {
                let text = std::fs::read_to_string(meta_path(dir.path())).expect("read");
                let mut meta: serde_json::Value = serde_json::from_str(&text).expect("json");
                meta["payload"] = serde_json::Value::String(r#"{"schema":0,"seq":1}"#.into());
                std::fs::write(meta_path(dir.path()), meta.to_string()).expect("write");
            }),
        ),
        (
            "a segment's store file removed",
            Box::new(|| {
                for entry in std::fs::read_dir(&index).expect("list") {
                    let path = entry.expect("entry").path();
                    if path.extension().is_some_and(|e| e == "store") {
                        std::fs::remove_file(path).expect("remove");
                    }
                }
            }),
        ),
    ];
    for (what, harm) in damage {
        harm();
        let app = reopen(dir.path(), &clock).await;
        let mut after = Vec::new();
        for q in queries {
            after.push(ids(&find(&app, q).await));
        }
        assert_eq!(after, before, "after the index was {what}");
        assert_index_matches_sqlite(&app).await;
        app.shutdown().await;
        let meta = std::fs::read_to_string(meta_path(dir.path())).expect("index written");
        let schema = format!(r#"\"schema\":{}"#, agora::search::schema::SCHEMA_VERSION);
        assert!(meta.contains(&schema), "{what}: {meta}");
    }
}

fn agora(data: &Path, args: &[&str]) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_agora"));
    command
        .arg("--data-dir")
        .arg(data)
        .args(crate::support::store_flags(data))
        .args(["--allow-cidr", "127.0.0.0/8", "--host-delay-ms", "0"])
        .args(args)
        .env_remove("AGORA_ALLOW_CIDRS")
        .env_remove("RUST_LOG")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    command
}

/// Reads `stream` line by line until one contains `needle`; returns that line.
async fn wait_for_line(stream: impl tokio::io::AsyncRead + Unpin, needle: &str) -> String {
    use tokio::io::AsyncBufReadExt;
    let mut lines = tokio::io::BufReader::new(stream).lines();
    let find = async {
        loop {
            let line = lines.next_line().await.expect("read").unwrap_or_else(|| panic!("exited before {needle:?}"));
            if line.contains(needle) {
                return line;
            }
        }
    };
    // A process that runs on without saying it fails the test rather than hanging it.
    tokio::time::timeout(Duration::from_secs(60), find).await.unwrap_or_else(|_| panic!("no {needle:?} within 60 s"))
}

/// The search index's applied sequence, as `serve` reports it on `/healthz`.
async fn served_applied_seq(base: &str) -> i64 {
    let body = reqwest::get(format!("{base}/healthz")).await.expect("healthz").text().await.expect("body");
    let health: serde_json::Value = serde_json::from_str(&body).expect("json");
    health["search"]["applied_seq"].as_i64().expect("applied_seq")
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_during_a_rebuild_or_while_indexing_then_consistent_after_restart() {
    use tokio::io::AsyncBufReadExt;
    let catalog = Catalog::build(random_specs(60, 5)).await;
    // More services for the CLI to register while `serve` runs, answering in ~20 ms so the
    // registrations span several of the indexer's polls.
    let mut urls = Vec::new();
    for mut spec in random_specs(150, 6) {
        spec.path = format!("/more{}", spec.path);
        spec.version = 2;
        let url = catalog.url(&spec);
        catalog.set_reply(&spec, Reply::v2(&challenge(&spec, &url)).drip(b" ", Duration::from_millis(10), 2));
        urls.push(url);
    }
    let list = catalog.dir.path().join("urls.txt");
    std::fs::write(&list, urls.join("\n")).expect("write list");
    let Catalog { app, dir, clock, sellers, .. } = catalog;
    app.shutdown().await;
    let data = dir.path();

    // 1. Killed while rebuilding a deleted index at start-up.
    std::fs::remove_dir_all(SearchIndex::dir(data)).expect("delete index");
    let mut serve = agora(data, &["serve", "--listen", "127.0.0.1:0"]).spawn().expect("spawn serve");
    let stderr = serve.stderr.take().expect("stderr");
    wait_for_line(stderr, "rebuilding the search index").await;
    serve.start_kill().expect("SIGKILL");
    serve.wait().await.expect("reaped");
    let app = reopen(data, &clock).await;
    app.search.flush().await.expect("flush");
    assert_index_matches_sqlite(&app).await;
    app.shutdown().await;

    // 2. Killed while its indexer follows registrations committed by another process.
    let mut serve = agora(data, &["serve", "--listen", "127.0.0.1:0"]).spawn().expect("spawn serve");
    let listening = wait_for_line(serve.stdout.take().expect("stdout"), "agora listening on").await;
    let base = listening.rsplit(' ').next().expect("address").to_string();
    let initial = served_applied_seq(&base).await;
    let mut register = agora(data, &["register", "--from-file", list.to_str().expect("utf-8")]).spawn().expect("spawn");
    let mut results = tokio::io::BufReader::new(register.stdout.take().expect("stdout")).lines();
    // Kill once serve has indexed some of the new registrations and more are still coming.
    let mut seen = 0;
    loop {
        let line = results.next_line().await.expect("read").expect("serve indexed nothing while register ran");
        seen += usize::from(line.contains(" #"));
        if seen >= 20 && served_applied_seq(&base).await > initial {
            break;
        }
    }
    assert!(seen < 150, "killed before the registrations ended");
    serve.start_kill().expect("SIGKILL");
    serve.wait().await.expect("reaped");
    while results.next_line().await.expect("read").is_some() {}
    assert!(register.wait().await.expect("register exits").success());

    let app = reopen(data, &clock).await;
    app.search.flush().await.expect("flush");
    assert_index_matches_sqlite(&app).await;
    assert_eq!(search_feed::searchable_count(app.store.read()).await.expect("count"), 210);
    app.shutdown().await;
    drop(sellers);
}

#[tokio::test(flavor = "multi_thread")]
async fn reindex_rebuilds_from_sqlite_and_refuses_while_serve_holds_the_index() {
    let catalog = Catalog::build(random_specs(12, 21)).await;
    let Catalog { app, dir, clock, .. } = catalog;
    app.shutdown().await;
    let data = dir.path();
    std::fs::write(meta_path(data), b"{damaged").expect("damage the index");

    let output = agora(data, &["reindex"]).output().await.expect("reindex runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8(output.stdout).expect("utf-8");
    assert!(stdout.starts_with("indexed 12 services into "), "{stdout}");
    assert!(!data.join("index.rebuild").exists(), "the staging directory was renamed into place");

    let mut serve = agora(data, &["serve", "--listen", "127.0.0.1:0"]).spawn().expect("spawn serve");
    wait_for_line(serve.stdout.take().expect("stdout"), "agora listening on").await;
    let refused = agora(data, &["reindex"]).output().await.expect("reindex runs");
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("in use by another agora process"), "{stderr}");
    serve.start_kill().expect("SIGKILL");
    serve.wait().await.expect("reaped");

    let app = reopen(data, &clock).await;
    assert_index_matches_sqlite(&app).await;
    app.shutdown().await;
}
