//! The collector every validation step writes to: problems (the challenge is invalid) and warnings
//! (it is valid, but something is off), each with a stable code and a path into the challenge.

use crate::report::Finding;
use serde_json::{Map, Value};

#[derive(Debug, Default)]
pub struct Findings {
    pub problems: Vec<Finding>,
    pub warnings: Vec<Finding>,
}

impl Findings {
    pub fn problem(&mut self, code: &str, path: &str, message: impl Into<String>) {
        self.problems.push(Finding::new(code, message).at(path));
    }

    pub fn warn(&mut self, code: &str, path: &str, message: impl Into<String>) {
        self.warnings.push(Finding::new(code, message).at(path));
    }
}

/// A JSON value's type, named for messages ("got a number").
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Reads a required string field. Reports `{prefix}_missing` or `{prefix}_not_string` and returns
/// `None` when the field is absent or not a string.
pub fn required_str<'a>(
    object: &'a Map<String, Value>,
    key: &str,
    path: &str,
    code_prefix: &str,
    findings: &mut Findings,
) -> Option<&'a str> {
    match object.get(key) {
        None => {
            findings.problem(&format!("{code_prefix}_missing"), path, format!("`{key}` is required but missing."));
            None
        }
        Some(Value::String(text)) => Some(text),
        Some(other) => {
            findings.problem(
                &format!("{code_prefix}_not_string"),
                path,
                format!("`{key}` must be a string, got {}.", type_name(other)),
            );
            None
        }
    }
}

/// Truncates seller text quoted in a message, so a hostile value cannot bloat the report.
pub fn quote(text: &str) -> String {
    const MAX: usize = 80;
    if text.chars().count() <= MAX {
        format!("{text:?}")
    } else {
        let head: String = text.chars().take(MAX).collect();
        format!("{head:?}…")
    }
}
