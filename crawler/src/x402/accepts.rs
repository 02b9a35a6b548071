//! One `accepts` entry: strict checks (PROTOCOL §4.2 steps 4–12) and normalization into an
//! [`Offer`] (PROTOCOL §4.3). Every problem in the entry is reported, not only the first.

use super::address::{self, AddressError, Role};
use super::findings::{Findings, quote, required_str, type_name};
use super::limits::{MAX_EXTRA_BYTES, MAX_SCHEME_CHARS};
use super::networks::{self, Family, Network};
use super::price::{self, AmountError};
use super::{fiat, flow, scheme_extra};
use crate::report::Offer;
use serde_json::{Map, Value};

/// Schemes whose `amount` has a known pricing meaning (PROTOCOL §2.4).
pub const KNOWN_SCHEMES: &[&str] = &["exact", "upto", "batch-settlement", "auth-capture"];

/// Above this, a payment authorization lives suspiciously long (PROTOCOL §4.2 step 10).
const LONG_TIMEOUT_SECONDS: u64 = 86_400;

/// Where the entry's network points after checking.
struct NetworkChoice {
    caip2: String,
    known: Option<&'static Network>,
    family: Family,
}

/// Checks entry `index` of a challenge of `version` (1 or 2) and returns its offer when the entry
/// has no problems.
pub fn check_entry(entry: &Map<String, Value>, index: usize, version: u8, findings: &mut Findings) -> Option<Offer> {
    let at = |key: &str| format!("accepts[{index}].{key}");
    let problems_before = findings.problem_count();

    let scheme = required_str(entry, "scheme", &at("scheme"), "scheme", findings).and_then(|s| {
        if s.trim().is_empty() {
            findings.problem("scheme_invalid", &at("scheme"), "`scheme` must be a non-empty string such as \"exact\".");
            None
        } else if s.chars().count() > MAX_SCHEME_CHARS {
            findings.problem(
                "scheme_invalid",
                &at("scheme"),
                format!("`scheme` {} is longer than {MAX_SCHEME_CHARS} characters; no x402 scheme is.", quote(s)),
            );
            None
        } else {
            Some(s)
        }
    });
    if let Some(s) = scheme.filter(|s| !KNOWN_SCHEMES.contains(s)) {
        findings.warn(
            "scheme_unknown",
            &at("scheme"),
            format!("Scheme {} is not one Agora knows (exact, upto, batch-settlement, auth-capture); the offer is kept but not priced.", quote(s)),
        );
    }

    let network = required_str(entry, "network", &at("network"), "network", findings)
        .and_then(|n| check_network(n, version, &at("network"), findings));

    let amount = check_amount(entry, version, &at, findings);

    let family = network.as_ref().map(|n| n.family);
    let asset = required_str(entry, "asset", &at("asset"), "asset", findings)
        .and_then(|a| family.and_then(|f| check_address(f, Role::Asset, a, &at("asset"), findings)));
    let pay_to = required_str(entry, "payTo", &at("payTo"), "pay_to", findings)
        .and_then(|p| family.and_then(|f| check_address(f, Role::PayTo, p, &at("payTo"), findings)));

    let timeout = check_timeout(entry, &at("maxTimeoutSeconds"), findings);

    let extra = match entry.get("extra") {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(value @ Value::Object(_)) => {
            let size = serde_json::to_vec(value).map_or(usize::MAX, |bytes| bytes.len());
            if size > MAX_EXTRA_BYTES {
                findings.problem(
                    "extra_too_large",
                    &at("extra"),
                    format!("`extra` is {size} bytes; Agora accepts up to {MAX_EXTRA_BYTES} (real ones carry a few short fields)."),
                );
                Value::Null
            } else {
                value.clone()
            }
        }
        Some(other) => {
            findings.problem(
                "extra_invalid",
                &at("extra"),
                format!("`extra` must be an object or null, got {}.", type_name(other)),
            );
            Value::Null
        }
    };

    if version == 1 {
        check_v1_resource_fields(entry, &at, findings);
    }

    if findings.problem_count() > problems_before {
        return None;
    }
    let (scheme, network, amount, asset, pay_to, timeout) = (scheme?, network?, amount?, asset?, pay_to?, timeout?);

    let coin = network.known.and_then(|n| n.stablecoin(&asset));
    scheme_extra::check(scheme, network.family, coin, &extra, &at("extra"), findings);
    let terms = flow::terms(scheme, network.family, coin, &extra, &at("extra"), findings);
    if coin.is_none() && network.known.is_some() {
        findings.warn(
            "asset_unknown",
            &at("asset"),
            format!("Asset {} is not a stablecoin Agora knows on {}; the offer is listed with its atomic amount but no USD price.", quote(&asset), network.caip2),
        );
    }
    let priced = KNOWN_SCHEMES.contains(&scheme);
    let fiat =
        network.known.is_none().then(|| fiat::unit(&network.caip2, &asset, &extra, &at("asset"), findings)).flatten();
    let (symbol, decimals) = match (coin, &fiat) {
        (Some(c), _) => (Some(c.symbol.to_string()), Some(c.decimals)),
        (None, Some(unit)) => (Some(unit.currency.clone()), unit.decimals),
        (None, None) => (None, None),
    };
    let usd = decimals
        .filter(|_| priced && (coin.is_some() || fiat.as_ref().is_some_and(|u| u.is_usd())))
        .map(|d| price::atomic_to_decimal(&amount, d));
    Some(Offer {
        scheme: scheme.to_string(),
        network: network.caip2.clone(),
        network_v1: network.known.and_then(|n| n.v1_name).map(str::to_string),
        family: network.family.as_str().to_string(),
        testnet: network.known.is_some_and(|n| n.testnet),
        asset,
        asset_symbol: symbol,
        decimals,
        amount,
        usd,
        usd_is_max: terms.usd_is_max,
        pay_to,
        max_timeout_seconds: timeout,
        extra,
        payment_flow: terms.payment_flow,
        asset_transfer_method: terms.asset_transfer_method,
        payable: terms.payable,
    })
}

