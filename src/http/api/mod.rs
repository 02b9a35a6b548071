//! The JSON catalog API under `/api/v1` (`shared/INTERFACES.md` "HTTP"; `docs/API.md`): each
//! handler reads its request strictly (`crate::params`), calls one catalog use case and answers
//! its view (`http::views`) or a problem.

pub(crate) mod admin;
mod bearer;
pub(crate) mod changes;
pub(crate) mod claims;
pub(crate) mod demand;
pub(crate) mod detail;
pub(crate) mod export;
pub(crate) mod owner;
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
use axum::routing::{delete, get, post};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/services", get(search::services).post(register::create))
        .route("/services/lookup", get(register::lookup))
        .route("/services/{id}", get(detail::service))
        .route("/services/{id}/recrawl", post(recrawl::recrawl))
        .route("/changes", get(changes::changes))
        .route("/demand", get(demand::demand))
        .route("/export.ndjson", get(export::export))
        .route("/sources", get(sources::list).post(sources::create))
        .route("/sources/{id}", get(sources::one))
        .route("/claims/challenges", post(claims::challenge))
        .route("/claims", post(claims::prove))
        .route("/owner", get(owner::overview))
        .route("/owner/services/{id}/recrawl", post(owner::recrawl))
        .route("/owner/services/{id}/delist", post(owner::delist))
        .route("/owner/services/{id}/relist", post(owner::relist))
        .route("/owner/services/{id}/pins", post(owner::pin))
        .route("/owner/token", post(owner::rotate))
        .route("/owner/revoke", post(owner::revoke))
        .route("/admin/services/{id}/hide", post(admin::hide))
        .route("/admin/services/{id}/unhide", post(admin::unhide))
        .route("/admin/blocks", get(admin::blocks).post(admin::block))
        .route("/admin/blocks/{id}", delete(admin::unblock))
        .route("/admin/audit", get(admin::audit))
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
