//! The catalog store: SQLite (embedded, the default) or PostgreSQL (shared by several nodes) via
//! sqlx, the source of truth (`shared/ARCHITECTURE.md`, `docs/DEPLOY.md`).
//!
//! - [`backend`]: the two engines behind one set of store functions (`on_pool!`, `on_conn!`).
//! - [`connect`]: the file under the data directory, pragmas, migrations, the two connection kinds.
//! - [`writer`]: the one writer path — a task owning the only write connection, batching queued
//!   operations into `BEGIN IMMEDIATE` transactions and answering each after the commit.
//! - [`services`], [`history`]: read queries, one function per query, over the read-only pool.
//! - [`record`] (with `history_write`), [`register`], [`maintain`]: what the writer applies
//!   inside its transactions.

pub mod backend;
pub mod change_feed;
pub mod claims;
pub mod connect;
pub mod copy;
pub mod demand;
pub mod discovery;
pub mod events;
pub mod history;
mod history_write;
pub mod icons;
pub mod leases;
pub mod maintain;
pub mod moderation;
pub mod notify;
pub mod ownership;
pub mod postgres;
pub mod probes;
pub mod quality;
pub mod record;
pub mod register;
pub mod search_feed;
pub mod services;
pub mod sources;
pub mod touch;
pub mod writer;

pub use backend::{AnyRow, Conn, Dialect, Pool};
pub use connect::{DB_FILE, MIGRATOR};
pub use writer::Writer;

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
    #[error("bad --database-url {0}")]
    BadDatabaseUrl(String),
    #[error("cannot reach the database: {0}")]
    Unreachable(sqlx::Error),
}

impl StoreError {
    /// The database cannot be used just now (busy, out of connections, I/O), as opposed to a bug
    /// or bad data: worth a retry.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Sql(error) => sql_unavailable(error),
            // A connection refused or timed out, or a server still starting, is worth another
            // try; a refused password, a missing database or a TLS mismatch is not (waiting
            // would not mend it).
            StoreError::Unreachable(error) => sql_unavailable(error),
            // The connection lost while migrating (the migrator's advisory lock and each
            // migration's transaction make a retry safe).
            StoreError::Migrate(
                sqlx::migrate::MigrateError::Execute(error) | sqlx::migrate::MigrateError::ExecuteMigration(error, _),
            ) => sql_unavailable(error),
            _ => false,
        }
    }
}

/// Whether `error` says the database cannot be used just now (see [`StoreError::is_unavailable`]).
fn sql_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => true,
        // A refused, reset or timed-out connection; not a certificate that does not verify
        // (rustls's errors come as invalid data), which no retry mends.
        sqlx::Error::Io(error) => {
            !matches!(error.kind(), std::io::ErrorKind::InvalidData | std::io::ErrorKind::InvalidInput)
        }
        // PostgreSQL's SQLSTATE: class 08 (connection exception), 57P01-57P03 (the server is
        // shutting down, crashed or starting), 40001/40P01 (serialization failure, deadlock).
        sqlx::Error::Database(e) if e.try_downcast_ref::<sqlx::postgres::PgDatabaseError>().is_some() => {
            e.code().is_some_and(|code| {
                code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03" | "40001" | "40P01")
            })
        }
        // SQLite's extended result code: SQLITE_BUSY (5) and SQLITE_LOCKED (6) in its low byte.
        sqlx::Error::Database(e) => {
            e.code().and_then(|code| code.parse::<i32>().ok()).is_some_and(|code| matches!(code & 0xff, 5 | 6))
        }
        _ => false,
    }
}

/// An open store: a read pool and the writer.
#[derive(Clone)]
pub struct Store {
    read: Pool,
    writer: Writer,
}

impl Store {
    /// The store `global` names: PostgreSQL at `--database-url`, else SQLite in the data directory.
    pub async fn open_for(global: &crate::config::GlobalOptions) -> Result<Store, StoreError> {
        match &global.database_url {
            Some(url) => Store::open_postgres(url).await,
            None => Store::open(&global.data_dir).await,
        }
    }

    /// Opens (creating if needed) `data_dir/agora.db`, applies pending migrations and starts the
    /// writer task.
    pub async fn open(data_dir: &Path) -> Result<Store, StoreError> {
        let (mut write, read) = connect::open(data_dir).await?;
        let read = Pool::Sqlite(read);
        let committed_seq: Option<i64> =
            sqlx::query_scalar("SELECT MAX(change_seq) FROM services").fetch_one(&mut write).await?;
        Ok(Store { read, writer: Writer::spawn(writer::WriteTo::Sqlite(write), committed_seq.unwrap_or(0)) })
    }

    /// Connects to the PostgreSQL database at `url`, applies pending migrations and starts this
    /// node's writer task.
    pub async fn open_postgres(url: &str) -> Result<Store, StoreError> {
        let (write, read) = postgres::open(url).await?;
        let read = Pool::Postgres(read);
        // Everything committed before this start is below the current watermark.
        let head = change_feed::head(&read).await?;
        Ok(Store { read, writer: Writer::spawn(writer::WriteTo::Postgres(write, head - 1), head) })
    }

    /// The read-only pool, for queries. Never hold one of its transactions across network I/O.
    pub fn read(&self) -> &Pool {
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

/// Appends a subquery of `ids`, for `… IN` clauses: `(SELECT value FROM json_each($N))` on
/// SQLite, `(SELECT unnest($N::bigint[]))` on PostgreSQL. One parameter whatever the length: one
/// cached statement serves every list, and the bound value cannot steer the plan (with a
/// parameter per id, SQLite's STAT4 statistics made it recompile the statement on every run once
/// `PRAGMA optimize` had gathered them).
pub(crate) fn in_list<B: IdList>(builder: &mut B, ids: &[i64]) {
    builder.push_ids(ids);
}

/// A query builder that can bind a list of ids as one parameter ([`in_list`]).
pub(crate) trait IdList {
    fn push_ids(&mut self, ids: &[i64]);
}

impl IdList for sqlx::QueryBuilder<sqlx::Sqlite> {
    fn push_ids(&mut self, ids: &[i64]) {
        // Serializing integers cannot fail; an empty list matches nothing either way.
        let json = serde_json::to_string(ids).unwrap_or_else(|_| "[]".to_string());
        self.push("(SELECT value FROM json_each(");
        self.push_bind(json);
        self.push("))");
    }
}

impl IdList for sqlx::QueryBuilder<sqlx::Postgres> {
    fn push_ids(&mut self, ids: &[i64]) {
        self.push("(SELECT unnest(");
        self.push_bind(ids.to_vec());
        self.push("::bigint[]))");
    }
}
