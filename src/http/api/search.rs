//! `GET /api/v1/services`: the catalog search, with the parameters of `shared/INTERFACES.md`.
//! The query string is read as raw pairs so repeated parameters (`network=base&network=solana`)
//! and unknown names reach the strict parser, which names the parameter at fault.

use super::json_body;
use crate::http::HttpState;
use crate::http::answer_cache::Lookup;
use crate::http::problem::Problem;
use crate::search::SearchRequest;
use crate::search::results::{SearchResults, search};
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
        ("sort" = Option<String>, Query, description = "`relevance` (default with `q`), `price_asc`, `price_desc`, `newest`, `verified`, `uptime`"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 100, description = "Hits per page (default 20)"),
        ("offset" = Option<i64>, Query, minimum = 0, maximum = 10000, description = "Hits to skip"),
    ),
    responses((status = 200, description = "One page of hits with totals and facets", body = SearchResults)))]
pub async fn services(State(state): State<HttpState>, RawQuery(query): RawQuery) -> Result<Response, Problem> {
    let started = Instant::now();
    let query = query.unwrap_or_default();
    // One index snapshot answers a query the same way: cached per applied change sequence.
    let applied = state.search.applied_seq().borrow().max(0) as u64;
    let cacheable = query.len() <= MAX_CACHED_QUERY;
    if cacheable {
        match state.answers.search.refresh_or_stale(&query, |made_at| made_at == applied) {
            Lookup::Fresh(cached) | Lookup::Stale(cached) => return Ok(with_processing_ms(&cached, started)),
            Lookup::Compute => {}
        }
    }
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let request = SearchRequest::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())), &[])?;
    let results = search(&state.search, state.store.read(), &request).await?;
    let answer = without_processing_ms(&results)?;
    if cacheable {
        state.answers.search.put(query, applied, answer.clone());
    }
    Ok(with_processing_ms(&answer, started))
}

/// Longer query strings are answered but not kept (they are rarely repeated).
const MAX_CACHED_QUERY: usize = 1024;

/// `SearchResults` ends with `processing_ms`, which is this request's own figure: the cache keeps
/// the JSON up to that value.
const PROCESSING_MS: &[u8] = b",\"processing_ms\":";

/// The serialized results, cut just before the value of `processing_ms`.
fn without_processing_ms(results: &SearchResults) -> Result<Bytes, Problem> {
    let mut json = serde_json::to_vec(results).map_err(|e| Problem::internal(&e))?;
    // The last occurrence is the field: inside JSON strings a quote is always escaped.
    let at = json
        .windows(PROCESSING_MS.len())
        .rposition(|w| w == PROCESSING_MS)
        .ok_or_else(|| Problem::internal(&"search results serialized without processing_ms"))?;
    json.truncate(at + PROCESSING_MS.len());
    Ok(Bytes::from(json))
}

fn with_processing_ms(prefix: &Bytes, started: Instant) -> Response {
    let millis = started.elapsed().as_secs_f64() * 1000.0;
    let mut body = Vec::with_capacity(prefix.len() + 24);
    body.extend_from_slice(prefix);
    body.extend_from_slice(format!("{millis}}}").as_bytes());
    json_body(body)
}
