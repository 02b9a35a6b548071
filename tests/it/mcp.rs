//! MCP over Streamable HTTP at `/mcp`, driven by the official Rust SDK's client (rmcp): the tools
//! are listed with their input schemas, `search_services` answers the same services in the same
//! order as `GET /api/v1/services`, `get_service` the service's detail, and bad arguments, unknown
//! ids and a foreign `Host` are refused in ways a client can act on.

use crate::api::serve;
use crate::catalog::{Catalog, relevance_specs};
use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, CallToolResult, ClientConfig};
use rmcp::service::RunningService;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use serde_json::{Value, json};

pub async fn connect(base: &str) -> RunningService<rmcp::RoleClient, ClientConfig> {
    let transport = StreamableHttpClientTransport::from_config(StreamableHttpClientTransportConfig::with_uri(format!(
        "{base}/mcp"
    )));
    ClientConfig::default().serve(transport).await.expect("an MCP session")
}

pub async fn call(client: &RunningService<rmcp::RoleClient, ClientConfig>, tool: &str, args: Value) -> CallToolResult {
    let args = args.as_object().cloned().expect("an object");
    client.call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(args)).await.expect("a tool result")
}

fn text(result: &CallToolResult) -> String {
    serde_json::to_string(&result.content).expect("content")
}

#[tokio::test]
async fn search_and_detail_over_mcp_answer_as_the_api_does() {
    let catalog = Catalog::build(relevance_specs()).await;
    catalog.search().flush().await.expect("flush");
    let base = serve(&catalog).await;
    let client = connect(&base).await;

    let tools = client.list_all_tools().await.expect("tools");
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert!(names.contains(&"search_services") && names.contains(&"get_service"), "{names:?}");
    let search_tool = tools.iter().find(|t| t.name == "search_services").expect("search tool");
    assert!(search_tool.input_schema.get("properties").is_some_and(|p| p.get("network").is_some()), "typed input");
    assert_eq!(search_tool.annotations.as_ref().and_then(|a| a.read_only_hint), Some(true));

    // The same services in the same order as the JSON API.
    for (args, query) in [
        (json!({"q": "weather"}), "q=weather"),
        (json!({"network": ["polygon"], "testnet": "include"}), "network=polygon&testnet=include"),
        (json!({"sort": "price_asc", "limit": 3}), "sort=price_asc&limit=3"),
    ] {
        let result = call(&client, "search_services", args.clone()).await;
        assert_ne!(result.is_error, Some(true), "{args}: {}", text(&result));
        let structured = result.structured_content.clone().expect("structured content");
        let api: Value =
            reqwest::get(format!("{base}/api/v1/services?{query}")).await.expect("get").json().await.expect("json");
        let ids = |v: &Value| v["hits"].as_array().expect("hits").iter().map(|h| h["id"].clone()).collect::<Vec<_>>();
        assert_eq!(ids(&structured), ids(&api), "{args}");
        assert_eq!(structured["total"], api["total"], "{args}");
        assert!(text(&result).contains("services"), "a short text too: {}", text(&result));
    }

    // Compact hits by default, more on request; a cursor pages on as offset does in the API.
    let compact = call(&client, "search_services", json!({"limit": 2})).await.structured_content.expect("structured");
    let hit = &compact["hits"][0];
    assert!(hit["price"].is_string() && hit["networks"].is_array() && hit.get("offers").is_none(), "{hit}");
    let cursor = compact["next_cursor"].as_str().expect("more pages").to_string();
    let fuller = call(&client, "search_services", json!({"limit": 2, "cursor": cursor, "fields": ["offers", "tags"]}))
        .await
        .structured_content
        .expect("structured");
    let api: Value = reqwest::get(format!("{base}/api/v1/services?limit=2&offset=2"))
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(fuller["hits"][0]["id"], api["hits"][0]["id"], "page two, as offset=2");
    assert_eq!(fuller["hits"][0]["offers"], api["hits"][0]["offers"], "the API's offers on request");
    let unknown = call(&client, "search_services", json!({"fields": ["secrets"]})).await;
    assert!(unknown.is_error == Some(true) && text(&unknown).contains("argument `fields`"), "{}", text(&unknown));

    let id = catalog.specs[0].id;
    let detail = call(&client, "get_service", json!({"id": id})).await;
    let structured = detail.structured_content.expect("structured");
    assert_eq!((structured["id"].as_i64(), structured["offers"].is_array()), (Some(id), true));

    // Bad arguments and unknown ids are tool errors saying what to fix, not protocol errors.
    for (tool, args, says) in [
        ("search_services", json!({"limit": "five"}), "argument `limit`"),
        ("search_services", json!({"limit": 500}), "limit"),
        ("search_services", json!({"network": ["dogechain"]}), "dogechain"),
        ("search_services", json!({"colour": "red"}), "colour"),
        ("search_services", json!({"q": "x".repeat(1_000)}), "longer than 512 bytes"),
        ("get_service", json!({"id": "one"}), "argument `id`"),
        ("get_service", json!({"id": 999_999}), "No service with id 999999"),
        ("get_service", json!({"id": 1, "url": "https://a.example/"}), "not both"),
        ("get_service", json!({"url": "https://unknown.example/x"}), "does not track GET https://unknown.example/x"),
        ("get_service", json!({"url": "ftp://a.example/"}), "argument `url`"),
        ("check_endpoint", json!({"url": format!("https://a.example/{}", "x".repeat(9_000))}), "argument `url`"),
        ("check_endpoint", json!({"url": 42}), "argument `url`"),
    ] {
        let result = call(&client, tool, args.clone()).await;
        assert_eq!(result.is_error, Some(true), "{tool} {args}");
        assert!(text(&result).contains(says), "{tool} {args}: {}", text(&result));
    }
    // A request over the API's body cap (16 KiB) is refused before any tool runs.
    let huge = json!({"q": "x".repeat(100_000)}).as_object().cloned().expect("object");
    let refused = client.call_tool(CallToolRequestParams::new("search_services").with_arguments(huge)).await;
    assert!(refused.is_err_and(|e| e.to_string().contains("413")), "the body cap applies to /mcp");
    let unknown = client.call_tool(CallToolRequestParams::new("delete_everything")).await;
    assert!(unknown.is_err() || unknown.is_ok_and(|r| r.is_error == Some(true)), "an unknown tool is refused");
    client.cancel().await.expect("close");
}

