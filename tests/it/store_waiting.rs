//! `agora serve` started while its PostgreSQL database cannot be reached: it listens anyway,
//! answers every request 503 `database_unavailable` (readiness: not ready) with the cause and
//! no password, keeps retrying, and serves the catalog once the database is there; a signal
//! stops it cleanly meanwhile. A mistake waiting cannot mend (no such database) still exits 2.
//! Each test runs its own cluster or none, so these run in both test passes.

use crate::cli::agora;
use crate::nodes::{Cluster, CountingSeller, Node, eventually};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread")]
async fn serve_answers_not_ready_until_the_database_comes_up_then_serves() {
    let cluster = Cluster::start();
    let database = cluster.database().await;
    cluster.control("pause");
    let seller = CountingSeller::start([127, 0, 0, 74], Duration::ZERO).await;

    let node = Node::start(&database, 60, 2).await;
    for path in ["/healthz", "/api/v1/services?q=late", "/"] {
        let response = reqwest::get(format!("{}{path}", node.base)).await.expect("request");
        assert_eq!(response.status().as_u16(), 503, "{path}");
        assert_eq!(response.headers()["retry-after"], "5", "{path}");
        let body: serde_json::Value = response.json().await.expect("problem JSON");
        assert_eq!(body["code"], "database_unavailable", "{path}: {body}");
        assert!(body["detail"].as_str().is_some_and(|d| d.contains("cannot reach the database")), "{body}");
    }
    let (status, body) = node.register(&seller.seller.url("/late")).await;
    assert_eq!(status, 503, "a registration is refused while waiting, not lost silently: {body}");
    // A person with a browser gets the site's error page, saying the same.
    let page = reqwest::Client::new()
        .get(format!("{}/", node.base))
        .header("accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .expect("request");
    assert_eq!(page.status().as_u16(), 503);
    assert!(page.headers()["content-type"].to_str().expect("ascii").starts_with("text/html"));
    let html = page.text().await.expect("page");
    assert!(
        html.contains("<h1>Unavailable</h1>") && html.contains("cannot reach the catalog&#39;s database"),
        "{html}"
    );

    cluster.control("resume");
    assert!(
        eventually(Duration::from_secs(30), || async { node.get("/healthz").await.0 == 200 }).await,
        "ready once the database is up"
    );
    let (status, body) = node.register(&seller.seller.url("/late")).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_i64().expect("id");
    assert!(eventually(Duration::from_secs(10), || async { node.search("late").await == [id] }).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_node_waiting_for_an_unreachable_database_stops_cleanly_on_sigterm() {
    // Nothing listens on port 1 of loopback: every attempt is refused at once.
    let mut node = Node::start("postgres://agora:hunter2@127.0.0.1:1/agora", 60, 1).await;
    let (status, body) = node.get("/healthz").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["code"], "database_unavailable", "{body}");
    assert!(!body.to_string().contains("hunter2"), "{body}");
    // It goes on retrying (and answering) rather than giving up.
    let (status, _) = node.get("/healthz").await;
    assert_eq!(status, 503);

    let pid = node.child.id().expect("running").to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().expect("kill").success());
    let exit = tokio::time::timeout(Duration::from_secs(20), node.child.wait()).await.expect("exits").expect("wait");
    assert_eq!(exit.code(), Some(0), "a signal while waiting is a clean stop");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_database_that_does_not_exist_is_a_clear_error_not_a_wait() {
    let cluster = Cluster::start();
    let missing = cluster.database().await.replacen("/catalog?", "/no_such_catalog?", 1);
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().to_str().expect("utf-8");
    let run = agora(&["--data-dir", data, "--database-url", &missing, "serve", "--listen", "127.0.0.1:0"], &[]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("no_such_catalog") && run.stderr.contains("does not exist"), "{}", run.stderr);
    assert!(!run.stdout.contains("listening"), "it never said it was serving: {}", run.stdout);
}
