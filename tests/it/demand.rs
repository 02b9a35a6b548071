//! Zero-result searches as demand, end to end over a real server: counted from the API and the
//! pages, normalized, without personal data, written by a flush, listed by `GET /api/v1/demand`
//! and on `/about`, per UTC day, and pruned by maintenance.

use crate::api::serve;
use crate::catalog::{Catalog, relevance_specs};
use agora::db::maintain::Retention;
use serde_json::{Value, json};
use std::time::Duration;

async fn get(url: &str) -> (u16, String) {
    let response = reqwest::get(url).await.expect("request");
    (response.status().as_u16(), response.text().await.expect("body"))
}

async fn demand(catalog: &Catalog, base: &str, query: &str) -> Value {
    catalog.app.state.catalog.demand_read_expired();
    let (status, body) = get(&format!("{base}/api/v1/demand{query}")).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).expect("JSON")
}

#[tokio::test(flavor = "multi_thread")]
async fn searches_that_find_nothing_are_counted_without_personal_data_and_shown_to_sellers() {
    let catalog = Catalog::build(relevance_specs()).await;
    catalog.search().flush().await.expect("flush");
    let base = serve(&catalog).await;
    let core = &catalog.app.state.catalog;

    for (path, found) in [
        ("/api/v1/services?q=Quantum+Teleportation", false),
        ("/api/v1/services?q=quantum++teleportation", false),
        ("/?q=quantum+teleportation", false),
        ("/api/v1/services?q=lonely+miss", false),
        ("/api/v1/services?q=mail+jane%40example.com", false),
        ("/api/v1/services?q=weather", true),
        ("/api/v1/services?network=eip155:1", false),
    ] {
        let (status, body) = get(&format!("{base}{path}")).await;
        assert_eq!(status, 200, "{path}: {body}");
        if path.starts_with("/api") {
            let total = serde_json::from_str::<Value>(&body).expect("JSON")["total"].as_u64();
            assert_eq!(total.is_some_and(|t| t > 0), found, "{path}");
        }
    }
    // A repeat served from the answer cache is not a search.
    get(&format!("{base}/api/v1/services?q=Quantum+Teleportation")).await;
    assert_eq!(demand(&catalog, &base, "").await["queries"], json!([]), "nothing is written before a flush");
    assert_eq!(core.flush_demand().await.expect("flush"), 2, "two distinct queries kept");

    let listed = demand(&catalog, &base, "").await;
    assert_eq!(listed["days"], 7);
    assert_eq!(listed["min_misses"], 2);
    assert_eq!(listed["queries"], json!([{"q": "quantum teleportation", "misses": 3, "days": 1}]));
    let (status, about) = get(&format!("{base}/about")).await;
    assert_eq!(status, 200);
    assert!(about.contains(r#"<a href="/?q=quantum+teleportation">quantum teleportation</a>"#), "{about}");
    assert!(!about.contains("lonely miss") && !about.contains("jane"), "one miss is noise; an e-mail is never kept");

    // The next day: one more miss of each. `days=1` is today only.
    catalog.clock.advance(Duration::from_secs(86_400));
    for q in ["quantum teleportation", "lonely miss"] {
        get(&format!("{base}/api/v1/services?q={}&limit=3", q.replace(' ', "+"))).await;
    }
    core.flush_demand().await.expect("flush");
    let week = demand(&catalog, &base, "?days=7").await;
    assert_eq!(
        week["queries"],
        json!([{"q": "quantum teleportation", "misses": 4, "days": 2}, {"q": "lonely miss", "misses": 2, "days": 2}])
    );
    let today = demand(&catalog, &base, "?days=1&limit=5").await;
    assert_eq!(today["queries"], json!([]), "one miss each today: below the threshold");

    for bad in ["?days=0", "?days=31", "?limit=101", "?days=x", "?who=me"] {
        let (status, body) = get(&format!("{base}/api/v1/demand{bad}")).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(body.contains("\"code\""), "a problem: {body}");
    }

    // Maintenance forgets counts older than 30 days.
    catalog.clock.advance(Duration::from_secs(31 * 86_400));
    let now = catalog.clock_now();
    catalog.app.store.writer().maintain(Retention { now, keep: Duration::from_secs(86_400) }).await.expect("maintain");
    let rows: i64 =
        agora::on_pool!(catalog.app.store.read(), |p| sqlx::query_scalar("SELECT COUNT(*) FROM search_demand")
            .fetch_one(p)
            .await)
        .expect("count");
    assert_eq!(rows, 0);
    catalog.app.shutdown().await;
}
