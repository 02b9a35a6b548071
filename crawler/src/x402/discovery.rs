//! Discovery metadata: v2 `extensions.bazaar` + `resource.serviceName/tags` (checked by
//! `resource_meta`) and v1
//! `accepts[0].outputSchema` (PROTOCOL §3.3), normalized into one [`Discovery`].
//!
//! Invalid metadata never makes a challenge invalid: it is kept with `valid: false` and a warning,
//! like the SDK facilitators that drop it (`validateDiscoveryExtension`). The schema is seller
//! input, so it is bounded in size and depth, may not reference anything outside itself, and its
//! `pattern`s run on a linear-time regex engine.

use super::findings::{Findings, quote};
use super::limits::MAX_DISCOVERY_BYTES;
use super::resource_meta::Meta;
use crate::report::Discovery;
use serde_json::{Map, Value, json};

/// Larger schemas are not compiled (serialized bytes).
const MAX_SCHEMA_BYTES: usize = 64 * 1024;
/// Deeper schemas or info objects are not compiled/kept.
const MAX_DEPTH: usize = 32;
/// A route template is a path; longer than a URL is not one.
const MAX_ROUTE_TEMPLATE_BYTES: usize = crate::target::MAX_URL_BYTES;

const QUERY_METHODS: &[&str] = &["GET", "HEAD", "DELETE"];
const BODY_METHODS: &[&str] = &["POST", "PUT", "PATCH"];

/// v2: the bazaar extension plus the service metadata of `resource` (`meta`, already checked).
pub fn from_v2(challenge: &Map<String, Value>, meta: Meta, findings: &mut Findings) -> Option<Discovery> {
    let Meta { service_name, tags, .. } = meta;
    let bazaar = challenge.get("extensions").and_then(|e| e.get("bazaar"));
    let Some(bazaar) = bazaar else {
        if service_name.is_none() && tags.is_empty() {
            return None;
        }
        return Some(Discovery {
            service_name,
            tags,
            input: Value::Null,
            output: Value::Null,
            route_template: None,
            valid: true,
        });
    };

    let route_template = bazaar.get("routeTemplate").and_then(|t| {
        let template = t.as_str().filter(|s| is_valid_route_template(s));
        if template.is_none() {
            findings.warn(
                "route_template_invalid",
                "extensions.bazaar.routeTemplate",
                "`routeTemplate` must look like /users/:id (no '..', no scheme); it was ignored.",
            );
        }
        template.map(str::to_string)
    });
    let info = bazaar.get("info").cloned().unwrap_or(Value::Null);
    let errors = check_bazaar(bazaar);
    for error in errors.iter().take(5) {
        findings.warn(
            "discovery_invalid",
            "extensions.bazaar",
            format!("Discovery metadata is not used for search: {error}."),
        );
    }
    let keep = depth(&info) <= MAX_DEPTH;
    let (input, output) =
        if keep { (field(&info, "input"), field(&info, "output")) } else { (Value::Null, Value::Null) };
    let (input, output, fits) = bounded(input, output, "extensions.bazaar.info", findings);
    Some(Discovery { service_name, tags, input, output, route_template, valid: errors.is_empty() && fits })
}

