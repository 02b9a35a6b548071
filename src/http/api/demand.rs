//! `GET /api/v1/demand`: what was searched for and not found, most-missed first
//! (`catalog::demand`) — demand a seller can meet.

use crate::app::AppState;
use crate::catalog::demand::SHOWN_FROM;
use crate::db::demand::{KEEP_DAYS, Missed};
use crate::http::problem::Problem;
use crate::params::{Known, Params};
use axum::Json;
use axum::extract::{RawQuery, State};
use serde::Serialize;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Demand {
    /// The UTC days counted, today included.
    pub days: i64,
    /// Misses a query needs to be listed.
    pub min_misses: i64,
    /// Most-missed first (ties alphabetical).
    pub queries: Vec<Missed>,
}

const DEMAND_PARAMS: Known<'static> = Known::once(&["days", "limit"]);

/// Searches that found nothing.
///
/// Text searches (API, pages, MCP) with no match, counted per query and UTC day; no personal data
/// is kept (docs/SEARCH.md "Demand"). Counts are written about once a minute.
#[utoipa::path(get, path = "/api/v1/demand", tag = "catalog",
    params(
        ("days" = Option<i64>, Query, minimum = 1, maximum = 30, description = "UTC days counted, today included (default 7)"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 100, description = "Queries listed (default 50)"),
    ),
    responses((status = 200, description = "The most-missed queries", body = Demand)))]
pub async fn demand(State(state): State<AppState>, RawQuery(query): RawQuery) -> Result<Json<Demand>, Problem> {
    let params = Params::parse(query.as_deref(), DEMAND_PARAMS)?;
    let days = params.int("days", 1..=KEEP_DAYS, 7)?;
    let limit = params.int("limit", 1..=100, 50)?;
    let queries = state.catalog.demand(days, limit).await?;
    Ok(Json(Demand { days, min_misses: SHOWN_FROM, queries }))
}
