//! What the quality score reads from the store (`crate::quality`): each service's latency and
//! category, the latency norms of every category, warnings on the latest challenge, and price and
//! payTo changes — for a batch of services at once, as the search feed needs them.

use super::backend::{AnyRow, Dialect, Pool};
use super::maintain::DAY_MS;
use super::search_feed::SEARCHABLE_SQL;
use super::{StoreError, in_list};
use crate::on_pool;
use sqlx::QueryBuilder;
use std::collections::HashMap;

/// Latency is judged over this many days of probes.
pub const LATENCY_WINDOW_DAYS: i64 = 7;
/// Price and payTo changes count over this many days.
pub const CHANGES_WINDOW_DAYS: i64 = 30;
/// A category needs this many measured services to be its own yardstick; smaller ones are judged
/// against every service of their type (`http`, `mcp`).
pub const MIN_CATEGORY_PEERS: usize = 3;

/// The category a service is judged in: its owner's pinned category, else its first tag, else its
/// type — lowercased. SQL over `services`, so one rule serves batches and norms. (`agora_jsonb`
/// is PostgreSQL's `json_valid` + parse: NULL for text that is not JSON.)
fn category_sql(dialect: Dialect) -> &'static str {
    dialect.pick(
        "LOWER(COALESCE(s.pin_category,
            CASE WHEN json_valid(COALESCE(s.pin_tags, s.tags)) THEN json_extract(COALESCE(s.pin_tags, s.tags), '$[0]') END,
            s.service_type))",
        "LOWER(COALESCE(s.pin_category, agora_jsonb(COALESCE(s.pin_tags, s.tags)) ->> 0, s.service_type))",
    )
}

/// A service's measured latency and where it is judged.
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    pub category: String,
    pub service_type: String,
    /// Mean over the window of daily median latencies (finished days) and raw successful probes
    /// (days not rolled up yet); `None` without any.
    pub latency_ms: Option<f64>,
}

/// The median latency of each category and of each type, over searchable services.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LatencyNorms {
    pub categories: HashMap<String, f64>,
    pub types: HashMap<String, f64>,
    /// Searchable services with a latency in the window.
    pub measured: usize,
}

impl LatencyNorms {
    /// The yardstick of a service measured as `measured`.
    pub fn norm(&self, measured: &Measured) -> Option<f64> {
        self.categories.get(&measured.category).or_else(|| self.types.get(&measured.service_type)).copied()
    }
}

/// Reads the norms now (a pass over the window's rollups and recent probes of every searchable
/// service; callers keep them for a while).
pub async fn latency_norms(pool: &Pool, now: i64) -> Result<LatencyNorms, StoreError> {
    let measured = measure_all(pool, now).await?;
    let mut categories: HashMap<String, Vec<f64>> = HashMap::new();
    let mut types: HashMap<String, Vec<f64>> = HashMap::new();
    let count = measured.len();
    for m in measured.into_values() {
        if let Some(latency) = m.latency_ms {
            categories.entry(m.category).or_default().push(latency);
            types.entry(m.service_type).or_default().push(latency);
        }
    }
    let medians = |groups: HashMap<String, Vec<f64>>, least: usize| {
        groups.into_iter().filter(|(_, v)| v.len() >= least).filter_map(|(k, v)| median(v).map(|m| (k, m))).collect()
    };
    Ok(LatencyNorms { categories: medians(categories, MIN_CATEGORY_PEERS), types: medians(types, 1), measured: count })
}

/// SQL: the window's latency samples as (service_id, ms) — daily medians of the rolled-up days,
/// then successful probes after the last of them. `one_service` narrows both arms to `s.id` in
/// the WHERE clauses themselves, so each is read through its own keys (`probe_daily`'s primary
/// key, `probes_service_time`); a filter outside the compound would be applied only after both
/// arms were read whole.
fn samples_sql(first_day: i64, one_service: bool) -> String {
    let (daily, raw) = if one_service { ("service_id = s.id AND ", "p.service_id = s.id AND ") } else { ("", "") };
    format!(
        "SELECT service_id, latency_p50_ms AS ms FROM probe_daily
         WHERE {daily}day >= {first_day} AND latency_p50_ms IS NOT NULL
         UNION ALL
         SELECT p.service_id, p.total_ms FROM probes p
         WHERE {raw}p.probed_at >= {since} AND p.verdict = 'listed' AND p.total_ms IS NOT NULL
           AND p.probed_at >= COALESCE((SELECT (MAX(d.day) + 1) * {DAY_MS} FROM probe_daily d
                                        WHERE d.service_id = p.service_id AND d.day >= {first_day}), 0)",
        since = first_day * DAY_MS,
    )
}

/// The first day of the latency window at `now`.
fn first_day(now: i64) -> i64 {
    (now - LATENCY_WINDOW_DAYS * DAY_MS).div_euclid(DAY_MS)
}

