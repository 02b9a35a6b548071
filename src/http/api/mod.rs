//! The JSON catalog API under `/api/v1` (`shared/INTERFACES.md` "HTTP"; `docs/API.md`).

mod detail;
mod search;

use super::HttpState;
use axum::Router;
use axum::routing::get;

pub fn routes() -> Router<HttpState> {
    Router::new().route("/services", get(search::services)).route("/services/{id}", get(detail::service))
}
