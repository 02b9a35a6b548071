//! What the search index is built from: services with their offers, recent uptime and sources, read in
//! change order (catching up after commits) or id order (a rebuild). The index is a derived view;
//! these reads are all it knows of the catalog.

use super::backend::{AnyRow, Pool};
use super::history::Uptime;
use super::maintain::DAY_MS;
use super::quality::{self, LatencyNorms};
use super::services::{SERVICE_COLUMNS, ServiceRow, offers_many, service_row};
use super::{StoreError, in_list};
use crate::lifecycle::Status;
use crate::on_pool;
use crate::quality::Signals;
use agora_crawler::Offer;
use sqlx::QueryBuilder;
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
    pool: &Pool,
    seq: i64,
    limit: i64,
    now: i64,
    norms: &LatencyNorms,
) -> Result<Vec<FeedService>, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {SERVICE_COLUMNS} FROM services WHERE change_seq > $1 ORDER BY change_seq LIMIT $2"
    ));
    let rows = on_pool!(pool, |p| rows_of(sqlx::query(sql).bind(seq).bind(limit).fetch_all(p).await?))?;
    complete(pool, rows, now, norms).await
}

/// The services with these ids, whatever their status (absent ids are skipped).
pub async fn services_by_id(
    pool: &Pool,
    ids: &[i64],
    now: i64,
    norms: &LatencyNorms,
) -> Result<Vec<FeedService>, StoreError> {
    let rows = super::services::get_many(&mut pool.acquire().await?.conn(), ids).await?;
    complete(pool, rows, now, norms).await
}

/// Searchable services with an id above `after_id`, in id order, at most `limit` (a rebuild).
pub async fn searchable_after(
    pool: &Pool,
    after_id: i64,
    limit: i64,
    now: i64,
    norms: &LatencyNorms,
) -> Result<Vec<FeedService>, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {SERVICE_COLUMNS} FROM services WHERE {SEARCHABLE_SQL} AND id > $1 ORDER BY id LIMIT $2"
    ));
    let rows = on_pool!(pool, |p| rows_of(sqlx::query(sql).bind(after_id).bind(limit).fetch_all(p).await?))?;
    complete(pool, rows, now, norms).await
}

/// How many services search should hold.
pub async fn searchable_count(pool: &Pool) -> Result<i64, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM services WHERE {SEARCHABLE_SQL}"));
    Ok(on_pool!(pool, |p| sqlx::query_scalar(sql).fetch_one(p).await)?)
}

/// The highest change sequence committed.
pub async fn max_change_seq(pool: &Pool) -> Result<i64, StoreError> {
    let seq: Option<i64> =
        on_pool!(pool, |p| sqlx::query_scalar("SELECT MAX(change_seq) FROM services").fetch_one(p).await)?;
    Ok(seq.unwrap_or(0))
}

fn rows_of<R: AnyRow>(rows: Vec<R>) -> Result<Vec<ServiceRow>, sqlx::Error> {
    rows.iter().map(service_row).collect()
}

async fn complete(
    pool: &Pool,
    rows: Vec<ServiceRow>,
    now: i64,
    norms: &LatencyNorms,
) -> Result<Vec<FeedService>, StoreError> {
    let none = Uptime { probes: 0, successes: 0 };
    let mut services: Vec<FeedService> = rows
        .into_iter()
        .map(|service| FeedService {
            service,
            offers: Vec::new(),
            uptime: none,
            sources: Vec::new(),
            verified: false,
            quality: crate::quality::Parts::of(&Signals::default()),
        })
        .collect();
    let ids: Vec<i64> = services.iter().filter(|s| s.searchable()).map(|s| s.service.id).collect();
    if ids.is_empty() {
        return Ok(services);
    }
    let mut offers = offers_many(&mut pool.acquire().await?.conn(), &ids).await?;
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
async fn sources_of(pool: &Pool, ids: &[i64]) -> Result<HashMap<i64, Vec<i64>>, StoreError> {
    let rows: Vec<(i64, i64)> = on_pool!(pool, |p| {
        let mut builder = QueryBuilder::new("SELECT service_id, source_id FROM service_sources WHERE service_id IN ");
        in_list(&mut builder, ids);
        builder.build_query_as().fetch_all(p).await
    })?;
    let mut sources: HashMap<i64, Vec<i64>> = HashMap::new();
    for (service, source) in rows {
        sources.entry(service).or_default().push(source);
    }
    Ok(sources)
}

/// Probes and successes since `since` per service: daily rollups for finished days, raw probes
/// after the last rolled-up day (the same rule as `history::uptime`, for many services at once).
async fn uptimes_of(pool: &Pool, ids: &[i64], since: i64) -> Result<HashMap<i64, Uptime>, StoreError> {
    let first_day = since.div_euclid(DAY_MS);
    let rolled: Vec<(i64, i64, i64)> = on_pool!(pool, |p| {
        let mut builder = QueryBuilder::new(
            "SELECT service_id, CAST(SUM(probes) AS BIGINT), CAST(SUM(successes) AS BIGINT) FROM probe_daily WHERE day >= ",
        );
        builder.push_bind(first_day).push(" AND service_id IN ");
        in_list(&mut builder, ids);
        builder.push(" GROUP BY service_id");
        builder.build_query_as().fetch_all(p).await
    })?;
    let mut uptimes: HashMap<i64, Uptime> = HashMap::new();
    for (id, probes, successes) in rolled {
        uptimes.insert(id, Uptime { probes, successes });
    }
    let raw: Vec<(i64, i64, i64)> = on_pool!(pool, |p| {
        let mut builder = QueryBuilder::new(
            "SELECT p.service_id, COUNT(*), COALESCE(SUM(CASE WHEN p.verdict = 'listed' THEN 1 ELSE 0 END), 0) \
             FROM probes p WHERE p.probed_at >= \
             COALESCE((SELECT (MAX(d.day) + 1) * 86400000 FROM probe_daily d WHERE d.service_id = p.service_id AND d.day >= ",
        );
        builder.push_bind(first_day).push("), ").push_bind(first_day * DAY_MS).push(") AND p.service_id IN ");
        in_list(&mut builder, ids);
        builder.push(" GROUP BY p.service_id");
        builder.build_query_as().fetch_all(p).await
    })?;
    for (id, probes, successes) in raw {
        let uptime = uptimes.entry(id).or_insert(Uptime { probes: 0, successes: 0 });
        uptime.probes += probes;
        uptime.successes += successes;
    }
    Ok(uptimes)
}
