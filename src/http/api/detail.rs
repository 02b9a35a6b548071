//! `GET /api/v1/services/{id}`: everything Agora knows about one service — the stored row and
//! offers, the discovery metadata and the latest probe report, uptime over 24 hours, 7 and 30
//! days, response-time percentiles, the most recent probes, and its offer and status history.

use super::json_body;
use crate::db::StoreError;
use crate::db::history::{self, OfferChange, StatusChange, Uptime};
use crate::db::maintain::DAY_MS;
use crate::db::probes::{self, Latency, ProbeRow};
use crate::db::services::{self, ServiceRow};
use crate::http::HttpState;
use crate::http::problem::Problem;
use agora_crawler::Offer;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::Serialize;
use serde_json::Value;
use sqlx::SqlitePool;

/// Probes listed under `recent_probes`.
const RECENT_PROBES: i64 = 20;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ServiceDetail {
    #[serde(flatten)]
    pub service: ServiceRow,
    pub offers: Vec<Offer>,
    /// Service name, tags, input/output schemas as the seller declared them (last valid listing).
    #[schema(value_type = Option<Object>)]
    pub discovery: Option<Value>,
    /// The latest probe report: the "why" behind the status (`shared/INTERFACES.md`).
    #[schema(value_type = Option<agora_crawler::ProbeReport>)]
    pub report: Option<Value>,
    pub uptime: UptimeWindows,
    /// Over the last 7 days.
    pub latency: Latency,
    pub recent_probes: Vec<ProbeRow>,
    pub offer_changes: Vec<OfferChange>,
    pub status_changes: Vec<StatusChange>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UptimeWindows {
    #[serde(rename = "24h")]
    pub day: UptimeFigure,
    #[serde(rename = "7d")]
    pub week: UptimeFigure,
    #[serde(rename = "30d")]
    pub month: UptimeFigure,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UptimeFigure {
    pub probes: i64,
    pub successes: i64,
    /// Successes over probes; `null` before any probe in the window.
    pub ratio: Option<f64>,
}

impl From<Uptime> for UptimeFigure {
    fn from(uptime: Uptime) -> Self {
        UptimeFigure { probes: uptime.probes, successes: uptime.successes, ratio: uptime.ratio() }
    }
}

/// A path id: a positive integer, else a 400 naming `id`.
pub fn parse_id(raw: &str) -> Result<i64, Problem> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| Problem::invalid_param("id", format!("{raw:?} is not a service id (a positive integer)")))
}

/// The service a `{id}` path names: 400 for a malformed id, 404 for an unknown one.
pub async fn service_at(pool: &SqlitePool, raw: Result<Path<String>, PathRejection>) -> Result<ServiceRow, Problem> {
    let id = parse_id(&raw.map_err(|e| Problem::invalid_param("id", e.body_text()))?.0)?;
    Ok(services::get(pool, id).await?.ok_or(StoreError::NoSuchService(id))?)
}

/// Everything known about one service.
///
/// Offers, discovery metadata, the latest probe report, uptime over 24 hours, 7 and 30 days,
/// latency percentiles, recent probes, and its price, payTo and status history.
#[utoipa::path(get, path = "/api/v1/services/{id}", tag = "catalog",
    params(("id" = i64, Path, minimum = 1, example = 1, description = "Service id")),
    responses((status = 200, description = "The service", body = ServiceDetail)))]
pub async fn service(
    State(state): State<HttpState>,
    raw: Result<Path<String>, PathRejection>,
) -> Result<Response, Problem> {
    let id = parse_id(&raw.map_err(|e| Problem::invalid_param("id", e.body_text()))?.0)?;
    let touches = state.store.writer().touches();
    // Served from the cache until this process writes the service (or the entry expires).
    if let Some(body) = state.answers.detail.get(&id, |made_at| !touches.touched_since(id, made_at)) {
        return Ok(json_body(body));
    }
    let generation = touches.generation();
    let detail = read_detail(&state, id).await?;
    let body = Bytes::from(serde_json::to_vec(&detail).map_err(|e| Problem::internal(&e))?);
    state.answers.detail.put(id, generation, body.clone());
    Ok(json_body(body))
}

pub(crate) async fn read_detail(state: &HttpState, id: i64) -> Result<ServiceDetail, Problem> {
    // One read transaction for all eleven reads: one snapshot (the probes, uptime and history
    // agree), and one pool acquire instead of eleven, which cost about as much as the reads.
    let mut snapshot = state.store.read().begin().await.map_err(StoreError::from)?;
    let conn = &mut *snapshot;
    let service = services::get(&mut *conn, id).await?.ok_or(StoreError::NoSuchService(id))?;
    let now = state.dispatcher.worker().clock().now_ms();
    Ok(ServiceDetail {
        offers: services::offers(&mut *conn, id).await?,
        discovery: services::discovery(&mut *conn, id).await?,
        report: services::latest_report(&mut *conn, id).await?,
        uptime: UptimeWindows {
            // Exact for the last day (raw probes); whole UTC days (roll-ups) for the longer windows.
            day: probes::uptime_since(&mut *conn, id, now - DAY_MS).await?.into(),
            week: history::uptime(&mut *conn, id, now - 7 * DAY_MS).await?.into(),
            month: history::uptime(&mut *conn, id, now - 30 * DAY_MS).await?.into(),
        },
        latency: probes::latency_since(&mut *conn, id, now - 7 * DAY_MS).await?,
        recent_probes: probes::recent(&mut *conn, id, RECENT_PROBES).await?,
        offer_changes: history::offer_changes(&mut *conn, id).await?,
        status_changes: history::status_changes(&mut *conn, id).await?,
        service,
    })
}
