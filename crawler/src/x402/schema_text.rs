//! The searchable words of a discovery schema: the field names a buyer sends or gets back and
//! the descriptions and titles the seller wrote for them. JSON Schema keywords (`type`,
//! `properties`, ...) say nothing about the service and are left out.

use serde_json::Value;

/// At most this many bytes of text per listing (a schema is seller input).
pub const MAX_SCHEMA_TEXT_BYTES: usize = 4096;

/// Keys that are JSON Schema or x402 structure, not seller vocabulary.
const STRUCTURAL_KEYS: &[&str] = &[
    "$schema",
    "$id",
    "$ref",
    "$defs",
    "definitions",
    "type",
    "properties",
    "required",
    "items",
    "additionalProperties",
    "enum",
    "const",
    "default",
    "examples",
    "example",
    "format",
    "pattern",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "oneOf",
    "anyOf",
    "allOf",
    "not",
    "nullable",
    "input",
    "output",
    "schema",
    "method",
    "bodyType",
    "queryParams",
    "body",
    "headers",
    "discoverable",
    "info",
    "title",
    "description",
];

/// Field names and description/title strings of `input` and `output`, space-separated, bounded by
/// [`MAX_SCHEMA_TEXT_BYTES`] (cut at a word boundary). Iterative: the value may be deep.
pub fn schema_text(input: &Value, output: &Value) -> String {
    let mut text = String::new();
    let mut stack = vec![input, output];
    let push = |word: &str, text: &mut String| -> bool {
        let word = word.trim();
        if word.is_empty() {
            return true;
        }
        if text.len() + word.len() + 1 > MAX_SCHEMA_TEXT_BYTES {
            return false;
        }
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(word);
        true
    };
    while let Some(value) = stack.pop() {
        match value {
            Value::Object(map) => {
                // Reversed, so that the stack pops nested fields in document order.
                stack.extend(map.values().rev());
                for (key, child) in map {
                    let full = match (key.as_str(), child) {
                        ("description" | "title", Value::String(s)) => !push(s, &mut text),
                        _ if !STRUCTURAL_KEYS.contains(&key.as_str()) => !push(key, &mut text),
                        _ => false,
                    };
                    if full {
                        return text;
                    }
                }
            }
            Value::Array(items) => stack.extend(items.iter().rev()),
            _ => {}
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn field_names_and_descriptions_not_keywords() {
        let input = json!({"type": "http", "method": "GET", "queryParams": {"type": "object", "properties": {
            "city": {"type": "string", "description": "City name"}, "units": {"enum": ["metric"]}}}});
        let output = json!({"type": "object", "properties": {"temperature": {"type": "number", "title": "Celsius"}}});
        let text = schema_text(&input, &output);
        for word in ["city", "City name", "units", "temperature", "Celsius"] {
            assert!(text.contains(word), "{word} in {text}");
        }
        for keyword in ["object", "string", "properties", "http", "metric"] {
            assert!(!text.split(' ').any(|w| w == keyword), "{keyword} in {text}");
        }
    }

    #[test]
    fn bounded() {
        let fields: serde_json::Map<String, Value> =
            (0..5000).map(|i| (format!("field{i}"), json!({"description": "x".repeat(30)}))).collect();
        let text = schema_text(&Value::Object(fields), &Value::Null);
        assert!(text.len() <= MAX_SCHEMA_TEXT_BYTES);
        assert!(text.starts_with("field0"));
    }
}
