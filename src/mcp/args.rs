//! The MCP tools' arguments: typed (their JSON Schemas are the tools' input schemas) but read by
//! hand from the raw arguments, so a wrong type or an unknown name is a tool error that says what
//! to fix — never a protocol error. Search arguments become the search's query-string pairs and
//! go through the one strict parser (`crate::params`), so MCP and the API accept exactly the
//! same values.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};

/// `search_services`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchArgs {
    /// Free text: words, typos and prefixes forgiven.
    pub q: Option<String>,
    /// CAIP-2 ids or v1 names (`base`, `eip155:8453`); any of them.
    pub network: Option<Vec<String>>,
    /// Symbols (`USDC`) or token addresses; any of them.
    pub asset: Option<Vec<String>>,
    /// `exact`, `upto`, …; any of them.
    pub scheme: Option<Vec<String>>,
    /// Lowest price, decimal USD (`"0.001"`); an `upto` offer counts at its maximum.
    pub min_usd: Option<String>,
    /// Highest price, decimal USD.
    pub max_usd: Option<String>,
    /// `exclude` (default), `include` or `only`.
    pub testnet: Option<String>,
    /// `listed` (default), `degraded` or `all`.
    pub status: Option<String>,
    /// x402 version: 1 or 2.
    pub version: Option<u8>,
    /// Only services that declare input/output schemas.
    pub has_schema: Option<bool>,
    /// Exact host.
    pub host: Option<String>,
    /// `http` (endpoints) or `mcp` (MCP tools sold through x402).
    #[serde(rename = "type")]
    pub service_type: Option<String>,
    /// Output formats their `mimeType` declares: `json`, `csv`, `xml`, `html`, `text`, `pdf`,
    /// `image`, `audio`, `video`, `binary`; any of them.
    pub format: Option<Vec<String>>,
    /// Only services this source (an id from `agora sources` or `/api/v1/sources`) lists.
    pub source: Option<i64>,
    /// Only services someone proved control of (their origin or the address they are paid to).
    pub verified: Option<bool>,
    /// `false`: take `q` literally. By default price, network, asset, scheme, testnet and output
    /// format words in `q` ("cheap", "under $0.01", "on solana", "metered", "json output") become filters; the answer's
    /// `interpreted_as` says what was read.
    pub interpret: Option<bool>,
    /// `relevance` (default with `q`), `price_asc`, `price_desc`, `newest`, `verified`, `uptime`, `quality`
    /// (what Agora's probes measured; docs/SEARCH.md "Quality").
    pub sort: Option<String>,
    /// Hits per page, 1–100 (default 20).
    pub limit: Option<u32>,
    /// Hits to skip, up to 10,000.
    pub offset: Option<u32>,
    /// `next_cursor` of the previous answer (instead of `offset`).
    pub cursor: Option<String>,
    /// Hit members to add to the compact ones (`offers`, `tags`, `score`, …).
    pub fields: Option<Vec<String>>,
}

impl SearchArgs {
    /// The search's query-string pairs these arguments stand for.
    pub fn pairs(&self) -> Vec<(String, String)> {
        let mut pairs = Vec::new();
        let mut one = |name: &str, value: Option<String>| {
            if let Some(value) = value {
                pairs.push((name.to_string(), value));
            }
        };
        one("q", self.q.clone());
        one("min_usd", self.min_usd.clone());
        one("max_usd", self.max_usd.clone());
        one("testnet", self.testnet.clone());
        one("status", self.status.clone());
        one("version", self.version.map(|v| v.to_string()));
        one("has_schema", self.has_schema.filter(|h| *h).map(|_| "true".to_string()));
        one("host", self.host.clone());
        one("type", self.service_type.clone());
        one("source", self.source.map(|s| s.to_string()));
        one("verified", self.verified.filter(|v| *v).map(|_| "true".to_string()));
        one("interpret", self.interpret.map(|i| i.to_string()));
        one("sort", self.sort.clone());
        one("limit", self.limit.map(|l| l.to_string()));
        one("offset", self.offset.map(|o| o.to_string()).or_else(|| self.cursor.clone()));
        for (name, values) in
            [("network", &self.network), ("asset", &self.asset), ("scheme", &self.scheme), ("format", &self.format)]
        {
            for value in values.iter().flatten() {
                pairs.push((name.to_string(), value.clone()));
            }
        }
        pairs
    }
}

