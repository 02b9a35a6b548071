//! The discovery endpoints' filters, honest (x402 proposal #3298, PROTOCOL §8.4): a well-formed
//! value is applied — a network, scheme, type or payTo that nothing in the catalog has yields an
//! empty page, never a 400 and never the unfiltered catalog — or, where Agora cannot apply it
//! (an extension it does not track), named in `unappliedFilters`. Only a malformed value is a
//! 400, whose body also carries the `error` string the SDK clients read.

use super::problem::Problem;
use crate::db::discovery::DiscoveryFilter;
use crate::params::Params;
use agora_crawler::x402::accepts::is_caip2;
use agora_crawler::x402::networks;

/// What the filters of one request ask for.
pub struct Filters {
    pub filter: DiscoveryFilter,
    pub limit: i64,
    /// A resource type Agora lists none of (`a2a`, …): the answer is an empty page.
    pub none_of_this_type: bool,
    /// Well-formed filters Agora did not apply (`unappliedFilters`).
    pub unapplied: Vec<&'static str>,
}

/// Extensions Agora can filter on: `bazaar` (a declared, valid input/output schema).
const APPLIED_EXTENSIONS: &[&str] = &["bazaar"];
/// Longest `payTo` or `asset` value (addresses and symbols are far shorter).
const MAX_VALUE_BYTES: usize = 128;

/// Reads the filters; a malformed one is a 400 naming it (with `error`).
pub fn read(params: &Params) -> Result<Filters, Problem> {
    read_filters(params).map_err(Problem::with_error_member)
}

fn read_filters(params: &Params) -> Result<Filters, Problem> {
    let mut filter = DiscoveryFilter::default();
    let mut none_of_this_type = false;
    match params.get("type") {
        None => {}
        Some(kind @ ("http" | "mcp")) => filter.service_type = Some(kind.to_string()),
        Some(kind) if is_token(kind, 32) => none_of_this_type = true,
        Some(kind) => return Err(malformed("type", kind, "a resource type such as `http` or `mcp`")),
    }
    for value in list(params, "network") {
        // A CAIP-2 id Agora does not know may still be listed (unpriced): kept as spelled.
        let canonical = networks::canonical(&value).map(str::to_string).or_else(|| is_caip2(&value).then_some(value));
        match canonical {
            Some(network) => filter.networks.push(network),
            None => {
                let raw = params.get("network").unwrap_or_default();
                return Err(malformed("network", raw, "CAIP-2 ids such as `eip155:8453`, or v1 names such as `base`"));
            }
        }
    }
    for scheme in list(params, "scheme") {
        if !is_token(&scheme, 32) {
            return Err(malformed("scheme", &scheme, "scheme names such as `exact` or `upto`"));
        }
        filter.schemes.push(scheme);
    }
    filter.pay_to = address_like(params, "payTo")?;
    filter.asset = address_like(params, "asset")?;
    let mut unapplied = Vec::new();
    for extension in list(params, "extensions") {
        if !is_token(&extension, 64) {
            return Err(malformed("extensions", &extension, "extension names such as `bazaar`"));
        }
        if APPLIED_EXTENSIONS.contains(&extension.as_str()) {
            filter.with_discovery = true;
        } else if !unapplied.contains(&"extensions") {
            unapplied.push("extensions");
        }
    }
    filter.max_usd_micros = params.usd("maxUsdPrice")?;
    Ok(Filters { filter, limit: params.int("limit", 1..=100, 20)?, none_of_this_type, unapplied })
}

/// The comma-separated values of `name`, trimmed, empty ones left out.
fn list(params: &Params, name: &str) -> Vec<String> {
    params
        .get(name)
        .map(|v| v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect())
        .unwrap_or_default()
}

/// A lower-case name: letters, digits, `-` and `_`, starting with a letter or digit.
fn is_token(text: &str, max: usize) -> bool {
    let mut bytes = text.bytes();
    (1..=max).contains(&text.len())
        && bytes.next().is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// An address or symbol: printable, no spaces, at most [`MAX_VALUE_BYTES`].
fn address_like(params: &Params, name: &str) -> Result<Option<String>, Problem> {
    match params.get(name) {
        None => Ok(None),
        Some(value)
            if !value.is_empty() && value.len() <= MAX_VALUE_BYTES && value.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            Ok(Some(value.to_string()))
        }
        Some(value) => Err(malformed(name, value, "an address or token symbol")),
    }
}

fn malformed(name: &str, value: &str, expected: &str) -> Problem {
    let shown: String = value.chars().take(64).collect();
    Problem::invalid_param(name, format!("`{name}` {shown:?} is malformed: expected {expected}"))
}

#[cfg(test)]
mod tests {
    use super::is_token;

    #[test]
    fn tokens_are_lower_case_names() {
        for good in ["http", "mcp", "batch-settlement", "payment-identifier", "a2a", "x_1"] {
            assert!(is_token(good, 64), "{good}");
        }
        for bad in ["", "!!!", "HTTP", "-x", "a b", "é"] {
            assert!(!is_token(bad, 64), "{bad}");
        }
    }
}
