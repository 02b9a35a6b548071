//! The HTML pages over a real server and a catalog built through real sellers: the search page
//! lists and filters, service pages render, hostile seller text is escaped everywhere, pages
//! carry the security headers, assets are cached immutably, and the register form registers
//! (post/redirect/get) while refusing cross-site posts.

use crate::api::serve;
use crate::catalog::{Catalog, POLYGON_USDC, ServiceSpec, relevance_specs};

async fn page(url: &str) -> (u16, reqwest::header::HeaderMap, String) {
    let response = reqwest::Client::new().get(url).header("accept", "text/html").send().await.expect("get");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().await.expect("body"))
}

/// A form body, as a browser encodes it.
fn form(fields: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish()
}

#[tokio::test]
async fn the_search_page_lists_filters_and_pages_without_javascript() {
    let catalog = Catalog::build(relevance_specs()).await;
    catalog.search().flush().await.expect("flush");
    let base = serve(&catalog).await;
    let (status, headers, html) = page(&format!("{base}/?q=weather")).await;
    assert_eq!(status, 200);
    assert!(headers["content-type"].to_str().expect("ascii").starts_with("text/html"));
    let weather = catalog.specs.iter().find(|s| s.name.to_lowercase().contains("weather")).expect("a weather spec");
    assert!(html.contains(&format!("href=\"/services/{}\"", weather.id)), "{html}");
    assert!(html.contains("name=\"network\" value=\"eip155:8453\""), "the network facet");

    // Blank form fields (a browser sends them) are ignored; an unknown network is a 400 page.
    let (status, _, _) = page(&format!("{base}/?q=&min_usd=&max_usd=&network=eip155:8453")).await;
    assert_eq!(status, 200);
    let (status, _, html) = page(&format!("{base}/?network=dogechain")).await;
    assert_eq!(status, 400);
    assert!(html.contains("dogechain") && html.contains("role=\"alert\""), "{html}");

    // Pages of 1 (limit) link to each other.
    let (_, _, first) = page(&format!("{base}/?limit=1&sort=newest")).await;
    assert!(first.contains("rel=\"next\""), "{first}");
    assert!(!first.contains("rel=\"prev\""));
}

#[tokio::test]
async fn a_network_filter_narrows_the_results() {
    let mut specs = relevance_specs();
    specs[0].offers = vec![POLYGON_USDC];
    let polygon = specs[0].clone();
    let catalog = Catalog::build(specs).await;
    catalog.search().flush().await.expect("flush");
    let base = serve(&catalog).await;
    let (_, _, html) = page(&format!("{base}/?network=polygon")).await;
    let listed: Vec<i64> =
        catalog.specs.iter().map(|s| s.id).filter(|id| html.contains(&format!("href=\"/services/{id}\""))).collect();
    let polygon_id = catalog.specs.iter().find(|s| s.path == polygon.path).expect("spec").id;
    assert_eq!(listed, vec![polygon_id], "only the Polygon service");
    assert!(html.contains("value=\"eip155:137\" checked"), "the chosen facet stays checked");
}

#[tokio::test]
async fn hostile_seller_text_is_escaped_on_every_page() {
    let hostile = ServiceSpec::new(
        "/evil",
        "<script>alert('name')</script>",
        &format!("<img src=x onerror=alert(1)> javascript:alert(2) {}", "A".repeat(20_000)),
        &["<b>tag</b>"],
        "q",
    );
    let catalog = Catalog::build(vec![hostile]).await;
    catalog.search().flush().await.expect("flush");
    let base = serve(&catalog).await;
    let id = catalog.specs[0].id;
    for path in ["/".to_string(), format!("/services/{id}"), format!("/status?url={}", catalog.url(&catalog.specs[0]))]
    {
        let (status, headers, html) = page(&format!("{base}{path}")).await;
        assert_eq!(status, 200, "{path}");
        assert!(!html.contains("<script>alert"), "{path}: unescaped script");
        assert!(!html.contains("<img src=x"), "{path}: unescaped markup");
        assert!(html.len() < 60_000, "{path}: huge seller text is clipped ({} bytes)", html.len());
        let csp = headers["content-security-policy"].to_str().expect("ascii");
        assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(headers["x-content-type-options"], "nosniff");
    }
    let (_, _, html) = page(&format!("{base}/services/{id}")).await;
    let h1 = html.split("<h1>").nth(1).and_then(|rest| rest.split("</h1>").next()).unwrap_or_default();
    assert!(h1.contains("&#60;script&#62;alert("), "the name, escaped: {h1}");
}

