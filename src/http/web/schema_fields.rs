//! A service's input as fields a buyer fills in: name, type, whether required, and the seller's
//! description — read from the JSON Schema the seller declared (v2: the bazaar extension's
//! `schema`, under `input.queryParams` / `input.body`; v1: the field descriptors inside
//! `outputSchema.input`). Only the seller's own documents are read, by their spec's keys, and a
//! bounded number of fields shown; the page keeps the example JSON beside them.

use super::rich::Rich;
use crate::http::views::words::clip;
use agora_crawler::Discovery;
use serde_json::{Map, Value};

/// Most fields listed (the JSON link has everything).
const MAX_FIELDS: usize = 100;

pub struct FieldRow {
    /// `city`, or `body.city` for a body field.
    pub name: String,
    pub kind: String,
    pub required: bool,
    pub description: Option<Rich>,
}

/// The input fields the seller documented (query parameters, then body fields, each by name).
pub fn input_fields(challenge: Option<&Value>, discovery: Option<&Discovery>) -> Vec<FieldRow> {
    let mut rows = Vec::new();
    let schema_input = challenge
        .and_then(|c| c.pointer("/extensions/bazaar/schema/properties/input/properties"))
        .and_then(Value::as_object);
    if let Some(input) = schema_input {
        for (part, prefix) in [("queryParams", ""), ("body", "body.")] {
            let Some(object) = input.get(part) else { continue };
            let required = names(object.get("required"));
            if let Some(properties) = object.get("properties").and_then(Value::as_object) {
                push_fields(&mut rows, properties, prefix, &required);
            }
        }
    }
    if rows.is_empty()
        && let Some(input) = discovery.map(|d| &d.input).and_then(Value::as_object)
    {
        // v1 `outputSchema.input`: `queryParams` / `bodyFields` map each name to a descriptor.
        for (part, prefix) in [("queryParams", ""), ("bodyFields", "body.")] {
            if let Some(fields) = input.get(part).and_then(Value::as_object) {
                let described = fields.values().all(Value::is_object);
                if described {
                    push_fields(&mut rows, fields, prefix, &[]);
                }
            }
        }
    }
    rows
}

fn push_fields(rows: &mut Vec<FieldRow>, properties: &Map<String, Value>, prefix: &str, required: &[String]) {
    for (name, spec) in properties {
        if rows.len() >= MAX_FIELDS {
            return;
        }
        let kind = match spec.get("type") {
            Some(Value::String(kind)) => kind.clone(),
            Some(Value::Array(kinds)) => kinds.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" or "),
            _ if spec.get("enum").is_some() => "one of a list".to_string(),
            _ => "any".to_string(),
        };
        let required = required.contains(name) || spec.get("required") == Some(&Value::Bool(true));
        let description = spec.get("description").and_then(Value::as_str).map(|d| Rich::new(clip(d, 300)));
        rows.push(FieldRow {
            name: clip(&format!("{prefix}{name}"), 100),
            kind: clip(&kind, 60),
            required,
            description,
        });
    }
}

fn names(list: Option<&Value>) -> Vec<String> {
    list.and_then(Value::as_array)
        .map_or_else(Vec::new, |l| l.iter().filter_map(Value::as_str).map(String::from).collect())
}

#[cfg(test)]
mod tests {
    use super::input_fields;
    use serde_json::json;

    #[test]
    fn fields_come_from_the_bazaar_schema_or_v1_descriptors() {
        let challenge = json!({"extensions": {"bazaar": {"schema": {"properties": {"input": {"properties": {
            "queryParams": {"type": "object", "required": ["city"], "properties": {
                "city": {"type": "string", "description": "City `name`"},
                "days": {"type": ["integer", "null"]}
            }}
        }}}}}}});
        let rows = input_fields(Some(&challenge), None);
        let summary: Vec<_> = rows.iter().map(|r| (r.name.as_str(), r.kind.as_str(), r.required)).collect();
        assert_eq!(summary, [("city", "string", true), ("days", "integer or null", false)]);
        assert_eq!(rows[0].description.as_ref().map(ToString::to_string).as_deref(), Some("City <code>name</code>"));
        assert!(input_fields(Some(&json!({"extensions": "not an object"})), None).is_empty());
        assert!(input_fields(None, None).is_empty());
    }
}
