//! How an offer is paid (PROTOCOL §8.1, §8.2): its payment flow (`extra.paymentFlow`), for EVM
//! how the token moves (`extra.assetTransferMethod`), whether the official SDK clients can pay
//! it at all, and whether its amount is the price or a maximum.
//!
//! The two `extra` keys are protocol-reserved: a client MUST NOT pay an offer whose flow it does
//! not recognize. Such an offer keeps the challenge valid but is reported `payable: false` with a
//! warning saying why; a challenge none of whose offers is payable is not listed (`validate`).

use super::findings::{Findings, quote};
use super::networks::{Family, Stablecoin, Transfer};
use serde_json::Value;

/// Payment flows SDK clients know; `authorization` is the default.
pub const FLOWS: &[&str] = &["authorization", "upfront", "escrow"];
/// EVM asset transfer methods SDK clients know.
pub const TRANSFER_METHODS: &[&str] = &["eip3009", "permit2", "erc7710"];
/// Longest seller value kept as the offer's flow or method (real ones are one short word).
const MAX_VALUE_CHARS: usize = 32;

/// What [`terms`] decided for one offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terms {
    pub payment_flow: String,
    pub asset_transfer_method: Option<String>,
    pub payable: bool,
    pub usd_is_max: bool,
}

/// Whether `scheme`'s amount authorizes a maximum rather than a fixed price.
pub fn amount_is_max(scheme: &str) -> bool {
    matches!(scheme, "upto" | "batch-settlement" | "auth-capture")
}

/// The flow, transfer method and payability of an offer of `scheme` on a `family` network paying
/// `coin` (when Agora knows it), from its `extra` (an object, or null when it was unusable).
pub fn terms(
    scheme: &str,
    family: Family,
    coin: Option<&Stablecoin>,
    extra: &Value,
    path: &str,
    findings: &mut Findings,
) -> Terms {
    let mut payable = true;
    // `auth-capture` selects its flow with the key and defaults to escrow; everything else
    // defaults to authorization (verify, serve, settle).
    let default_flow = if scheme == "auth-capture" { "escrow" } else { "authorization" };
    let payment_flow = match extra.get("paymentFlow") {
        None | Some(Value::Null) => default_flow.to_string(),
        Some(Value::String(flow)) if FLOWS.contains(&flow.as_str()) => flow.clone(),
        Some(other) => {
            payable = false;
            let shown = shown(other);
            findings.warn(
                "payment_flow_unknown",
                &format!("{path}.paymentFlow"),
                format!(
                    "`extra.paymentFlow` {} is not a payment flow SDK clients know (authorization, upfront, escrow); they must not pay this offer, so Agora lists it as not payable.",
                    quote(&shown)
                ),
            );
            shown
        }
    };
    let asset_transfer_method = match family {
        Family::Evm => transfer_method(scheme, coin, extra, path, findings, &mut payable),
        _ => None,
    };
    Terms { payment_flow, asset_transfer_method, payable, usd_is_max: amount_is_max(scheme) }
}

/// The EVM transfer method: stated, or implied by the scheme and the token.
fn transfer_method(
    scheme: &str,
    coin: Option<&Stablecoin>,
    extra: &Value,
    path: &str,
    findings: &mut Findings,
    payable: &mut bool,
) -> Option<String> {
    let permit2_only = coin.is_some_and(|c| c.transfer == Transfer::Permit2Only);
    let at = format!("{path}.assetTransferMethod");
    match extra.get("assetTransferMethod") {
        None | Some(Value::Null) => {
            // The SDK schemes' defaults: `upto` always moves tokens through Permit2; `exact` and
            // `batch-settlement` use EIP-3009 where the token has it.
            let implied = match scheme {
                "upto" => Some("permit2"),
                "exact" | "batch-settlement" if permit2_only => Some("permit2"),
                "exact" | "batch-settlement" => Some("eip3009"),
                _ if permit2_only => Some("permit2"),
                _ => None,
            };
            implied.map(str::to_string)
        }
        Some(Value::String(method)) if TRANSFER_METHODS.contains(&method.as_str()) => {
            if permit2_only && method == "eip3009" {
                *payable = false;
                let symbol = coin.map_or("this token", |c| c.symbol);
                findings.warn(
                    "asset_transfer_method_unsupported",
                    &at,
                    format!(
                        "`extra.assetTransferMethod` is \"eip3009\", but {symbol} supports only Permit2 transfers; no client can pay this offer. Use \"permit2\"."
                    ),
                );
            }
            Some(method.clone())
        }
        Some(other) => {
            *payable = false;
            let shown = shown(other);
            findings.warn(
                "asset_transfer_method_unknown",
                &at,
                format!(
                    "`extra.assetTransferMethod` {} is not a transfer method SDK clients know (eip3009, permit2, erc7710); they cannot pay this offer.",
                    quote(&shown)
                ),
            );
            Some(shown)
        }
    }
}

