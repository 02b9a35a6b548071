//! The JSON API over a real HTTP server on 127.0.0.1:0, backed by a catalog built through real
//! sellers: answers equal the library search, and every error is a problem+json with a code.

use crate::catalog::{Catalog, relevance_specs};
use agora::AppState;
use agora::http::router;
use agora::search::SearchRequest;
use agora::search::results::search;
use serde_json::Value;

/// Serves the catalog's API; returns the base URL.
pub async fn serve(catalog: &Catalog) -> String {
    let state = catalog.app.state.clone();
    serve_state(state).await
}

/// Serves `state` on 127.0.0.1:0 through `agora serve`'s connection layer; returns the base URL.
pub async fn serve_state(state: AppState) -> String {
    serve_with(state, agora::http::server::ConnectionLimits::default()).await
}

/// Serves `state` with these connection limits; returns the base URL.
pub async fn serve_with(state: AppState, limits: agora::http::server::ConnectionLimits) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(agora::http::server::serve(listener, router(state), limits, std::future::pending()));
    base
}

async fn get(url: &str) -> (u16, String, Value) {
    let response = reqwest::get(url).await.expect("request");
    let status = response.status().as_u16();
    let content_type =
        response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let text = response.text().await.expect("body");
    (status, content_type, serde_json::from_str(&text).expect("a JSON body"))
}

#[tokio::test]
async fn search_answers_equal_the_library_and_carry_the_documented_fields() {
    let catalog = Catalog::build(relevance_specs()).await;
    catalog.search().flush().await.expect("flush");
    let base = serve(&catalog).await;
    for query in [
        "q=weather",
        "q=wether+forec",
        "network=base&network=solana&sort=price_asc",
        "testnet=include&limit=2&offset=1",
        "",
    ] {
        let (status, content_type, body) = get(&format!("{base}/api/v1/services?{query}")).await;
        assert_eq!(status, 200, "{query}: {body}");
        assert!(content_type.starts_with("application/json"), "{content_type}");
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        let request =
            SearchRequest::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())), &[]).expect("valid");
        let library = search(catalog.search(), catalog.app.store.read(), &request).await.expect("search");
        assert_eq!(body["total"], library.total, "{query}");
        let ids: Vec<i64> =
            body["hits"].as_array().expect("hits").iter().map(|h| h["id"].as_i64().expect("id")).collect();
        let expected: Vec<i64> = library.hits.iter().map(|h| h.service.id).collect();
        assert_eq!(ids, expected, "{query}");
        assert_eq!(body["limit"], request.limit as u64);
        assert_eq!(body["offset"], request.offset as u64);
        assert!(body["processing_ms"].is_number());
        for facet in ["network", "asset", "scheme", "version", "price"] {
            assert!(body["facets"][facet].is_array(), "{query}: facet {facet}");
        }
        for hit in body["hits"].as_array().expect("hits") {
            for field in ["id", "url", "method", "name", "description", "status", "offers", "matched", "last_listed_at"]
            {
                assert!(hit.get(field).is_some(), "{query}: hit without {field}: {hit}");
            }
            for offer in hit["offers"].as_array().expect("offers") {
                for field in ["scheme", "network", "asset", "amount", "decimals", "usd", "pay_to"] {
                    assert!(offer.get(field).is_some(), "offer without {field}: {offer}");
                }
            }
        }
    }
    let (_, _, body) = get(&format!("{base}/api/v1/services?q=weather")).await;
    assert!(body["hits"][0]["url"].as_str().expect("url").ends_with("/weather"), "{body}");
    assert!(!body["hits"][0]["matched"].as_array().expect("matched").is_empty());
}

