//! The operator API under `/api/v1/admin` (docs/OWNERSHIP.md): `Authorization: Bearer <operator
//! token>` on every request; without a configured token every request is 401.

use super::ServiceId;
use super::bearer::Bearer;
use super::register::body_problem;
use crate::app::AppState;
use crate::catalog::admin::BlockKind;
use crate::db::moderation::{AuditEntry, Block};
use crate::http::problem::Problem;
use crate::http::views::ServiceView;
use crate::params::parse_service_id;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

/// Audit entries per page.
const AUDIT_PAGE: i64 = 100;

/// The body of `POST /api/v1/admin/services/{id}/hide`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HideBody {
    /// Shown on the service's page and in its API answers.
    pub reason: String,
}

/// The body of `POST /api/v1/admin/blocks`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BlockBody {
    /// `host`, `origin` or `pay_to`.
    pub kind: String,
    pub value: String,
    /// Public: told to whoever is refused.
    pub reason: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BlockList {
    pub blocks: Vec<Block>,
}

/// `GET /api/v1/admin/audit` parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Entries before this id (the last page's smallest).
    pub before: Option<i64>,
    /// Only this service's entries.
    pub service: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditPage {
    /// Newest first.
    pub entries: Vec<AuditEntry>,
}

/// Hide a service with a public reason: it leaves search, the Bazaar endpoints and the feeds.
#[utoipa::path(post, path = "/api/v1/admin/services/{id}/hide", tag = "operators",
    params(("id" = i64, Path, description = "Service id")),
    request_body(content = HideBody, description = "The public reason"),
    responses((status = 200, description = "Hidden", body = ServiceView)))]
pub async fn hide(
    State(state): State<AppState>,
    Bearer(token): Bearer,
    ServiceId(id): ServiceId,
    body: Result<Json<HideBody>, JsonRejection>,
) -> Result<Json<ServiceView>, Problem> {
    let operator = state.catalog.operator(&token)?;
    let Json(body) = body.map_err(body_problem)?;
    Ok(Json(state.catalog.hide(&operator, id, Some(&body.reason)).await?.into()))
}

/// Show a hidden service again.
#[utoipa::path(post, path = "/api/v1/admin/services/{id}/unhide", tag = "operators",
    params(("id" = i64, Path, description = "Service id")),
    responses((status = 200, description = "Shown", body = ServiceView)))]
pub async fn unhide(
    State(state): State<AppState>,
    Bearer(token): Bearer,
    ServiceId(id): ServiceId,
) -> Result<Json<ServiceView>, Problem> {
    let operator = state.catalog.operator(&token)?;
    Ok(Json(state.catalog.hide(&operator, id, None).await?.into()))
}

/// The blocks.
#[utoipa::path(get, path = "/api/v1/admin/blocks", tag = "operators",
    responses((status = 200, description = "Every block", body = BlockList)))]
pub async fn blocks(State(state): State<AppState>, Bearer(token): Bearer) -> Result<Json<BlockList>, Problem> {
    let operator = state.catalog.operator(&token)?;
    Ok(Json(BlockList { blocks: state.catalog.blocks(&operator).await? }))
}

/// Block a host, origin or payTo from registration, import and listing; what it matches now is
/// hidden at once.
#[utoipa::path(post, path = "/api/v1/admin/blocks", tag = "operators",
    request_body(content = BlockBody, description = "What to block"),
    responses((status = 201, description = "Blocked", body = Block)))]
pub async fn block(
    State(state): State<AppState>,
    Bearer(token): Bearer,
    body: Result<Json<BlockBody>, JsonRejection>,
) -> Result<Response, Problem> {
    let operator = state.catalog.operator(&token)?;
    let Json(body) = body.map_err(body_problem)?;
    let kind = BlockKind::parse(&body.kind)
        .ok_or_else(|| Problem::invalid_param("kind", "expected `host`, `origin` or `pay_to`"))?;
    let block = state.catalog.block(&operator, kind, &body.value, &body.reason).await?;
    Ok((StatusCode::CREATED, Json(block)).into_response())
}

/// Lift a block; what it alone hid shows again.
#[utoipa::path(delete, path = "/api/v1/admin/blocks/{id}", tag = "operators",
    params(("id" = i64, Path, description = "Block id")),
    responses((status = 204, description = "Lifted")))]
pub async fn unblock(
    State(state): State<AppState>,
    Bearer(token): Bearer,
    Path(raw): Path<String>,
) -> Result<Response, Problem> {
    let operator = state.catalog.operator(&token)?;
    let id = parse_service_id(&raw).map_err(|_| Problem::invalid_param("id", "expected a block id"))?;
    if !state.catalog.unblock(&operator, id).await? {
        return Err(Problem::not_found(format!("No block with id {id}.")));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The audit log: every owner and operator action, newest first.
#[utoipa::path(get, path = "/api/v1/admin/audit", tag = "operators",
    params(AuditQuery),
    responses((status = 200, description = "One page", body = AuditPage)))]
pub async fn audit(
    State(state): State<AppState>,
    Bearer(token): Bearer,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<AuditPage>, Problem> {
    let operator = state.catalog.operator(&token)?;
    let Query(query) = query.map_err(|e| Problem::invalid_param("query", e.body_text()))?;
    let entries = state.catalog.audit_log(&operator, query.before, query.service, AUDIT_PAGE).await?;
    Ok(Json(AuditPage { entries }))
}
