//! Read queries on services and their offers (the read-only pool).

use super::StoreError;
use super::moderation::Pins;
use super::register::NewService;
use crate::lifecycle::Status;
use agora_crawler::{Discovery, Offer, ProbeReport};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection, SqliteExecutor, SqlitePool};
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

pub(crate) fn service_row(row: &SqliteRow) -> Result<ServiceRow, sqlx::Error> {
    let status: String = row.try_get("status")?;
    let tags: Option<String> = row.try_get("tags")?;
    let mut service = ServiceRow {
        id: row.try_get("id")?,
        url: row.try_get("url")?,
        method: row.try_get("method")?,
        host: row.try_get("host")?,
        status: Status::parse(&status).ok_or_else(|| sqlx::Error::Decode(format!("status {status:?}").into()))?,
        verdict: row.try_get("verdict")?,
        reason_code: row.try_get("reason_code")?,
        reason: row.try_get("reason")?,
        x402_version: row.try_get("x402_version")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        mime_type: row.try_get("mime_type")?,
        tags: json_tags(tags)?,
        route_template: row.try_get("route_template")?,
        has_schema: row.try_get("has_schema")?,
        schema_text: row.try_get("schema_text")?,
        registered_at: row.try_get("registered_at")?,
        first_listed_at: row.try_get("first_listed_at")?,
        last_probed_at: row.try_get("last_probed_at")?,
        last_listed_at: row.try_get("last_listed_at")?,
        status_since: row.try_get("status_since")?,
        failure_streak: row.try_get("failure_streak")?,
        next_due_at: row.try_get("next_due_at")?,
        interval_ms: row.try_get("interval_ms")?,
        change_seq: row.try_get("change_seq")?,
        service_type: row.try_get("service_type")?,
        tool_name: row.try_get("tool_name")?,
        icon_hash: row.try_get("icon_hash")?,
        owner_delisted_at: row.try_get("owner_delisted_at")?,
        hidden_at: row.try_get("hidden_at")?,
        hidden_reason: row.try_get("hidden_reason")?,
        pinned: None,
    };
    if let Some(pinned_at) = row.try_get::<Option<i64>, _>("pinned_at")? {
        let pin_tags: Option<String> = row.try_get("pin_tags")?;
        let pins = Pins {
            name: row.try_get("pin_name")?,
            description: row.try_get("pin_description")?,
            tags: pin_tags.map(|t| json_tags(Some(t))).transpose()?,
            category: row.try_get("pin_category")?,
            docs_url: row.try_get("pin_docs_url")?,
            icon_url: row.try_get("pin_icon_url")?,
            icon_hash: row.try_get("pin_icon_hash")?,
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
pub async fn get(db: impl SqliteExecutor<'_>, id: i64) -> Result<Option<ServiceRow>, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!("SELECT {SERVICE_COLUMNS} FROM services WHERE id = ?"));
    let row = sqlx::query(sql).bind(id).fetch_optional(db).await?;
    Ok(row.as_ref().map(service_row).transpose()?)
}

/// The services with these ids (absent ids are skipped), in no particular order.
pub async fn get_many(conn: &mut SqliteConnection, ids: &[i64]) -> Result<Vec<ServiceRow>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut builder = QueryBuilder::<Sqlite>::new(format!("SELECT {SERVICE_COLUMNS} FROM services WHERE id IN "));
    super::in_list(&mut builder, ids);
    let rows = builder.build().fetch_all(conn).await?;
    Ok(rows.iter().map(service_row).collect::<Result<_, _>>()?)
}

/// One service by its canonical URL and method.
pub async fn lookup(pool: &SqlitePool, url: &str, method: &str) -> Result<Option<ServiceRow>, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!("SELECT {SERVICE_COLUMNS} FROM services WHERE url = ? AND method = ?"));
    let row = sqlx::query(sql).bind(url).bind(method).fetch_optional(pool).await?;
    Ok(row.as_ref().map(service_row).transpose()?)
}

/// Every service, oldest first (exports, tests).
pub async fn all(pool: &SqlitePool) -> Result<Vec<ServiceRow>, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!("SELECT {SERVICE_COLUMNS} FROM services ORDER BY id"));
    let rows = sqlx::query(sql).fetch_all(pool).await?;
    Ok(rows.iter().map(service_row).collect::<Result<_, _>>()?)
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
pub async fn due(pool: &SqlitePool, now: i64, limit: usize) -> Result<Vec<DueService>, StoreError> {
    let rows: Vec<(i64, String, String, String)> = sqlx::query_as(
        "SELECT id, url, method, host FROM services WHERE next_due_at <= ? ORDER BY next_due_at, id LIMIT ?",
    )
    .bind(now)
    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, url, method, host)| DueService::registered(id, NewService { url, method, host }))
        .collect())
}

/// When the next service falls due, if any service exists.
pub async fn next_due_at(pool: &SqlitePool) -> Result<Option<i64>, StoreError> {
    Ok(sqlx::query_scalar("SELECT MIN(next_due_at) FROM services").fetch_one(pool).await?)
}

/// How many services have each status (statuses with none are absent).
pub async fn count_by_status(pool: &SqlitePool) -> Result<Vec<(Status, i64)>, StoreError> {
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT status, COUNT(*) FROM services GROUP BY status").fetch_all(pool).await?;
    Ok(rows.into_iter().filter_map(|(s, n)| Status::parse(&s).map(|s| (s, n))).collect())
}