#[tokio::test]
async fn static_assets_are_served_from_the_binary_and_cached_for_good() {
    let catalog = Catalog::build(Vec::new()).await;
    let base = serve(&catalog).await;
    let (_, _, html) = page(&format!("{base}/about")).await;
    let assets: Vec<&str> = html.split("\"/static/").skip(1).filter_map(|rest| rest.split('"').next()).collect();
    assert_eq!(assets.len(), 4, "the icon, two stylesheets and htmx: {assets:?}");
    for asset in assets {
        let (status, headers, body) = page(&format!("{base}/static/{asset}")).await;
        assert_eq!(status, 200, "{asset}");
        assert_eq!(headers["cache-control"], "public, max-age=31536000, immutable");
        assert!(body.len() > 100, "{asset}");
    }
    // Nothing the page loads comes from elsewhere (plain links to other sites are fine).
    assert!(!html.contains("src=\"http"), "{html}");
    assert!(html.split("<link ").skip(1).all(|tag| tag.contains("href=\"/")), "{html}");
    let (status, _, html) = page(&format!("{base}/static/nope.js")).await;
    assert_eq!(status, 404);
    assert!(html.contains("<h1>Not found</h1>"));
    let (status, _, html) = page(&format!("{base}/no/such/page")).await;
    assert_eq!((status, html.contains("<h1>Not found</h1>")), (404, true), "browsers get the site's 404");
}

