//! What a source says about paid endpoints (PROTOCOL §3.1–3.2, §8.4): a facilitator's Bazaar
//! list, one page at a time, in every shape in use (items under `items` or `resources`, the URL
//! under `resource` or `url`, v1, v2 and hybrid `accepts`, `lastUpdated` as a number or a
//! string). Nothing here is trusted: an entry is a URL to probe, with what the source claimed
//! about it kept as provenance. Pages are bounded ([`MAX_PAGE_BYTES`], [`MAX_ITEMS_PER_PAGE`]);
//! an item that is not usable is skipped with a reason, never fatal.

use crate::report::Finding;
use crate::x402::accepts::check_entry;
use crate::x402::findings::Findings;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use url::Url;

/// Largest page read: the official listing clients refuse pages over 4 MiB.
pub const MAX_PAGE_BYTES: usize = 4 << 20;
/// Most items examined on one page (the spec's pages hold at most 100).
pub const MAX_ITEMS_PER_PAGE: usize = 1_000;
/// Items asked for per page.
pub const PAGE_LIMIT: u64 = 100;
/// Longest text kept from a claim (a description).
const MAX_CLAIM_TEXT: usize = 300;

/// What a source claimed about one endpoint: its first offer as the source lists it, normalized
/// when the validator can read it, and its description.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Claim {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheme: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pay_to: Option<String>,
    /// Exact decimal USD, when the claimed offer is a stablecoin Agora prices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usd: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// One endpoint a source lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceEntry {
    pub url: String,
    /// The HTTP method its metadata names (`None`: GET).
    pub method: Option<String>,
    pub claim: Claim,
}

/// One page of a facilitator's list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    pub entries: Vec<SourceEntry>,
    /// Items on the page, usable or not (paging advances by this).
    pub items: usize,
    /// The list's total, when the page says it.
    pub total: Option<u64>,
    /// Items skipped, with why.
    pub skipped: Vec<Finding>,
}

/// `{base}/discovery/resources?limit=…&offset=…`, the page at `offset` of facilitator `base`.
pub fn page_url(base: &Url, offset: u64) -> Url {
    let mut url = base.clone();
    let path = format!("{}/discovery/resources", url.path().trim_end_matches('/'));
    url.set_path(&path);
    url.set_query(Some(&format!("type=http&limit={PAGE_LIMIT}&offset={offset}")));
    url.set_fragment(None);
    url
}

/// Reads one page of a facilitator's `/discovery/resources` answer.
pub fn parse_page(body: &[u8]) -> Result<Page, Finding> {
    if body.len() > MAX_PAGE_BYTES {
        return Err(Finding::new(
            "source_page_too_large",
            format!("The page is {} bytes; Agora reads pages up to {MAX_PAGE_BYTES}.", body.len()),
        ));
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| Finding::new("source_page_invalid", format!("The page is not JSON: {e}.")))?;
    let Some(object) = value.as_object() else {
        return Err(Finding::new("source_page_invalid", "The page is not a JSON object."));
    };
    let Some(items) = ["items", "resources"].iter().find_map(|key| object.get(*key).and_then(Value::as_array)) else {
        return Err(Finding::new("source_page_invalid", "The page has no `items` list."));
    };
    let total = object.get("pagination").and_then(|p| p.get("total")).and_then(Value::as_u64);
    let mut page = Page { items: items.len(), total, ..Page::default() };
    for (index, item) in items.iter().take(MAX_ITEMS_PER_PAGE).enumerate() {
        match entry(item) {
            Ok(entry) => page.entries.push(entry),
            Err(reason) => page.skipped.push(Finding::new("source_item_skipped", format!("Item {index}: {reason}."))),
        }
    }
    if items.len() > MAX_ITEMS_PER_PAGE {
        page.skipped.push(Finding::new(
            "source_page_truncated",
            format!("The page lists {} items; Agora reads the first {MAX_ITEMS_PER_PAGE}.", items.len()),
        ));
    }
    Ok(page)
}

fn entry(item: &Value) -> Result<SourceEntry, String> {
    let item = item.as_object().ok_or("not an object")?;
    let url =
        ["resource", "url"].iter().find_map(|key| item.get(*key).and_then(Value::as_str)).ok_or("no `resource` URL")?;
    if let Some(kind) = item.get("type").and_then(Value::as_str).filter(|kind| !matches!(*kind, "http" | "mcp")) {
        return Err(format!("type {kind:?} is not an endpoint Agora probes"));
    }
    let accepts = item.get("accepts").and_then(Value::as_array);
    let first = accepts.and_then(|a| a.first()).and_then(Value::as_object);
    let method = method(item, first);
    Ok(SourceEntry { url: url.to_string(), method, claim: claim(item, first) })
}

/// The method the item's metadata names, wherever its shape puts it.
fn method(item: &Map<String, Value>, first: Option<&Map<String, Value>>) -> Option<String> {
    let pointers = ["/discoveryInfo/input/method", "/extensions/bazaar/info/input/method", "/method"];
    let from_item = pointers
        .iter()
        .find_map(|p| Value::Object(item.clone()).pointer(p).and_then(Value::as_str).map(str::to_string));
    let from_v1 =
        first.and_then(|f| f.get("outputSchema")).and_then(|s| s.pointer("/input/method")).and_then(Value::as_str);
    from_item.or(from_v1.map(str::to_string)).map(|m| m.to_ascii_uppercase())
}

