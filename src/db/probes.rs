//! Read queries on raw probes: the most recent ones, success counts over an exact window, and
//! latency percentiles (raw probes are kept for the retention window; older days live only in
//! the daily roll-ups, see [`super::history`]).

use super::StoreError;
use super::backend::Db;
use super::history::Uptime;
use crate::on_conn;

/// One probe as the detail answer shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct ProbeRow {
    pub probed_at: i64,
    pub verdict: String,
    pub http_status: Option<i64>,
    pub connect_ms: Option<f64>,
    pub first_byte_ms: Option<f64>,
    pub total_ms: Option<f64>,
    /// Problem codes of that probe.
    pub codes: Vec<String>,
}

type Row = (i64, String, Option<i64>, Option<f64>, Option<f64>, Option<f64>, String);

/// The latest `limit` probes, newest first.
pub async fn recent(db: impl Into<Db<'_>>, id: i64, limit: i64) -> Result<Vec<ProbeRow>, StoreError> {
    let mut held = db.into().hold().await?;
    let rows: Vec<Row> = on_conn!(&mut held.conn(), |c| sqlx::query_as(
        "SELECT probed_at, verdict, http_status, connect_ms, first_byte_ms, total_ms, codes FROM probes
         WHERE service_id = $1 ORDER BY probed_at DESC, id DESC LIMIT $2",
    )
    .bind(id)
    .bind(limit)
    .fetch_all(c)
    .await)?;
    rows.into_iter()
        .map(|(probed_at, verdict, http_status, connect_ms, first_byte_ms, total_ms, codes)| {
            Ok(ProbeRow {
                probed_at,
                verdict,
                http_status,
                connect_ms,
                first_byte_ms,
                total_ms,
                // Written by the recorder as a JSON list; anything else is a damaged row, said so.
                codes: serde_json::from_str(&codes)?,
            })
        })
        .collect()
}

/// Probes and successes (`listed`) since exactly `since` (epoch ms), from raw probes.
pub async fn uptime_since(db: impl Into<Db<'_>>, id: i64, since: i64) -> Result<Uptime, StoreError> {
    let mut held = db.into().hold().await?;
    let (probes, successes): (i64, i64) = on_conn!(&mut held.conn(), |c| {
        sqlx::query_as(
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN verdict = 'listed' THEN 1 ELSE 0 END), 0) FROM probes WHERE service_id = $1 AND probed_at >= $2",
    )
    .bind(id)
    .bind(since)
    .fetch_one(c)
    .await
    })?;
    Ok(Uptime { probes, successes })
}

/// Response-time percentiles of the probes since `since` that got an answer.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Latency {
    pub samples: usize,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

pub async fn latency_since(db: impl Into<Db<'_>>, id: i64, since: i64) -> Result<Latency, StoreError> {
    let mut held = db.into().hold().await?;
    let mut totals: Vec<f64> = on_conn!(&mut held.conn(), |c| sqlx::query_scalar(
        "SELECT total_ms FROM probes WHERE service_id = $1 AND probed_at >= $2 AND total_ms IS NOT NULL",
    )
    .bind(id)
    .bind(since)
    .fetch_all(c)
    .await)?;
    totals.sort_by(f64::total_cmp);
    // Nearest rank: the smallest value with at least p of the samples at or below it.
    let rank = |p: f64| {
        let at = ((totals.len() as f64 * p).ceil() as usize).saturating_sub(1);
        totals.get(at).copied()
    };
    Ok(Latency { samples: totals.len(), p50_ms: rank(0.50), p95_ms: rank(0.95), p99_ms: rank(0.99) })
}
