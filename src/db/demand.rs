//! Zero-result searches, counted per UTC day (`search_demand`): written in batches from the
//! in-memory counter (`catalog::demand`), read as the most-missed queries over recent days.

use super::StoreError;
use super::backend::{Conn, Db};
use super::maintain::DAY_MS;
use crate::on_conn;

/// Distinct queries kept per day: beyond it, only queries already counted that day still count
/// (a flood of random queries cannot grow the table without bound).
pub const MAX_QUERIES_PER_DAY: i64 = 50_000;
/// Days of counts kept (the maintenance pass deletes older ones).
pub const KEEP_DAYS: i64 = 30;

/// One query's misses over a span of days.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Missed {
    /// The query as searched (normalized).
    pub q: String,
    /// Searches that found nothing.
    pub misses: i64,
    /// Days on which it was searched.
    pub days: i64,
}

/// Adds `counts` to `day`; answers how many were stored (the rest met the day's cap).
pub(super) async fn apply(conn: &mut Conn<'_>, day: i64, counts: &[(String, u32)]) -> Result<u64, StoreError> {
    let mut known: i64 = on_conn!(conn, |c| sqlx::query_scalar("SELECT COUNT(*) FROM search_demand WHERE day = $1")
        .bind(day)
        .fetch_one(c)
        .await)?;
    let mut stored = 0;
    for (query, misses) in counts {
        let updated = on_conn!(conn, |c| sqlx::query(
            "UPDATE search_demand SET misses = misses + $1 WHERE day = $2 AND query = $3"
        )
        .bind(i64::from(*misses))
        .bind(day)
        .bind(query)
        .execute(c)
        .await
        .map(|done| done.rows_affected()))?;
        if updated == 0 {
            if known >= MAX_QUERIES_PER_DAY {
                continue;
            }
            on_conn!(conn, |c| sqlx::query("INSERT INTO search_demand (day, query, misses) VALUES ($1, $2, $3)")
                .bind(day)
                .bind(query)
                .bind(i64::from(*misses))
                .execute(c)
                .await
                .map(|done| done.rows_affected()))?;
            known += 1;
        }
        stored += 1;
    }
    Ok(stored)
}

/// Deletes counts older than [`KEEP_DAYS`] before `now` (part of the maintenance pass).
pub(super) async fn prune(conn: &mut Conn<'_>, now: i64) -> Result<u64, StoreError> {
    let first_kept = now.div_euclid(DAY_MS) - KEEP_DAYS;
    Ok(on_conn!(conn, |c| sqlx::query("DELETE FROM search_demand WHERE day < $1")
        .bind(first_kept)
        .execute(c)
        .await
        .map(|done| done.rows_affected()))?)
}

/// The most-missed queries of the `days` UTC days up to `now` with at least `least` misses,
/// most first (ties alphabetical), at most `limit`.
pub async fn most_missed(
    db: impl Into<Db<'_>>,
    now: i64,
    days: i64,
    least: i64,
    limit: i64,
) -> Result<Vec<Missed>, StoreError> {
    let first_day = now.div_euclid(DAY_MS) - (days - 1);
    let mut held = db.into().hold().await?;
    let rows: Vec<(String, i64, i64)> = on_conn!(&mut held.conn(), |c| sqlx::query_as(
        "SELECT query, CAST(SUM(misses) AS BIGINT) AS total, COUNT(*) FROM search_demand WHERE day >= $1
         GROUP BY query HAVING SUM(misses) >= $2 ORDER BY total DESC, query LIMIT $3",
    )
    .bind(first_day)
    .bind(least)
    .bind(limit)
    .fetch_all(c)
    .await)?;
    Ok(rows.into_iter().map(|(q, misses, days)| Missed { q, misses, days }).collect())
}
