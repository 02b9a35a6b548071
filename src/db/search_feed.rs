//! What the search index is built from: services with their offers and recent uptime, read in
//! change order (catching up after commits) or id order (a rebuild). The index is a derived view;
//! these reads are all it knows of the catalog.

use super::history::Uptime;
use super::maintain::DAY_MS;
use super::{StoreError, in_list};
use crate::lifecycle::Status;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};
use std::collections::HashMap;

/// Statuses that search shows (`shared/ARCHITECTURE.md` "Identity and lifecycle").
pub const SEARCHABLE: [Status; 2] = [Status::Listed, Status::Degraded];

/// Uptime in the index covers this many days before the indexing time.
pub const UPTIME_WINDOW_DAYS: i64 = 30;

/// One offer, as far as search filters and facets need it.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedOffer {
    pub scheme: String,
    pub network: String,
    pub network_v1: Option<String>,
    pub testnet: bool,
    pub asset: String,
    pub asset_symbol: Option<String>,
    /// USD in micro-dollars, rounded up; for `upto` it is the cap. `None`: unknown asset.
    pub usd_micros: Option<i64>,
    pub pay_to: String,
}

/// A service as the index sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedService {
    pub id: i64,
    pub change_seq: i64,
    pub status: Status,
    pub url: String,
    pub method: String,
    pub host: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub schema_text: Option<String>,
    pub x402_version: Option<i64>,
    pub has_schema: bool,
    pub registered_at: i64,
    pub last_listed_at: Option<i64>,
    pub uptime: Uptime,
    pub offers: Vec<FeedOffer>,
}

impl FeedService {
    pub fn searchable(&self) -> bool {
        SEARCHABLE.contains(&self.status)
    }
}

const COLUMNS: &str = "id, change_seq, status, url, method, host, name, description, tags, schema_text, \
    x402_version, has_schema, registered_at, last_listed_at";

/// Services changed after `seq` (any status: a delisted one must leave the index), in change
/// order, at most `limit`.
pub async fn changed_since(pool: &SqlitePool, seq: i64, limit: i64, now: i64) -> Result<Vec<FeedService>, StoreError> {
    let sql =
        sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM services WHERE change_seq > ? ORDER BY change_seq LIMIT ?"));
    let rows = sqlx::query(sql).bind(seq).bind(limit).fetch_all(pool).await?;
    complete(pool, &rows, now).await
}

/// Searchable services with an id above `after_id`, in id order, at most `limit` (a rebuild).
pub async fn searchable_after(
    pool: &SqlitePool,
    after_id: i64,
    limit: i64,
    now: i64,
) -> Result<Vec<FeedService>, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM services WHERE status IN ('listed', 'degraded') AND id > ? ORDER BY id LIMIT ?"
    ));
    let rows = sqlx::query(sql).bind(after_id).bind(limit).fetch_all(pool).await?;
    complete(pool, &rows, now).await
}

/// How many services search should hold.
pub async fn searchable_count(pool: &SqlitePool) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM services WHERE status IN ('listed', 'degraded')")
        .fetch_one(pool)
        .await?)
}

/// The highest change sequence committed.
pub async fn max_change_seq(pool: &SqlitePool) -> Result<i64, StoreError> {
    let seq: Option<i64> = sqlx::query_scalar("SELECT MAX(change_seq) FROM services").fetch_one(pool).await?;
    Ok(seq.unwrap_or(0))
}

async fn complete(pool: &SqlitePool, rows: &[SqliteRow], now: i64) -> Result<Vec<FeedService>, StoreError> {
    let mut services = rows.iter().map(feed_service).collect::<Result<Vec<_>, _>>()?;
    let ids: Vec<i64> = services.iter().filter(|s| s.searchable()).map(|s| s.id).collect();
    if ids.is_empty() {
        return Ok(services);
    }
    let mut offers = offers_of(pool, &ids).await?;
    let uptimes = uptimes_of(pool, &ids, now - UPTIME_WINDOW_DAYS * DAY_MS).await?;
    for service in services.iter_mut().filter(|s| s.searchable()) {
        service.offers = offers.remove(&service.id).unwrap_or_default();
        service.uptime = uptimes.get(&service.id).copied().unwrap_or(Uptime { probes: 0, successes: 0 });
    }
    Ok(services)
}

