//! The OpenAPI document: it covers every API path of `shared/INTERFACES.md`, each operation
//! documents its problem answers, `/docs` works offline, and schemathesis — a property-based
//! API fuzzer (PyPI, installed by `scripts/test` into tests/peers/.venv-fuzz) — run against a
//! real catalog finds no 5xx and no answer that contradicts the document.

use crate::api::serve_state;
use crate::catalog::{Catalog, relevance_specs};
use agora::http::limits::{DEFAULT_REQUEST_TIMEOUT, HttpLimits};
use serde_json::Value;
use std::path::PathBuf;

/// The catalog's API without rate limits (a fuzzer sends thousands of requests).
async fn serve_unlimited(catalog: &Catalog) -> String {
    let limits = HttpLimits { rates: None, request_timeout: DEFAULT_REQUEST_TIMEOUT, ..HttpLimits::default() };
    serve_state(catalog.app.state.with_limits(limits)).await
}

#[tokio::test]
async fn the_document_covers_every_api_path_with_its_problems() {
    let catalog = Catalog::build(relevance_specs()).await;
    let base = serve_unlimited(&catalog).await;
    let text = reqwest::get(format!("{base}/openapi.json")).await.expect("get").text().await.expect("body");
    let doc: Value = serde_json::from_str(&text).expect("a JSON document");
    assert!(doc["openapi"].as_str().expect("version").starts_with("3.1"), "{}", doc["openapi"]);
    let operations = [
        ("/api/v1/services", "get"),
        ("/api/v1/services", "post"),
        ("/api/v1/services/{id}", "get"),
        ("/api/v1/services/lookup", "get"),
        ("/api/v1/services/{id}/recrawl", "post"),
        ("/api/v1/changes", "get"),
        ("/api/v1/demand", "get"),
        ("/api/v1/export.ndjson", "get"),
        ("/discovery/resources", "get"),
        ("/discovery/search", "get"),
        ("/healthz", "get"),
        ("/api/v1/sources", "get"),
        ("/api/v1/sources", "post"),
        ("/api/v1/sources/{id}", "get"),
        ("/api/v1/claims/challenges", "post"),
        ("/api/v1/claims", "post"),
        ("/api/v1/owner", "get"),
        ("/api/v1/owner/services/{id}/recrawl", "post"),
        ("/api/v1/owner/services/{id}/delist", "post"),
        ("/api/v1/owner/services/{id}/relist", "post"),
        ("/api/v1/owner/services/{id}/pins", "post"),
        ("/api/v1/owner/token", "post"),
        ("/api/v1/owner/revoke", "post"),
        ("/api/v1/admin/services/{id}/hide", "post"),
        ("/api/v1/admin/services/{id}/unhide", "post"),
        ("/api/v1/admin/blocks", "get"),
        ("/api/v1/admin/blocks", "post"),
        ("/api/v1/admin/blocks/{id}", "delete"),
        ("/api/v1/admin/audit", "get"),
    ];
    for (path, method) in operations {
        let operation = &doc["paths"][path][method];
        assert!(operation.is_object(), "{method} {path} is not documented");
        assert!(operation["summary"].as_str().is_some_and(|s| !s.is_empty()), "{method} {path}: no summary");
        let responses = operation["responses"].as_object().expect("responses");
        let success = match (method, path) {
            ("post", "/api/v1/services" | "/api/v1/claims" | "/api/v1/claims/challenges" | "/api/v1/admin/blocks") => {
                "201"
            }
            ("post", "/api/v1/sources") => "202",
            ("post", "/api/v1/owner/revoke") | ("delete", _) => "204",
            _ => "200",
        };
        assert!(responses.contains_key(success), "{method} {path}: no {success}");
        let problems: &[&str] = match path {
            "/healthz" => &["503"],
            owned if owned.starts_with("/api/v1/owner") || owned.starts_with("/api/v1/admin") => {
                &["400", "401", "403", "429", "500", "503"]
            }
            _ => &["400", "429", "500", "503"],
        };
        for status in problems {
            let schema = &responses[*status]["content"]["application/problem+json"]["schema"]["$ref"];
            assert_eq!(schema, "#/components/schemas/Problem", "{method} {path} {status}");
        }
    }
    let documented = doc["paths"].as_object().expect("paths").len();
    assert_eq!(documented, 26, "a path the list above does not know");
    // The search parameters of INTERFACES.md, all documented.
    let names: Vec<&str> = doc["paths"]["/api/v1/services"]["get"]["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    for name in [
        "q",
        "network",
        "asset",
        "scheme",
        "min_usd",
        "max_usd",
        "testnet",
        "status",
        "version",
        "has_schema",
        "host",
        "type",
        "source",
        "verified",
        "sort",
        "limit",
        "offset",
    ] {
        assert!(names.contains(&name), "search parameter {name} undocumented: {names:?}");
    }
    let problem = &doc["components"]["schemas"]["Problem"]["properties"];
    for field in ["type", "title", "status", "detail", "code"] {
        assert!(problem.get(field).is_some(), "Problem lacks {field}");
    }
}

