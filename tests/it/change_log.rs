//! The change log's upkeep on PostgreSQL: maintenance deletes changes older than a week and
//! records how far it trimmed; a node whose index position lies behind the trim rebuilds its
//! index when it starts instead of catching up through the gap (which would keep a listing the
//! other node hid and miss one it added, with the document count unchanged). On SQLite there is
//! no log to trim.

use crate::nodes::CountingSeller;
use crate::support::{T0, loopback_options, open_app, postgres_store, raw_pool};
use agora::app::App;
use agora::catalog::admin::Operator;
use agora::clock::ManualClock;
use agora::db::change_feed;
use agora::db::maintain::Retention;
use agora::search::SearchRequest;
use std::time::Duration;

async fn listed(app: &App, url: &str) -> i64 {
    let registration = app.state.catalog.register(url, None).await.expect("registers");
    let service = &registration.state.service;
    assert_eq!(service.status.as_str(), "listed", "{url}");
    service.id
}

async fn found(app: &App, q: &str) -> Vec<i64> {
    let request = SearchRequest::from_pairs([("q", q)], &[]).expect("valid");
    let found = app.state.catalog.search(&request).await.expect("search");
    found.hits.iter().map(|hit| hit.service.id).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn old_changes_are_trimmed_and_an_index_behind_the_trim_is_rebuilt_on_start() {
    let clock = ManualClock::new(T0);
    let seller = CountingSeller::start([127, 0, 0, 77], Duration::ZERO).await;
    let first_dir = tempfile::tempdir().expect("dir");
    let first_options = loopback_options(first_dir.path());
    let first = open_app(&first_options, &clock).await;
    let alpha = listed(&first, &seller.seller.url("/alpha")).await;
    first.search.flush().await.expect("flush");
    let behind = *first.search.applied_seq().borrow();
    first.shutdown().await;

    if postgres_store().is_none() {
        let app = open_app(&first_options, &clock).await;
        let report = app.store.writer().maintain(Retention { now: T0, keep: Duration::from_secs(86_400) }).await;
        assert_eq!(report.expect("maintenance").changes_trimmed, 0, "SQLite keeps no change log");
        assert!(!change_feed::trimmed_past(app.store.read(), 0).await.expect("check"));
        app.shutdown().await;
        return;
    }

    // A second node on the same database, with an index of its own, while the first is down:
    // it hides alpha and lists beta.
    let second_dir = tempfile::tempdir().expect("dir");
    let mut second_options = loopback_options(second_dir.path());
    second_options.database_url = first_options.database_url.clone();
    let second = open_app(&second_options, &clock).await;
    let beta = listed(&second, &seller.seller.url("/beta")).await;
    second.state.catalog.hide(&Operator::cli(), alpha, Some("test")).await.expect("hidden");
    second.search.flush().await.expect("flush");

    // A week passes: every change is old enough to go.
    let agora::db::Pool::Postgres(raw) = raw_pool(first_dir.path()).await else { unreachable!("PostgreSQL pass") };
    sqlx::query("UPDATE changes SET written_at = now() - interval '8 days'").execute(&raw).await.expect("age");
    let report = second.store.writer().maintain(Retention { now: T0, keep: Duration::from_secs(86_400) }).await;
    assert!(report.expect("maintenance").changes_trimmed >= 3, "alpha, beta and the hiding were logged");
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM changes").fetch_one(&raw).await.expect("count");
    assert_eq!(left, 0);
    let pool = second.store.read();
    assert!(change_feed::trimmed_past(pool, behind).await.expect("check"), "the first node's position was trimmed");
    assert!(!change_feed::trimmed_past(pool, *second.search.applied_seq().borrow()).await.expect("check"));
    // Newer changes are kept, and the node that is current keeps catching up from the log.
    let gamma = listed(&second, &seller.seller.url("/gamma")).await;
    second.search.flush().await.expect("flush");
    assert_eq!(found(&second, "gamma").await, [gamma]);
    let report = second.store.writer().maintain(Retention { now: T0, keep: Duration::from_secs(86_400) }).await;
    assert_eq!(report.expect("maintenance").changes_trimmed, 0, "a week's changes stay");
    second.shutdown().await;

    // The first node comes back: one document in its index and one listing in the store, but
    // not the same one. It rebuilds, so it shows beta and gamma and no longer alpha.
    let first = open_app(&first_options, &clock).await;
    assert_eq!(found(&first, "beta").await, [beta]);
    assert_eq!(found(&first, "gamma").await, [gamma]);
    assert!(found(&first, "alpha").await.is_empty(), "the hidden listing left the index");
    first.shutdown().await;
}
