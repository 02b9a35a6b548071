//! Where an origin publishes its own paid routes (PROTOCOL §8.5), in every shape in use: the
//! draft `/.well-known/x402.json` (`{x402Version: 2, items: [...]}`), `/.well-known/x402`
//! (`{version: 1, resources: [url, ...]}`, or a `services` list), and OpenAPI documents whose
//! operations carry `x-payment-info`. An origin speaks only for itself: a URL on another
//! registrable domain is refused with a reason, never followed. A path parameter takes its
//! documented example; without one the route is skipped with a reason.

use crate::report::Finding;
use crate::sources::{Claim, SourceEntry};
use serde_json::{Map, Value};
use url::Url;

/// The documents read from an origin, in order.
pub const DOCUMENTS: &[&str] =
    &["/.well-known/x402.json", "/.well-known/x402", "/openapi.json", "/.well-known/openapi.json"];
/// Most routes taken from one document.
pub const MAX_ROUTES: usize = 10_000;
/// HTTP methods an OpenAPI operation may be paid on.
const METHODS: &[&str] = &["get", "post", "put", "patch", "delete"];

/// What one document lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Routes {
    pub entries: Vec<SourceEntry>,
    /// Routes not taken, with why.
    pub skipped: Vec<Finding>,
}

/// Reads the document at `path` of `origin`. `Err`: it is not such a document.
pub fn parse(origin: &Url, path: &str, body: &[u8]) -> Result<Routes, Finding> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| Finding::new("origin_document_invalid", format!("{path} is not JSON: {e}.")))?;
    let object = value
        .as_object()
        .ok_or_else(|| Finding::new("origin_document_invalid", format!("{path} is not a JSON object.")))?;
    let mut routes = if object.contains_key("openapi") || object.contains_key("paths") {
        openapi(origin, object)
    } else if let Some(items) = object.get("items").and_then(Value::as_array) {
        manifest_items(items)
    } else if let Some(list) = ["resources", "services"].iter().find_map(|k| object.get(*k).and_then(Value::as_array)) {
        url_list(list)
    } else {
        return Err(Finding::new("origin_document_invalid", format!("{path} lists no routes.")));
    };
    keep_own(origin, &mut routes);
    routes.entries.truncate(MAX_ROUTES);
    Ok(routes)
}

/// Refuses every entry whose URL is not on the origin's registrable domain.
fn keep_own(origin: &Url, routes: &mut Routes) {
    let own = registrable(origin);
    let (kept, foreign): (Vec<_>, Vec<_>) = std::mem::take(&mut routes.entries)
        .into_iter()
        .partition(|entry| Url::parse(&entry.url).ok().is_some_and(|url| registrable(&url) == own));
    routes.entries = kept;
    routes.skipped.extend(foreign.into_iter().map(|entry| {
        Finding::new(
            "origin_foreign_route",
            format!("{} is not on the origin's domain; an origin lists only its own routes.", entry.url),
        )
    }));
}

/// The registrable domain of a URL's host (`api.example.co.uk` → `example.co.uk`); an IP address
/// or a name without a public suffix stands for itself.
pub fn registrable(url: &Url) -> Option<String> {
    match url.host()? {
        url::Host::Domain(name) => {
            let host = name.trim_end_matches('.').to_ascii_lowercase();
            Some(psl::domain_str(&host).map_or(host.clone(), str::to_string))
        }
        address => Some(address.to_string()),
    }
}

/// The draft manifest's items: `{resource: {url, description?}, type, accepts?, input: {method}}`.
fn manifest_items(items: &[Value]) -> Routes {
    let mut routes = Routes::default();
    for (index, item) in items.iter().enumerate() {
        let url = item.pointer("/resource/url").or_else(|| item.get("resource")).and_then(Value::as_str);
        let Some(url) = url else {
            routes.skipped.push(Finding::new("origin_route_skipped", format!("Item {index} has no resource URL.")));
            continue;
        };
        let method = item.pointer("/input/method").and_then(Value::as_str).map(str::to_ascii_uppercase);
        let description = item.pointer("/resource/description").and_then(Value::as_str).map(clip);
        routes.entries.push(SourceEntry {
            url: url.to_string(),
            method,
            claim: Claim { description, ..Claim::default() },
        });
    }
    routes
}

