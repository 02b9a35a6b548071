//! Strict query strings for the API endpoints other than search (which has its own parser):
//! every parameter is known, given at most once and at most 512 bytes, or the answer is a 400
//! naming it — a typo never silently changes what an agent gets.

use crate::http::problem::Problem;

/// Longest accepted parameter value, as for search.
const MAX_VALUE_BYTES: usize = 512;

pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// Parses the raw query, allowing only `known` names.
    pub fn parse(query: Option<&str>, known: &[&str]) -> Result<Params, Problem> {
        let pairs: Vec<(String, String)> =
            url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()).into_owned().collect();
        for (i, (name, value)) in pairs.iter().enumerate() {
            if !known.contains(&name.as_str()) {
                return Err(Problem::invalid_param(name, format!("unknown parameter; known: {}", known.join(", "))));
            }
            if pairs[..i].iter().any(|(earlier, _)| earlier == name) {
                return Err(Problem::invalid_param(name, "given more than once"));
            }
            if value.len() > MAX_VALUE_BYTES {
                return Err(Problem::invalid_param(name, format!("longer than {MAX_VALUE_BYTES} bytes")));
            }
        }
        Ok(Params { pairs })
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// An integer in `range`, or `default` when absent.
    pub fn int(&self, name: &str, range: std::ops::RangeInclusive<i64>, default: i64) -> Result<i64, Problem> {
        let Some(text) = self.get(name) else { return Ok(default) };
        text.parse::<i64>().ok().filter(|n| range.contains(n)).ok_or_else(|| {
            Problem::invalid_param(
                name,
                format!("{text:?} is not an integer from {} to {}", range.start(), range.end()),
            )
        })
    }
}