/// Whether `text` matches the CAIP-2 pattern widened for Algorand's base64 reference:
/// `^[-a-z0-9]{3,8}:[-_a-zA-Z0-9=+/]{1,64}$` (PROTOCOL §4.2 step 6).
pub fn is_caip2(text: &str) -> bool {
    let Some((namespace, reference)) = text.split_once(':') else { return false };
    let ns_ok = (3..=8).contains(&namespace.len())
        && namespace.bytes().all(|b| b == b'-' || b.is_ascii_lowercase() || b.is_ascii_digit());
    let ref_ok = (1..=64).contains(&reference.len())
        && reference.bytes().all(|b| matches!(b, b'-' | b'_' | b'=' | b'+' | b'/') || b.is_ascii_alphanumeric());
    ns_ok && ref_ok
}

fn check_network(text: &str, version: u8, path: &str, findings: &mut Findings) -> Option<NetworkChoice> {
    let known = |n: &'static Network| NetworkChoice { caip2: n.caip2.to_string(), known: Some(n), family: n.family() };
    if version == 1 {
        if let Some(network) = networks::by_v1_name(text) {
            return Some(known(network));
        }
        if !is_caip2(text) {
            let hint = networks::canonical_for(text).map(|c| format!(" Did you mean {c}?")).unwrap_or_default();
            findings.problem(
                "unknown_network",
                path,
                format!(
                    "Network {} is not an x402 v1 network name (e.g. \"base\", \"base-sepolia\", \"solana\").{hint}",
                    quote(text)
                ),
            );
            return None;
        }
        findings.warn(
            "v1_caip2_network",
            path,
            "A v1 challenge uses a CAIP-2 network id; v1 clients expect names such as \"base\".",
        );
    }
    if !is_caip2(text) {
        match networks::canonical_for(text) {
            Some(canonical) => findings.problem(
                "network_not_canonical",
                path,
                format!("Network {} is not a CAIP-2 id; x402 v2 requires \"{canonical}\".", quote(text)),
            ),
            None => findings.problem(
                "network_invalid",
                path,
                format!("Network {} is not a CAIP-2 id (namespace:reference, e.g. \"eip155:8453\").", quote(text)),
            ),
        }
        return None;
    }
    if let Some(network) = networks::by_caip2(text) {
        return Some(known(network));
    }
    if let Some(canonical) = networks::canonical_for(text) {
        findings.problem(
            "network_not_canonical",
            path,
            format!("Network {} is not the canonical CAIP-2 id; use \"{canonical}\".", quote(text)),
        );
        return None;
    }
    let namespace = text.split(':').next().unwrap_or_default();
    // A card network is not a blockchain Agora lacks: `fiat` judges its currency and unit.
    if !fiat::is_fiat_namespace(namespace) {
        findings.warn(
            "network_unknown",
            path,
            format!(
                "Network {} is well-formed but not one Agora knows; the offer is listed without a USD price.",
                quote(text)
            ),
        );
    }
    Some(NetworkChoice { caip2: text.to_string(), known: None, family: Family::of_namespace(namespace) })
}

