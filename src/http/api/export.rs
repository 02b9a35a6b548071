//! `GET /api/v1/export.ndjson`: the whole listed catalog, one JSON object per line (a service with
//! its offers), streamed in id order in batches so memory stays flat however large the catalog.
//! A store error mid-stream ends the body early (the status line is already sent), which a client
//! sees as a truncated transfer.

use crate::db::services;
use crate::http::HttpState;
use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures_util::{StreamExt, stream};

/// Services read per batch.
const BATCH: i64 = 500;

pub async fn export(State(state): State<HttpState>) -> Response {
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
    ([(header::CONTENT_TYPE, "application/x-ndjson")], Body::from_stream(batches.fuse())).into_response()
}
