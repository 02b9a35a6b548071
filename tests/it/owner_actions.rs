//! What a proven owner can do, over the real HTTP API (docs/OWNERSHIP.md): delist and relist
//! (leaving and rejoining search, the Bazaar endpoints and the feed at once), pin metadata that
//! later probes never overwrite, re-probe at the owner's interval, rotate and revoke the token —
//! and what a claim's token cannot do: act on services it does not cover. A claim bound to a payTo
//! lapses when the offers stop paying it, and the owner reads why in the changes feed.

use crate::ownership::{Catalog, EVM_ADDRESS, EVM_KEY, OTHER_ADDRESS, OTHER_KEY, OwnedSeller};
use serde_json::{Value, json};

fn ids(answer: &Value, key: &str) -> Vec<i64> {
    answer[key].as_array().map(|a| a.iter().filter_map(|h| h["id"].as_i64()).collect()).unwrap_or_default()
}

fn kinds(changes: &Value) -> Vec<String> {
    changes["events"]
        .as_array()
        .map(|e| e.iter().filter_map(|e| e["kind"].as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn owners_delist_relist_pin_and_reprobe_their_services_only() {
    let catalog = Catalog::open(None).await;
    let seller = OwnedSeller::start([127, 0, 0, 85]).await;
    seller.pays("/weather", EVM_ADDRESS);
    let other = OwnedSeller::start([127, 0, 0, 86]).await;
    other.pays("/news", OTHER_ADDRESS);
    let id = catalog.register(&seller.url("/weather")).await;
    let other_id = catalog.register(&other.url("/news")).await;
    let token = catalog.claim_with(&seller.url("/weather"), "evm", EVM_KEY, EVM_ADDRESS).await;
    let other_token = catalog.claim_with(&other.url("/news"), "evm", OTHER_KEY, OTHER_ADDRESS).await;

    // Credentials: none, malformed, another claim's.
    let delist = format!("/api/v1/owner/services/{id}/delist");
    for (presented, status) in [(None, 401), (Some("agora_owner_1_00"), 401), (Some(other_token.as_str()), 403)] {
        let (got, problem) = catalog.post(&delist, presented, &json!({})).await;
        assert_eq!(got, status, "{presented:?}: {problem}");
    }
    let forged = format!("{}{}", &token[..token.len() - 1], if token.ends_with('0') { '1' } else { '0' });
    assert_eq!(catalog.post(&delist, Some(&forged), &json!({})).await.0, 401, "one hex digit off");

    // Delist: out of search, Bazaar and the feed's listings; relist: back.
    let (status, delisted) = catalog.post(&delist, Some(&token), &json!({})).await;
    assert_eq!((status, delisted["withheld"]["by"].as_str()), (200, Some("owner")), "{delisted}");
    let (_, found) = catalog.get("/api/v1/services", None).await;
    assert_eq!(ids(&found, "hits"), vec![other_id]);
    let (_, bazaar) = catalog.get("/discovery/resources", None).await;
    let listed: Vec<&str> =
        bazaar["items"].as_array().expect("items").iter().filter_map(|i| i["resource"].as_str()).collect();
    assert_eq!(listed, vec![other.url("/news")], "{bazaar}");
    let (status, _) = catalog.post(&format!("/api/v1/owner/services/{id}/relist"), Some(&token), &json!({})).await;
    assert_eq!(status, 200);
    let (_, found) = catalog.get("/api/v1/services", None).await;
    let mut listed = ids(&found, "hits");
    listed.sort_unstable();
    assert_eq!(listed, vec![id, other_id]);
    let (_, changes) = catalog.get("/api/v1/changes?limit=100", None).await;
    let kinds = kinds(&changes);
    assert!(kinds.contains(&"owner_delisted".into()) && kinds.contains(&"owner_relisted".into()), "{kinds:?}");

    // Pins: shown instead of the challenge's fields, which stay visible as such; a probe keeps them.
    let pins =
        json!({"name": "Paris Weather Pro", "tags": ["weather", "paris"], "docs_url": "https://docs.example/weather"});
    let (status, pinned) = catalog.post(&format!("/api/v1/owner/services/{id}/pins"), Some(&token), &pins).await;
    assert_eq!(status, 200, "{pinned}");
    catalog.clock.advance(std::time::Duration::from_secs(11));
    let (status, probed) =
        catalog.post(&format!("/api/v1/owner/services/{id}/recrawl"), Some(&token), &json!({})).await;
    assert_eq!(status, 200, "{probed}");
    let (_, detail) = catalog.get(&format!("/api/v1/services/{id}"), None).await;
    assert_eq!(detail["name"], "Paris Weather Pro");
    assert_eq!(detail["pinned"]["challenge"]["name"], "Weather", "the challenge's own name stays visible");
    assert_eq!(detail["pinned"]["docs_url"], "https://docs.example/weather");
    let (_, found) = catalog.get("/api/v1/services?q=paris+pro", None).await;
    assert_eq!(ids(&found, "hits"), vec![id], "search reads the pinned name");
    let (status, bad) = catalog
        .post(&format!("/api/v1/owner/services/{id}/pins"), Some(&token), &json!({"name": "x".repeat(121)}))
        .await;
    assert_eq!((status, bad["param"].as_str()), (400, Some("name")), "{bad}");

    // Re-probe: the owner's interval (10 s), not the anonymous minute.
    let recrawl = format!("/api/v1/owner/services/{id}/recrawl");
    let (status, too_soon) = catalog.post(&recrawl, Some(&token), &json!({})).await;
    assert_eq!((status, too_soon["code"].as_str()), (429, Some("recrawl_too_soon")), "{too_soon}");
    catalog.clock.advance(std::time::Duration::from_secs(11));
    assert_eq!(catalog.post(&recrawl, Some(&token), &json!({})).await.0, 200);
    let anonymous = catalog.post(&format!("/api/v1/services/{id}/recrawl"), None, &json!({})).await;
    assert_eq!(anonymous.0, 429, "anonymous recrawls keep their minute: {}", anonymous.1);

    // The owner page: every probe, problem and price change of their services.
    let (_, owner) = catalog.get("/api/v1/owner", Some(&token)).await;
    assert_eq!(ids(&owner, "services"), vec![id]);
    assert!(owner["services"][0]["recent_probes"].as_array().is_some_and(|p| p.len() >= 3), "{owner}");

    // Rotation: the old token stops, the new one works; revocation ends the claim.
    let (status, rotated) = catalog.post("/api/v1/owner/token", Some(&token), &json!({})).await;
    assert_eq!(status, 200);
    let new_token = rotated["owner_token"].as_str().expect("new token");
    assert_eq!(catalog.get("/api/v1/owner", Some(&token)).await.0, 401);
    assert_eq!(catalog.get("/api/v1/owner", Some(new_token)).await.0, 200);
    let response = catalog
        .http
        .post(format!("{}/api/v1/owner/revoke", catalog.base))
        .bearer_auth(new_token)
        .send()
        .await
        .expect("revoke");
    assert_eq!(response.status().as_u16(), 204);
    let (status, ended) = catalog.get("/api/v1/owner", Some(new_token)).await;
    assert_eq!((status, ended["detail"].as_str()), (401, Some("This claim was revoked.")));
    let (_, detail) = catalog.get(&format!("/api/v1/services/{id}"), None).await;
    assert_eq!(detail["verified"], false);
}

#[tokio::test]
async fn a_pay_to_claim_lapses_when_the_offers_stop_paying_it() {
    let catalog = Catalog::open(None).await;
    let seller = OwnedSeller::start([127, 0, 0, 87]).await;
    seller.pays("/weather", EVM_ADDRESS);
    let id = catalog.register(&seller.url("/weather")).await;
    let token = catalog.claim_with(&seller.url("/weather"), "evm", EVM_KEY, EVM_ADDRESS).await;

    seller.pays("/weather", OTHER_ADDRESS);
    catalog.clock.advance(std::time::Duration::from_secs(61));
    let (status, _) = catalog.post(&format!("/api/v1/services/{id}/recrawl"), None, &json!({})).await;
    assert_eq!(status, 200);
    catalog.app.search.flush().await.expect("index flush");

    let (_, detail) = catalog.get(&format!("/api/v1/services/{id}"), None).await;
    assert_eq!((detail["verified"].clone(), detail["proofs"].clone()), (json!(false), json!([])));
    let (_, found) = catalog.get("/api/v1/services?verified=true", None).await;
    assert_eq!(found["total"], 0);
    let (status, lapsed) = catalog.get("/api/v1/owner", Some(&token)).await;
    assert_eq!(status, 401);
    assert!(lapsed["detail"].as_str().is_some_and(|d| d.contains("lapsed")), "{lapsed}");
    let (_, changes) = catalog.get("/api/v1/changes?limit=100", None).await;
    let lapse = changes["events"].as_array().expect("events").iter().find(|e| e["kind"] == "claim_lapsed");
    assert_eq!(lapse.map(|e| e["new_value"].clone()), Some(json!(EVM_ADDRESS.to_lowercase())), "{changes}");
}

#[tokio::test]
async fn a_verified_service_wins_a_near_tie_in_relevance() {
    let catalog = Catalog::open(None).await;
    let first = OwnedSeller::start([127, 0, 0, 88]).await;
    first.pays("/weather", OTHER_ADDRESS);
    let second = OwnedSeller::start([127, 0, 0, 89]).await;
    second.pays("/weather", EVM_ADDRESS);
    let a = catalog.register(&first.url("/weather")).await;
    let b = catalog.register(&second.url("/weather")).await;
    catalog.app.search.flush().await.expect("flush");
    let (_, before) = catalog.get("/api/v1/services?q=weather", None).await;
    assert_eq!(ids(&before, "hits"), vec![a, b], "the same text: the older first");
    catalog.claim_with(&second.url("/weather"), "evm", EVM_KEY, EVM_ADDRESS).await;
    let (_, after) = catalog.get("/api/v1/services?q=weather", None).await;
    assert_eq!(ids(&after, "hits"), vec![b, a], "verified, it ranks first: {after}");
}

#[tokio::test]
async fn a_pinned_icon_is_fetched_checked_and_served_by_agora() {
    let icons = crate::support::Switchable::start(
        [127, 0, 0, 90],
        agora_crawler::testkit::Reply::new(200).header("content-type", "image/png").body(crate::support::png(32)),
    )
    .await;
    let resolver = agora_crawler::StaticResolver::new()
        .with("icons.test", &[[127, 0, 0, 90].into()])
        .with("private.test", &[[10, 0, 0, 1].into()]);
    let catalog = Catalog::open_with(None, Some(std::sync::Arc::new(resolver))).await;
    let seller = OwnedSeller::start([127, 0, 0, 80]).await;
    seller.pays("/weather", EVM_ADDRESS);
    let id = catalog.register(&seller.url("/weather")).await;
    let token = catalog.claim_with(&seller.url("/weather"), "evm", EVM_KEY, EVM_ADDRESS).await;
    let pins = format!("/api/v1/owner/services/{id}/pins");

    let icon_url = format!("http://icons.test:{}/logo.png", icons.seller.addr().port());
    let (status, pinned) = catalog.post(&pins, Some(&token), &json!({"icon_url": icon_url})).await;
    assert_eq!(status, 200, "{pinned}");
    let (_, detail) = catalog.get(&format!("/api/v1/services/{id}"), None).await;
    let icon = detail["icon"].as_str().expect("the pinned icon").to_string();
    assert_eq!(detail["pinned"]["icon"].as_str(), Some(icon.as_str()));
    let served = reqwest::get(format!("{}{icon}", catalog.base)).await.expect("get");
    assert_eq!((served.status().as_u16(), served.headers()["content-type"].to_str().ok()), (200, Some("image/png")));

    let (status, refused) =
        catalog.post(&pins, Some(&token), &json!({"icon_url": "http://private.test/logo.png"})).await;
    assert_eq!((status, refused["param"].as_str()), (400, Some("icon_url")), "{refused}");
}