const OFFER_COLUMNS: &str = "service_id, scheme, network, network_v1, family, testnet, asset, asset_symbol, \
    decimals, amount, usd, usd_is_max, pay_to, max_timeout_seconds, extra, payment_flow, asset_transfer_method, payable";

/// The offers of a service's last valid listing, in challenge order.
pub async fn offers(db: impl SqliteExecutor<'_>, id: i64) -> Result<Vec<Offer>, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!("SELECT {OFFER_COLUMNS} FROM offers WHERE service_id = ? ORDER BY position"));
    let rows = sqlx::query(sql).bind(id).fetch_all(db).await?;
    rows.iter().map(|row| offer(row).map(|(_, offer)| offer)).collect()
}

/// The offers of several services, each in challenge order.
pub async fn offers_many(conn: &mut SqliteConnection, ids: &[i64]) -> Result<HashMap<i64, Vec<Offer>>, StoreError> {
    let mut offers: HashMap<i64, Vec<Offer>> = HashMap::new();
    if ids.is_empty() {
        return Ok(offers);
    }
    let mut builder = QueryBuilder::<Sqlite>::new(format!("SELECT {OFFER_COLUMNS} FROM offers WHERE service_id IN "));
    super::in_list(&mut builder, ids);
    builder.push(" ORDER BY service_id, position");
    for row in builder.build().fetch_all(conn).await? {
        let (id, offer) = offer(&row)?;
        offers.entry(id).or_default().push(offer);
    }
    Ok(offers)
}

fn offer(row: &SqliteRow) -> Result<(i64, Offer), StoreError> {
    let extra: String = row.try_get("extra")?;
    let offer = Offer {
        scheme: row.try_get("scheme")?,
        network: row.try_get("network")?,
        network_v1: row.try_get("network_v1")?,
        family: row.try_get("family")?,
        testnet: row.try_get("testnet")?,
        asset: row.try_get("asset")?,
        asset_symbol: row.try_get("asset_symbol")?,
        decimals: row.try_get::<Option<i64>, _>("decimals")?.and_then(|d| u8::try_from(d).ok()),
        amount: row.try_get("amount")?,
        usd: row.try_get("usd")?,
        usd_is_max: row.try_get("usd_is_max")?,
        pay_to: row.try_get("pay_to")?,
        max_timeout_seconds: row.try_get::<i64, _>("max_timeout_seconds")?.try_into().unwrap_or(0),
        extra: serde_json::from_str(&extra)?,
        payment_flow: row.try_get("payment_flow")?,
        asset_transfer_method: row.try_get("asset_transfer_method")?,
        payable: row.try_get("payable")?,
    };
    Ok((row.try_get("service_id")?, offer))
}

/// The latest probe report, if the service was ever probed (stored in the INTERFACES.md shape).
pub async fn latest_report(db: impl SqliteExecutor<'_>, id: i64) -> Result<Option<ProbeReport>, StoreError> {
    let text: Option<String> = sqlx::query_scalar("SELECT report FROM latest_reports WHERE service_id = ?")
        .bind(id)
        .fetch_optional(db)
        .await?;
    Ok(text.map(|t| serde_json::from_str(&t)).transpose()?)
}

/// The discovery metadata of the last valid listing, if it had any.
pub async fn discovery(db: impl SqliteExecutor<'_>, id: i64) -> Result<Option<Discovery>, StoreError> {
    let text: Option<Option<String>> =
        sqlx::query_scalar("SELECT discovery FROM services WHERE id = ?").bind(id).fetch_optional(db).await?;
    Ok(text.flatten().map(|t| serde_json::from_str(&t)).transpose()?)
}

/// Listed services with ids above `after_id`, in id order, with their offers (the export).
pub async fn listed_after(
    pool: &SqlitePool,
    after_id: i64,
    limit: i64,
) -> Result<Vec<(ServiceRow, Vec<Offer>)>, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {SERVICE_COLUMNS} FROM services WHERE status = 'listed' AND {NOT_WITHHELD} AND id > ? ORDER BY id LIMIT ?"
    ));
    let rows = sqlx::query(sql).bind(after_id).bind(limit).fetch_all(pool).await?;
    let services: Vec<ServiceRow> = rows.iter().map(service_row).collect::<Result<_, _>>()?;
    let ids: Vec<i64> = services.iter().map(|s| s.id).collect();
    let mut offers = offers_many(&mut *pool.acquire().await?, &ids).await?;
    Ok(services
        .into_iter()
        .map(|s| {
            let o = offers.remove(&s.id).unwrap_or_default();
            (s, o)
        })
        .collect())
}

/// The latest probe reports of several services, by id.
pub async fn latest_reports_many(
    conn: &mut SqliteConnection,
    ids: &[i64],
) -> Result<HashMap<i64, ProbeReport>, StoreError> {
    let mut reports = HashMap::new();
    if ids.is_empty() {
        return Ok(reports);
    }
    let mut builder = QueryBuilder::<Sqlite>::new("SELECT service_id, report FROM latest_reports WHERE service_id IN ");
    super::in_list(&mut builder, ids);
    for row in builder.build().fetch_all(conn).await? {
        let text: String = row.try_get("report")?;
        reports.insert(row.try_get("service_id")?, serde_json::from_str(&text)?);
    }
    Ok(reports)
}
