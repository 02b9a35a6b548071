//! Proof of control end to end (docs/OWNERSHIP.md): a seller built on loopback, Agora's real
//! HTTP API, and signatures made by the official x402 SDK's Sign-In-With-X client over viem (EVM)
//! and tweetnacl (Solana) in tests/peers/siwx-signer.mjs — never hand-built bytes. Every refusal
//! names its reason; a claim's owner token is shown once and works until rotated or revoked.

use crate::api::serve_state;
use crate::support::{T0, loopback_options};
use agora::clock::ManualClock;
use agora::ownership::OwnershipSettings;
use agora::{App, AppConfig, build_app};
use agora_crawler::testkit::{Reply, Request, Seller, v2_challenge};
use serde_json::{Value, json};
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Hardhat's well-known test keys (#1, #2) and a fixed ed25519 seed.
pub const EVM_KEY: &str = "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
pub const EVM_ADDRESS: &str = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
pub const OTHER_KEY: &str = "5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";
pub const OTHER_ADDRESS: &str = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
pub const SOL_SEED: &str = "0101010101010101010101010101010101010101010101010101010101010101";
pub const SOL_ADDRESS: &str = "AKnL4NNf3DGWZJS6cPknBuEGnVsV4A4m5tgebLHaRSZ9";
/// Agora's public URL in these tests: the domain signed messages must name.
pub const AGORA: &str = "http://agora.test";

/// A seller whose 402 challenge the test sets, and which serves a proof file when told to.
pub struct OwnedSeller {
    pub seller: Seller,
    challenge: Arc<Mutex<Reply>>,
    proof: Arc<Mutex<Option<(String, Reply)>>>,
}

impl OwnedSeller {
    pub async fn start(ip: [u8; 4]) -> OwnedSeller {
        let challenge = Arc::new(Mutex::new(Reply::new(404)));
        let proof: Arc<Mutex<Option<(String, Reply)>>> = Arc::default();
        let (c, p) = (Arc::clone(&challenge), Arc::clone(&proof));
        let seller = Seller::start(IpAddr::from(ip), move |request: &Request| {
            if request.path == "/robots.txt" {
                return Reply::new(404);
            }
            if let Some((path, reply)) = p.lock().expect("lock").clone()
                && request.path == path
            {
                return reply;
            }
            if request.path.starts_with("/.well-known/") {
                return Reply::new(404);
            }
            c.lock().expect("lock").clone()
        })
        .await
        .expect("seller starts");
        OwnedSeller { seller, challenge, proof }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.seller.addr())
    }

    /// Answers a v2 challenge for `path` paying `pay_to` (EVM on Base, or Solana).
    pub fn pays(&self, path: &str, pay_to: &str) {
        let mut challenge = v2_challenge(&self.url(path));
        if pay_to.starts_with("0x") {
            challenge["accepts"][0]["payTo"] = pay_to.into();
        } else {
            challenge["accepts"][0] = json!({"scheme": "exact", "network": "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp",
                "amount": "1000", "asset": "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", "payTo": pay_to,
                "maxTimeoutSeconds": 60, "extra": {"feePayer": "BENrLoUbndxoNMUS5JXApGMtNykLjFXXixMtpDwDR9SP"}});
        }
        *self.challenge.lock().expect("lock") = Reply::v2(&challenge);
    }

    /// Serves `content` at `url`'s path (the well-known proof file).
    pub fn serve_proof(&self, url: &str, content: &str) {
        self.answer_proof(url, Reply::new(200).header("content-type", "text/plain").body(content.to_string()));
    }

    /// Answers `url`'s path (the well-known proof file) with `reply`, however it misbehaves.
    pub fn answer_proof(&self, url: &str, reply: Reply) {
        let path = url::Url::parse(url).expect("url").path().to_string();
        *self.proof.lock().expect("lock") = Some((path, reply));
    }
}

