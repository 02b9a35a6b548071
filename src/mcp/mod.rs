//! The catalog as MCP tools, for agents that find tools through MCP (`docs/MCP.md`): a
//! tools-only, stateless server built on the official SDK (`rmcp`), mounted at `/mcp` on
//! `serve`'s port over Streamable HTTP. The tools call the catalog core, like every front end;
//! their answers are the JSON API's (same services, same order, same shapes), as structured
//! content with a short text for clients that read only text. Bad arguments and catalog errors
//! are tool errors whose text says what to fix.
//!
//! [`args`]: the tools' arguments, read so that a wrong one is named; [`projection`]: compact search
//! hits and the cursor; [`schemas`]: the output schemas, from the OpenAPI document's;
//! [`transport`]: `/mcp` over Streamable HTTP, guarded against DNS rebinding.

pub mod args;
pub mod projection;
pub mod schemas;
pub mod transport;

pub use transport::http_service;

use crate::catalog::changes::ChangesFrom;
use crate::catalog::register::Lookup;
use crate::catalog::{Catalog, CatalogError};
use crate::http::Answers;
use crate::http::answer_cache::{Freshness, Refresh, query_key};
use crate::http::api::changes::ChangesPage;
use crate::http::api::register::LookupAnswer;
use crate::http::client::{client_ip_of, client_key};
use crate::http::limits::HttpLimits;
use crate::http::problem::Problem;
use crate::http::views::ServiceWithReport;
use crate::http::views::{SearchResults, ServiceDetail};
use crate::params::{ParamError, int_in};
use crate::search::SearchRequest;
use args::{ChangesArgs, CheckArgs, FacetArgs, SearchArgs, ServiceArgs, read};
use axum::body::Bytes;
use axum::http::request::Parts;
use rmcp::handler::server::common::Extension;
use rmcp::handler::server::common::schema_for_type;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock, JsonObject, ServerCapabilities, ServerConfig};
use rmcp::{ErrorData, ServerHandler, tool, tool_handler, tool_router};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

/// The MCP server over one catalog. Cheap to clone (one per request: the server is stateless).
#[derive(Clone)]
pub struct AgoraMcp {
    catalog: Catalog,
    /// Over HTTP, what the tools share with the API; `None` over stdio (one local client).
    http: Option<HttpFront>,
}

/// What the tools share with the HTTP front end: its limits (a live probe counts against a
/// client's write budget) and answer caches (search answers are kept per index snapshot).
#[derive(Clone)]
pub struct HttpFront {
    pub limits: Arc<HttpLimits>,
    pub answers: Arc<Answers>,
}

/// The tools, built once: building them generates every input and output schema.
static TOOLS: LazyLock<ToolRouter<AgoraMcp>> = LazyLock::new(AgoraMcp::tool_router);

#[tool_router]
impl AgoraMcp {
    pub fn new(catalog: Catalog, http: Option<HttpFront>) -> AgoraMcp {
        AgoraMcp { catalog, http }
    }

    /// Search the catalog of x402 paid APIs.
    #[tool(
        description = "Search verified x402 paid APIs: free text plus filters (network, asset, scheme, price range in USD, testnets, status, version, schema, host), sorted by relevance, price, recency, verification or uptime. Compact hits (id, name, URL, status, best price, networks, 30-day uptime, what matched); add members such as `offers` or `tags` with `fields`; page on with `next_cursor`. The same services in the same order as GET /api/v1/services.",
        input_schema = schema_for_type::<SearchArgs>(),
        output_schema = schemas::compact_search(),
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn search_services(&self, Parameters(raw): Parameters<JsonObject>) -> Result<CallToolResult, ErrorData> {
        settle(
            async {
                // One index snapshot answers the same arguments the same way (as the API's search).
                let key = self.http.as_ref().and_then(|_| query_key(&serde_json::to_string(&raw).unwrap_or_default()));
                let generation = self.catalog.search_generation();
                let freshness = Freshness {
                    now: generation,
                    current: |made_at| made_at == generation,
                    refresh: Refresh::OneAtATime,
                };
                let kept = match &self.http {
                    Some(front) => {
                        front.answers.mcp_search.get_or_compute(key, freshness, || self.search_answer(raw)).await?
                    }
                    None => self.search_answer(raw).await?,
                };
                let kept: KeptAnswer =
                    serde_json::from_slice(&kept).map_err(|e| CatalogError::Failed(e.to_string()))?;
                Ok(answer(&kept.answer, kept.text))
            }
            .await,
        )
    }

