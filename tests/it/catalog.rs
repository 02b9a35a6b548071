//! A catalog for search tests, built the way production builds one: real sellers on loopback
//! (two hosts) answer each path with a challenge generated from a [`ServiceSpec`]; every URL is
//! registered through `jobs::register` (canonicalize, store, probe, record). The specs stay with
//! the test as the truth that search results are checked against.

use crate::support::{T0, open_app, options};
use agora::app::App;
use agora::clock::ManualClock;
use agora::db::services::DueService;
use agora::jobs::register::register;
use agora::search::SearchIndex;
use agora_crawler::testkit::{Reply, Request, Seller};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const PAY_TO: &str = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C";

/// One `accepts` entry as the seller writes it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OfferSpec {
    pub network: &'static str,
    pub v1: &'static str,
    pub asset: &'static str,
    /// `Some` for the known USDC contracts (6 decimals: atomic units are micro-dollars).
    pub symbol: Option<&'static str>,
    pub testnet: bool,
    pub scheme: &'static str,
    pub amount: i64,
}

impl OfferSpec {
    pub fn usd_micros(&self) -> Option<i64> {
        self.symbol.map(|_| self.amount)
    }
}

pub const BASE_USDC: OfferSpec = OfferSpec {
    network: "eip155:8453",
    v1: "base",
    asset: "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913",
    symbol: Some("USDC"),
    testnet: false,
    scheme: "exact",
    amount: 1000,
};
pub const POLYGON_USDC: OfferSpec = OfferSpec {
    network: "eip155:137",
    v1: "polygon",
    asset: "0x3c499c542cEF5E3811e1192ce70d8cC03d5c3359",
    ..BASE_USDC
};
pub const AVALANCHE_USDC: OfferSpec = OfferSpec {
    network: "eip155:43114",
    v1: "avalanche",
    asset: "0xB97EF9Ef8734C71904D8002F8b6Bc66Dd9c48a6E",
    ..BASE_USDC
};
pub const SEPOLIA_USDC: OfferSpec = OfferSpec {
    network: "eip155:84532",
    v1: "base-sepolia",
    asset: "0x036CbD53842c5426634e7929541eC2318f3dCF7e",
    testnet: true,
    ..BASE_USDC
};
/// A token Agora has no price for.
pub const BASE_OTHER: OfferSpec =
    OfferSpec { asset: "0x1111111111111111111111111111111111111111", symbol: None, ..BASE_USDC };

/// One service as the seller describes it, plus what the test learns while building.
#[derive(Debug, Clone)]
pub struct ServiceSpec {
    pub path: String,
    /// Which seller (host) answers it: 0 → 127.0.0.1, 1 → 127.0.0.2.
    pub seller: usize,
    pub name: String,
    pub description: String,
    pub tags: Vec<String>,
    /// The query parameter its input schema names.
    pub param: String,
    pub version: u8,
    pub schema: bool,
    /// Sold as an MCP tool of this name (its bazaar metadata says `type: "mcp"`).
    pub mcp_tool: Option<String>,
    pub offers: Vec<OfferSpec>,
    /// The `mimeType` its challenge declares.
    pub mime_type: &'static str,
    pub id: i64,
    pub registered_at: i64,
    /// Probes and successes.
    pub uptime: (i64, i64),
}

impl ServiceSpec {
    pub fn new(path: &str, name: &str, description: &str, tags: &[&str], param: &str) -> ServiceSpec {
        ServiceSpec {
            path: path.to_string(),
            seller: 0,
            name: name.to_string(),
            description: description.to_string(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            param: param.to_string(),
            version: 2,
            schema: true,
            mcp_tool: None,
            offers: vec![BASE_USDC],
            mime_type: "application/json",
            id: 0,
            registered_at: 0,
            uptime: (0, 0),
        }
    }

    pub fn host(&self) -> &'static str {
        ["127.0.0.1", "127.0.0.2"][self.seller]
    }
}