/// `get_service`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceArgs {
    /// The service id (from a search hit); or give `url`.
    pub id: Option<i64>,
    /// The endpoint URL, as registered or as you would call it (instead of `id`).
    pub url: Option<String>,
    /// With `url`: the HTTP method it is paid on (GET by default).
    pub method: Option<String>,
}

/// `list_facets`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FacetArgs {
    /// Free text to count within (all listed services when absent).
    pub q: Option<String>,
    /// `exclude` (default), `include` or `only`.
    pub testnet: Option<String>,
}

/// `recent_changes`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangesArgs {
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Epoch milliseconds: events at or after (instead of `cursor`).
    pub since: Option<i64>,
    /// Events per page, 1–500 (default 100).
    pub limit: Option<i64>,
}

/// `check_endpoint`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckArgs {
    /// The endpoint URL (http or https).
    pub url: String,
    /// The HTTP method it is paid on: GET (default), POST, PUT, PATCH, DELETE.
    pub method: Option<String>,
    /// Also register it in the catalog (stored, then re-checked on a schedule).
    pub register: Option<bool>,
}

/// Reads `raw` into `T`, or a sentence saying which argument is wrong and how.
pub fn read<T: for<'de> Deserialize<'de>>(raw: Map<String, Value>) -> Result<T, String> {
    serde_json::from_value::<T>(Value::Object(raw.clone())).map_err(|error| {
        // serde names a missing or unknown field but not the one of a wrong type: try each
        // argument alone to name it.
        let culprit = raw.iter().find_map(|(name, value)| {
            let alone = Map::from_iter([(name.clone(), value.clone())]);
            match serde_json::from_value::<T>(Value::Object(alone)) {
                Err(e) if !e.to_string().starts_with("missing field") => Some(format!("argument `{name}`: {e}")),
                _ => None,
            }
        });
        format!("Invalid arguments: {}.", culprit.unwrap_or_else(|| error.to_string()))
    })
}

#[cfg(test)]
mod tests {
    use super::{SearchArgs, ServiceArgs, read};
    use serde_json::json;

    fn object(value: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
        value.as_object().cloned().expect("an object")
    }

    #[test]
    fn arguments_become_the_searchs_pairs_and_bad_ones_say_why() {
        let args: SearchArgs =
            read(object(json!({"q": "weather", "network": ["base", "solana"], "limit": 5}))).expect("valid");
        assert_eq!(
            args.pairs(),
            [("q", "weather"), ("limit", "5"), ("network", "base"), ("network", "solana")]
                .map(|(k, v)| (k.to_string(), v.to_string()))
        );
        let wrong = read::<SearchArgs>(object(json!({"limit": "five"}))).expect_err("a string limit");
        assert!(wrong.contains("argument `limit`: invalid type"), "{wrong}");
        let unknown = read::<SearchArgs>(object(json!({"colour": "red"}))).expect_err("unknown");
        assert!(unknown.contains("colour"), "{unknown}");
        let by_url = read::<ServiceArgs>(object(json!({"url": "https://a.example/x"}))).expect("by url");
        assert_eq!((by_url.id, by_url.url.as_deref()), (None, Some("https://a.example/x")));
        let wrong_id = read::<ServiceArgs>(object(json!({"id": "4"}))).expect_err("a string id");
        assert!(wrong_id.contains("argument `id`"), "{wrong_id}");
    }
}
