//! `search_services`' answer for agents: compact hits by default (what choosing a service needs —
//! its id, name, URL, status, best price, networks, uptime, what matched), any other member of
//! the API's hit on request (`fields`), and a `next_cursor` to page on.

use crate::http::views::SearchResults;
use crate::http::views::words::{best_price, networks};
use crate::params::MAX_OFFSET;
use serde_json::{Map, Value, json};

/// Members every compact hit carries.
pub const COMPACT: &[&str] = &[
    "id",
    "name",
    "url",
    "method",
    "type",
    "description",
    "status",
    "price",
    "networks",
    "uptime",
    "offers_total",
    "matched",
    "verified",
    "quality_score",
];

/// The hit members `fields` may add (the API's search hit).
pub const HIT_MEMBERS: &[&str] = &[
    "id",
    "url",
    "method",
    "host",
    "status",
    "verdict",
    "reason_code",
    "reason",
    "x402_version",
    "name",
    "description",
    "mime_type",
    "tags",
    "route_template",
    "has_schema",
    "registered_at",
    "first_listed_at",
    "last_probed_at",
    "last_listed_at",
    "status_since",
    "failure_streak",
    "next_due_at",
    "interval_ms",
    "change_seq",
    "type",
    "tool_name",
    "offers",
    "offers_total",
    "uptime",
    "score",
    "matched",
    "verified",
    "quality",
];

/// The answer: compact hits plus the requested `fields`, totals, and where the next page starts.
pub fn project(results: &SearchResults, fields: &[String]) -> Result<Value, String> {
    if let Some(unknown) = fields.iter().find(|f| !HIT_MEMBERS.contains(&f.as_str())) {
        return Err(format!(
            "Invalid arguments: argument `fields`: unknown member {unknown:?}; known: {}.",
            HIT_MEMBERS.join(", ")
        ));
    }
    let mut hits = Vec::with_capacity(results.hits.len());
    for hit in &results.hits {
        let full = serde_json::to_value(hit).map_err(|e| e.to_string())?;
        let mut compact = Map::new();
        for name in COMPACT.iter().copied().chain(fields.iter().map(String::as_str)) {
            let value = match name {
                "price" => json!(best_price(&hit.offers)),
                "quality_score" => json!(hit.quality.score),
                "networks" => json!(networks(&hit.offers).into_iter().map(|n| n.label).collect::<Vec<_>>()),
                _ => full.get(name).cloned().unwrap_or(Value::Null),
            };
            compact.insert(name.to_string(), value);
        }
        hits.push(Value::Object(compact));
    }
    let next = results.offset + results.hits.len();
    let more = (next as u64) < results.total && next <= MAX_OFFSET;
    let mut answer = json!({
        "hits": hits,
        "total": results.total,
        "testnets_hidden": results.testnets_hidden,
        "limit": results.limit,
        "offset": results.offset,
        "sort": results.sort,
        "next_cursor": more.then(|| next.to_string()),
    });
    if let Some(interpreted) = &results.interpreted_as {
        answer["interpreted_as"] = serde_json::to_value(interpreted).map_err(|e| e.to_string())?;
    }
    Ok(answer)
}
