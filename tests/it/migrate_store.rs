//! `agora migrate-store`: a SQLite catalog with history moves into PostgreSQL whole — the same
//! services, offers, history and search answers — the counts are verified, and a second copy
//! into the now non-empty database, or into a bad URL, is refused with exit status 2.

use crate::catalog::{Catalog, relevance_specs};
use crate::cli::agora;
use crate::nodes::Cluster;
use crate::support::{open_app, sqlite_options};
use agora::clock::ManualClock;
use agora::db::maintain::Retention;
use agora::db::services::{self, ServiceRow};
use agora::db::{Store, history};
use agora::search::SearchRequest;
use agora::search::results::search;
use agora_crawler::testkit::Reply;
use std::time::Duration;

/// What a service is, whichever store holds it (the change sequence is the store's own).
fn comparable(mut rows: Vec<ServiceRow>) -> Vec<ServiceRow> {
    for row in &mut rows {
        row.change_seq = 0;
    }
    rows
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sqlite_catalog_moves_to_postgres_whole_and_verified() {
    // A catalog with history: registrations, a price change, a failure, rolled-up days.
    let mut catalog = Catalog::build_on_sqlite(relevance_specs()).await;
    catalog.specs[0].offers[0].amount = 250_000;
    let repriced = catalog.specs[0].clone();
    catalog.serve(&repriced);
    catalog.reprobe(0).await;
    catalog.set_reply(&catalog.specs[1].clone(), Reply::new(500));
    catalog.clock.advance(Duration::from_secs(2 * 86_400));
    catalog.reprobe(1).await;
    let retention = Retention { now: catalog.clock_now(), keep: Duration::from_secs(30 * 86_400) };
    catalog.app.store.writer().maintain(retention).await.expect("maintain");
    // A source that lists two of them (sources, service_sources), imported beside the app.
    let list = catalog.dir.path().join("list.txt");
    let urls: Vec<String> = catalog.specs[2..4].iter().map(|spec| catalog.url(spec)).collect();
    std::fs::write(&list, urls.join("\n")).expect("list");
    let data = catalog.dir.path().to_str().expect("utf-8").to_string();
    let list_path = list.to_str().expect("utf-8");
    let import = agora(&["--data-dir", &data, "--allow-cidr", "127.0.0.0/8", "import", list_path], &[]).await;
    assert_eq!(import.code, 0, "{}", import.stderr);
    catalog.search().flush().await.expect("flush");
    let request = SearchRequest::from_pairs([("q", "weather")], &[]).expect("valid");
    let found = search(catalog.search(), catalog.app.store.read(), &request).await.expect("search");
    let sqlite_hits: Vec<i64> = found.hits.iter().map(|h| h.service.id).collect();
    assert!(sqlite_hits.len() >= 2, "{sqlite_hits:?}");
    let before = comparable(services::all(catalog.app.store.read()).await.expect("services"));
    let first = catalog.specs[0].id;
    let offers_before = services::offers(catalog.app.store.read(), first).await.expect("offers");
    let history_before = history::offer_changes(catalog.app.store.read(), first).await.expect("history");
    let daily_before = history::daily(catalog.app.store.read(), first).await.expect("daily");
    assert!(!history_before.is_empty() && !daily_before.is_empty(), "the source has history");
    let sources_before = agora::db::sources::all(catalog.app.store.read()).await.expect("sources");
    let listed = catalog.specs[2].id;
    let mentions_before = agora::db::sources::of_service(catalog.app.store.read(), listed).await.expect("mentions");
    assert_eq!(mentions_before.len(), 1, "listed by the source");
    let Catalog { app, dir, .. } = catalog;
    app.shutdown().await;

    let cluster = Cluster::start();
    let url = cluster.database().await;
    let data = dir.path().to_str().expect("utf-8");
    let run = agora(&["--data-dir", data, "migrate-store", "--to", &url], &[]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with(&format!("copied {} services (", before.len())), "{}", run.stdout);
    assert!(run.stdout.contains("every count verified"), "{}", run.stdout);

    let store = Store::open_postgres(&url).await.expect("open the copy");
    assert_eq!(comparable(services::all(store.read()).await.expect("services")), before);
    assert_eq!(services::offers(store.read(), first).await.expect("offers"), offers_before);
    assert_eq!(history::offer_changes(store.read(), first).await.expect("history"), history_before);
    assert_eq!(history::daily(store.read(), first).await.expect("daily"), daily_before);
    assert_eq!(agora::db::sources::all(store.read()).await.expect("sources"), sources_before);
    assert_eq!(agora::db::sources::of_service(store.read(), listed).await.expect("mentions"), mentions_before);
    // The planner has statistics at once (the copy ends with VACUUM (ANALYZE)), not only after
    // autovacuum wakes up.
    let agora::db::Pool::Postgres(pg) = store.read() else { unreachable!("a PostgreSQL store") };
    let analyzed: bool =
        sqlx::query_scalar("SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'services'")
            .fetch_one(pg)
            .await
            .expect("statistics");
    assert!(analyzed, "services analyzed after the copy");
    store.close().await;

    // Served from PostgreSQL (a new data directory: its index is built from the copy), the
    // same search finds the same services; a new registration takes a fresh id.
    let node_dir = tempfile::tempdir().expect("dir");
    let flags = ["--database-url", url.as_str(), "--allow-cidr", "127.0.0.0/8", "--host-delay-ms", "0"];
    let pg = open_app(&sqlite_options(node_dir.path(), &flags), &ManualClock::new(crate::support::T0)).await;
    let found = search(&pg.search, pg.store.read(), &request).await.expect("search");
    assert_eq!(found.hits.iter().map(|h| h.service.id).collect::<Vec<_>>(), sqlite_hits);
    let new =
        agora::db::register::NewService { url: "http://127.0.0.9/new".into(), method: "GET".into(), host: "h".into() };
    let registered = pg.store.writer().register(vec![new], 0).await.expect("register");
    assert!(registered[0].created && registered[0].id > before.iter().map(|s| s.id).max().unwrap_or(0));
    pg.shutdown().await;

    // Into a database that holds a catalog: refused, nothing changed.
    let again = agora(&["--data-dir", data, "migrate-store", "--to", &url], &[]).await;
    assert_eq!(again.code, 2, "{}", again.stdout);
    assert!(again.stderr.contains("already holds a catalog"), "{}", again.stderr);
    // A bad URL, and a store flag where the source must be SQLite.
    let bad = agora(&["--data-dir", data, "migrate-store", "--to", "mysql://x@y/z"], &[]).await;
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("expected postgres://"), "{}", bad.stderr);
    let confused = agora(&["--data-dir", data, "--database-url", &url, "migrate-store", "--to", &url], &[]).await;
    assert_eq!(confused.code, 2);
    assert!(confused.stderr.contains("leave --database-url"), "{}", confused.stderr);
}