#[tokio::test]
async fn bad_parameters_unknown_paths_and_methods_are_problems() {
    let catalog = Catalog::build(relevance_specs()[..2].to_vec()).await;
    let base = serve(&catalog).await;
    let long = "x".repeat(600);
    for (query, param) in [
        ("limit=1000", "limit"),
        ("limit=-1", "limit"),
        ("offset=99999999", "offset"),
        ("network=dogechain", "network"),
        ("asset=DOGE", "asset"),
        ("min_usd=abc", "min_usd"),
        ("min_usd=0.0000001", "min_usd"),
        ("sort=random", "sort"),
        ("status=rejected", "status"),
        ("bogus=1", "bogus"),
        ("limit=1&limit=2", "limit"),
        (&format!("q={long}"), "q"),
    ] {
        let (status, content_type, body) = get(&format!("{base}/api/v1/services?{query}")).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(content_type, "application/problem+json");
        assert_eq!(body["code"], "invalid_parameter", "{query}");
        assert_eq!(body["type"], "urn:agora:problem:invalid_parameter");
        assert_eq!(body["status"], 400);
        assert_eq!(body["param"], param, "{query}: {body}");
        assert!(!body["detail"].as_str().expect("detail").is_empty());
    }
    let (status, content_type, body) = get(&format!("{base}/api/v1/nothing-here")).await;
    assert_eq!((status, content_type.as_str()), (404, "application/problem+json"));
    assert_eq!(body["code"], "not_found");
    let response = reqwest::Client::new().delete(format!("{base}/api/v1/services")).send().await.expect("request");
    assert_eq!(response.status().as_u16(), 405);
    let body: Value = serde_json::from_str(&response.text().await.expect("body")).expect("JSON");
    assert_eq!(body["code"], "method_not_allowed");
}

#[tokio::test]
async fn service_detail_has_history_uptime_latency_and_the_latest_report() {
    let mut catalog = Catalog::build(relevance_specs()[..2].to_vec()).await;
    let base = serve(&catalog).await;
    // A price change one hour later, then a failing probe.
    catalog.specs[0].offers[0].amount = 250_000;
    let spec = catalog.specs[0].clone();
    catalog.serve(&spec);
    catalog.clock.advance(std::time::Duration::from_secs(3600));
    catalog.reprobe(0).await;
    catalog.set_reply(&spec, agora_crawler::testkit::Reply::new(500));
    catalog.clock.advance(std::time::Duration::from_secs(3600));
    catalog.reprobe(0).await;

    let (status, _, body) = get(&format!("{base}/api/v1/services/{}", spec.id)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], spec.id);
    assert!(body["url"].as_str().expect("url").ends_with(&spec.path));
    assert_eq!(body["offers"][0]["amount"], "250000", "offers of the last valid challenge");
    assert_eq!(body["discovery"]["service_name"], spec.name.as_str());
    assert!(body["discovery"]["input"].is_object(), "{}", body["discovery"]);
    assert_eq!(body["report"]["verdict"], "fetch_error", "the latest probe's report: {}", body["report"]);
    for window in ["24h", "7d", "30d"] {
        assert_eq!(body["uptime"][window]["probes"], 3, "{window}: {}", body["uptime"]);
        assert_eq!(body["uptime"][window]["successes"], 2, "{window}");
    }
    assert_eq!(body["latency"]["samples"], 3);
    assert!(body["latency"]["p50_ms"].as_f64().expect("p50") >= 0.0);
    let probes = body["recent_probes"].as_array().expect("probes");
    assert_eq!(probes.len(), 3);
    assert_eq!(probes[0]["http_status"], 500, "newest first");
    assert_eq!(probes[2]["verdict"], "listed");
    let price: Vec<&Value> =
        body["offer_changes"].as_array().expect("changes").iter().filter(|c| c["kind"] == "price").collect();
    assert_eq!(price.len(), 1, "{}", body["offer_changes"]);
    assert_eq!((price[0]["old_value"].as_str(), price[0]["new_value"].as_str()), (Some("1000"), Some("250000")));
    let statuses: Vec<&str> = body["status_changes"]
        .as_array()
        .expect("status changes")
        .iter()
        .map(|c| c["new_status"].as_str().expect("status"))
        .collect();
    assert_eq!(statuses, ["pending", "listed"], "one failure does not degrade yet");

    for (path, status, code) in [
        ("999999", 404, "not_found"),
        ("abc", 400, "invalid_parameter"),
        ("0", 400, "invalid_parameter"),
        ("-5", 400, "invalid_parameter"),
        ("%FF", 400, "invalid_parameter"),
    ] {
        let (got, content_type, body) = get(&format!("{base}/api/v1/services/{path}")).await;
        assert_eq!((got, content_type.as_str()), (status, "application/problem+json"), "{path}: {body}");
        assert_eq!(body["code"], code, "{path}");
    }
}

