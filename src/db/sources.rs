//! Sources in the store: the sources themselves (kind, location, last run), and provenance —
//! which sources list which service, since when, and what each last claimed about it.

use super::StoreError;
use super::backend::{Conn, Db, Pool};
use super::record::REMOVED_BY_ORIGIN;
use crate::{on_conn, on_pool};
use agora_crawler::fetch::Validators;
use agora_crawler::sources::Claim;
use std::collections::HashMap;

/// A stored source (the API shows it as is, with whether a run is going on).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct SourceRow {
    pub id: i64,
    /// `facilitator` or `list`.
    pub kind: String,
    pub location: String,
    pub added_at: i64,
    pub last_run_at: Option<i64>,
    /// `ok`, or what stopped the last run.
    pub last_outcome: Option<String>,
    /// The last run's counts: found, new, known, refused, skipped, pages.
    #[schema(value_type = Option<Object>)]
    pub last_counts: Option<serde_json::Value>,
}

/// A write about sources, applied by the writer.
#[derive(Debug, Clone)]
pub enum SourceWrite {
    /// Stores a source (or finds it by location); answers its id.
    Add { kind: String, location: String, at: i64 },
    /// Records that `source_id` lists these services, with what it claimed about each.
    Seen { source_id: i64, services: Vec<(i64, Claim)>, at: i64 },
    /// An origin's complete run listed exactly `present` among its services: every other service
    /// it listed before is withdrawn (delisted, `removed_by_origin`) unless already.
    Withdraw { source_id: i64, present: Vec<i64>, at: i64 },
    /// Records how a run ended, and schedules the next ([`next_run_after`]). `counts` is `None`
    /// when the source had not changed (304): the last counts stand, and every service it listed
    /// is seen again.
    Ran {
        source_id: i64,
        outcome: String,
        counts: Option<serde_json::Value>,
        /// The documents' validators for the next conditional run, by URL (JSON).
        validators: HashMap<String, Validators>,
        ok: bool,
        at: i64,
    },
}

/// How often a source is re-imported.
pub const RUN_EVERY_MS: i64 = 6 * 3600 * 1000;
/// The longest wait after failed runs.
pub const MAX_BACKOFF_MS: i64 = 48 * 3600 * 1000;

/// When a source whose last run ended at `at` runs next: [`RUN_EVERY_MS`] later, doubled per
/// failure in a row up to [`MAX_BACKOFF_MS`].
pub fn next_run_after(at: i64, failures: i64) -> i64 {
    let factor = 1i64 << failures.clamp(0, 8);
    at + RUN_EVERY_MS.saturating_mul(factor).min(MAX_BACKOFF_MS)
}

