//! The HTTP side. For now only `GET /healthz`; the catalog API and web pages come next
//! (`shared/INTERFACES.md` "HTTP").

use crate::db::{Store, services};
use crate::jobs::Dispatcher;
use crate::search::SearchIndex;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

#[derive(Clone)]
pub struct HttpState {
    pub store: Store,
    pub dispatcher: Dispatcher,
    pub search: SearchIndex,
}

pub fn router(state: HttpState) -> Router {
    Router::new().route("/healthz", get(healthz)).with_state(state)
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
        Err(error) => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "application/problem+json")],
            Json(json!({
                "type": "about:blank", "title": "Database unavailable", "status": 503,
                "detail": error.to_string(), "code": "database_unavailable"
            })),
        )
            .into_response(),
    }
}
