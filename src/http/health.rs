//! `GET /healthz`: liveness plus what an operator checks first — can the database be read, how
//! big is the catalog, how much crawl work is queued, how far the search index has caught up.

use super::problem::Problem;
use crate::app::AppState;
use axum::Json;
use axum::extract::State;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: &'static str,
    /// Services by status (`pending`, `listed`, `degraded`, `rejected`, `delisted`).
    pub services: BTreeMap<String, i64>,
    /// Probes waiting to run.
    pub crawl_queue: usize,
    pub search: IndexHealth,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IndexHealth {
    /// Documents in the search index.
    pub documents: u64,
    /// The last catalog change the index has applied (compare with the store's).
    pub applied_seq: i64,
}

/// Is Agora up?
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "Up, with catalog and queue figures", body = Health)))]
pub async fn healthz(State(state): State<AppState>) -> Result<Json<Health>, Problem> {
    let stats = state.catalog.stats().await;
    Ok(Json(Health {
        status: "ok",
        services: stats.services?.into_iter().map(|(status, n)| (status.as_str().to_string(), n)).collect(),
        crawl_queue: stats.crawl_queue,
        search: IndexHealth { documents: stats.index_documents, applied_seq: stats.index_seq },
    }))
}
