//! Registration: bad input is a clear error with nothing stored; a duplicate maps to the
//! existing service (re-probed), never a second row; history is rolled up and pruned.

use crate::support::{Switchable, T0, loopback_options, open_app, options, service};
use agora::clock::ManualClock;
use agora::db::{history, services};
use agora::jobs::register::{RegisterError, register};
use agora::jobs::scheduler::{crawl_once, maintain};
use agora::lifecycle::Status;
use agora_crawler::testkit::{Reply, v2_challenge};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_is_refused_with_a_reason_and_nothing_is_stored() {
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = ManualClock::new(T0);
    // No --allow-cidr: the public-only policy of a real deployment.
    let app = open_app(&options(dir.path(), &[]), &clock).await;
    let cases = [
        ("not a url", None, "url_invalid"),
        ("ftp://example.com/file", None, "url_scheme_unsupported"),
        ("javascript:alert(1)", None, "url_scheme_unsupported"),
        ("http://user:secret@example.com/", None, "url_userinfo"),
        ("http://127.0.0.1:8080/paid", None, "address_refused"),
        ("http://0x7f.1/paid", None, "address_refused"),
        ("http://[::1]/paid", None, "address_refused"),
        ("http://169.254.169.254/latest/meta-data", None, "address_refused"),
        ("http://10.1.2.3/paid", None, "address_refused"),
        ("http://localhost:3000/paid", None, "address_refused"),
        ("https://example.com/paid", Some("HEAD"), "method_unsupported"),
        ("https://example.com/paid", Some("CONNECT"), "method_unsupported"),
    ];
    let long = format!("https://example.com/{}", "a".repeat(2100));
    for (url, method, code) in cases.iter().copied().chain([(long.as_str(), None, "url_too_long")]) {
        match register(&app.dispatcher, url, method).await {
            Err(RegisterError::Refused(report)) => {
                assert_eq!(report.verdict.as_str(), "refused");
                assert_eq!(report.problems[0].code, code, "{url}");
                assert!(!report.problems[0].message.is_empty());
            }
            other => panic!("{url}: expected a refusal, got {other:?}"),
        }
    }
    assert!(services::all(app.store.read()).await.expect("query").is_empty(), "nothing stored");
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_duplicate_registration_re_probes_the_same_service() {
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = ManualClock::new(T0);
    let app = open_app(&loopback_options(dir.path()), &clock).await;
    let seller = Switchable::start([127, 0, 0, 1], Reply::new(404)).await;
    let url = seller.seller.url("/weather?city=Paris");

    let first = register(&app.dispatcher, &url, Some("get")).await.expect("registered");
    assert!(first.created);
    assert_eq!(first.service.status, Status::Rejected);
    assert_eq!(first.service.reason_code.as_deref(), Some("status_404"));

    // The seller fixes the endpoint and registers again, spelled differently: same service.
    seller.set(Reply::v2(&v2_challenge(&url)));
    let spelled = url.replace("http://", "HTTP://") + "#section";
    let second = register(&app.dispatcher, &spelled, Some("GET")).await.expect("registered again");
    assert!(!second.created);
    assert_eq!(second.service.id, first.service.id);
    assert_eq!(second.service.status, Status::Listed, "re-registering re-probes at once");
    assert_eq!(services::all(app.store.read()).await.expect("query").len(), 1);
    assert_eq!(history::probe_count(app.store.read(), first.service.id).await.expect("count"), 2);

    // Another method or query is another service.
    let post = register(&app.dispatcher, &url, Some("POST")).await.expect("registered");
    let london = register(&app.dispatcher, &url.replace("Paris", "London"), None).await.expect("registered");
    assert!(post.created && london.created);
    assert_eq!(services::all(app.store.read()).await.expect("query").len(), 3);
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn history_is_rolled_up_daily_and_raw_probes_pruned_after_retention() {
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = ManualClock::new(T0);
    let opts = options(dir.path(), &["--allow-cidr", "127.0.0.0/8", "--host-delay-ms", "0", "--retention-days", "2"]);
    let app = open_app(&opts, &clock).await;
    let seller = Switchable::start([127, 0, 0, 1], Reply::v2(&v2_challenge("http://127.0.0.1/"))).await;
    let id = register(&app.dispatcher, &seller.seller.url("/w"), None).await.expect("registered").service.id;
    // Probe across five days, failing on the third.
    let mut probes = 1;
    for day in 1..=4 {
        seller.set(if day == 3 { Reply::new(503) } else { Reply::v2(&v2_challenge("http://127.0.0.1/")) });
        clock.set(T0 + day * 86_400_000);
        app.store.writer().recrawl(id, clock_now(&clock)).await.expect("recrawl");
        crawl_once(&app.dispatcher, |_, _, _| {}).await.expect("crawl");
        probes += 1;
    }
    let before = history::uptime(app.store.read(), id, T0).await.expect("uptime");
    assert_eq!((before.probes, before.successes), (probes, probes - 1));

    let report = maintain(&app.dispatcher, Duration::from_secs(2 * 86_400)).await.expect("maintenance");
    assert_eq!(report.rollups_written, 4, "one rollup per finished day");
    let daily = history::daily(app.store.read(), id).await.expect("daily");
    assert_eq!(daily.iter().map(|d| (d.probes, d.successes)).collect::<Vec<_>>(), [(1, 1), (1, 1), (1, 1), (1, 0)]);
    assert!(daily.iter().take(3).all(|d| d.latency_p50_ms.is_some()));
    // Raw probes older than two days are gone (days 0 and 1); days 2 (exactly two days old), 3 and 4 remain.
    assert_eq!(history::probe_count(app.store.read(), id).await.expect("count"), 3);
    // Uptime still covers everything: rollups for finished days, raw probes for today.
    let after = history::uptime(app.store.read(), id, T0).await.expect("uptime");
    assert_eq!(after, before);
    assert_eq!(service(&app, id).await.status, Status::Listed);
    // A second pass writes nothing new.
    let again = maintain(&app.dispatcher, Duration::from_secs(2 * 86_400)).await.expect("maintenance");
    assert_eq!((again.rollups_written, again.probes_pruned), (0, 0));
    app.shutdown().await;
}

fn clock_now(clock: &ManualClock) -> i64 {
    use agora::clock::Clock;
    clock.now_ms()
}
