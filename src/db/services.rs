//! Read queries on services and their offers (the read-only pool).

use super::StoreError;
use super::backend::{AnyRow, Conn, Db, Pool};
use super::moderation::Pins;
use super::register::NewService;
use crate::lifecycle::Status;
use crate::{on_conn, on_pool};
use agora_crawler::{Discovery, Offer, ProbeReport};
use sqlx::QueryBuilder;
use std::collections::HashMap;

/// One row of `services`, the columns of [`SERVICE_COLUMNS`] (what they mean: docs/CATALOG.md;
/// answered as `http::views::ServiceView`, which documents the public ones).
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceRow {
    pub id: i64,
    pub url: String,
    pub method: String,
    pub host: String,
    pub status: Status,
    pub verdict: Option<String>,
    pub reason_code: Option<String>,
    pub reason: Option<String>,
    pub x402_version: Option<i64>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub mime_type: Option<String>,
    pub tags: Vec<String>,
    pub route_template: Option<String>,
    pub has_schema: bool,
    /// Search text only (the schema's field names and descriptions): never answered.
    pub schema_text: Option<String>,
    pub registered_at: i64,
    pub first_listed_at: Option<i64>,
    pub last_probed_at: Option<i64>,
    pub last_listed_at: Option<i64>,
    pub status_since: i64,
    pub failure_streak: i64,
    pub next_due_at: i64,
    pub interval_ms: i64,
    pub change_seq: i64,
    /// `http`, or `mcp` for an MCP tool sold through x402 (from its bazaar metadata).
    pub service_type: String,
    /// The MCP tool's name, for `mcp` services.
    pub tool_name: Option<String>,
    /// The seller's icon, kept by Agora (`db::icons`), by content hash.
    pub icon_hash: Option<String>,
    /// When its owner delisted it (`db::moderation`): withheld until they relist it.
    pub owner_delisted_at: Option<i64>,
    /// When an operator hid it, and the public reason: withheld until unhidden.
    pub hidden_at: Option<i64>,
    pub hidden_reason: Option<String>,
    /// What its owner pinned, with the challenge's own values the pins cover (`None`: nothing
    /// pinned). `name`, `description`, `tags` and `icon_hash` above are already the pinned ones.
    pub pinned: Option<Box<Pinned>>,
}

/// An owner's pins and what the challenge itself says under them.
#[derive(Debug, Clone, PartialEq)]
pub struct Pinned {
    pub pins: Pins,
    pub pinned_at: i64,
    pub challenge_name: Option<String>,
    pub challenge_description: Option<String>,
    pub challenge_tags: Vec<String>,
}

impl ServiceRow {
    /// A listed service with this id and nothing else set (for tests of what holds rows).
    #[cfg(test)]
    pub fn sample(id: i64) -> ServiceRow {
        ServiceRow {
            id,
            url: format!("https://seller.example/{id}"),
            method: "GET".into(),
            host: "seller.example".into(),
            status: Status::Listed,
            verdict: None,
            reason_code: None,
            reason: None,
            x402_version: Some(2),
            name: Some(format!("service {id}")),
            description: None,
            mime_type: None,
            tags: Vec::new(),
            route_template: None,
            has_schema: false,
            schema_text: None,
            registered_at: 0,
            first_listed_at: None,
            last_probed_at: None,
            last_listed_at: None,
            status_since: 0,
            failure_streak: 0,
            next_due_at: 0,
            interval_ms: 0,
            change_seq: id,
            service_type: "http".into(),
            tool_name: None,
            icon_hash: None,
            owner_delisted_at: None,
            hidden_at: None,
            hidden_reason: None,
            pinned: None,
        }
    }

    /// Whether an owner or an operator keeps it out of search, the Bazaar endpoints and feeds.
    pub fn withheld(&self) -> bool {
        self.owner_delisted_at.is_some() || self.hidden_at.is_some()
    }
}

pub(crate) const SERVICE_COLUMNS: &str = "id, url, method, host, status, verdict, reason_code, reason, x402_version, name, \
    description, mime_type, tags, route_template, has_schema, schema_text, registered_at, first_listed_at, last_probed_at, last_listed_at, status_since, failure_streak, \
    next_due_at, interval_ms, change_seq, service_type, tool_name, icon_hash, owner_delisted_at, hidden_at, hidden_reason, \
    pin_name, pin_description, pin_tags, pin_category, pin_docs_url, pin_icon_url, pin_icon_hash, pinned_at";

