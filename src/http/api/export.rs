//! `GET /api/v1/export.ndjson`: the whole listed catalog, one JSON object per line (a service with
//! its offers), streamed from `catalog::export` so memory stays flat however large the catalog.
//! A store error mid-stream ends the body early (the status line is already sent), which a client
//! sees as a truncated transfer.

use crate::app::AppState;
use crate::db::services::ServiceRow;
use crate::http::problem::Problem;
use crate::http::views::ServiceView;
use crate::params::{Known, Params};
use agora_crawler::Offer;
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde::Serialize;

/// One line: the shape of a search hit without `score`/`matched`.
#[derive(Serialize)]
struct Line {
    #[serde(flatten)]
    service: ServiceView,
    offers: Vec<Offer>,
}

/// The whole listed catalog as NDJSON.
///
/// One service per line, with its offers (the shape of a search hit without `score`/`matched`).
#[utoipa::path(get, path = "/api/v1/export.ndjson", tag = "catalog",
    responses((status = 200, description = "One JSON object per line", content_type = "application/x-ndjson", body = String)))]
pub async fn export(State(state): State<AppState>, RawQuery(query): RawQuery) -> Result<Response, Problem> {
    Params::parse(query.as_deref(), Known::once(&[]))?;
    let lines = state.catalog.export().map(|batch| match batch {
        Ok(batch) => Ok(ndjson(batch)),
        Err(error) => {
            tracing::error!(%error, "export stopped");
            Err(std::io::Error::other(error.to_string()))
        }
    });
    // Fused: the compression layer may poll once more after the end, which `unfold` forbids.
    Ok(([(header::CONTENT_TYPE, "application/x-ndjson")], Body::from_stream(lines.fuse())).into_response())
}

fn ndjson(batch: Vec<(ServiceRow, Vec<Offer>)>) -> Vec<u8> {
    let mut lines = Vec::new();
    for (service, offers) in batch {
        if let Err(error) = serde_json::to_writer(&mut lines, &Line { service: service.into(), offers }) {
            tracing::error!(%error, "an export line did not serialize");
        }
        lines.push(b'\n');
    }
    lines
}
