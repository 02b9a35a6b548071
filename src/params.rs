//! Strict request parameters, the one parser behind every query string Agora reads (the catalog
//! search, the web search page, the change feed, the export, Bazaar discovery): every name is
//! known, given at most once unless it is a repeatable filter, and at most [`MAX_PARAM_BYTES`]
//! long, or the answer is a [`ParamError`] naming the parameter — a typo never silently changes
//! what a caller gets. Also the one reader of decimal USD amounts typed by callers.

use agora_crawler::x402::price::usd_to_micros;
use std::fmt;
use std::ops::RangeInclusive;

/// Longest accepted parameter value, in bytes.
pub const MAX_PARAM_BYTES: usize = 512;
/// Most values of one repeatable parameter.
pub const MAX_VALUES: usize = 20;
/// Deepest offset into search results: search is for finding, not for walking the catalog (the
/// export and the Bazaar list do that).
pub const MAX_OFFSET: usize = 10_000;

/// A parameter a request cannot use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamError {
    pub param: String,
    pub message: String,
    /// A well-formed value nothing in the catalog has (a network, asset or scheme the index has
    /// never seen): strict front ends refuse it, the Bazaar endpoints answer an empty page.
    pub unmatched_value: bool,
}

impl ParamError {
    pub fn new(param: &str, message: impl Into<String>) -> ParamError {
        ParamError { param: param.to_string(), message: message.into(), unmatched_value: false }
    }

    /// A well-formed value the catalog has none of.
    pub fn unmatched(param: &str, message: impl Into<String>) -> ParamError {
        ParamError { unmatched_value: true, ..ParamError::new(param, message) }
    }
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "parameter `{}`: {}", self.param, self.message)
    }
}

impl std::error::Error for ParamError {}

/// Which names a request takes.
#[derive(Debug, Clone, Copy)]
pub struct Known<'a> {
    /// Every accepted name.
    pub names: &'a [&'a str],
    /// Names that may be given more than once (up to [`MAX_VALUES`] times).
    pub repeatable: &'a [&'a str],
}

impl<'a> Known<'a> {
    /// Names that may each be given once.
    pub const fn once(names: &'a [&'a str]) -> Known<'a> {
        Known { names, repeatable: &[] }
    }
}

/// Checked parameters, in the order given.
#[derive(Debug, Clone, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// Parses a raw query string (`None` or empty: no parameters).
    pub fn parse(query: Option<&str>, known: Known<'_>) -> Result<Params, ParamError> {
        let pairs = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()).into_owned().collect();
        Params::check(pairs, known)
    }

    /// Checks already decoded pairs (the web form drops its blank fields first).
    pub fn check(pairs: Vec<(String, String)>, known: Known<'_>) -> Result<Params, ParamError> {
        for (i, (name, value)) in pairs.iter().enumerate() {
            if !known.names.contains(&name.as_str()) {
                return Err(ParamError::new(name, format!("unknown parameter; known: {}", known.names.join(", "))));
            }
            let earlier = pairs[..i].iter().filter(|(n, _)| n == name).count();
            if earlier > 0 && !known.repeatable.contains(&name.as_str()) {
                return Err(ParamError::new(name, "given more than once"));
            }
            if earlier >= MAX_VALUES {
                return Err(ParamError::new(name, format!("more than {MAX_VALUES} values")));
            }
            if value.len() > MAX_PARAM_BYTES {
                return Err(ParamError::new(name, format!("longer than {MAX_PARAM_BYTES} bytes")));
            }
        }
        Ok(Params { pairs })
    }

    /// The value of a once-only parameter.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// Every value of a repeatable parameter, in order.
    pub fn all<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s str> + 's {
        self.pairs.iter().filter(move |(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// Every pair, in order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// A whole number in `range` (plain digits: no sign, no spaces), or `default` when absent.
    pub fn int(&self, name: &str, range: RangeInclusive<i64>, default: i64) -> Result<i64, ParamError> {
        self.get(name).map_or(Ok(default), |text| parse_int(name, text.trim(), range))
    }

    /// A decimal USD amount ([`parse_usd`]) in micro-dollars, if given.
    pub fn usd(&self, name: &str) -> Result<Option<i64>, ParamError> {
        self.get(name).map(|text| parse_usd(name, text.trim())).transpose()
    }
}

/// A service id in a path: a positive integer, else an error naming `id`.
pub fn parse_service_id(raw: &str) -> Result<i64, ParamError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ParamError::new("id", format!("{raw:?} is not a service id (a positive integer)")))
}

