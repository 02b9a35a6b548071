//! `GET /api/v1/export.ndjson`: the whole listed catalog, one JSON object per line (a service with
//! its offers), streamed in id order in batches so memory stays flat however large the catalog.
//! A store error mid-stream ends the body early (the status line is already sent), which a client
//! sees as a truncated transfer.

use super::params::Params;
use crate::db::services;
use crate::http::HttpState;
use crate::http::problem::Problem;
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures_util::{StreamExt, stream};

/// Services read per batch.
const BATCH: i64 = 500;

/// The whole listed catalog as NDJSON.
///
/// One service per line, with its offers (the shape of a search hit without `score`/`matched`).
#[utoipa::path(get, path = "/api/v1/export.ndjson", tag = "catalog",
    responses((status = 200, description = "One JSON object per line", content_type = "application/x-ndjson", body = String)))]
pub async fn export(State(state): State<HttpState>, RawQuery(query): RawQuery) -> Result<Response, Problem> {
    Params::parse(query.as_deref(), &[])?;
    let pool = state.store.read().clone();
    let batches = stream::unfold(Some(0i64), move |after| {
        let pool = pool.clone();
        async move {
            let after = after?;
            match services::listed_after(&pool, after, BATCH).await {
                Ok(batch) if batch.is_empty() => None,
                Ok(batch) => {
                    let last = batch.last().map(|(s, _)| s.id);
                    let mut lines = Vec::new();
                    for (service, offers) in batch {
                        // The shape of a search hit: the service's fields and its offers.
                        let mut line = serde_json::to_value(&service).unwrap_or_default();
                        line["offers"] = serde_json::to_value(&offers).unwrap_or_default();
                        let _ = serde_json::to_writer(&mut lines, &line);
                        lines.push(b'\n');
                    }
                    Some((Ok::<_, std::io::Error>(lines), last))
                }
                Err(error) => {
                    tracing::error!(%error, "export stopped");
                    Some((Err(std::io::Error::other(error.to_string())), None))
                }
            }
        }
    });
    // Fused: the compression layer may poll once more after the end, which `unfold` forbids.
    Ok(([(header::CONTENT_TYPE, "application/x-ndjson")], Body::from_stream(batches.fuse())).into_response())
}