fn feed_service(row: &SqliteRow) -> Result<FeedService, StoreError> {
    let status: String = row.try_get("status")?;
    let tags: Option<String> = row.try_get("tags")?;
    Ok(FeedService {
        id: row.try_get("id")?,
        change_seq: row.try_get("change_seq")?,
        status: Status::parse(&status).ok_or_else(|| sqlx::Error::Decode(format!("status {status:?}").into()))?,
        url: row.try_get("url")?,
        method: row.try_get("method")?,
        host: row.try_get("host")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        tags: tags.map(|t| serde_json::from_str(&t)).transpose()?.unwrap_or_default(),
        schema_text: row.try_get("schema_text")?,
        x402_version: row.try_get("x402_version")?,
        has_schema: row.try_get("has_schema")?,
        registered_at: row.try_get("registered_at")?,
        last_listed_at: row.try_get("last_listed_at")?,
        uptime: Uptime { probes: 0, successes: 0 },
        offers: Vec::new(),
    })
}

async fn offers_of(pool: &SqlitePool, ids: &[i64]) -> Result<HashMap<i64, Vec<FeedOffer>>, StoreError> {
    let mut builder = QueryBuilder::<Sqlite>::new(
        "SELECT service_id, scheme, network, network_v1, testnet, asset, asset_symbol, usd_micros, pay_to
         FROM offers WHERE service_id IN ",
    );
    in_list(&mut builder, ids);
    builder.push(" ORDER BY service_id, position");
    let rows = builder.build().fetch_all(pool).await?;
    let mut offers: HashMap<i64, Vec<FeedOffer>> = HashMap::new();
    for row in &rows {
        offers.entry(row.try_get("service_id")?).or_default().push(FeedOffer {
            scheme: row.try_get("scheme")?,
            network: row.try_get("network")?,
            network_v1: row.try_get("network_v1")?,
            testnet: row.try_get("testnet")?,
            asset: row.try_get("asset")?,
            asset_symbol: row.try_get("asset_symbol")?,
            usd_micros: row.try_get("usd_micros")?,
            pay_to: row.try_get("pay_to")?,
        });
    }
    Ok(offers)
}

/// Probes and successes since `since` per service: daily rollups for finished days, raw probes
/// after the last rolled-up day (the same rule as `history::uptime`, for many services at once).
async fn uptimes_of(pool: &SqlitePool, ids: &[i64], since: i64) -> Result<HashMap<i64, Uptime>, StoreError> {
    let first_day = since.div_euclid(DAY_MS);
    let mut builder =
        QueryBuilder::<Sqlite>::new("SELECT service_id, SUM(probes), SUM(successes) FROM probe_daily WHERE day >= ");
    builder.push_bind(first_day).push(" AND service_id IN ");
    in_list(&mut builder, ids);
    builder.push(" GROUP BY service_id");
    let mut uptimes: HashMap<i64, Uptime> = HashMap::new();
    for row in builder.build().fetch_all(pool).await? {
        uptimes.insert(row.try_get(0)?, Uptime { probes: row.try_get(1)?, successes: row.try_get(2)? });
    }
    let mut builder = QueryBuilder::<Sqlite>::new(
        "SELECT p.service_id, COUNT(*), COALESCE(SUM(p.verdict = 'listed'), 0) FROM probes p WHERE p.probed_at >= \
         COALESCE((SELECT (MAX(d.day) + 1) * 86400000 FROM probe_daily d WHERE d.service_id = p.service_id AND d.day >= ",
    );
    builder.push_bind(first_day).push("), ").push_bind(first_day * DAY_MS).push(") AND p.service_id IN ");
    in_list(&mut builder, ids);
    builder.push(" GROUP BY p.service_id");
    for row in builder.build().fetch_all(pool).await? {
        let uptime = uptimes.entry(row.try_get(0)?).or_insert(Uptime { probes: 0, successes: 0 });
        uptime.probes += row.try_get::<i64, _>(1)?;
        uptime.successes += row.try_get::<i64, _>(2)?;
    }
    Ok(uptimes)
}
