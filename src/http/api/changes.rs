//! `GET /api/v1/changes`: the event feed (registered, listed, rejected, degraded, delisted, price
//! and payTo changes, offers added or removed), oldest first. Start with `since` (epoch ms) or from
//! the beginning; continue with `cursor` = the previous page's `next_cursor`. An empty page keeps
//! the same cursor, so polling with it never misses or repeats an event.

use super::params::Params;
use crate::db::events::{self, Cursor, Event};
use crate::http::HttpState;
use crate::http::problem::Problem;
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
pub async fn changes(State(state): State<HttpState>, RawQuery(query): RawQuery) -> Result<Json<ChangesPage>, Problem> {
    let params = Params::parse(query.as_deref(), &["cursor", "since", "limit"])?;
    let limit = params.int("limit", 1..=500, 100)?;
    let start = match (params.get("cursor"), params.get("since")) {
        (Some(_), Some(_)) => return Err(Problem::invalid_param("since", "give either cursor or since, not both")),
        (Some(text), None) => {
            Cursor::parse(text).ok_or_else(|| Problem::invalid_param("cursor", "not a cursor from this feed"))?
        }
        // Everything at or after `since`: the cursor just before it.
        (None, Some(_)) => Cursor { at: params.int("since", 0..=i64::MAX, 0)? - 1, source: i64::MAX, id: i64::MAX },
        (None, None) => Cursor { at: i64::MIN, source: 0, id: 0 },
    };
    let events = events::after(state.store.read(), start, limit).await?;
    let next_cursor = events.last().map_or_else(|| start.encode(), |e| e.cursor.clone());
    let more = events.len() as i64 == limit;
    Ok(Json(ChangesPage { events, next_cursor, more }))
}