/// The challenge a seller answers for `spec` at `url`.
pub fn challenge(spec: &ServiceSpec, url: &str) -> Value {
    let extra = |o: &OfferSpec| {
        if o.scheme == "upto" {
            json!({"facilitatorAddress": PAY_TO})
        } else {
            json!({"name": if o.testnet { "USDC" } else { "USD Coin" }, "version": "2"})
        }
    };
    if spec.version == 1 {
        let accepts: Vec<Value> = spec
            .offers
            .iter()
            .map(|o| {
                let mut entry = json!({
                    "scheme": o.scheme, "network": o.v1, "maxAmountRequired": o.amount.to_string(),
                    "resource": url, "description": spec.description, "mimeType": spec.mime_type,
                    "payTo": PAY_TO, "maxTimeoutSeconds": 60, "asset": o.asset, "extra": extra(o)
                });
                if spec.schema {
                    entry["outputSchema"] = json!({"input": {"type": "http", "method": "GET", "discoverable": true,
                        "queryParams": {spec.param.clone(): {"type": "string", "description": "what to look up"}}}, "output": null});
                }
                entry
            })
            .collect();
        return json!({"x402Version": 1, "error": "X-PAYMENT header is required", "accepts": accepts});
    }
    let accepts: Vec<Value> = spec
        .offers
        .iter()
        .map(|o| {
            json!({"scheme": o.scheme, "network": o.network, "amount": o.amount.to_string(), "asset": o.asset,
                   "payTo": PAY_TO, "maxTimeoutSeconds": 300, "extra": extra(o)})
        })
        .collect();
    let mut challenge = json!({
        "x402Version": 2,
        "error": "Payment required",
        "resource": {"url": url, "description": spec.description, "mimeType": spec.mime_type,
                     "serviceName": spec.name, "tags": spec.tags},
        "accepts": accepts,
    });
    if let Some(tool) = &spec.mcp_tool {
        challenge["extensions"] = json!({"bazaar": {
            "info": {"input": {"type": "mcp", "toolName": tool, "inputSchema": {"type": "object", "properties": {spec.param.clone(): {"type": "string"}}}}},
            "schema": {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "properties": {"input": {"type": "object", "properties": {"type": {"const": "mcp"}}, "required": ["type", "toolName"]}},
                "required": ["input"]
            }
        }});
    } else if spec.schema {
        challenge["extensions"] = json!({"bazaar": {
            "info": {"input": {"type": "http", "method": "GET", "queryParams": {spec.param.clone(): "x"}}, "output": {"type": "json"}},
            "schema": {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "properties": {"input": {"type": "object", "properties": {"type": {"const": "http"}, "method": {"enum": ["GET"]}}, "required": ["type", "method"]}},
                "required": ["input"]
            }
        }});
    }
    challenge
}

type Replies = Arc<Mutex<HashMap<(usize, String), Reply>>>;

/// The running catalog: app, clock, sellers, specs.
pub struct Catalog {
    pub app: App,
    pub clock: ManualClock,
    pub specs: Vec<ServiceSpec>,
    pub sellers: Vec<Seller>,
    replies: Replies,
    pub dir: tempfile::TempDir,
}

impl Catalog {
    /// Starts the sellers and registers every spec, one second apart on the manual clock.
    pub async fn build(specs: Vec<ServiceSpec>) -> Catalog {
        Catalog::build_with(specs, &[]).await
    }

    /// Like [`Catalog::build`], with extra global flags (lifecycle thresholds).
    pub async fn build_with(specs: Vec<ServiceSpec>, flags: &[&str]) -> Catalog {
        Catalog::build_in(specs, flags, false).await
    }

    /// Like [`Catalog::build`], on SQLite whatever the test pass (a source for `migrate-store`).
    pub async fn build_on_sqlite(specs: Vec<ServiceSpec>) -> Catalog {
        Catalog::build_in(specs, &[], true).await
    }

    async fn build_in(specs: Vec<ServiceSpec>, flags: &[&str], sqlite: bool) -> Catalog {
        let dir = tempfile::tempdir().expect("temp dir");
        let clock = ManualClock::new(T0);
        let mut all = vec!["--allow-cidr", "127.0.0.0/8", "--host-delay-ms", "0"];
        all.extend_from_slice(flags);
        let options = if sqlite { crate::support::sqlite_options(dir.path(), &all) } else { options(dir.path(), &all) };
        let app = open_app(&options, &clock).await;
        let replies: Replies = Arc::default();
        let mut sellers = Vec::new();
        for (index, ip) in [[127, 0, 0, 1], [127, 0, 0, 2]].into_iter().enumerate() {
            let replies = Arc::clone(&replies);
            let seller = Seller::start(IpAddr::from(ip), move |request: &Request| {
                let found = replies.lock().expect("lock").get(&(index, request.path.clone())).cloned();
                found.unwrap_or_else(|| Reply::new(404))
            })
            .await
            .expect("seller starts");
            sellers.push(seller);
        }
        let mut catalog = Catalog { app, clock, specs: Vec::new(), sellers, replies, dir };
        for spec in specs {
            catalog.add(spec).await;
        }
        catalog
    }

    pub fn url(&self, spec: &ServiceSpec) -> String {
        self.sellers[spec.seller].url(&spec.path)
    }

    pub fn search(&self) -> &SearchIndex {
        &self.app.search
    }

