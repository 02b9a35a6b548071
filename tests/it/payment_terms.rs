//! How an offer is paid, end to end (x402 late 2026): a real seller's offers with an `upfront`
//! flow and an unknown one go through the prober into the store, the API, the search and the
//! service page — the unknown flow's offer is kept but not payable, so it neither prices the
//! service nor lets it match a price filter; a seller whose only offer is unpayable is not listed.

use crate::api::serve_state;
use crate::support::{Switchable, T0, loopback_options, open_app};
use agora::clock::ManualClock;
use agora_crawler::testkit::{Reply, v2_challenge};
use serde_json::{Value, json};

/// A challenge whose offers are the template's with these `extra` and amounts.
fn challenge(offers: &[(&str, &str, Value)]) -> Value {
    let mut challenge = v2_challenge("http://127.0.0.1/paid");
    let template = challenge["accepts"][0].clone();
    let entries: Vec<Value> = offers
        .iter()
        .map(|(network, amount, extra)| {
            let mut entry = template.clone();
            entry["network"] = json!(network);
            entry["amount"] = json!(amount);
            if *network == "eip155:137" {
                entry["asset"] = json!("0x3c499c542cEF5E3811e1192ce70d8cC03d5c3359");
            }
            entry["extra"] = extra.clone();
            entry
        })
        .collect();
    challenge["accepts"] = json!(entries);
    challenge
}

async fn get(url: &str) -> Value {
    reqwest::get(url).await.expect("get").json().await.expect("json")
}

#[tokio::test]
async fn payment_terms_reach_the_api_the_search_and_the_page() {
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = ManualClock::new(T0);
    let app = open_app(&loopback_options(dir.path()), &clock).await;
    let domain = json!({"name": "USD Coin", "version": "2"});
    let mut upfront = domain.clone();
    upfront["paymentFlow"] = json!("upfront");
    let mut unknown = domain.clone();
    unknown["paymentFlow"] = json!("layaway");
    let seller = Switchable::start(
        [127, 0, 0, 61],
        Reply::v2(&challenge(&[("eip155:8453", "2000", upfront), ("eip155:137", "100", unknown.clone())])),
    )
    .await;
    let lonely = Switchable::start([127, 0, 0, 62], Reply::v2(&challenge(&[("eip155:8453", "100", unknown)]))).await;
    let catalog = &app.state.catalog;
    let listed = catalog.register(&seller.seller.url("/paid"), None).await.expect("registers");
    let id = listed.state.service.id;
    assert_eq!(listed.state.service.status.as_str(), "listed");
    let refused = catalog.register(&lonely.seller.url("/paid"), None).await.expect("registers");
    assert_eq!(refused.state.service.status.as_str(), "rejected");
    assert_eq!(refused.state.service.reason_code.as_deref(), Some("no_payable_offer"));
    app.search.flush().await.expect("flush");
    let base = serve_state(app.state.clone()).await;

    let detail = get(&format!("{base}/api/v1/services/{id}")).await;
    let offers = &detail["offers"];
    assert_eq!((offers[0]["payment_flow"].as_str(), offers[0]["payable"].as_bool()), (Some("upfront"), Some(true)));
    assert_eq!(offers[0]["asset_transfer_method"], "eip3009");
    assert_eq!((offers[1]["payment_flow"].as_str(), offers[1]["payable"].as_bool()), (Some("layaway"), Some(false)));
    assert!(
        detail["report"]["warnings"].as_array().expect("warnings").iter().any(|w| w["code"] == "payment_flow_unknown"),
        "{}",
        detail["report"]
    );

    // The unpayable $0.0001 offer does not price the service: only the $0.002 one counts.
    let cheap = get(&format!("{base}/api/v1/services?max_usd=0.001")).await;
    assert_eq!(cheap["total"], 0, "{cheap}");
    let affordable = get(&format!("{base}/api/v1/services?max_usd=0.002")).await;
    assert_eq!(affordable["hits"][0]["id"], id, "{affordable}");

    let page = reqwest::get(format!("{base}/services/{id}")).await.expect("get").text().await.expect("html");
    assert!(page.contains("paid upfront — no refund"), "the buyer is told before paying");
    assert!(page.contains("not payable by x402 clients"), "the unpayable offer says so");
    app.shutdown().await;
}