/// SQL: a service row (`services`, unaliased or as `s`) that neither its owner nor an operator
/// withholds.
pub const NOT_WITHHELD: &str = "owner_delisted_at IS NULL AND hidden_at IS NULL";

fn json_tags(tags: Option<String>) -> Result<Vec<String>, sqlx::Error> {
    Ok(tags
        .map(|t| serde_json::from_str(&t))
        .transpose()
        .map_err(|e| sqlx::Error::Decode(e.into()))?
        .unwrap_or_default())
}

pub(crate) fn service_row(row: &impl AnyRow) -> Result<ServiceRow, sqlx::Error> {
    let status: String = row.col("status")?;
    let tags: Option<String> = row.col("tags")?;
    let mut service = ServiceRow {
        id: row.col("id")?,
        url: row.col("url")?,
        method: row.col("method")?,
        host: row.col("host")?,
        status: Status::parse(&status).ok_or_else(|| sqlx::Error::Decode(format!("status {status:?}").into()))?,
        verdict: row.col("verdict")?,
        reason_code: row.col("reason_code")?,
        reason: row.col("reason")?,
        x402_version: row.col("x402_version")?,
        name: row.col("name")?,
        description: row.col("description")?,
        mime_type: row.col("mime_type")?,
        tags: json_tags(tags)?,
        route_template: row.col("route_template")?,
        has_schema: row.col("has_schema")?,
        schema_text: row.col("schema_text")?,
        registered_at: row.col("registered_at")?,
        first_listed_at: row.col("first_listed_at")?,
        last_probed_at: row.col("last_probed_at")?,
        last_listed_at: row.col("last_listed_at")?,
        status_since: row.col("status_since")?,
        failure_streak: row.col("failure_streak")?,
        next_due_at: row.col("next_due_at")?,
        interval_ms: row.col("interval_ms")?,
        change_seq: row.col("change_seq")?,
        service_type: row.col("service_type")?,
        tool_name: row.col("tool_name")?,
        icon_hash: row.col("icon_hash")?,
        owner_delisted_at: row.col("owner_delisted_at")?,
        hidden_at: row.col("hidden_at")?,
        hidden_reason: row.col("hidden_reason")?,
        pinned: None,
    };
    if let Some(pinned_at) = row.col::<Option<i64>>("pinned_at")? {
        let pin_tags: Option<String> = row.col("pin_tags")?;
        let pins = Pins {
            name: row.col("pin_name")?,
            description: row.col("pin_description")?,
            tags: pin_tags.map(|t| json_tags(Some(t))).transpose()?,
            category: row.col("pin_category")?,
            docs_url: row.col("pin_docs_url")?,
            icon_url: row.col("pin_icon_url")?,
            icon_hash: row.col("pin_icon_hash")?,
        };
        let pinned = Pinned {
            pinned_at,
            challenge_name: service.name.clone(),
            challenge_description: service.description.clone(),
            challenge_tags: service.tags.clone(),
            pins,
        };
        let pins = &pinned.pins;
        service.name = pins.name.clone().or(service.name);
        service.description = pins.description.clone().or(service.description);
        service.tags = pins.tags.clone().unwrap_or(service.tags);
        service.icon_hash = pins.icon_hash.clone().or(service.icon_hash);
        service.pinned = Some(Box::new(pinned));
    }
    Ok(service)
}

/// One service by id.
pub async fn get(db: impl Into<Db<'_>>, id: i64) -> Result<Option<ServiceRow>, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!("SELECT {SERVICE_COLUMNS} FROM services WHERE id = $1"));
    let mut held = db.into().hold().await?;
    on_conn!(&mut held.conn(), |c| {
        let row = sqlx::query(sql).bind(id).fetch_optional(c).await?;
        Ok(row.as_ref().map(service_row).transpose()?)
    })
}

/// The services with these ids (absent ids are skipped), in no particular order.
pub async fn get_many(conn: &mut Conn<'_>, ids: &[i64]) -> Result<Vec<ServiceRow>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    on_conn!(conn, |c| {
        let mut builder = QueryBuilder::new(format!("SELECT {SERVICE_COLUMNS} FROM services WHERE id IN "));
        super::in_list(&mut builder, ids);
        let rows = builder.build().fetch_all(c).await?;
        Ok(rows.iter().map(service_row).collect::<Result<_, _>>()?)
    })
}