#[tokio::test]
async fn docs_are_served_from_the_binary() {
    let catalog = Catalog::build(Vec::new()).await;
    let base = serve_unlimited(&catalog).await;
    let page = reqwest::get(format!("{base}/docs/")).await.expect("get");
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    assert!(html.contains("swagger-ui"), "{html}");
    assert!(!html.contains("//cdn") && !html.contains("unpkg") && !html.contains("jsdelivr"), "a CDN reference");
    // The page's own assets come from Agora, and its configuration points at our document.
    for asset in ["swagger-ui.css", "swagger-ui-bundle.js", "swagger-initializer.js"] {
        let response = reqwest::get(format!("{base}/docs/{asset}")).await.expect("get");
        assert_eq!(response.status(), 200, "{asset}");
        let body = response.text().await.expect("body");
        assert!(body.len() > 100, "{asset} is empty");
        if asset == "swagger-initializer.js" {
            assert!(body.contains("/openapi.json"), "{body}");
        }
    }
}

/// `st` from the fuzz venv, or the command that installs it.
fn schemathesis() -> PathBuf {
    let st = std::env::var("AGORA_TEST_FUZZ")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peers/.venv-fuzz/bin/st"));
    assert!(st.exists(), "schemathesis is not installed: run `scripts/test` (it builds tests/peers/.venv-fuzz)");
    st
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_server_error_and_no_answer_off_the_schema() {
    let catalog = Catalog::build(relevance_specs()).await;
    catalog.search().flush().await.expect("flush");
    let base = serve_unlimited(&catalog).await;
    let reports = tempfile::tempdir().expect("temp dir");
    let output = tokio::process::Command::new(schemathesis())
        .arg("run")
        .arg(format!("{base}/openapi.json"))
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
        ])
        // One worker: Python 3.11's parser is not thread-safe, and hypothesis parses lambda
        // sources while generating ("AST constructor recursion depth mismatch" with two).
        .args(["--max-examples", "40", "--seed", "402", "--workers", "1", "--no-color"])
        .args(["--generation-database", "none", "--request-timeout", "20"])
        .arg("--report-dir")
        .arg(reports.path())
        .env("NO_COLOR", "1")
        // Its caches go where it runs: the temp dir, not the checkout.
        .current_dir(reports.path())
        .output()
        .await
        .expect("run schemathesis");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "schemathesis found problems:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // It really ran: every operation was tested and cases were generated.
    assert!(stdout.contains("Tested: 29"), "{stdout}");
    let cases = stdout.lines().find(|l| l.contains(" generated, ")).unwrap_or_default();
    let generated: u64 = cases.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(0);
    assert!(generated >= 300, "only {generated} cases: {stdout}");
}