    /// Serves `spec`'s challenge and registers it; returns its index in `specs`.
    pub async fn add(&mut self, mut spec: ServiceSpec) -> usize {
        self.serve(&spec);
        self.clock.advance(Duration::from_secs(1));
        let registration = register(&self.app.dispatcher, &self.url(&spec), None).await.expect("registers");
        assert_eq!(registration.service.status.as_str(), "listed", "{}: {:?}", spec.path, registration.report.problems);
        spec.id = registration.service.id;
        spec.registered_at = self.clock_now();
        spec.uptime = (1, 1);
        self.specs.push(spec);
        self.specs.len() - 1
    }

    pub fn clock_now(&self) -> i64 {
        use agora::clock::Clock;
        self.clock.now_ms()
    }

    /// Answers `spec`'s path with its (current) challenge.
    pub fn serve(&self, spec: &ServiceSpec) {
        let url = self.url(spec);
        let challenge = challenge(spec, &url);
        self.set_reply(spec, if spec.version == 1 { Reply::v1(&challenge) } else { Reply::v2(&challenge) });
    }

    pub fn set_reply(&self, spec: &ServiceSpec, reply: Reply) {
        self.replies.lock().expect("lock").insert((spec.seller, spec.path.clone()), reply);
    }

    /// Probes service `index` now (as the scheduler would when it falls due).
    pub async fn reprobe(&self, index: usize) {
        let spec = &self.specs[index];
        let due = DueService { id: spec.id, url: self.url(spec), method: "GET".into(), host: spec.host().into() };
        self.app.dispatcher.probe_now(due).await.expect("probed");
    }
}

/// Services whose text makes relevance obvious to a person.
pub fn relevance_specs() -> Vec<ServiceSpec> {
    vec![
        ServiceSpec::new(
            "/weather",
            "Weather",
            "Current conditions and 7-day forecasts for any city",
            &["weather", "forecast"],
            "city",
        ),
        ServiceSpec::new("/air", "Air quality", "Pollution index that pairs well with weather data", &["air"], "city"),
        ServiceSpec::new(
            "/stocks",
            "Stock quotes",
            "Real-time equity prices from major exchanges",
            &["finance", "stocks"],
            "ticker",
        ),
        ServiceSpec::new("/translate", "Translate", "Machine translation between 100 languages", &["language"], "text"),
        ServiceSpec::new("/geo", "Geocoder", "Addresses to coordinates", &["maps"], "weather_station"),
        ServiceSpec::new("/news", "News digest", "Headlines summarized hourly", &["news"], "topic"),
    ]
}

const NAMES: &[&str] = &[
    "Image resize",
    "PDF render",
    "Web search",
    "Crypto prices",
    "Sentiment",
    "OCR",
    "Speech to text",
    "Embeddings",
    "Scraper",
    "Dataset",
];
const WORDS: &[&str] =
    &["fast", "reliable", "json", "batch", "realtime", "cheap", "accurate", "global", "secure", "simple", "quokka"];
const PARAMS: &[&str] = &["url", "query", "image", "document", "audio", "limit"];

/// `n` varied services: versions, hosts, schemas, 1–3 offers over known, testnet and unpriced
/// assets, `exact` and `upto`, prices from $0.0005 to $2.
pub fn random_specs(n: usize, seed: u64) -> Vec<ServiceSpec> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let pool = [BASE_USDC, POLYGON_USDC, AVALANCHE_USDC, SEPOLIA_USDC, BASE_OTHER];
    let prices = [500, 1000, 1001, 5000, 10_000, 50_000, 100_000, 250_000, 1_000_000, 2_000_000];
    (0..n)
        .map(|i| {
            let words: Vec<&str> = (0..4).map(|_| WORDS[rng.usize(..WORDS.len())]).collect();
            let mut spec = ServiceSpec::new(
                &format!("/svc/{i}"),
                &format!("{} {i}", NAMES[rng.usize(..NAMES.len())]),
                &format!("A {} service", words.join(" ")),
                &[NAMES[i % NAMES.len()].split(' ').next().unwrap_or("x")],
                PARAMS[rng.usize(..PARAMS.len())],
            );
            spec.seller = rng.usize(..2);
            spec.version = if rng.u8(..4) == 0 { 1 } else { 2 };
            spec.schema = rng.bool();
            let count = rng.usize(1..=3);
            let mut offers: Vec<OfferSpec> = Vec::new();
            while offers.len() < count {
                let mut offer = pool[rng.usize(..pool.len())];
                if offers.iter().any(|o| o.network == offer.network && o.asset == offer.asset) {
                    continue;
                }
                offer.amount = prices[rng.usize(..prices.len())];
                if spec.version == 2 && rng.u8(..5) == 0 {
                    offer.scheme = "upto";
                }
                offers.push(offer);
            }
            spec.offers = offers;
            spec
        })
        .collect()
}