/// One service by its canonical URL and method.
pub async fn lookup(pool: &Pool, url: &str, method: &str) -> Result<Option<ServiceRow>, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!("SELECT {SERVICE_COLUMNS} FROM services WHERE url = $1 AND method = $2"));
    on_pool!(pool, |p| {
        let row = sqlx::query(sql).bind(url).bind(method).fetch_optional(p).await?;
        Ok(row.as_ref().map(service_row).transpose()?)
    })
}

/// Every service, oldest first (exports, tests).
pub async fn all(pool: &Pool) -> Result<Vec<ServiceRow>, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!("SELECT {SERVICE_COLUMNS} FROM services ORDER BY id"));
    on_pool!(pool, |p| {
        let rows = sqlx::query(sql).fetch_all(p).await?;
        Ok(rows.iter().map(service_row).collect::<Result<_, _>>()?)
    })
}

/// A service the scheduler should probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueService {
    pub id: i64,
    pub url: String,
    pub method: String,
    pub host: String,
}

impl DueService {
    /// The registered service `id` that `new` was stored as.
    pub fn registered(id: i64, new: NewService) -> DueService {
        DueService { id, url: new.url, method: new.method, host: new.host }
    }

    /// What to fetch, without the id.
    pub fn target(&self) -> NewService {
        NewService { url: self.url.clone(), method: self.method.clone(), host: self.host.clone() }
    }
}

impl From<&ServiceRow> for DueService {
    fn from(service: &ServiceRow) -> DueService {
        DueService {
            id: service.id,
            url: service.url.clone(),
            method: service.method.clone(),
            host: service.host.clone(),
        }
    }
}

/// Services due at `now`, most overdue first.
pub async fn due(pool: &Pool, now: i64, limit: usize) -> Result<Vec<DueService>, StoreError> {
    let rows: Vec<(i64, String, String, String)> = on_pool!(pool, |p| sqlx::query_as(
        "SELECT id, url, method, host FROM services WHERE next_due_at <= $1 ORDER BY next_due_at, id LIMIT $2",
    )
    .bind(now)
    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
    .fetch_all(p)
    .await)?;
    Ok(rows
        .into_iter()
        .map(|(id, url, method, host)| DueService::registered(id, NewService { url, method, host }))
        .collect())
}

/// When the next service falls due, if any service exists.
pub async fn next_due_at(pool: &Pool) -> Result<Option<i64>, StoreError> {
    Ok(on_pool!(pool, |p| sqlx::query_scalar("SELECT MIN(next_due_at) FROM services").fetch_one(p).await)?)
}

/// How many services have each status (statuses with none are absent).
pub async fn count_by_status(pool: &Pool) -> Result<Vec<(Status, i64)>, StoreError> {
    let rows: Vec<(String, i64)> =
        on_pool!(pool, |p| sqlx::query_as("SELECT status, COUNT(*) FROM services GROUP BY status").fetch_all(p).await)?;
    Ok(rows.into_iter().filter_map(|(s, n)| Status::parse(&s).map(|s| (s, n))).collect())
}

const OFFER_COLUMNS: &str = "service_id, scheme, network, network_v1, family, testnet, asset, asset_symbol, \
    decimals, amount, usd, usd_is_max, pay_to, max_timeout_seconds, extra, payment_flow, asset_transfer_method, payable";

/// The offers of a service's last valid listing, in challenge order.
pub async fn offers(db: impl Into<Db<'_>>, id: i64) -> Result<Vec<Offer>, StoreError> {
    let sql =
        sqlx::AssertSqlSafe(format!("SELECT {OFFER_COLUMNS} FROM offers WHERE service_id = $1 ORDER BY position"));
    let mut held = db.into().hold().await?;
    on_conn!(&mut held.conn(), |c| {
        let rows = sqlx::query(sql).bind(id).fetch_all(c).await?;
        rows.iter().map(|row| offer(row).map(|(_, offer)| offer)).collect()
    })
}

