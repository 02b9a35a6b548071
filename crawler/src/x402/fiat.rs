//! Offers on non-blockchain CAIP-2 namespaces (PROTOCOL §8.2, §8.3): a card network such as
//! `card:visa` settles in a fiat currency, named by its ISO 4217 code in `asset`, to an opaque
//! payment-provider account in `payTo`. Its amount has no unit Agora can assume: it is priced
//! only when the offer states one (`extra.decimals`, the currency's minor-unit exponent) and the
//! currency is USD.

use super::findings::{Findings, quote};
use serde_json::Value;

/// Namespaces whose `asset` is a currency code, not a token.
const FIAT_NAMESPACES: &[&str] = &["card"];
/// The largest minor-unit exponent accepted as a stated unit (ISO 4217 uses 0–4).
const MAX_DECIMALS: u64 = 18;

/// Whether `namespace` (the part of a CAIP-2 id before `:`) is a card network.
pub fn is_fiat_namespace(namespace: &str) -> bool {
    FIAT_NAMESPACES.contains(&namespace)
}

/// The currency and stated unit of a fiat offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    pub currency: String,
    /// `extra.decimals`, when stated.
    pub decimals: Option<u8>,
}

impl Unit {
    pub fn is_usd(&self) -> bool {
        self.currency == "USD"
    }
}

/// For an offer on `network`: `None` unless it is a card network; then the currency of `asset`
/// (a problem at `path` when it is not an ISO 4217 code) and the unit `extra` states (a warning
/// when none is, or the currency is not USD: the offer is listed unpriced).
pub fn unit(network: &str, asset: &str, extra: &Value, path: &str, findings: &mut Findings) -> Option<Unit> {
    let namespace = network.split(':').next().unwrap_or_default();
    if !is_fiat_namespace(namespace) {
        return None;
    }
    if !(asset.len() == 3 && asset.bytes().all(|b| b.is_ascii_uppercase())) {
        findings.problem(
            "asset_invalid",
            path,
            format!(
                "On the card network {network}, `asset` must be an ISO 4217 currency code such as \"USD\", got {}.",
                quote(asset)
            ),
        );
        return None;
    }
    let decimals =
        extra.get("decimals").and_then(Value::as_u64).filter(|d| *d <= MAX_DECIMALS).and_then(|d| u8::try_from(d).ok());
    if asset != "USD" {
        findings.warn(
            "fiat_unpriced",
            path,
            format!(
                "The offer is paid in {asset} on {network}; Agora states prices in USD only and lists it unpriced."
            ),
        );
    } else if decimals.is_none() {
        findings.warn(
            "fiat_unpriced",
            path,
            format!("The offer is paid in USD on {network} but does not state the amount's unit; add `extra.decimals` (2 for cents) to be priced."),
        );
    }
    Some(Unit { currency: asset.to_string(), decimals })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn judge(network: &str, asset: &str, extra: Value) -> (Option<Unit>, Vec<String>, Vec<String>) {
        let mut findings = Findings::default();
        let unit = unit(network, asset, &extra, "accepts[0].asset", &mut findings);
        let collected = findings.finish();
        let codes = |list: Vec<crate::report::Finding>| list.into_iter().map(|f| f.code).collect();
        (unit, codes(collected.problems), codes(collected.warnings))
    }

    #[test]
    fn card_offers_name_a_currency_and_are_priced_only_with_a_stated_unit() {
        assert_eq!(judge("eip155:1", "USD", json!({})).0, None, "not a card network");
        let (stated, problems, warnings) = judge("card:visa", "USD", json!({"decimals": 2}));
        assert_eq!(stated, Some(Unit { currency: "USD".into(), decimals: Some(2) }));
        assert!(problems.is_empty() && warnings.is_empty());
        let (unstated, _, warnings) = judge("card:visa", "USD", json!({}));
        assert_eq!(unstated.map(|u| u.decimals), Some(None));
        assert_eq!(warnings, ["fiat_unpriced"]);
        let (euro, _, warnings) = judge("card:visa", "EUR", json!({"decimals": 2}));
        assert!(euro.is_some_and(|u| !u.is_usd()));
        assert_eq!(warnings, ["fiat_unpriced"]);
        let (bad, problems, _) = judge("card:visa", "0xabc", json!({}));
        assert_eq!((bad, problems), (None, vec!["asset_invalid".to_string()]));
    }
}
