//! Importing sources: a real facilitator list (another Agora's own Bazaar `/discovery/resources`,
//! the official shape the SDK clients read) fills an empty catalog, every URL registered and
//! probed, with the source's claims kept as provenance; a list file does the same; and a hostile
//! facilitator — looping pagination, private and non-HTTP URLs, an oversized page — is bounded
//! and reported, never fatal.

use crate::api::serve;
use crate::catalog::{Catalog, relevance_specs};
use crate::support::{T0, loopback_options, open_app};
use agora::clock::ManualClock;
use agora::db::sources;
use agora::sources::{ImportError, SourceKind, import};
use agora_crawler::testkit::{Reply, Request, Seller};
use serde_json::{Value, json};
use std::net::IpAddr;

fn facilitator_page(items: Vec<Value>, total: usize) -> Reply {
    let body = json!({"x402Version": 2, "items": items, "pagination": {"limit": 100, "offset": 0, "total": total}});
    Reply::new(200).header("content-type", "application/json").body(body.to_string())
}

#[tokio::test]
async fn a_facilitator_list_fills_an_empty_catalog_with_probed_services_and_provenance() {
    let upstream = Catalog::build(relevance_specs()).await;
    let facilitator = serve(&upstream).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = ManualClock::new(T0);
    let app = open_app(&loopback_options(dir.path()), &clock).await;

    let summary = import(&app.dispatcher, SourceKind::Facilitator, &facilitator).await.expect("imports");
    let n = upstream.specs.len();
    // The weather seller raises its price after the facilitator listed it: the probe decides.
    let weather = upstream.specs.iter().find(|s| s.path == "/weather").expect("weather").clone();
    let mut raised = crate::catalog::challenge(&weather, &upstream.url(&weather));
    raised["accepts"][0]["amount"] = json!("5000");
    upstream.set_reply(&weather, Reply::v2(&raised));
    assert_eq!((summary.found, summary.new, summary.known, summary.refused), (n, n, 0, 0), "{summary:?}");
    assert_eq!(summary.stopped, None);
    // Nothing is believed before a probe: each service is probed like a registration.
    for service in &summary.services {
        let probed = app.dispatcher.probe_now(service.clone()).await.expect("probed");
        assert_eq!(probed.recorded.status.as_str(), "listed", "{}", service.url);
    }
    let first = &summary.services[0];
    let provenance = sources::of_service(app.store.read(), first.id).await.expect("provenance");
    assert_eq!(provenance.len(), 1);
    let mention = &provenance[0];
    assert_eq!(
        (mention.source_id, mention.kind.as_str(), mention.location.as_str()),
        (summary.source_id, "facilitator", facilitator.as_str())
    );
    assert_eq!(mention.claim.as_ref().and_then(|c| c.usd.as_deref()), Some("0.001"), "what the facilitator claimed");

    // Searchable by source; the detail shows the provenance and where the probe disagrees.
    app.search.flush().await.expect("flush");
    let base = crate::api::serve_state(app.state.clone()).await;
    let get = |path: String| {
        let url = format!("{base}{path}");
        async move { reqwest::get(url).await.expect("get").json::<Value>().await.expect("json") }
    };
    let by_source = get(format!("/api/v1/services?source={}&limit=100", summary.source_id)).await;
    assert_eq!(by_source["total"], json!(n), "{by_source}");
    let none = get("/api/v1/services?source=999".to_string()).await;
    assert_eq!(none["total"], 0);
    let weather_id = summary.services.iter().find(|s| s.url == upstream.url(&weather)).expect("imported").id;
    let detail = get(format!("/api/v1/services/{weather_id}")).await;
    let mention = &detail["sources"][0];
    assert_eq!(mention["kind"], "facilitator");
    assert_eq!(mention["claim"]["usd"], "0.001");
    assert_eq!(mention["disagreement"], "The source lists $0.001; the endpoint asks $0.005.", "{mention}");
    let changes = get("/api/v1/changes?limit=500".to_string()).await;
    let by_source: Vec<&Value> =
        changes["events"].as_array().expect("events").iter().filter(|e| e["kind"] == "listed_by_source").collect();
    assert_eq!(by_source.len(), n, "the feed says which source listed each service");
    assert_eq!(by_source[0]["new_value"], format!("facilitator {facilitator}"));
    let page = reqwest::get(format!("{base}/services/{weather_id}")).await.expect("get").text().await.expect("html");
    assert!(page.contains("Listed by") && page.contains("The source lists $0.001; the endpoint asks $0.005."));
    let client = crate::mcp::connect(&base).await;
    let found = crate::mcp::call(&client, "search_services", json!({"source": summary.source_id, "limit": 100})).await;
    assert_eq!(found.structured_content.expect("structured")["total"], json!(n));
    client.cancel().await.expect("close");

    // A second run finds the same services again: known, not new; the source is one row.
    let again = import(&app.dispatcher, SourceKind::Facilitator, &facilitator).await.expect("imports");
    assert_eq!((again.new, again.known, again.source_id), (0, n, summary.source_id));
    let stored = sources::all(app.store.read()).await.expect("sources");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].last_outcome.as_deref(), Some("ok"));
    assert_eq!(stored[0].last_counts.as_ref().map(|c| c["found"].clone()), Some(json!(n)));
    app.shutdown().await;
}

