//! The MCP half of the load benchmark: the search mix as `search_services` tool calls, each one
//! stateless POST to `/mcp` at protocol 2026-07-28 (no session, the request's own `_meta`, the
//! `Mcp-Method`/`Mcp-Name` headers), as an agent's MCP client sends them.

use serde_json::{Map, Value, json};
use std::io::{Read, Write};

pub const PROTOCOL: &str = "2026-07-28";

/// The headers every call carries.
pub fn headers() -> Vec<(&'static str, &'static str)> {
    vec![
        ("Content-Type", "application/json"),
        ("Accept", "application/json, text/event-stream"),
        ("MCP-Protocol-Version", PROTOCOL),
        ("Mcp-Method", "tools/call"),
        ("Mcp-Name", "search_services"),
    ]
}

/// A `tools/call` of `search_services` with the arguments the API query string stands for.
pub fn call_body(query: &str) -> String {
    let meta = json!({
        "io.modelcontextprotocol/protocolVersion": PROTOCOL,
        "io.modelcontextprotocol/clientCapabilities": {},
    });
    json!({
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "search_services", "arguments": arguments(query), "_meta": meta},
    })
    .to_string()
}

/// `q=speech&network=solana&network=polygon` as tool arguments (repeatable filters as arrays,
/// numbers and booleans typed).
fn arguments(query: &str) -> Value {
    let mut args = Map::new();
    for pair in query.split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = value.replace('+', " ");
        match name {
            "network" | "asset" | "scheme" => {
                let list = args.entry(name).or_insert_with(|| json!([]));
                list.as_array_mut().expect("an array").push(json!(value));
            }
            "version" | "limit" | "offset" => {
                args.insert(name.into(), json!(value.parse::<u64>().expect("a number")));
            }
            "has_schema" => {
                args.insert(name.into(), json!(value == "true"));
            }
            _ => {
                args.insert(name.into(), json!(value));
            }
        }
    }
    Value::Object(args)
}

/// Sends one call and returns its JSON-RPC answer (a plain HTTP/1.1 request, no client tool).
pub fn call_once(address: &str, body: &str) -> Value {
    let mut stream = std::net::TcpStream::connect(address).expect("connect");
    let mut request = format!("POST /mcp HTTP/1.1\r\nhost: {address}\r\nconnection: close\r\n");
    for (name, value) in headers() {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!("content-length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(request.as_bytes()).expect("send");
    let mut text = String::new();
    stream.read_to_string(&mut text).expect("read");
    let json = text.split_once("\r\n\r\n").map(|(_, body)| body).unwrap_or_default();
    serde_json::from_str(json).unwrap_or_else(|_| panic!("not a JSON-RPC answer: {text}"))
}