/// Latency and category of each of `ids`, each service's samples read through its own keys (a
/// shared `WITH samples` was evaluated whole for every service — every recent probe of the
/// catalog, once per service the indexer catches up with).
pub async fn measure(pool: &Pool, ids: &[i64], now: i64) -> Result<HashMap<i64, Measured>, StoreError> {
    let samples = samples_sql(first_day(now), true);
    on_pool!(pool, |p, dialect| {
        let category = category_sql(dialect);
        let mut builder = QueryBuilder::new(format!(
            "SELECT s.id, {category} AS category, s.service_type, (SELECT AVG(ms) FROM ({samples}) AS samples) AS latency
             FROM services s WHERE s.id IN "
        ));
        in_list(&mut builder, ids);
        read_measured(builder.build().fetch_all(p).await?)
    })
}

/// Latency and category of every searchable service that has a latency in the window, in one
/// pass over the window's samples: the norms' cost grows with the probes, not with the catalog
/// (asking [`measure`] for every service took 4.3 s at 1,000,000 listings, blocking the
/// indexer's first catch-up after a start — every registration waited for it).
pub async fn measure_all(pool: &Pool, now: i64) -> Result<HashMap<i64, Measured>, StoreError> {
    let samples = samples_sql(first_day(now), false);
    on_pool!(pool, |p, dialect| {
        let category = category_sql(dialect);
        let sql = format!(
            "WITH latency AS (SELECT service_id, AVG(ms) AS ms FROM ({samples}) AS samples GROUP BY service_id)
             SELECT s.id, {category} AS category, s.service_type, latency.ms AS latency
             FROM latency JOIN services s ON s.id = latency.service_id WHERE {SEARCHABLE_SQL}"
        );
        read_measured(sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(p).await?)
    })
}

/// Rows of (id, category, service_type, latency) by id.
fn read_measured<R: AnyRow>(rows: Vec<R>) -> Result<HashMap<i64, Measured>, StoreError> {
    let mut out = HashMap::new();
    for row in rows {
        let category: Option<String> = row.col("category")?;
        let service_type: String = row.col("service_type")?;
        out.insert(
            row.col("id")?,
            Measured {
                category: category.unwrap_or_else(|| service_type.clone()),
                service_type,
                latency_ms: row.col("latency")?,
            },
        );
    }
    Ok(out)
}

/// Warnings on the latest report of each of `ids` (its latest challenge, valid or not).
pub async fn warnings_of(pool: &Pool, ids: &[i64]) -> Result<HashMap<i64, i64>, StoreError> {
    let rows: Vec<(i64, i64)> = on_pool!(pool, |p, dialect| {
        let mut builder = QueryBuilder::new(dialect.pick(
            "SELECT service_id, COALESCE(json_array_length(report, '$.warnings'), 0)
                    + COALESCE(json_extract(report, '$.warnings_omitted'), 0)
             FROM latest_reports WHERE json_valid(report) AND service_id IN ",
            "SELECT service_id, COALESCE(CASE WHEN jsonb_typeof(j -> 'warnings') = 'array' THEN jsonb_array_length(j -> 'warnings') END, 0)
                    + COALESCE(CASE WHEN jsonb_typeof(j -> 'warnings_omitted') = 'number' THEN (j ->> 'warnings_omitted')::bigint END, 0)
             FROM (SELECT service_id, agora_jsonb(report) AS j FROM latest_reports) AS r WHERE j IS NOT NULL AND service_id IN ",
        ));
        in_list(&mut builder, ids);
        builder.build_query_as().fetch_all(p).await
    })?;
    Ok(rows.into_iter().collect())
}

/// Price and payTo changes per service of `ids` in the changes window: (price, payTo).
pub async fn changes_of(pool: &Pool, ids: &[i64], now: i64) -> Result<HashMap<i64, (i64, i64)>, StoreError> {
    let rows: Vec<(i64, i64, i64)> = on_pool!(pool, |p| {
        let mut builder = QueryBuilder::new(
            "SELECT service_id, COALESCE(SUM(CASE WHEN kind = 'price' THEN 1 ELSE 0 END), 0),
                    COALESCE(SUM(CASE WHEN kind = 'pay_to' THEN 1 ELSE 0 END), 0)
             FROM offer_changes WHERE changed_at >= ",
        );
        builder.push_bind(now - CHANGES_WINDOW_DAYS * DAY_MS).push(" AND service_id IN ");
        in_list(&mut builder, ids);
        builder.push(" GROUP BY service_id");
        builder.build_query_as().fetch_all(p).await
    })?;
    Ok(rows.into_iter().map(|(id, price, pay_to)| (id, (price, pay_to))).collect())
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    values.retain(|v| v.is_finite());
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    match values.len() {
        0 => None,
        n if n % 2 == 1 => Some(values[mid]),
        _ => Some((values[mid - 1] + values[mid]) / 2.0),
    }
}
