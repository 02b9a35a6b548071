//! Opening a PostgreSQL store (`--database-url postgres://…`): the URL, two pools and the
//! PostgreSQL migrations (`migrations/postgres/`). Several nodes may open one database at once:
//! sqlx's migrator holds an advisory lock while it migrates, so they apply each migration once.

use super::StoreError;
use sqlx::ConnectOptions;
use sqlx::Postgres;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use std::str::FromStr;
use std::time::Duration;

/// The PostgreSQL schema, oldest first. Applied migrations are never edited; add a new file.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "catalog", include_str!("../../migrations/postgres/0001_catalog.sql")),
    (2, "nodes", include_str!("../../migrations/postgres/0002_nodes.sql")),
    (3, "change_log_trim", include_str!("../../migrations/postgres/0003_change_log_trim.sql")),
];

/// The embedded PostgreSQL migrations.
pub static MIGRATOR: std::sync::LazyLock<Migrator> = std::sync::LazyLock::new(|| super::connect::embedded(MIGRATIONS));

/// How long a query waits for a free connection (or for the server to answer a connect) before it
/// fails as unavailable: readiness says so, requests get a 503, nothing hangs.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
/// Read connections per node (searches hydrate, pages read; each holds one only for its reads).
const READ_CONNECTIONS: u32 = 8;
/// Write connections per node: the writer uses one at a time; a second lets a batch start while
/// a broken one is being replaced.
const WRITE_CONNECTIONS: u32 = 2;

/// Whether `url` names a PostgreSQL database (the only kind `--database-url` takes).
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// `url` with any password replaced, for messages and logs.
pub fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        Ok(parsed) => parsed.to_string(),
        Err(_) => "(unparseable URL)".to_string(),
    }
}

/// Parses `url` into connect options; the error says what is wrong without echoing a password.
pub fn options(url: &str) -> Result<PgConnectOptions, StoreError> {
    if !is_postgres_url(url) {
        return Err(StoreError::BadDatabaseUrl(format!(
            "{}: expected postgres://user:password@host:port/database (or postgresql://…)",
            redacted(url)
        )));
    }
    let options = PgConnectOptions::from_str(url)
        .map_err(|error| StoreError::BadDatabaseUrl(format!("{}: {error}", redacted(url))))?;
    Ok(options.application_name("agora"))
}

/// A connection idle longer than this is pinged before it is handed out.
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(1);

/// Pool settings. sqlx pings every connection it hands out by default: one more round trip per
/// request on the hot path. A connection in steady use needs none (sqlx pings each one as it is
/// returned, and closes one a failed query broke), so only one that sat idle, perhaps across a
/// database restart, is pinged first.
fn pool(max: u32) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for > PING_IF_IDLE_FOR {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
}

/// Connects, migrates, and returns the writer's pool and the read pool.
pub async fn open(url: &str) -> Result<(PgPool, PgPool), StoreError> {
    let options = options(url)?;
    reachable(&options).await?;
    let read = pool(READ_CONNECTIONS).connect_with(options.clone()).await.map_err(StoreError::Unreachable)?;
    MIGRATOR.run(&read).await?;
    let write = pool(WRITE_CONNECTIONS).connect_with(options).await.map_err(StoreError::Unreachable)?;
    Ok((write, read))
}

/// Applies pending migrations and reports which versions were applied now (`agora migrate`).
pub async fn migrate(url: &str) -> Result<Vec<i64>, StoreError> {
    let options = options(url)?;
    reachable(&options).await?;
    let pool = pool(1).connect_with(options).await.map_err(StoreError::Unreachable)?;
    let applied = |pool: PgPool| async move {
        sqlx::query_scalar::<Postgres, i64>("SELECT version FROM _sqlx_migrations WHERE success")
            .fetch_all(&pool)
            .await
            .unwrap_or_default()
    };
    let before = applied(pool.clone()).await;
    MIGRATOR.run(&pool).await?;
    let after = applied(pool.clone()).await;
    pool.close().await;
    Ok(after.into_iter().filter(|v| !before.contains(v)).collect())
}

/// One connection, to say why the database cannot be reached (a pool only reports that it
/// timed out waiting).
async fn reachable(options: &PgConnectOptions) -> Result<(), StoreError> {
    let attempt = tokio::time::timeout(ACQUIRE_TIMEOUT, options.connect()).await;
    match attempt {
        Ok(Ok(conn)) => {
            let _ = sqlx::Connection::close(conn).await;
            Ok(())
        }
        Ok(Err(error)) => Err(StoreError::Unreachable(error)),
        Err(_) => Err(StoreError::Unreachable(sqlx::Error::PoolTimedOut)),
    }
}