/// An app whose public URL is [`AGORA`], served over HTTP, on a manual clock.
pub struct Catalog {
    pub app: App,
    pub base: String,
    pub clock: ManualClock,
    pub http: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl Catalog {
    pub async fn open(operator: Option<&str>) -> Catalog {
        Catalog::open_with(operator, None).await
    }

    /// [`Catalog::open`] resolving host names with `resolver` (icon hosts must be names).
    pub async fn open_with(operator: Option<&str>, resolver: Option<Arc<dyn agora_crawler::Resolver>>) -> Catalog {
        let dir = tempfile::tempdir().expect("temp dir");
        let clock = ManualClock::new(T0);
        let mut ownership = OwnershipSettings::new(url::Url::parse(AGORA).expect("url"));
        ownership.operator = operator.map(|t| agora::ownership::token::OperatorToken::new(t).expect("long token"));
        let config = AppConfig {
            clock: Arc::new(clock.clone()),
            ownership,
            resolver,
            ..AppConfig::new(loopback_options(dir.path()))
        };
        let app = build_app(config).await.expect("app opens");
        let base = serve_state(app.state.clone()).await;
        Catalog { app, base, clock, http: reqwest::Client::new(), _dir: dir }
    }

    /// The catalog's data directory.
    pub fn data_dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    /// POSTs `body` to `path` with an optional bearer token: (status, JSON answer).
    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
        let mut request = self.http.post(format!("{}{path}", self.base)).json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("post");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        let mut request = self.http.get(format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("get");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Registers `url` (it must list).
    pub async fn register(&self, url: &str) -> i64 {
        let registered = self.app.state.catalog.register(url, None).await.expect("registers");
        assert_eq!(registered.state.service.status.as_str(), "listed", "{:?}", registered.state.report);
        registered.state.service.id
    }

    /// A SIWX challenge for `url` and `pay_to`; panics unless issued.
    pub async fn siwx_challenge(&self, url: &str, pay_to: &str) -> Value {
        let (status, challenge) = self
            .post("/api/v1/claims/challenges", None, &json!({"method": "siwx", "url": url, "pay_to": pay_to}))
            .await;
        assert_eq!(status, 201, "{challenge}");
        challenge
    }

    /// Proves a claim with the payload the SDK signed: (status, answer).
    pub async fn prove(&self, signed: &Value) -> (u16, Value) {
        self.post("/api/v1/claims", None, &json!({"siwx": signed["payload"]})).await
    }

    /// Claims `url` by signing for `pay_to` with `key`: the owner token.
    pub async fn claim_with(&self, url: &str, family: &str, key: &str, pay_to: &str) -> String {
        let challenge = self.siwx_challenge(url, pay_to).await;
        let signed = sign(family, key, &challenge["siwx"], AGORA).await;
        let (status, proven) = self.prove(&signed).await;
        assert_eq!(status, 201, "{proven}");
        proven["owner_token"].as_str().expect("token").to_string()
    }
}

/// Runs the SDK signer (tests/peers/siwx-signer.mjs).
pub async fn sign(family: &str, key: &str, info: &Value, base: &str) -> Value {
    let dir = std::env::var("AGORA_TEST_PEERS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peers"));
    assert!(dir.join("node_modules/@x402/extensions").exists(), "npm test peers missing: run `scripts/test`");
    let output = tokio::process::Command::new("node")
        .arg(dir.join("siwx-signer.mjs"))
        .args(["sign", family, key, &info.to_string(), base])
        .current_dir(&dir)
        .output()
        .await
        .expect("run the SDK signer");
    let answer: Value = serde_json::from_slice(&output.stdout).expect("signer JSON");
    assert!(answer["error"].is_null(), "the SDK refused to sign: {answer}");
    answer
}

#[tokio::test]
async fn sdk_signed_claims_verify_evm_and_solana_services() {
    let catalog = Catalog::open(None).await;
    let evm = OwnedSeller::start([127, 0, 0, 81]).await;
    evm.pays("/weather", EVM_ADDRESS);
    let sol = OwnedSeller::start([127, 0, 0, 82]).await;
    sol.pays("/ocr", SOL_ADDRESS);
    let evm_id = catalog.register(&evm.url("/weather")).await;
    let sol_id = catalog.register(&sol.url("/ocr")).await;
    let (_, before) = catalog.get(&format!("/api/v1/services/{evm_id}"), None).await;
    assert_eq!((before["verified"].clone(), before["proofs"].clone()), (json!(false), json!([])));

    let challenge = catalog.siwx_challenge(&evm.url("/weather"), EVM_ADDRESS).await;
    let info = &challenge["siwx"];
    assert_eq!((info["domain"].as_str(), info["chainId"].as_str()), (Some("agora.test"), Some("eip155:8453")));
    assert_eq!(info["resources"], json!([evm.url("/weather")]), "the message names the service");
    let signed = sign("evm", EVM_KEY, info, AGORA).await;
    let message = challenge["message"].as_str().expect("the message as text");
    assert!(message.starts_with("agora.test wants you to sign in with your Ethereum account:\n"), "{message}");
    assert!(message.contains(&format!("Nonce: {}", info["nonce"].as_str().expect("nonce"))), "{message}");
    let (status, proven) = catalog.prove(&signed).await;
    assert_eq!(status, 201, "{proven}");
    assert_eq!(proven["services"], json!([evm_id]));
    assert_eq!(
        (proven["claim"]["kind"].as_str(), proven["claim"]["method"].as_str()),
        (Some("pay_to"), Some("eip191"))
    );
    let token = proven["owner_token"].as_str().expect("token");

    // The same payload again: the nonce is spent.
    let (status, replay) = catalog.prove(&signed).await;
    assert_eq!((status, replay["code"].as_str()), (422, Some("nonce_used")), "{replay}");
    // The header form the x402 extension defines works too (a fresh challenge).
    let challenge = catalog.siwx_challenge(&sol.url("/ocr"), SOL_ADDRESS).await;
    assert_eq!(challenge["siwx"]["type"], "ed25519");
    let signed = sign("solana", SOL_SEED, &challenge["siwx"], AGORA).await;
    let header = signed["header"].as_str().expect("header");
    let response = catalog
        .http
        .post(format!("{}/api/v1/claims", catalog.base))
        .header("SIGN-IN-WITH-X", header)
        .send()
        .await
        .expect("post");
    assert_eq!(response.status().as_u16(), 201);
    let proven: Value = response.json().await.expect("json");
    assert_eq!((proven["services"].clone(), proven["claim"]["method"].clone()), (json!([sol_id]), json!("ed25519")));

    let (_, detail) = catalog.get(&format!("/api/v1/services/{evm_id}"), None).await;
    assert_eq!(detail["verified"], true);
    assert_eq!(detail["proofs"][0]["subject"], EVM_ADDRESS.to_lowercase());
    assert_eq!(detail["proofs"][0]["proven_at"], T0);
    let (_, found) = catalog.get("/api/v1/services?verified=true", None).await;
    let ids: Vec<i64> = found["hits"].as_array().expect("hits").iter().filter_map(|h| h["id"].as_i64()).collect();
    assert_eq!(ids.len(), 2, "{found}");
    assert!(found["hits"].as_array().expect("hits").iter().all(|h| h["verified"] == true));
    // The token is never shown again: not in the detail, the owner view or the audit trail.
    let (status, owner) = catalog.get("/api/v1/owner", Some(token)).await;
    assert_eq!(status, 200, "{owner}");
    for answer in [&detail, &owner, &found] {
        assert!(!answer.to_string().contains(&token[token.len() - 64..]), "the secret leaked: {answer}");
    }
    let (_, changes) = catalog.get("/api/v1/changes", None).await;
    let claimed: Vec<&Value> =
        changes["events"].as_array().expect("events").iter().filter(|e| e["kind"] == "claimed").collect();
    assert_eq!(claimed.len(), 2, "each owner is in the feed: {changes}");
}

#[tokio::test]
async fn every_bad_proof_is_refused_naming_why() {
    let catalog = Catalog::open(None).await;
    let seller = OwnedSeller::start([127, 0, 0, 83]).await;
    seller.pays("/weather", EVM_ADDRESS);
    let url = seller.url("/weather");
    catalog.register(&url).await;
    let refused = |answer: (u16, Value), code: &str| {
        assert_eq!((answer.0, answer.1["code"].as_str()), (422, Some(code)), "{}", answer.1);
        assert!(answer.1["detail"].as_str().is_some_and(|d| !d.is_empty()));
    };

    // Another domain: the SDK signs for evil.test when asked to; Agora refuses it.
    let mut info = catalog.siwx_challenge(&url, EVM_ADDRESS).await["siwx"].clone();
    info["domain"] = "evil.test".into();
    info["uri"] = "http://evil.test/login".into();
    refused(catalog.prove(&sign("evm", EVM_KEY, &info, "http://evil.test").await).await, "wrong_domain");

    // Signed by someone else: the message names their address, not the payTo.
    let info = catalog.siwx_challenge(&url, EVM_ADDRESS).await["siwx"].clone();
    refused(catalog.prove(&sign("evm", OTHER_KEY, &info, AGORA).await).await, "wrong_address");

    // The right address named, but the signature is another key's (a forged payload).
    let mut forged = sign("evm", OTHER_KEY, &info, AGORA).await;
    forged["payload"]["address"] = EVM_ADDRESS.into();
    refused(catalog.prove(&forged).await, "bad_signature");

    // A field changed after Agora issued it (and signed as changed).
    let mut altered = catalog.siwx_challenge(&url, EVM_ADDRESS).await["siwx"].clone();
    altered["resources"] = json!(["http://elsewhere.test/"]);
    refused(catalog.prove(&sign("evm", EVM_KEY, &altered, AGORA).await).await, "message_altered");

    // A nonce Agora never issued.
    let mut unknown = info.clone();
    unknown["nonce"] = "0123456789abcdef0123456789abcdef".into();
    refused(catalog.prove(&sign("evm", EVM_KEY, &unknown, AGORA).await).await, "unknown_nonce");

    // Too late: the challenge lives 10 minutes.
    let late = catalog.siwx_challenge(&url, EVM_ADDRESS).await["siwx"].clone();
    let signed = sign("evm", EVM_KEY, &late, AGORA).await;
    catalog.clock.advance(std::time::Duration::from_secs(601));
    refused(catalog.prove(&signed).await, "expired");

    // A takeover: another party asks to prove their own address for this service.
    refused(
        catalog
            .post("/api/v1/claims/challenges", None, &json!({"method": "siwx", "url": url, "pay_to": OTHER_ADDRESS}))
            .await,
        "pay_to_not_paid",
    );
    // ... or the origin's file, which they cannot serve.
    let (status, challenge) =
        catalog.post("/api/v1/claims/challenges", None, &json!({"method": "well_known", "url": url})).await;
    assert_eq!(status, 201, "{challenge}");
    refused(catalog.post("/api/v1/claims", None, &json!({"nonce": challenge["nonce"]})).await, "proof_unreachable");
    // Unregistered URLs cannot be claimed at all.
    refused(
        catalog
            .post("/api/v1/claims/challenges", None, &json!({"method": "well_known", "url": "http://127.0.0.9/x"}))
            .await,
        "not_registered",
    );
    let (_, detail) = catalog.get("/api/v1/services/1", None).await;
    assert_eq!(detail["verified"], false, "no refused proof verified anything");
    let (status, bad) = catalog.post("/api/v1/claims", None, &json!({"siwx": {"domain": 1}})).await;
    assert_eq!((status, bad["code"].as_str()), (422, Some("invalid_body")), "{bad}");
}

#[tokio::test]
async fn a_file_on_the_origin_proves_every_service_there_including_later_ones() {
    let catalog = Catalog::open(None).await;
    let seller = OwnedSeller::start([127, 0, 0, 84]).await;
    seller.pays("/a", EVM_ADDRESS);
    let first = catalog.register(&seller.url("/a")).await;
    let (status, challenge) = catalog
        .post("/api/v1/claims/challenges", None, &json!({"method": "well_known", "url": seller.url("/a")}))
        .await;
    assert_eq!(status, 201, "{challenge}");
    let file = challenge["well_known_url"].as_str().expect("where");
    assert!(file.starts_with(&format!("{}/.well-known/agora-verification/", seller.url(""))), "{file}");
    let nonce = challenge["nonce"].clone();

    // The wrong content; the right one padded past 1 KiB; the right one behind a redirect: refused,
    // and the challenge stays open. Then the right one.
    let content = challenge["content"].as_str().expect("content");
    seller.serve_proof(file, "agora-verification=not-it");
    let (status, wrong) = catalog.post("/api/v1/claims", None, &json!({"nonce": nonce})).await;
    assert_eq!((status, wrong["code"].as_str()), (422, Some("proof_mismatch")), "{wrong}");
    seller.serve_proof(file, &format!("{content}{}", " ".repeat(2048)));
    let (status, large) = catalog.post("/api/v1/claims", None, &json!({"nonce": nonce})).await;
    assert_eq!((status, large["code"].as_str()), (422, Some("proof_unreachable")), "{large}");
    seller.answer_proof(file, Reply::new(302).header("location", seller.url("/elsewhere")));
    let (status, moved) = catalog.post("/api/v1/claims", None, &json!({"nonce": nonce})).await;
    assert_eq!((status, moved["code"].as_str()), (422, Some("proof_unreachable")), "{moved}");
    seller.serve_proof(file, challenge["content"].as_str().expect("content"));
    let (status, proven) = catalog.post("/api/v1/claims", None, &json!({"nonce": nonce})).await;
    assert_eq!(status, 201, "{proven}");
    assert_eq!((proven["claim"]["kind"].clone(), proven["services"].clone()), (json!("origin"), json!([first])));

    seller.pays("/b", EVM_ADDRESS);
    let later = catalog.register(&seller.url("/b")).await;
    let (_, detail) = catalog.get(&format!("/api/v1/services/{later}"), None).await;
    assert_eq!(detail["verified"], true, "a service registered later on a proven origin: {detail}");
    assert_eq!(detail["proofs"][0]["kind"], "origin");
    let (_, owner) = catalog.get("/api/v1/owner", proven["owner_token"].as_str()).await;
    assert_eq!(owner["services"].as_array().map(Vec::len), Some(2));
}
