//! The two engines the store runs on: SQLite (embedded, the default) and PostgreSQL (shared by
//! several nodes). One set of store functions serves both: each query is written once, with `$N`
//! placeholders (SQLite accepts them too), and [`on_pool!`]/[`on_conn!`] compile its body once per
//! engine against that engine's concrete sqlx types — no `Any` driver converting every row, no
//! generic bounds spelled out at every query. Where the dialects differ, [`Dialect::pick`] chooses
//! the text.

use sqlx::postgres::{PgConnection, PgPool, PgRow};
use sqlx::sqlite::{SqliteConnection, SqlitePool, SqliteRow};
use sqlx::{Decode, Postgres, Row, Sqlite, Type};

/// Which SQL dialect a query body is compiled for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// The SQLite text or the PostgreSQL text, for the few places their SQL differs.
    pub const fn pick(self, sqlite: &'static str, postgres: &'static str) -> &'static str {
        match self {
            Dialect::Sqlite => sqlite,
            Dialect::Postgres => postgres,
        }
    }
}

/// A pool of read connections to either engine.
#[derive(Clone, Debug)]
pub enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Pool {
    pub fn dialect(&self) -> Dialect {
        match self {
            Pool::Sqlite(_) => Dialect::Sqlite,
            Pool::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Closes every connection; later queries fail with `PoolClosed`.
    pub async fn close(&self) {
        match self {
            Pool::Sqlite(pool) => pool.close().await,
            Pool::Postgres(pool) => pool.close().await,
        }
    }

    /// Takes one connection out of the pool, for a few queries in a row.
    pub async fn acquire(&self) -> Result<PoolConn, sqlx::Error> {
        Ok(match self {
            Pool::Sqlite(pool) => PoolConn::Sqlite(pool.acquire().await?),
            Pool::Postgres(pool) => PoolConn::Postgres(pool.acquire().await?),
        })
    }
}

/// A connection taken from a [`Pool`].
pub enum PoolConn {
    Sqlite(sqlx::pool::PoolConnection<Sqlite>),
    Postgres(sqlx::pool::PoolConnection<Postgres>),
}

impl PoolConn {
    pub fn conn(&mut self) -> Conn<'_> {
        match self {
            PoolConn::Sqlite(conn) => Conn::Sqlite(conn),
            PoolConn::Postgres(conn) => Conn::Postgres(conn),
        }
    }
}

/// A borrowed connection (or open transaction) of either engine.
pub enum Conn<'c> {
    Sqlite(&'c mut SqliteConnection),
    Postgres(&'c mut PgConnection),
}

impl Conn<'_> {
    pub fn dialect(&self) -> Dialect {
        match self {
            Conn::Sqlite(_) => Dialect::Sqlite,
            Conn::Postgres(_) => Dialect::Postgres,
        }
    }

    /// The same connection, borrowed again for a call that consumes a `Conn`.
    pub fn reborrow(&mut self) -> Conn<'_> {
        match self {
            Conn::Sqlite(conn) => Conn::Sqlite(conn),
            Conn::Postgres(conn) => Conn::Postgres(conn),
        }
    }
}

/// Where a read runs: a pool (one connection taken for the call) or a connection the caller
/// holds (several reads in one transaction, `catalog::detail`).
pub enum Db<'a> {
    Pool(&'a Pool),
    Conn(Conn<'a>),
}

impl<'a> From<&'a Pool> for Db<'a> {
    fn from(pool: &'a Pool) -> Self {
        Db::Pool(pool)
    }
}

impl<'a> From<&'a mut Conn<'_>> for Db<'a> {
    fn from(conn: &'a mut Conn<'_>) -> Self {
        Db::Conn(conn.reborrow())
    }
}

impl<'a> Db<'a> {
    /// A connection to run on: taken from the pool, or the caller's.
    pub async fn hold(self) -> Result<Held<'a>, sqlx::Error> {
        Ok(match self {
            Db::Pool(pool) => Held::Pooled(pool.acquire().await?),
            Db::Conn(conn) => Held::Borrowed(conn),
        })
    }
}

/// A connection held for one call ([`Db::hold`]).
pub enum Held<'a> {
    Pooled(PoolConn),
    Borrowed(Conn<'a>),
}

