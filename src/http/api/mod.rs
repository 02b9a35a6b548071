//! The JSON catalog API under `/api/v1` (`shared/INTERFACES.md` "HTTP"; `docs/API.md`): each
//! handler reads its request strictly (`crate::params`), calls one catalog use case and answers
//! its view (`http::views`) or a problem.

pub(crate) mod changes;
pub(crate) mod detail;
pub(crate) mod export;
pub(crate) mod recrawl;
pub(crate) mod register;
pub(crate) mod search;
pub(crate) mod sources;

use super::problem::Problem;
use crate::app::AppState;
use crate::params::parse_service_id;
use axum::Router;
use axum::extract::{FromRequestParts, Path};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/services", get(search::services).post(register::create))
        .route("/services/lookup", get(register::lookup))
        .route("/services/{id}", get(detail::service))
        .route("/services/{id}/recrawl", post(recrawl::recrawl))
        .route("/changes", get(changes::changes))
        .route("/export.ndjson", get(export::export))
        .route("/sources", get(sources::list).post(sources::create))
        .route("/sources/{id}", get(sources::one))
}

/// An answer already serialized (from an answer cache).
fn json_body(body: impl Into<axum::body::Body>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body.into()).into_response()
}

/// A `{id}` path segment: a service id, else a 400 problem naming `id`.
pub struct ServiceId(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for ServiceId {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|e| Problem::invalid_param("id", e.body_text()))?;
        Ok(ServiceId(parse_service_id(&raw)?))
    }
}
