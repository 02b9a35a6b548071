//! The catalog store: SQLite via sqlx, the source of truth (`shared/ARCHITECTURE.md`).
//!
//! - [`connect`]: the file under the data directory, pragmas, migrations, the two connection kinds.
//! - [`writer`]: the one writer path — a task owning the only write connection, batching queued
//!   operations into `BEGIN IMMEDIATE` transactions and answering each after the commit.
//! - [`services`], [`history`]: read queries, one function per query, over the read-only pool.
//! - [`record`] (with `history_write`), [`register`], [`maintain`]: what the writer applies
//!   inside its transactions.

pub mod claims;
pub mod connect;
pub mod demand;
pub mod discovery;
pub mod events;
pub mod history;
mod history_write;
pub mod icons;
pub mod maintain;
pub mod moderation;
pub mod ownership;
pub mod probes;
pub mod quality;
pub mod record;
pub mod register;
pub mod search_feed;
pub mod services;
pub mod sources;
pub mod touch;
pub mod writer;

pub use connect::{DB_FILE, MIGRATOR};
pub use writer::Writer;

use sqlx::SqlitePool;
use std::path::Path;

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot create the data directory {path}: {source}")]
    DataDir { path: String, source: std::io::Error },
    #[error("no service with id {0}")]
    NoSuchService(i64),
    #[error("the store is closed")]
    Closed,
    #[error("cannot encode JSON: {0}")]
    Json(#[from] serde_json::Error),
}

impl StoreError {
    /// The database cannot be used just now (busy, out of connections, I/O), as opposed to a bug
    /// or bad data: worth a retry.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Sql(sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_)) => true,
            // SQLite's extended result code: SQLITE_BUSY (5) and SQLITE_LOCKED (6) in its low byte.
            StoreError::Sql(sqlx::Error::Database(e)) => {
                e.code().and_then(|code| code.parse::<i32>().ok()).is_some_and(|code| matches!(code & 0xff, 5 | 6))
            }
            _ => false,
        }
    }
}

/// An open store: a read pool and the writer.
#[derive(Clone)]
pub struct Store {
    read: SqlitePool,
    writer: Writer,
}

impl Store {
    /// Opens (creating if needed) `data_dir/agora.db`, applies pending migrations and starts the
    /// writer task.
    pub async fn open(data_dir: &Path) -> Result<Store, StoreError> {
        let (mut write, read) = connect::open(data_dir).await?;
        let committed_seq: Option<i64> =
            sqlx::query_scalar("SELECT MAX(change_seq) FROM services").fetch_one(&mut write).await?;
        Ok(Store { read, writer: Writer::spawn(write, committed_seq.unwrap_or(0)) })
    }

    /// The read-only pool, for queries. Never hold one of its transactions across network I/O.
    pub fn read(&self) -> &SqlitePool {
        &self.read
    }

    pub fn writer(&self) -> &Writer {
        &self.writer
    }

    /// Commits whatever is queued, stops the writer and closes every connection.
    pub async fn close(&self) {
        self.writer.stop().await;
        self.read.close().await;
    }
}

/// Appends `(SELECT value FROM json_each(?))` binding `ids` as one JSON array, for `… IN`
/// clauses. One parameter whatever the length: one cached statement serves every list, and the
/// bound value cannot steer the plan (with a parameter per id, SQLite's STAT4 statistics made it
/// recompile the statement on every run once `PRAGMA optimize` had gathered them).
pub(crate) fn in_list(builder: &mut sqlx::QueryBuilder<sqlx::Sqlite>, ids: &[i64]) {
    // Serializing integers cannot fail; an empty list matches nothing either way.
    let json = serde_json::to_string(ids).unwrap_or_else(|_| "[]".to_string());
    builder.push("(SELECT value FROM json_each(");
    builder.push_bind(json);
    builder.push("))");
}
