//! `GET /metrics` in the Prometheus text format: HTTP requests by route, method and status with
//! their durations, probe outcomes (counted by the crawler), and figures read at scrape time —
//! the crawl queue, services by status, how far the search index trails the store, and the
//! answer caches' hits and misses.
//! Routes are the matched path templates (`/api/v1/services/{id}`), so label values stay few
//! whatever URLs clients send.

use crate::app::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::time::Instant;

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
    status: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct CacheLabels {
    cache: &'static str,
    outcome: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct StatusLabels {
    status: &'static str,
}

/// The HTTP side's counters. Cheap to clone.
#[derive(Clone)]
pub struct HttpMetrics {
    requests: Family<RequestLabels, Counter>,
    seconds: Family<RouteLabels, Histogram, fn() -> Histogram>,
}

fn request_histogram() -> Histogram {
    // 0.1 ms .. ~3 s.
    Histogram::new(exponential_buckets(0.0001, 2.5, 14))
}

impl Default for HttpMetrics {
    fn default() -> Self {
        HttpMetrics { requests: Family::default(), seconds: Family::new_with_constructor(request_histogram) }
    }
}

/// Middleware: counts and times every request (those refused by the rate limiter included).
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str).to_string();
    let method = request.method().as_str().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let metrics = &state.metrics;
    let status = response.status().as_u16();
    metrics.requests.get_or_create(&RequestLabels { route: route.clone(), method, status }).inc();
    metrics.seconds.get_or_create(&RouteLabels { route }).observe(started.elapsed().as_secs_f64());
    response
}

/// Prometheus scrape.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let mut registry = Registry::default();
    let http = &state.metrics;
    registry.register("agora_http_requests", "HTTP requests answered", http.requests.clone());
    registry.register("agora_http_request_duration_seconds", "Time to answer a request", http.seconds.clone());
    state.catalog.probe_metrics().register(&mut registry);

    let gauge = |value: i64| {
        let gauge = Gauge::<i64>::default();
        gauge.set(value);
        gauge
    };
    let stats = state.catalog.stats().await;
    registry.register("agora_crawl_queue_depth", "Probes waiting to run", gauge(stats.crawl_queue as i64));
    registry.register(
        "agora_index_lag_changes",
        "Committed catalog changes the search index has not applied yet",
        gauge((stats.store_seq - stats.index_seq).max(0)),
    );
    registry.register("agora_index_documents", "Documents in the search index", gauge(stats.index_documents as i64));
    match stats.services {
        Ok(counts) => {
            let family = Family::<StatusLabels, Gauge>::default();
            for (status, n) in counts {
                family.get_or_create(&StatusLabels { status: status.as_str() }).set(n);
            }
            registry.register("agora_services", "Services by status", family);
        }
        // The scrape still answers; the missing series is the signal, the cause is in the log.
        Err(error) => tracing::error!(%error, "agora_services left out of /metrics: the store could not count"),
    }

    // The search's cache of query words (`search::word_cache`): a falling hit share under a
    // steady load says the catalog or the traffic outgrew it.
    let ((hits, misses, evictions), pairs) = state.catalog.index().word_cache_counts();
    let word_lookups = Family::<OutcomeLabels, Counter>::default();
    word_lookups.get_or_create(&OutcomeLabels { outcome: "hit" }).inc_by(hits);
    word_lookups.get_or_create(&OutcomeLabels { outcome: "miss" }).inc_by(misses);
    registry.register("agora_word_cache_lookups", "Search word cache lookups by outcome", word_lookups);
    let word_evictions = Counter::<u64>::default();
    word_evictions.inc_by(evictions);
    registry.register(
        "agora_word_cache_evictions",
        "Times the search word cache was full and dropped words",
        word_evictions,
    );
    registry.register(
        "agora_word_cache_pairs",
        "(document, score) pairs the search word cache holds",
        gauge(i64::try_from(pairs).unwrap_or(i64::MAX)),
    );

    let lookups = Family::<CacheLabels, Counter>::default();
    for (cache, (hits, misses)) in [
        ("detail", state.answers.detail.lookups()),
        ("search", state.answers.search.lookups()),
        ("search_page", state.answers.search_page.lookups()),
        ("mcp_search", state.answers.mcp_search.lookups()),
    ] {
        lookups.get_or_create(&CacheLabels { cache, outcome: "hit" }).inc_by(hits);
        lookups.get_or_create(&CacheLabels { cache, outcome: "miss" }).inc_by(misses);
    }
    registry.register("agora_answer_cache_lookups", "Answer cache lookups by cache and outcome", lookups);

    let mut body = String::new();
    match encode(&mut body, &registry) {
        Ok(()) => ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body).into_response(),
        Err(error) => super::problem::Problem::internal(&error).into_response(),
    }
}
