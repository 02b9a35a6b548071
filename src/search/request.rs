//! Search parameters (`shared/INTERFACES.md` "HTTP"), parsed and checked once for the JSON API
//! and the web pages alike. Anything malformed is a [`ParamError`] naming the parameter; values
//! that need the index to judge (is this network known?) are checked in `filters`.

use crate::lifecycle::Status;
use std::fmt;

/// Longest accepted parameter value, in bytes.
pub const MAX_PARAM_BYTES: usize = 512;
/// Most results per page.
pub const MAX_LIMIT: usize = 100;
pub const DEFAULT_LIMIT: usize = 20;
/// Deepest offset: search is for finding, not for walking the catalog (the export and the Bazaar
/// endpoint do that).
pub const MAX_OFFSET: usize = 10_000;
/// Most values of one repeatable parameter.
const MAX_VALUES: usize = 20;

/// Which testnet offers take part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TestnetMode {
    #[default]
    Exclude,
    Include,
    Only,
}

/// Which statuses are searched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StatusFilter {
    #[default]
    Listed,
    /// Only degraded services (failing their recent probes).
    Degraded,
    /// Listed and degraded.
    All,
}

impl StatusFilter {
    /// Whether a service with `status` belongs in results (hydration drops rows whose status
    /// changed since the index last committed).
    pub fn allows(self, status: Status) -> bool {
        match self {
            StatusFilter::Listed => status == Status::Listed,
            StatusFilter::Degraded => status == Status::Degraded,
            StatusFilter::All => matches!(status, Status::Listed | Status::Degraded),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    Relevance,
    PriceAsc,
    PriceDesc,
    Newest,
    Verified,
    Uptime,
}

impl Sort {
    pub const ALL: [(Sort, &'static str); 6] = [
        (Sort::Relevance, "relevance"),
        (Sort::PriceAsc, "price_asc"),
        (Sort::PriceDesc, "price_desc"),
        (Sort::Newest, "newest"),
        (Sort::Verified, "verified"),
        (Sort::Uptime, "uptime"),
    ];

    pub fn as_str(self) -> &'static str {
        Sort::ALL.iter().find(|(s, _)| *s == self).map_or("relevance", |(_, name)| name)
    }
}

/// How free text matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TextMode {
    /// Exact terms, plus a prefix match for the last term and one typo in longer terms.
    #[default]
    Forgiving,
    /// Exact terms only (benchmark comparisons against other engines).
    Exact,
}

/// A parsed search.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SearchRequest {
    pub q: String,
    pub networks: Vec<String>,
    pub assets: Vec<String>,
    pub schemes: Vec<String>,
    pub min_usd_micros: Option<i64>,
    pub max_usd_micros: Option<i64>,
    pub testnet: TestnetMode,
    pub status: StatusFilter,
    pub version: Option<u8>,
    pub has_schema: bool,
    pub host: Option<String>,
    /// `None`: relevance with text, newest without.
    pub sort: Option<Sort>,
    pub limit: usize,
    pub offset: usize,
    pub text_mode: TextMode,
}

/// A parameter the search cannot use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamError {
    pub param: String,
    pub message: String,
}

impl ParamError {
    pub fn new(param: &str, message: impl Into<String>) -> ParamError {
        ParamError { param: param.to_string(), message: message.into() }
    }
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "parameter `{}`: {}", self.param, self.message)
    }
}

impl std::error::Error for ParamError {}

impl SearchRequest {
    /// A request for everything listed, default sort and page size.
    pub fn new(q: &str) -> SearchRequest {
        SearchRequest { q: q.to_string(), limit: DEFAULT_LIMIT, ..SearchRequest::default() }
    }

    /// The effective sort.
    pub fn sort(&self) -> Sort {
        self.sort.unwrap_or(if self.q.trim().is_empty() { Sort::Newest } else { Sort::Relevance })
    }

