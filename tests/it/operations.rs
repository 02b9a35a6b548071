//! What operators and agents read about the service itself: `GET /metrics` (Prometheus text)
//! counts requests by route template and probes by verdict, and reads the queue and index lag;
//! `GET /llms.txt` describes the API, and every link in it answers.

use crate::api::serve;
use crate::catalog::{Catalog, relevance_specs};

/// The value of the sample whose name and labels are exactly `series`.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.trim().parse().ok())
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_probes_by_verdict() {
    let catalog = Catalog::build(relevance_specs()).await;
    catalog.search().flush().await.expect("flush");
    let base = serve(&catalog).await;
    let client = reqwest::Client::new();
    for _ in 0..3 {
        assert_eq!(client.get(format!("{base}/api/v1/services?q=weather")).send().await.expect("get").status(), 200);
    }
    for id in [999_998, 999_999] {
        let response = client.get(format!("{base}/api/v1/services/{id}")).send().await.expect("get");
        assert_eq!(response.status(), 404);
    }
    assert_eq!(client.get(format!("{base}/no/such/page")).send().await.expect("get").status(), 404);
    // A lookup of an unregistered URL probes it (priority lane) without storing it.
    let missing = catalog.sellers[0].url("/not-there");
    let query: String = url::form_urlencoded::Serializer::new(String::new()).append_pair("url", &missing).finish();
    let lookup = client.get(format!("{base}/api/v1/services/lookup?{query}")).send().await;
    assert_eq!(lookup.expect("lookup").status(), 200);

    let response = client.get(format!("{base}/metrics")).send().await.expect("metrics");
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().expect("ascii").to_string();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let text = response.text().await.expect("body");

    let requests = |route: &str, status: u16| {
        sample(&text, &format!("agora_http_requests_total{{route=\"{route}\",method=\"GET\",status=\"{status}\"}}"))
    };
    assert_eq!(requests("/api/v1/services", 200), Some(3.0), "{text}");
    // One series for every id: the route template, not the URL.
    assert_eq!(requests("/api/v1/services/{id}", 404), Some(2.0), "{text}");
    assert_eq!(requests("unmatched", 404), Some(1.0), "{text}");
    // Label sets only: a sample value (a duration sum) may happen to contain the digits.
    let labels = text.lines().filter_map(|l| Some(&l[l.find('{')?..=l.rfind('}')?]));
    assert!(!labels.clone().any(|l| l.contains("999998")), "a raw URL became a label value");
    assert!(labels.clone().any(|l| l.contains("/api/v1/services/{id}")), "the labels were read");
    let timed = sample(&text, "agora_http_request_duration_seconds_count{route=\"/api/v1/services\"}");
    assert_eq!(timed, Some(3.0), "{text}");

    // Registration probed every spec (listed); the lookup found no challenge.
    let listed = sample(&text, "agora_probes_total{verdict=\"listed\",lane=\"priority\"}").unwrap_or(0.0);
    assert!(listed >= catalog.specs.len() as f64, "{listed}: {text}");
    assert_eq!(sample(&text, "agora_probes_total{verdict=\"not_x402\",lane=\"priority\"}"), Some(1.0), "{text}");

    // Scrape-time figures: flushed index, nothing queued, every spec listed.
    assert_eq!(sample(&text, "agora_index_lag_changes"), Some(0.0), "{text}");
    assert_eq!(sample(&text, "agora_index_documents"), Some(catalog.specs.len() as f64), "{text}");
    assert_eq!(sample(&text, "agora_crawl_queue_depth"), Some(0.0), "{text}");
    assert_eq!(sample(&text, "agora_services{status=\"listed\"}"), Some(catalog.specs.len() as f64), "{text}");

    // The same search three times: computed once, then two answer-cache hits; unknown ids miss.
    let lookups = |cache: &str, outcome: &str| {
        sample(&text, &format!("agora_answer_cache_lookups_total{{cache=\"{cache}\",outcome=\"{outcome}\"}}"))
    };
    assert_eq!((lookups("search", "miss"), lookups("search", "hit")), (Some(1.0), Some(2.0)), "{text}");
    assert_eq!((lookups("detail", "miss"), lookups("detail", "hit")), (Some(2.0), Some(0.0)), "{text}");
    // That one computed search walked its word once per segment and kept it.
    let word_misses = sample(&text, "agora_word_cache_lookups_total{outcome=\"miss\"}").unwrap_or(0.0);
    assert!(word_misses >= 1.0, "{text}");
    assert!(sample(&text, "agora_word_cache_pairs").unwrap_or(0.0) >= 1.0, "{text}");
    assert_eq!(sample(&text, "agora_word_cache_evictions_total"), Some(0.0), "{text}");
}

#[tokio::test]
async fn llms_txt_describes_the_api_and_its_links_answer() {
    let catalog = Catalog::build(relevance_specs()).await;
    catalog.search().flush().await.expect("flush");
    let base = serve(&catalog).await;
    let response = reqwest::get(format!("{base}/llms.txt")).await.expect("get");
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().expect("ascii").starts_with("text/plain"));
    let text = response.text().await.expect("body");
    assert!(text.starts_with("# Agora\n"), "llms.txt opens with the H1 title");
    for path in ["/api/v1/services", "/discovery/resources", "/discovery/search", "/openapi.json", "/api/v1/changes"] {
        assert!(text.contains(path), "llms.txt does not mention {path}");
    }
    // Every markdown link target is a path on this server that answers 200.
    let links: Vec<&str> = text.split("](").skip(1).filter_map(|rest| rest.split(')').next()).collect();
    assert!(links.len() >= 10, "{links:?}");
    for link in links {
        assert!(link.starts_with('/'), "{link} is not a path on this server");
        let status = reqwest::get(format!("{base}{link}")).await.expect("get").status();
        assert_eq!(status, 200, "{link}");
    }
}
