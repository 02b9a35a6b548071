//! The catalog as MCP tools, for agents that find tools through MCP (`docs/MCP.md`): a
//! tools-only, stateless server built on the official SDK (`rmcp`), mounted at `/mcp` on
//! `serve`'s port over Streamable HTTP. The tools call the catalog core, like every front end;
//! their answers are the JSON API's (same services, same order, same shapes), as structured
//! content with a short text for clients that read only text. Bad arguments and catalog errors
//! are tool errors whose text says what to fix.
//!
//! [`args`]: the tools' arguments, read so that a wrong one is named; [`projection`]: compact search
//! hits and the cursor.

pub mod args;
pub mod projection;

use crate::catalog::changes::ChangesFrom;
use crate::catalog::register::Lookup;
use crate::catalog::{Catalog, CatalogError};
use crate::http::api::changes::ChangesPage;
use crate::http::api::register::LookupAnswer;
use crate::http::client::{client_ip_of, client_key};
use crate::http::limits::HttpLimits;
use crate::http::problem::Problem;
use crate::http::views::ServiceWithReport;
use crate::http::views::{SearchResults, ServiceDetail};
use crate::params::parse_int;
use crate::search::SearchRequest;
use args::{ChangesArgs, CheckArgs, FacetArgs, SearchArgs, ServiceArgs, read};
use axum::http::request::Parts;
use rmcp::handler::server::common::Extension;
use rmcp::handler::server::common::schema_for_type;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock, JsonObject, ServerCapabilities, ServerConfig};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, ServerHandler, tool, tool_handler, tool_router};
use serde::Serialize;
use std::sync::Arc;

/// The MCP server over one catalog. Cheap to clone (one per request: the server is stateless).
#[derive(Clone)]
pub struct AgoraMcp {
    catalog: Catalog,
    /// The HTTP front end's limits (live probes count against a client's write budget); `None`
    /// over stdio, where the one client is local.
    limits: Option<Arc<HttpLimits>>,
    tool_router: ToolRouter<AgoraMcp>,
}

#[tool_router]
impl AgoraMcp {
    pub fn new(catalog: Catalog, limits: Option<Arc<HttpLimits>>) -> AgoraMcp {
        AgoraMcp { catalog, limits, tool_router: Self::tool_router() }
    }

