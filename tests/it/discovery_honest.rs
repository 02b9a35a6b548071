//! Honest discovery filters (x402 proposal #3298, PROTOCOL §8.4) and MCP-type services. The
//! conformance vectors V1–V7: every well-formed filter is applied (a value nothing has gives an
//! empty page, not a 400 and not the whole catalog) or named in `unappliedFilters`; a malformed
//! one is a 400 with an `error` string. A service whose bazaar metadata describes an MCP tool is
//! `type: mcp` with its tool name in the API, the search (`type=mcp`), the Bazaar endpoints and
//! the MCP search tool.

use crate::api::serve;
use crate::catalog::{Catalog, ServiceSpec, relevance_specs};
use serde_json::Value;

async fn get(base: &str, path: &str) -> (u16, Value) {
    let response = reqwest::get(format!("{base}{path}")).await.expect("get");
    let status = response.status().as_u16();
    (status, response.json().await.expect("json"))
}

fn urls(page: &Value, key: &str) -> Vec<String> {
    page[key]
        .as_array()
        .unwrap_or_else(|| panic!("no {key} in {page}"))
        .iter()
        .map(|r| r["resource"].as_str().expect("url").to_string())
        .collect()
}

#[tokio::test]
async fn the_conformance_vectors_and_mcp_tools() {
    let mut specs = relevance_specs();
    let mut tool =
        ServiceSpec::new("/mcp-weather", "Weather tool", "Weather forecasts as an MCP tool", &["weather"], "city");
    tool.mcp_tool = Some("get_forecast".to_string());
    specs.push(tool);
    let catalog = Catalog::build(specs).await;
    catalog.search().flush().await.expect("flush");
    let base = serve(&catalog).await;
    let tool = catalog.specs.last().expect("the tool");
    let tool_url = catalog.url(tool);
    let everything = urls(&get(&base, "/discovery/resources?limit=100").await.1, "items");
    assert_eq!(everything.len(), catalog.specs.len());

    // V1 `type=mcp`: applied — the MCP tool alone, typed and named.
    let (status, page) = get(&base, "/discovery/resources?type=mcp").await;
    assert_eq!((status, urls(&page, "items")), (200, vec![tool_url.clone()]), "{page}");
    assert_eq!(page["items"][0]["type"], "mcp");
    assert!(page.get("unappliedFilters").is_none(), "{page}");
    let (_, http) = get(&base, "/discovery/resources?type=http&limit=100").await;
    assert_eq!(urls(&http, "items").len(), everything.len() - 1, "type=http leaves the tool out");
    let (_, search) = get(&base, "/discovery/search?query=weather&type=mcp").await;
    assert_eq!(urls(&search, "resources"), std::slice::from_ref(&tool_url), "{search}");

    // V2 `payTo` nobody uses, V3 a scheme nobody offers, V4 a well-formed unknown network: empty
    // pages, not errors and not the whole catalog.
    for vector in [
        "payTo=0x0000000000000000000000000000000000000001",
        "scheme=batch-settlement",
        "network=eip155:999999999",
        "type=a2a",
    ] {
        let (status, page) = get(&base, &format!("/discovery/resources?{vector}")).await;
        assert_eq!((status, page["pagination"]["total"].as_i64()), (200, Some(0)), "{vector}: {page}");
        assert!(urls(&page, "items").is_empty(), "{vector}");
        let (status, page) = get(&base, &format!("/discovery/search?query=weather&{vector}")).await;
        assert_eq!((status, urls(&page, "resources").len()), (200, 0), "{vector}: {page}");
    }

    // V5 an extension Agora does not track: named, not silently ignored.
    let (status, page) = get(&base, "/discovery/resources?extensions=payment-identifier&limit=100").await;
    assert_eq!(status, 200);
    assert_eq!(page["unappliedFilters"], serde_json::json!(["extensions"]), "{page}");

    // V6 a malformed value: 400 with a non-empty `error` string for the SDK clients.
    let (status, problem) = get(&base, "/discovery/resources?network=!!!").await;
    assert_eq!(status, 400, "{problem}");
    assert!(problem["error"].as_str().is_some_and(|e| !e.is_empty() && e.contains("network")), "{problem}");

    // V7 positive control: a filter that matches returns what it matches.
    let (status, page) = get(&base, "/discovery/resources?network=eip155:8453&scheme=exact&limit=100").await;
    assert_eq!((status, urls(&page, "items").len()), (200, everything.len()), "{page}");
    assert!(page.get("unappliedFilters").is_none());

    // The catalog's own search and service answers know the type too.
    let (_, found) = get(&base, "/api/v1/services?type=mcp").await;
    assert_eq!(found["total"], 1, "{found}");
    assert_eq!(
        (found["hits"][0]["type"].as_str(), found["hits"][0]["tool_name"].as_str()),
        (Some("mcp"), Some("get_forecast"))
    );
    let (_, http) = get(&base, "/api/v1/services?type=http&limit=100").await;
    assert_eq!(http["total"].as_u64(), Some(everything.len() as u64 - 1));
    let (status, bad) = get(&base, "/api/v1/services?type=ftp").await;
    assert_eq!((status, bad["param"].as_str()), (400, Some("type")));
    let page = reqwest::get(format!("{base}/?type=mcp")).await.expect("get").text().await.expect("html");
    assert!(page.contains("Weather tool") && !page.contains("Stock quotes"), "the search page filters by type");

    // And the MCP search tool, the same way.
    let client = crate::mcp::connect(&base).await;
    let answer = crate::mcp::call(&client, "search_services", serde_json::json!({"type": "mcp"})).await;
    let hits = answer.structured_content.expect("structured")["hits"].clone();
    assert_eq!((hits[0]["url"].as_str(), hits[0]["type"].as_str()), (Some(tool_url.as_str()), Some("mcp")), "{hits}");
    assert_eq!(hits.as_array().map(Vec::len), Some(1));
    client.cancel().await.expect("close");
}
