//! Keeping history bounded: raw probes of finished UTC days are rolled up into `probe_daily`
//! (probes, successes, latency percentiles), and raw probes older than the retention window are
//! deleted once their day is rolled up. Uptime figures read the rollups plus today's raw probes.
//! Zero-result search counts older than `demand::KEEP_DAYS` go too, and on PostgreSQL the change
//! log's old rows (`change_feed::trim`).

use super::StoreError;
use super::backend::Conn;
use crate::on_conn;
use std::time::Duration;

pub const DAY_MS: i64 = 86_400_000;

/// Daily rollups are kept this long (raw probes only for the retention window).
pub const ROLLUP_KEEP_DAYS: i64 = 400;

/// One maintenance pass: at `now`, keep raw probes for `keep`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Retention {
    pub now: i64,
    pub keep: Duration,
}

/// What a pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MaintainReport {
    pub rollups_written: u64,
    pub probes_pruned: u64,
    /// Change log rows trimmed (PostgreSQL; `change_feed::CHANGE_LOG_KEEP`).
    pub changes_trimmed: u64,
}

pub(super) async fn apply(conn: &mut Conn<'_>, retention: &Retention) -> Result<MaintainReport, StoreError> {
    let today_start = retention.now.div_euclid(DAY_MS) * DAY_MS;
    let rows: Vec<(i64, i64, String, Option<f64>)> = on_conn!(conn, |c| sqlx::query_as(
        "SELECT p.service_id, p.probed_at / 86400000 AS day, p.verdict, p.total_ms FROM probes p
         WHERE p.probed_at < $1
           AND NOT EXISTS (SELECT 1 FROM probe_daily d WHERE d.service_id = p.service_id
                                                        AND d.day = p.probed_at / 86400000)
         ORDER BY p.service_id, day",
    )
    .bind(today_start)
    .fetch_all(c)
    .await)?;
    let mut report = MaintainReport::default();
    for group in rows.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
        let (service_id, day) = (group[0].0, group[0].1);
        let successes = group.iter().filter(|r| r.2 == "listed").count();
        let mut latencies: Vec<f64> = group.iter().filter_map(|r| r.3).collect();
        latencies.sort_by(f64::total_cmp);
        on_conn!(conn, |c| sqlx::query(
            "INSERT INTO probe_daily
                 (service_id, day, probes, successes, latency_p50_ms, latency_p95_ms, latency_max_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (service_id, day) DO UPDATE SET probes = excluded.probes, successes = excluded.successes,
                 latency_p50_ms = excluded.latency_p50_ms, latency_p95_ms = excluded.latency_p95_ms,
                 latency_max_ms = excluded.latency_max_ms",
        )
        .bind(service_id)
        .bind(day)
        .bind(group.len() as i64)
        .bind(successes as i64)
        .bind(percentile(&latencies, 50))
        .bind(percentile(&latencies, 95))
        .bind(latencies.last().copied())
        .execute(c)
        .await
        .map(|done| done.rows_affected()))?;
        report.rollups_written += 1;
    }
    let keep_ms = i64::try_from(retention.keep.as_millis()).unwrap_or(i64::MAX);
    // Only finished (rolled-up) days are ever pruned, whatever the window.
    let cutoff = retention.now.saturating_sub(keep_ms).min(today_start);
    report.probes_pruned = on_conn!(conn, |c| sqlx::query("DELETE FROM probes WHERE probed_at < $1")
        .bind(cutoff)
        .execute(c)
        .await
        .map(|done| done.rows_affected()))?;
    on_conn!(conn, |c| sqlx::query("DELETE FROM probe_daily WHERE day < $1")
        .bind(today_start / DAY_MS - ROLLUP_KEEP_DAYS)
        .execute(c)
        .await
        .map(|done| done.rows_affected()))?;
    super::demand::prune(conn, retention.now).await?;
    report.changes_trimmed = super::change_feed::trim(conn, super::change_feed::CHANGE_LOG_KEEP).await?;
    Ok(report)
}

/// Nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[f64], pct: usize) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (pct * sorted.len()).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50), Some(50.0));
        assert_eq!(percentile(&v, 95), Some(95.0));
        assert_eq!(percentile(&[3.0], 95), Some(3.0));
        assert_eq!(percentile(&[], 50), None);
    }
}