    /// Search the catalog of x402 paid APIs.
    #[tool(
        description = "Search verified x402 paid APIs: free text plus filters (network, asset, scheme, price range in USD, testnets, status, version, schema, host), sorted by relevance, price, recency, verification or uptime. Compact hits (id, name, URL, status, best price, networks, 30-day uptime, what matched); add members such as `offers` or `tags` with `fields`; page on with `next_cursor`. The same services in the same order as GET /api/v1/services.",
        input_schema = schema_for_type::<SearchArgs>(),
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn search_services(&self, Parameters(raw): Parameters<JsonObject>) -> Result<CallToolResult, ErrorData> {
        let args: SearchArgs = match read(raw) {
            Ok(args) => args,
            Err(message) => return Ok(tool_error(message)),
        };
        if args.offset.is_some() && args.cursor.is_some() {
            return Ok(tool_error("Invalid arguments: give either `cursor` or `offset`, not both.".to_string()));
        }
        let pairs = args.pairs();
        let request = match SearchRequest::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())), &[]) {
            Ok(request) => request,
            Err(error) => return Ok(tool_error(format!("Invalid arguments: {error}."))),
        };
        match self.catalog.search(&request).await {
            Ok(found) => {
                let results = SearchResults::from(found);
                match projection::project(&results, args.fields.as_deref().unwrap_or_default()) {
                    Ok(compact) => Ok(answer(&compact, search_summary(&results))),
                    Err(message) => Ok(tool_error(message)),
                }
            }
            Err(error) => Ok(catalog_error(error)),
        }
    }

    /// One service in full.
    #[tool(
        description = "Everything Agora knows about one x402 service by its id: every offer (price, network, asset, payTo), the discovery metadata and schemas, the latest probe report (why it is or is not listed), uptime over 24 h, 7 and 30 days, latency, recent probes, and its price and status history. The same answer as GET /api/v1/services/{id}.",
        input_schema = schema_for_type::<ServiceArgs>(),
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn get_service(&self, Parameters(raw): Parameters<JsonObject>) -> Result<CallToolResult, ErrorData> {
        let args: ServiceArgs = match read(raw) {
            Ok(args) => args,
            Err(message) => return Ok(tool_error(message)),
        };
        match self.catalog.detail(args.id).await {
            Ok(detail) => {
                let detail = ServiceDetail::from(detail);
                let summary = format!(
                    "#{} {} {} — {} ({} offers)",
                    detail.service.id,
                    detail.service.method,
                    detail.service.url,
                    detail.service.status.as_str(),
                    detail.offers.len()
                );
                Ok(answer(&detail, summary))
            }
            Err(error) => Ok(catalog_error(error)),
        }
    }

    /// Counts of the catalog by network, asset, scheme, version and price, with its size.
    #[tool(
        description = "What the catalog holds: how many listed x402 services there are for each network, asset, scheme, x402 version and price range (optionally within a text query), and how many services Agora tracks by status. Use it to see which filters are worth setting.",
        input_schema = schema_for_type::<FacetArgs>(),
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn list_facets(&self, Parameters(raw): Parameters<JsonObject>) -> Result<CallToolResult, ErrorData> {
        let args: FacetArgs = match read(raw) {
            Ok(args) => args,
            Err(message) => return Ok(tool_error(message)),
        };
        let mut pairs = vec![("limit", "1".to_string())];
        pairs.extend(args.q.map(|q| ("q", q)));
        pairs.extend(args.testnet.map(|t| ("testnet", t)));
        let request = match SearchRequest::from_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str())), &[]) {
            Ok(request) => request,
            Err(error) => return Ok(tool_error(format!("Invalid arguments: {error}."))),
        };
        let found = match self.catalog.search(&request).await {
            Ok(found) => found,
            Err(error) => return Ok(catalog_error(error)),
        };
        let stats = self.catalog.stats().await;
        let services = match stats.services {
            Ok(counts) => counts
                .into_iter()
                .map(|(s, n)| (s.as_str().to_string(), n))
                .collect::<std::collections::BTreeMap<_, _>>(),
            Err(error) => return Ok(catalog_error(error)),
        };
        let answer_value = serde_json::json!({
            "matching": found.total,
            "facets": found.facets,
            "services_by_status": services,
            "index_documents": stats.index_documents,
        });
        let summary = format!("{} matching listed services; {} networks", found.total, found.facets.network.len());
        Ok(answer(&answer_value, summary))
    }

    /// The change feed.
    #[tool(
        description = "What changed in the catalog, oldest first: services registered, listed, rejected, degraded, delisted, price and payTo changes, offers added or removed. Start with `since` (epoch ms) or from the beginning; continue with the previous answer's `next_cursor`. The same feed as GET /api/v1/changes.",
        input_schema = schema_for_type::<ChangesArgs>(),
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn recent_changes(&self, Parameters(raw): Parameters<JsonObject>) -> Result<CallToolResult, ErrorData> {
        let args: ChangesArgs = match read(raw) {
            Ok(args) => args,
            Err(message) => return Ok(tool_error(message)),
        };
        let checked = (|| {
            let limit = parse_int("limit", &args.limit.unwrap_or(100).to_string(), 1..=500)?;
            let since = args.since.map(|s| parse_int("since", &s.to_string(), 0..=i64::MAX)).transpose()?;
            Ok::<_, crate::params::ParamError>((ChangesFrom::parse(args.cursor.as_deref(), since)?, limit))
        })();
        let (from, limit) = match checked {
            Ok(checked) => checked,
            Err(error) => return Ok(tool_error(format!("Invalid arguments: {error}."))),
        };
        match self.catalog.changes(from, limit).await {
            Ok(page) => {
                let summary = format!("{} events; more: {}", page.events.len(), page.more);
                let page = ChangesPage { events: page.events, next_cursor: page.next_cursor, more: page.more };
                Ok(answer(&page, summary))
            }
            Err(error) => Ok(catalog_error(error)),
        }
    }

    /// A live check of any URL.
    #[tool(
        description = "Check any URL live before paying it: Agora sends one unpaid request (safely: public addresses only, robots.txt obeyed) and validates the x402 challenge — the verdict (listed, not_x402, invalid, fetch_error, refused), every problem and warning, and the normalized offers with USD prices. A URL Agora already tracks answers its stored state. With `register: true` the URL is also added to the catalog. Rate-limited per client.",
        input_schema = schema_for_type::<CheckArgs>(),
        annotations(read_only_hint = false, destructive_hint = false, open_world_hint = true)
    )]
    async fn check_endpoint(
        &self,
        Extension(parts): Extension<Parts>,
        Parameters(raw): Parameters<JsonObject>,
    ) -> Result<CallToolResult, ErrorData> {
        let args: CheckArgs = match read(raw) {
            Ok(args) => args,
            Err(message) => return Ok(tool_error(message)),
        };
        // A live probe spends a seller's patience: it counts as a write, like a registration.
        if let Some(limits) = &self.limits
            && let Some(rates) = &limits.rates
        {
            let ip = client_ip_of(&parts.extensions, &parts.headers, &limits.trusted_proxies);
            if let Err(seconds) = rates.check(client_key(ip, limits.ipv6_prefix), true) {
                return Ok(tool_error(format!("Too many checks from your address; retry in {seconds}s.")));
            }
        }
        if args.register == Some(true) {
            return match self.catalog.register(&args.url, args.method.as_deref()).await {
                Ok(registration) => {
                    let created = if registration.created { "registered" } else { "already registered, probed again" };
                    let view = ServiceWithReport::from(registration.state);
                    let summary = format!("#{} {created}: {}", view.service.id, view.service.status.as_str());
                    Ok(answer(&view, summary))
                }
                Err(error) => Ok(catalog_error(error)),
            };
        }
        match self.catalog.lookup(&args.url, args.method.as_deref()).await {
            Ok(Lookup::Registered(state)) => {
                let view = LookupAnswer { registered: true, service: Some((*state).into()), report: None };
                Ok(answer(&view, "registered: its stored state and latest report".to_string()))
            }
            Ok(Lookup::Unregistered(report)) => {
                let summary = format!(
                    "{}: {} problems, {} warnings",
                    report.verdict,
                    report.problems.len(),
                    report.warnings.len()
                );
                let view = LookupAnswer { registered: false, service: None, report: Some(*report) };
                Ok(answer(&view, summary))
            }
            Err(error) => Ok(catalog_error(error)),
        }
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for AgoraMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }
}

