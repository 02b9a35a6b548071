//! The claim and owner pages in a real headless Chromium (scripts off: they are plain forms): a
//! seller opens their service, follows "claim it", serves the file the page asks for, copies the
//! token, manages the listing from `/owner` (the browser keeps the cookie), and the pages fit a
//! phone with a quiet console.

use crate::browser::{Browser, Scripts, eval};
use crate::ownership::{Catalog, EVM_ADDRESS, OwnedSeller};
use serde_json::json;

#[tokio::test]
async fn a_seller_claims_and_delists_in_a_browser() {
    let catalog = Catalog::open(None).await;
    let seller = OwnedSeller::start([127, 0, 0, 98]).await;
    seller.pays("/weather", EVM_ADDRESS);
    let id = catalog.register(&seller.url("/weather")).await;
    let base = &catalog.base;
    let browser = Browser::start("owner", Scripts::Off).await;

    browser.goto(&format!("{base}/services/{id}")).await;
    browser.find("a[href^='/claim?url=']").await.click().await.expect("claim it");
    let url = browser.find("#url").await.prop("value").await.expect("value");
    assert_eq!(url, Some(seller.url("/weather")), "the form knows the service");
    browser.find("form[action='/claim'] button[type=submit]").await.click().await.expect("get the challenge");
    let file = browser.find("#well-known-url").await.text().await.expect("where");
    let content = browser.find("#proof-content").await.text().await.expect("what");
    seller.serve_proof(&file, &content);
    browser.screenshot("1-challenge").await;
    browser.find("form[action='/claim/prove'] button[type=submit]").await.click().await.expect("prove");
    let token = browser.find("#owner-token").await.text().await.expect("token");
    assert!(token.starts_with("agora_owner_"), "{token}");
    browser.screenshot("2-token").await;

    browser.find("a[href='/owner']").await.click().await.expect("owner page");
    assert!(browser.find("main").await.text().await.expect("text").contains(&seller.url("/weather")));
    browser.find(&format!("form[action='/owner/services/{id}/delist'] button")).await.click().await.expect("delist");
    let withheld = browser.find("p.withheld").await.text().await.expect("notice");
    assert!(withheld.contains("delisted by you"), "{withheld}");
    browser.find("details summary").await.click().await.expect("open the pins");
    browser.find("input[name=name]").await.send_keys("Browser Weather").await.expect("type");
    browser.find(&format!("form[action='/owner/services/{id}/pins'] button")).await.click().await.expect("pin");
    browser.screenshot("3-owner").await;
    browser.goto(&format!("{base}/services/{id}")).await;
    assert_eq!(browser.find("h1").await.text().await.expect("h1"), "Browser Weather");
    assert_eq!(browser.find(".badge.owner-verified").await.text().await.expect("badge"), "owner verified");
    browser.assert_quiet_console("claiming and managing a listing", &[]).await;

    browser.client.set_window_size(390, 844).await.expect("resize");
    for path in ["/owner", "/claim"] {
        browser.goto(&format!("{base}{path}")).await;
        let overflow = eval(&browser, "return document.documentElement.scrollWidth - window.innerWidth").await;
        assert!(overflow.as_i64().is_some_and(|px| px <= 0), "{path} scrolls sideways by {overflow} px on a phone");
    }
    browser.goto(&format!("{base}/owner")).await;
    assert!(browser.find("main").await.text().await.expect("text").contains("Re-probe now"), "still signed in");
    assert_eq!(eval(&browser, "return document.cookie").await, json!(""), "the owner cookie is HttpOnly");
    browser.assert_quiet_console("on a phone", &[]).await;
    browser.close().await;
}
