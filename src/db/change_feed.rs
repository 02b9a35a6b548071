//! What changed since a search index's position, for its indexer to catch up (one position, an
//! `i64`, kept in the index's commit payload):
//!
//! - SQLite: the highest `services.change_seq` applied. One writer commits sequences in order,
//!   so every service with a higher sequence is what changed.
//! - PostgreSQL: a transaction watermark. Several nodes write at once and sequences commit out of
//!   order, so "the highest sequence so far" could skip a transaction that commits later. Every
//!   change is in `changes` with its transaction id (`tx`, written by a trigger in the changing
//!   transaction); a transaction below `pg_snapshot_xmin(pg_current_snapshot())` has finished,
//!   so the rows with `tx` below that watermark are final. The position is the watermark up to
//!   which everything was applied; a catch-up reads `[position, watermark)` in `(tx, seq)`
//!   order and commits the new watermark (research/update-2026-12.md §4.2). The log is trimmed
//!   ([`trim`]) to [`CHANGE_LOG_KEEP`]; an index whose position is older than what was trimmed
//!   rebuilds ([`trimmed_past`]).

use super::StoreError;
use super::backend::Conn;
use super::backend::{Dialect, Pool};
use super::search_feed::{self, FeedService};
use crate::db::quality::LatencyNorms;
use crate::on_pool;
use std::time::Duration;

/// How long the change log keeps a change: far longer than any running node's indexer lags
/// (seconds), long enough that a node stopped for days still catches up instead of rebuilding.
pub const CHANGE_LOG_KEEP: Duration = Duration::from_secs(7 * 86_400);

/// The head of the feed now: what an index holds once it has applied everything committed.
pub async fn head(pool: &Pool) -> Result<i64, StoreError> {
    Ok(on_pool!(pool, |p, dialect| sqlx::query_scalar::<_, i64>(dialect.pick(
        "SELECT COALESCE(MAX(change_seq), 0) FROM services",
        "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint",
    ))
    .fetch_one(p)
    .await)?)
}

/// Whether anything was committed after `applied` (the periodic check for other writers).
pub async fn pending(pool: &Pool, applied: i64) -> Result<bool, StoreError> {
    Ok(on_pool!(pool, |p, dialect| sqlx::query_scalar::<_, bool>(dialect.pick(
        "SELECT EXISTS (SELECT 1 FROM services WHERE change_seq > $1)",
        "SELECT EXISTS (SELECT 1 FROM changes
                        WHERE tx >= $1::text::xid8 AND tx < pg_snapshot_xmin(pg_current_snapshot()))",
    ))
    .bind(applied)
    .fetch_one(p)
    .await)?)
}

/// The store an index was built from: an index naming another is rebuilt.
pub async fn store_identity(pool: &Pool) -> Result<String, StoreError> {
    Ok(match pool {
        Pool::Sqlite(_) => "sqlite".to_string(),
        Pool::Postgres(pg) => {
            let id: String = sqlx::query_scalar("SELECT id FROM store_identity").fetch_one(pg).await?;
            format!("postgres:{id}")
        }
    })
}

/// One catch-up in progress: where it reads next and the position it reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CatchUp {
    /// PostgreSQL: the watermark this catch-up reads up to (fixed at its start).
    target: i64,
    /// The last change read: `(tx, seq)` on PostgreSQL; `(0, change_seq)` on SQLite.
    cursor: (i64, i64),
    dialect: Dialect,
}

impl CatchUp {
    /// Starts a catch-up from `applied`, or `None` when nothing was committed after it.
    pub async fn start(pool: &Pool, applied: i64) -> Result<Option<CatchUp>, StoreError> {
        let target = head(pool).await?;
        let dialect = pool.dialect();
        let cursor = match dialect {
            Dialect::Sqlite => (0, applied),
            Dialect::Postgres => (applied, i64::MIN),
        };
        Ok((target > applied).then_some(CatchUp { target, cursor, dialect }))
    }

