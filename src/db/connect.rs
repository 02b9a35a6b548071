//! Opening the database: file location, pragmas and migrations.
//!
//! sqlx leaves `journal_mode` and `synchronous` unset (DELETE and FULL), so they are set here:
//! WAL lets readers run beside the writer; `synchronous=NORMAL` in WAL never corrupts and loses at
//! most the last commits on power loss (crawl results can be re-derived; batches that carry
//! registrations switch to FULL, see `writer`). `reliability-perf.md` §D1.

use super::StoreError;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection, SqlSafeStr, SqliteConnection, SqlitePool};
use std::borrow::Cow;
use std::path::Path;
use std::time::Duration;

/// The database file inside the data directory (`shared/INTERFACES.md` "Storage").
pub const DB_FILE: &str = "agora.db";

/// The schema, oldest first. Applied migrations are never edited; add a new file instead.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "catalog", include_str!("../../migrations/0001_catalog.sql")),
    (2, "search text", include_str!("../../migrations/0002_search_text.sql")),
    (3, "discovery", include_str!("../../migrations/0003_discovery.sql")),
    (4, "empty query", include_str!("../../migrations/0004_empty_query.sql")),
    (5, "offer terms", include_str!("../../migrations/0005_offer_terms.sql")),
    (6, "service type", include_str!("../../migrations/0006_service_type.sql")),
    (7, "icons", include_str!("../../migrations/0007_icons.sql")),
    (8, "sources", include_str!("../../migrations/0008_sources.sql")),
    (9, "source schedule", include_str!("../../migrations/0009_source_schedule.sql")),
    (10, "source events", include_str!("../../migrations/0010_source_events.sql")),
    (11, "source validators", include_str!("../../migrations/0011_source_validators.sql")),
    (12, "removed by origin", include_str!("../../migrations/0012_removed_by_origin.sql")),
    (13, "ownership", include_str!("../../migrations/0013_ownership.sql")),
    (14, "search demand", include_str!("../../migrations/0014_search_demand.sql")),
    (15, "crawl leases", include_str!("../../migrations/0015_crawl_leases.sql")),
];

/// The embedded migrations. (Built by hand rather than with `sqlx::migrate!`, which would pull
/// sqlx's proc-macro stack into a 2-core build for one `include_str!`.)
pub static MIGRATOR: std::sync::LazyLock<Migrator> = std::sync::LazyLock::new(|| embedded(MIGRATIONS));

/// A migrator over `(version, name, sql)` texts compiled into the binary (SQLite's list above,
/// PostgreSQL's in `db::postgres`).
pub(super) fn embedded(migrations: &'static [(i64, &'static str, &'static str)]) -> Migrator {
    Migrator::with_migrations(
        migrations
            .iter()
            .map(|(version, name, sql)| {
                Migration::new(*version, Cow::Borrowed(*name), MigrationType::Simple, sql.into_sql_str(), false)
            })
            .collect(),
    )
}

fn options(data_dir: &Path) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(data_dir.join(DB_FILE))
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(5))
        .foreign_keys(true)
}

/// Creates the directory and database if needed, migrates, and returns the one write
/// connection and a read-only pool.
pub async fn open(data_dir: &Path) -> Result<(SqliteConnection, SqlitePool), StoreError> {
    std::fs::create_dir_all(data_dir)
        .map_err(|source| StoreError::DataDir { path: data_dir.display().to_string(), source })?;
    let mut write = options(data_dir).create_if_missing(true).connect().await?;
    MIGRATOR.run(&mut write).await?;
    let read = SqlitePoolOptions::new().max_connections(4).connect_with(options(data_dir).read_only(true)).await?;
    Ok((write, read))
}

/// Applies pending migrations and reports which versions were applied now (`agora migrate`).
pub async fn migrate(data_dir: &Path) -> Result<Vec<i64>, StoreError> {
    std::fs::create_dir_all(data_dir)
        .map_err(|source| StoreError::DataDir { path: data_dir.display().to_string(), source })?;
    let mut conn = options(data_dir).create_if_missing(true).connect().await?;
    let before: Vec<i64> = applied(&mut conn).await;
    MIGRATOR.run(&mut conn).await?;
    let after = applied(&mut conn).await;
    conn.close().await?;
    Ok(after.into_iter().filter(|v| !before.contains(v)).collect())
}

async fn applied(conn: &mut SqliteConnection) -> Vec<i64> {
    sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success = 1")
        .fetch_all(conn)
        .await
        .unwrap_or_default()
}