#[tokio::test]
async fn a_foreign_host_is_refused_and_protocol_errors_stay_json_rpc() {
    let catalog = Catalog::build(Vec::new()).await;
    let base = serve(&catalog).await;
    let response = reqwest::Client::new()
        .post(format!("{base}/mcp"))
        .header("host", "attacker.example")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#)
        .send()
        .await
        .expect("post");
    assert_eq!(response.status().as_u16(), 403);
    assert!(response.text().await.expect("body").contains("Host"), "the SDK's own reason");

    // A browser page on another origin is refused; one on an allowed host's origin (any port) is not.
    let initialize = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
    for (origin, allowed) in [("https://attacker.example", false), ("http://localhost:5173", true), ("null", false)] {
        let response = reqwest::Client::new()
            .post(format!("{base}/mcp"))
            .header("origin", origin)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(initialize)
            .send()
            .await
            .expect("post");
        let status = response.status().as_u16();
        assert_eq!(status == 200, allowed, "Origin {origin}: {status} {}", response.text().await.unwrap_or_default());
    }

    // Protocol errors stay in the protocol: a JSON-RPC error, not a problem document.
    let response = reqwest::Client::new()
        .post(format!("{base}/mcp"))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .body(r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"search_services","arguments":{}}}"#)
        .send()
        .await
        .expect("post");
    assert_eq!(response.status().as_u16(), 400);
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: Value = response.json().await.expect("JSON-RPC");
    assert!(body["jsonrpc"] == "2.0" && body["error"]["code"].is_i64(), "{body}");
}

#[tokio::test]
async fn facets_changes_and_live_checks_over_mcp() {
    use agora::http::limits::{HttpLimits, Rates};
    let mut catalog = Catalog::build(relevance_specs()[..3].to_vec()).await;
    catalog.search().flush().await.expect("flush");
    // A seller not registered yet, for the live check.
    let mut spare = relevance_specs()[3].clone();
    spare.path = "/spare".into();
    catalog.serve(&spare);
    let spare_url = catalog.url(&spare);
    let state = catalog.app.state.with_limits(HttpLimits { rates: Some(Rates::new(600, 2)), ..HttpLimits::default() });
    let base = crate::api::serve_state(state).await;
    let client = connect(&base).await;

    let facets = call(&client, "list_facets", json!({"testnet": "include"})).await;
    let facets = facets.structured_content.expect("structured");
    assert_eq!(facets["matching"], 3, "{facets}");
    assert!(facets["facets"]["network"].as_array().is_some_and(|n| !n.is_empty()), "{facets}");
    assert_eq!(facets["services_by_status"]["listed"], 3);
    assert!(facets["freshness"]["last_probe_at"].is_i64(), "{facets}");
    assert_eq!(facets["freshness"]["index_behind"], 0, "flushed: everything stored is searchable");

    let changes = call(&client, "recent_changes", json!({"limit": 2})).await.structured_content.expect("structured");
    assert_eq!(changes["events"].as_array().map(Vec::len), Some(2));
    let next = changes["next_cursor"].as_str().expect("cursor").to_string();
    let api: Value =
        reqwest::get(format!("{base}/api/v1/changes?limit=2")).await.expect("get").json().await.expect("json");
    assert_eq!(api["next_cursor"].as_str(), Some(next.as_str()), "the same feed as the API");
    let bad = call(&client, "recent_changes", json!({"cursor": "zz"})).await;
    assert_eq!(bad.is_error, Some(true));

    // A live check stores nothing; the second (register: true) stores; the third is over budget.
    let before = agora::db::services::all(catalog.app.store.read()).await.expect("rows").len();
    let translate = json!({"q": "translate"});
    let unseen = call(&client, "search_services", translate.clone()).await.structured_content.expect("structured");
    assert_eq!(unseen["total"], 0, "not registered yet");
    let checked = call(&client, "check_endpoint", json!({"url": spare_url})).await;
    let checked = checked.structured_content.expect("structured");
    assert_eq!((checked["registered"].as_bool(), checked["report"]["verdict"].as_str()), (Some(false), Some("listed")));
    assert_eq!(agora::db::services::all(catalog.app.store.read()).await.expect("rows").len(), before);
    let registered = call(&client, "check_endpoint", json!({"url": spare_url, "register": true})).await;
    let registered = registered.structured_content.expect("structured");
    assert_eq!(registered["status"], "listed", "{registered}");
    assert_eq!(agora::db::services::all(catalog.app.store.read()).await.expect("rows").len(), before + 1);
    // The same arguments again, after the index caught up: a kept answer is not served past a commit.
    catalog.search().flush().await.expect("flush");
    let seen = call(&client, "search_services", translate).await.structured_content.expect("structured");
    assert_eq!(seen["hits"][0]["id"], registered["id"], "{seen}");
    let over = call(&client, "check_endpoint", json!({"url": "http://10.0.0.1/x"})).await;
    assert_eq!(over.is_error, Some(true));
    assert!(text(&over).contains("Too many checks"), "{}", text(&over));
    catalog.specs.clear();
    client.cancel().await.expect("close");
}