#[tokio::test]
async fn the_register_form_registers_then_shows_the_status_and_refuses_cross_site_posts() {
    let mut catalog = Catalog::build(Vec::new()).await;
    let spec = ServiceSpec::new("/fresh", "Fresh", "A new service", &[], "q");
    catalog.serve(&spec);
    let url = catalog.url(&spec);
    let base = serve(&catalog).await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");

    // A forged post from another site, as browsers label it: by Origin, or by Sec-Fetch-Site.
    for (header, value) in [("origin", "https://evil.example"), ("sec-fetch-site", "cross-site")] {
        let forged = client
            .post(format!("{base}/register"))
            .header(header, value)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[("url", url.as_str()), ("method", "GET")]))
            .send()
            .await
            .expect("post");
        assert_eq!(forged.status().as_u16(), 403, "{header}: {value}");
    }
    assert_eq!(agora::db::services::all(catalog.app.store.read()).await.expect("all").len(), 0, "nothing stored");

    let posted = client
        .post(format!("{base}/register"))
        .header("sec-fetch-site", "same-origin")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[("url", url.as_str()), ("method", "GET")]))
        .send()
        .await
        .expect("post");
    assert_eq!(posted.status().as_u16(), 303);
    let location = posted.headers()["location"].to_str().expect("ascii").to_string();
    assert!(location.starts_with("/status?") && location.contains("done=registered"), "{location}");
    let (status, _, html) = page(&format!("{base}{location}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("status-listed") && html.contains("Registered"), "{html}");

    let refused = client
        .post(format!("{base}/register"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[("url", "http://10.0.0.1/x")]))
        .send()
        .await
        .expect("post");
    assert_eq!(refused.status().as_u16(), 422);
    let html = refused.text().await.expect("body");
    assert!(html.contains("address_refused") && html.contains("value=\"http://10.0.0.1/x\""), "{html}");
    catalog.specs.clear();
}

#[tokio::test]
async fn a_rate_limited_browser_gets_the_sites_page_and_a_program_gets_the_problem() {
    use agora::http::limits::{HttpLimits, Rates};
    let catalog = Catalog::build(Vec::new()).await;
    let state = catalog.app.state.with_limits(HttpLimits { rates: Some(Rates::new(1, 1)), ..HttpLimits::default() });
    let base = crate::api::serve_state(state).await;
    assert_eq!(page(&format!("{base}/about")).await.0, 200);
    let (status, headers, html) = page(&format!("{base}/about")).await;
    assert_eq!(status, 429);
    assert!(headers["content-type"].to_str().expect("ascii").starts_with("text/html"));
    assert!(headers.contains_key("retry-after"));
    assert!(html.contains("<h1>Too many requests</h1>") && html.contains("retry in"), "{html}");
    let api = reqwest::Client::new().get(format!("{base}/api/v1/services")).header("accept", "text/html").send();
    let api = api.await.expect("get");
    assert_eq!(
        (api.status().as_u16(), api.headers()["content-type"].to_str().expect("ascii")),
        (429, "application/problem+json")
    );
}

#[tokio::test]
async fn the_status_page_rechecks_once_a_minute_however_many_ask() {
    let mut catalog = Catalog::build(relevance_specs()[..1].to_vec()).await;
    let base = serve(&catalog).await;
    let id = catalog.specs[0].id;
    let url = catalog.url(&catalog.specs[0]);
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let recheck = || {
        client
            .post(format!("{base}/status/recheck"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[("url", url.as_str()), ("method", "GET")]))
            .send()
    };
    let probes = || agora::db::history::probe_count(catalog.app.store.read(), id);

    // Just registered: the page says the result is current, and nothing is probed.
    let answer = recheck().await.expect("post");
    assert_eq!(answer.status().as_u16(), 303);
    assert!(answer.headers()["location"].to_str().expect("ascii").contains("done=too_soon"));
    assert_eq!(probes().await.expect("count"), 1);

    // The seller broke the endpoint; a minute on, four people press "re-check now" at once.
    catalog.set_reply(&catalog.specs[0].clone(), agora_crawler::testkit::Reply::new(500));
    catalog.clock.advance(std::time::Duration::from_secs(61));
    let answers = futures_util::future::join_all((0..4).map(|_| recheck())).await;
    let mut locations: Vec<String> = answers
        .into_iter()
        .map(|a| a.expect("post").headers()["location"].to_str().expect("ascii").to_string())
        .collect();
    locations.sort();
    assert!(locations[0].contains("done=rechecked") && locations[1..].iter().all(|l| l.contains("done=too_soon")));
    assert_eq!(probes().await.expect("count"), 2, "one probe for four presses");
    let (status, _, html) = page(&format!("{base}{}", locations[0])).await;
    assert_eq!(status, 200);
    assert!(html.contains("Checked again just now") && html.contains("What to fix"), "{html}");
    catalog.specs.clear();
}

#[tokio::test]
async fn a_rejected_service_says_why_once_and_what_to_fix() {
    let mut catalog = Catalog::build(Vec::new()).await;
    let spec = ServiceSpec::new("/free", "Free", "Not paid at all", &[], "q");
    catalog.serve(&spec);
    catalog.set_reply(&spec, agora_crawler::testkit::Reply::new(200));
    let url = catalog.url(&spec);
    let base = serve(&catalog).await;
    let posted = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .post(format!("{base}/register"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[("url", url.as_str())]))
        .send()
        .await
        .expect("post");
    assert_eq!(posted.status().as_u16(), 303, "stored, though not listed");
    let location = posted.headers()["location"].to_str().expect("ascii").to_string();
    let (_, _, status_page) = page(&format!("{base}{location}")).await;
    assert!(status_page.contains("status-rejected"), "{status_page}");

    let service = agora::db::services::all(catalog.app.store.read()).await.expect("all").remove(0);
    let reason = service.reason.clone().expect("a reason");
    let (status, _, html) = page(&format!("{base}/services/{}", service.id)).await;
    assert_eq!(status, 200);
    assert!(html.contains("Why it is rejected"), "{html}");
    let escaped = reason.replace('"', "&#34;").replace('\'', "&#39;");
    assert_eq!(html.matches(&escaped).count(), 1, "the reason, said once: {reason}\n{html}");
    catalog.specs.clear();
}

#[tokio::test]
async fn the_cached_search_page_follows_the_index() {
    let mut catalog = Catalog::build(relevance_specs()).await;
    catalog.search().flush().await.expect("flush");
    let base = serve(&catalog).await;
    let url = format!("{base}/?q=kangaroo");
    let (_, _, before) = page(&url).await;
    assert!(before.contains("<strong>0</strong> services"), "{before}");
    assert_eq!(page(&url).await.2, before, "the same snapshot: the same page");

    let id = catalog.add(ServiceSpec::new("/roo", "Kangaroo facts", "Marsupial trivia", &[], "q")).await;
    catalog.search().flush().await.expect("flush");
    let (_, _, after) = page(&url).await;
    assert!(after.contains(&format!("href=\"/services/{}\"", catalog.specs[id].id)), "{after}");

    let metrics = reqwest::get(format!("{base}/metrics")).await.expect("metrics").text().await.expect("body");
    let count = |outcome: &str| {
        let line = format!("agora_answer_cache_lookups_total{{cache=\"search_page\",outcome=\"{outcome}\"}} ");
        metrics.lines().find_map(|l| l.strip_prefix(line.as_str())?.parse::<u64>().ok())
    };
    assert_eq!((count("hit"), count("miss")), (Some(1), Some(2)), "{metrics}");
}

#[tokio::test]
async fn the_about_page_states_the_policy_this_server_runs() {
    let catalog = Catalog::build_with(Vec::new(), &["--degrade-after", "5", "--delist-after-hours", "48"]).await;
    let base = serve(&catalog).await;
    let (status, _, html) = page(&format!("{base}/about")).await;
    assert_eq!(status, 200);
    assert!(html.contains("5 failed checks in a row"), "the operator's --degrade-after: {html}");
    assert!(html.contains("failing for 2 days"), "the operator's --delist-after-hours: {html}");
}

#[tokio::test]
async fn a_never_listed_service_shows_every_problem_with_its_path_and_links_both_ways() {
    let catalog = Catalog::build(Vec::new()).await;
    let spec = relevance_specs()[0].clone();
    let url = catalog.url(&spec);
    let mut challenge = crate::catalog::challenge(&spec, &url);
    challenge["accepts"][0]["amount"] = "1.5".into();
    catalog.set_reply(&spec, agora_crawler::testkit::Reply::v2(&challenge));
    let registration = catalog.app.state.catalog.register(&url, None).await.expect("stored, rejected");
    assert_eq!(registration.state.service.status.as_str(), "rejected");
    let id = registration.state.service.id;
    let base = serve(&catalog).await;

    let (status, _, html) = page(&format!("{base}/services/{id}")).await;
    assert_eq!(status, 200);
    // The problem with its code, where, and its backticked names as code.
    assert!(
        html.contains("<code>amount_not_integer</code> at <code class=\"wrap\">accepts[0].amount</code>"),
        "{html}"
    );
    assert!(html.contains("<code>amount</code> &quot;1.5&quot; must be a whole number"), "{html}");
    assert!(!html.contains('`'), "no literal backticks: {html}");
    assert!(html.contains("Not listed yet") && !html.contains("No change since it was first listed"), "{html}");
    assert!(html.contains("/status?url="), "the service page links to its status page");
    let why = &html[html.find("<h2 id=\"why\">").expect("why")..];
    let why = &why[..why.find("</ul>").expect("list") + 5];
    insta::assert_snapshot!("service_why_rejected", why.replace(&url[..url.len() - spec.path.len()], "SELLER"));

    let encoded: String = url::form_urlencoded::byte_serialize(url.as_bytes()).collect();
    let (status, _, html) = page(&format!("{base}/status?url={encoded}")).await;
    assert_eq!(status, 200);
    assert!(html.contains(&format!("href=\"/services/{id}\"")), "the status page links to its service page: {html}");
    assert!(html.contains("at <code class=\"wrap\">accepts[0].amount</code>"), "{html}");

    // A refused local address tells an operator how to open a range; it reads as an error.
    let refused = reqwest::Client::new()
        .post(format!("{base}/register"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[("url", "http://10.0.0.1/x"), ("method", "GET")]))
        .send()
        .await
        .expect("post");
    assert_eq!(refused.status().as_u16(), 422);
    let html = refused.text().await.expect("body");
    assert!(html.contains("class=\"error\"") && html.contains("--allow-cidr"), "{html}");
}

#[tokio::test]
async fn the_search_page_keeps_good_filters_beside_a_bad_one_and_shares_clean_addresses() {
    let catalog = Catalog::build(relevance_specs()).await;
    catalog.search().flush().await.expect("flush");
    let base = serve(&catalog).await;
    // The home page says what it is.
    let (_, _, html) = page(&format!("{base}/")).await;
    assert!(html.contains("<h1") && html.contains("x402 APIs ask for a small stablecoin payment"), "{html}");
    // A bad network is named; the testnet filter beside it still applies.
    let (status, _, html) = page(&format!("{base}/?q=weather&network=dogechain&testnet=include")).await;
    assert_eq!(status, 400);
    assert!(html.contains("dogechain") && html.contains("showing the search without it"), "{html}");
    assert!(html.contains("<option value=\"include\" selected>"), "the other filter is kept: {html}");
    assert!(html.contains("href=\"/?q=weather\">Clear filters</a>"), "{html}");
    // Price buckets are links narrowing the same search.
    assert!(html.contains("max_usd=0.001") || html.contains("max_usd=0.01"), "bucket links: {html}");
    // Blank form fields are dropped from the address (a redirect to it).
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .get(format!("{base}/?q=weather&min_usd=&max_usd=&network=eip155%3A8453"))
        .send()
        .await
        .expect("get");
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(response.headers()["location"], "/?q=weather&network=eip155%3A8453");
}