/// `/.well-known/x402`'s `resources` (URLs, or `{url, method}` objects) or `services` list.
fn url_list(list: &[Value]) -> Routes {
    let mut routes = Routes::default();
    for (index, item) in list.iter().enumerate() {
        let (url, method) = match item {
            Value::String(url) => (Some(url.as_str()), None),
            Value::Object(object) => (
                ["url", "resource", "endpoint"].iter().find_map(|k| object.get(*k).and_then(Value::as_str)),
                object.get("method").and_then(Value::as_str).map(str::to_ascii_uppercase),
            ),
            _ => (None, None),
        };
        match url {
            Some(url) => routes.entries.push(SourceEntry { url: url.to_string(), method, claim: Claim::default() }),
            None => routes.skipped.push(Finding::new("origin_route_skipped", format!("Entry {index} has no URL."))),
        }
    }
    routes
}

/// The paid operations of an OpenAPI document: those with `x-payment-info`, on the first server
/// (relative to the origin) or the origin itself.
fn openapi(origin: &Url, document: &Map<String, Value>) -> Routes {
    let mut routes = Routes::default();
    let base = document
        .get("servers")
        .and_then(Value::as_array)
        .and_then(|servers| servers.first())
        .and_then(|server| server.get("url"))
        .and_then(Value::as_str)
        .and_then(|server| origin.join(server).ok())
        .unwrap_or_else(|| origin.clone());
    let Some(paths) = document.get("paths").and_then(Value::as_object) else { return routes };
    for (path, item) in paths {
        for method in METHODS {
            let Some(operation) = item.get(*method).and_then(Value::as_object) else { continue };
            let Some(payment) = operation.get("x-payment-info") else { continue };
            let protocols = payment.get("protocols").and_then(Value::as_array);
            if protocols.is_some_and(|p| !p.iter().any(|v| v.as_str() == Some("x402"))) {
                continue;
            }
            match fill_path(path, item, operation) {
                Ok(filled) => {
                    let url = format!("{}{}", base.as_str().trim_end_matches('/'), filled);
                    let description = ["summary", "description"]
                        .iter()
                        .find_map(|k| operation.get(*k).and_then(Value::as_str))
                        .map(clip);
                    let usd = payment
                        .get("price")
                        .and_then(|p| p.as_str().map(str::to_string).or_else(|| p.as_f64().map(|f| f.to_string())))
                        .map(|p| p.trim_start_matches('$').to_string());
                    let claim = Claim { usd, description, ..Claim::default() };
                    routes.entries.push(SourceEntry { url, method: Some(method.to_ascii_uppercase()), claim });
                }
                Err(reason) => routes.skipped.push(Finding::new(
                    "origin_route_skipped",
                    format!("{} {path}: {reason}.", method.to_ascii_uppercase()),
                )),
            }
        }
    }
    routes
}

