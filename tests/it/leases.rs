//! Crawl leases at the store and the worker, driven by the catalog's clock (no waiting): on
//! PostgreSQL a node's claims keep every other node off its services until they expire; a claim
//! that expired while its probe was queued and was taken by another node is lost, and the worker
//! then leaves the service alone (no request to the seller, nothing recorded); a claim given
//! back is free at once; recording a probe clears its claim. On SQLite one process crawls, so a
//! claim is a plain read of what is due.

use crate::nodes::CountingSeller;
use crate::support::{T0, open_app, options, postgres_store, raw_pool};
use agora::clock::ManualClock;
use agora::db::leases::{self, Lease};
use agora::db::register::NewService;
use agora::jobs::{JobError, Lane};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread")]
async fn a_claim_lost_to_another_node_is_not_probed_and_a_recorded_probe_clears_its_claim() {
    let dir = tempfile::tempdir().expect("dir");
    let clock = ManualClock::new(T0);
    let flags = ["--allow-cidr", "127.0.0.0/8", "--host-delay-ms", "0", "--crawl-lease-secs", "1"];
    let app = open_app(&options(dir.path(), &flags), &clock).await;
    let seller = CountingSeller::start([127, 0, 0, 76], Duration::ZERO).await;
    let services = ["/lost", "/kept"]
        .iter()
        .map(|path| NewService { url: seller.seller.url(path), method: "GET".into(), host: format!("host{path}") })
        .collect();
    app.store.writer().register(services, T0).await.expect("registered");
    let pool = app.store.read();
    let worker = app.dispatcher.worker();
    let mine = worker.lease().clone();
    let other = Lease::new("other-node:1".into(), 60_000, 1);

    let claimed = leases::claim_due(pool, &mine, T0, 0, 10).await.expect("claim");
    assert_eq!(claimed.len(), 2);
    let seen_by_other = leases::claim_due(pool, &other, T0 + 500, 0, 10).await.expect("claim");
    if postgres_store().is_none() {
        // One crawler: both "nodes" read the same due list, and every renewal holds.
        assert_eq!(seen_by_other.len(), 2);
        assert!(leases::renew(pool, &other, claimed[0].id, T0).await.expect("renew"));
        app.shutdown().await;
        return;
    }
    assert!(seen_by_other.is_empty(), "held claims are nobody else's: {seen_by_other:?}");

    // Mine expire (1 s) while queued; the other node takes both.
    clock.advance(Duration::from_secs(2));
    let taken = leases::claim_due(pool, &other, T0 + 2_000, 0, 10).await.expect("claim");
    assert_eq!(taken.len(), 2);
    let lost = claimed.iter().find(|s| s.url.ends_with("/lost")).expect("lost");
    assert!(matches!(worker.probe(lost, Lane::Scheduled).await, Err(JobError::ClaimLost)));
    assert_eq!(seller.count("/lost"), 0, "a lost claim sends nothing to the seller");

    // The other node gives its claims back (a graceful stop): free at once, and this node's
    // probe renews, runs and records, which clears the claim.
    assert_eq!(leases::release_all(pool, &other).await.expect("release"), 2);
    let kept = claimed.iter().find(|s| s.url.ends_with("/kept")).expect("kept");
    worker.probe(kept, Lane::Scheduled).await.expect("probed");
    assert_eq!(seller.count("/kept"), 1);
    let raw = raw_pool(dir.path()).await;
    let agora::db::Pool::Postgres(raw) = raw else { unreachable!("PostgreSQL pass") };
    let owners: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT url, lease_owner FROM services ORDER BY url").fetch_all(&raw).await.expect("rows");
    assert!(owners.iter().all(|(_, owner)| owner.is_none()), "{owners:?}");
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_host_whose_services_another_node_holds_is_left_to_that_node() {
    let dir = tempfile::tempdir().expect("dir");
    let app = open_app(&options(dir.path(), &[]), &ManualClock::new(T0)).await;
    let service = |path: &str, host: &str| NewService {
        url: format!("https://{host}{path}"),
        method: "GET".into(),
        host: host.into(),
    };
    let new = vec![
        service("/1", "shared.example"),
        service("/2", "shared.example"),
        service("/3", "shared.example"),
        service("/1", "other.example"),
    ];
    app.store.writer().register(new, T0).await.expect("registered");
    let pool = app.store.read();
    let (a, b) = (Lease::new("node-a:1".into(), 60_000, 1), Lease::new("node-b:1".into(), 60_000, 1));
    let urls = |claimed: &[agora::db::services::DueService]| -> Vec<String> {
        claimed.iter().map(|s| s.url.clone()).collect()
    };

    let first = leases::claim_due(pool, &a, T0, 0, 1).await.expect("claim");
    assert_eq!(urls(&first), ["https://shared.example/1"]);
    let others = leases::claim_due(pool, &b, T0, 0, 10).await.expect("claim");
    if postgres_store().is_none() {
        // One crawler: claiming is reading what is due.
        assert_eq!(others.len(), 4);
        app.shutdown().await;
        return;
    }
    assert_eq!(urls(&others), ["https://other.example/1"], "the shared host stays with node A");
    let rest = leases::claim_due(pool, &a, T0, 1, 10).await.expect("claim");
    assert_eq!(urls(&rest), ["https://shared.example/2", "https://shared.example/3"], "A takes its host's others");
    // Once A gives its claims back (or they expire), the host is anyone's.
    leases::release_all(pool, &a).await.expect("release");
    let taken = leases::claim_due(pool, &b, T0, 1, 10).await.expect("claim");
    assert_eq!(taken.len(), 3, "{:?}", urls(&taken));
    let expired = leases::claim_due(pool, &a, T0 + 60_001, 0, 10).await.expect("claim");
    assert_eq!(expired.len(), 4, "B's claims expired: everything is due and free");
    app.shutdown().await;
}
