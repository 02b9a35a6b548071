//! The tools' output schemas, taken from the OpenAPI document's component schemas: the tools
//! answer with the API's own types, and the API's answers are checked against those schemas
//! (schemathesis, `tests/it/openapi.rs`), so one source describes both. Each schema is made
//! self-contained: the components it refers to travel along in `$defs`.

use crate::http::openapi::document;
use crate::mcp::projection::{COMPACT, HIT_MEMBERS};
use rmcp::model::JsonObject;
use serde_json::{Map, Value, json};
use std::sync::{Arc, LazyLock};

const OPENAPI_REFS: &str = "#/components/schemas/";
const DEFS_REFS: &str = "#/$defs/";

/// The OpenAPI component schemas, their references rewritten to `#/$defs/…`.
static COMPONENTS: LazyLock<Map<String, Value>> = LazyLock::new(|| {
    let mut doc = serde_json::to_value(document()).unwrap_or_default();
    let mut components = match doc.pointer_mut("/components/schemas").map(Value::take) {
        Some(Value::Object(components)) => components,
        _ => Map::new(),
    };
    components.values_mut().for_each(rewrite_refs);
    components
});

fn rewrite_refs(value: &mut Value) {
    match value {
        Value::Object(object) => {
            for (key, member) in object.iter_mut() {
                match member {
                    Value::String(target) if key == "$ref" => {
                        if let Some(name) = target.strip_prefix(OPENAPI_REFS) {
                            *target = format!("{DEFS_REFS}{name}");
                        }
                    }
                    other => rewrite_refs(other),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(rewrite_refs),
        _ => {}
    }
}

/// The component `name` (an empty schema if the document has none by that name).
fn component(name: &str) -> Value {
    COMPONENTS.get(name).cloned().unwrap_or_else(|| json!({}))
}

/// `root` with every component it refers to (transitively) in `$defs`.
fn self_contained(root: Value) -> Arc<JsonObject> {
    let mut defs = Map::new();
    let mut pending = Vec::new();
    collect_refs(&root, &mut pending);
    while let Some(name) = pending.pop() {
        if defs.contains_key(&name) {
            continue;
        }
        let schema = component(&name);
        collect_refs(&schema, &mut pending);
        defs.insert(name, schema);
    }
    let mut root = match root {
        Value::Object(root) => root,
        _ => Map::new(),
    };
    // MCP wants an object schema at the root; a flattened type is an `allOf` without one.
    root.entry("type").or_insert_with(|| json!("object"));
    if !defs.is_empty() {
        root.insert("$defs".into(), Value::Object(defs));
    }
    Arc::new(root)
}

fn collect_refs(value: &Value, into: &mut Vec<String>) {
    match value {
        Value::Object(object) => {
            for (key, member) in object {
                match member {
                    Value::String(target) if key == "$ref" => {
                        into.extend(target.strip_prefix(DEFS_REFS).map(str::to_string));
                    }
                    other => collect_refs(other, into),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_refs(item, into)),
        _ => {}
    }
}

/// The properties of component `name`, through `allOf` parts (a flattened member is one).
fn properties_of(schema: &Value) -> Map<String, Value> {
    let mut properties = schema.get("properties").and_then(Value::as_object).cloned().unwrap_or_default();
    for part in schema.get("allOf").and_then(Value::as_array).into_iter().flatten() {
        let part = match part.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix(DEFS_REFS)) {
            Some(name) => component(name),
            None => part.clone(),
        };
        properties.extend(properties_of(&part));
    }
    properties
}

/// `get_service`: the API's service detail.
pub fn service_detail() -> Arc<JsonObject> {
    self_contained(component("ServiceDetail"))
}

/// `recent_changes`: the API's change page.
pub fn changes_page() -> Arc<JsonObject> {
    self_contained(component("ChangesPage"))
}

/// `check_endpoint`: the lookup answer, or with `register: true` the registration answer.
pub fn check_answer() -> Arc<JsonObject> {
    self_contained(json!({
        "type": "object",
        "anyOf": [{"$ref": format!("{DEFS_REFS}LookupAnswer")}, {"$ref": format!("{DEFS_REFS}ServiceWithReport")}],
    }))
}

/// `list_facets`.
pub fn facets() -> Arc<JsonObject> {
    self_contained(json!({
        "type": "object",
        "required": ["matching", "facets", "services_by_status", "index_documents", "freshness"],
        "properties": {
            "matching": {"type": "integer", "minimum": 0, "description": "Listed services matching the query."},
            "facets": {"$ref": format!("{DEFS_REFS}Facets")},
            "services_by_status": {
                "type": "object",
                "additionalProperties": {"type": "integer", "minimum": 0},
                "description": "Services Agora tracks, by status.",
            },
            "index_documents": {"type": "integer", "minimum": 0},
            "freshness": {
                "type": "object",
                "required": ["last_probe_at", "index_behind"],
                "properties": {
                    "last_probe_at": {"type": ["integer", "null"], "description": "Epoch ms of the latest probe."},
                    "index_behind": {"type": "integer", "minimum": 0, "description": "Stored changes not yet searchable."},
                },
            },
        },
    }))
}

/// `search_services`: compact hits (see `projection`), whose members are the API hit's, each
/// possibly `null` (a member the hit lacks), plus `price` and `networks`.
pub fn compact_search() -> Arc<JsonObject> {
    let results = properties_of(&component("SearchResults"));
    let mut hit_properties: Map<String, Value> = properties_of(&component("Hit"))
        .into_iter()
        .filter(|(name, _)| HIT_MEMBERS.contains(&name.as_str()))
        .map(|(name, schema)| (name, json!({"anyOf": [schema, {"type": "null"}]})))
        .collect();
    hit_properties.insert(
        "price".into(),
        json!({"type": ["string", "null"], "description": "The cheapest offer, as the pages say it."}),
    );
    hit_properties.insert(
        "networks".into(),
        json!({"type": "array", "items": {"type": "string"}, "description": "Networks paid on, by name."}),
    );
    hit_properties.insert(
        "quality_score".into(),
        json!({"type": "integer", "minimum": 0, "maximum": 100,
               "description": "What Agora's probes measured, 0-100 (`fields: [\"quality\"]` adds its parts)."}),
    );
    let member = |name: &str| results.get(name).cloned().unwrap_or_else(|| json!({}));
    self_contained(json!({
        "type": "object",
        "required": ["hits", "total", "testnets_hidden", "limit", "offset", "sort", "next_cursor"],
        "properties": {
            "hits": {"type": "array", "items": {"type": "object", "required": COMPACT, "properties": hit_properties}},
            "total": member("total"),
            "testnets_hidden": member("testnets_hidden"),
            "limit": member("limit"),
            "offset": member("offset"),
            "sort": member("sort"),
            "interpreted_as": member("interpreted_as"),
            "next_cursor": {
                "type": ["string", "null"],
                "description": "Pass as `cursor` for the next page; null on the last.",
            },
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `$ref` of every output schema resolves inside it, and the roots are objects.
    #[test]
    fn output_schemas_are_self_contained_objects() {
        for schema in [service_detail(), changes_page(), check_answer(), facets(), compact_search()] {
            assert_eq!(schema.get("type"), Some(&json!("object")), "{schema:?}");
            let mut refs = Vec::new();
            collect_refs(&Value::Object((*schema).clone()), &mut refs);
            let defs = schema.get("$defs").and_then(Value::as_object).cloned().unwrap_or_default();
            for name in refs {
                assert!(defs.contains_key(&name), "{name} is not in $defs");
            }
        }
        let hit = &compact_search()["properties"]["hits"]["items"]["properties"];
        for name in COMPACT {
            assert!(hit.get(*name).is_some(), "compact member {name} has no schema");
        }
        assert!(hit.get("offers").is_some(), "an extra field has its schema");
    }
}
