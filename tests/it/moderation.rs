//! Operators (docs/OWNERSHIP.md): the operator API exists only with a configured token; hiding
//! a service and blocking a host or payTo take it out of search, the Bazaar endpoints and the
//! feed at once and refuse it at registration and import; lifting a block shows what it alone hid;
//! every action is in the audit log. And `agora serve` itself: a whole claim and owner session
//! over HTTP never writes the owner token to its logs, even at trace level.

use crate::ownership::{AGORA, Catalog, EVM_ADDRESS, EVM_KEY, OTHER_ADDRESS, OwnedSeller, sign};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

const OPERATOR: &str = "operator-token-for-tests-0123456789abcdef";

fn hit_ids(answer: &Value) -> Vec<i64> {
    let mut ids: Vec<i64> =
        answer["hits"].as_array().map(|a| a.iter().filter_map(|h| h["id"].as_i64()).collect()).unwrap_or_default();
    ids.sort_unstable();
    ids
}

#[tokio::test]
async fn without_a_configured_token_there_is_no_operator() {
    let catalog = Catalog::open(None).await;
    for token in [None, Some(OPERATOR), Some("")] {
        let (status, problem) = catalog.get("/api/v1/admin/audit", token).await;
        assert_eq!(status, 401, "{problem}");
    }
    let (_, problem) = catalog.get("/api/v1/admin/blocks", Some(OPERATOR)).await;
    assert!(problem["detail"].as_str().is_some_and(|d| d.contains("no operator token")), "{problem}");
}

#[tokio::test]
async fn hidden_and_blocked_services_leave_every_listing_at_once() {
    let catalog = Catalog::open(Some(OPERATOR)).await;
    let a = OwnedSeller::start([127, 0, 0, 91]).await;
    a.pays("/one", EVM_ADDRESS);
    let b = OwnedSeller::start([127, 0, 0, 92]).await;
    b.pays("/two", OTHER_ADDRESS);
    let c = OwnedSeller::start([127, 0, 0, 93]).await;
    c.pays("/three", OTHER_ADDRESS);
    let one = catalog.register(&a.url("/one")).await;
    let two = catalog.register(&b.url("/two")).await;
    let three = catalog.register(&c.url("/three")).await;
    assert_eq!(catalog.post("/api/v1/admin/blocks", Some("wrong"), &json!({})).await.0, 401);

    // Hide one, with a public reason.
    let (status, hidden) = catalog
        .post(&format!("/api/v1/admin/services/{one}/hide"), Some(OPERATOR), &json!({"reason": "Reported as a scam."}))
        .await;
    assert_eq!((status, hidden["withheld"]["reason"].as_str()), (200, Some("Reported as a scam.")), "{hidden}");
    let (_, found) = catalog.get("/api/v1/services", None).await;
    assert_eq!(hit_ids(&found), vec![two, three]);
    let (_, bazaar) = catalog.get("/discovery/resources", None).await;
    assert_eq!(bazaar["items"].as_array().map(Vec::len), Some(2), "{bazaar}");
    let (_, changes) = catalog.get("/api/v1/changes?limit=100", None).await;
    assert!(changes["events"].as_array().expect("events").iter().all(|e| e["service_id"] != one), "{changes}");
    let (_, detail) = catalog.get(&format!("/api/v1/services/{one}"), None).await;
    assert_eq!(
        detail["withheld"],
        json!({"by": "operator", "since": crate::support::T0, "reason": "Reported as a scam."})
    );

    // Block a payTo: both services paying it disappear; lifting it brings them back.
    let (status, block) = catalog
        .post(
            "/api/v1/admin/blocks",
            Some(OPERATOR),
            &json!({"kind": "pay_to", "value": OTHER_ADDRESS, "reason": "Sanctioned address."}),
        )
        .await;
    assert_eq!(status, 201, "{block}");
    assert_eq!(block["value"], OTHER_ADDRESS.to_lowercase());
    let (_, found) = catalog.get("/api/v1/services", None).await;
    assert_eq!(found["total"], 0, "{found}");
    let (_, listed) = catalog.get("/api/v1/admin/blocks", Some(OPERATOR)).await;
    assert_eq!(listed["blocks"].as_array().map(Vec::len), Some(1));
    let response = catalog
        .http
        .delete(format!("{}/api/v1/admin/blocks/{}", catalog.base, block["id"]))
        .bearer_auth(OPERATOR)
        .send()
        .await
        .expect("delete");
    assert_eq!(response.status().as_u16(), 204);
    let (_, found) = catalog.get("/api/v1/services", None).await;
    assert_eq!(hit_ids(&found), vec![two, three], "shown again; the hidden one stays hidden");

    // Block a host: its service leaves, and registration and import of its URLs are refused.
    let (status, _) = catalog
        .post(
            "/api/v1/admin/blocks",
            Some(OPERATOR),
            &json!({"kind": "host", "value": "127.0.0.92", "reason": "Spam."}),
        )
        .await;
    assert_eq!(status, 201);
    let (_, found) = catalog.get("/api/v1/services", None).await;
    assert_eq!(hit_ids(&found), vec![three]);
    let (status, refused) = catalog.post("/api/v1/services", None, &json!({"url": b.url("/other")})).await;
    assert_eq!(status, 422, "{refused}");
    assert!(refused["detail"].as_str().is_some_and(|d| d.contains("Spam.")), "{refused}");
    let lines = vec![(1, b.url("/bulk"), None)];
    let bulk = agora::jobs::register::register_many(&catalog.app.dispatcher, &lines).await.expect("bulk");
    assert_eq!(bulk.refused.first().map(|r| r.problem.code.as_str()), Some("blocked"));
    let unhide = catalog.post(&format!("/api/v1/admin/services/{one}/unhide"), Some(OPERATOR), &json!({})).await;
    assert_eq!((unhide.0, unhide.1.get("withheld")), (200, None));

    // The audit log has every action, newest first, with its actor and no secret.
    let (_, audit) = catalog.get("/api/v1/admin/audit", Some(OPERATOR)).await;
    let actions: Vec<&str> =
        audit["entries"].as_array().expect("entries").iter().filter_map(|e| e["action"].as_str()).collect();
    for action in ["hidden", "blocked", "unblocked", "unhidden"] {
        assert!(actions.contains(&action), "{action} missing: {actions:?}");
    }
    assert_eq!(audit["entries"][0]["action"], "unhidden");
    assert_eq!(audit["entries"][0]["actor"], "operator");
    assert!(!audit.to_string().contains(OPERATOR));
}

