//! `agora mcp` over stdio: the real binary as a child process, driven by rmcp's own client. It
//! reads the data directory a running `serve` writes — answering the same services as the JSON
//! API, seeing what `serve` indexes after it started — and, with no `serve` running, brings the
//! index up to date itself without keeping the lock `serve` needs.

use crate::api::serve;
use crate::catalog::{Catalog, ServiceSpec, relevance_specs};
use crate::support::{loopback_options, open_app};
use agora::clock::ManualClock;
use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, CallToolResult, ClientConfig};
use rmcp::service::RunningService;
use rmcp::transport::TokioChildProcess;
use serde_json::{Value, json};
use std::path::Path;

type Client = RunningService<rmcp::RoleClient, ClientConfig>;

/// Starts `agora mcp` on `data_dir` and opens a session with it.
async fn stdio_client(data_dir: &Path) -> Client {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_agora"));
    command.arg("--data-dir").arg(data_dir).args(crate::support::store_flags(data_dir)).arg("mcp");
    let transport = TokioChildProcess::new(command).expect("agora mcp starts");
    ClientConfig::default().serve(transport).await.expect("an MCP session over stdio")
}

async fn call(client: &Client, tool: &str, args: Value) -> Value {
    let args = args.as_object().cloned().expect("an object");
    let result: CallToolResult = client
        .call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(args))
        .await
        .expect("a tool result");
    assert_ne!(result.is_error, Some(true), "{tool}: {:?}", result.content);
    result.structured_content.expect("structured content")
}

fn ids(answer: &Value) -> Vec<Value> {
    answer["hits"].as_array().expect("hits").iter().map(|hit| hit["id"].clone()).collect()
}

#[tokio::test]
async fn stdio_beside_a_running_serve_answers_as_the_api_and_follows_its_index() {
    let mut catalog = Catalog::build(relevance_specs()).await;
    catalog.search().flush().await.expect("flush");
    let base = serve(&catalog).await;
    let client = stdio_client(catalog.dir.path()).await;

    let tools = client.list_all_tools().await.expect("tools");
    assert_eq!(tools.len(), 5, "{:?}", tools.iter().map(|t| &t.name).collect::<Vec<_>>());
    for (args, query) in [(json!({"q": "weather"}), "q=weather"), (json!({"sort": "price_asc"}), "sort=price_asc")] {
        let stdio = call(&client, "search_services", args.clone()).await;
        let api: Value =
            reqwest::get(format!("{base}/api/v1/services?{query}")).await.expect("get").json().await.expect("json");
        assert!(!ids(&api).is_empty(), "{query}");
        assert_eq!(ids(&stdio), ids(&api), "{args}");
    }

    // Registered and indexed by `serve` after `agora mcp` started: found over stdio at once.
    let added = catalog
        .add(ServiceSpec::new("/zebra", "Zebra tracker", "Migration routes of zebra herds", &["wildlife"], "herd"))
        .await;
    catalog.search().flush().await.expect("flush");
    let found = call(&client, "search_services", json!({"q": "zebra"})).await;
    assert_eq!(ids(&found), [json!(catalog.specs[added].id)], "{found}");
    let detail = call(&client, "get_service", json!({"id": catalog.specs[added].id})).await;
    assert_eq!(detail["status"], "listed");

    client.cancel().await.expect("the session ends");
}

#[tokio::test]
async fn stdio_alone_catches_the_index_up_and_leaves_it_to_serve() {
    // A catalog whose index was deleted while nothing ran.
    let catalog = Catalog::build(relevance_specs()).await;
    let dir = catalog.dir;
    catalog.app.shutdown().await;
    std::fs::remove_dir_all(dir.path().join("index")).expect("index removed");
    let (options, clock) = (loopback_options(dir.path()), ManualClock::new(crate::support::T0));

    let client = stdio_client(dir.path()).await;
    let found = call(&client, "search_services", json!({"q": "weather"})).await;
    assert!(!ids(&found).is_empty(), "the index was rebuilt from the store: {found}");

    // `agora mcp` holds no writer lock: `serve` starts beside it.
    let app = open_app(&options, &clock).await;
    assert!(app.search.num_docs() > 0);
    app.shutdown().await;
    client.cancel().await.expect("the session ends");
}
