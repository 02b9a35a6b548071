//! `agora migrate-store`: the whole catalog copied from SQLite into an empty PostgreSQL database
//! (services, offers, probes, history, sources, claims, moderation, demand), in one PostgreSQL
//! transaction, with every table's row count compared before it commits. Nothing is written to
//! the SQLite file; a failure leaves the PostgreSQL database as it was.

use super::StoreError;
use futures_util::TryStreamExt;
use sqlx::postgres::PgConnection;
use sqlx::sqlite::SqliteRow;
use sqlx::{AssertSqlSafe, Connection, QueryBuilder, Row, SqliteConnection};

/// Tables in an order that satisfies their foreign keys. PostgreSQL's own (`changes`,
/// `store_identity`) are not copied: the change log fills itself as services are inserted.
pub const TABLES: &[&str] = &[
    "services",
    "offers",
    "probes",
    "probe_daily",
    "latest_reports",
    "offer_changes",
    "status_changes",
    "icons",
    "sources",
    "service_sources",
    "claim_challenges",
    "claims",
    "claim_services",
    "blocks",
    "audit_log",
    "search_demand",
];

/// Rows per INSERT (PostgreSQL allows 65,535 parameters; `services` has about 60 columns).
const ROWS_PER_INSERT: usize = 500;

/// Why the copy did not happen.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the target already holds a catalog ({0} services): migrate-store copies into an empty database only")]
    NotEmpty(i64),
    #[error("{table}: {in_sqlite} rows in SQLite but {copied} copied; nothing was committed")]
    Mismatch { table: &'static str, in_sqlite: i64, copied: i64 },
}

impl From<sqlx::Error> for CopyError {
    fn from(error: sqlx::Error) -> Self {
        CopyError::Store(StoreError::Sql(error))
    }
}

/// Rows copied per table, in [`TABLES`] order.
pub type Counts = Vec<(&'static str, i64)>;

/// Copies everything in `sqlite` into `postgres` (migrated, no services yet) and verifies the
/// counts. `progress` hears each table as it is done.
pub async fn copy(
    sqlite: &mut SqliteConnection,
    postgres: &mut PgConnection,
    progress: &mut dyn FnMut(&'static str, i64),
) -> Result<Counts, CopyError> {
    let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM services").fetch_one(&mut *postgres).await?;
    if existing > 0 {
        return Err(CopyError::NotEmpty(existing));
    }
    let mut tx = postgres.begin().await?;
    let mut counts = Vec::with_capacity(TABLES.len());
    for &table in TABLES {
        let columns = target_columns(&mut tx, table).await?;
        copy_table(sqlite, &mut tx, table, &columns).await?;
        let in_sqlite: i64 =
            sqlx::query_scalar(AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}"))).fetch_one(&mut *sqlite).await?;
        let copied: i64 =
            sqlx::query_scalar(AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}"))).fetch_one(&mut *tx).await?;
        if in_sqlite != copied {
            return Err(CopyError::Mismatch { table, in_sqlite, copied });
        }
        // Identity columns go on after the highest copied id.
        for (column, _) in columns.iter().filter(|(_, kind)| kind.identity) {
            sqlx::query(AssertSqlSafe(format!(
                "SELECT setval(pg_get_serial_sequence('{table}', '{column}'), COALESCE(MAX({column}), 0) + 1, false) FROM {table}"
            )))
            .execute(&mut *tx)
            .await?;
        }
        progress(table, copied);
        counts.push((table, copied));
    }
    tx.commit().await?;
    // As after any bulk load: statistics for the planner and a visibility map for index-only
    // scans now, rather than from autovacuum minutes later, in the middle of the first traffic.
    // The copy is committed already; a failure here only costs speed until autovacuum runs.
    if let Err(error) = sqlx::raw_sql("VACUUM (ANALYZE)").execute(&mut *postgres).await {
        tracing::warn!(%error, "VACUUM (ANALYZE) after the copy failed; autovacuum will do it");
    }
    Ok(counts)
}

/// How a target column is read from SQLite and bound for PostgreSQL.
#[derive(Debug, Clone, Copy)]
struct Kind {
    base: Base,
    identity: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Base {
    Int,
    Real,
    Bool,
    Text,
    Bytes,
}

/// The target table's columns (PostgreSQL's catalog names them and their types).
async fn target_columns(tx: &mut PgConnection, table: &str) -> Result<Vec<(String, Kind)>, CopyError> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT column_name::text, data_type::text, is_identity::text FROM information_schema.columns
         WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
    )
    .bind(table)
    .fetch_all(&mut *tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(name, data_type, identity)| {
            let base = match data_type.as_str() {
                "bigint" | "integer" | "smallint" => Base::Int,
                "double precision" | "real" => Base::Real,
                "boolean" => Base::Bool,
                "bytea" => Base::Bytes,
                _ => Base::Text,
            };
            (name, Kind { base, identity: identity == "YES" })
        })
        .collect())
}

/// One value read from SQLite, typed for its target column.
enum Value {
    Int(Option<i64>),
    Real(Option<f64>),
    Bool(Option<bool>),
    Text(Option<String>),
    Bytes(Option<Vec<u8>>),
}

fn read(row: &SqliteRow, index: usize, kind: Kind) -> Result<Value, sqlx::Error> {
    Ok(match kind.base {
        Base::Int => Value::Int(row.try_get(index)?),
        Base::Real => Value::Real(row.try_get(index)?),
        Base::Bool => Value::Bool(row.try_get(index)?),
        Base::Text => Value::Text(row.try_get(index)?),
        Base::Bytes => Value::Bytes(row.try_get(index)?),
    })
}

/// Streams `table` out of SQLite and inserts it in batches.
async fn copy_table(
    sqlite: &mut SqliteConnection,
    tx: &mut PgConnection,
    table: &str,
    columns: &[(String, Kind)],
) -> Result<(), CopyError> {
    let names: Vec<&str> = columns.iter().map(|(name, _)| name.as_str()).collect();
    let list = names.join(", ");
    // `rowid` is a real column on PostgreSQL's `service_sources` and SQLite's implicit one.
    let select = format!("SELECT {list} FROM {table}");
    let mut rows = sqlx::query(AssertSqlSafe(select)).fetch(&mut *sqlite);
    let mut batch: Vec<Vec<Value>> = Vec::with_capacity(ROWS_PER_INSERT);
    while let Some(row) = rows.try_next().await? {
        let values =
            columns.iter().enumerate().map(|(i, (_, kind))| read(&row, i, *kind)).collect::<Result<Vec<_>, _>>()?;
        batch.push(values);
        if batch.len() == ROWS_PER_INSERT {
            insert(tx, table, &list, std::mem::take(&mut batch)).await?;
        }
    }
    if !batch.is_empty() {
        insert(tx, table, &list, batch).await?;
    }
    Ok(())
}

async fn insert(tx: &mut PgConnection, table: &str, list: &str, rows: Vec<Vec<Value>>) -> Result<(), CopyError> {
    // OVERRIDING SYSTEM VALUE is not needed: identity columns are BY DEFAULT.
    let mut query = QueryBuilder::new(format!("INSERT INTO {table} ({list}) "));
    query.push_values(rows, |mut out, values| {
        for value in values {
            match value {
                Value::Int(v) => out.push_bind(v),
                Value::Real(v) => out.push_bind(v),
                Value::Bool(v) => out.push_bind(v),
                Value::Text(v) => out.push_bind(v),
                Value::Bytes(v) => out.push_bind(v),
            };
        }
    });
    query.build().execute(&mut *tx).await?;
    Ok(())
}