/// Collects everything `pipe` yields, in the background (a full pipe would stall the server).
fn collect(mut pipe: impl AsyncReadExt + Unpin + Send + 'static) -> tokio::task::JoinHandle<Vec<u8>> {
    tokio::spawn(async move {
        let mut sink = Vec::new();
        let mut buf = [0u8; 65536];
        while let Ok(n) = pipe.read(&mut buf).await {
            if n == 0 {
                break;
            }
            sink.extend_from_slice(&buf[..n]);
        }
        sink
    })
}

#[tokio::test]
async fn serve_never_logs_an_owner_token() {
    let dir = tempfile::tempdir().expect("temp dir");
    let seller = OwnedSeller::start([127, 0, 0, 94]).await;
    seller.pays("/weather", EVM_ADDRESS);
    let mut child = crate::serve::agora(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0", "--public-url", AGORA, "--no-rate-limits"])
        .env("RUST_LOG", "trace")
        .env("AGORA_OPERATOR_TOKEN", OPERATOR)
        .spawn()
        .expect("start agora serve");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let stderr = collect(child.stderr.take().expect("stderr"));
    let mut line = String::new();
    while !line.contains("listening on") {
        line.clear();
        stdout.read_line(&mut line).await.expect("read");
    }
    let base = line.trim().rsplit(' ').next().expect("address").to_string();
    let stdout = collect(stdout);
    let http = reqwest::Client::new();
    let post = |path: &str, token: Option<&str>, body: Value| {
        let mut request = http.post(format!("{base}{path}")).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move {
            let response = request.send().await.expect("post");
            (response.status().as_u16(), response.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (status, _) = post("/api/v1/services", None, json!({"url": seller.url("/weather")})).await;
    assert_eq!(status, 201);
    let (_, challenge) = post(
        "/api/v1/claims/challenges",
        None,
        json!({"method": "siwx", "url": seller.url("/weather"), "pay_to": EVM_ADDRESS}),
    )
    .await;
    let signed = sign("evm", EVM_KEY, &challenge["siwx"], AGORA).await;
    let (status, proven) = post("/api/v1/claims", None, json!({"siwx": signed["payload"]})).await;
    assert_eq!(status, 201, "{proven}");
    let token = proven["owner_token"].as_str().expect("token").to_string();
    let (status, _) = post("/api/v1/owner/services/1/delist", Some(&token), json!({})).await;
    assert_eq!(status, 200);
    let (status, rotated) = post("/api/v1/owner/token", Some(&token), json!({})).await;
    assert_eq!(status, 200);
    let (status, _) = post("/api/v1/admin/services/1/hide", Some(OPERATOR), json!({"reason": "Test."})).await;
    assert_eq!(status, 200);

    child.start_kill().expect("stop serve");
    let _ = child.wait().await;
    // Both pipes end with the process: everything it wrote is read.
    let mut logs = String::new();
    for pipe in [stdout, stderr] {
        logs.push_str(&String::from_utf8_lossy(&pipe.await.expect("collected")));
    }
    assert!(logs.contains("/api/v1/claims"), "trace logging is on: {}", &logs[..logs.len().min(2000)]);
    let new_token = rotated["owner_token"].as_str().expect("new token");
    for secret in [token.as_str(), &token[token.len() - 64..], new_token, &new_token[new_token.len() - 64..], OPERATOR]
    {
        assert!(!logs.contains(secret), "a secret is in the logs");
    }
}