#[tokio::test]
async fn a_private_url_is_checked_as_refused_not_fetched() {
    let catalog = Catalog::build(Vec::new()).await;
    let base = serve(&catalog).await;
    let client = connect(&base).await;
    let refused = call(&client, "check_endpoint", json!({"url": "http://169.254.169.254/latest/meta-data"})).await;
    let report = refused.structured_content.expect("structured");
    assert_eq!(report["report"]["verdict"], "refused", "{report}");
    // Registering it is refused, with the reason, and nothing is stored.
    let register = json!({"url": "http://169.254.169.254/latest/meta-data", "register": true});
    let refused = call(&client, "check_endpoint", register).await;
    assert_eq!(refused.is_error, Some(true));
    assert!(text(&refused).contains("argument `url`"), "{}", text(&refused));
    assert!(agora::db::services::all(catalog.app.store.read()).await.expect("rows").is_empty());
    let wrong = call(&client, "check_endpoint", json!({"url": "http://example.com/", "method": "TRACE"})).await;
    assert_eq!(wrong.is_error, Some(true));
    assert!(text(&wrong).contains("method"), "{}", text(&wrong));
}

/// The Python of the MCP client peer's venv, or the command that builds it.
fn mcp_python() -> std::path::PathBuf {
    let python = std::env::var("AGORA_TEST_MCP_PYTHON").map(std::path::PathBuf::from).unwrap_or_else(|_| {
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peers/.venv-mcp/bin/python")
    });
    assert!(
        python.exists(),
        "the MCP client peer is not installed: run `scripts/test` (it builds tests/peers/.venv-mcp)"
    );
    python
}

#[tokio::test]
async fn the_official_python_sdk_lists_searches_and_gets_tool_errors() {
    let catalog = Catalog::build(relevance_specs()).await;
    catalog.search().flush().await.expect("flush");
    let base = serve(&catalog).await;
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/mcp_client.py");
    let out = tokio::process::Command::new(mcp_python())
        .arg(script)
        .arg(format!("{base}/mcp"))
        .arg("weather")
        .output()
        .await
        .expect("run the Python MCP client");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let seen: Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(
        seen["tools"],
        json!(["check_endpoint", "get_service", "list_facets", "recent_changes", "search_services"])
    );
    let api: Value =
        reqwest::get(format!("{base}/api/v1/services?q=weather")).await.expect("get").json().await.expect("json");
    let ids: Vec<Value> = api["hits"].as_array().expect("hits").iter().map(|h| h["id"].clone()).collect();
    assert_eq!(seen["ids"], Value::Array(ids.clone()), "the same services in the same order");
    assert_eq!(seen["total"], api["total"]);
    // Every answer passed the SDK's output-schema check (it raises otherwise).
    assert_eq!(seen["errors"], json!([false, false, false, false, false, false]), "{seen}");
    assert_eq!(seen["detail_id"], ids[0], "get_service by URL");
    assert_eq!(seen["facet_matching"], json!(catalog.specs.len()));
    assert_eq!(seen["change_events"], 5);
    assert_eq!(seen["checked_verdict"], "refused", "a private address is not fetched");
    assert_eq!(seen["bad_is_error"], true);
    assert!(seen["bad_text"].as_str().is_some_and(|t| t.contains("argument `limit`")), "{seen}");
}
