//! `agora serve --demo`: a handful of built-in x402 sellers on a loopback address of their own,
//! registered through the normal registration path, so a new user sees the whole flow —
//! registration, probing, listing, search, a refusal with its reasons — from one command.
//!
//! The variety is deliberate: v2 (`PAYMENT-REQUIRED` header) and v1 (JSON body) challenges,
//! Base, Polygon, Solana and a testnet, `exact` and `upto`, one service with two offers, one with
//! a POST route, and one broken challenge that ends up `rejected`. Payments are never settled: these
//! sellers only ever answer 402.
//!
//! They listen on [`DEMO_IP`] only, and `serve --demo` opens exactly that /32 in the address
//! policy: other loopback and private addresses stay closed to registrations.

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use base64::Engine;
use ipnet::IpNet;
use serde_json::{Value, json};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use tokio_util::sync::CancellationToken;

/// The demo sellers' address: a loopback address no other local service is likely to use.
pub const DEMO_IP: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 88);
/// Their preferred port: the same URLs on every run, so a rerun finds its services again
/// instead of registering new ones. Any free port when it is taken.
pub const DEMO_PORT: u16 = 8402;

const PAY_TO_EVM: &str = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C";
const PAY_TO_SOLANA: &str = "CKPKJWNdJEqa81x7CkZ14BVPiY6y16Sxs7owznqtWYp5";
const SOLANA_FEE_PAYER: &str = "2wKupLR9q6wXYppw8Gr2NvWxKBUqm4PPJKkQfoxHDBg4";
const USDC_BASE: &str = "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913";
const USDC_BASE_SEPOLIA: &str = "0x036CbD53842c5426634e7929541eC2318f3dCF7e";
const USDC_POLYGON: &str = "0x3c499c542cEF5E3811e1192ce70d8cC03d5c3359";
const USDC_SOLANA: &str = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v";

/// One demo endpoint: its route, method and the challenge it answers with (built for its URL).
pub struct DemoRoute {
    pub path: &'static str,
    pub method: &'static str,
    challenge: fn(&str) -> Value,
}

/// Every demo endpoint, in registration order.
pub const ROUTES: &[DemoRoute] = &[
    DemoRoute { path: "/weather", method: "GET", challenge: weather },
    DemoRoute { path: "/translate", method: "POST", challenge: translate },
    DemoRoute { path: "/news/summary", method: "GET", challenge: news },
    DemoRoute { path: "/llm/complete", method: "POST", challenge: completion },
    DemoRoute { path: "/images/resize", method: "GET", challenge: resize },
    DemoRoute { path: "/testnet/echo", method: "GET", challenge: echo },
    DemoRoute { path: "/broken/quote", method: "GET", challenge: broken },
];

/// The running demo sellers.
pub struct DemoSellers {
    addr: SocketAddr,
}

