//! `agora serve`, `register` and `migrate` as a user runs them: the health endpoint, the
//! background crawler, the register JSON contract, and a graceful stop on SIGTERM.

use crate::support::Switchable;
use agora_crawler::testkit::{Reply, v2_challenge};
use serde_json::Value;
use std::path::Path;
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

/// `agora --data-dir DIR` with loopback sellers allowed, pipes on stdout and stderr.
pub fn agora(dir: &Path) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_agora"));
    command
        .arg("--data-dir")
        .arg(dir)
        .args(crate::support::store_flags(dir))
        .args(["--allow-cidr", "127.0.0.0/8", "--host-delay-ms", "0"])
        .env_remove("AGORA_ALLOW_CIDRS")
        .env_remove("AGORA_LISTEN")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

async fn get(addr: &str, path: &str) -> (u16, Value) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    let status = response[9..12].parse().expect("status");
    let body = response.split("\r\n\r\n").nth(1).expect("body");
    (status, serde_json::from_str(body).expect("JSON body"))
}

#[tokio::test(flavor = "multi_thread")]
async fn register_json_then_serve_crawls_and_stops_gracefully() {
    let dir = tempfile::tempdir().expect("temp dir");
    let seller = Switchable::start([127, 0, 0, 61], Reply::v2(&v2_challenge("http://127.0.0.1/"))).await;

    let out = agora(dir.path()).args(["register", &seller.seller.url("/w"), "--json"]).output().await.expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let json: Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(json["verdict"], "listed");
    assert_eq!(json["created"], true);
    assert_eq!(json["service"]["status"], "listed");
    assert_eq!(json["listing"]["offers"][0]["amount"], "1000");
    let again = agora(dir.path()).args(["register", &seller.seller.url("/w"), "--json"]).output().await.expect("run");
    let again: Value = serde_json::from_slice(&again.stdout).expect("JSON");
    assert_eq!(
        (again["created"].clone(), again["service"]["id"].clone()),
        (Value::Bool(false), json["service"]["id"].clone())
    );
    let refused = agora(dir.path()).args(["register", "http://10.0.0.1/", "--json"]).output().await.expect("run");
    assert_eq!(refused.status.code(), Some(2));
    let refused: Value = serde_json::from_slice(&refused.stdout).expect("JSON");
    assert_eq!((refused["verdict"].as_str(), refused["service"].is_null()), (Some("refused"), true));

    // A second endpoint, registered but due: the server's crawler must probe it.
    let store = agora::db::Store::open_for(&crate::support::options(dir.path(), &[])).await.expect("store");
    let new = agora::db::register::NewService {
        url: seller.seller.url("/due"),
        method: "GET".into(),
        host: "127.0.0.61".into(),
    };
    store.writer().register(vec![new], 0).await.expect("stored");
    store.close().await;

    let mut child = agora(dir.path()).args(["serve", "--listen", "127.0.0.1:0"]).spawn().expect("serve");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let line = stdout.next_line().await.expect("read").expect("listening line");
    let addr = line.strip_prefix("agora listening on http://").expect("address line").to_string();
    let (status, health) = get(&addr, "/healthz").await;
    assert_eq!((status, health["status"].as_str()), (200, Some("ok")));
    assert_eq!(health["services"].as_object().map(|m| m.values().filter_map(Value::as_i64).sum::<i64>()), Some(2));

    let pid = child.id().expect("pid").to_string();
    // The due service is queued at the scheduler's first tick; watch the server report it listed.
    while get(&addr, "/healthz").await.1["services"]["listed"] != 2 {
        tokio::task::yield_now().await;
    }
    assert_eq!(seller.requests_to("/due"), 1);
    // The API of the real binary: once the index has both, search finds both.
    while get(&addr, "/healthz").await.1["search"]["documents"] != 2 {
        tokio::task::yield_now().await;
    }
    let search = reqwest::get(format!("http://{addr}/api/v1/services")).await.expect("search");
    assert_eq!(search.status().as_u16(), 200);
    let search: Value = serde_json::from_str(&search.text().await.expect("body")).expect("JSON");
    assert_eq!(search["total"], 2, "{search}");
    let missing = reqwest::get(format!("http://{addr}/api/v1/services/9999")).await.expect("detail");
    assert_eq!(missing.status().as_u16(), 404);
    assert_eq!(missing.headers()["content-type"], "application/problem+json");
    let status = std::process::Command::new("kill").args(["-TERM", &pid]).status().expect("kill -TERM");
    assert!(status.success());
    let exit = child.wait().await.expect("exit");
    assert_eq!(exit.code(), Some(0), "graceful stop exits 0");
    let store = agora::db::Store::open_for(&crate::support::options(dir.path(), &[])).await.expect("store");
    let due =
        agora::db::services::lookup(store.read(), &seller.seller.url("/due"), "GET").await.expect("q").expect("row");
    assert_eq!(due.status.as_str(), "listed", "the background crawler probed the due service");
    store.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn migrate_creates_the_database_and_is_idempotent() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("nested/data");
    let first = agora(&data).arg("migrate").output().await.expect("run");
    assert!(first.status.success());
    assert!(String::from_utf8_lossy(&first.stdout).starts_with("applied migrations 1"));
    if crate::support::postgres_store().is_none() {
        assert!(data.join("agora.db").exists());
    }
    let second = agora(&data).arg("migrate").output().await.expect("run");
    assert!(String::from_utf8_lossy(&second.stdout).contains("up to date"));
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_demo_registers_its_sellers_and_lists_all_but_the_broken_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    // No --allow-cidr: --demo opens exactly its own address.
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_agora"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(crate::support::store_flags(dir.path()))
        .args(["--host-delay-ms", "0", "serve", "--demo", "--listen", "127.0.0.1:0"])
        .env_remove("AGORA_ALLOW_CIDRS")
        .env_remove("AGORA_LISTEN")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start agora serve --demo");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let line = stdout.next_line().await.expect("read").expect("a listening line");
    let addr = line.rsplit("http://").next().expect("address").to_string();
    // Each demo registration reports on stderr once its first probe is recorded.
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr")).lines();
    // Then, once the index has caught up, a ready line.
    let mut verdicts = Vec::new();
    loop {
        let line = stderr.next_line().await.expect("read").expect("a demo line before exit");
        if let Some(rest) = line.strip_prefix("demo: ") {
            if rest.starts_with("ready: ") {
                break;
            }
            verdicts.push(rest.to_string());
        }
    }
    assert_eq!(verdicts.len(), 7, "{verdicts:#?}");
    let rejected: Vec<&String> = verdicts.iter().filter(|v| !v.contains("-> listed")).collect();
    assert_eq!(rejected.len(), 1, "{verdicts:#?}");
    assert!(rejected[0].contains("/broken/quote -> rejected"), "{verdicts:#?}");
    assert!(verdicts.iter().all(|v| v.contains("http://127.0.0.88:")), "{verdicts:#?}");

    let (status, body) = get(&addr, "/api/v1/services?testnet=include&limit=100").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["total"], 6, "{body}");
    let facet = |name: &str| -> Vec<String> {
        body["facets"][name]
            .as_array()
            .expect("facet")
            .iter()
            .map(|v| v["value"].as_str().expect("value").into())
            .collect()
    };
    let networks = facet("network");
    for network in ["eip155:8453", "eip155:137", "eip155:84532", "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"] {
        assert!(networks.iter().any(|n| n == network), "{network} missing from {networks:?}");
    }
    assert_eq!(facet("version").len(), 2, "v1 and v2 challenges: {body}");
    assert!(facet("scheme").iter().any(|s| s == "upto"), "{body}");
    // The demo opened only its own address: another loopback address is still refused.
    let mut stream = tokio::net::TcpStream::connect(&addr).await.expect("connect");
    let body = r#"{"url":"http://127.0.0.1:9/private"}"#;
    let request = format!(
        "POST /api/v1/services HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    assert!(response.starts_with("HTTP/1.1 422"), "{response}");
    assert!(response.contains("registration_refused"), "{response}");
    child.start_kill().expect("stop");
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_without_answer_caches_answers_every_search_afresh() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child =
        agora(dir.path()).args(["serve", "--listen", "127.0.0.1:0", "--no-answer-cache"]).spawn().expect("serve");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let line = stdout.next_line().await.expect("read").expect("listening line");
    let addr = line.strip_prefix("agora listening on http://").expect("address line").to_string();
    for _ in 0..2 {
        assert_eq!(get(&addr, "/api/v1/services?q=weather").await.0, 200);
    }
    let metrics = reqwest::get(format!("http://{addr}/metrics")).await.expect("metrics").text().await.expect("body");
    for outcome in ["outcome=\"miss\"} 2", "outcome=\"hit\"} 0"] {
        let line = format!("agora_answer_cache_lookups_total{{cache=\"search\",{outcome}");
        assert!(metrics.lines().any(|l| l == line), "{line} in\n{metrics}");
    }
    let _ = child.kill().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_first_start_logs_plain_text_and_no_warning() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child =
        agora(dir.path()).env("RUST_LOG", "info").args(["serve", "--listen", "127.0.0.1:0"]).spawn().expect("serve");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let line = stdout.next_line().await.expect("read").expect("listening line");
    assert!(line.starts_with("agora listening on http://"), "{line}");
    let pid = child.id().expect("pid").to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().expect("kill").success());
    let out = child.wait_with_output().await.expect("exit");
    assert_eq!(out.status.code(), Some(0));
    // stderr is a pipe here, as when logs go to a file: no colour codes.
    let log = String::from_utf8(out.stderr).expect("utf-8 log");
    assert!(log.contains("creating the search index"), "{log}");
    assert!(!log.contains('\u{1b}'), "ANSI escapes in a piped log: {log:?}");
    assert!(!log.contains("WARN"), "a first start is not a warning: {log}");
}