/// Applies `write`; answers the source id.
pub async fn apply(conn: &mut Conn<'_>, write: &SourceWrite) -> Result<i64, StoreError> {
    match write {
        SourceWrite::Add { kind, location, at } => {
            on_conn!(conn, |c| sqlx::query(
                "INSERT INTO sources (kind, location, added_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
            )
            .bind(kind)
            .bind(location)
            .bind(at)
            .execute(c)
            .await
            .map(|done| done.rows_affected()))?;
            Ok(on_conn!(conn, |c| sqlx::query_scalar("SELECT id FROM sources WHERE location = $1")
                .bind(location)
                .fetch_one(c)
                .await)?)
        }
        SourceWrite::Seen { source_id, services, at } => {
            // An origin listing a route it had withdrawn gives it back to the probes.
            let origin: bool =
                on_conn!(conn, |c| sqlx::query_scalar("SELECT kind = 'origin' FROM sources WHERE id = $1")
                    .bind(source_id)
                    .fetch_optional(c)
                    .await)?
                .unwrap_or(false);
            for (service_id, claim) in services {
                if origin {
                    on_conn!(conn, |c| {
                        sqlx::query("UPDATE services SET withdrawn = FALSE, next_due_at = CASE WHEN next_due_at < $1 THEN next_due_at ELSE $1 END
                         WHERE id = $2 AND withdrawn")
                        .bind(at)
                        .bind(service_id)
                        .execute(c)
                        .await.map(|done| done.rows_affected())
                    })?;
                }
                let claim = serde_json::to_string(claim)?;
                let added = on_conn!(conn, |c| sqlx::query(
                    "INSERT INTO service_sources (service_id, source_id, first_seen, last_seen, claim)
                     VALUES ($1, $2, $3, $3, $4) ON CONFLICT DO NOTHING",
                )
                .bind(service_id)
                .bind(source_id)
                .bind(at)
                .bind(&claim)
                .execute(c)
                .await
                .map(|done| done.rows_affected()))?;
                if added == 1 {
                    // A new source for the service: the index (the `source` filter) must follow.
                    on_conn!(conn, |c| sqlx::query(
                        "UPDATE services SET change_seq = (SELECT COALESCE(MAX(change_seq), 0) + 1 FROM services)
                         WHERE id = $1",
                    )
                    .bind(service_id)
                    .execute(c)
                    .await
                    .map(|done| done.rows_affected()))?;
                } else {
                    on_conn!(conn, |c| {
                        sqlx::query(
                        "UPDATE service_sources SET last_seen = $1, claim = $2 WHERE service_id = $3 AND source_id = $4",
                    )
                    .bind(at)
                    .bind(&claim)
                    .bind(service_id)
                    .bind(source_id)
                    .execute(c)
                    .await.map(|done| done.rows_affected())
                    })?;
                }
            }
            Ok(*source_id)
        }
        SourceWrite::Withdraw { source_id, present, at } => {
            withdraw(conn, *source_id, present, *at).await?;
            Ok(*source_id)
        }
        SourceWrite::Ran { source_id, outcome, counts, validators, ok, at } => {
            if counts.is_none() {
                on_conn!(conn, |c| sqlx::query("UPDATE service_sources SET last_seen = $1 WHERE source_id = $2")
                    .bind(at)
                    .bind(source_id)
                    .execute(c)
                    .await
                    .map(|done| done.rows_affected()))?;
            }
            let failures: i64 = on_conn!(conn, |c| sqlx::query_scalar("SELECT failures FROM sources WHERE id = $1")
                .bind(source_id)
                .fetch_optional(c)
                .await)?
            .unwrap_or(0);
            let failures = if *ok { 0 } else { failures + 1 };
            on_conn!(conn, |c| sqlx::query(
                "UPDATE sources SET last_run_at = $1, last_outcome = $2, last_counts = COALESCE($3, last_counts),
                    failures = $4, next_run_at = $5, validators = $6
                 WHERE id = $7",
            )
            .bind(at)
            .bind(outcome)
            .bind(counts.as_ref().map(ToString::to_string))
            .bind(failures)
            .bind(next_run_after(*at, failures))
            .bind(serde_json::to_string(validators)?)
            .bind(source_id)
            .execute(c)
            .await
            .map(|done| done.rows_affected()))?;
            Ok(*source_id)
        }
    }
}

/// Withdraws every service origin `source_id` listed before but not in `present` this run.
async fn withdraw(conn: &mut Conn<'_>, source_id: i64, present: &[i64], at: i64) -> Result<(), StoreError> {
    let listed: Vec<(i64, String)> = on_conn!(conn, |c| sqlx::query_as(
        "SELECT s.id, s.status FROM service_sources p JOIN services s ON s.id = p.service_id
         WHERE p.source_id = $1 AND NOT s.withdrawn",
    )
    .bind(source_id)
    .fetch_all(c)
    .await)?;
    for (id, status) in listed.into_iter().filter(|(id, _)| !present.contains(id)) {
        on_conn!(conn, |c| sqlx::query(
            "UPDATE services SET withdrawn = TRUE, status = 'delisted', reason_code = $1, reason = $2,
                status_since = CASE WHEN status = 'delisted' THEN status_since ELSE $3 END,
                change_seq = (SELECT COALESCE(MAX(change_seq), 0) + 1 FROM services)
             WHERE id = $4",
        )
        .bind(REMOVED_BY_ORIGIN)
        .bind("Its origin's own documents no longer list this route; it comes back when they list it again.")
        .bind(at)
        .bind(id)
        .execute(c)
        .await
        .map(|done| done.rows_affected()))?;
        if status != "delisted" {
            on_conn!(conn, |c| sqlx::query(
                "INSERT INTO status_changes (service_id, changed_at, old_status, new_status, reason_code)
                 VALUES ($1, $2, $3, 'delisted', $4)",
            )
            .bind(id)
            .bind(at)
            .bind(&status)
            .bind(REMOVED_BY_ORIGIN)
            .execute(c)
            .await
            .map(|done| done.rows_affected()))?;
        }
    }
    Ok(())
}

/// The validators source `id`'s documents last answered with, by URL.
pub async fn validators(pool: &Pool, id: i64) -> Result<HashMap<String, Validators>, StoreError> {
    let text: Option<Option<String>> =
        on_pool!(pool, |p| sqlx::query_scalar("SELECT validators FROM sources WHERE id = $1")
            .bind(id)
            .fetch_optional(p)
            .await)?;
    Ok(text.flatten().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default())
}

/// A `sources` row as read: id, kind, location, added, last run, outcome, counts (JSON text).
type SourceColumns = (i64, String, String, i64, Option<i64>, Option<String>, Option<String>);

/// Sources due for a run at `now` (never run, or their next run has come): (id, kind, location).
pub async fn due(pool: &Pool, now: i64) -> Result<Vec<(i64, String, String)>, StoreError> {
    Ok(on_pool!(pool, |p| sqlx::query_as(
        "SELECT id, kind, location FROM sources WHERE next_run_at IS NULL OR next_run_at <= $1 ORDER BY id",
    )
    .bind(now)
    .fetch_all(p)
    .await)?)
}

/// Every source, oldest first.
pub async fn all(pool: &Pool) -> Result<Vec<SourceRow>, StoreError> {
    let rows: Vec<SourceColumns> = on_pool!(pool, |p| sqlx::query_as(
        "SELECT id, kind, location, added_at, last_run_at, last_outcome, last_counts FROM sources ORDER BY id",
    )
    .fetch_all(p)
    .await)?;
    Ok(rows
        .into_iter()
        .map(|(id, kind, location, added_at, last_run_at, last_outcome, counts)| SourceRow {
            id,
            kind,
            location,
            added_at,
            last_run_at,
            last_outcome,
            last_counts: counts.and_then(|c| serde_json::from_str(&c).ok()),
        })
        .collect())
}

/// One source that lists a service: the source, when it listed it, and what it claimed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct SourceMention {
    pub source_id: i64,
    /// `facilitator` or `list`.
    pub kind: String,
    pub location: String,
    pub first_seen: i64,
    pub last_seen: i64,
    /// What the source said about the service (its first offer, its description).
    pub claim: Option<Claim>,
    /// Set when the claim and the live probe disagree: "the source lists $0.01; the endpoint
    /// asks $0.05".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disagreement: Option<String>,
}

/// The sources that list service `id`, oldest first.
pub async fn of_service(db: impl Into<Db<'_>>, id: i64) -> Result<Vec<SourceMention>, StoreError> {
    let mut held = db.into().hold().await?;
    let rows: Vec<(i64, String, String, i64, i64, Option<String>)> = on_conn!(&mut held.conn(), |c| sqlx::query_as(
        "SELECT s.id, s.kind, s.location, p.first_seen, p.last_seen, p.claim
         FROM service_sources p JOIN sources s ON s.id = p.source_id WHERE p.service_id = $1 ORDER BY s.id",
    )
    .bind(id)
    .fetch_all(c)
    .await)?;
    Ok(rows
        .into_iter()
        .map(|(source_id, kind, location, first_seen, last_seen, claim)| SourceMention {
            source_id,
            kind,
            location,
            first_seen,
            last_seen,
            claim: claim.and_then(|c| serde_json::from_str(&c).ok()),
            disagreement: None,
        })
        .collect())
}
