//! Snapshots (insta, `tests/it/snapshots/`) of the HTML fragments people read most: search hits,
//! a service's offers table and curl line, a broken seller's "what to fix" list, and hostile
//! seller text as it reaches the page (escaped, clipped). The sellers' loopback origins are
//! replaced by `SELLER`; everything else is deterministic (the test clock, fresh ids).

use crate::api::serve;
use crate::catalog::{Catalog, ServiceSpec, relevance_specs};

async fn html(url: &str) -> String {
    let response = reqwest::Client::new().get(url).header("accept", "text/html").send().await.expect("get");
    assert_eq!(response.status().as_u16(), 200, "{url}");
    response.text().await.expect("body")
}

/// The part of `html` from the first `start` through the end of the following `end`.
fn fragment(html: &str, start: &str, end: &str) -> String {
    let from = html.find(start).unwrap_or_else(|| panic!("no {start} in {html}"));
    let to = html[from..].find(end).unwrap_or_else(|| panic!("no {end} after {start}")) + from + end.len();
    html[from..to].to_string()
}

fn unport(text: &str, catalog: &Catalog) -> String {
    catalog.specs.iter().fold(text.to_string(), |text, spec| {
        let url = catalog.url(spec);
        let origin = &url[..url.len() - spec.path.len()];
        text.replace(origin, "SELLER")
    })
}

#[tokio::test]
async fn search_hits_offers_and_curl_read_as_pinned() {
    let catalog = Catalog::build(relevance_specs()).await;
    catalog.search().flush().await.expect("flush");
    let base = serve(&catalog).await;
    let page = html(&format!("{base}/?q=weather+forecast&limit=2")).await;
    insta::assert_snapshot!("search_hits", fragment(&page, "<ol class=\"results\">", "</ol>"));

    let weather = catalog.specs.iter().find(|s| s.path == "/weather").expect("weather");
    let page = html(&format!("{base}/services/{}", weather.id)).await;
    let offers = fragment(&page, "<table class=\"offers\">", "</table>");
    let curl = fragment(&page, "<pre><code>curl", "</pre>");
    insta::assert_snapshot!("service_offers", unport(&format!("{offers}\n{curl}"), &catalog));
}

#[tokio::test]
async fn a_broken_sellers_status_lists_what_to_fix() {
    let mut catalog = Catalog::build(relevance_specs()[..1].to_vec()).await;
    let spec = catalog.specs[0].clone();
    let mut challenge = crate::catalog::challenge(&spec, &catalog.url(&spec));
    challenge["accepts"][0]["payTo"] = "not-an-address".into();
    challenge["accepts"][0]["network"] = "dogechain".into();
    catalog.set_reply(&spec, agora_crawler::testkit::Reply::v2(&challenge));
    catalog.reprobe(0).await;
    let base = serve(&catalog).await;
    let url = catalog.url(&spec);
    let page = html(&format!(
        "{base}/status?url={}",
        url::form_urlencoded::byte_serialize(url.as_bytes()).collect::<String>()
    ))
    .await;
    // Up to the badge: the next check time carries the schedule's jitter.
    let status = fragment(&page, "<p>Status:", "</span>");
    let fixes = fragment(&page, "<h2>What to fix</h2>", "</ul>");
    insta::assert_snapshot!("status_what_to_fix", unport(&format!("{status}\n{fixes}"), &catalog));
    catalog.specs.clear();
}

#[tokio::test]
async fn hostile_seller_text_reaches_the_page_escaped_and_clipped() {
    let hostile = ServiceSpec::new(
        "/evil",
        "<script>alert(\"name\")</script>",
        &format!("</p><img src=x onerror=alert(1)> javascript:alert(2) {}", "A".repeat(5_000)),
        &["<b>tag</b>"],
        "q",
    );
    let catalog = Catalog::build(vec![hostile]).await;
    catalog.search().flush().await.expect("flush");
    let base = serve(&catalog).await;
    let page = html(&format!("{base}/")).await;
    insta::assert_snapshot!("hostile_hit", fragment(&page, "<ol class=\"results\">", "</ol>"));
}
