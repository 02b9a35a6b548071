//! Every endpoint's bad inputs name the parameter at fault: a client (or a person reading the
//! problem) learns which field to fix, the method and not the URL when the method is wrong.

use crate::api::serve;
use crate::catalog::{Catalog, relevance_specs};
use serde_json::Value;

#[tokio::test]
async fn each_bad_input_is_a_problem_naming_its_parameter() {
    let catalog = Catalog::build(relevance_specs()[..1].to_vec()).await;
    let base = serve(&catalog).await;
    let client = reqwest::Client::new();
    let register = |body: &'static str| (reqwest::Method::POST, "/api/v1/services".to_string(), Some(body));
    let get = |path: &str| (reqwest::Method::GET, path.to_string(), None);
    let cases = [
        (get("/api/v1/services?limit=0"), 400, "limit"),
        (get("/api/v1/services?netwrok=base"), 400, "netwrok"),
        (get("/api/v1/services?min_usd=abc"), 400, "min_usd"),
        (get("/api/v1/services?network=dogechain"), 400, "network"),
        (get("/api/v1/services/abc"), 400, "id"),
        (get("/api/v1/services/0"), 400, "id"),
        ((reqwest::Method::POST, "/api/v1/services/abc/recrawl".to_string(), None), 400, "id"),
        (register(r#"{"url":"http://127.0.0.1/x","method":"HEAD"}"#), 422, "method"),
        (register(r#"{"url":"ftp://example.com/x"}"#), 422, "url"),
        (register(r#"{"url":"http://10.1.2.3/x","method":"POST"}"#), 422, "url"),
        (get("/api/v1/services/lookup"), 400, "url"),
        (get("/api/v1/services/lookup?url=http://example.com/&method=TRACE"), 400, "method"),
        (get("/api/v1/services/lookup?url=http://example.com/&colour=red"), 400, "colour"),
        (get("/api/v1/changes?limit=0"), 400, "limit"),
        (get("/api/v1/changes?cursor=zz"), 400, "cursor"),
        (get("/api/v1/changes?cursor=1.2.3&since=5"), 400, "since"),
        (get("/api/v1/export.ndjson?all=1"), 400, "all"),
        (get("/discovery/resources?limit=0"), 400, "limit"),
        (get("/discovery/resources?offset=-1"), 400, "offset"),
        (get("/discovery/resources?type=FTP!"), 400, "type"),
        (get("/discovery/resources?maxUsdPrice=abc"), 400, "maxUsdPrice"),
        (get("/discovery/resources?extensions=%21%21"), 400, "extensions"),
        (get("/discovery/resources?network=%21%21%21"), 400, "network"),
        (get("/discovery/search?query=x&scheme=Exact%20Pay"), 400, "scheme"),
        (get("/discovery/search"), 400, "query"),
        (get("/discovery/search?query=x&cursor=abc"), 400, "cursor"),
    ];
    for ((method, path, body), status, param) in cases {
        let mut request = client.request(method.clone(), format!("{base}{path}"));
        if let Some(body) = body {
            request = request.header("content-type", "application/json").body(body);
        }
        let response = request.send().await.expect("request");
        let got = response.status().as_u16();
        let problem: Value = serde_json::from_str(&response.text().await.expect("body")).expect("a problem");
        assert_eq!((got, &problem["param"]), (status, &Value::from(param)), "{method} {path} {body:?}: {problem}");
        // The x402 SDK discovery clients read a 400's `error` string.
        if path.starts_with("/discovery/") {
            assert_eq!(problem["error"], problem["detail"], "{path}: {problem}");
        }
    }
}