fn check_amount(
    entry: &Map<String, Value>,
    version: u8,
    at: &dyn Fn(&str) -> String,
    findings: &mut Findings,
) -> Option<String> {
    let (key, other_key) = if version == 1 { ("maxAmountRequired", "amount") } else { ("amount", "maxAmountRequired") };
    let path = at(key);
    if !entry.contains_key(key) && entry.contains_key(other_key) {
        let code = if version == 2 { "amount_v1_key" } else { "amount_missing" };
        findings.problem(code, &path, format!("x402 v{version} puts the price in `{key}`, not `{other_key}`."));
        return None;
    }
    let text = match entry.get(key) {
        None => {
            findings.problem("amount_missing", &path, format!("`{key}` is required but missing."));
            return None;
        }
        Some(Value::String(text)) => text,
        Some(other) => {
            findings.problem(
                "amount_not_string",
                &path,
                format!("`{key}` must be a string of atomic units such as \"10000\", got {}.", type_name(other)),
            );
            return None;
        }
    };
    match price::parse_amount(text) {
        Ok(digits) => Some(digits.to_string()),
        Err(AmountError::NotInteger) => {
            findings.problem(
                "amount_not_integer",
                &path,
                format!("`{key}` {} must be a whole number of the token's smallest unit (e.g. \"10000\" for 0.01 USDC), without decimals, signs, spaces, hex or exponents.", quote(text)),
            );
            None
        }
        Err(AmountError::TooLarge) => {
            findings.problem("amount_too_large", &path, format!("`{key}` does not fit in uint256."));
            None
        }
        Err(AmountError::Zero) => {
            findings.problem(
                "amount_zero",
                &path,
                format!("`{key}` is zero: nothing can be paid. Free endpoints should not answer 402."),
            );
            None
        }
    }
}

