//! `GET /api/v1/services/{id}`: everything Agora knows about one service (`catalog::detail`),
//! served from the answer cache until this process writes the service (or the entry expires).

use super::{ServiceId, json_body};
use crate::app::AppState;
use crate::http::answer_cache::{Freshness, Refresh};
use crate::http::problem::Problem;
use crate::http::views::ServiceDetail;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;

/// Everything known about one service.
///
/// Offers, discovery metadata, the latest probe report, uptime over 24 hours, 7 and 30 days,
/// latency percentiles, recent probes, and its price, payTo and status history.
#[utoipa::path(get, path = "/api/v1/services/{id}", tag = "catalog",
    params(("id" = i64, Path, minimum = 1, example = 1, description = "Service id")),
    responses((status = 200, description = "The service", body = ServiceDetail)))]
pub async fn service(State(state): State<AppState>, ServiceId(id): ServiceId) -> Result<Response, Problem> {
    let catalog = &state.catalog;
    let freshness = Freshness {
        now: catalog.service_generation(),
        current: |made_at| catalog.service_unchanged(id, made_at),
        refresh: Refresh::Each,
    };
    let body = state
        .answers
        .detail
        .get_or_compute(Some(id), freshness, || async {
            let detail = ServiceDetail::from(catalog.detail(id).await?);
            Ok::<_, Problem>(Bytes::from(serde_json::to_vec(&detail).map_err(|e| Problem::internal(&e))?))
        })
        .await?;
    Ok(json_body(body))
}
