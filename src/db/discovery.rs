//! The Bazaar discovery list (`GET /discovery/resources`) straight from SQLite: every listed
//! service in id order (stable, and offsets reach the whole catalog), testnets included, with
//! offer filters that must hold for one offer, like the catalog search.

use super::StoreError;
use super::backend::{AnyRow, Pool};
use super::services::{SERVICE_COLUMNS, ServiceRow, offers_many, service_row};
use crate::on_pool;
use agora_crawler::{Offer, ProbeReport};
use sqlx::QueryBuilder;

/// Offer filters of a discovery list (all optional; each must hold for the same offer).
#[derive(Debug, Clone, Default)]
pub struct DiscoveryFilter {
    /// Canonical CAIP-2 ids (a v1 name already mapped).
    pub networks: Vec<String>,
    pub schemes: Vec<String>,
    /// Lower-cased for EVM addresses; compared case-insensitively.
    pub pay_to: Option<String>,
    /// A symbol (any case) or an address (any case).
    pub asset: Option<String>,
    /// The offer's USD price (an `upto` offer at its cap) is at most this, in micro-dollars.
    pub max_usd_micros: Option<i64>,
    /// Only services whose listing declares a valid input/output schema (`extensions=bazaar`;
    /// the same `has_schema` the catalog search filters on).
    pub with_discovery: bool,
    /// `http` or `mcp`: only services of that type.
    pub service_type: Option<String>,
}

/// One listed service with its offers and the raw `accepts` of its latest valid challenge.
#[derive(Debug, Clone)]
pub struct DiscoveryItem {
    pub service: ServiceRow,
    pub offers: Vec<Offer>,
    /// The latest report (for the seller's raw challenge).
    pub report: Option<ProbeReport>,
}

fn push_filters<DB: sqlx::Database>(builder: &mut QueryBuilder<DB>, filter: &DiscoveryFilter)
where
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    builder.push(" FROM services s WHERE s.status = 'listed' AND s.owner_delisted_at IS NULL AND s.hidden_at IS NULL");
    if filter.with_discovery {
        builder.push(" AND s.has_schema");
    }
    if let Some(kind) = &filter.service_type {
        builder.push(" AND s.service_type = ").push_bind(kind.clone());
    }
    let offer_filtered = !filter.networks.is_empty()
        || !filter.schemes.is_empty()
        || filter.pay_to.is_some()
        || filter.asset.is_some()
        || filter.max_usd_micros.is_some();
    if !offer_filtered {
        return;
    }
    builder.push(" AND EXISTS (SELECT 1 FROM offers o WHERE o.service_id = s.id");
    for (column, values) in [("o.network", &filter.networks), ("o.scheme", &filter.schemes)] {
        if !values.is_empty() {
            builder.push(format!(" AND {column} IN ("));
            let mut list = builder.separated(", ");
            for value in values {
                list.push_bind(value.clone());
            }
            list.push_unseparated(")");
        }
    }
    if let Some(pay_to) = &filter.pay_to {
        builder.push(" AND lower(o.pay_to) = lower(").push_bind(pay_to.clone()).push(")");
    }
    if let Some(asset) = &filter.asset {
        builder.push(" AND (lower(o.asset) = lower(").push_bind(asset.clone());
        builder.push(") OR upper(o.asset_symbol) = upper(").push_bind(asset.clone()).push("))");
    }
    if let Some(max) = filter.max_usd_micros {
        builder.push(" AND o.usd_micros <= ").push_bind(max);
    }
    builder.push(")");
}

/// A page of the list and the total under the filters.
pub async fn list(
    pool: &Pool,
    filter: &DiscoveryFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<DiscoveryItem>, i64), StoreError> {
    let total: i64 = on_pool!(pool, |p| {
        let mut count = QueryBuilder::new("SELECT COUNT(*)");
        push_filters(&mut count, filter);
        count.build_query_scalar().fetch_one(p).await
    })?;
    let columns = SERVICE_COLUMNS.split(", ").map(|c| format!("s.{}", c.trim())).collect::<Vec<_>>().join(", ");
    let mut items: Vec<DiscoveryItem> = on_pool!(pool, |p| {
        let mut page = QueryBuilder::new(format!(
            "SELECT {columns}, (SELECT report FROM latest_reports r WHERE r.service_id = s.id) AS report_json"
        ));
        push_filters(&mut page, filter);
        page.push(" ORDER BY s.id LIMIT ").push_bind(limit).push(" OFFSET ").push_bind(offset);
        let rows = page.build().fetch_all(p).await?;
        rows.iter().map(item).collect::<Result<_, StoreError>>()
    })?;
    let ids: Vec<i64> = items.iter().map(|i| i.service.id).collect();
    let mut offers = offers_many(&mut pool.acquire().await?.conn(), &ids).await?;
    for item in &mut items {
        item.offers = offers.remove(&item.service.id).unwrap_or_default();
    }
    Ok((items, total))
}

fn item(row: &impl AnyRow) -> Result<DiscoveryItem, StoreError> {
    let report: Option<String> = row.col("report_json")?;
    Ok(DiscoveryItem {
        service: service_row(row)?,
        offers: Vec::new(),
        report: report.map(|t| serde_json::from_str(&t)).transpose()?,
    })
}
