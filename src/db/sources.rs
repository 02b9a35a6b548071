//! Sources in the store: the sources themselves (kind, location, last run), and provenance —
//! which sources list which service, since when, and what each last claimed about it.

use super::StoreError;
use agora_crawler::sources::Claim;
use sqlx::{SqliteConnection, SqlitePool};

/// A stored source.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SourceRow {
    pub id: i64,
    pub kind: String,
    pub location: String,
    pub added_at: i64,
    pub last_run_at: Option<i64>,
    pub last_outcome: Option<String>,
    /// The last run's counts (JSON object), as the import summary has them.
    pub last_counts: Option<serde_json::Value>,
}

/// A write about sources, applied by the writer.
#[derive(Debug, Clone)]
pub enum SourceWrite {
    /// Stores a source (or finds it by location); answers its id.
    Add { kind: String, location: String, at: i64 },
    /// Records that `source_id` lists these services, with what it claimed about each.
    Seen { source_id: i64, services: Vec<(i64, Claim)>, at: i64 },
    /// Records how a run ended.
    Ran { source_id: i64, outcome: String, counts: serde_json::Value, at: i64 },
}

/// Applies `write`; answers the source id.
pub async fn apply(conn: &mut SqliteConnection, write: &SourceWrite) -> Result<i64, StoreError> {
    match write {
        SourceWrite::Add { kind, location, at } => {
            sqlx::query("INSERT OR IGNORE INTO sources (kind, location, added_at) VALUES (?, ?, ?)")
                .bind(kind)
                .bind(location)
                .bind(at)
                .execute(&mut *conn)
                .await?;
            Ok(sqlx::query_scalar("SELECT id FROM sources WHERE location = ?")
                .bind(location)
                .fetch_one(&mut *conn)
                .await?)
        }
        SourceWrite::Seen { source_id, services, at } => {
            for (service_id, claim) in services {
                sqlx::query(
                    "INSERT INTO service_sources (service_id, source_id, first_seen, last_seen, claim)
                     VALUES (?1, ?2, ?3, ?3, ?4)
                     ON CONFLICT (service_id, source_id) DO UPDATE SET last_seen = ?3, claim = ?4",
                )
                .bind(service_id)
                .bind(source_id)
                .bind(at)
                .bind(serde_json::to_string(claim)?)
                .execute(&mut *conn)
                .await?;
            }
            Ok(*source_id)
        }
        SourceWrite::Ran { source_id, outcome, counts, at } => {
            sqlx::query("UPDATE sources SET last_run_at = ?, last_outcome = ?, last_counts = ? WHERE id = ?")
                .bind(at)
                .bind(outcome)
                .bind(counts.to_string())
                .bind(source_id)
                .execute(&mut *conn)
                .await?;
            Ok(*source_id)
        }
    }
}

/// A `sources` row as read: id, kind, location, added, last run, outcome, counts (JSON text).
type SourceColumns = (i64, String, String, i64, Option<i64>, Option<String>, Option<String>);

/// Every source, oldest first.
pub async fn all(pool: &SqlitePool) -> Result<Vec<SourceRow>, StoreError> {
    let rows: Vec<SourceColumns> = sqlx::query_as(
        "SELECT id, kind, location, added_at, last_run_at, last_outcome, last_counts FROM sources ORDER BY id",
    )
    .fetch_all(pool)
    .await?;
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

/// One service's provenance: (source id, kind, location, first seen, last seen, claim).
pub type Provenance = (i64, String, String, i64, i64, Option<Claim>);

/// The sources that list service `id`, oldest first.
pub async fn of_service(pool: &SqlitePool, id: i64) -> Result<Vec<Provenance>, StoreError> {
    let rows: Vec<(i64, String, String, i64, i64, Option<String>)> = sqlx::query_as(
        "SELECT s.id, s.kind, s.location, p.first_seen, p.last_seen, p.claim
         FROM service_sources p JOIN sources s ON s.id = p.source_id WHERE p.service_id = ? ORDER BY s.id",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, kind, location, first, last, claim)| {
            (id, kind, location, first, last, claim.and_then(|c| serde_json::from_str(&c).ok()))
        })
        .collect())
}