/// A seller's value as kept and shown: a string as is, anything else as JSON, clipped.
fn shown(value: &Value) -> String {
    let text = match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    match text.char_indices().nth(MAX_VALUE_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::x402::networks::by_caip2;
    use serde_json::json;

    fn decide(scheme: &str, network: &str, asset: &str, extra: Value) -> (Terms, Vec<String>) {
        let network = by_caip2(network).expect("known network");
        let coin = network.stablecoin(asset);
        let mut findings = Findings::default();
        let terms = terms(scheme, network.family(), coin, &extra, "accepts[0].extra", &mut findings);
        let codes = findings.finish().warnings.into_iter().map(|w| w.code).collect();
        (terms, codes)
    }

    const BASE_USDC: &str = "0x833589fcd6edb6e08f4c7c32d4f71b54bda02913";
    const RADIUS_SBC: &str = "0x33ad9e4bd16b69b5bfded37d8b5d9ff9aba014fb";

    #[test]
    fn flows_default_by_scheme_and_unknown_ones_are_not_payable() {
        let (exact, codes) = decide("exact", "eip155:8453", BASE_USDC, json!({}));
        assert_eq!(
            (exact.payment_flow.as_str(), exact.asset_transfer_method.as_deref()),
            ("authorization", Some("eip3009"))
        );
        assert!(exact.payable && !exact.usd_is_max && codes.is_empty());
        let (upfront, _) = decide("exact", "eip155:8453", BASE_USDC, json!({"paymentFlow": "upfront"}));
        assert_eq!(upfront.payment_flow, "upfront");
        let (capture, _) = decide("auth-capture", "eip155:8453", BASE_USDC, json!({}));
        assert_eq!(capture.payment_flow, "escrow");
        assert!(capture.usd_is_max);
        let (unknown, codes) = decide("exact", "eip155:8453", BASE_USDC, json!({"paymentFlow": "layaway"}));
        assert_eq!((unknown.payment_flow.as_str(), unknown.payable), ("layaway", false));
        assert_eq!(codes, ["payment_flow_unknown"]);
        let (typed, codes) = decide("exact", "eip155:8453", BASE_USDC, json!({"paymentFlow": 3}));
        assert_eq!((typed.payment_flow.as_str(), typed.payable, codes.len()), ("3", false, 1));
    }

    #[test]
    fn transfer_methods_follow_the_token() {
        let (upto, _) = decide("upto", "eip155:8453", BASE_USDC, json!({}));
        assert_eq!(upto.asset_transfer_method.as_deref(), Some("permit2"));
        let (sbc, codes) = decide("exact", "eip155:723487", RADIUS_SBC, json!({}));
        assert_eq!((sbc.asset_transfer_method.as_deref(), sbc.payable), (Some("permit2"), true));
        assert!(codes.is_empty());
        let (wrong, codes) = decide("exact", "eip155:723487", RADIUS_SBC, json!({"assetTransferMethod": "eip3009"}));
        assert!(!wrong.payable);
        assert_eq!(codes, ["asset_transfer_method_unsupported"]);
        let (odd, codes) = decide("exact", "eip155:8453", BASE_USDC, json!({"assetTransferMethod": "teleport"}));
        assert!(!odd.payable);
        assert_eq!(codes, ["asset_transfer_method_unknown"]);
        let (solana, _) = decide(
            "exact",
            "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp",
            "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v",
            json!({}),
        );
        assert_eq!(solana.asset_transfer_method, None, "EVM only");
    }
}
