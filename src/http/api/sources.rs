//! `POST /api/v1/sources` (add a source: stored at once, imported in the background, its
//! services probed), `GET /api/v1/sources`, `GET /api/v1/sources/{id}` (docs/SOURCES.md). Adding
//! is a write for the rate limits, like a registration; the operator can close it
//! (`serve --no-public-sources`).

use super::register::body_problem;
use crate::app::AppState;
use crate::catalog::sources::SourceState;
use crate::db::sources::SourceRow;
use crate::http::problem::Problem;
use crate::params::parse_service_id;
use crate::sources::SourceKind;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

/// The body of `POST /api/v1/sources`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSource {
    /// A facilitator's base URL, or the URL of a list of `URL [METHOD]` lines (ending in `.txt`).
    pub location: String,
    /// `facilitator` or `list` (detected from the location when left out).
    pub kind: Option<SourceKind>,
}

/// A source as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SourceView {
    #[serde(flatten)]
    pub source: SourceRow,
    /// An import of it is running now.
    pub running: bool,
}

impl From<SourceState> for SourceView {
    fn from(state: SourceState) -> SourceView {
        SourceView { source: state.row, running: state.running }
    }
}

/// The sources.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SourceList {
    pub sources: Vec<SourceView>,
}

/// Add a source.
///
/// Stores it and imports it in the background: every URL it lists is registered (or refused with
/// its reason) and probed; what the source claimed is kept as provenance. Poll the source for the
/// run's counts.
#[utoipa::path(post, path = "/api/v1/sources", tag = "sellers",
    request_body(content = NewSource, description = "The source"),
    responses(
        (status = 202, description = "Stored; the import runs in the background", body = SourceView),
        (status = 403, description = "Adding sources is closed on this server (`sources_closed`)"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    body: Result<Json<NewSource>, JsonRejection>,
) -> Result<Response, Problem> {
    if !state.public_sources {
        return Err(Problem::new(
            StatusCode::FORBIDDEN,
            "sources_closed",
            "Forbidden",
            "Adding sources is closed on this server; its operator imports them.",
        ));
    }
    let Json(body) = body.map_err(body_problem)?;
    let source = state.catalog.add_source(&body.location, body.kind).await?;
    Ok((StatusCode::ACCEPTED, Json(SourceView::from(source))).into_response())
}

/// List the sources.
#[utoipa::path(get, path = "/api/v1/sources", tag = "catalog",
    responses((status = 200, description = "Every source, oldest first", body = SourceList)))]
pub async fn list(State(state): State<AppState>) -> Result<Json<SourceList>, Problem> {
    let sources = state.catalog.sources().await?.into_iter().map(SourceView::from).collect();
    Ok(Json(SourceList { sources }))
}

/// One source.
#[utoipa::path(get, path = "/api/v1/sources/{id}", tag = "catalog",
    params(("id" = i64, Path, description = "The source id")),
    responses((status = 200, description = "The source and its last run", body = SourceView)))]
pub async fn one(State(state): State<AppState>, Path(raw): Path<String>) -> Result<Json<SourceView>, Problem> {
    let id = parse_service_id(&raw).map_err(|_| Problem::invalid_param("id", "expected a source id"))?;
    let source =
        state.catalog.source(id).await?.ok_or_else(|| Problem::not_found(format!("No source with id {id}.")))?;
    Ok(Json(source.into()))
}
