//! The official MCP conformance runner (npm `@modelcontextprotocol/conformance`, installed by
//! `scripts/test` into tests/peers/mcp-conformance) against `/mcp` on a real catalog. Only the
//! scenarios a tools-only server is held to run here: the others exercise the runner's reference
//! server (its `test_*` tools, resources, prompts, logging, completion), which Agora does not
//! offer by design (docs/MCP.md lists what the full suite reports).

use crate::api::serve;
use crate::catalog::{Catalog, relevance_specs};
use serde_json::Value;
use std::path::PathBuf;

/// Scenarios that apply to a stateless, tools-only server.
const SCENARIOS: &[&str] = &["server-initialize", "ping", "tools-list", "dns-rebinding-protection"];

fn runner() -> PathBuf {
    let peers = std::env::var("AGORA_TEST_PEERS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peers"));
    let runner = peers.join("mcp-conformance/node_modules/@modelcontextprotocol/conformance/dist/index.js");
    assert!(runner.exists(), "the MCP conformance runner is not installed: run `scripts/test`");
    runner
}

#[tokio::test]
async fn the_official_conformance_runner_passes_every_tools_server_scenario() {
    let catalog = Catalog::build(relevance_specs()).await;
    let base = serve(&catalog).await;
    for scenario in SCENARIOS {
        let out = tempfile::tempdir().expect("temp dir");
        let run = tokio::process::Command::new("node")
            .arg(runner())
            .args(["server", "--url", &format!("{base}/mcp"), "--scenario", scenario, "-o"])
            .arg(out.path())
            .output()
            .await
            .expect("run the conformance runner");
        let printed = String::from_utf8_lossy(&run.stdout);
        assert!(run.status.success(), "{scenario}: {printed}{}", String::from_utf8_lossy(&run.stderr));
        let mut checks = Vec::new();
        for entry in std::fs::read_dir(out.path()).expect("results") {
            let file = entry.expect("entry").path().join("checks.json");
            let found: Vec<Value> = serde_json::from_slice(&std::fs::read(&file).expect("checks.json")).expect("json");
            checks.extend(found);
        }
        assert!(!checks.is_empty(), "{scenario}: no checks ran");
        for check in &checks {
            assert_eq!(check["status"], "SUCCESS", "{scenario}: {check}");
        }
    }
}
