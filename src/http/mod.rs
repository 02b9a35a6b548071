//! The HTTP front ends (`shared/INTERFACES.md` "HTTP"): the JSON API under `/api/v1` ([`api`]),
//! the pages for people ([`web`]), Bazaar [`discovery`], `GET /healthz` and `/metrics`. Handlers
//! read a request, call the catalog core (`crate::catalog`) and render its answer ([`views`],
//! templates); every error, unknown paths and methods included, is a [`problem::Problem`] (a page
//! for browsers).

pub mod answer_cache;
pub mod api;
pub mod bare_errors;
pub mod client;
pub mod discovery;
pub mod discovery_filters;
pub mod discovery_item;
pub mod health;
pub mod icons;
pub mod limits;
pub mod metrics;
pub mod openapi;
pub mod problem;
pub mod server;
pub mod views;
pub mod web;

use crate::app::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Method, Request, StatusCode, Uri, header};
use axum::response::IntoResponse;
use axum::routing::get;
use problem::Problem;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{Any, CorsLayer};
use tower_http::request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

/// Cached answers of the hot read paths (`answer_cache`).
pub struct Answers {
    /// Service detail JSON by id.
    pub detail: answer_cache::AnswerCache<i64>,
    /// Search results JSON (without `processing_ms`) by raw query string.
    pub search: answer_cache::AnswerCache<String>,
    /// The HTML search page (`/`) by raw query string.
    pub search_page: answer_cache::AnswerCache<String>,
    /// MCP `search_services` answers by their arguments (as sent, in JSON).
    pub mcp_search: answer_cache::AnswerCache<String>,
}

/// Memory each answer cache may hold.
const ANSWER_CACHE_BYTES: usize = 64 << 20;

impl Answers {
    /// Caches that keep nothing (`agora serve --no-answer-cache`).
    pub fn off() -> Answers {
        Answers {
            detail: answer_cache::AnswerCache::new(0, 0),
            search: answer_cache::AnswerCache::new(0, 0),
            search_page: answer_cache::AnswerCache::new(0, 0),
            mcp_search: answer_cache::AnswerCache::new(0, 0),
        }
    }
}

impl Default for Answers {
    fn default() -> Self {
        Answers {
            detail: answer_cache::AnswerCache::new(20_000, ANSWER_CACHE_BYTES),
            search: answer_cache::AnswerCache::new(2_000, ANSWER_CACHE_BYTES),
            search_page: answer_cache::AnswerCache::new(2_000, ANSWER_CACHE_BYTES),
            mcp_search: answer_cache::AnswerCache::new(2_000, ANSWER_CACHE_BYTES),
        }
    }
}

/// Largest request body (registration bodies are a URL and a method).
pub(crate) const BODY_LIMIT: usize = 16 * 1024;

/// Numbers requests (`x-request-id`) when the client sent none: short, and ordered in logs.
#[derive(Clone, Default)]
struct RequestSeq(Arc<AtomicU64>);

impl MakeRequestId for RequestSeq {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let n = self.0.fetch_add(1, Ordering::Relaxed);
        HeaderValue::from_str(&format!("r{n}")).ok().map(RequestId::new)
    }
}

/// Every route behind the protective layers. Serve it with [`server::serve`] (which gives each
/// request its client's `ConnectInfo<SocketAddr>`, for rate limits).
pub fn router(state: AppState) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(metrics::metrics))
        .route("/llms.txt", get(llms_txt))
        .route("/icons/{hash}", get(icons::icon))
        .merge(openapi::routes())
        .merge(web::routes())
        .nest("/api/v1", api::routes())
        .route("/discovery/resources", get(discovery::resources))
        .route("/discovery/search", get(discovery::search_resources))
        .nest_service("/mcp", crate::mcp::http_service(&state))
        .fallback(unknown_path)
        .method_not_allowed_fallback(wrong_method)
        .layer(axum::middleware::from_fn_with_state(state.clone(), limits::guard))
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::track))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(CompressionLayer::new())
        // Anyone's page may read the catalog; writes stay same-origin.
        .layer(CorsLayer::new().allow_origin(Any).allow_methods([Method::GET, Method::HEAD]))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
            let id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("http", id, method = %request.method(), path = request.uri().path())
        }))
        .layer(SetRequestIdLayer::new(request_id, RequestSeq::default()))
        .layer(CatchPanicLayer::custom(panic_answer))
        .layer(axum::middleware::from_fn(bare_errors::bare_errors_as_problems))
        .layer(axum::middleware::from_fn(web::errors::pages_for_browsers))
        .with_state(state)
}

/// What a caught panic answers: a 500 problem (a page for browsers), the panic logged.
pub(crate) fn panic_answer(_panic: Box<dyn std::any::Any + Send>) -> axum::response::Response {
    Problem::internal(&"a request handler panicked").into_response()
}

/// `GET /llms.txt`: the API in a page an agent reads first (llmstxt.org).
async fn llms_txt() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], include_str!("text/llms.txt"))
}

/// A problem (the site's 404 page for browsers, see `web::errors::pages_for_browsers`).
async fn unknown_path(uri: Uri) -> Problem {
    Problem::not_found(format!("Nothing at {}.", uri.path()))
}

async fn wrong_method(method: Method, uri: Uri) -> Problem {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "Method not allowed",
        format!("{method} is not allowed on {}.", uri.path()),
    )
}
