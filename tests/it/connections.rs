//! The connection layer of `agora serve` (src/http/server.rs), over raw sockets: slow-header and
//! idle connections are closed, connections are capped per client and in all, oversized bodies
//! are refused before they are sent, early answers say when they close the connection, and every
//! error is a problem (or the site's page).

use crate::api::serve_with;
use crate::catalog::{Catalog, relevance_specs};
use agora::AppState;
use agora::http::limits::{HttpLimits, Rates};
use agora::http::server::ConnectionLimits;
use serde_json::Value;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Longest any test waits for the server to act; reaching it fails the test.
const PATIENCE: Duration = Duration::from_secs(15);

fn state(catalog: &Catalog, rates: Option<Rates>, proxies: &[&str]) -> AppState {
    catalog.app.state.with_limits(HttpLimits {
        rates,
        trusted_proxies: proxies.iter().map(|p| p.parse().expect("cidr")).collect(),
        ..HttpLimits::default()
    })
}

async fn connect(base: &str) -> TcpStream {
    TcpStream::connect(base.trim_start_matches("http://")).await.expect("connect")
}

/// Everything the server sends until it closes the connection.
async fn read_to_close(stream: &mut TcpStream) -> String {
    let mut all = Vec::new();
    tokio::time::timeout(PATIENCE, stream.read_to_end(&mut all)).await.expect("the server closes").ok();
    String::from_utf8_lossy(&all).into_owned()
}

/// One answer (head and body, by Content-Length) read from a kept-alive connection.
async fn read_answer(stream: &mut TcpStream) -> String {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&buffer).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_string()))
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0);
            if buffer.len() >= end + 4 + length {
                return text;
            }
        }
        let read = tokio::time::timeout(PATIENCE, stream.read(&mut chunk)).await.expect("an answer").expect("read");
        assert!(read > 0, "closed before a whole answer: {}", String::from_utf8_lossy(&buffer));
        buffer.extend_from_slice(&chunk[..read]);
    }
}