/// The offers of several services, each in challenge order.
pub async fn offers_many(conn: &mut Conn<'_>, ids: &[i64]) -> Result<HashMap<i64, Vec<Offer>>, StoreError> {
    let mut offers: HashMap<i64, Vec<Offer>> = HashMap::new();
    if ids.is_empty() {
        return Ok(offers);
    }
    on_conn!(conn, |c| {
        let mut builder = QueryBuilder::new(format!("SELECT {OFFER_COLUMNS} FROM offers WHERE service_id IN "));
        super::in_list(&mut builder, ids);
        builder.push(" ORDER BY service_id, position");
        for row in builder.build().fetch_all(c).await? {
            let (id, offer) = offer(&row)?;
            offers.entry(id).or_default().push(offer);
        }
        Ok(offers)
    })
}

fn offer(row: &impl AnyRow) -> Result<(i64, Offer), StoreError> {
    let extra: String = row.col("extra")?;
    let offer = Offer {
        scheme: row.col("scheme")?,
        network: row.col("network")?,
        network_v1: row.col("network_v1")?,
        family: row.col("family")?,
        testnet: row.col("testnet")?,
        asset: row.col("asset")?,
        asset_symbol: row.col("asset_symbol")?,
        decimals: row.col::<Option<i64>>("decimals")?.and_then(|d| u8::try_from(d).ok()),
        amount: row.col("amount")?,
        usd: row.col("usd")?,
        usd_is_max: row.col("usd_is_max")?,
        pay_to: row.col("pay_to")?,
        max_timeout_seconds: row.col::<i64>("max_timeout_seconds")?.try_into().unwrap_or(0),
        extra: serde_json::from_str(&extra)?,
        payment_flow: row.col("payment_flow")?,
        asset_transfer_method: row.col("asset_transfer_method")?,
        payable: row.col("payable")?,
    };
    Ok((row.col("service_id")?, offer))
}

/// The latest probe report, if the service was ever probed (stored in the INTERFACES.md shape).
pub async fn latest_report(db: impl Into<Db<'_>>, id: i64) -> Result<Option<ProbeReport>, StoreError> {
    let mut held = db.into().hold().await?;
    let text: Option<String> =
        on_conn!(&mut held.conn(), |c| sqlx::query_scalar("SELECT report FROM latest_reports WHERE service_id = $1")
            .bind(id)
            .fetch_optional(c)
            .await)?;
    Ok(text.map(|t| serde_json::from_str(&t)).transpose()?)
}

/// The discovery metadata of the last valid listing, if it had any.
pub async fn discovery(db: impl Into<Db<'_>>, id: i64) -> Result<Option<Discovery>, StoreError> {
    let mut held = db.into().hold().await?;
    let text: Option<Option<String>> =
        on_conn!(&mut held.conn(), |c| sqlx::query_scalar("SELECT discovery FROM services WHERE id = $1")
            .bind(id)
            .fetch_optional(c)
            .await)?;
    Ok(text.flatten().map(|t| serde_json::from_str(&t)).transpose()?)
}

/// Listed services with ids above `after_id`, in id order, with their offers (the export).
pub async fn listed_after(pool: &Pool, after_id: i64, limit: i64) -> Result<Vec<(ServiceRow, Vec<Offer>)>, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {SERVICE_COLUMNS} FROM services WHERE status = 'listed' AND {NOT_WITHHELD} AND id > $1 ORDER BY id LIMIT $2"
    ));
    let services: Vec<ServiceRow> = on_pool!(pool, |p| {
        let rows = sqlx::query(sql).bind(after_id).bind(limit).fetch_all(p).await?;
        rows.iter().map(service_row).collect::<Result<_, sqlx::Error>>()
    })?;
    let ids: Vec<i64> = services.iter().map(|s| s.id).collect();
    let mut offers = offers_many(&mut pool.acquire().await?.conn(), &ids).await?;
    Ok(services
        .into_iter()
        .map(|s| {
            let o = offers.remove(&s.id).unwrap_or_default();
            (s, o)
        })
        .collect())
}

/// The latest probe reports of several services, by id.
pub async fn latest_reports_many(conn: &mut Conn<'_>, ids: &[i64]) -> Result<HashMap<i64, ProbeReport>, StoreError> {
    let mut reports = HashMap::new();
    if ids.is_empty() {
        return Ok(reports);
    }
    on_conn!(conn, |c| {
        let mut builder = QueryBuilder::new("SELECT service_id, report FROM latest_reports WHERE service_id IN ");
        super::in_list(&mut builder, ids);
        for row in builder.build().fetch_all(c).await? {
            let text: String = row.col("report")?;
            reports.insert(row.col("service_id")?, serde_json::from_str(&text)?);
        }
        Ok(reports)
    })
}