    /// One service in full.
    #[tool(
        description = "Everything Agora knows about one x402 service, by its id or by its URL (and method): every offer (price, network, asset, payTo), the discovery metadata and schemas, the latest probe report (why it is or is not listed), uptime over 24 h, 7 and 30 days, latency, recent probes, and its price and status history. The same answer as GET /api/v1/services/{id}.",
        input_schema = schema_for_type::<ServiceArgs>(),
        output_schema = schemas::service_detail(),
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn get_service(&self, Parameters(raw): Parameters<JsonObject>) -> Result<CallToolResult, ErrorData> {
        settle(
            async {
                let args: ServiceArgs = read(raw).map_err(tool_error)?;
                let id = match (args.id, args.url) {
                    (Some(id), None) if args.method.is_none() => id,
                    (None, Some(url)) => match self.catalog.status(&url, args.method.as_deref()).await? {
                        (_, Some(state)) => state.service.id,
                        (target, None) => {
                            return Err(tool_error(format!(
                                "Agora does not track {} {}: check it live with `check_endpoint` (which can also register it).",
                                target.method, target.url
                            )));
                        }
                    },
                    (Some(_), Some(_)) => return Err(tool_error("Invalid arguments: give either `id` or `url`, not both.".into())),
                    (Some(_), None) => return Err(tool_error("Invalid arguments: `method` goes with `url`, not with `id`.".into())),
                    (None, None) => return Err(tool_error("Invalid arguments: give the service's `id`, or its `url` (and `method`).".into())),
                };
                let detail = ServiceDetail::from(self.catalog.detail(id).await?);
                                let service = &detail.service;
                let summary = format!(
                    "#{} {} {} — {} ({} offers)",
                    service.id,
                    service.method,
                    service.url,
                    service.status.as_str(),
                    detail.offers.len()
                );
                Ok(answer(&detail, summary))
            }
            .await,
        )
    }

    /// Counts of the catalog by network, asset, scheme, version and price, with its size.
    #[tool(
        description = "What the catalog holds: how many listed x402 services there are for each network, asset, scheme, x402 version and price range (optionally within a text query), how many services Agora tracks by status, and how fresh it is (the last probe, changes not yet searchable). Use it to see which filters are worth setting.",
        input_schema = schema_for_type::<FacetArgs>(),
        output_schema = schemas::facets(),
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn list_facets(&self, Parameters(raw): Parameters<JsonObject>) -> Result<CallToolResult, ErrorData> {
        settle(
            async {
                let args: FacetArgs = read(raw).map_err(tool_error)?;
                let mut pairs = vec![("limit".to_string(), "1".to_string())];
                pairs.extend(args.q.map(|q| ("q".to_string(), q)));
                pairs.extend(args.testnet.map(|t| ("testnet".to_string(), t)));
                let found = self.catalog.search(&search_request(&pairs)?).await?;
                let stats = self.catalog.stats().await;
                let services: BTreeMap<&str, i64> = stats.services?.into_iter().map(|(s, n)| (s.as_str(), n)).collect();
                let summary =
                    format!("{} matching listed services; {} networks", found.total, found.facets.network.len());
                let value = json!({
                    "matching": found.total,
                    "facets": found.facets,
                    "services_by_status": services,
                    "index_documents": stats.index_documents,
                    "freshness": {
                        "last_probe_at": self.catalog.last_probe_at().await?,
                        "index_behind": (stats.store_seq - stats.index_seq).max(0),
                    },
                });
                Ok(answer(&value, summary))
            }
            .await,
        )
    }

    /// The change feed.
    #[tool(
        description = "What changed in the catalog, oldest first: services registered, listed, rejected, degraded, delisted, price and payTo changes, offers added or removed, services a source newly lists. Start with `since` (epoch ms) or from the beginning; continue with the previous answer's `next_cursor`. The same feed as GET /api/v1/changes.",
        input_schema = schema_for_type::<ChangesArgs>(),
        output_schema = schemas::changes_page(),
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn recent_changes(&self, Parameters(raw): Parameters<JsonObject>) -> Result<CallToolResult, ErrorData> {
        settle(
            async {
                let args: ChangesArgs = read(raw).map_err(tool_error)?;
                let limit = int_in("limit", args.limit.unwrap_or(100), 1..=500)?;
                let since = args.since.map(|since| int_in("since", since, 0..=i64::MAX)).transpose()?;
                let page = self.catalog.changes(ChangesFrom::parse(args.cursor.as_deref(), since)?, limit).await?;
                let summary = format!("{} events; more: {}", page.events.len(), page.more);
                let page = ChangesPage { events: page.events, next_cursor: page.next_cursor, more: page.more };
                Ok(answer(&page, summary))
            }
            .await,
        )
    }

