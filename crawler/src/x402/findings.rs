//! The collector every validation step writes to: problems (the challenge is invalid) and warnings
//! (it is valid, but something is off), each with a stable code and a path into the challenge.
//!
//! Bounded by construction: a hostile challenge can produce problems by the hundred thousand (one
//! per key of every `accepts` entry), so only the first [`MAX_FINDINGS_KEPT`] of each kind are
//! kept and the rest are counted. The verdict depends on the count, never on what was kept.

use crate::report::Finding;
use serde_json::{Map, Value};

/// Problems (and, separately, warnings) kept per report; the rest are only counted. More than a
/// seller can act on in one pass, few enough that a report stays a few kilobytes.
pub const MAX_FINDINGS_KEPT: usize = 50;

#[derive(Debug, Default)]
pub struct Findings {
    problems: Vec<Finding>,
    warnings: Vec<Finding>,
    problems_seen: usize,
    warnings_seen: usize,
}

/// What a [`Findings`] collected: the kept findings and how many more were dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Collected {
    pub problems: Vec<Finding>,
    pub problems_omitted: usize,
    pub warnings: Vec<Finding>,
    pub warnings_omitted: usize,
}

impl Findings {
    /// A collector that starts with warnings found before validation (while decoding).
    pub fn with_warnings(warnings: Vec<Finding>) -> Findings {
        let mut findings = Findings::default();
        for warning in warnings {
            findings.push_warning(warning);
        }
        findings
    }

    pub fn problem(&mut self, code: &str, path: &str, message: impl Into<String>) {
        self.problems_seen += 1;
        if self.problems.len() < MAX_FINDINGS_KEPT {
            self.problems.push(Finding::new(code, message).at(path));
        }
    }

    pub fn warn(&mut self, code: &str, path: &str, message: impl Into<String>) {
        self.push_warning(Finding::new(code, message).at(path));
    }

    fn push_warning(&mut self, warning: Finding) {
        self.warnings_seen += 1;
        if self.warnings.len() < MAX_FINDINGS_KEPT {
            self.warnings.push(warning);
        }
    }

    /// Problems found so far, kept or not.
    pub fn problem_count(&self) -> usize {
        self.problems_seen
    }

    pub fn has_problems(&self) -> bool {
        self.problems_seen > 0
    }

    pub fn finish(self) -> Collected {
        Collected {
            problems_omitted: self.problems_seen - self.problems.len(),
            warnings_omitted: self.warnings_seen - self.warnings.len(),
            problems: self.problems,
            warnings: self.warnings,
        }
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
