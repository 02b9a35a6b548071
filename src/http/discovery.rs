//! Bazaar compatibility: `GET /discovery/resources` and `GET /discovery/search` exactly as the
//! official x402 discovery clients speak them (`shared/x402/PROTOCOL.md` §3.5), so an SDK client
//! pointed at Agora as its facilitator URL lists and searches the catalog unmodified. Unlike the
//! catalog API these hide no testnets, list in a stable order (registration id), and page through
//! the whole catalog. Also accepted: the CDP-style `asset` and `maxUsdPrice` filters.

use super::problem::Problem;
use super::{discovery_filters, discovery_item};
use crate::app::AppState;
use crate::params::{Known, MAX_OFFSET, Params};
use crate::search::request::ServiceType;
use crate::search::{SearchRequest, TestnetMode};
use axum::Json;
use axum::extract::{RawQuery, State};
use serde::Serialize;
use serde_json::Value;

/// The envelope's `x402Version`.
const ENVELOPE_VERSION: u8 = 2;
/// `/discovery/resources`: the filters both endpoints take, and `offset`.
const LIST_PARAMS: Known<'static> =
    Known::once(&["type", "payTo", "scheme", "network", "extensions", "asset", "maxUsdPrice", "limit", "offset"]);
/// `/discovery/search`: the same filters, `query` and `cursor`.
const SEARCH_PARAMS: Known<'static> = Known::once(&[
    "type",
    "payTo",
    "scheme",
    "network",
    "extensions",
    "asset",
    "maxUsdPrice",
    "limit",
    "query",
    "cursor",
]);

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DiscoveryResource {
    pub resource: String,
    /// `http`, or `mcp` for an MCP tool.
    #[serde(rename = "type")]
    pub kind: String,
    pub x402_version: i64,
    /// The payment requirements as the seller sent them in its latest valid challenge.
    #[schema(value_type = Vec<Object>)]
    pub accepts: Vec<Value>,
    /// ISO-8601: when Agora last verified the challenge.
    pub last_updated: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_name: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// The seller's `extensions` (the bazaar `info`/`schema`), echoed.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub extensions: Option<Value>,
}

/// `GET /discovery/resources`: one page of the whole catalog.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DiscoveryList {
    pub x402_version: u8,
    pub items: Vec<DiscoveryResource>,
    pub pagination: ListPagination,
    /// Well-formed filters Agora did not apply (an extension it does not track); absent when
    /// every filter was applied (x402 proposal #3298).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unapplied_filters: Vec<&'static str>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ListPagination {
    pub limit: i64,
    pub offset: i64,
    /// Resources matching the filters (all pages).
    pub total: i64,
}

/// `GET /discovery/search`: one page of search results.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DiscoverySearch {
    pub x402_version: u8,
    pub resources: Vec<DiscoveryResource>,
    /// True when a filter applied to the page (`payTo`) dropped some of its results.
    pub partial_results: bool,
    pub pagination: SearchPagination,
    /// As in the list: well-formed filters Agora did not apply.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unapplied_filters: Vec<&'static str>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SearchPagination {
    pub limit: i64,
    /// Pass back as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// The parameters both endpoints take, for the OpenAPI document (the handlers read the raw
/// query strictly through [`common`]; `LIST_PARAMS` and `SEARCH_PARAMS` list the same names).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DiscoveryFilters {
    /// `http` or `mcp` (an MCP tool sold through x402); another well-formed type (`a2a`) gives an empty page.
    #[param(rename = "type")]
    pub kind: Option<String>,
    /// Offers paying this address (on `/discovery/search` applied to each page: `partialResults`).
    #[param(rename = "payTo")]
    pub pay_to: Option<String>,
    /// Comma-separated schemes.
    pub scheme: Option<String>,
    /// Comma-separated CAIP-2 ids or v1 names.
    pub network: Option<String>,
    /// `bazaar`: only resources declaring discovery metadata; other extensions are named in `unappliedFilters`.
    pub extensions: Option<String>,
    /// Token address or symbol.
    pub asset: Option<String>,
    /// Highest price, decimal USD.
    #[param(rename = "maxUsdPrice")]
    pub max_usd_price: Option<String>,
    /// Per page (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

/// List the catalog (Bazaar).
///
/// Every listed service, testnets included, in registration order; `offset` reaches the whole catalog.
#[utoipa::path(get, path = "/discovery/resources", tag = "bazaar",
    params(
        DiscoveryFilters,
        ("offset" = Option<i64>, Query, minimum = 0, description = "Items to skip"),
    ),
    responses((status = 200, description = "One page of resources", body = DiscoveryList)))]
