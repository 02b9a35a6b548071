//! Contract tests: the JSON shape of every endpoint's answers, snapshot-tested with insta
//! (`tests/it/snapshots/`). Values that differ between runs — ids, times, durations, cursors,
//! the sellers' loopback ports — are redacted to a marker naming what was there, so a snapshot
//! changes only when a field appears, disappears, or changes kind or meaning.

use crate::catalog::{Catalog, relevance_specs};
use serde_json::{Value, json};
use std::time::Duration;

/// Fields whose values vary between runs (ids, times, durations, cursors, request timings).
const VOLATILE: &[&str] = &[
    "id",
    "service_id",
    "cursor",
    "next_cursor",
    "processing_ms",
    "score",
    "lastUpdated",
    "applied_seq",
    "change_seq",
    "connect_ms",
    "first_byte_ms",
    "total_ms",
    "p50_ms",
    "p95_ms",
    "interval_ms",
    "p99_ms",
];

/// Redacts what varies: volatile fields become `"[field]"` (`null` stays `null`, so optionality
/// is still pinned), every epoch-ms `*_at`/`*_since` field `"[time]"`, and seller origins `SELLER`.
fn redact(value: &Value, origins: &[String]) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, v)| {
                    let time = key.ends_with("_at") || key.ends_with("_since") || key == "at";
                    let redacted = if key == "timings_ms" {
                        // Phase durations; `connect` is null when a pooled connection was reused.
                        let phases = v.as_object().expect("timings object");
                        phases.keys().map(|k| (k.clone(), json!("[ms]"))).collect()
                    } else if v.is_null() || v.is_object() || v.is_array() {
                        redact(v, origins)
                    } else if time {
                        json!("[time]")
                    } else if VOLATILE.contains(&key.as_str()) {
                        json!(format!("[{key}]"))
                    } else {
                        redact(v, origins)
                    };
                    (key.clone(), redacted)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|v| redact(v, origins)).collect()),
        Value::String(text) => {
            Value::String(origins.iter().fold(text.clone(), |text, origin| text.replace(origin.as_str(), "SELLER")))
        }
        other => other.clone(),
    }
}

struct Client {
    base: String,
    origins: Vec<String>,
    http: reqwest::Client,
}

impl Client {
    async fn new(catalog: &Catalog) -> Client {
        let mut origins: Vec<String> = catalog.sellers.iter().map(|s| s.url("")).collect();
        origins.sort_by_key(|o| std::cmp::Reverse(o.len()));
        Client { base: crate::api::serve(catalog).await, origins, http: reqwest::Client::new() }
    }

    /// `METHOD path [body]` → `{status, content_type, body}`, redacted.
    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.base);
        let mut request = match method {
            "POST" => self.http.post(url),
            "DELETE" => self.http.delete(url),
            _ => self.http.get(url),
        };
        if let Some(body) = body {
            request = request.header("content-type", "application/json").body(body.to_string());
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let content_type = response.headers().get("content-type").map(|v| v.to_str().unwrap_or("?").to_string());
        let text = response.text().await.expect("body");
        let body = if content_type.as_deref() == Some("application/x-ndjson") {
            Value::Array(text.lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect())
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        redact(&json!({"status": status, "content_type": content_type, "body": body}), &self.origins)
    }

    fn seller_url(&self, seller: usize, path: &str) -> String {
        format!(
            "{}{path}",
            self.origins.iter().find(|o| o.contains(&format!("127.0.0.{}:", seller + 1))).expect("seller")
        )
    }
}

#[tokio::test]
async fn catalog_endpoints_keep_their_shapes() {
    let catalog = Catalog::build(relevance_specs()).await;
    catalog.search().flush().await.expect("flush");
    let client = Client::new(&catalog).await;
    insta::assert_json_snapshot!("search", client.call("GET", "/api/v1/services?q=weather&limit=2", None).await);
    insta::assert_json_snapshot!(
        "search_filtered",
        client.call("GET", "/api/v1/services?limit=1&network=base&testnet=include&sort=price_asc", None).await
    );
    insta::assert_json_snapshot!("detail", client.call("GET", "/api/v1/services/1", None).await);
    insta::assert_json_snapshot!("changes", client.call("GET", "/api/v1/changes?limit=3", None).await);
    insta::assert_json_snapshot!("export", client.call("GET", "/api/v1/export.ndjson", None).await);
    insta::assert_json_snapshot!("healthz", client.call("GET", "/healthz", None).await);
    insta::assert_json_snapshot!("discovery_resources", client.call("GET", "/discovery/resources?limit=2", None).await);
    insta::assert_json_snapshot!(
        "discovery_search",
        client.call("GET", "/discovery/search?query=weather&limit=1", None).await
    );
}

#[tokio::test]
async fn seller_endpoints_keep_their_shapes() {
    let catalog = Catalog::build(relevance_specs()).await;
    let client = Client::new(&catalog).await;
    let weather = client.seller_url(0, "/weather");
    insta::assert_json_snapshot!(
        "register_existing",
        client.call("POST", "/api/v1/services", Some(json!({"url": weather}))).await
    );
    let missing = client.seller_url(0, "/no-such-route");
    insta::assert_json_snapshot!(
        "register_rejected",
        client.call("POST", "/api/v1/services", Some(json!({"url": missing}))).await
    );
    let query = url::form_urlencoded::Serializer::new(String::new()).append_pair("url", &weather).finish();
    insta::assert_json_snapshot!(
        "lookup_registered",
        client.call("GET", &format!("/api/v1/services/lookup?{query}"), None).await
    );
    let query = url::form_urlencoded::Serializer::new(String::new()).append_pair("url", &missing).finish();
    insta::assert_json_snapshot!(
        "lookup_unregistered",
        client.call("GET", &format!("/api/v1/services/lookup?{query}"), None).await
    );
    insta::assert_json_snapshot!("recrawl_too_soon", client.call("POST", "/api/v1/services/1/recrawl", None).await);
    catalog.clock.advance(Duration::from_secs(120));
    insta::assert_json_snapshot!("recrawl", client.call("POST", "/api/v1/services/1/recrawl", None).await);
}

#[tokio::test]
async fn problems_keep_their_shape() {
    let catalog = Catalog::build(Vec::new()).await;
    let client = Client::new(&catalog).await;
    insta::assert_json_snapshot!(
        "problem_unknown_value",
        client.call("GET", "/api/v1/services?network=dogechain", None).await
    );
    insta::assert_json_snapshot!("problem_unknown_param", client.call("GET", "/api/v1/changes?colour=red", None).await);
    insta::assert_json_snapshot!("problem_bad_id", client.call("GET", "/api/v1/services/abc", None).await);
    insta::assert_json_snapshot!("problem_no_service", client.call("GET", "/api/v1/services/7", None).await);
    insta::assert_json_snapshot!("problem_no_path", client.call("GET", "/nowhere", None).await);
    insta::assert_json_snapshot!("problem_method", client.call("DELETE", "/api/v1/services", None).await);
    insta::assert_json_snapshot!(
        "problem_body",
        client.call("POST", "/api/v1/services", Some(json!({"link": "x"}))).await
    );
    insta::assert_json_snapshot!(
        "problem_private",
        client.call("POST", "/api/v1/services", Some(json!({"url": "http://10.1.2.3/paid"}))).await
    );
}
