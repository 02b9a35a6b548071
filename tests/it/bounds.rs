//! Bounded by construction (docs/LIMITS.md), end to end: hostile sellers registered through the
//! real HTTP API of a real server, with their answers, stored rows and every later answer about
//! them measured in bytes against the documented bounds.

use crate::api::serve;
use crate::catalog::{Catalog, ServiceSpec, relevance_specs};
use agora::search::hit_offers::MAX_HIT_OFFERS;
use agora_crawler::testkit::{Reply, empty_entries_body, widest_valid_challenge};
use agora_crawler::x402::findings::MAX_FINDINGS_KEPT;
use agora_crawler::x402::limits::{MAX_ACCEPTS, MAX_REPORT_BYTES};
use serde_json::{Value, json};
use sqlx::Connection as _;

/// Documented bounds of the answers (docs/LIMITS.md).
const MAX_HIT_BYTES: usize = 40 * 1024;
const MAX_DISCOVERY_ITEM_BYTES: usize = agora::http::discovery_item::MAX_ITEM_BYTES;
const MAX_EXPORT_LINE_BYTES: usize = 160 * 1024;
const MAX_DETAIL_BYTES: usize = 512 * 1024;

async fn get_bytes(url: &str) -> (u16, Vec<u8>) {
    let response = reqwest::get(url).await.expect("request");
    let status = response.status().as_u16();
    (status, response.bytes().await.expect("body").to_vec())
}

