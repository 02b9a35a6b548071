//! `GET /api/v1/changes`: the event feed, oldest first (`catalog::changes`). Start with `since`
//! (epoch ms) or from the beginning; continue with `cursor` = the previous page's `next_cursor`.

use crate::app::AppState;
use crate::catalog::changes::ChangesFrom;
use crate::db::events::Event;
use crate::http::problem::Problem;
use crate::params::{Known, Params};
use axum::Json;
use axum::extract::{RawQuery, State};
use serde::Serialize;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChangesPage {
    pub events: Vec<Event>,
    /// Pass as `cursor` for the next page.
    pub next_cursor: String,
    /// More events are ready now (the page was full).
    pub more: bool,
}

const CHANGES_PARAMS: Known<'static> = Known::once(&["cursor", "since", "limit"]);

/// The event feed, oldest first.
///
/// Start with `since` or from the beginning; continue with the previous page's `next_cursor`.
#[utoipa::path(get, path = "/api/v1/changes", tag = "catalog",
    params(
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page"),
        ("since" = Option<i64>, Query, minimum = 0, description = "Epoch milliseconds (instead of `cursor`)"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 500, description = "Events per page (default 100)"),
    ),
    responses((status = 200, description = "One page of events", body = ChangesPage)))]
pub async fn changes(State(state): State<AppState>, RawQuery(query): RawQuery) -> Result<Json<ChangesPage>, Problem> {
    let params = Params::parse(query.as_deref(), CHANGES_PARAMS)?;
    let limit = params.int("limit", 1..=500, 100)?;
    let since = params.get("since").is_some().then(|| params.int("since", 0..=i64::MAX, 0)).transpose()?;
    let from = ChangesFrom::parse(params.get("cursor"), since)?;
    let page = state.catalog.changes(from, limit).await?;
    Ok(Json(ChangesPage { events: page.events, next_cursor: page.next_cursor, more: page.more }))
}