    /// Parses query-string pairs. `also_allowed` names parameters the caller handles itself (the
    /// web page's `page`); any other unknown name is an error, so a typo never silently widens
    /// a search.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
        also_allowed: &[&str],
    ) -> Result<SearchRequest, ParamError> {
        let mut request = SearchRequest::new("");
        let mut seen: Vec<&str> = Vec::new();
        for (name, value) in pairs {
            if value.len() > MAX_PARAM_BYTES {
                return Err(ParamError::new(name, format!("longer than {MAX_PARAM_BYTES} bytes")));
            }
            let repeatable = matches!(name, "network" | "asset" | "scheme");
            if !repeatable && seen.contains(&name) && !also_allowed.contains(&name) {
                return Err(ParamError::new(name, "given more than once"));
            }
            seen.push(name);
            let value = value.trim();
            match name {
                "q" => request.q = value.to_string(),
                "network" => push_value(&mut request.networks, name, value)?,
                "asset" => push_value(&mut request.assets, name, value)?,
                "scheme" => push_value(&mut request.schemes, name, value)?,
                "min_usd" => request.min_usd_micros = Some(parse_usd(name, value)?),
                "max_usd" => request.max_usd_micros = Some(parse_usd(name, value)?),
                "testnet" => {
                    request.testnet = match value {
                        "exclude" => TestnetMode::Exclude,
                        "include" => TestnetMode::Include,
                        "only" => TestnetMode::Only,
                        _ => return Err(ParamError::new(name, "expected `exclude`, `include` or `only`")),
                    }
                }
                "status" => {
                    request.status = match value {
                        "listed" => StatusFilter::Listed,
                        "degraded" => StatusFilter::Degraded,
                        "all" => StatusFilter::All,
                        _ => return Err(ParamError::new(name, "expected `listed`, `degraded` or `all`")),
                    }
                }
                "version" => {
                    request.version = Some(match value {
                        "1" => 1,
                        "2" => 2,
                        _ => return Err(ParamError::new(name, "expected `1` or `2`")),
                    })
                }
                "has_schema" => {
                    if value != "true" {
                        return Err(ParamError::new(name, "expected `true` (leave it out to include every service)"));
                    }
                    request.has_schema = true;
                }
                "host" => {
                    if value.is_empty() || value.contains(['/', ' ', '?', '#', '@']) {
                        return Err(ParamError::new(name, "expected a host name such as `api.example.com`"));
                    }
                    request.host = Some(value.trim_end_matches('.').to_ascii_lowercase());
                }
                "sort" => {
                    let sort = Sort::ALL.iter().find(|(_, n)| *n == value).map(|(s, _)| *s);
                    request.sort = Some(sort.ok_or_else(|| {
                        ParamError::new(name, "expected relevance, price_asc, price_desc, newest, verified or uptime")
                    })?);
                }
                "limit" => request.limit = parse_count(name, value, 1, MAX_LIMIT)?,
                "offset" => request.offset = parse_count(name, value, 0, MAX_OFFSET)?,
                _ if also_allowed.contains(&name) => {}
                _ => return Err(ParamError::new(name, "unknown parameter")),
            }
        }
        if let (Some(min), Some(max)) = (request.min_usd_micros, request.max_usd_micros)
            && min > max
        {
            return Err(ParamError::new("min_usd", "greater than `max_usd`"));
        }
        Ok(request)
    }
}

fn push_value(values: &mut Vec<String>, name: &str, value: &str) -> Result<(), ParamError> {
    if value.is_empty() {
        return Err(ParamError::new(name, "empty value"));
    }
    if values.len() >= MAX_VALUES {
        return Err(ParamError::new(name, format!("more than {MAX_VALUES} values")));
    }
    values.push(value.to_string());
    Ok(())
}

fn parse_count(name: &str, value: &str, min: usize, max: usize) -> Result<usize, ParamError> {
    match value.parse::<usize>() {
        Ok(n) if (min..=max).contains(&n) && value.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
        _ => Err(ParamError::new(name, format!("expected a whole number from {min} to {max}"))),
    }
}