async fn register(base: &str, url: &str) -> (u16, Vec<u8>) {
    let body = json!({ "url": url }).to_string();
    let client = reqwest::Client::new();
    let response = client
        .post(format!("{base}/api/v1/services"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("register");
    let status = response.status().as_u16();
    (status, response.bytes().await.expect("body").to_vec())
}

/// One number about service `id` (`sql` binds it once).
async fn scalar(catalog: &Catalog, sql: &'static str, id: i64) -> i64 {
    agora::on_pool!(catalog.app.store.read(), |p| sqlx::query_scalar(sql).bind(id).fetch_one(p).await).expect(sql)
}

/// Bytes stored for a service: its latest report, and its probe rows' problem codes.
async fn stored_bytes(catalog: &Catalog, id: i64) -> (i64, i64) {
    let report =
        scalar(catalog, "SELECT CAST(length(report) AS BIGINT) FROM latest_reports WHERE service_id = $1", id).await;
    let codes =
        scalar(catalog, "SELECT CAST(MAX(length(codes)) AS BIGINT) FROM probes WHERE service_id = $1", id).await;
    (report, codes)
}

fn spec(path: &str) -> ServiceSpec {
    ServiceSpec::new(path, "x", "x", &[], "x")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amplifying_sellers_cost_bounded_bytes_in_the_answer_the_store_and_every_later_read() {
    let catalog = Catalog::build(relevance_specs()[..1].to_vec()).await;
    let base = serve(&catalog).await;
    // The attack (87,000 empty entries: 79.6 MB answers before) and the largest array
    // that is examined, every key of every entry missing.
    let cases = [("/amplify", 87_000, 4 * 1024), ("/widest-broken", MAX_ACCEPTS, 32 * 1024)];
    for (path, entries, bound) in cases {
        let spec = spec(path);
        catalog.set_reply(
            &spec,
            Reply::new(402).header("content-type", "application/json").body(empty_entries_body(entries)),
        );
        let (status, answer) = register(&base, &catalog.url(&spec)).await;
        assert_eq!(status, 201, "{}", String::from_utf8_lossy(&answer));
        assert!(answer.len() <= bound, "{path}: registration answer of {} bytes", answer.len());
        let json: Value = serde_json::from_slice(&answer).expect("json");
        let report = &json["report"];
        assert_eq!(report["verdict"], "invalid");
        let kept = report["problems"].as_array().expect("problems").len();
        if entries > MAX_ACCEPTS {
            assert_eq!(report["problems"][0]["code"], "accepts_too_many");
            assert_eq!(kept, 1);
        } else {
            assert_eq!(kept, MAX_FINDINGS_KEPT);
            assert!(report["problems_omitted"].as_u64().expect("omitted count") > 0, "{report}");
        }
        let id = json["id"].as_i64().expect("id");
        let (report_bytes, codes_bytes) = stored_bytes(&catalog, id).await;
        assert!(report_bytes as usize <= bound, "{path}: stored report of {report_bytes} bytes");
        assert!(codes_bytes <= 2 * 1024, "{path}: a probe row's codes take {codes_bytes} bytes");
        let (status, detail) = get_bytes(&format!("{base}/api/v1/services/{id}")).await;
        assert_eq!(status, 200);
        assert!(detail.len() <= bound + 4 * 1024, "{path}: detail of {} bytes", detail.len());
        let (status, page) = get_bytes(&format!("{base}/services/{id}")).await;
        assert_eq!(status, 200);
        let page = String::from_utf8(page).expect("utf-8");
        assert!(page.len() <= bound + 16 * 1024, "{path}: service page of {} bytes", page.len());
        if entries == MAX_ACCEPTS {
            let omitted = report["problems_omitted"].as_u64().expect("count");
            assert!(page.contains(&format!("… and {omitted} more problems")), "the page says what it left out");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_widest_sellers_keep_search_discovery_export_and_detail_answers_bounded() {
    let catalog = Catalog::build(Vec::new()).await;
    let base = serve(&catalog).await;
    let mut ids = Vec::new();
    for n in 0..6 {
        let spec = spec(&format!("/wide{n}"));
        let challenge = widest_valid_challenge(&catalog.url(&spec));
        catalog
            .set_reply(&spec, Reply::new(402).header("content-type", "application/json").body(challenge.to_string()));
        let (status, answer) = register(&base, &catalog.url(&spec)).await;
        assert_eq!(status, 201);
        assert!(answer.len() <= MAX_REPORT_BYTES + 64 * 1024, "registration answer of {} bytes", answer.len());
        let json: Value = serde_json::from_slice(&answer).expect("json");
        assert_eq!(json["status"], "listed", "{}", json["report"]["problems"]);
        ids.push(json["id"].as_i64().expect("id"));
    }
    catalog.search().flush().await.expect("flush");

    let (status, page) = get_bytes(&format!("{base}/api/v1/services?limit=100")).await;
    assert_eq!(status, 200);
    let json: Value = serde_json::from_slice(&page).expect("json");
    let hits = json["hits"].as_array().expect("hits");
    assert_eq!(hits.len(), ids.len());
    for hit in hits {
        assert_eq!(hit["offers"].as_array().expect("offers").len(), MAX_HIT_OFFERS);
        assert_eq!(hit["offers_total"], MAX_ACCEPTS);
        let size = serde_json::to_vec(hit).expect("json").len();
        assert!(size <= MAX_HIT_BYTES, "a hit of {size} bytes");
    }
    // The offers matching the filter come first: here the 41st of 64.
    let network = format!("zzzzzzz0:{:0>64}", 40);
    let (_, page) = get_bytes(&format!("{base}/api/v1/services?network={network}")).await;
    let json: Value = serde_json::from_slice(&page).expect("json");
    assert_eq!(json["total"], ids.len());
    assert_eq!(json["hits"][0]["offers"][0]["network"], network.as_str());

    let (_, page) = get_bytes(&format!("{base}/discovery/resources?limit=100")).await;
    let json: Value = serde_json::from_slice(&page).expect("json");
    let items = json["items"].as_array().expect("items");
    assert_eq!(items.len(), ids.len());
    for item in items {
        let size = serde_json::to_vec(item).expect("json").len();
        assert!(size <= MAX_DISCOVERY_ITEM_BYTES, "a discovery item of {size} bytes");
        assert!(!item["accepts"].as_array().expect("accepts").is_empty(), "as many offers as fit");
    }

    let (_, export) = get_bytes(&format!("{base}/api/v1/export.ndjson")).await;
    let lines: Vec<&[u8]> = export.split(|b| *b == b'\n').filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), ids.len());
    for line in lines {
        assert!(line.len() <= MAX_EXPORT_LINE_BYTES, "an export line of {} bytes", line.len());
    }
    let (_, detail) = get_bytes(&format!("{base}/api/v1/services/{}", ids[0])).await;
    assert!(detail.len() <= MAX_DETAIL_BYTES, "a detail of {} bytes", detail.len());
    let (_, page) = get_bytes(&format!("{base}/services/{}", ids[0])).await;
    assert!(page.len() <= MAX_DETAIL_BYTES, "a service page of {} bytes", page.len());
    let (_, page) = get_bytes(&format!("{base}/?testnet=include")).await;
    let page = String::from_utf8(page).expect("utf-8");
    let more = MAX_ACCEPTS - MAX_HIT_OFFERS;
    assert_eq!(page.matches(&format!("{more} more offers")).count(), ids.len(), "each hit says it lists only some");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_is_kept_per_service_up_to_its_cap_and_the_detail_shows_the_latest() {
    use agora::db::history::HISTORY_SHOWN;
    use agora::db::record::MAX_HISTORY_ROWS;
    let mut catalog = Catalog::build(Vec::new()).await;
    // A seller changing all of its prices at every probe: 32 offers, 32 price changes a probe.
    let mut spec = relevance_specs()[0].clone();
    spec.offers =
        (0..32).map(|i| crate::catalog::OfferSpec { amount: 1000 + i, ..crate::catalog::BASE_USDC }).collect();
    for (i, offer) in spec.offers.iter_mut().enumerate() {
        // Distinct (scheme, network, asset) keys: the same asset on made-up networks.
        offer.network = Box::leak(format!("eip155:{}", 900_000 + i).into_boxed_str());
        offer.v1 = "";
        offer.symbol = None;
    }
    let index = catalog.add(spec).await;
    let id = catalog.specs[index].id;
    let probes = usize::try_from(MAX_HISTORY_ROWS).expect("small") / 32 + 3;
    for round in 1..=probes {
        let mut changed = catalog.specs[index].clone();
        for offer in &mut changed.offers {
            offer.amount += round as i64;
        }
        catalog.serve(&changed);
        catalog.clock.advance(std::time::Duration::from_secs(60));
        catalog.reprobe(index).await;
    }
    let rows = scalar(&catalog, "SELECT COUNT(*) FROM offer_changes WHERE service_id = $1", id).await;
    assert_eq!(rows, MAX_HISTORY_ROWS, "{probes} probes of 32 changes each, trimmed");

    // Status history: 1,005 old transitions on record, then one more from a probe.
    let pool = crate::support::raw_pool(catalog.dir.path()).await;
    for n in 0..1_005_i64 {
        agora::on_pool!(&pool, |p| sqlx::query(
            "INSERT INTO status_changes (service_id, changed_at, old_status, new_status) VALUES ($1, $2, 'listed', 'degraded')"
        )
        .bind(id)
        .bind(n)
        .execute(p)
        .await
        .map(drop))
        .expect("insert");
    }
    pool.close().await;
    catalog.set_reply(&catalog.specs[index].clone(), Reply::new(404));
    for _ in 0..3 {
        catalog.clock.advance(std::time::Duration::from_secs(600));
        catalog.reprobe(index).await;
    }
    let statuses = scalar(&catalog, "SELECT COUNT(*) FROM status_changes WHERE service_id = $1", id).await;
    assert_eq!(statuses, MAX_HISTORY_ROWS);
    let newest: String = agora::on_pool!(catalog.app.store.read(), |p| sqlx::query_scalar(
        "SELECT new_status FROM status_changes WHERE service_id = $1 ORDER BY changed_at DESC LIMIT 1",
    )
    .bind(id)
    .fetch_one(p)
    .await)
    .expect("newest");
    assert_ne!(newest, "listed", "the transition just made is kept: {newest}");

    let base = serve(&catalog).await;
    let (_, detail) = get_bytes(&format!("{base}/api/v1/services/{id}")).await;
    let json: Value = serde_json::from_slice(&detail).expect("json");
    let shown = json["offer_changes"].as_array().expect("offer changes");
    assert_eq!(shown.len() as i64, HISTORY_SHOWN);
    let last = shown.last().expect("last");
    // Changes of one probe are recorded in offer order: the last shown is offer 31's latest.
    assert_eq!(last["new_value"], (1000 + 31 + probes as i64).to_string(), "the latest change is shown");
    assert_eq!(json["status_changes"].as_array().expect("statuses").len() as i64, HISTORY_SHOWN);
}

#[tokio::test]
async fn urls_stored_with_an_empty_query_take_the_canonical_spelling_on_upgrade() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = agora::db::Store::open(dir.path()).await.expect("store");
    store.close().await;
    let path = dir.path().join("agora.db");
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.expect("connect");
    for url in ["https://a.example/case?", "https://b.example/x?", "https://b.example/x", "https://c.example/q?a=b?"] {
        sqlx::query(
            "INSERT INTO services (url, method, host, registered_at, status_since, interval_ms, next_due_at)
             VALUES ($1, 'GET', 'h', 0, 0, 60000, 0)",
        )
        .bind(url)
        .execute(&mut conn)
        .await
        .expect("insert");
    }
    // As a database from before migration 4.
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version = 4").execute(&mut conn).await.expect("forget");
    conn.close().await.expect("close");

    let store = agora::db::Store::open(dir.path()).await.expect("store migrates");
    let rows: Vec<(String, i64)> =
        agora::on_pool!(store.read(), |p| sqlx::query_as("SELECT url, change_seq FROM services ORDER BY id")
            .fetch_all(p)
            .await)
        .expect("rows");
    let urls: Vec<&str> = rows.iter().map(|(u, _)| u.as_str()).collect();
    assert_eq!(
        urls,
        ["https://a.example/case", "https://b.example/x?", "https://b.example/x", "https://c.example/q?a=b?"],
        "renamed where no twin exists; a non-empty query is kept"
    );
    assert!(rows[0].1 > 0, "the renamed row is re-indexed");
    let canonical = agora_crawler::target::canonicalize_url("https://a.example/case?").expect("valid");
    let found = agora::db::services::lookup(store.read(), canonical.as_str(), "GET").await.expect("lookup");
    assert!(found.is_some(), "either spelling finds the service");
    store.close().await;
}