/// v1: `outputSchema` of the first entry, with the camelCase/snake_case aliases the SDK tolerates
/// (`extractDiscoveryInfoV1`), normalized to the v2 `input` shape.
pub fn from_v1(first_entry: &Map<String, Value>, findings: &mut Findings) -> Option<Discovery> {
    let schema = first_entry.get("outputSchema").filter(|v| !v.is_null())?;
    let path = "accepts[0].outputSchema";
    let Some(input) = schema.get("input").and_then(Value::as_object) else {
        findings.warn("discovery_invalid", path, "`outputSchema.input` is missing, so the request shape is unknown.");
        return Some(invalid_v1(schema, findings));
    };
    if input.get("discoverable") == Some(&Value::Bool(false)) {
        findings.warn(
            "discovery_opt_out",
            path,
            "`outputSchema.input.discoverable` is false: the seller asked not to be listed in discovery.",
        );
    }
    let kind = input.get("type").and_then(Value::as_str);
    if kind != Some("http") {
        let detail = if kind == Some("object") {
            "it looks like a JSON Schema; v1 expects {\"type\": \"http\", \"method\": …}".to_string()
        } else {
            format!(
                "`outputSchema.input.type` must be \"http\", got {}",
                kind.map(quote).unwrap_or_else(|| "nothing".into())
            )
        };
        findings.warn("discovery_invalid", path, format!("Discovery metadata is not used for search: {detail}."));
        return Some(invalid_v1(schema, findings));
    }
    let pick = |names: &[&str]| names.iter().find_map(|n| input.get(*n)).cloned();
    let method = input.get("method").and_then(Value::as_str).map(str::to_ascii_uppercase);
    let mut normalized = Map::new();
    normalized.insert("type".into(), json!("http"));
    if let Some(method) = &method {
        normalized.insert("method".into(), json!(method));
    }
    let fields = [
        ("queryParams", &["queryParams", "query_params", "query", "params"][..]),
        ("body", &["bodyFields", "body_fields", "bodyParams", "body", "data", "properties"][..]),
        ("headers", &["headerFields", "header_fields", "headers"][..]),
        ("bodyType", &["bodyType", "body_type"][..]),
    ];
    for (name, aliases) in fields {
        if let Some(value) = pick(aliases) {
            normalized.insert(name.into(), value);
        }
    }
    let valid_method = method.as_deref().is_some_and(|m| QUERY_METHODS.contains(&m) || BODY_METHODS.contains(&m));
    if !valid_method {
        findings.warn(
            "discovery_invalid",
            path,
            "Discovery metadata is not used for search: `outputSchema.input.method` must be an HTTP method.",
        );
    }
    let (input, output, fits) = bounded(Value::Object(normalized), field(schema, "output"), path, findings);
    Some(Discovery {
        service_name: None,
        tags: Vec::new(),
        input,
        output,
        route_template: None,
        valid: valid_method && depth(schema) <= MAX_DEPTH && fits,
    })
}

fn invalid_v1(schema: &Value, findings: &mut Findings) -> Discovery {
    let keep = depth(schema) <= MAX_DEPTH;
    let (input, output) =
        if keep { (field(schema, "input"), field(schema, "output")) } else { (Value::Null, Value::Null) };
    let (input, output, _) = bounded(input, output, "accepts[0].outputSchema", findings);
    Discovery { service_name: None, tags: Vec::new(), input, output, route_template: None, valid: false }
}

fn field(object: &Value, key: &str) -> Value {
    object.get(key).cloned().unwrap_or(Value::Null)
}

/// `input` and `output` as kept, or neither when together they exceed [`MAX_DISCOVERY_BYTES`]
/// (with `discovery_too_large`); the flag says whether they fit.
fn bounded(input: Value, output: Value, path: &str, findings: &mut Findings) -> (Value, Value, bool) {
    let size = |v: &Value| serde_json::to_vec(v).map_or(usize::MAX, |bytes| bytes.len());
    let total = size(&input).saturating_add(size(&output));
    if total <= MAX_DISCOVERY_BYTES {
        return (input, output, true);
    }
    findings.warn(
        "discovery_too_large",
        path,
        format!(
            "The request and answer schemas are {total} bytes together; Agora keeps up to {} KiB, so they are not shown or searched.",
            MAX_DISCOVERY_BYTES / 1024
        ),
    );
    (Value::Null, Value::Null, false)
}

/// Every reason the bazaar extension cannot be trusted, empty when it is valid.
fn check_bazaar(bazaar: &Value) -> Vec<String> {
    let (Some(info), Some(schema)) = (bazaar.get("info"), bazaar.get("schema")) else {
        return vec!["the bazaar extension needs both `info` and `schema`".into()];
    };
    let mut errors = check_info_shape(info);
    if !schema.is_object() && !schema.is_boolean() {
        errors.push("`schema` must be a JSON Schema object".into());
        return errors;
    }
    if depth(schema) > MAX_DEPTH || depth(info) > MAX_DEPTH {
        errors.push(format!("`schema` or `info` is nested deeper than {MAX_DEPTH} levels"));
        return errors;
    }
    if schema.to_string().len() > MAX_SCHEMA_BYTES {
        errors.push(format!("`schema` is larger than {} KiB", MAX_SCHEMA_BYTES / 1024));
        return errors;
    }
    if has_external_reference(schema) {
        errors.push("`schema` must not contain external $ref/$id references".into());
        return errors;
    }
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .with_pattern_options(jsonschema::PatternOptions::regex())
        .build(schema);
    match validator {
        Err(e) => errors.push(format!("`schema` is not a valid JSON Schema: {}", truncate(&e.to_string()))),
        Ok(validator) => {
            for error in validator.iter_errors(info).take(5) {
                let at = error.instance_path().to_string();
                let at = if at.is_empty() { "(root)".to_string() } else { at };
                errors.push(format!("`info` does not match its schema at {at}: {}", truncate(&error.to_string())));
            }
        }
    }
    errors
}

