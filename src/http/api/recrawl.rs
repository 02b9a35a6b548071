//! `POST /api/v1/services/{id}/recrawl`: a seller who fixed something asks for a probe now and
//! gets its result, ahead of scheduled work on the host but still one request at a time per host.
//! At most one such probe per service per [`RECRAWL_INTERVAL_MS`] (counted from the last probe of
//! any kind), so a loop of requests cannot turn Agora against a seller.

use super::detail::service_at;
use super::register::ServiceWithReport;
use crate::db::StoreError;
use crate::db::services::{self, DueService};
use crate::http::HttpState;
use crate::http::problem::Problem;
use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};

/// Shortest time between a service's last probe and a requested one.
pub const RECRAWL_INTERVAL_MS: i64 = 60_000;

/// Probe a registered service now.
///
/// At most once a minute per service (429 `recrawl_too_soon` with `Retry-After`).
#[utoipa::path(post, path = "/api/v1/services/{id}/recrawl", tag = "sellers",
    params(("id" = i64, Path, minimum = 1, example = 1, description = "Service id")),
    responses((status = 200, description = "The service after the probe, with its report", body = ServiceWithReport)))]
pub async fn recrawl(
    State(state): State<HttpState>,
    raw: Result<Path<String>, PathRejection>,
) -> Result<Json<ServiceWithReport>, Problem> {
    let pool = state.store.read();
    let service = service_at(pool, raw).await?;
    let now = state.dispatcher.worker().clock().now_ms();
    if let Some(last) = service.last_probed_at
        && now - last < RECRAWL_INTERVAL_MS
    {
        let wait = (RECRAWL_INTERVAL_MS - (now - last) + 999) / 1000;
        return Err(Problem::too_many(
            "recrawl_too_soon",
            format!("This service was probed {}s ago; ask again in {wait}s.", (now - last) / 1000),
            u32::try_from(wait).unwrap_or(1),
        ));
    }
    let id = service.id;
    let due = DueService { id, url: service.url, method: service.method, host: service.host };
    let probed = state.dispatcher.probe_now(due).await?;
    let service = services::get(pool, id).await?.ok_or(StoreError::NoSuchService(id))?;
    Ok(Json(ServiceWithReport::probed(pool, service, &probed.report).await?))
}