/// What the item claims: its first offer, normalized by the validator when it can be (v2, then
/// v1 rules: hybrid items mix them), and its description.
fn claim(item: &Map<String, Value>, first: Option<&Map<String, Value>>) -> Claim {
    let text = |value: Option<&Value>| {
        value.and_then(Value::as_str).map(|s| s.chars().take(MAX_CLAIM_TEXT).collect::<String>())
    };
    let description = text(item.get("description")).or_else(|| text(first.and_then(|f| f.get("description"))));
    let Some(first) = first else { return Claim { description, ..Claim::default() } };
    let offer = [2, 1].into_iter().find_map(|version| check_entry(first, 0, version, &mut Findings::default()));
    match offer {
        Some(offer) => Claim {
            scheme: Some(offer.scheme),
            network: Some(offer.network),
            pay_to: Some(offer.pay_to),
            usd: offer.usd,
            description,
        },
        None => Claim {
            scheme: text(first.get("scheme")),
            network: text(first.get("network")),
            pay_to: text(first.get("payTo")),
            usd: None,
            description,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn page(value: Value) -> Page {
        parse_page(value.to_string().as_bytes()).expect("a page")
    }

    #[test]
    fn every_shape_in_use_is_read() {
        let v2 = json!({"x402Version": 2, "items": [{
            "resource": "https://a.example/weather", "type": "http", "x402Version": 2, "lastUpdated": "2026-11-01T00:00:00Z",
            "accepts": [{"scheme": "exact", "network": "eip155:8453", "amount": "1000",
                         "asset": "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913",
                         "payTo": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", "maxTimeoutSeconds": 60}],
            "description": "Weather", "extensions": {"bazaar": {"info": {"input": {"type": "http", "method": "post"}}}}
        }], "pagination": {"limit": 100, "offset": 0, "total": 1}});
        let read = page(v2);
        assert_eq!((read.items, read.total), (1, Some(1)));
        let entry = &read.entries[0];
        assert_eq!((entry.url.as_str(), entry.method.as_deref()), ("https://a.example/weather", Some("POST")));
        assert_eq!(entry.claim.usd.as_deref(), Some("0.001"));
        assert_eq!(entry.claim.pay_to.as_deref(), Some("0x209693bc6afc0c5328ba36faf03c514ef312287c"));

        // v1 names, `url` instead of `resource`, a numeric lastUpdated, v1 outputSchema's method.
        let v1 = json!({"x402Version": 1, "items": [{
            "url": "https://b.example/joke", "type": "http", "x402Version": 1, "lastUpdated": 1703123456,
            "accepts": [{"scheme": "exact", "network": "base-sepolia", "maxAmountRequired": "10000",
                         "resource": "https://b.example/joke", "description": "A joke", "mimeType": "application/json",
                         "asset": "0x036CbD53842c5426634e7929541eC2318f3dCF7e",
                         "payTo": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", "maxTimeoutSeconds": 60,
                         "outputSchema": {"input": {"type": "http", "method": "GET"}}}]
        }]});
        let read = page(v1);
        let entry = &read.entries[0];
        assert_eq!((entry.url.as_str(), entry.method.as_deref()), ("https://b.example/joke", Some("GET")));
        assert_eq!((entry.claim.network.as_deref(), entry.claim.usd.as_deref()), (Some("eip155:84532"), Some("0.01")));
        assert_eq!(entry.claim.description.as_deref(), Some("A joke"));
        assert_eq!(read.total, None);
    }

    #[test]
    fn unusable_items_are_skipped_with_a_reason_and_bad_pages_refused() {
        let read = page(json!({"resources": [7, {"type": "http"}, {"resource": "https://c.example/", "type": "a2a"},
                                             {"resource": "https://d.example/x", "accepts": "nope"}]}));
        assert_eq!(read.entries.len(), 1, "the last item has a URL; its claim is empty");
        assert_eq!(read.skipped.len(), 3);
        assert_eq!(read.entries[0].claim, Claim::default());
        assert_eq!(parse_page(b"[]").expect_err("not an object").code, "source_page_invalid");
        assert_eq!(parse_page(b"{\"items\": 3}").expect_err("no list").code, "source_page_invalid");
        let many: Vec<Value> = (0..1_500).map(|i| json!({"resource": format!("https://e.example/{i}")})).collect();
        let read = page(json!({"items": many}));
        assert_eq!((read.entries.len(), read.items), (MAX_ITEMS_PER_PAGE, 1_500));
        assert_eq!(read.skipped.last().map(|f| f.code.as_str()), Some("source_page_truncated"));
        // Deep JSON stops at the parser's depth limit, as an invalid page.
        let deep = format!("{{\"items\": {}{}}}", "[".repeat(10_000), "]".repeat(10_000));
        assert_eq!(parse_page(deep.as_bytes()).expect_err("too deep").code, "source_page_invalid");
    }

    #[test]
    fn pages_are_asked_for_under_the_base() {
        let base = Url::parse("https://facilitator.example/x402/").expect("url");
        assert_eq!(
            page_url(&base, 200).as_str(),
            "https://facilitator.example/x402/discovery/resources?type=http&limit=100&offset=200"
        );
    }
}
