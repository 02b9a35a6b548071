//! The HTTP side (`shared/INTERFACES.md` "HTTP"): the JSON API under `/api/v1` ([`api`]) and
//! `GET /healthz`; every error, unknown paths and methods included, is a [`problem::Problem`].

pub mod api;
pub mod discovery;
pub mod problem;

use crate::db::{Store, services};
use crate::jobs::Dispatcher;
use crate::search::SearchIndex;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use problem::Problem;
use serde_json::json;

#[derive(Clone)]
pub struct HttpState {
    pub store: Store,
    pub dispatcher: Dispatcher,
    pub search: SearchIndex,
}

pub fn router(state: HttpState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .nest("/api/v1", api::routes())
        .route("/discovery/resources", get(discovery::resources))
        .route("/discovery/search", get(discovery::search_resources))
        .fallback(unknown_path)
        .method_not_allowed_fallback(wrong_method)
        .with_state(state)
}

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

/// Liveness plus what an operator checks first: can the database be read, how big is the
/// catalog, how much crawl work is queued, how far the search index has caught up.
async fn healthz(State(state): State<HttpState>) -> Response {
    match services::count_by_status(state.store.read()).await {
        Ok(counts) => {
            let services: serde_json::Map<String, serde_json::Value> =
                counts.into_iter().map(|(status, n)| (status.as_str().to_string(), json!(n))).collect();
            let search = json!({
                "documents": state.search.num_docs(),
                "applied_seq": *state.search.applied_seq().borrow(),
            });
            Json(json!({
                "status": "ok", "services": services, "crawl_queue": state.dispatcher.pending(), "search": search
            }))
            .into_response()
        }
        Err(error) => Problem::unavailable("database_unavailable", error.to_string()).into_response(),
    }
}
