//! What the search index is built from: services with their offers, recent uptime and sources, read in
//! change order (catching up after commits) or id order (a rebuild). The index is a derived view;
//! these reads are all it knows of the catalog.

use super::history::Uptime;
use super::maintain::DAY_MS;
use super::quality::{self, LatencyNorms};
use super::services::{SERVICE_COLUMNS, ServiceRow, offers_many, service_row};
use super::{StoreError, in_list};
use crate::lifecycle::Status;
use crate::quality::Signals;
use agora_crawler::Offer;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};
use std::collections::HashMap;

/// Statuses that search shows (`shared/ARCHITECTURE.md` "Identity and lifecycle").
pub const SEARCHABLE: [Status; 2] = [Status::Listed, Status::Degraded];

/// SQL: what [`FeedService::searchable`] says of a row.
pub const SEARCHABLE_SQL: &str = "status IN ('listed', 'degraded') AND owner_delisted_at IS NULL AND hidden_at IS NULL";

/// Uptime in the index covers this many days before the indexing time.
pub const UPTIME_WINDOW_DAYS: i64 = 30;

/// A service as the index sees it: the stored row, its offers, its recent uptime.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedService {
    pub service: ServiceRow,
    /// Empty unless the service is searchable.
    pub offers: Vec<Offer>,
    pub uptime: Uptime,
    /// The sources that list it (`db::sources`), for the `source` filter.
    pub sources: Vec<i64>,
    /// Whether someone proved control of it (`db::claims`).
    pub verified: bool,
    /// What its probes measured, scored (`crate::quality`).
    pub quality: crate::quality::Parts,
}

impl FeedService {
    /// Listed or degraded, and withheld by neither its owner nor an operator.
    pub fn searchable(&self) -> bool {
        SEARCHABLE.contains(&self.service.status) && !self.service.withheld()
    }
}

/// Services changed after `seq` (any status: a delisted one must leave the index), in change
/// order, at most `limit`.
pub async fn changed_since(
    pool: &SqlitePool,
    seq: i64,
    limit: i64,
    now: i64,
    norms: &LatencyNorms,
) -> Result<Vec<FeedService>, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {SERVICE_COLUMNS} FROM services WHERE change_seq > ? ORDER BY change_seq LIMIT ?"
    ));
    let rows = sqlx::query(sql).bind(seq).bind(limit).fetch_all(pool).await?;
    complete(pool, &rows, now, norms).await
}

/// Searchable services with an id above `after_id`, in id order, at most `limit` (a rebuild).
pub async fn searchable_after(
    pool: &SqlitePool,
    after_id: i64,
    limit: i64,
    now: i64,
    norms: &LatencyNorms,
) -> Result<Vec<FeedService>, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {SERVICE_COLUMNS} FROM services WHERE {SEARCHABLE_SQL} AND id > ? ORDER BY id LIMIT ?"
    ));
    let rows = sqlx::query(sql).bind(after_id).bind(limit).fetch_all(pool).await?;
    complete(pool, &rows, now, norms).await
}

/// How many services search should hold.
pub async fn searchable_count(pool: &SqlitePool) -> Result<i64, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM services WHERE {SEARCHABLE_SQL}"));
    Ok(sqlx::query_scalar(sql).fetch_one(pool).await?)
}

/// The highest change sequence committed.
pub async fn max_change_seq(pool: &SqlitePool) -> Result<i64, StoreError> {
    let seq: Option<i64> = sqlx::query_scalar("SELECT MAX(change_seq) FROM services").fetch_one(pool).await?;
    Ok(seq.unwrap_or(0))
}

async fn complete(
    pool: &SqlitePool,
    rows: &[SqliteRow],
    now: i64,
    norms: &LatencyNorms,
) -> Result<Vec<FeedService>, StoreError> {
    let none = Uptime { probes: 0, successes: 0 };
    let mut services: Vec<FeedService> = rows
        .iter()
        .map(|row| {
            Ok(FeedService {
                service: service_row(row)?,
                offers: Vec::new(),
                uptime: none,
                sources: Vec::new(),
                verified: false,
                quality: crate::quality::Parts::of(&Signals::default()),
            })
        })
        .collect::<Result<_, StoreError>>()?;
    let ids: Vec<i64> = services.iter().filter(|s| s.searchable()).map(|s| s.service.id).collect();
    if ids.is_empty() {
        return Ok(services);
    }
    let mut offers = offers_many(&mut *pool.acquire().await?, &ids).await?;
    let uptimes = uptimes_of(pool, &ids, now - UPTIME_WINDOW_DAYS * DAY_MS).await?;
    let mut sources = sources_of(pool, &ids).await?;
    let verified: std::collections::HashSet<i64> =
        super::claims::verified_among(pool, &ids).await?.into_iter().collect();
    let measured = quality::measure(pool, &ids, now).await?;
    let warnings = quality::warnings_of(pool, &ids).await?;
    let changes = quality::changes_of(pool, &ids, now).await?;
    for feed in services.iter_mut().filter(|s| s.searchable()) {
        let id = feed.service.id;
        feed.offers = offers.remove(&id).unwrap_or_default();
        feed.uptime = uptimes.get(&id).copied().unwrap_or(none);
        feed.sources = sources.remove(&id).unwrap_or_default();
        feed.verified = verified.contains(&id);
        let measured = measured.get(&id);
        let (price_changes, pay_to_changes) = changes.get(&id).copied().unwrap_or_default();
        feed.quality = crate::quality::Parts::of(&Signals {
            probes: feed.uptime.probes,
            successes: feed.uptime.successes,
            latency_ms: measured.and_then(|m| m.latency_ms),
            category_latency_ms: measured.and_then(|m| norms.norm(m)),
            warnings: warnings.get(&id).copied().unwrap_or_default(),
            offers: feed.offers.len() as i64,
            payable_offers: feed.offers.iter().filter(|o| o.payable).count() as i64,
            price_changes,
            pay_to_changes,
            verified: feed.verified,
        });
    }
    Ok(services)
}

/// The sources listing each of `ids`.
async fn sources_of(pool: &SqlitePool, ids: &[i64]) -> Result<HashMap<i64, Vec<i64>>, StoreError> {
    let mut builder =
        QueryBuilder::<Sqlite>::new("SELECT service_id, source_id FROM service_sources WHERE service_id IN ");
    in_list(&mut builder, ids);
    let mut sources: HashMap<i64, Vec<i64>> = HashMap::new();
    for row in builder.build().fetch_all(pool).await? {
        sources.entry(row.try_get(0)?).or_default().push(row.try_get(1)?);
    }
    Ok(sources)
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
