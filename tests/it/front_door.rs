//! The catalog core as its front ends share it: one error mapping (a store that cannot be read
//! is `database_unavailable` for the JSON API, the site's 503 page for people and the health
//! check — never "not found"), and stored probe reports read back into the report types exactly
//! as the probe produced them.

use crate::api::serve;
use crate::catalog::{Catalog, relevance_specs};
use agora::db::services;
use serde_json::Value;

async fn get(url: &str, accept: &str) -> (u16, String, String) {
    let response = reqwest::Client::new().get(url).header("accept", accept).send().await.expect("get");
    let status = response.status().as_u16();
    let content_type = response.headers().get("content-type").map_or("", |v| v.to_str().unwrap_or("")).to_string();
    (status, content_type, response.text().await.expect("body"))
}

#[tokio::test]
async fn a_store_that_cannot_be_read_is_unavailable_on_every_front_end_never_not_found() {
    let catalog = Catalog::build(relevance_specs()[..1].to_vec()).await;
    let base = serve(&catalog).await;
    let id = catalog.specs[0].id;
    let (status, _, _) = get(&format!("{base}/api/v1/services/999999"), "application/json").await;
    assert_eq!(status, 404, "an unknown id, while the store works");

    catalog.app.store.read().close().await;
    for path in [format!("/api/v1/services/{id}"), "/api/v1/services/999999".to_string(), "/healthz".to_string()] {
        let (status, content_type, body) = get(&format!("{base}{path}"), "application/json").await;
        assert_eq!((status, content_type.as_str()), (503, "application/problem+json"), "{path}: {body}");
        let problem: Value = serde_json::from_str(&body).expect("a problem");
        assert_eq!(problem["code"], "database_unavailable", "{path}: {body}");
        assert!(!body.contains("pool"), "no internals in the answer: {body}");
    }
    let url = url::form_urlencoded::byte_serialize(catalog.url(&catalog.specs[0]).as_bytes()).collect::<String>();
    for path in [format!("/services/{id}"), format!("/status?url={url}")] {
        let (status, content_type, html) = get(&format!("{base}{path}"), "text/html").await;
        assert_eq!(status, 503, "{path}: {html}");
        assert!(content_type.starts_with("text/html"), "{path}: {content_type}");
        assert!(html.contains("cannot be read just now"), "{path}: {html}");
    }
}

#[tokio::test]
async fn stored_reports_read_back_exactly_as_the_probe_made_them() {
    let catalog = Catalog::build(relevance_specs()[..2].to_vec()).await;
    for spec in &catalog.specs {
        let registration = catalog.app.state.catalog.register(&catalog.url(spec), None).await.expect("re-probed");
        let probed = registration.state.report.expect("the probe's report");
        let stored = services::latest_report(catalog.app.store.read(), spec.id).await.expect("read").expect("stored");
        assert_eq!(stored, probed, "{}", spec.path);
        assert!(stored.challenge.is_some() && stored.listing.is_some(), "a listed report keeps its challenge");
    }
}
