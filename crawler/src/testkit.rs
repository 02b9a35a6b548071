//! Test sellers: real HTTP/1.1 servers on a loopback address whose every answer a test scripts,
//! byte for byte (slow drips, huge headers, invalid encodings), plus valid challenge builders.
//!
//! Compiled only with the `testkit` feature, for this workspace's tests and benchmarks.

use base64::Engine as _;
use serde_json::{Value, json};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The request line and headers a seller received.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// How the body is sent.
#[derive(Debug, Clone)]
pub enum Body {
    /// All at once, with a Content-Length.
    Bytes(Vec<u8>),
    /// `chunk` every `every`, `times` times, without a Content-Length (close-delimited).
    Drip { chunk: Vec<u8>, every: Duration, times: usize },
}

/// A scripted answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Body,
}

impl Reply {
    pub fn new(status: u16) -> Self {
        Reply { status, headers: Vec::new(), body: Body::Bytes(Vec::new()) }
    }

    pub fn header(mut self, name: &str, value: impl Into<Vec<u8>>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Body::Bytes(body.into());
        self
    }

    pub fn json(self, value: &Value) -> Self {
        self.header("content-type", "application/json").body(value.to_string())
    }

    /// A v2 answer: 402, base64 JSON in PAYMENT-REQUIRED, body `{}` (what the TS SDK sends).
    pub fn v2(challenge: &Value) -> Self {
        let encoded = base64::engine::general_purpose::STANDARD.encode(challenge.to_string());
        Reply::new(402).header("PAYMENT-REQUIRED", encoded).json(&json!({}))
    }

    /// A v1 answer: 402 with the challenge as the JSON body.
    pub fn v1(challenge: &Value) -> Self {
        Reply::new(402).json(challenge)
    }

    pub fn drip(mut self, chunk: &[u8], every: Duration, times: usize) -> Self {
        self.body = Body::Drip { chunk: chunk.to_vec(), every, times };
        self
    }
}

type Handler = dyn Fn(&Request) -> Reply + Send + Sync;

/// A running seller. Stops when dropped.
pub struct Seller {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Seller {
    /// Starts a seller on `ip` (any 127.x.y.z works on Linux without setup), port 0.
    pub async fn start(
        ip: IpAddr,
        handler: impl Fn(&Request) -> Reply + Send + Sync + 'static,
    ) -> std::io::Result<Seller> {
        let listener = TcpListener::bind(SocketAddr::new(ip, 0)).await?;
        let addr = listener.local_addr()?;
        let connections = Arc::new(AtomicUsize::new(0));
        let handler: Arc<Handler> = Arc::new(handler);
        let counter = Arc::clone(&connections);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                let handler = Arc::clone(&handler);
                tokio::spawn(async move {
                    let _ = serve(stream, handler).await;
                });
            }
        });
        Ok(Seller { addr, connections, task })
    }

    /// Starts a seller on 127.0.0.1 that always gives `reply`.
    pub async fn always(reply: Reply) -> std::io::Result<Seller> {
        Seller::start(IpAddr::from([127, 0, 0, 1]), move |_| reply.clone()).await
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ip:port{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for Seller {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(mut stream: TcpStream, handler: Arc<Handler>) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf)).await??;
        if n == 0 || head.len() > 64 * 1024 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&head);
    let mut lines = text.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let request = Request {
        method: request_line.next().unwrap_or_default().to_string(),
        path: request_line.next().unwrap_or_default().to_string(),
        headers: lines
            .take_while(|l| !l.is_empty())
            .filter_map(|l| l.split_once(':').map(|(n, v)| (n.trim().to_string(), v.trim().to_string())))
            .collect(),
    };
    let reply = handler(&request);
    let mut out = format!("HTTP/1.1 {} X\r\nconnection: close\r\n", reply.status).into_bytes();
    for (name, value) in &reply.headers {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    match reply.body {
        Body::Bytes(body) => {
            out.extend_from_slice(format!("content-length: {}\r\n\r\n", body.len()).as_bytes());
            out.extend_from_slice(&body);
            stream.write_all(&out).await?;
        }
        Body::Drip { chunk, every, times } => {
            out.extend_from_slice(b"\r\n");
            stream.write_all(&out).await?;
            for _ in 0..times {
                stream.write_all(&chunk).await?;
                tokio::time::sleep(every).await;
            }
        }
    }
    stream.shutdown().await
}