#[tokio::test]
async fn sources_are_added_over_the_api_imported_in_the_background_and_listed() {
    let upstream = Catalog::build(relevance_specs()[..3].to_vec()).await;
    let facilitator = serve(&upstream).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = ManualClock::new(T0);
    let app = open_app(&loopback_options(dir.path()), &clock).await;
    let base = crate::api::serve_state(app.state.clone()).await;
    let client = reqwest::Client::new();
    let post = |body: Value| client.post(format!("{base}/api/v1/sources")).json(&body).send();

    let added = post(json!({"location": facilitator})).await.expect("post");
    assert_eq!(added.status().as_u16(), 202);
    let added: Value = added.json().await.expect("json");
    assert_eq!((added["kind"].as_str(), added["location"].as_str()), (Some("facilitator"), Some(facilitator.as_str())));
    let id = added["id"].as_i64().expect("an id");
    app.state.catalog.source_finished(id).await;
    let one: Value =
        reqwest::get(format!("{base}/api/v1/sources/{id}")).await.expect("get").json().await.expect("json");
    assert_eq!((one["running"].as_bool(), one["last_outcome"].as_str()), (Some(false), Some("ok")), "{one}");
    assert_eq!(one["last_counts"]["found"], 3);
    let all: Value = reqwest::get(format!("{base}/api/v1/sources")).await.expect("get").json().await.expect("json");
    assert_eq!(all["sources"].as_array().map(Vec::len), Some(1));
    let stored = agora::db::services::all(app.store.read()).await.expect("services");
    assert_eq!(stored.len(), 3, "every listed URL registered");

    let page = reqwest::get(format!("{base}/sources")).await.expect("get").text().await.expect("html");
    assert!(page.contains(&facilitator) && page.contains("3 found, 3 new"), "the sources page");
    assert!(page.contains(&format!(r#"href="/?source={id}""#)), "links to its services");

    // A file path is not a source anyone may add over HTTP; an unknown id is a 404.
    let file = post(json!({"location": "/etc/passwd"})).await.expect("post");
    assert_eq!(file.status().as_u16(), 400);
    let problem: Value = file.json().await.expect("json");
    assert_eq!(problem["param"], "location");
    let wrong = post(json!({"location": facilitator, "kind": "dns"})).await.expect("post");
    assert_eq!(wrong.status().as_u16(), 422, "an unknown kind is a bad body");
    assert_eq!(reqwest::get(format!("{base}/api/v1/sources/99")).await.expect("get").status().as_u16(), 404);

    // The operator can close adding sources.
    let closed = crate::api::serve_state(agora::AppState { public_sources: false, ..app.state.clone() }).await;
    let refused = client.post(format!("{closed}/api/v1/sources")).json(&json!({"location": facilitator})).send().await;
    let refused = refused.expect("post");
    assert_eq!(refused.status().as_u16(), 403);
    let problem: Value = refused.json().await.expect("json");
    assert_eq!(problem["code"], "sources_closed");
    app.shutdown().await;
}

#[tokio::test]
async fn sources_are_reimported_on_schedule_and_back_off_after_failures() {
    let upstream = Catalog::build(relevance_specs()[..2].to_vec()).await;
    let facilitator = serve(&upstream).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = ManualClock::new(T0);
    let app = open_app(&loopback_options(dir.path()), &clock).await;
    let catalog = &app.state.catalog;
    let first = import(&app.dispatcher, SourceKind::Facilitator, &facilitator).await.expect("imports");
    assert_eq!(catalog.run_due_sources().await.expect("due"), 0, "just ran");

    // Six hours on, it runs again and sees a third seller the facilitator lists since.
    let mut upstream = upstream;
    upstream.add(relevance_specs()[2].clone()).await;
    clock.advance(std::time::Duration::from_secs(6 * 3600));
    assert_eq!(catalog.run_due_sources().await.expect("due"), 1);
    catalog.source_finished(first.source_id).await;
    let source = catalog.source(first.source_id).await.expect("read").expect("stored");
    assert_eq!(
        source.row.last_counts.as_ref().map(|c| (c["found"].clone(), c["new"].clone())),
        Some((json!(3), json!(1)))
    );

    // A source that fails waits twice as long after each failure (12 h, then 24 h).
    let gone = Seller::start(IpAddr::from([127, 0, 0, 73]), |_: &Request| Reply::new(500)).await.expect("seller");
    let failing = import(&app.dispatcher, SourceKind::Facilitator, &gone.url("")).await;
    assert!(matches!(failing, Err(ImportError::Unreadable(_))));
    let id = sources::all(app.store.read()).await.expect("sources").last().expect("the failing one").id;
    let next_run = |app: &agora::App| {
        let pool = app.store.read().clone();
        async move {
            agora::on_pool!(&pool, |p| sqlx::query_scalar::<_, i64>("SELECT next_run_at FROM sources WHERE id = $1")
                .bind(id)
                .fetch_one(p)
                .await)
            .expect("read")
        }
    };
    use agora::clock::Clock;
    assert_eq!(next_run(&app).await - clock.now_ms(), 12 * 3600 * 1000, "one failure: 12 h");
    clock.advance(std::time::Duration::from_secs(12 * 3600));
    catalog.run_due_sources().await.expect("due");
    catalog.source_finished(id).await;
    assert_eq!(next_run(&app).await - clock.now_ms(), 24 * 3600 * 1000, "two failures: 24 h");
    app.shutdown().await;
}

#[tokio::test]
async fn hostile_facilitators_are_bounded_and_reported() {
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = ManualClock::new(T0);
    let app = open_app(&loopback_options(dir.path()), &clock).await;
    // Every page is the same, and claims a total it never reaches: a pagination loop.
    let looping = Seller::start(IpAddr::from([127, 0, 0, 71]), |request: &Request| {
        if request.path == "/robots.txt" {
            return Reply::new(404);
        }
        facilitator_page(
            vec![
                json!({"resource": "http://127.0.0.71/paid", "type": "http", "x402Version": 2, "accepts": []}),
                json!({"resource": "http://10.0.0.1/internal", "type": "http", "x402Version": 2, "accepts": []}),
                json!({"resource": "ftp://127.0.0.71/file", "type": "http", "x402Version": 2, "accepts": []}),
                json!({"url": 7}),
            ],
            1_000_000,
        )
    })
    .await
    .expect("seller");
    let summary = import(&app.dispatcher, SourceKind::Facilitator, &looping.url("")).await.expect("a bounded run");
    assert_eq!(summary.pages, 2, "stopped when page 2 repeated page 1");
    assert_eq!(summary.stopped.as_ref().map(|f| f.code.as_str()), Some("source_pagination_loop"));
    assert_eq!((summary.found, summary.new, summary.refused), (3, 1, 2), "{summary:?}");
    let codes: Vec<&str> = summary.refusals.iter().map(|(_, f)| f.code.as_str()).collect();
    assert_eq!(codes, ["address_refused", "url_scheme_unsupported"], "private and non-HTTP URLs are refused");
    assert_eq!(summary.skipped.len(), 1, "the item without a URL: {:?}", summary.skipped);

    // A page over 4 MiB is not read; the first page being the source, the import says why.
    let huge = Seller::start(IpAddr::from([127, 0, 0, 72]), |request: &Request| {
        if request.path == "/robots.txt" {
            return Reply::new(404);
        }
        Reply::new(200).header("content-type", "application/json").body(vec![b' '; 5 << 20])
    })
    .await
    .expect("seller");
    let refused = import(&app.dispatcher, SourceKind::Facilitator, &huge.url("")).await;
    assert!(matches!(refused, Err(ImportError::Unreadable(_))), "{refused:?}");
    let stored = sources::all(app.store.read()).await.expect("sources");
    let outcome = stored.iter().find(|s| s.location == huge.url("")).and_then(|s| s.last_outcome.clone());
    assert!(outcome.is_some_and(|o| o != "ok"), "the failed run is recorded with why: {stored:?}");
    app.shutdown().await;
}

#[tokio::test]
async fn a_list_file_is_a_source_and_the_cli_imports_it() {
    let upstream = Catalog::build(relevance_specs()[..2].to_vec()).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let list = dir.path().join("urls.txt");
    let urls: Vec<String> = upstream.specs.iter().map(|s| upstream.url(s)).collect();
    std::fs::write(&list, format!("# two sellers\n{}\n{} GET\nnot-a-url\n", urls[0], urls[1])).expect("write");
    let data = dir.path().join("data");
    let run = |args: &[&str]| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_agora"));
        command
            .arg("--data-dir")
            .arg(&data)
            .args(crate::support::store_flags(&data))
            .args(["--allow-cidr", "127.0.0.0/8", "--host-delay-ms", "0"])
            .args(args);
        command.output().expect("agora runs")
    };
    let out = run(&["import", list.to_str().expect("utf-8")]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("3 found on 1 pages — 2 new, 0 already known, 1 refused"), "{stdout}");
    assert!(stdout.contains("not registered (url_invalid)"), "{stdout}");
    let listed = run(&["sources"]);
    let text = String::from_utf8_lossy(&listed.stdout);
    assert!(text.contains("#1 list") && text.contains("urls.txt") && text.contains("ok"), "{text}");
    let missing = run(&["import", "/nonexistent/urls.txt"]);
    assert_eq!(missing.status.code(), Some(2), "an unreadable source is an error");
}

/// An origin's own documents, in every shape in use, name its routes — one of them on a seller
/// built with the official SDK on the same host — and only its own: a route on another domain and
/// one whose path parameter has no example are skipped with reasons. `--kind` left out, the
/// origin is told from a facilitator by what it serves.
#[tokio::test]
async fn an_origin_lists_its_own_routes_in_every_document_shape() {
    let sdk = crate::peers::Peer::node("seller-v2-express.mjs");
    let base = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let known = std::sync::Arc::clone(&base);
    let origin = Seller::start(IpAddr::from([127, 0, 0, 1]), move |request: &Request| {
        let me = known.lock().expect("lock").clone();
        let json = |value: Value| Reply::new(200).header("content-type", "application/json").body(value.to_string());
        match request.path.as_str() {
            "/robots.txt" | "/supported" => Reply::new(404),
            "/.well-known/x402.json" => json(json!({"x402Version": 2, "items": [
                {"resource": {"url": format!("{me}/weather")}, "type": "http", "input": {"method": "GET"}}
            ]})),
            "/.well-known/x402" => json(json!({"version": 1, "resources": [format!("{me}/joke"), "https://evil.example/steal"]})),
            "/openapi.json" => json(json!({"openapi": "3.1.0", "paths": {
                "/quote/{ticker}": {"get": {"summary": "A quote", "x-payment-info": {"protocols": ["x402"], "price": "0.001"},
                    "parameters": [{"name": "ticker", "in": "path", "example": "AAPL"}]}},
                "/user/{id}": {"get": {"x-payment-info": {"price": "0.05"}}},
                "/free": {"get": {"summary": "Free"}}
            }})),
            path if path.starts_with("/discovery/") || path.starts_with("/.well-known/") => Reply::new(404),
            path => Reply::v2(&agora_crawler::testkit::v2_challenge(&format!("{me}{path}"))),
        }
    })
    .await
    .expect("origin");
    *base.lock().expect("lock") = origin.url("");
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = ManualClock::new(T0);
    let app = open_app(&loopback_options(dir.path()), &clock).await;

    let kind = agora::sources::detect(&app.dispatcher, &origin.url("")).await.expect("detects");
    assert_eq!(kind, SourceKind::Origin);
    let summary = import(&app.dispatcher, kind, &origin.url("")).await.expect("imports");
    let urls: Vec<&str> = summary.services.iter().map(|s| s.url.as_str()).collect();
    for path in ["/weather", "/joke", "/quote/AAPL"] {
        assert!(urls.contains(&origin.url(path).as_str()), "{path} in {urls:?}");
    }
    let reasons: Vec<&str> = summary.skipped.iter().map(|f| f.code.as_str()).collect();
    assert!(reasons.contains(&"origin_foreign_route") && reasons.contains(&"origin_route_skipped"), "{reasons:?}");
    for service in &summary.services {
        let probed = app.dispatcher.probe_now(service.clone()).await.expect("probed");
        assert_eq!(
            probed.report.verdict,
            agora_crawler::Verdict::Listed,
            "{}: {:?}",
            service.url,
            probed.report.problems
        );
    }

    // A document on the SDK seller's host naming its route: imported and listed like any other.
    let sdk_origin = Seller::start(IpAddr::from([127, 0, 0, 1]), {
        let route = sdk.url("/weather");
        move |request: &Request| match request.path.as_str() {
            "/.well-known/x402" => Reply::new(200)
                .header("content-type", "application/json")
                .body(json!({"version": 1, "resources": [route.clone()]}).to_string()),
            _ => Reply::new(404),
        }
    })
    .await
    .expect("origin");
    let from_sdk = import(&app.dispatcher, SourceKind::Origin, &sdk_origin.url("")).await.expect("imports");
    assert_eq!(from_sdk.found, 1, "{from_sdk:?}");
    let probed = app.dispatcher.probe_now(from_sdk.services[0].clone()).await.expect("probed");
    assert_eq!(probed.recorded.status.as_str(), "listed", "{:?}", probed.report.problems);

    // An origin with no route document is an unreadable source, said so.
    let bare = Seller::start(IpAddr::from([127, 0, 0, 1]), |_: &Request| Reply::new(404)).await.expect("bare");
    let none = import(&app.dispatcher, SourceKind::Origin, &bare.url("")).await;
    assert!(matches!(&none, Err(ImportError::Unreadable(why)) if why.contains("no x402 route document")), "{none:?}");
    app.shutdown().await;
}

/// The official x402 discovery clients (npm `@x402/extensions`, PyPI `x402`) read what an import
/// brought in from Agora's own Bazaar endpoint.
#[tokio::test]
async fn the_official_discovery_clients_read_an_imported_catalog() {
    use crate::peers::{Sdk, run_client};
    let upstream = Catalog::build(relevance_specs()[..3].to_vec()).await;
    let facilitator = serve(&upstream).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = ManualClock::new(T0);
    let app = open_app(&loopback_options(dir.path()), &clock).await;
    let events = app.dispatcher.subscribe();
    let summary = import(&app.dispatcher, SourceKind::Facilitator, &facilitator).await.expect("imports");
    agora::jobs::scheduler::collect(&app.dispatcher, events, summary.queued, std::time::Instant::now(), |_, _, _| {})
        .await;
    let base = crate::api::serve_state(app.state.clone()).await;
    let mut imported: Vec<String> = summary.services.iter().map(|s| s.url.clone()).collect();
    imported.sort();
    for sdk in [Sdk::Npm, Sdk::PyPi] {
        let page = run_client(sdk, &[&base, "list", &json!({"limit": 100}).to_string()]).await;
        let mut listed: Vec<String> = page["items"]
            .as_array()
            .unwrap_or_else(|| panic!("{sdk:?}: {page}"))
            .iter()
            .map(|item| item["resource"].as_str().expect("resource").to_string())
            .collect();
        listed.sort();
        assert_eq!(listed, imported, "{sdk:?}");
    }
    app.shutdown().await;
}

/// Re-imports ask conditionally: a list that answers 304 to its last ETag is not read again (its
/// counts stand, its services are seen again); a changed one is read whole.
#[tokio::test]
async fn an_unchanged_source_is_not_read_again() {
    let upstream = Catalog::build(relevance_specs()[..3].to_vec()).await;
    let urls: Vec<String> = upstream.specs.iter().map(|s| upstream.url(s)).collect();
    let version = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(2));
    let (listed, served) = (urls.clone(), std::sync::Arc::clone(&version));
    let list = Seller::start(IpAddr::from([127, 0, 0, 74]), move |request: &Request| {
        if request.path != "/urls.txt" {
            return Reply::new(404);
        }
        let n = served.load(std::sync::atomic::Ordering::SeqCst);
        let etag = format!("\"v{n}\"");
        if request.header("if-none-match") == Some(etag.as_str()) {
            return Reply::new(304).header("etag", etag);
        }
        Reply::new(200).header("etag", etag).body(listed[..n].join("\n"))
    })
    .await
    .expect("list");
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = ManualClock::new(T0);
    let app = open_app(&loopback_options(dir.path()), &clock).await;
    let location = list.url("/urls.txt");

    let first = import(&app.dispatcher, SourceKind::List, &location).await.expect("imports");
    assert_eq!((first.found, first.new, first.unchanged), (2, 2, false));
    clock.advance(std::time::Duration::from_secs(3600));
    let again = import(&app.dispatcher, SourceKind::List, &location).await.expect("imports");
    assert!(again.unchanged && again.found == 0, "304: nothing read: {again:?}");
    let source = app.state.catalog.source(first.source_id).await.expect("read").expect("stored");
    assert_eq!(source.row.last_outcome.as_deref(), Some("unchanged"));
    assert_eq!(source.row.last_counts.as_ref().map(|c| c["found"].clone()), Some(json!(2)), "the counts stand");
    let mentions = sources::of_service(app.store.read(), first.services[0].id).await.expect("provenance");
    use agora::clock::Clock;
    assert_eq!(mentions[0].last_seen, clock.now_ms(), "seen again without being read");

    version.store(3, std::sync::atomic::Ordering::SeqCst);
    let changed = import(&app.dispatcher, SourceKind::List, &location).await.expect("imports");
    assert_eq!((changed.found, changed.new, changed.known, changed.unchanged), (3, 1, 2, false));
    app.shutdown().await;
}

/// An origin is authoritative for its own routes: one its document drops is delisted with
/// `removed_by_origin` and stays so whatever probes find, until the document lists it again.
#[tokio::test]
async fn a_route_its_origin_drops_is_delisted_until_listed_again() {
    let routes = std::sync::Arc::new(std::sync::Mutex::new(vec!["/a".to_string(), "/b".to_string()]));
    let base = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let (listed, me) = (std::sync::Arc::clone(&routes), std::sync::Arc::clone(&base));
    let origin = Seller::start(IpAddr::from([127, 0, 0, 75]), move |request: &Request| {
        let me = me.lock().expect("lock").clone();
        match request.path.as_str() {
            "/.well-known/x402" => {
                let urls: Vec<String> = listed.lock().expect("lock").iter().map(|p| format!("{me}{p}")).collect();
                Reply::new(200)
                    .header("content-type", "application/json")
                    .body(json!({"version": 1, "resources": urls}).to_string())
            }
            "/a" | "/b" => Reply::v2(&agora_crawler::testkit::v2_challenge(&format!("{me}{}", request.path))),
            _ => Reply::new(404),
        }
    })
    .await
    .expect("origin");
    *base.lock().expect("lock") = origin.url("");
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = ManualClock::new(T0);
    let app = open_app(&loopback_options(dir.path()), &clock).await;
    let status = |id: i64| {
        let pool = app.store.read().clone();
        async move { agora::db::services::get(&pool, id).await.expect("read").expect("stored") }
    };

    let first = import(&app.dispatcher, SourceKind::Origin, &origin.url("")).await.expect("imports");
    let b = first.services.iter().find(|s| s.url.ends_with("/b")).expect("b").clone();
    app.dispatcher.probe_now(b.clone()).await.expect("probed");
    assert_eq!(status(b.id).await.status.as_str(), "listed");

    // The origin drops /b: delisted at once, with why, and a probe does not bring it back.
    routes.lock().expect("lock").retain(|p| p != "/b");
    clock.advance(std::time::Duration::from_secs(60));
    import(&app.dispatcher, SourceKind::Origin, &origin.url("")).await.expect("imports");
    let dropped = status(b.id).await;
    assert_eq!((dropped.status.as_str(), dropped.reason_code.as_deref()), ("delisted", Some("removed_by_origin")));
    app.dispatcher.probe_now(b.clone()).await.expect("probed");
    assert_eq!(status(b.id).await.status.as_str(), "delisted", "the origin decides, not the probe");
    let history = agora::db::history::status_changes(app.store.read(), b.id).await.expect("history");
    assert!(history.iter().any(|c| c.reason_code.as_deref() == Some("removed_by_origin")), "{history:?}");

    // It lists /b again: back to the probes, and listed.
    routes.lock().expect("lock").push("/b".into());
    clock.advance(std::time::Duration::from_secs(60));
    import(&app.dispatcher, SourceKind::Origin, &origin.url("")).await.expect("imports");
    app.dispatcher.probe_now(b.clone()).await.expect("probed");
    assert_eq!(status(b.id).await.status.as_str(), "listed");
    app.shutdown().await;
}

/// A facilitator claiming an endless list — a thousand items on every page, the same URL over and
/// over — is read up to the run's cap (100,000 entries) and stopped with a reason; the repeats
/// register once.
#[tokio::test]
async fn an_endless_list_stops_at_the_runs_cap() {
    let endless = Seller::start(IpAddr::from([127, 0, 0, 76]), |request: &Request| {
        let offset = request.path.split("offset=").nth(1).unwrap_or("0").to_string();
        let url = format!("http://127.0.0.76/paid?page={offset}");
        let items: Vec<Value> = (0..1_000).map(|_| json!({"resource": url, "type": "http"})).collect();
        facilitator_page(items, usize::MAX)
    })
    .await
    .expect("seller");
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = ManualClock::new(T0);
    let app = open_app(&loopback_options(dir.path()), &clock).await;
    let summary = import(&app.dispatcher, SourceKind::Facilitator, &endless.url("")).await.expect("a bounded run");
    assert_eq!(summary.found, agora::sources::MAX_ENTRIES, "{:?}", summary.stopped);
    assert_eq!(summary.stopped.as_ref().map(|f| f.code.as_str()), Some("source_too_large"));
    assert_eq!(summary.pages, 100);
    assert_eq!(summary.new, 100, "one service per distinct URL, however often it is listed");
    app.shutdown().await;
}

/// A facilitator is not authoritative: a URL missing from its list on a later run keeps the
/// status its probes gave it (an origin's own documents decide for its routes; a facilitator's
/// list only says what it has seen paid).
#[tokio::test]
async fn a_url_a_facilitator_stops_listing_keeps_its_status() {
    let upstream = Catalog::build(relevance_specs()[..2].to_vec()).await;
    let urls: Vec<String> = upstream.specs.iter().map(|s| upstream.url(s)).collect();
    let listed = std::sync::Arc::new(std::sync::Mutex::new(urls.clone()));
    let served = std::sync::Arc::clone(&listed);
    let facilitator = Seller::start(IpAddr::from([127, 0, 0, 77]), move |request: &Request| {
        if !request.path.starts_with("/discovery/resources") {
            return Reply::new(404);
        }
        let urls = served.lock().expect("lock").clone();
        let items: Vec<Value> = urls.iter().map(|url| json!({"resource": url, "type": "http"})).collect();
        let total = items.len();
        facilitator_page(items, total)
    })
    .await
    .expect("facilitator");
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = ManualClock::new(T0);
    let app = open_app(&loopback_options(dir.path()), &clock).await;
    let first = import(&app.dispatcher, SourceKind::Facilitator, &facilitator.url("")).await.expect("imports");
    for service in &first.services {
        app.dispatcher.probe_now(service.clone()).await.expect("probed");
    }
    listed.lock().expect("lock").truncate(1);
    let second = import(&app.dispatcher, SourceKind::Facilitator, &facilitator.url("")).await.expect("imports");
    assert_eq!(second.found, 1);
    let gone = first.services.iter().find(|s| s.url == urls[1]).expect("the second URL");
    let row = agora::db::services::get(app.store.read(), gone.id).await.expect("read").expect("stored");
    assert_eq!((row.status.as_str(), row.reason_code), ("listed", None), "the probes decide, not the list");
    app.shutdown().await;
}
