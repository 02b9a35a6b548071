//! The quality score end to end: real sellers probed again and again (answering, failing,
//! re-pricing, changing payTo), the score and its parts on every hit, `sort=quality`, the bounded
//! blend into relevance, and latency judged against the service's category.

use crate::catalog::{Catalog, ServiceSpec, challenge};
use agora::quality::{Parts, Signals};
use agora::search::results::search;
use agora::search::{Found, SearchRequest};
use agora_crawler::testkit::Reply;

const PAY_TO_LATER: &str = "0x2222222222222222222222222222222222222222";

async fn run(catalog: &Catalog, pairs: &[(&str, &str)]) -> Found {
    let request = SearchRequest::from_pairs(pairs.iter().copied(), &[]).expect("valid parameters");
    search(catalog.search(), catalog.app.store.read(), &request).await.expect("search runs")
}

fn spec(path: &str, name: &str, description: &str) -> ServiceSpec {
    ServiceSpec::new(path, name, description, &["weather"], "city")
}

fn order(found: &Found, catalog: &Catalog) -> Vec<String> {
    let path = |id: i64| catalog.specs.iter().find(|s| s.id == id).map_or("?".into(), |s| s.path.clone());
    found.hits.iter().map(|h| path(h.service.id)).collect()
}

/// Parts the probes' counts decide (latency aside, which the network decides).
fn expected(probes: i64, successes: i64, price_changes: i64, pay_to_changes: i64) -> Parts {
    Parts::of(&Signals {
        probes,
        successes,
        offers: 1,
        payable_offers: 1,
        price_changes,
        pay_to_changes,
        ..Signals::default()
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn probes_decide_quality_its_parts_sort_and_a_bounded_nudge_to_relevance() {
    let description = "Hourly weather forecast for any city";
    let mut catalog = Catalog::build(vec![
        spec("/steady", "Steady outlook", description),
        spec("/flaky", "Flaky outlook", description),
        spec("/repriced", "Repriced outlook", description),
        spec("/moving", "Moving outlook", description),
        // The best text match for "weather forecast", but it fails every other probe.
        spec("/strong", "Weather forecast", "Weather forecast: weather forecast by the hour"),
    ])
    .await;
    for round in 0..6 {
        catalog.clock.advance(std::time::Duration::from_secs(600));
        for index in 0..catalog.specs.len() {
            let path = catalog.specs[index].path.clone();
            let spec = catalog.specs[index].clone();
            match path.as_str() {
                // Never three failures in a row: both stay listed.
                "/flaky" if round % 3 != 2 => catalog.set_reply(&spec, Reply::new(500)),
                "/strong" if round % 2 == 0 => catalog.set_reply(&spec, Reply::new(500)),
                "/repriced" if round == 0 => {
                    catalog.specs[index].offers[0].amount += 1000;
                    catalog.serve(&catalog.specs[index]);
                }
                "/moving" if round < 3 => {
                    let mut answer = challenge(&spec, &catalog.url(&spec));
                    let pay_to = if round % 2 == 0 { PAY_TO_LATER } else { crate::catalog::PAY_TO };
                    answer["accepts"][0]["payTo"] = pay_to.into();
                    catalog.set_reply(&spec, Reply::v2(&answer));
                }
                _ => catalog.serve(&spec),
            }
            catalog.reprobe(index).await;
        }
    }
    catalog.search().flush().await.expect("flush");

    let by_quality = run(&catalog, &[("sort", "quality")]).await;
    assert_eq!(by_quality.hits.len(), 5);
    assert_eq!(order(&by_quality, &catalog)[0], "/steady", "nothing failed or changed");
    let scores: Vec<u8> = by_quality.hits.iter().map(|h| h.quality.score).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    for hit in &by_quality.hits {
        assert_eq!(hit.quality.score, hit.quality.parts.score(), "the score is its parts, weighted");
    }
    let parts = |path: &str| {
        let id = catalog.specs.iter().find(|s| s.path == path).expect("spec").id;
        by_quality.hits.iter().find(|h| h.service.id == id).expect("hit").quality.parts
    };
    // 7 probes each: registration, then 6 rounds; flaky failed rounds 0, 1, 3, 4; the price
    // changed once; payTo went away and back twice.
    let close = |got: Parts, want: Parts| {
        for (g, w) in [
            (got.uptime, want.uptime),
            (got.integrity, want.integrity),
            (got.price_stability, want.price_stability),
            (got.pay_to_stability, want.pay_to_stability),
            (got.verified, want.verified),
        ] {
            assert!((g - w).abs() <= 0.005, "{got:?} vs {want:?}");
        }
        assert!((0.0..=1.0).contains(&got.latency));
    };
    close(parts("/steady"), expected(7, 7, 0, 0));
    close(parts("/flaky"), expected(7, 3, 0, 0));
    close(parts("/repriced"), expected(7, 7, 1, 0));
    close(parts("/moving"), expected(7, 7, 0, 4));
    close(parts("/strong"), expected(7, 4, 0, 0));
    assert!(parts("/flaky").uptime < parts("/steady").uptime);

    // Equal text: quality breaks the tie. A clearly better text match still wins over a better
    // measured service: the nudge is bounded.
    let relevant = run(&catalog, &[("q", "weather forecast")]).await;
    assert_eq!(order(&relevant, &catalog)[..2], ["/strong", "/steady"]);
    let outlook = run(&catalog, &[("q", "outlook forecast")]).await;
    assert_eq!(outlook.hits.len(), 4);
    assert_eq!(order(&outlook, &catalog)[0], "/steady");
    catalog.app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn latency_is_judged_against_services_of_the_same_category() {
    let mut specs: Vec<ServiceSpec> =
        (0..4).map(|i| spec(&format!("/quick{i}"), "Quick outlook", "Weather forecast for any city")).collect();
    specs.push(spec("/slow", "Slow outlook", "Weather forecast for any city"));
    // A category too small to be its own yardstick: judged against every HTTP service.
    specs.push(ServiceSpec::new("/ocr", "Slow reader", "Text from images", &["ocr"], "image"));
    let catalog = Catalog::build(specs).await;
    let slow = catalog.specs.iter().find(|s| s.path == "/slow").expect("slow").id;
    // A day of answers on record for each (as the crawler would have written them): 20 ms,
    // 2.5 s for `/slow`. The same count for all, so uptime is equal.
    let pool = crate::support::raw_pool(catalog.dir.path()).await;
    let now = catalog.clock_now();
    for spec in &catalog.specs {
        let total_ms = if spec.id == slow { 2500.0 } else { 20.0 };
        for n in 1..=20 {
            agora::on_pool!(&pool, |p| sqlx::query(
                "INSERT INTO probes (service_id, probed_at, verdict, http_status, total_ms, codes) VALUES ($1, $2, 'listed', 402, $3, '[]')"
            )
            .bind(spec.id)
            .bind(now - n * 3_600_000)
            .bind(total_ms)
            .execute(p)
            .await
            .map(drop))
            .expect("insert");
        }
    }
    pool.close().await;
    for index in 0..catalog.specs.len() {
        catalog.reprobe(index).await;
    }
    catalog.search().flush().await.expect("flush");

    let found = run(&catalog, &[("sort", "quality"), ("limit", "10")]).await;
    let latency = |path: &str| {
        let id = catalog.specs.iter().find(|s| s.path == path).expect("spec").id;
        found.hits.iter().find(|h| h.service.id == id).expect("hit").quality.parts.latency
    };
    assert!(latency("/slow") <= 0.1, "2.5 s against a category answering in milliseconds: {}", latency("/slow"));
    assert_eq!(latency("/quick0"), 0.5, "at its category's median");
    assert_eq!(latency("/ocr"), 0.5, "at the median of HTTP services");
    assert_eq!(found.hits.last().map(|h| h.service.id), Some(slow), "the slowest ranks last");
    catalog.app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn latency_is_the_mean_of_daily_medians_and_of_the_probes_after_them() {
    use agora::db::maintain::DAY_MS;
    let specs = ["/rolled", "/raw", "/unmeasured"].map(|p| spec(p, "Outlook", "Weather forecast"));
    let catalog = Catalog::build(specs.to_vec()).await;
    let id = |path: &str| catalog.specs.iter().find(|s| s.path == path).expect("spec").id;
    let (rolled, raw, unmeasured) = (id("/rolled"), id("/raw"), id("/unmeasured"));
    let now = catalog.clock_now();
    let today = now.div_euclid(DAY_MS);
    let pool = crate::support::raw_pool(catalog.dir.path()).await;
    // Only these samples: the registrations' own probes measured real (unknown) latencies.
    agora::on_pool!(&pool, |p| sqlx::query("DELETE FROM probes").execute(p).await.map(drop)).expect("clear");
    for (day, p50) in [(today - 3, 100.0), (today - 2, 200.0), (today - 9, 5_000.0)] {
        agora::on_pool!(&pool, |p| sqlx::query(
            "INSERT INTO probe_daily (service_id, day, probes, successes, latency_p50_ms) VALUES ($1, $2, 1, 1, $3)",
        )
        .bind(rolled)
        .bind(day)
        .bind(p50)
        .execute(p)
        .await
        .map(drop))
        .expect("daily");
    }
    let probes = [
        // Inside a rolled-up day: its median already counts it.
        (rolled, (today - 2) * DAY_MS + 1_000, "listed", 9_999.0),
        (rolled, (today - 1) * DAY_MS + 1_000, "listed", 300.0),
        (rolled, now - 1_000, "listed", 400.0),
        (raw, now - 2 * 3_600_000, "listed", 50.0),
        (raw, now - 3_600_000, "listed", 70.0),
        // Failed, or older than the window: not a latency.
        (raw, now - 1_000, "fetch_error", 5_000.0),
        (raw, now - 9 * DAY_MS, "listed", 9_999.0),
    ];
    for (service, at, verdict, total_ms) in probes {
        agora::on_pool!(&pool, |p| sqlx::query(
            "INSERT INTO probes (service_id, probed_at, verdict, http_status, total_ms, codes) VALUES ($1, $2, $3, 402, $4, '[]')"
        )
        .bind(service)
        .bind(at)
        .bind(verdict)
        .bind(total_ms)
        .execute(p)
        .await
        .map(drop))
        .expect("probe");
    }
    let some = agora::db::quality::measure(&pool, &[rolled, raw, unmeasured], now).await.expect("some");
    let all = agora::db::quality::measure_all(&pool, now).await.expect("all");
    for measured in [&some, &all] {
        let latency = |id: i64| measured.get(&id).and_then(|m| m.latency_ms);
        assert_eq!(latency(rolled), Some(250.0), "100, 200 (daily), 300, 400 (after the last rolled-up day)");
        assert_eq!(latency(raw), Some(60.0));
        assert_eq!(latency(unmeasured), None);
    }
    // Asked for, a service without samples is there without a latency; the norms' pass over
    // every service holds only the measured ones.
    assert!(some.contains_key(&unmeasured));
    assert_eq!(all.len(), 2);
    assert_eq!(some[&rolled], all[&rolled]);
    pool.close().await;
    catalog.app.shutdown().await;
}
