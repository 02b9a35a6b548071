//! Read queries on history: status transitions, offer changes, probes and uptime.

use super::StoreError;
use super::backend::Db;
use super::maintain::DAY_MS;
use crate::on_conn;

/// History rows a service's detail shows per kind: the most recent ones (the store keeps up to
/// `record::MAX_HISTORY_ROWS` per service, which the changes feed reads).
pub const HISTORY_SHOWN: i64 = 100;

/// One status transition.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct StatusChange {
    pub changed_at: i64,
    pub old_status: Option<String>,
    pub new_status: String,
    pub reason_code: Option<String>,
}

/// The most recent status transitions, oldest first ([`HISTORY_SHOWN`] at most).
pub async fn status_changes(db: impl Into<Db<'_>>, id: i64) -> Result<Vec<StatusChange>, StoreError> {
    let mut held = db.into().hold().await?;
    let rows: Vec<(i64, Option<String>, String, Option<String>)> = on_conn!(&mut held.conn(), |c| sqlx::query_as(
        "SELECT changed_at, old_status, new_status, reason_code FROM (
             SELECT id, changed_at, old_status, new_status, reason_code FROM status_changes
             WHERE service_id = $1 ORDER BY changed_at DESC, id DESC LIMIT $2) AS recent
         ORDER BY changed_at, id",
    )
    .bind(id)
    .bind(HISTORY_SHOWN)
    .fetch_all(c)
    .await)?;
    Ok(rows
        .into_iter()
        .map(|(changed_at, old_status, new_status, reason_code)| StatusChange {
            changed_at,
            old_status,
            new_status,
            reason_code,
        })
        .collect())
}

type OfferChangeRow = (i64, String, String, String, String, Option<String>, Option<String>);
type DailyRow = (i64, i64, i64, Option<f64>, Option<f64>, Option<f64>);

/// One change in a service's offers.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct OfferChange {
    pub changed_at: i64,
    /// `price`, `pay_to`, `added` or `removed`.
    pub kind: String,
    pub scheme: String,
    pub network: String,
    pub asset: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
}

/// The most recent offer changes, oldest first ([`HISTORY_SHOWN`] at most).
pub async fn offer_changes(db: impl Into<Db<'_>>, id: i64) -> Result<Vec<OfferChange>, StoreError> {
    let mut held = db.into().hold().await?;
    let rows: Vec<OfferChangeRow> = on_conn!(&mut held.conn(), |c| sqlx::query_as(
        "SELECT changed_at, kind, scheme, network, asset, old_value, new_value FROM (
             SELECT id, changed_at, kind, scheme, network, asset, old_value, new_value FROM offer_changes
             WHERE service_id = $1 ORDER BY changed_at DESC, id DESC LIMIT $2) AS recent
         ORDER BY changed_at, id",
    )
    .bind(id)
    .bind(HISTORY_SHOWN)
    .fetch_all(c)
    .await)?;
    Ok(rows
        .into_iter()
        .map(|(changed_at, kind, scheme, network, asset, old_value, new_value)| OfferChange {
            changed_at,
            kind,
            scheme,
            network,
            asset,
            old_value,
            new_value,
        })
        .collect())
}

/// Raw probes kept for a service (the retention window).
pub async fn probe_count(db: impl Into<Db<'_>>, id: i64) -> Result<i64, StoreError> {
    let mut held = db.into().hold().await?;
    Ok(on_conn!(&mut held.conn(), |c| sqlx::query_scalar("SELECT COUNT(*) FROM probes WHERE service_id = $1")
        .bind(id)
        .fetch_one(c)
        .await)?)
}

