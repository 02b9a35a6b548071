//! Bazaar compatibility, checked with the official discovery clients (npm `@x402/extensions`
//! withBazaar, PyPI `x402` with_bazaar) against a running Agora: listing, filters, paging through
//! the whole catalog (testnets included), search, and errors the clients surface.

use crate::api::serve;
use crate::catalog::{Catalog, SEPOLIA_USDC, relevance_specs};
use crate::peers::{Sdk, run_client};
use serde_json::{Value, json};

/// The two clients' answers to the same call (Python's uses snake_case keys).
async fn both(base: &str, operation: &str, npm: Value, pypi: Value) -> (Value, Value) {
    let npm = run_client(Sdk::Npm, &[base, operation, &npm.to_string()]).await;
    let pypi = run_client(Sdk::PyPi, &[base, operation, &pypi.to_string()]).await;
    (npm, pypi)
}

fn resources<'a>(answer: &'a Value, key: &str) -> Vec<&'a str> {
    answer[key]
        .as_array()
        .unwrap_or_else(|| panic!("no {key} in {answer}"))
        .iter()
        .map(|r| r["resource"].as_str().expect("resource"))
        .collect()
}

#[tokio::test]
async fn the_official_discovery_clients_list_filter_page_and_search_agora() {
    let mut specs = relevance_specs();
    specs[2].offers = vec![SEPOLIA_USDC];
    specs[1].schema = false;
    let catalog = Catalog::build(specs).await;
    catalog.search().flush().await.expect("flush");
    let base = serve(&catalog).await;
    let mut urls: Vec<(i64, String)> = catalog.specs.iter().map(|s| (s.id, catalog.url(s))).collect();
    urls.sort();
    let all: Vec<&str> = urls.iter().map(|(_, u)| u.as_str()).collect();

    // Everything, testnets included, in a stable order, with the total.
    let (npm, pypi) = both(&base, "list", json!({"limit": 100}), json!({"limit": 100})).await;
    assert_eq!(resources(&npm, "items"), all, "{npm}");
    assert_eq!(resources(&pypi, "items"), all, "{pypi}");
    assert_eq!(npm["pagination"]["total"], all.len());
    assert_eq!(pypi["pagination"]["total"], all.len());
    let first = &npm["items"][0];
    assert_eq!(first["type"], "http");
    assert_eq!(first["x402Version"], 2);
    assert!(first["accepts"][0]["payTo"].is_string(), "the seller's own accepts: {first}");
    assert!(first["lastUpdated"].as_str().expect("ISO time").ends_with('Z'));
    assert!(first["extensions"]["bazaar"]["info"].is_object(), "{first}");
    assert_eq!(pypi["items"][0]["x402_version"], 2);

    // Paging two at a time walks the whole catalog.
    for sdk in [Sdk::Npm, Sdk::PyPi] {
        let mut walked = Vec::new();
        let mut offset = 0;
        loop {
            let page = run_client(sdk, &[&base, "list", &json!({"limit": 2, "offset": offset}).to_string()]).await;
            let got: Vec<String> = resources(&page, "items").into_iter().map(str::to_string).collect();
            if got.is_empty() {
                break;
            }
            offset += got.len();
            walked.extend(got);
        }
        assert_eq!(walked, all, "{sdk:?}");
    }

    // Filters: the testnet network, and a scheme nobody uses.
    let sepolia = catalog.url(&catalog.specs[2]);
    let (npm, pypi) = both(&base, "list", json!({"network": "eip155:84532"}), json!({"network": "base-sepolia"})).await;
    assert_eq!(resources(&npm, "items"), [sepolia.as_str()]);
    assert_eq!(resources(&pypi, "items"), [sepolia.as_str()]);
    let (npm, _) = both(&base, "list", json!({"scheme": "upto"}), json!({})).await;
    assert!(resources(&npm, "items").is_empty());
    assert_eq!(npm["pagination"]["total"], 0);

    // `extensions=bazaar`: only listings with a declared schema; `payTo` on list and search.
    let with_schema: Vec<&str> =
        urls.iter().filter(|(id, _)| *id != catalog.specs[1].id).map(|(_, u)| u.as_str()).collect();
    let (npm, pypi) = both(
        &base,
        "list",
        json!({"extensions": "bazaar", "limit": 100}),
        json!({"extensions": "bazaar", "limit": 100}),
    )
    .await;
    assert_eq!(resources(&npm, "items"), with_schema);
    assert_eq!(resources(&pypi, "items"), with_schema);
    let pay_to = "0x209693BC6AFC0C5328BA36FAF03C514EF312287C";
    let (npm, _) = both(&base, "list", json!({"payTo": pay_to, "limit": 100}), json!({})).await;
    assert_eq!(resources(&npm, "items"), all, "payTo matches in any case");
    let (npm, _) = both(&base, "list", json!({"payTo": "0x0000000000000000000000000000000000000001"}), json!({})).await;
    assert!(resources(&npm, "items").is_empty());
    let search = json!({"query": "weather", "payTo": "0x0000000000000000000000000000000000000001"});
    let (npm, _) = both(&base, "search", search, json!({"query": "weather"})).await;
    assert!(resources(&npm, "resources").is_empty());
    assert_eq!(npm["partialResults"], true, "the page was trimmed: {npm}");
    let (npm, _) =
        both(&base, "search", json!({"query": "weather", "extensions": "bazaar"}), json!({"query": "weather"})).await;
    let air = catalog.url(&catalog.specs[1]);
    assert!(!resources(&npm, "resources").contains(&air.as_str()), "{npm}");

    // Search: relevance first; both clients agree.
    let (npm, pypi) = both(&base, "search", json!({"query": "weather"}), json!({"query": "weather"})).await;
    let weather = catalog.url(catalog.specs.iter().find(|s| s.path == "/weather").expect("weather"));
    assert_eq!(resources(&npm, "resources")[0], weather, "{npm}");
    assert_eq!(resources(&npm, "resources"), resources(&pypi, "resources"));

    // Bad input: the clients throw with Agora's problem text.
    let (npm, pypi) = both(&base, "list", json!({"network": "dogechain"}), json!({"network": "dogechain"})).await;
    for answer in [&npm, &pypi] {
        let error = answer["error"].as_str().unwrap_or_else(|| panic!("an error: {answer}"));
        assert!(error.contains("400") && error.contains("malformed"), "{error}");
    }
    // Every spelling of a known network selects the same resources; a well-formed CAIP-2 id
    // Agora has no table entry for is a filter (matching nothing here), not an error.
    let total = |query: &'static str| {
        let base = base.clone();
        async move {
            let text = reqwest::get(format!("{base}/discovery/resources?{query}")).await.expect("get").text().await;
            let body: Value = serde_json::from_str(&text.expect("body")).expect("json");
            body["pagination"]["total"].as_i64().unwrap_or_else(|| panic!("{query}: {body}"))
        }
    };
    let on_base = total("network=base").await;
    assert!(on_base > 0);
    assert_eq!(total("network=eip155:8453").await, on_base);
    assert_eq!(total("network=8453").await, on_base);
    assert_eq!(total("network=eip155:424242").await, 0);
}