impl Held<'_> {
    pub fn conn(&mut self) -> Conn<'_> {
        match self {
            Held::Pooled(pooled) => pooled.conn(),
            Held::Borrowed(conn) => conn.reborrow(),
        }
    }
}

/// A read-only transaction: one snapshot for several reads.
pub enum ReadTx {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

impl ReadTx {
    pub fn conn(&mut self) -> Conn<'_> {
        match self {
            ReadTx::Sqlite(tx) => Conn::Sqlite(tx),
            ReadTx::Postgres(tx) => Conn::Postgres(tx),
        }
    }
}

impl Pool {
    /// Starts a read-only transaction that sees one snapshot (PostgreSQL's default, READ
    /// COMMITTED, would let each statement see newer commits).
    pub async fn begin_read(&self) -> Result<ReadTx, sqlx::Error> {
        Ok(match self {
            Pool::Sqlite(pool) => ReadTx::Sqlite(pool.begin().await?),
            Pool::Postgres(pool) => {
                ReadTx::Postgres(pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await?)
            }
        })
    }
}

/// Runs `$body` with `$p` bound to the pool's concrete sqlx pool (`&SqlitePool` or `&PgPool`)
/// and, in the second form, `$d` to its [`Dialect`]. The body is compiled once per engine.
#[macro_export]
macro_rules! on_pool {
    ($pool:expr, |$p:ident| $body:expr) => {
        match $pool {
            $crate::db::Pool::Sqlite($p) => $body,
            $crate::db::Pool::Postgres($p) => $body,
        }
    };
    ($pool:expr, |$p:ident, $d:ident| $body:expr) => {
        match $pool {
            $crate::db::Pool::Sqlite($p) => {
                let $d = $crate::db::Dialect::Sqlite;
                $body
            }
            $crate::db::Pool::Postgres($p) => {
                let $d = $crate::db::Dialect::Postgres;
                $body
            }
        }
    };
}

/// Runs `$body` with `$c` bound to the connection's concrete sqlx connection
/// (`&mut SqliteConnection` or `&mut PgConnection`) and, in the second form, `$d` to its
/// [`Dialect`]. `$conn` is a `Conn` or a `&mut Conn`.
#[macro_export]
macro_rules! on_conn {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::Conn::Sqlite(conn) => {
                let $c: &mut ::sqlx::SqliteConnection = conn;
                $body
            }
            $crate::db::Conn::Postgres(conn) => {
                let $c: &mut ::sqlx::PgConnection = conn;
                $body
            }
        }
    };
    ($conn:expr, |$c:ident, $d:ident| $body:expr) => {
        match $conn {
            $crate::db::Conn::Sqlite(conn) => {
                let $c: &mut ::sqlx::SqliteConnection = conn;
                let $d = $crate::db::Dialect::Sqlite;
                $body
            }
            $crate::db::Conn::Postgres(conn) => {
                let $c: &mut ::sqlx::PgConnection = conn;
                let $d = $crate::db::Dialect::Postgres;
                $body
            }
        }
    };
}

/// One column of a row, decoded as `T`, for row readers written once for both engines.
pub trait Column<T> {
    fn column(&self, name: &str) -> Result<T, sqlx::Error>;
}

impl<T> Column<T> for SqliteRow
where
    T: for<'r> Decode<'r, Sqlite> + Type<Sqlite>,
{
    fn column(&self, name: &str) -> Result<T, sqlx::Error> {
        self.try_get(name)
    }
}

impl<T> Column<T> for PgRow
where
    T: for<'r> Decode<'r, Postgres> + Type<Postgres>,
{
    fn column(&self, name: &str) -> Result<T, sqlx::Error> {
        self.try_get(name)
    }
}

/// A row of either engine, readable as the value types the store uses.
pub trait AnyRow:
    Column<i64>
    + Column<Option<i64>>
    + Column<f64>
    + Column<Option<f64>>
    + Column<bool>
    + Column<Option<bool>>
    + Column<String>
    + Column<Option<String>>
    + Column<Vec<u8>>
{
    /// The column `name` as `T` (`row.col::<i64>("id")`, or inferred).
    fn col<T>(&self, name: &str) -> Result<T, sqlx::Error>
    where
        Self: Column<T>,
    {
        self.column(name)
    }
}

impl AnyRow for SqliteRow {}
impl AnyRow for PgRow {}
