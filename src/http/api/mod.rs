//! The JSON catalog API under `/api/v1` (`shared/INTERFACES.md` "HTTP"; `docs/API.md`).

pub(crate) mod changes;
pub(crate) mod detail;
pub(crate) mod export;
pub mod params;
pub mod recrawl;
pub(crate) mod register;
pub(crate) mod search;

use super::HttpState;
use axum::Router;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

pub fn routes() -> Router<HttpState> {
    Router::new()
        .route("/services", get(search::services).post(register::create))
        .route("/services/lookup", get(register::lookup))
        .route("/services/{id}", get(detail::service))
        .route("/services/{id}/recrawl", post(recrawl::recrawl))
        .route("/changes", get(changes::changes))
        .route("/export.ndjson", get(export::export))
}

/// An answer already serialized (from an answer cache).
fn json_body(body: impl Into<axum::body::Body>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body.into()).into_response()
}