fn body_json(answer: &str) -> Value {
    let body = answer.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
    serde_json::from_str(body).unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_and_idle_keep_alive_connections_are_closed() {
    let catalog = Catalog::build(relevance_specs()[..1].to_vec()).await;
    let limits = ConnectionLimits { header_read_timeout: Duration::from_millis(500), ..ConnectionLimits::default() };
    let base = serve_with(state(&catalog, None, &[]), limits).await;

    // A request line and then nothing more: the headers never complete.
    let mut trickle = connect(&base).await;
    trickle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.expect("write");
    let rest = read_to_close(&mut trickle).await;
    assert!(!rest.contains("200 OK"), "no request was served: {rest}");

    // A head larger than any real request's is refused by hyper itself.
    let mut huge = connect(&base).await;
    let head = format!("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: {}\r\n\r\n", "p".repeat(70 * 1024));
    let _ = huge.write_all(head.as_bytes()).await;
    let answer = read_to_close(&mut huge).await;
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");

    // A connection that never sends anything.
    let mut silent = connect(&base).await;
    read_to_close(&mut silent).await;

    // A served request, then silence: the idle keep-alive connection is closed too.
    let mut idle = connect(&base).await;
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.expect("write");
    let answer = read_answer(&mut idle).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    read_to_close(&mut idle).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_are_capped_per_client_and_in_all() {
    let catalog = Catalog::build(relevance_specs()[..1].to_vec()).await;
    let limits = ConnectionLimits { max_per_client: 3, ..ConnectionLimits::default() };
    let base = serve_with(state(&catalog, None, &[]), limits).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut stream = connect(&base).await;
        stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.expect("write");
        assert!(read_answer(&mut stream).await.starts_with("HTTP/1.1 200"));
        held.push(stream);
    }
    let mut fourth = connect(&base).await;
    let refused = read_to_close(&mut fourth).await;
    assert!(refused.starts_with("HTTP/1.1 429"), "{refused}");
    assert!(refused.to_ascii_lowercase().contains("connection: close"), "{refused}");
    assert!(refused.contains("application/problem+json"), "{refused}");
    assert_eq!(body_json(&refused)["code"], "too_many_connections");
    // Closing one makes room (the server notices the close: retry until it has).
    drop(held.pop());
    let served = tokio::time::timeout(PATIENCE, async {
        loop {
            let mut stream = connect(&base).await;
            stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.expect("write");
            let answer = read_to_close(&mut stream).await;
            if answer.starts_with("HTTP/1.1 200") {
                return answer;
            }
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert!(served.is_ok(), "a slot came free");

    // The server-wide cap: 2 connections in all, whoever opens them.
    let limits = ConnectionLimits { max_connections: 2, ..ConnectionLimits::default() };
    let base = serve_with(state(&catalog, None, &[]), limits).await;
    let _a = connect(&base).await;
    let _b = connect(&base).await;
    let mut third = connect(&base).await;
    let refused = read_to_close(&mut third).await;
    assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
    assert_eq!(body_json(&refused)["code"], "server_busy");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_declared_body_is_refused_before_it_is_sent() {
    let catalog = Catalog::build(relevance_specs()[..1].to_vec()).await;
    let base = serve_with(state(&catalog, None, &[]), ConnectionLimits::default()).await;
    let mut stream = connect(&base).await;
    let head = "POST /api/v1/services HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
                Content-Length: 1000000\r\nExpect: 100-continue\r\n\r\n";
    stream.write_all(head.as_bytes()).await.expect("write");
    // The answer comes without the body ever being sent, and without `100 Continue`.
    let answer = read_to_close(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(!answer.contains("100 Continue"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("connection: close"), "{answer}");
    assert_eq!(body_json(&answer)["code"], "invalid_body");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_to_a_request_with_a_body_says_the_connection_closes_and_ipv6_clients_share_a_prefix() {
    let catalog = Catalog::build(relevance_specs()[..1].to_vec()).await;
    let base = serve_with(state(&catalog, Some(Rates::new(100, 1)), &[]), ConnectionLimits::default()).await;
    let client = reqwest::Client::new();
    let post = || {
        client
            .post(format!("{base}/api/v1/services"))
            .header("content-type", "application/json")
            .body(r#"{"url": 1}"#)
            .send()
    };
    assert_eq!(post().await.expect("post").status().as_u16(), 422);
    let limited = post().await.expect("post");
    assert_eq!(limited.status().as_u16(), 429);
    assert_eq!(limited.headers()["connection"], "close", "the unread body ends the connection, and it says so");
    // A read (no body) keeps its connection.
    let read = client.get(format!("{base}/healthz")).send().await.expect("get");
    assert!(read.headers().get("connection").is_none_or(|v| v != "close"));

    // Behind a trusted proxy, IPv6 clients are keyed by /64: rotating addresses in it does not
    // buy a new budget; another /64 has its own.
    let proxied =
        serve_with(state(&catalog, Some(Rates::new(1, 1)), &["127.0.0.0/8"]), ConnectionLimits::default()).await;
    let from = |ip: &str| client.get(format!("{proxied}/api/v1/services")).header("x-forwarded-for", ip).send();
    assert_eq!(from("2001:db8:0:1::1").await.expect("get").status().as_u16(), 200);
    assert_eq!(from("2001:db8:0:1:ffff::2").await.expect("get").status().as_u16(), 429, "same /64");
    assert_eq!(from("2001:db8:0:2::1").await.expect("get").status().as_u16(), 200, "another /64");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn framework_errors_are_problems_for_programs_and_pages_for_browsers() {
    let catalog = Catalog::build(relevance_specs()[..1].to_vec()).await;
    let base = serve_with(state(&catalog, None, &[]), ConnectionLimits::default()).await;
    let client = reqwest::Client::new();
    let missing = client.get(format!("{base}/docs/no-such-file.js")).send().await.expect("get");
    assert_eq!(missing.status().as_u16(), 404);
    assert_eq!(missing.headers()["content-type"], "application/problem+json");
    let json: Value = serde_json::from_str(&missing.text().await.expect("body")).expect("json");
    assert_eq!(json["code"], "not_found");

    let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    let page = client.get(format!("{base}/docs/no-such-file.js")).header("accept", browser).send().await.expect("get");
    assert_eq!(page.status().as_u16(), 404);
    assert!(page.headers()["content-type"].to_str().expect("ascii").starts_with("text/html"));

    // An oversized form sent without a declared length (chunked): the body extractor's 413, as
    // the site's page for a browser.
    let host = base.trim_start_matches("http://");
    let mut stream = connect(&base).await;
    let chunk = format!("url={}", "x".repeat(20_000));
    let request = format!(
        "POST /register HTTP/1.1\r\nHost: {host}\r\nOrigin: {base}\r\nAccept: {browser}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n\
         {:x}\r\n{chunk}\r\n0\r\n\r\n",
        chunk.len()
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let answer = read_answer(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("content-type: text/html"), "{answer}");
    assert!(answer.contains("<html"), "{answer}");
}