async fn post(url: &str, body: &str, content_type: Option<&str>) -> (u16, String, Value) {
    let mut request = reqwest::Client::new().post(url).body(body.to_string());
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let content_type =
        response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let text = response.text().await.expect("body");
    (status, content_type, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

async fn service_count(catalog: &Catalog) -> usize {
    agora::db::services::all(catalog.app.store.read()).await.expect("services").len()
}

#[tokio::test]
async fn registration_lookup_refusals_bad_bodies_and_concurrent_duplicates() {
    let catalog = Catalog::build(relevance_specs()[..1].to_vec()).await;
    let base = serve(&catalog).await;
    let endpoint = format!("{base}/api/v1/services");
    // Served by a seller but not registered yet.
    let mut spec = relevance_specs()[1].clone();
    spec.path = "/fresh".into();
    catalog.serve(&spec);
    let url = catalog.url(&spec);

    // Lookup before registering: a fresh probe, nothing stored.
    let before = service_count(&catalog).await;
    let lookup = format!("{base}/api/v1/services/lookup?url={}", urlencode(&url));
    let (status, _, body) = get(&lookup).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["registered"], false);
    assert_eq!(body["report"]["verdict"], "listed", "{body}");
    assert_eq!(service_count(&catalog).await, before, "a lookup stores nothing");

    // Many registrations of the same URL at once: one service.
    let json = serde_json::json!({ "url": url }).to_string();
    let tasks: Vec<_> = (0..12)
        .map(|_| {
            let (endpoint, json) = (endpoint.clone(), json.clone());
            tokio::spawn(async move { post(&endpoint, &json, Some("application/json")).await })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.expect("task"));
    }
    let created = answers.iter().filter(|(status, _, _)| *status == 201).count();
    assert_eq!(created, 1, "{answers:?}");
    assert!(answers.iter().all(|(status, _, _)| *status == 201 || *status == 200), "{answers:?}");
    let ids: std::collections::BTreeSet<i64> = answers.iter().map(|(_, _, b)| b["id"].as_i64().expect("id")).collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(service_count(&catalog).await, before + 1);
    // Waiters share probes, not one each: callers arriving while a probe runs wait on one
    // follow-up. (Not "at most two": on a loaded machine the twelve arrive spread over several
    // probes, and one arriving while the follow-up runs queues the next — CI saw three.)
    let id = *ids.first().expect("id");
    let probes = agora::db::history::probe_count(catalog.app.store.read(), id).await.expect("count");
    assert!((1..=6).contains(&probes), "{probes} probes for 12 concurrent registrations");
    let (_, content_type, body) = &answers[0];
    assert!(content_type.starts_with("application/json"));
    assert_eq!(body["status"], "listed");
    assert_eq!(body["report"]["verdict"], "listed");
    assert_eq!(body["offers"][0]["network"], "eip155:8453");

    // Lookup after: the stored service and its latest report.
    let (status, _, body) = get(&lookup).await;
    assert_eq!((status, &body["registered"]), (200, &Value::Bool(true)));
    assert_eq!(body["service"]["id"], *ids.first().expect("id"));
    assert_eq!(body["service"]["report"]["verdict"], "listed");

    // Refusals and bad bodies: clear problems, nothing stored.
    let stored = service_count(&catalog).await;
    for (body, content_type, status, code) in [
        (r#"{"url":"http://10.1.2.3/api"}"#, Some("application/json"), 422, "registration_refused"),
        (r#"{"url":"http://169.254.169.254/latest/meta-data"}"#, Some("application/json"), 422, "registration_refused"),
        (r#"{"url":"ftp://example.com/x"}"#, Some("application/json"), 422, "registration_refused"),
        (r#"{"url":"not a url"}"#, Some("application/json"), 422, "registration_refused"),
        (r#"{"url":"http://127.0.0.1/x","method":"TRACE"}"#, Some("application/json"), 422, "registration_refused"),
        (r#"{"url": 5}"#, Some("application/json"), 422, "invalid_body"),
        (r#"{"url":"http://127.0.0.1/x","extra":1}"#, Some("application/json"), 422, "invalid_body"),
        ("{", Some("application/json"), 400, "invalid_body"),
        (r#"{"url":"http://127.0.0.1/x"}"#, None, 415, "invalid_body"),
    ] {
        let (got, content_type, answer) = post(&endpoint, body, content_type).await;
        assert_eq!((got, content_type.as_str()), (status, "application/problem+json"), "{body}: {answer}");
        assert_eq!(answer["code"], code, "{body}");
        if code == "registration_refused" {
            assert!(!answer["reasons"].as_array().expect("reasons").is_empty(), "{answer}");
        }
    }
    assert_eq!(service_count(&catalog).await, stored, "nothing stored by refusals");
    // A lookup probes under the crawler's rules: the seller's robots.txt is obeyed (on the second
    // seller, whose robots.txt nothing has read yet).
    let mut robots = relevance_specs()[0].clone();
    robots.seller = 1;
    robots.path = "/robots.txt".into();
    catalog.set_reply(&robots, agora_crawler::testkit::Reply::new(200).body("User-agent: *\nDisallow: /private\n"));
    let mut private = relevance_specs()[0].clone();
    private.seller = 1;
    private.path = "/private/api".into();
    catalog.serve(&private);
    let blocked = format!("{base}/api/v1/services/lookup?url={}", urlencode(&catalog.url(&private)));
    let (status, _, body) = get(&blocked).await;
    assert_eq!((status, &body["registered"]), (200, &Value::Bool(false)), "{body}");
    assert_eq!(body["report"]["problems"][0]["code"], "robots_disallowed", "{body}");
    assert_eq!(service_count(&catalog).await, stored);
    for (query, param) in
        [("", "url"), ("url=not%20a%20url", "url"), ("url=http://example.com/&method=TRACE", "method")]
    {
        let (status, _, body) = get(&format!("{base}/api/v1/services/lookup?{query}")).await;
        assert_eq!((status, &body["param"]), (400, &Value::from(param)), "{query}: {body}");
    }
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[tokio::test]
async fn recrawl_probes_now_then_asks_to_wait() {
    let mut catalog = Catalog::build(relevance_specs()[..1].to_vec()).await;
    let base = serve(&catalog).await;
    let id = catalog.specs[0].id;
    let recrawl = format!("{base}/api/v1/services/{id}/recrawl");
    // Just registered: too soon.
    let response = reqwest::Client::new().post(&recrawl).send().await.expect("request");
    assert_eq!(response.status().as_u16(), 429);
    let retry: u64 = response.headers()["retry-after"].to_str().expect("ascii").parse().expect("seconds");
    assert!((1..=60).contains(&retry), "{retry}");
    let body: Value = serde_json::from_str(&response.text().await.expect("body")).expect("JSON");
    assert_eq!(body["code"], "recrawl_too_soon");

    // The seller fixed a price; a minute later the recrawl shows it at once.
    catalog.specs[0].offers[0].amount = 5_000;
    let spec = catalog.specs[0].clone();
    catalog.serve(&spec);
    catalog.clock.advance(std::time::Duration::from_secs(61));
    let (status, _, body) = post(&recrawl, "", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["offers"][0]["amount"], "5000");
    assert_eq!(body["report"]["verdict"], "listed");
    let probes = agora::db::history::probe_count(catalog.app.store.read(), id).await.expect("count");
    assert_eq!(probes, 2);
    // And again right away: refused, nothing probed.
    let (status, _, _) = post(&recrawl, "", None).await;
    assert_eq!(status, 429);
    assert_eq!(agora::db::history::probe_count(catalog.app.store.read(), id).await.expect("count"), 2);

    let (status, _, body) = post(&format!("{base}/api/v1/services/424242/recrawl"), "", None).await;
    assert_eq!((status, &body["code"]), (404, &Value::from("not_found")));
}

#[tokio::test]
async fn changes_feed_pages_by_cursor_and_export_streams_every_listed_service() {
    let mut catalog = Catalog::build(relevance_specs()[..3].to_vec()).await;
    let base = serve(&catalog).await;
    catalog.specs[1].offers[0].amount = 7_000;
    let spec = catalog.specs[1].clone();
    catalog.serve(&spec);
    catalog.clock.advance(std::time::Duration::from_secs(60));
    let price_time = catalog.clock_now();
    catalog.reprobe(1).await;

    let (status, _, all) = get(&format!("{base}/api/v1/changes?limit=500")).await;
    assert_eq!(status, 200, "{all}");
    let events = all["events"].as_array().expect("events");
    let kinds: Vec<(i64, &str)> =
        events.iter().map(|e| (e["service_id"].as_i64().expect("id"), e["kind"].as_str().expect("kind"))).collect();
    for spec in &catalog.specs {
        let mine: Vec<&str> = kinds.iter().filter(|(id, _)| *id == spec.id).map(|(_, k)| *k).collect();
        let expected: &[&str] = if spec.id == catalog.specs[1].id {
            &["registered", "listed", "price_changed"]
        } else {
            &["registered", "listed"]
        };
        assert_eq!(mine, expected, "{}", spec.path);
    }
    let price = events.iter().find(|e| e["kind"] == "price_changed").expect("price event");
    assert_eq!((price["old_value"].as_str(), price["new_value"].as_str()), (Some("1000"), Some("7000")));
    assert_eq!(price["offer"]["network"], "eip155:8453");
    assert_eq!(price["at"], price_time);
    assert_eq!(all["more"], false);

    // Pages of two, by cursor, give the same events; an empty page keeps the cursor.
    let mut walked = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{base}/api/v1/changes?limit=2&cursor={c}"),
            None => format!("{base}/api/v1/changes?limit=2"),
        };
        let (status, _, page) = get(&url).await;
        assert_eq!(status, 200, "{page}");
        let got = page["events"].as_array().expect("events").clone();
        let next = page["next_cursor"].as_str().expect("cursor").to_string();
        if got.is_empty() {
            assert_eq!(Some(&next), cursor.as_ref(), "an empty page keeps the cursor");
            break;
        }
        walked.extend(got);
        cursor = Some(next);
    }
    assert_eq!(&walked, events);
    let (_, _, since) = get(&format!("{base}/api/v1/changes?since={price_time}")).await;
    let since_kinds: Vec<&str> =
        since["events"].as_array().expect("events").iter().map(|e| e["kind"].as_str().expect("kind")).collect();
    assert_eq!(since_kinds, ["price_changed"]);
    for (query, param) in [
        ("cursor=zzz", "cursor"),
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("since=1&cursor=1.0.0", "since"),
        ("since=soon", "since"),
        ("page=2", "page"),
        ("limit=1&limit=2", "limit"),
    ] {
        let (status, content_type, body) = get(&format!("{base}/api/v1/changes?{query}")).await;
        assert_eq!((status, content_type.as_str()), (400, "application/problem+json"), "{query}");
        assert_eq!(body["param"], param, "{query}: {body}");
    }

    let response = reqwest::get(format!("{base}/api/v1/export.ndjson")).await.expect("export");
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["content-type"], "application/x-ndjson");
    let text = response.text().await.expect("body");
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect();
    let ids: Vec<i64> = lines.iter().map(|l| l["id"].as_i64().expect("id")).collect();
    let mut expected: Vec<i64> = catalog.specs.iter().map(|s| s.id).collect();
    expected.sort_unstable();
    assert_eq!(ids, expected);
    assert!(lines.iter().all(|l| l["status"] == "listed" && !l["offers"].as_array().expect("offers").is_empty()));
    assert_eq!(lines.iter().find(|l| l["id"] == catalog.specs[1].id).expect("repriced")["offers"][0]["amount"], "7000");
}

#[tokio::test]
async fn rate_limits_proxies_request_ids_compression_cors_body_limit_and_deadline() {
    use agora::http::limits::{HttpLimits, Rates};
    let catalog = Catalog::build(relevance_specs()[..2].to_vec()).await;
    let state = |rates: Option<Rates>, proxies: &[&str], timeout_ms: u64| {
        catalog.app.state.with_limits(HttpLimits {
            rates,
            trusted_proxies: proxies.iter().map(|p| p.parse().expect("cidr")).collect(),
            request_timeout: std::time::Duration::from_millis(timeout_ms),
            ..HttpLimits::default()
        })
    };
    let client = reqwest::Client::builder().no_gzip().build().expect("client");

    // 5 reads a minute: the sixth is a 429 with Retry-After; /healthz is never limited.
    let base = serve_state(state(Some(Rates::new(5, 2)), &[], 30_000)).await;
    for _ in 0..5 {
        assert_eq!(client.get(format!("{base}/api/v1/services")).send().await.expect("get").status().as_u16(), 200);
    }
    let limited = client.get(format!("{base}/api/v1/services")).send().await.expect("get");
    assert_eq!(limited.status().as_u16(), 429);
    assert!(limited.headers()["retry-after"].to_str().expect("ascii").parse::<u64>().expect("seconds") >= 1);
    let body: Value = serde_json::from_str(&limited.text().await.expect("body")).expect("JSON");
    assert_eq!(body["code"], "rate_limited");
    assert_eq!(client.get(format!("{base}/healthz")).send().await.expect("get").status().as_u16(), 200);
    // Writes have their own budget (2 an hour), counted before the body is even read.
    for expected in [422, 422, 429] {
        let response = client
            .post(format!("{base}/api/v1/services"))
            .header("content-type", "application/json")
            .body(r#"{"url": 1}"#)
            .send();
        assert_eq!(response.await.expect("post").status().as_u16(), expected);
    }
    // A forwarded address is somebody's claim unless the peer is a trusted proxy.
    let spoofed = client.get(format!("{base}/api/v1/services")).header("x-forwarded-for", "198.51.100.1");
    assert_eq!(spoofed.send().await.expect("get").status().as_u16(), 429, "not a trusted proxy: same budget");
    let proxied = serve_state(state(Some(Rates::new(1, 1)), &["127.0.0.0/8"], 30_000)).await;
    for client_ip in ["198.51.100.1", "198.51.100.2"] {
        let request = client.get(format!("{proxied}/api/v1/services")).header("x-forwarded-for", client_ip);
        assert_eq!(request.send().await.expect("get").status().as_u16(), 200, "{client_ip} has its own budget");
    }
    let again = client.get(format!("{proxied}/api/v1/services")).header("x-forwarded-for", "198.51.100.1");
    assert_eq!(again.send().await.expect("get").status().as_u16(), 429);

    // No limits: request ids, compression, CORS, the body limit.
    let open = serve_state(state(None, &[], 30_000)).await;
    let response =
        client.get(format!("{open}/api/v1/services")).header("accept-encoding", "gzip").send().await.expect("get");
    assert_eq!(response.headers()["content-encoding"], "gzip");
    assert!(response.headers().contains_key("x-request-id"));
    let echoed = client.get(format!("{open}/healthz")).header("x-request-id", "trace-me-42").send().await.expect("get");
    assert_eq!(echoed.headers()["x-request-id"], "trace-me-42");
    let cors = client.get(format!("{open}/api/v1/services")).header("origin", "https://elsewhere.example").send();
    assert_eq!(cors.await.expect("get").headers()["access-control-allow-origin"], "*");
    let big = serde_json::json!({ "url": format!("http://127.0.0.1/{}", "x".repeat(20_000)) }).to_string();
    let (status, content_type, body) = post(&format!("{open}/api/v1/services"), &big, Some("application/json")).await;
    assert_eq!((status, content_type.as_str()), (413, "application/problem+json"), "{body}");
    assert_eq!(body["code"], "invalid_body");

    // The deadline: a registration whose seller drips its answer is stopped with a 503.
    let mut slow = relevance_specs()[3].clone();
    slow.path = "/slow".into();
    catalog.set_reply(
        &slow,
        agora_crawler::testkit::Reply::new(402).drip(b" ", std::time::Duration::from_millis(300), 20),
    );
    let hurried = serve_state(state(None, &[], 500)).await;
    let json = serde_json::json!({ "url": catalog.url(&slow) }).to_string();
    let (status, _, body) = post(&format!("{hurried}/api/v1/services"), &json, Some("application/json")).await;
    assert_eq!((status, &body["code"]), (503, &Value::from("timeout")), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_streams_a_catalog_larger_than_one_batch_once_each() {
    // Export reads 500 services per batch: 1,203 listed services take three batches, the last partial.
    let catalog = Catalog::build(crate::catalog::random_specs(1_203, 11)).await;
    let base = serve(&catalog).await;
    let response = reqwest::get(format!("{base}/api/v1/export.ndjson")).await.expect("export");
    assert_eq!(response.status().as_u16(), 200);
    let text = response.text().await.expect("body");
    let ids: Vec<i64> = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("a JSON line")["id"].as_i64().expect("id"))
        .collect();
    let mut expected: Vec<i64> = catalog.specs.iter().map(|s| s.id).collect();
    expected.sort_unstable();
    assert_eq!(ids.len(), 1_203);
    assert_eq!(ids, expected, "every listed service once, in id order, across batch edges");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_recrawls_of_one_service_run_one_probe() {
    let catalog = Catalog::build(relevance_specs()[..1].to_vec()).await;
    let base = serve(&catalog).await;
    let probes = |detail: &Value| detail["recent_probes"].as_array().expect("probes").len();
    let (_, _, before) = get(&format!("{base}/api/v1/services/1")).await;
    catalog.clock.advance(std::time::Duration::from_secs(120));
    let client = reqwest::Client::new();
    let asks = (0..8).map(|_| client.post(format!("{base}/api/v1/services/1/recrawl")).send());
    let answers = futures_util::future::join_all(asks).await;
    let mut ok = 0;
    for answer in answers {
        let answer = answer.expect("answer");
        match answer.status().as_u16() {
            200 => ok += 1,
            429 => {
                let body: Value = serde_json::from_str(&answer.text().await.expect("body")).expect("json");
                assert_eq!(body["code"], "recrawl_too_soon");
            }
            other => panic!("recrawl answered {other}"),
        }
    }
    assert_eq!(ok, 1, "one recrawl is granted, the others answer recrawl_too_soon");
    let (_, _, after) = get(&format!("{base}/api/v1/services/1")).await;
    let ran = probes(&after) - probes(&before);
    assert_eq!(ran, 1, "8 concurrent recrawls ran {ran} probes");
}

#[tokio::test]
async fn a_cached_detail_follows_this_servers_writes_at_once() {
    let catalog = Catalog::build(relevance_specs()).await;
    let base = serve(&catalog).await;
    let (status, _, first) = get(&format!("{base}/api/v1/services/1")).await;
    assert_eq!(status, 200);
    let (_, _, again) = get(&format!("{base}/api/v1/services/1")).await;
    assert_eq!(first, again, "no write in between: the same answer");
    catalog.clock.advance(std::time::Duration::from_secs(120));
    let recrawl = reqwest::Client::new().post(format!("{base}/api/v1/services/1/recrawl")).send().await.expect("post");
    assert_eq!(recrawl.status(), 200);
    let (_, _, after) = get(&format!("{base}/api/v1/services/1")).await;
    let probes = |detail: &Value| detail["recent_probes"].as_array().expect("probes").len();
    assert_eq!(probes(&after), probes(&first) + 1, "the recrawl's probe is in the next answer");
    assert_ne!(after["last_probed_at"], first["last_probed_at"]);
}

#[tokio::test]
async fn a_cached_search_follows_the_index_once_it_applies_a_change() {
    let mut catalog = Catalog::build(relevance_specs()).await;
    catalog.search().flush().await.expect("flush");
    let base = serve(&catalog).await;
    let url = format!("{base}/api/v1/services?q=weather&sort=price_desc");
    let price = |answer: &Value, id: i64| {
        let hit = answer["hits"].as_array().expect("hits").iter().find(|h| h["id"] == id).cloned();
        hit.map(|h| h["offers"][0]["amount"].clone())
    };
    let (status, _, first) = get(&url).await;
    assert_eq!(status, 200, "{first}");
    let id = first["hits"][0]["id"].as_i64().expect("a weather hit");
    let (_, _, again) = get(&url).await;
    assert_eq!(again["hits"], first["hits"], "the same snapshot: the same answer");
    for answer in [&first, &again] {
        // Each request's own time, spliced into the cached JSON.
        assert!(answer["processing_ms"].as_f64().is_some_and(|ms| ms >= 0.0), "{}", answer["processing_ms"]);
    }

    let index = catalog.specs.iter().position(|s| s.id == id).expect("the spec");
    catalog.specs[index].offers[0].amount = 9_000_000;
    let spec = catalog.specs[index].clone();
    catalog.serve(&spec);
    catalog.clock.advance(std::time::Duration::from_secs(3600));
    catalog.reprobe(index).await;
    catalog.search().flush().await.expect("flush");
    let (_, _, after) = get(&url).await;
    assert_eq!(price(&after, id), Some(Value::from("9000000")), "the new price, not the cached one: {after}");
    assert_eq!(after["hits"][0]["id"], id, "still first by price, descending");
}