pub async fn resources(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Json<DiscoveryList>, Problem> {
    let params = Params::parse(query.as_deref(), LIST_PARAMS).map_err(|e| Problem::from(e).with_error_member())?;
    let common = discovery_filters::read(&params)?;
    let offset = params.int("offset", 0..=i64::MAX, 0).map_err(|e| Problem::from(e).with_error_member())?;
    let (items, total) = if common.none_of_this_type {
        (Vec::new(), 0)
    } else {
        state.catalog.discovery_list(&common.filter, common.limit, offset).await?
    };
    let items: Vec<DiscoveryResource> =
        items.into_iter().map(|item| discovery_item::item(item.service, &item.offers, item.report.as_ref())).collect();
    Ok(Json(DiscoveryList {
        x402_version: ENVELOPE_VERSION,
        items,
        pagination: ListPagination { limit: common.limit, offset, total },
        unapplied_filters: common.unapplied,
    }))
}

/// Search the catalog (Bazaar).
///
/// The catalog search with testnets included; page on with `cursor`.
#[utoipa::path(get, path = "/discovery/search", tag = "bazaar",
    params(
        ("query" = String, Query, description = "What to search for"),
        DiscoveryFilters,
        ("cursor" = Option<String>, Query, description = "`pagination.cursor` of the previous page"),
    ),
    responses((status = 200, description = "One page of results", body = DiscoverySearch)))]
pub async fn search_resources(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Json<DiscoverySearch>, Problem> {
    let params = Params::parse(query.as_deref(), SEARCH_PARAMS).map_err(|e| Problem::from(e).with_error_member())?;
    let common = discovery_filters::read(&params)?;
    let text = params.get("query").map(str::trim).filter(|q| !q.is_empty());
    let text =
        text.ok_or_else(|| Problem::invalid_param("query", "required: what to search for").with_error_member())?;
    let max_offset = i64::try_from(MAX_OFFSET).unwrap_or(i64::MAX);
    let offset =
        match params.get("cursor") {
            None => 0,
            Some(cursor) => cursor.parse::<i64>().ok().filter(|o| (0..=max_offset).contains(o)).ok_or_else(|| {
                Problem::invalid_param("cursor", "not a cursor from this endpoint").with_error_member()
            })?,
        };
    if common.none_of_this_type {
        return Ok(Json(DiscoverySearch {
            x402_version: ENVELOPE_VERSION,
            resources: Vec::new(),
            partial_results: false,
            pagination: SearchPagination { limit: common.limit, cursor: None },
            unapplied_filters: common.unapplied,
        }));
    }
    // The catalog search with the discovery filters mapped; testnets included.
    let mut request = SearchRequest::new(text);
    request.networks = common.filter.networks.clone();
    request.schemes = common.filter.schemes.clone();
    request.assets = common.filter.asset.iter().cloned().collect();
    request.max_usd_micros = common.filter.max_usd_micros;
    request.has_schema = common.filter.with_discovery;
    request.service_type = match common.filter.service_type.as_deref() {
        Some("mcp") => Some(ServiceType::Mcp),
        Some(_) => Some(ServiceType::Http),
        None => None,
    };
    request.testnet = TestnetMode::Include;
    request.limit = usize::try_from(common.limit).unwrap_or(20);
    request.offset = usize::try_from(offset).unwrap_or(0);
    let page = state.catalog.discovery_search(&request, common.filter.pay_to.as_deref()).await?;
    let resources: Vec<DiscoveryResource> = page
        .hits
        .into_iter()
        .map(|(hit, report)| discovery_item::item(hit.service, &hit.offers, report.as_ref()))
        .collect();
    let next = offset + page.returned as i64;
    let more = (next as u64) < page.total && next <= max_offset;
    Ok(Json(DiscoverySearch {
        x402_version: ENVELOPE_VERSION,
        partial_results: resources.len() < page.returned,
        resources,
        pagination: SearchPagination { limit: common.limit, cursor: more.then(|| next.to_string()) },
        unapplied_filters: common.unapplied,
    }))
}

/// Epoch milliseconds as ISO-8601 (RFC 3339) UTC, e.g. `2026-11-21T13:45:00.25Z`.
pub fn iso8601(ms: i64) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}