fn check_address(family: Family, role: Role, text: &str, path: &str, findings: &mut Findings) -> Option<String> {
    let (code, what) = match role {
        Role::PayTo => ("pay_to", "`payTo`"),
        Role::Asset => ("asset", "`asset`"),
    };
    match address::check(family, role, text) {
        Ok(normalized) => {
            if role == Role::PayTo && address::is_zero(family, &normalized) {
                findings.problem(
                    "pay_to_zero",
                    path,
                    "`payTo` is the zero address: payments sent there are burned. Use your receiving address.",
                );
                return None;
            }
            Some(normalized)
        }
        Err(AddressError::Checksum) => {
            findings.problem(
                &format!("{code}_checksum"),
                path,
                format!("{what} {} is mixed-case but its EIP-55 checksum is wrong; it may be mistyped. Use the checksummed or all-lower-case form.", quote(text)),
            );
            None
        }
        Err(AddressError::Format) => {
            let expected = match (family, role) {
                (Family::Evm, _) => "0x followed by 40 hex digits",
                (Family::Svm, _) => "a base58 public key of 32 bytes",
                (Family::Aptos, _) => "0x followed by 64 hex digits",
                (Family::Algorand, Role::PayTo) => "a 58-character Algorand address",
                (Family::Algorand, Role::Asset) => "a numeric ASA id",
                (Family::Stellar, Role::PayTo) => "a Stellar G…, C… or M… address",
                (Family::Stellar, Role::Asset) => "a Stellar C… contract id",
                (Family::Other, _) => "a non-empty token without spaces",
            };
            let symbol_hint = if role == Role::Asset && text.len() <= 8 && text.bytes().all(|b| b.is_ascii_alphabetic())
            {
                " A token symbol is not enough; give the token's address."
            } else {
                ""
            };
            findings.problem(
                &format!("{code}_invalid"),
                path,
                format!(
                    "{what} {} is not a valid {} address: expected {expected}.{symbol_hint}",
                    quote(text),
                    family.as_str()
                ),
            );
            None
        }
    }
}

fn check_timeout(entry: &Map<String, Value>, path: &str, findings: &mut Findings) -> Option<u64> {
    match entry.get("maxTimeoutSeconds") {
        None => {
            findings.problem(
                "timeout_missing",
                path,
                "`maxTimeoutSeconds` is required but missing (SDKs default to 60 or 300).",
            );
            None
        }
        Some(Value::Number(n)) if n.as_u64().is_some_and(|s| s > 0) => {
            let seconds = n.as_u64().unwrap_or_default();
            if seconds > LONG_TIMEOUT_SECONDS {
                findings.warn("timeout_large", path, format!("`maxTimeoutSeconds` is {seconds}, more than a day; a payment authorization should be short-lived."));
            }
            Some(seconds)
        }
        Some(other) => {
            findings.problem(
                "timeout_invalid",
                path,
                format!(
                    "`maxTimeoutSeconds` must be a whole number of seconds greater than 0, got {}.",
                    short_json(other)
                ),
            );
            None
        }
    }
}

/// v1 carries the resource description in every entry (PROTOCOL §1.2).
fn check_v1_resource_fields(entry: &Map<String, Value>, at: &dyn Fn(&str) -> String, findings: &mut Findings) {
    if let Some(resource) = required_str(entry, "resource", &at("resource"), "resource", findings)
        && !is_absolute_http_url(resource)
    {
        findings.problem(
            "resource_invalid",
            &at("resource"),
            format!(
                "`resource` {} must be the absolute http(s) URL of the paid endpoint (at most {} bytes).",
                quote(resource),
                crate::target::MAX_URL_BYTES
            ),
        );
    }
    required_str(entry, "description", &at("description"), "description", findings);
    if let Some(mime) = entry.get("mimeType").filter(|m| !m.is_null() && !m.is_string()) {
        findings.warn(
            "mime_type_invalid",
            &at("mimeType"),
            format!("`mimeType` should be a string, got {}.", type_name(mime)),
        );
    }
}

/// Whether `text` parses as an absolute http(s) URL with a host.
/// At most [`crate::target::MAX_URL_BYTES`] long, like a registered URL.
pub fn is_absolute_http_url(text: &str) -> bool {
    text.len() <= crate::target::MAX_URL_BYTES
        && url::Url::parse(text).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
}

fn short_json(value: &Value) -> String {
    let text = value.to_string();
    if text.len() > 40 { format!("{}…", &text[..text.floor_char_boundary(40)]) } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caip2_pattern() {
        for good in [
            "eip155:8453",
            "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp",
            "algorand:SGO1GKSzyE7IEPItTxCByw9x8FmnrCDexi9/cOUJOiI=",
        ] {
            assert!(is_caip2(good), "{good}");
        }
        for bad in ["base", "8453", "EIP155:8453", "ab:1", "eip155:", ":1", "toolongns:1", "eip155:a b"] {
            assert!(!is_caip2(bad), "{bad}");
        }
    }
}
