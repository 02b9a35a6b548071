//! The web UI in a real headless Chromium, with scripts on and off: a visitor searches, filters by
//! network, opens a service and registers a seller built with the official x402 npm SDK, seeing its
//! verdict; the pages fit a phone; the console stays free of errors and CSP reports throughout.
//! Screenshots of each step land in `target/test-artifacts/browser/` (see [`artifacts_dir`]).

use crate::api::serve;
use crate::browser::{Browser, Scripts, artifacts_dir, eval};
use crate::catalog::{Catalog, POLYGON_USDC, relevance_specs};
use crate::peers::Peer;
use serde_json::json;

#[tokio::test]
async fn a_visitor_searches_filters_opens_and_registers_with_scripts_on() {
    visit(Scripts::On).await;
}

#[tokio::test]
async fn a_visitor_searches_filters_opens_and_registers_with_scripts_off() {
    visit(Scripts::Off).await;
}

async fn visit(scripts: Scripts) {
    let seller = Peer::node("seller-v2-express.mjs");
    let mut specs = relevance_specs();
    specs[0].offers = vec![POLYGON_USDC];
    let catalog = Catalog::build(specs).await;
    catalog.search().flush().await.expect("flush");
    let base = serve(&catalog).await;
    let polygon = &catalog.specs[0];
    let weather = catalog.specs.iter().find(|s| s.name.to_lowercase().contains("weather")).expect("a weather spec");
    let browser = Browser::start("visit", scripts).await;

    // Home: the search box and every listed service.
    browser.goto(&format!("{base}/")).await;
    let title = browser.client.title().await.expect("title");
    assert!(title.ends_with("· Agora"), "{title}");
    assert_eq!(browser.find_all("ol.results > li").await.len(), catalog.specs.len());
    // WebDriver runs its own scripts either way; the page's run only with scripts on.
    let htmx = if scripts == Scripts::On { "object" } else { "undefined" };
    assert_eq!(eval(&browser, "return typeof htmx").await, json!(htmx), "htmx loaded (under the CSP) or not");
    if scripts == Scripts::On {
        // A mark on this document: it survives only if the next search does not load a new page.
        eval(&browser, "window.agoraMark = 1; return null").await;
    }
    browser.screenshot("1-home").await;

    // Search: as-you-type with scripts, the button without.
    browser.find("#q").await.send_keys("weather").await.expect("type");
    if scripts == Scripts::Off {
        browser.find(".searchbar button[type=submit]").await.click().await.expect("search");
    }
    browser.find("#results[data-query*='q=weather']").await;
    let links = hrefs(&browser, "ol.results h3 a").await;
    assert!(links.contains(&format!("/services/{}", weather.id)), "the weather service: {links:?}");
    assert!(links.len() < catalog.specs.len(), "narrowed: {links:?}");
    // Typed on the home page (newest first), the search is ranked by relevance all the same.
    let order = browser.find("#sort option:checked").await.text().await.expect("sort");
    assert_eq!(order, "Best match");
    let url = browser.client.current_url().await.expect("url");
    assert!(url.query().unwrap_or_default().contains("q=weather"), "a shareable URL: {url}");
    assert!(!url.query().unwrap_or_default().contains("usd="), "blank fields left out of the address: {url}");
    if scripts == Scripts::On {
        assert_eq!(eval(&browser, "return window.agoraMark ?? null").await, json!(1), "results swapped in place");
    }
    browser.screenshot("2-search").await;

    // Filter by network from the facet list: only the Polygon service remains.
    browser.goto(&format!("{base}/")).await;
    browser.find("input[name=network][value='eip155:137']").await.click().await.expect("tick Polygon");
    if scripts == Scripts::Off {
        browser.find("aside.facets button[type=submit]").await.click().await.expect("apply filters");
    }
    browser.find("#results[data-query*='network=eip155%3A137']").await;
    assert_eq!(hrefs(&browser, "ol.results h3 a").await, [format!("/services/{}", polygon.id)]);
    assert!(browser.find("input[name=network][value='eip155:137']").await.is_selected().await.expect("checked"));
    browser.screenshot("3-filtered").await;

    // Open it: its offers table names the network, and the page links its JSON.
    browser.find("ol.results h3 a").await.click().await.expect("open the service");
    let heading = browser.find("h1").await.text().await.expect("h1");
    assert_eq!(heading, polygon.name);
    let offers = browser.texts("table.offers tbody tr").await;
    assert!(offers.len() == 1 && offers[0].contains("eip155:137"), "{offers:?}");
    let alternate = browser.find("link[rel=alternate][type='application/json']").await;
    assert_eq!(alternate.attr("href").await.expect("href"), Some(format!("/api/v1/services/{}", polygon.id)));
    browser.screenshot("4-service").await;

    // Register the SDK seller from the form: the status page shows the verdict.
    browser.find("nav a[href='/register']").await.click().await.expect("open the form");
    browser.find("#url").await.send_keys(&seller.url("/weather")).await.expect("type the URL");
    browser.find("form[action='/register'] button[type=submit]").await.click().await.expect("register");
    let status = browser.find(".badge.status-listed").await.text().await.expect("status");
    assert_eq!(status, "listed");
    let flash = browser.find("[role=status]").await.text().await.expect("flash");
    assert!(flash.starts_with("Registered"), "{flash}");
    browser.screenshot("5-registered").await;
    browser.assert_quiet_console("searching, filtering, opening and registering", &[]).await;

    // A URL Agora must not probe is refused with the reason, and the form keeps what was typed.
    browser.goto(&format!("{base}/register")).await;
    browser.find("#url").await.send_keys("http://10.0.0.1/x").await.expect("type");
    browser.find("form[action='/register'] button[type=submit]").await.click().await.expect("register");
    let problems = browser.find("article[role=alert] .problems").await.text().await.expect("problems");
    assert!(problems.contains("address_refused"), "{problems}");
    let kept = browser.find("#url").await.prop("value").await.expect("value");
    assert_eq!(kept.as_deref(), Some("http://10.0.0.1/x"));
    browser.screenshot("6-refused").await;
    browser
        .assert_quiet_console(
            "a refused registration",
            &["/register - Failed to load resource: the server responded with a status of 422"],
        )
        .await;

    // A phone: nothing wider than the screen, on the search page and a service page.
    browser.client.set_window_size(390, 844).await.expect("resize");
    for (path, step) in
        [("/?q=weather".to_string(), "7-phone-search"), (format!("/services/{}", polygon.id), "8-phone-service")]
    {
        browser.goto(&format!("{base}{path}")).await;
        let overflow = eval(&browser, "return document.documentElement.scrollWidth - window.innerWidth").await;
        assert!(overflow.as_i64().is_some_and(|px| px <= 0), "{path} scrolls sideways by {overflow} px on a phone");
        // The header's links stay on one line.
        let lines = eval(
            &browser,
            "return new Set([...document.querySelectorAll('body > header nav a')].map(a => Math.round(a.getBoundingClientRect().top))).size",
        )
        .await;
        assert_eq!(lines, json!(1), "{path}: the header links wrap on a phone");
        browser.screenshot(step).await;
    }
    // The price of every offer is on screen without scrolling sideways.
    browser.goto(&format!("{base}/services/{}", polygon.id)).await;
    let price_visible = eval(
        &browser,
        "return [...document.querySelectorAll('table.offers td.price')].every(td => td.getBoundingClientRect().right <= window.innerWidth)",
    )
    .await;
    assert_eq!(price_visible, json!(true), "on a phone the offer's price is on screen");
    // From the top of the results, a link leads to the filters.
    browser.goto(&format!("{base}/?q=weather")).await;
    let to_filters = eval(&browser, "return document.querySelector('.to-filters a').offsetParent !== null").await;
    assert_eq!(to_filters, json!(true), "a way to the filters above the results on a phone");
    browser.goto(&format!("{base}/?q=weather")).await;
    let first_hit = eval(
        &browser,
        "return document.querySelector('ol.results h3').getBoundingClientRect().top < window.innerHeight",
    )
    .await;
    assert_eq!(first_hit, json!(true), "on a phone the first result shows without scrolling past the filters");

    // Light and dark, as the visitor's system prefers: the page follows.
    browser.client.set_window_size(1280, 900).await.expect("resize");
    let mut backgrounds = Vec::new();
    for scheme in ["light", "dark"] {
        browser.prefer_color_scheme(scheme).await;
        browser.goto(&format!("{base}/?q=weather")).await;
        let background = eval(&browser, "return getComputedStyle(document.documentElement).backgroundColor").await;
        backgrounds.push(luminance(background.as_str().unwrap_or_default()));
        browser.screenshot(&format!("9-{scheme}")).await;
    }
    assert!(backgrounds[0] > 0.8 && backgrounds[1] < 0.2, "light then dark backgrounds: {backgrounds:?}");

    browser.assert_quiet_console("on a phone", &[]).await;
    browser.close().await;
    assert!(artifacts_dir().join(format!("visit-js-{}-5-registered.png", js(scripts))).exists());
}

/// Relative luminance (0 black to 1 white, roughly) of a computed `rgb(r, g, b)` colour.
fn luminance(color: &str) -> f64 {
    let channels: Vec<f64> = color
        .trim_start_matches("rgba(")
        .trim_start_matches("rgb(")
        .trim_end_matches(')')
        .split(',')
        .filter_map(|c| c.trim().parse::<f64>().ok())
        .collect();
    assert!(channels.len() >= 3, "a colour: {color}");
    (0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]) / 255.0
}

fn js(scripts: Scripts) -> &'static str {
    if scripts == Scripts::On { "on" } else { "off" }
}

async fn hrefs(browser: &Browser, css: &str) -> Vec<String> {
    let mut hrefs = Vec::new();
    for link in browser.find_all(css).await {
        hrefs.push(link.attr("href").await.expect("href").unwrap_or_default());
    }
    hrefs
}