    /// The position the index holds once every batch is applied.
    pub fn position(&self) -> i64 {
        match self.dialect {
            // Changes committed meanwhile were read too (in order: one writer).
            Dialect::Sqlite => self.target.max(self.cursor.1),
            Dialect::Postgres => self.target,
        }
    }

    /// The next services changed (any status: a delisted one must leave the index), at most
    /// `limit` changes' worth; empty when the catch-up is complete.
    pub async fn next(
        &mut self,
        pool: &Pool,
        limit: i64,
        now: i64,
        norms: &LatencyNorms,
    ) -> Result<Vec<FeedService>, StoreError> {
        match pool {
            Pool::Sqlite(_) => {
                let rows = search_feed::changed_since(pool, self.cursor.1, limit, now, norms).await?;
                if let Some(last) = rows.last() {
                    self.cursor.1 = last.service.change_seq;
                }
                Ok(rows)
            }
            Pool::Postgres(pg) => {
                let (tx, seq) = self.cursor;
                let changes: Vec<(i64, i64, i64)> = sqlx::query_as(
                    "SELECT tx::text::bigint, seq, service_id FROM changes
                     WHERE (tx, seq) > ($1::text::xid8, $3) AND tx < $2::text::xid8
                     ORDER BY tx, seq LIMIT $4",
                )
                .bind(tx)
                .bind(self.target)
                .bind(seq)
                .bind(limit)
                .fetch_all(pg)
                .await?;
                let Some(&(last_tx, last_seq, _)) = changes.last() else { return Ok(Vec::new()) };
                self.cursor = (last_tx, last_seq);
                let mut ids: Vec<i64> = changes.into_iter().map(|(_, _, id)| id).collect();
                ids.sort_unstable();
                ids.dedup();
                search_feed::services_by_id(pool, &ids, now, norms).await
            }
        }
    }
}

/// Deletes the changes written more than `keep` ago, up to the first transaction that could still
/// be running, and records the watermark below which rows may now be missing. Several nodes may
/// trim at once: each deletes what is old, the watermark only rises. SQLite keeps no log.
pub(super) async fn trim(conn: &mut Conn<'_>, keep: Duration) -> Result<u64, StoreError> {
    let Conn::Postgres(pg) = conn else { return Ok(0) };
    let keep_secs = i64::try_from(keep.as_secs()).unwrap_or(i64::MAX);
    // The cut: just past the newest transaction among the old rows, never past the watermark
    // (a transaction below it has finished: nothing below the cut can still appear). No old
    // rows, no cut (LEAST would skip the NULL and cut at the watermark).
    let cut: Option<i64> = sqlx::query_scalar(
        "SELECT CASE WHEN MAX(tx) IS NOT NULL THEN
                    LEAST(MAX(tx)::text::bigint + 1, pg_snapshot_xmin(pg_current_snapshot())::text::bigint) END
         FROM changes WHERE written_at < now() - make_interval(secs => $1)",
    )
    .bind(keep_secs as f64)
    .fetch_one(&mut **pg)
    .await?;
    let Some(cut) = cut else { return Ok(0) };
    // The watermark first, in the same transaction as the delete (the writer's): a catch-up
    // that read rows before this commits sees the new watermark when it checks afterwards.
    sqlx::query("UPDATE store_identity SET trimmed_below = GREATEST(trimmed_below, $1)")
        .bind(cut)
        .execute(&mut **pg)
        .await?;
    let deleted = sqlx::query("DELETE FROM changes WHERE tx < $1::text::xid8").bind(cut).execute(&mut **pg).await?;
    Ok(deleted.rows_affected())
}

/// Whether changes after `position` may have been trimmed away: an index there cannot catch up
/// from the log and must be rebuilt. Always false on SQLite (its feed is the services table).
pub async fn trimmed_past(pool: &Pool, position: i64) -> Result<bool, StoreError> {
    let Pool::Postgres(pg) = pool else { return Ok(false) };
    let trimmed_below: i64 = sqlx::query_scalar("SELECT trimmed_below FROM store_identity").fetch_one(pg).await?;
    Ok(position < trimmed_below)
}