    /// A live check of any URL.
    #[tool(
        description = "Check any URL live before paying it: Agora sends one unpaid request (safely: public addresses only, robots.txt obeyed) and validates the x402 challenge — the verdict (listed, not_x402, invalid, fetch_error, refused), every problem and warning, and the normalized offers with USD prices. A URL Agora already tracks answers its stored state. With `register: true` the URL is also added to the catalog. Rate-limited per client.",
        input_schema = schema_for_type::<CheckArgs>(),
        output_schema = schemas::check_answer(),
        annotations(read_only_hint = false, destructive_hint = false, open_world_hint = true)
    )]
    async fn check_endpoint(
        &self,
        Extension(parts): Extension<Parts>,
        Parameters(raw): Parameters<JsonObject>,
    ) -> Result<CallToolResult, ErrorData> {
        settle(
            async {
                let args: CheckArgs = read(raw).map_err(tool_error)?;
                // A live probe spends a seller's patience: it counts as a write, like a registration.
                if let Some(HttpFront { limits, .. }) = &self.http
                    && let Some(rates) = &limits.rates
                {
                    let ip = client_ip_of(&parts.extensions, &parts.headers, &limits.trusted_proxies);
                    rates.check(client_key(ip, limits.ipv6_prefix), true).map_err(|seconds| {
                        tool_error(format!("Too many checks from your address; retry in {seconds}s."))
                    })?;
                }
                if args.register == Some(true) {
                    let registration = self.catalog.register(&args.url, args.method.as_deref()).await?;
                    let created = if registration.created { "registered" } else { "already registered, probed again" };
                    let view = ServiceWithReport::from(registration.state);
                    let summary = format!("#{} {created}: {}", view.service.id, view.service.status.as_str());
                    return Ok(answer(&view, summary));
                }
                Ok(match self.catalog.lookup(&args.url, args.method.as_deref()).await? {
                    Lookup::Registered(state) => {
                        let view = LookupAnswer { registered: true, service: Some((*state).into()), report: None };
                        answer(&view, "registered: its stored state and latest report".to_string())
                    }
                    Lookup::Unregistered(report) => {
                        let (problems, warnings) = (report.problems.len(), report.warnings.len());
                        let summary = format!("{}: {problems} problems, {warnings} warnings", report.verdict);
                        answer(&LookupAnswer { registered: false, service: None, report: Some(*report) }, summary)
                    }
                })
            }
            .await,
        )
    }
}

#[tool_handler(router = TOOLS)]
impl ServerHandler for AgoraMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }
}

/// What a tool gives: its answer, or the tool error to give instead. Inside a tool, `?` turns
/// bad arguments, unusable parameters and catalog errors into tool errors.
type Outcome = Result<CallToolResult, CallToolResult>;

/// The tool's reply: either side of the outcome is a result (a tool error is not a protocol error).
fn settle(outcome: Outcome) -> Result<CallToolResult, ErrorData> {
    Ok(outcome.unwrap_or_else(|error| error))
}

impl From<CatalogError> for CallToolResult {
    /// Through the one problem mapping (which logs our failures), naming the argument at fault.
    fn from(error: CatalogError) -> CallToolResult {
        let problem = Problem::from(error);
        let param = problem.param.as_deref().map(|p| format!(" (argument `{p}`)")).unwrap_or_default();
        tool_error(format!("{}{param}", problem.detail))
    }
}

impl From<ParamError> for CallToolResult {
    fn from(error: ParamError) -> CallToolResult {
        tool_error(format!("Invalid arguments: {error}."))
    }
}

/// A search answer as kept: the structured answer and its text.
#[derive(Serialize, Deserialize)]
struct KeptAnswer {
    answer: Value,
    text: String,
}

impl AgoraMcp {
    /// `search_services`' answer to `raw`, serialized to be kept.
    async fn search_answer(&self, raw: JsonObject) -> Result<Bytes, CallToolResult> {
        let args: SearchArgs = read(raw).map_err(tool_error)?;
        if args.offset.is_some() && args.cursor.is_some() {
            return Err(tool_error("Invalid arguments: give either `cursor` or `offset`, not both.".into()));
        }
        let request = search_request(&args.pairs())?;
        let results = SearchResults::from(self.catalog.search(&request).await?);
        let answer = projection::project(&results, args.fields.as_deref().unwrap_or_default()).map_err(tool_error)?;
        let kept = KeptAnswer { answer, text: search_summary(&results) };
        Ok(Bytes::from(serde_json::to_vec(&kept).map_err(|e| CatalogError::Failed(e.to_string()))?))
    }
}

/// The search `pairs` ask for, through the one strict parser.
fn search_request(pairs: &[(String, String)]) -> Result<SearchRequest, ParamError> {
    SearchRequest::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())), &[])
}

/// A successful answer: the value as structured content, a sentence as text.
fn answer<T: Serialize>(value: &T, summary: String) -> CallToolResult {
    match serde_json::to_value(value) {
        Ok(value) => {
            let mut result = CallToolResult::structured(value);
            result.content = vec![ContentBlock::text(summary)];
            result
        }
        Err(error) => CatalogError::Failed(error.to_string()).into(),
    }
}

/// A tool error saying what to fix.
fn tool_error(message: String) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(message)])
}

/// "3 of 12 services: Weather Now $0.001 (#4), …".
fn search_summary(results: &SearchResults) -> String {
    let names: Vec<String> = results
        .hits
        .iter()
        .take(10)
        .map(|hit| format!("{} (#{})", hit.service.name.as_deref().unwrap_or(&hit.service.url), hit.service.id))
        .collect();
    format!("{} of {} services: {}", results.hits.len(), results.total, names.join(", "))
}
