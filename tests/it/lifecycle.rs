//! The full lifecycle against a real loopback seller whose behaviour the test changes, driven by
//! a manual clock (no sleeping): valid → price change → failing (degraded) → failing for the
//! whole window (delisted) → valid again (listed). Every transition and change is recorded.

use crate::support::{Switchable, T0, loopback_options, open_app, service};
use agora::clock::ManualClock;
use agora::db::history;
use agora::db::services;
use agora::jobs::register::register;
use agora::jobs::scheduler::crawl_once;
use agora::lifecycle::Status;
use agora_crawler::testkit::{Reply, v2_challenge};
use std::time::Duration;

fn priced(amount: &str) -> Reply {
    let mut challenge = v2_challenge("http://127.0.0.1/weather");
    challenge["accepts"][0]["amount"] = amount.into();
    Reply::v2(&challenge)
}

#[tokio::test(flavor = "multi_thread")]
async fn valid_price_change_degraded_delisted_and_back() {
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = ManualClock::new(T0);
    let app = open_app(&loopback_options(dir.path()), &clock).await;
    let seller = Switchable::start([127, 0, 0, 1], priced("1000")).await;
    let url = seller.seller.url("/weather");

    // Registration lists it at once.
    let registration = register(&app.dispatcher, &url, None).await.expect("registered");
    assert!(registration.created);
    let id = registration.service.id;
    assert_eq!(registration.service.status, Status::Listed);
    let offers = services::offers(app.store.read(), id).await.expect("offers");
    assert_eq!((offers[0].amount.as_str(), offers[0].usd.as_deref()), ("1000", Some("0.001")));
    let first_interval = service(&app, id).await.interval_ms;

    // Nothing is due before the next due time.
    let early = crawl_once(&app.dispatcher, |_, _, _| {}).await.expect("crawl");
    assert_eq!(early.probed, 0);

    // Price change: recorded, and the interval shrinks.
    seller.set(priced("2500"));
    clock.set(service(&app, id).await.next_due_at);
    let summary = crawl_once(&app.dispatcher, |_, _, _| {}).await.expect("crawl");
    assert_eq!((summary.probed, summary.listed), (1, 1));
    let changes = history::offer_changes(app.store.read(), id).await.expect("changes");
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(
        (changes[0].kind.as_str(), changes[0].old_value.as_deref(), changes[0].new_value.as_deref()),
        ("price", Some("1000"), Some("2500"))
    );
    let after_change = service(&app, id).await;
    assert!(after_change.interval_ms < first_interval, "a change shortens the recrawl interval");
    let offers = services::offers(app.store.read(), id).await.expect("offers");
    assert_eq!(offers[0].usd.as_deref(), Some("0.0025"));

    // Failing: listed while the streak is short, degraded at the third failure.
    seller.set(Reply::new(500).body("oops"));
    let mut statuses = Vec::new();
    for _ in 0..3 {
        clock.set(service(&app, id).await.next_due_at);
        crawl_once(&app.dispatcher, |_, _, _| {}).await.expect("crawl");
        statuses.push(service(&app, id).await.status);
    }
    assert_eq!(statuses, [Status::Listed, Status::Listed, Status::Degraded]);
    let degraded = service(&app, id).await;
    assert_eq!(
        (degraded.verdict.as_deref(), degraded.reason_code.as_deref()),
        (Some("fetch_error"), Some("status_500"))
    );
    // The last valid offers stay on record while degraded.
    assert_eq!(services::offers(app.store.read(), id).await.expect("offers").len(), 1);

    // Failing for the whole window (7 days by default): delisted.
    let failing_since = clock_of_first_failure(&app, id).await;
    let mut rounds = 0;
    while service(&app, id).await.status == Status::Degraded {
        rounds += 1;
        assert!(rounds < 100, "delisting never happened");
        clock.set(service(&app, id).await.next_due_at);
        crawl_once(&app.dispatcher, |_, _, _| {}).await.expect("crawl");
    }
    let delisted = service(&app, id).await;
    assert_eq!(delisted.status, Status::Delisted);
    let window = Duration::from_secs(7 * 24 * 3600).as_millis() as i64;
    assert!(delisted.status_since - failing_since >= window, "delisted only after the failure window");
    // Backoff kept the failing host from being hammered: a few dozen probes over a week.
    assert!(rounds < 60, "{rounds} probes in the failure window");

    // Fixed: the slow recheck notices and lists it again.
    seller.set(priced("2500"));
    clock.set(delisted.next_due_at);
    crawl_once(&app.dispatcher, |_, _, _| {}).await.expect("crawl");
    let back = service(&app, id).await;
    assert_eq!((back.status, back.failure_streak), (Status::Listed, 0));

    let transitions: Vec<(Option<String>, String)> = history::status_changes(app.store.read(), id)
        .await
        .expect("history")
        .into_iter()
        .map(|c| (c.old_status, c.new_status))
        .collect();
    let expected = [
        (None, "pending"),
        (Some("pending"), "listed"),
        (Some("listed"), "degraded"),
        (Some("degraded"), "delisted"),
        (Some("delisted"), "listed"),
    ];
    let expected: Vec<(Option<String>, String)> =
        expected.iter().map(|(a, b)| (a.map(str::to_string), b.to_string())).collect();
    assert_eq!(transitions, expected);
    let probes = history::probe_count(app.store.read(), id).await.expect("count");
    assert_eq!(probes as usize, seller.requests_to("/weather"), "every probe is recorded");
    app.shutdown().await;
}

async fn clock_of_first_failure(app: &agora::app::App, id: i64) -> i64 {
    let changes = history::status_changes(app.store.read(), id).await.expect("history");
    let degraded = changes.iter().find(|c| c.new_status == "degraded").expect("degraded transition");
    // The streak started two backoff steps before the degrade transition (5 + 10 minutes, ±20 %).
    let row: (Option<i64>,) =
        agora::on_pool!(app.store.read(), |p| sqlx::query_as("SELECT failing_since FROM services WHERE id = $1")
            .bind(id)
            .fetch_one(p)
            .await)
        .expect("failing_since");
    let since = row.0.expect("failing");
    assert!(since < degraded.changed_at);
    since
}