/// The structural rules of the bazaar spec that do not depend on the seller's schema.
fn check_info_shape(info: &Value) -> Vec<String> {
    let Some(input) = info.get("input").and_then(Value::as_object) else {
        return vec!["`info.input` is missing".into()];
    };
    let mut errors = Vec::new();
    match input.get("type").and_then(Value::as_str) {
        Some("http") => {
            let method = input.get("method").and_then(Value::as_str);
            if let Some(m) = method.filter(|m| !QUERY_METHODS.contains(m) && !BODY_METHODS.contains(m)) {
                errors.push(format!("`info.input.method` {} is not an HTTP method", quote(m)));
            }
            if let Some(body_type) = input.get("bodyType") {
                if !matches!(body_type.as_str(), Some("json" | "form-data" | "text")) {
                    errors.push("`info.input.bodyType` must be json, form-data or text".into());
                }
                if method.is_some_and(|m| !BODY_METHODS.contains(&m)) {
                    errors.push("`info.input.bodyType` is set on a method without a body".into());
                }
            }
        }
        Some("mcp") => {
            // The spec says `tool`, the SDKs emit `toolName`: accept both (PROTOCOL §3.3).
            let tool = input.get("toolName").or_else(|| input.get("tool")).and_then(Value::as_str);
            if tool.is_none_or(str::is_empty) {
                errors.push("MCP discovery needs `info.input.toolName`".into());
            }
            if !input.get("inputSchema").is_some_and(Value::is_object) {
                errors.push("MCP discovery needs an `info.input.inputSchema` object".into());
            }
        }
        other => errors.push(format!(
            "`info.input.type` must be \"http\" or \"mcp\", got {}",
            other.map(quote).unwrap_or_else(|| "nothing".into())
        )),
    }
    errors
}

/// `isValidRouteTemplate` of the SDKs: `^/[a-zA-Z0-9_/:.\-~%]+$`, and after percent-decoding no
/// `..` and no `://`.
pub fn is_valid_route_template(template: &str) -> bool {
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b"_/:.-~%".contains(&b);
    if !(2..=MAX_ROUTE_TEMPLATE_BYTES).contains(&template.len())
        || !template.starts_with('/')
        || !template.bytes().all(allowed)
    {
        return false;
    }
    let mut decoded = template.to_string();
    for _ in 0..5 {
        let next = percent_decode(&decoded);
        let Some(next) = next else { return false };
        if next == decoded {
            return !decoded.contains("..") && !decoded.contains("://");
        }
        decoded = next;
    }
    false
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// `$ref`/`$id` values that point outside the document (anything not starting with `#`).
fn has_external_reference(node: &Value) -> bool {
    match node {
        Value::Array(items) => items.iter().any(has_external_reference),
        Value::Object(map) => map.iter().any(|(key, value)| {
            let external = (key == "$ref" || key == "$id" || key == "$dynamicRef")
                && !value.as_str().is_some_and(|s| s.starts_with('#'));
            external || has_external_reference(value)
        }),
        _ => false,
    }
}

/// Nesting depth, computed iteratively so hostile input cannot exhaust the stack.
pub fn depth(value: &Value) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(value, 1usize)];
    while let Some((node, level)) = stack.pop() {
        deepest = deepest.max(level);
        match node {
            Value::Array(items) => stack.extend(items.iter().map(|v| (v, level + 1))),
            Value::Object(map) => stack.extend(map.values().map(|v| (v, level + 1))),
            _ => {}
        }
    }
    deepest
}

fn truncate(text: &str) -> String {
    const MAX: usize = 200;
    if text.len() <= MAX { text.to_string() } else { format!("{}…", &text[..text.floor_char_boundary(MAX)]) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_templates() {
        assert!(is_valid_route_template("/users/:userId"));
        assert!(is_valid_route_template("/weather"));
        for bad in ["", "/", "users/:id", "/a/../b", "/a/%2e%2e/b", "/x?y=1", "/http://evil", "/a/%252e%252e"] {
            assert!(!is_valid_route_template(bad), "{bad}");
        }
    }

    #[test]
    fn depth_is_iterative() {
        let mut deep = json!(1);
        // Values parsed from the wire are at most 128 deep (serde_json's recursion limit).
        for _ in 0..200 {
            deep = json!([deep]);
        }
        assert_eq!(depth(&deep), 201);
    }
}
