//! `POST /api/v1/services/{id}/recrawl`: probe a registered service now
//! (`catalog::recrawl`: at most once a minute per service).

use super::ServiceId;
use crate::app::AppState;
use crate::http::problem::Problem;
use crate::http::views::ServiceWithReport;
use axum::Json;
use axum::extract::State;

/// Probe a registered service now.
///
/// At most once a minute per service (429 `recrawl_too_soon` with `Retry-After`).
#[utoipa::path(post, path = "/api/v1/services/{id}/recrawl", tag = "sellers",
    params(("id" = i64, Path, minimum = 1, example = 1, description = "Service id")),
    responses((status = 200, description = "The service after the probe, with its report", body = ServiceWithReport)))]
pub async fn recrawl(
    State(state): State<AppState>,
    ServiceId(id): ServiceId,
) -> Result<Json<ServiceWithReport>, Problem> {
    Ok(Json(state.catalog.recrawl(id).await?.into()))
}