/// Probes and successes (`listed`) since `since` (epoch ms, rounded down to its UTC day): daily
/// rollups for finished days, raw probes for days not rolled up yet. One statement, so a
/// roll-up committed in between cannot be counted twice or not at all.
pub async fn uptime(db: impl Into<Db<'_>>, id: i64, since: i64) -> Result<Uptime, StoreError> {
    let mut held = db.into().hold().await?;
    let (probes, successes): (i64, i64) = on_conn!(&mut held.conn(), |c| sqlx::query_as(
        "WITH rolled AS (
             SELECT CAST(COALESCE(SUM(probes), 0) AS BIGINT) AS probes,
                    CAST(COALESCE(SUM(successes), 0) AS BIGINT) AS successes,
                    COALESCE(MAX(day) + 1, $2) * $3 AS raw_from
             FROM probe_daily WHERE service_id = $1 AND day >= $2)
         SELECT rolled.probes + COUNT(p.id),
                rolled.successes + COALESCE(SUM(CASE WHEN p.verdict = 'listed' THEN 1 ELSE 0 END), 0)
         FROM rolled LEFT JOIN probes p ON p.service_id = $1 AND p.probed_at >= rolled.raw_from
         GROUP BY rolled.probes, rolled.successes",
    )
    .bind(id)
    .bind(since.div_euclid(DAY_MS))
    .bind(DAY_MS)
    .fetch_one(c)
    .await)?;
    Ok(Uptime { probes, successes })
}

/// Probes and successes per UTC day from `first_day` on (epoch days): roll-ups for finished
/// days, raw probes for days not rolled up yet; days without probes are absent.
pub async fn uptime_by_day(db: impl Into<Db<'_>>, id: i64, first_day: i64) -> Result<Vec<(i64, Uptime)>, StoreError> {
    let mut held = db.into().hold().await?;
    let rows: Vec<(i64, i64, i64)> = on_conn!(&mut held.conn(), |c| sqlx::query_as(
        "SELECT day, CAST(SUM(probes) AS BIGINT), CAST(SUM(successes) AS BIGINT) FROM (
             SELECT day, probes, successes FROM probe_daily WHERE service_id = $1 AND day >= $2
             UNION ALL
             SELECT probed_at / $3, 1, CASE WHEN verdict = 'listed' THEN 1 ELSE 0 END FROM probes
             WHERE service_id = $1 AND probed_at >= $2 * $3
               AND probed_at / $3 > COALESCE((SELECT MAX(day) FROM probe_daily WHERE service_id = $1), -1)) AS days
         GROUP BY day ORDER BY day",
    )
    .bind(id)
    .bind(first_day)
    .bind(DAY_MS)
    .fetch_all(c)
    .await)?;
    Ok(rows.into_iter().map(|(day, probes, successes)| (day, Uptime { probes, successes })).collect())
}

/// Probe counts behind an uptime figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Uptime {
    pub probes: i64,
    pub successes: i64,
}

impl Uptime {
    /// Successes over probes, or `None` before any probe.
    pub fn ratio(&self) -> Option<f64> {
        (self.probes > 0).then(|| self.successes as f64 / self.probes as f64)
    }
}

/// A day's rollup.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DailyRollup {
    pub day: i64,
    pub probes: i64,
    pub successes: i64,
    pub latency_p50_ms: Option<f64>,
    pub latency_p95_ms: Option<f64>,
    pub latency_max_ms: Option<f64>,
}

pub async fn daily(db: impl Into<Db<'_>>, id: i64) -> Result<Vec<DailyRollup>, StoreError> {
    let mut held = db.into().hold().await?;
    let rows: Vec<DailyRow> = on_conn!(&mut held.conn(), |c| sqlx::query_as(
        "SELECT day, probes, successes, latency_p50_ms, latency_p95_ms, latency_max_ms FROM probe_daily
         WHERE service_id = $1 ORDER BY day",
    )
    .bind(id)
    .fetch_all(c)
    .await)?;
    Ok(rows
        .into_iter()
        .map(|(day, probes, successes, latency_p50_ms, latency_p95_ms, latency_max_ms)| DailyRollup {
            day,
            probes,
            successes,
            latency_p50_ms,
            latency_p95_ms,
            latency_max_ms,
        })
        .collect())
}
