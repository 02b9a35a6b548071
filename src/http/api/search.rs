//! `GET /api/v1/services`: the catalog search, with the parameters of `shared/INTERFACES.md`.
//! The query string is read as raw pairs so repeated parameters (`network=base&network=solana`)
//! and unknown names reach the strict parser, which names the parameter at fault.

use super::json_body;
use crate::app::AppState;
use crate::http::answer_cache::{Freshness, Refresh, query_key};
use crate::http::problem::Problem;
use crate::http::views::SearchResults;
use crate::params::Params;
use crate::search::SearchRequest;
use crate::search::request::SEARCH_PARAMS;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use std::time::Instant;

/// Search the catalog.
///
/// Free text plus filters; `network`, `asset` and `scheme` may repeat (any of them). Unknown
/// parameter names and values are 400s naming the parameter.
#[utoipa::path(get, path = "/api/v1/services", tag = "catalog",
    params(
        ("q" = Option<String>, Query, max_length = 512, description = "Free text: words, typos and prefixes forgiven"),
        ("network" = Option<Vec<String>>, Query, description = "CAIP-2 id or v1 name (`base`, `eip155:8453`); repeatable"),
        ("asset" = Option<Vec<String>>, Query, description = "Symbol (`USDC`) or token address; repeatable"),
        ("scheme" = Option<Vec<String>>, Query, description = "`exact`, `upto`, ...; repeatable"),
        ("min_usd" = Option<String>, Query, description = "Lowest price, decimal USD (an `upto` offer counts at its cap)"),
        ("max_usd" = Option<String>, Query, description = "Highest price, decimal USD"),
        ("testnet" = Option<String>, Query, description = "`exclude` (default), `include` or `only`"),
        ("status" = Option<String>, Query, description = "`listed` (default), `degraded` or `all`"),
        ("version" = Option<i64>, Query, description = "x402 version: 1 or 2"),
        ("has_schema" = Option<bool>, Query, description = "`true`: only services declaring input/output schemas"),
        ("host" = Option<String>, Query, description = "Exact host"),
        ("type" = Option<String>, Query, description = "`http` (endpoints) or `mcp` (MCP tools sold through x402)"),
        ("format" = Option<Vec<String>>, Query, description = "Output format its `mimeType` declares: `json`, `csv`, `xml`, `html`, `text`, `pdf`, `image`, `audio`, `video`, `binary`; repeatable"),
        ("source" = Option<i64>, Query, minimum = 1, description = "Only services this source (by id) lists"),
        ("verified" = Option<bool>, Query, description = "`true`: only services someone proved control of (docs/OWNERSHIP.md)"),
        ("interpret" = Option<bool>, Query, description = "`false`: take `q` literally (by default price, network, asset, scheme, testnet and output-format words become parameters; see `interpreted_as`)"),
        ("sort" = Option<String>, Query, description = "`relevance` (default with `q`), `price_asc`, `price_desc`, `newest`, `verified`, `uptime`, `quality`"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 100, description = "Hits per page (default 20)"),
        ("offset" = Option<i64>, Query, minimum = 0, maximum = 10000, description = "Hits to skip"),
    ),
    responses((status = 200, description = "One page of hits with totals and facets", body = SearchResults)))]
pub async fn services(State(state): State<AppState>, RawQuery(query): RawQuery) -> Result<Response, Problem> {
    let started = Instant::now();
    let query = query.unwrap_or_default();
    // One index snapshot answers a query the same way: kept per applied change sequence, one
    // request recomputing a query's answer after a commit while the others get the previous one.
    let generation = state.catalog.search_generation();
    let freshness =
        Freshness { now: generation, current: |made_at| made_at == generation, refresh: Refresh::OneAtATime };
    let body = state
        .answers
        .search
        .get_or_compute(query_key(&query), freshness, || async {
            let request = SearchRequest::from_params(&Params::parse(Some(&query), SEARCH_PARAMS)?)?;
            let results = SearchResults::from(state.catalog.search(&request).await?);
            Ok::<_, Problem>(Bytes::from(serde_json::to_vec(&results).map_err(|e| Problem::internal(&e))?))
        })
        .await?;
    Ok(json_body(with_processing_ms(&body, started)))
}

/// The kept answer (a JSON object without `processing_ms`) with this request's own figure
/// appended as its last member.
fn with_processing_ms(object: &[u8], started: Instant) -> Vec<u8> {
    let millis = started.elapsed().as_secs_f64() * 1000.0;
    let open = object.strip_suffix(b"}").unwrap_or(object);
    let mut body = Vec::with_capacity(object.len() + 32);
    body.extend_from_slice(open);
    body.extend_from_slice(format!(",\"processing_ms\":{millis}}}").as_bytes());
    body
}