/// A decimal USD amount with at most 6 decimals (prices are compared in micro-dollars) and at
/// most 9 integer digits.
pub fn parse_usd(name: &str, value: &str) -> Result<i64, ParamError> {
    let malformed = || ParamError::new(name, "expected a decimal USD amount such as `0.01` (at most 6 decimals)");
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() && fraction.is_empty()
        || whole.len() > 9
        || fraction.len() > 6
        || !digits(whole)
        || !digits(fraction)
        || (value.contains('.') && fraction.is_empty())
    {
        return Err(malformed());
    }
    let whole: i64 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| malformed())? };
    let fraction: i64 = format!("{fraction:0<6}").parse().map_err(|_| malformed())?;
    Ok(whole * 1_000_000 + fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(query: &[(&str, &str)]) -> Result<SearchRequest, ParamError> {
        SearchRequest::from_pairs(query.iter().copied(), &[])
    }

    #[test]
    fn usd_amounts() {
        assert_eq!(parse_usd("p", "0.01"), Ok(10_000));
        assert_eq!(parse_usd("p", "1"), Ok(1_000_000));
        assert_eq!(parse_usd("p", ".5"), Ok(500_000));
        assert_eq!(parse_usd("p", "0.000001"), Ok(1));
        for bad in ["", ".", "1.", "-1", "1e3", "0.0000001", "NaN", "1,5", "1234567890", "0x10", " 1"] {
            assert!(parse_usd("p", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn parameters() {
        let request = parse(&[
            ("q", "weather"),
            ("network", "base"),
            ("network", "solana"),
            ("min_usd", "0.001"),
            ("max_usd", "0.1"),
            ("testnet", "include"),
            ("sort", "price_asc"),
            ("limit", "5"),
            ("offset", "10"),
        ])
        .expect("valid");
        assert_eq!(request.networks, ["base", "solana"]);
        assert_eq!((request.min_usd_micros, request.max_usd_micros), (Some(1_000), Some(100_000)));
        assert_eq!((request.sort(), request.limit, request.offset), (Sort::PriceAsc, 5, 10));
        assert_eq!(SearchRequest::new("").sort(), Sort::Newest);
        assert_eq!(SearchRequest::new("x").sort(), Sort::Relevance);
    }

    #[test]
    fn bad_parameters_name_themselves() {
        let long = "x".repeat(513);
        for (query, param) in [
            (vec![("limit", "0")], "limit"),
            (vec![("limit", "101")], "limit"),
            (vec![("limit", "99999999999999999999999")], "limit"),
            (vec![("limit", "+5")], "limit"),
            (vec![("offset", "-1")], "offset"),
            (vec![("offset", "10001")], "offset"),
            (vec![("sort", "price")], "sort"),
            (vec![("testnet", "yes")], "testnet"),
            (vec![("status", "delisted")], "status"),
            (vec![("version", "3")], "version"),
            (vec![("has_schema", "1")], "has_schema"),
            (vec![("min_usd", "abc")], "min_usd"),
            (vec![("min_usd", "2"), ("max_usd", "1")], "min_usd"),
            (vec![("q", long.as_str())], "q"),
            (vec![("q", "a"), ("q", "b")], "q"),
            (vec![("network", "")], "network"),
            (vec![("host", "a/b")], "host"),
            (vec![("netwrok", "base")], "netwrok"),
        ] {
            let error = parse(&query).expect_err(&format!("{query:?}"));
            assert_eq!(error.param, param, "{query:?}");
        }
    }

    #[test]
    fn the_caller_may_allow_its_own_parameters() {
        let request = SearchRequest::from_pairs([("page", "2"), ("q", "x")], &["page"]).expect("page allowed");
        assert_eq!(request.q, "x");
    }
}
