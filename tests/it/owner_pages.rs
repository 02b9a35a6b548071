//! The claim and owner pages, driven like a browser would (plain forms, the owner cookie): claim
//! by serving the file the page asks for, see the token once, land signed in on `/owner`, delist,
//! pin and relist from there, and see the service page say what was proven. Posts from another
//! site are refused; signing out forgets the cookie.

use crate::ownership::{Catalog, EVM_ADDRESS, OwnedSeller};
use reqwest::header::{CONTENT_TYPE, COOKIE, ORIGIN, SET_COOKIE};
use reqwest::redirect::Policy;

/// The text between `start` and the next `end` after it.
fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let from = html.find(start).unwrap_or_else(|| panic!("{start:?} not in {html}")) + start.len();
    let to = html[from..].find(end).map_or(html.len(), |i| from + i);
    &html[from..to]
}

#[tokio::test]
async fn a_seller_claims_and_manages_a_listing_with_plain_forms() {
    let catalog = Catalog::open(None).await;
    let seller = OwnedSeller::start([127, 0, 0, 95]).await;
    seller.pays("/weather", EVM_ADDRESS);
    let url = seller.url("/weather");
    let id = catalog.register(&url).await;
    let http = reqwest::Client::builder().redirect(Policy::none()).build().expect("client");
    let base = &catalog.base;
    let form = |path: &str, fields: &[(&str, &str)], cookie: Option<&str>| {
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
        let mut request = http
            .post(format!("{base}{path}"))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(ORIGIN, base.as_str())
            .body(body);
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie);
        }
        request.send()
    };

    let service_page = http.get(format!("{base}/services/{id}")).send().await.expect("get").text().await.expect("html");
    assert!(service_page.contains("Nobody has proven control"), "{service_page}");
    let start = http.get(format!("{base}/claim?url={url}")).send().await.expect("get").text().await.expect("html");
    assert!(start.contains(&format!("value=\"{url}\"")), "the form is pre-filled");

    let challenge = form("/claim", &[("url", url.as_str()), ("method", "well_known")], None).await.expect("post");
    assert_eq!(challenge.status(), 200);
    let html = challenge.text().await.expect("html");
    assert!(html.contains("Prove it within 60 minutes"), "{html}");
    let file = between(&html, "id=\"well-known-url\">", "</code>").to_string();
    let content = between(&html, "id=\"proof-content\">", "</code>").to_string();
    let nonce = between(&html, "name=\"nonce\" value=\"", "\"").to_string();
    seller.serve_proof(&file, &content);
    let proven = form("/claim/prove", &[("nonce", nonce.as_str())], None).await.expect("post");
    assert_eq!(proven.status(), 200);
    let cookie = proven.headers()[SET_COOKIE].to_str().expect("ascii").to_string();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/owner"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert_eq!(proven.headers()["cache-control"], "no-store");
    let html = proven.text().await.expect("html");
    let token = between(&html, "id=\"owner-token\">", "</code>").to_string();
    assert!(token.starts_with("agora_owner_"), "{token}");
    let cookie = cookie.split(';').next().expect("pair").to_string();

    // Signed in: the owner page lists the service; a cross-site post is refused.
    let owner = http.get(format!("{base}/owner")).header(COOKIE, &cookie).send().await.expect("get");
    let html = owner.text().await.expect("html");
    assert!(html.contains(&url) && html.contains("Re-probe now"), "{html}");
    assert!(!html.contains(&token), "the token is not shown again");
    let forged = http
        .post(format!("{base}/owner/services/{id}/delist"))
        .header(COOKIE, &cookie)
        .header(ORIGIN, "http://evil.test")
        .send()
        .await
        .expect("post");
    assert_eq!(forged.status(), 403);

    let delisted = form(&format!("/owner/services/{id}/delist"), &[], Some(&cookie)).await.expect("post");
    assert_eq!(delisted.status(), 303);
    let page = http.get(format!("{base}/services/{id}")).send().await.expect("get").text().await.expect("html");
    assert!(page.contains("Delisted by its owner"), "{page}");
    assert!(page.contains("owner verified") && page.contains("proven by a file Agora asked it to serve"), "{page}");
    let (_, found) = catalog.get("/api/v1/services", None).await;
    assert_eq!(found["total"], 0);

    let pins = [("name", "Weather Deluxe"), ("tags", "weather, forecast"), ("category", "Weather")];
    assert_eq!(form(&format!("/owner/services/{id}/pins"), &pins, Some(&cookie)).await.expect("post").status(), 303);
    assert_eq!(form(&format!("/owner/services/{id}/relist"), &[], Some(&cookie)).await.expect("post").status(), 303);
    let page = http.get(format!("{base}/services/{id}")).send().await.expect("get").text().await.expect("html");
    assert!(page.contains("Weather Deluxe") && page.contains("itself says “Weather”"), "{page}");
    assert!(page.contains("Category: Weather"), "{page}");
    let search = http.get(format!("{base}/?q=deluxe")).send().await.expect("get").text().await.expect("html");
    assert!(search.contains("Weather Deluxe") && search.contains("owner verified"), "{search}");
    let unverified = OwnedSeller::start([127, 0, 0, 99]).await;
    unverified.pays("/weather", EVM_ADDRESS);
    let other = catalog.register(&unverified.url("/weather")).await;
    catalog.app.search.flush().await.expect("flush");
    let all = http.get(format!("{base}/")).send().await.expect("get").text().await.expect("html");
    assert!(all.contains(&format!("/services/{other}\"")), "{all}");
    let only = http.get(format!("{base}/?verified=true")).send().await.expect("get").text().await.expect("html");
    assert!(only.contains("name=\"verified\" value=\"true\" checked"), "the filter shows as set");
    assert!(only.contains(&format!("/services/{id}\"")) && !only.contains(&format!("/services/{other}\"")), "{only}");

    // A wrong token does not sign in; signing out forgets the cookie.
    let refused = form("/owner/sign-in", &[("token", "agora_owner_1_00")], None).await.expect("post");
    assert_eq!(refused.status(), 401);
    let signed_in = form("/owner/sign-in", &[("token", token.as_str())], None).await.expect("post");
    assert_eq!(signed_in.status(), 303);
    let out = form("/owner/sign-out", &[], Some(&cookie)).await.expect("post");
    assert!(out.headers()[SET_COOKIE].to_str().expect("ascii").contains("Max-Age=0"));
    let anonymous = http.get(format!("{base}/owner")).send().await.expect("get").text().await.expect("html");
    assert!(anonymous.contains("Sign in with the owner token"), "{anonymous}");
}