impl DemoSellers {
    /// Listens on [`DEMO_IP`] until `cancel`.
    pub async fn start(cancel: CancellationToken) -> std::io::Result<DemoSellers> {
        let listener = match tokio::net::TcpListener::bind(SocketAddr::new(IpAddr::V4(DEMO_IP), DEMO_PORT)).await {
            Ok(listener) => listener,
            Err(_) => tokio::net::TcpListener::bind(SocketAddr::new(IpAddr::V4(DEMO_IP), 0)).await?,
        };
        let addr = listener.local_addr()?;
        let base = format!("http://{addr}");
        let app = Router::new().fallback(move |request: Request| {
            let base = base.clone();
            async move { answer(&base, &request) }
        });
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).with_graceful_shutdown(cancel.cancelled_owned()).await;
        });
        Ok(DemoSellers { addr })
    }

    /// The one range the address policy must open for them.
    pub fn cidr() -> IpNet {
        IpNet::from(IpAddr::V4(DEMO_IP))
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

/// The 402 for a known route (any method: a wrong one is the crawler's finding, not ours), else 404.
fn answer(base: &str, request: &Request) -> Response {
    let path = request.uri().path();
    let Some(route) = ROUTES.iter().find(|route| route.path == path) else {
        return plain(StatusCode::NOT_FOUND, "not found");
    };
    let challenge = (route.challenge)(&format!("{base}{path}"));
    // v2 sends the challenge base64-encoded in a header, v1 as the body.
    let mut response = if challenge["x402Version"] == 2 {
        let encoded = base64::engine::general_purpose::STANDARD.encode(challenge.to_string());
        let mut response = json_response(&json!({}));
        if let Ok(value) = HeaderValue::from_str(&encoded) {
            response.headers_mut().insert("payment-required", value);
        }
        response
    } else {
        json_response(&challenge)
    };
    *response.status_mut() = StatusCode::PAYMENT_REQUIRED;
    response
}

fn json_response(value: &Value) -> Response {
    let mut response = Response::new(Body::from(value.to_string()));
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn plain(status: StatusCode, text: &'static str) -> Response {
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = status;
    response
}

fn evm_exact(network: &str, asset: &str, amount: &str, name: &str) -> Value {
    json!({
        "scheme": "exact", "network": network, "amount": amount, "asset": asset, "payTo": PAY_TO_EVM,
        "maxTimeoutSeconds": 60, "extra": {"name": name, "version": "2"}
    })
}

fn v2(url: &str, description: &str, name: &str, tags: &[&str], accepts: Value, bazaar: Option<Value>) -> Value {
    let mut challenge = json!({
        "x402Version": 2,
        "error": "Payment required",
        "resource": {"url": url, "description": description, "mimeType": "application/json",
                     "serviceName": name, "tags": tags},
        "accepts": accepts,
    });
    if let Some(bazaar) = bazaar {
        challenge["extensions"] = json!({ "bazaar": bazaar });
    }
    challenge
}

/// A bazaar extension whose `info.input` is valid against its own `schema`.
fn bazaar(method: &str, input: Value, example: Value, output: Value) -> Value {
    let field = if method == "GET" { "queryParams" } else { "body" };
    let mut info_input = json!({"type": "http", "method": method});
    info_input[field] = example;
    if method != "GET" {
        info_input["bodyType"] = json!("json");
    }
    json!({
        "info": {"input": info_input, "output": {"type": "json", "example": output}},
        "schema": {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {"input": {
                "type": "object",
                "properties": {"type": {"const": "http"}, "method": {"enum": [method]}, field: input},
                "required": ["type", "method"]
            }},
            "required": ["input"]
        }
    })
}

fn weather(url: &str) -> Value {
    let input = json!({"type": "object", "properties": {"city": {"type": "string", "description": "City name"}}});
    v2(
        url,
        "Current conditions and a 7-day forecast for any city",
        "Demo Weather",
        &["weather", "forecast"],
        json!([evm_exact("eip155:8453", USDC_BASE, "1000", "USD Coin")]),
        Some(bazaar("GET", input, json!({"city": "Lisbon"}), json!({"temperature_c": 21, "sky": "clear"}))),
    )
}

fn translate(url: &str) -> Value {
    let input = json!({"type": "object", "properties": {
        "text": {"type": "string", "description": "Text to translate"},
        "target": {"type": "string", "description": "Target language code"}}});
    let solana = json!({
        "scheme": "exact", "network": "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp", "amount": "5000",
        "asset": USDC_SOLANA, "payTo": PAY_TO_SOLANA, "maxTimeoutSeconds": 60,
        "extra": {"feePayer": SOLANA_FEE_PAYER}
    });
    v2(
        url,
        "Translate text between 40 languages",
        "Demo Translate",
        &["translation", "language"],
        json!([evm_exact("eip155:8453", USDC_BASE, "5000", "USD Coin"), solana]),
        Some(bazaar("POST", input, json!({"text": "hello", "target": "pt"}), json!({"text": "olá"}))),
    )
}

fn news(url: &str) -> Value {
    json!({
        "x402Version": 1,
        "error": "X-PAYMENT header is required",
        "accepts": [{
            "scheme": "exact", "network": "base", "maxAmountRequired": "10000", "resource": url,
            "description": "Summaries of today's top headlines", "mimeType": "application/json",
            "payTo": PAY_TO_EVM, "maxTimeoutSeconds": 60, "asset": USDC_BASE,
            "outputSchema": {"input": {"type": "http", "method": "GET", "discoverable": true}, "output": null},
            "extra": {"name": "USD Coin", "version": "2"}
        }]
    })
}

fn completion(url: &str) -> Value {
    let upto = json!({
        "scheme": "upto", "network": "eip155:8453", "amount": "500000", "asset": USDC_BASE, "payTo": PAY_TO_EVM,
        "maxTimeoutSeconds": 120,
        "extra": {"name": "USD Coin", "version": "2", "facilitatorAddress": "0x4e6f0a8d9C1a2B3c4D5e6F7a8B9c0D1e2F3a4B5c"}
    });
    v2(url, "Text completion, billed per token up to a cap", "Demo Completions", &["llm", "ai"], json!([upto]), None)
}

fn resize(url: &str) -> Value {
    v2(
        url,
        "Resize and convert images",
        "Demo Images",
        &["images"],
        json!([evm_exact("eip155:137", USDC_POLYGON, "2500", "USD Coin")]),
        None,
    )
}

fn echo(url: &str) -> Value {
    v2(
        url,
        "Echoes its input: for trying payments on a testnet",
        "Demo Echo (testnet)",
        &["testing"],
        json!([evm_exact("eip155:84532", USDC_BASE_SEPOLIA, "100", "USDC")]),
        None,
    )
}

/// Broken on purpose: a decimal amount and a payTo that is not an address.
fn broken(url: &str) -> Value {
    let mut offer = evm_exact("eip155:8453", USDC_BASE, "0.25", "USD Coin");
    offer["payTo"] = json!("my-wallet");
    v2(url, "Stock quotes (broken challenge)", "Demo Broken Quotes", &["finance"], json!([offer]), None)
}