/// A valid v2 challenge for `url`: USDC on Base at $0.001, with a bazaar extension.
pub fn v2_challenge(url: &str) -> Value {
    json!({
        "x402Version": 2,
        "error": "Payment required",
        "resource": {"url": url, "description": "Current weather", "mimeType": "application/json", "serviceName": "Weather", "tags": ["weather"]},
        "accepts": [{
            "scheme": "exact",
            "network": "eip155:8453",
            "amount": "1000",
            "asset": "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913",
            "payTo": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C",
            "maxTimeoutSeconds": 300,
            "extra": {"name": "USD Coin", "version": "2"}
        }],
        "extensions": {"bazaar": {
            "info": {"input": {"type": "http", "method": "GET", "queryParams": {"city": "Paris"}}, "output": {"type": "json"}},
            "schema": {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "properties": {"input": {"type": "object", "properties": {"type": {"const": "http"}, "method": {"enum": ["GET"]}}, "required": ["type", "method"]}},
                "required": ["input"]
            }
        }}
    })
}

/// A valid v1 challenge for `url`: USDC on Base Sepolia at $0.01.
pub fn v1_challenge(url: &str) -> Value {
    json!({
        "x402Version": 1,
        "error": "X-PAYMENT header is required",
        "accepts": [{
            "scheme": "exact",
            "network": "base-sepolia",
            "maxAmountRequired": "10000",
            "resource": url,
            "description": "Premium data",
            "mimeType": "application/json",
            "payTo": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C",
            "maxTimeoutSeconds": 60,
            "asset": "0x036CbD53842c5426634e7929541eC2318f3dCF7e",
            "outputSchema": {"input": {"type": "http", "method": "GET", "discoverable": true}, "output": null},
            "extra": {"name": "USDC", "version": "2"}
        }]
    })
}

/// The amplification attack of a v1 body: `{"x402Version":1,"error":"x","accepts":[{},{},…]}`
/// with `entries` empty objects (every one of them missing every required key).
pub fn empty_entries_body(entries: usize) -> Vec<u8> {
    let mut body = br#"{"x402Version":1,"error":"x","accepts":["#.to_vec();
    for i in 0..entries {
        body.extend_from_slice(if i == 0 { b"{}" } else { b",{}" });
    }
    body.extend_from_slice(b"]}");
    body
}

/// The largest challenge Agora lists: every field at its cap (`x402::limits`) — as many offers as
/// are examined, each on an unknown network with the longest opaque addresses, a 78-digit amount
/// and a full `extra`; the longest description, in 4-byte characters; discovery schemas just
/// under their cap. Too large for the header: serve it as a body (read with a warning).
pub fn widest_valid_challenge(url: &str) -> Value {
    use crate::x402::limits::{MAX_ACCEPTS, MAX_DESCRIPTION_CHARS, MAX_DISCOVERY_BYTES, MAX_EXTRA_BYTES};
    let opaque = |c: char, i: usize| format!("{i:03}{}", c.to_string().repeat(253));
    let accepts: Vec<Value> = (0..MAX_ACCEPTS)
        .map(|i| {
            let mut extra = json!({"name": "USD Coin", "version": "2", "pad": ""});
            let pad = MAX_EXTRA_BYTES - extra.to_string().len();
            extra["pad"] = Value::String("p".repeat(pad));
            json!({
                "scheme": "exact",
                "network": format!("zzzzzzz{}:{:0>64}", i % 10, i),
                "amount": format!("1{}", "0".repeat(77)),
                "asset": opaque('a', i),
                "payTo": opaque('p', i),
                "maxTimeoutSeconds": 300,
                "extra": extra,
            })
        })
        .collect();
    let schema_pad = "s".repeat(MAX_DISCOVERY_BYTES - 200);
    json!({
        "x402Version": 2,
        "error": "Payment required",
        "resource": {
            "url": url,
            "description": "\u{1F600}".repeat(MAX_DESCRIPTION_CHARS),
            "mimeType": "application/json",
            "serviceName": "W".repeat(32),
            "tags": ["t".repeat(32), "u".repeat(32), "v".repeat(32), "w".repeat(32), "x".repeat(32)],
        },
        "accepts": accepts,
        "extensions": {"bazaar": {
            "info": {"input": {"type": "http", "method": "GET", "queryParams": {"pad": schema_pad}}, "output": {"type": "json"}},
            "schema": {"type": "object"}
        }}
    })
}