/// `path` with every `{name}` replaced by the parameter's documented example.
fn fill_path(path: &str, item: &Value, operation: &Map<String, Value>) -> Result<String, String> {
    let parameters: Vec<&Value> = [item.get("parameters"), operation.get("parameters")]
        .into_iter()
        .flatten()
        .filter_map(Value::as_array)
        .flatten()
        .collect();
    let mut filled = String::with_capacity(path.len());
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}').map(|c| open + c).ok_or("an unclosed path parameter")?;
        let name = &rest[open + 1..close];
        let example = parameters
            .iter()
            .filter(|p| p.get("name").and_then(Value::as_str) == Some(name))
            .find_map(|p| {
                p.get("example").or_else(|| p.pointer("/schema/example")).or_else(|| {
                    p.get("examples").and_then(Value::as_object).and_then(|e| e.values().next()?.get("value"))
                })
            })
            .and_then(|v| v.as_str().map(str::to_string).or_else(|| v.as_i64().map(|n| n.to_string())))
            .ok_or_else(|| format!("path parameter `{name}` has no example to call it with"))?;
        filled.push_str(&rest[..open]);
        filled.extend(url::form_urlencoded::byte_serialize(example.as_bytes()));
        rest = &rest[close + 1..];
    }
    filled.push_str(rest);
    Ok(filled)
}

fn clip(text: &str) -> String {
    text.chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn origin() -> Url {
        Url::parse("https://api.example.co.uk").expect("url")
    }

    fn read(path: &str, document: Value) -> Routes {
        parse(&origin(), path, document.to_string().as_bytes()).expect("a document")
    }

    fn urls(routes: &Routes) -> Vec<(&str, Option<&str>)> {
        routes.entries.iter().map(|e| (e.url.as_str(), e.method.as_deref())).collect()
    }

    #[test]
    fn each_document_shape_lists_its_routes() {
        let manifest = read(
            "/.well-known/x402.json",
            json!({"x402Version": 2, "items": [
                {"resource": {"url": "https://api.example.co.uk/weather", "description": "Weather"}, "type": "http", "input": {"method": "get"}},
                {"resource": {"url": "https://evil.example/steal"}, "type": "http"},
                {"type": "http"}
            ]}),
        );
        assert_eq!(urls(&manifest), [("https://api.example.co.uk/weather", Some("GET"))]);
        assert_eq!(
            manifest.skipped.iter().map(|f| f.code.as_str()).collect::<Vec<_>>(),
            ["origin_route_skipped", "origin_foreign_route"]
        );

        let list = read(
            "/.well-known/x402",
            json!({"version": 1, "resources": [
                "https://api.example.co.uk/a", {"url": "https://cdn.example.co.uk/b", "method": "post"}, "https://example.com/c"
            ]}),
        );
        assert_eq!(urls(&list), [("https://api.example.co.uk/a", None), ("https://cdn.example.co.uk/b", Some("POST"))]);
        assert_eq!(list.skipped.len(), 1, "example.com is another registrable domain than example.co.uk");

        let openapi = read(
            "/openapi.json",
            json!({"openapi": "3.1.0", "servers": [{"url": "/v1"}], "paths": {
                "/quote/{ticker}": {"get": {"summary": "A quote", "x-payment-info": {"protocols": ["x402"], "pricingMode": "fixed", "price": "0.01"},
                                             "parameters": [{"name": "ticker", "in": "path", "schema": {"type": "string", "example": "AAPL"}}]}},
                "/free": {"get": {"summary": "Free"}},
                "/user/{id}": {"post": {"x-payment-info": {"price": "$0.05"}}},
                "/mpp": {"get": {"x-payment-info": {"protocols": ["mpp"]}}}
            }}),
        );
        assert_eq!(urls(&openapi), [("https://api.example.co.uk/v1/quote/AAPL", Some("GET"))]);
        assert_eq!(openapi.entries[0].claim.usd.as_deref(), Some("0.01"));
        assert!(openapi.skipped[0].message.contains("`id` has no example"), "{:?}", openapi.skipped);
    }

    #[test]
    fn what_is_not_a_route_document_says_so() {
        for body in [&b"<html>"[..], b"[1]", b"{\"name\": \"x\"}"] {
            assert_eq!(
                parse(&origin(), "/openapi.json", body).expect_err("not a document").code,
                "origin_document_invalid"
            );
        }
        assert_eq!(registrable(&Url::parse("http://127.0.0.1:8080/x").expect("url")).as_deref(), Some("127.0.0.1"));
    }
}