/// Hosts `/mcp` answers when the operator names none: loopback only, against DNS rebinding.
pub const LOOPBACK_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// The Streamable HTTP service for `/mcp`: stateless, `Host` checked against the loopback names
/// and `public_hosts` (`serve --mcp-allowed-host`).
pub fn http_service(
    catalog: Catalog,
    limits: Arc<HttpLimits>,
    public_hosts: &[String],
) -> StreamableHttpService<AgoraMcp, LocalSessionManager> {
    let allowed_hosts: Vec<String> =
        LOOPBACK_HOSTS.iter().map(|h| h.to_string()).chain(public_hosts.iter().cloned()).collect();
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .with_allowed_hosts(allowed_hosts)
        .with_max_request_body_bytes(crate::http::BODY_LIMIT);
    StreamableHttpService::new(
        move || Ok(AgoraMcp::new(catalog.clone(), Some(limits.clone()))),
        Default::default(),
        config,
    )
}

/// A successful answer: the value as structured content, a sentence as text.
fn answer<T: Serialize>(value: &T, summary: String) -> CallToolResult {
    match serde_json::to_value(value) {
        Ok(value) => {
            let mut result = CallToolResult::structured(value);
            result.content = vec![ContentBlock::text(summary)];
            result
        }
        Err(error) => catalog_error(CatalogError::Failed(error.to_string())),
    }
}

/// A tool error saying what to fix.
fn tool_error(message: String) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(message)])
}

/// A catalog error as a tool error, through the one problem mapping (which logs our failures).
fn catalog_error(error: CatalogError) -> CallToolResult {
    let problem = Problem::from(error);
    let param = problem.param.as_deref().map(|p| format!(" (argument `{p}`)")).unwrap_or_default();
    tool_error(format!("{}{param}", problem.detail))
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