/// A whole number in `range`, written as plain digits.
pub fn parse_int(name: &str, text: &str, range: RangeInclusive<i64>) -> Result<i64, ParamError> {
    let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    match text.parse::<i64>() {
        Ok(n) if digits => int_in(name, n, range),
        _ => Err(out_of_range(name, &range)),
    }
}

/// `n` when it lies in `range` (an integer given as a number, e.g. an MCP argument).
pub fn int_in(name: &str, n: i64, range: RangeInclusive<i64>) -> Result<i64, ParamError> {
    if range.contains(&n) { Ok(n) } else { Err(out_of_range(name, &range)) }
}

fn out_of_range(name: &str, range: &RangeInclusive<i64>) -> ParamError {
    ParamError::new(name, format!("expected a whole number from {} to {}", range.start(), range.end()))
}

/// A decimal USD amount typed by a caller (`0.01`, `1`, `.5`): at most 6 decimals (prices are
/// compared in micro-dollars) and 9 integer digits. The value is read by the same function that
/// reads stored prices (`usd_to_micros`), so a filter and a price never disagree on a number.
pub fn parse_usd(name: &str, value: &str) -> Result<i64, ParamError> {
    let malformed = || ParamError::new(name, "expected a decimal USD amount such as `0.01` (at most 6 decimals)");
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    if value.is_empty() || whole.len() > 9 || fraction.len() > 6 || (value.contains('.') && fraction.is_empty()) {
        return Err(malformed());
    }
    // A leading `.` is how people type cents; stored prices always carry the `0`.
    let micros = if whole.is_empty() { usd_to_micros(&format!("0{value}")) } else { usd_to_micros(value) };
    micros.ok_or_else(malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usd_amounts() {
        assert_eq!(parse_usd("p", "0.01"), Ok(10_000));
        assert_eq!(parse_usd("p", "1"), Ok(1_000_000));
        assert_eq!(parse_usd("p", ".5"), Ok(500_000));
        assert_eq!(parse_usd("p", "0.000001"), Ok(1));
        for bad in ["", ".", "1.", "-1", "1e3", "0.0000001", "NaN", "1,5", "1234567890", "0x10", " 1", "+1"] {
            assert!(parse_usd("p", bad).is_err(), "{bad:?}");
        }
    }

    const KNOWN: Known<'static> = Known { names: &["a", "n", "r"], repeatable: &["r"] };

    #[test]
    fn names_repeats_and_lengths_are_checked_and_named() {
        let long = format!("a={}", "x".repeat(MAX_PARAM_BYTES + 1));
        let many = vec!["r=1"; MAX_VALUES + 1].join("&");
        for (query, param, message) in [
            ("b=1", "b", "unknown parameter; known: a, n, r"),
            ("a=1&a=2", "a", "given more than once"),
            (long.as_str(), "a", "longer than 512 bytes"),
            (many.as_str(), "r", "more than 20 values"),
        ] {
            let error = Params::parse(Some(query), KNOWN).expect_err(query);
            assert_eq!((error.param.as_str(), error.message.as_str()), (param, message), "{query}");
        }
        let params = Params::parse(Some("r=1&a=x%20y&r=2&n=42"), KNOWN).expect("valid");
        assert_eq!(params.all("r").collect::<Vec<_>>(), ["1", "2"]);
        assert_eq!(
            (params.get("a"), params.int("n", 0..=100, 7), params.int("m", 0..=1, 7)),
            (Some("x y"), Ok(42), Ok(7))
        );
        for bad in ["n=-1", "n=101", "n=%2B5", "n=", "n=99999999999999999999"] {
            assert_eq!(
                Params::parse(Some(bad), KNOWN).expect("known").int("n", 0..=100, 0).map_err(|e| e.param),
                Err("n".into())
            );
        }
    }
}
