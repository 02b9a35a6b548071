//! Search parameters (`shared/INTERFACES.md` "HTTP"), parsed and checked once for the JSON API,
//! the web pages and Bazaar discovery alike, through the one strict parser ([`crate::params`]).
//! Anything malformed is a [`ParamError`] naming the parameter; values
//! that need the index to judge (is this network known?) are checked in `filters`.

use crate::lifecycle::Status;
use crate::params::{Known, MAX_OFFSET, ParamError, Params, parse_int};

/// Most results per page.
pub const MAX_LIMIT: usize = 100;
pub const DEFAULT_LIMIT: usize = 20;

/// The search's parameters (`shared/INTERFACES.md`); the offer filters may repeat.
pub const SEARCH_PARAMS: Known<'static> = Known { names: SEARCH_NAMES, repeatable: REPEATABLE };
/// The search parameters' names, as INTERFACES.md lists them.
#[rustfmt::skip]
pub const SEARCH_NAMES: &[&str] = &[
    "q", "network", "asset", "scheme", "min_usd", "max_usd", "testnet", "status", "version", "has_schema", "host",
    "type", "format", "source", "verified", "interpret", "sort", "limit", "offset",
];
const REPEATABLE: &[&str] = &["network", "asset", "scheme", "format"];

/// What a service is: an HTTP endpoint or an MCP tool sold through x402.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ServiceType {
    Http,
    Mcp,
}

impl ServiceType {
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceType::Http => "http",
            ServiceType::Mcp => "mcp",
        }
    }
}

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
    /// The quality score (`crate::quality`), best first.
    Quality,
}

impl Sort {
    pub const ALL: [(Sort, &'static str); 7] = [
        (Sort::Relevance, "relevance"),
        (Sort::PriceAsc, "price_asc"),
        (Sort::PriceDesc, "price_desc"),
        (Sort::Newest, "newest"),
        (Sort::Verified, "verified"),
        (Sort::Uptime, "uptime"),
        (Sort::Quality, "quality"),
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
    /// `testnet` was given as a parameter (so the text's "testnet" does not override it).
    pub testnet_set: bool,
    pub status: StatusFilter,
    pub version: Option<u8>,
    pub has_schema: bool,
    pub host: Option<String>,
    /// `http` or `mcp`: only services of that type.
    pub service_type: Option<ServiceType>,
    /// Output formats (`search::formats`), any of them.
    pub formats: Vec<String>,
    /// Only services a source (by id) lists.
    pub source: Option<i64>,
    /// Only services someone proved control of.
    pub verified: bool,
    /// `interpret=false`: search `q` literally (no query understanding, `search::understand`).
    pub literal: bool,
    /// `None`: relevance with text, newest without.
    pub sort: Option<Sort>,
    pub limit: usize,
    pub offset: usize,
    pub text_mode: TextMode,
}

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
        let pairs = pairs.into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let names: Vec<&str> = SEARCH_NAMES.iter().chain(also_allowed).copied().collect();
        SearchRequest::from_params(&Params::check(pairs, Known { names: &names, repeatable: REPEATABLE })?)
    }

    /// The search checked parameters ask for (names the search does not take are ignored: the
    /// caller's own, already checked by [`Params`]).
    pub fn from_params(params: &Params) -> Result<SearchRequest, ParamError> {
        let mut request = SearchRequest::new("");
        for (name, value) in params.pairs() {
            let name = name.as_str();
            let value = value.trim();
            match name {
                "q" => request.q = value.to_string(),
                "network" => push_value(&mut request.networks, name, value)?,
                "asset" => push_value(&mut request.assets, name, value)?,
                "scheme" => push_value(&mut request.schemes, name, value)?,
                "min_usd" => request.min_usd_micros = params.usd(name)?,
                "max_usd" => request.max_usd_micros = params.usd(name)?,
                "testnet" => {
                    request.testnet_set = true;
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
                "type" => {
                    request.service_type = Some(match value {
                        "http" => ServiceType::Http,
                        "mcp" => ServiceType::Mcp,
                        _ => return Err(ParamError::new(name, "expected `http` or `mcp`")),
                    })
                }
                "format" => {
                    let Some(format) = super::formats::FORMATS.iter().find(|f| **f == value) else {
                        let known = super::formats::FORMATS.join(", ");
                        return Err(ParamError::new(name, format!("expected one of {known}")));
                    };
                    if !request.formats.iter().any(|f| f == format) {
                        request.formats.push(format.to_string());
                    }
                }
                "source" => request.source = Some(params.int(name, 1..=i64::MAX, 0)?),
                "interpret" => {
                    request.literal = match value {
                        "true" => false,
                        "false" => true,
                        _ => return Err(ParamError::new(name, "expected `true` (the default) or `false`")),
                    }
                }
                "verified" => {
                    if value != "true" {
                        return Err(ParamError::new(name, "expected `true` (leave it out to include every service)"));
                    }
                    request.verified = true;
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
                "limit" => request.limit = count(name, value, 1, MAX_LIMIT)?,
                "offset" => request.offset = count(name, value, 0, MAX_OFFSET)?,
                _ => {}
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
    values.push(value.to_string());
    Ok(())
}

fn count(name: &str, value: &str, min: usize, max: usize) -> Result<usize, ParamError> {
    let n = parse_int(name, value, i64::try_from(min).unwrap_or(0)..=i64::try_from(max).unwrap_or(i64::MAX))?;
    Ok(usize::try_from(n).unwrap_or(min))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(query: &[(&str, &str)]) -> Result<SearchRequest, ParamError> {
        SearchRequest::from_pairs(query.iter().copied(), &[])
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
