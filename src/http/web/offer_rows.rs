//! Offers as a buyer reads them on a service page: the price first (USD with at least two
//! decimals, "up to" for a maximum), the amount in the asset's own unit (`0.005 USDC`, the atomic
//! figure beside it), and the full payTo to copy — EIP-55 checksummed for EVM addresses, so what
//! a buyer pastes into a wallet is verifiable.

use crate::http::views::words as view;
use agora_crawler::Offer;
use agora_crawler::x402::address::eip55;
use agora_crawler::x402::price::atomic_to_decimal;

pub struct OfferRow {
    pub price: String,
    /// `0.005 USDC`, or the atomic amount when the asset's decimals are unknown.
    pub amount: String,
    /// The atomic amount, as the challenge says it.
    pub atomic: String,
    pub network: String,
    pub caip2: String,
    pub testnet: bool,
    pub asset: String,
    pub asset_full: String,
    pub scheme: String,
    /// How it settles, when a buyer should know before paying: "paid upfront — no refund",
    /// "held in escrow", or why SDK clients cannot pay it.
    pub terms: Option<String>,
    pub payable: bool,
    pub pay_to: String,
    pub timeout: String,
}

impl OfferRow {
    pub fn new(offer: &Offer) -> OfferRow {
        let symbol = offer.asset_symbol.clone().unwrap_or_else(|| view::short_address(&offer.asset));
        OfferRow {
            price: match &offer.usd {
                Some(usd) if offer.usd_is_max => format!("up to ${}", usd_cents(usd)),
                Some(usd) => format!("${}", usd_cents(usd)),
                None => "unknown asset".to_string(),
            },
            amount: match offer.decimals {
                Some(decimals) => format!("{} {symbol}", atomic_to_decimal(&offer.amount, decimals)),
                None => format!("{} (atomic units)", offer.amount),
            },
            atomic: offer.amount.clone(),
            network: view::network_label(offer),
            caip2: offer.network.clone(),
            testnet: offer.testnet,
            asset: symbol,
            asset_full: offer.asset.clone(),
            scheme: offer.scheme.clone(),
            terms: terms(offer),
            payable: offer.payable,
            pay_to: checksummed(&offer.family, &offer.pay_to),
            timeout: format!("{} s", offer.max_timeout_seconds),
        }
    }
}

/// The note a buyer needs about how `offer` settles, if any.
fn terms(offer: &Offer) -> Option<String> {
    if !offer.payable {
        return Some(format!(
            "not payable by x402 clients (payment flow \"{}\", transfer {})",
            offer.payment_flow,
            offer.asset_transfer_method.as_deref().unwrap_or("unstated")
        ));
    }
    match offer.payment_flow.as_str() {
        "upfront" => Some("paid upfront — no refund if the call fails".to_string()),
        "escrow" => Some("held in escrow, captured after the call".to_string()),
        _ => None,
    }
}

/// A decimal USD amount with at least two decimals: `0.5` → `0.50`, `1` → `1.00`, `0.001` stays.
pub fn usd_cents(usd: &str) -> String {
    match usd.split_once('.') {
        None => format!("{usd}.00"),
        Some((_, fraction)) if fraction.len() < 2 => format!("{usd}{}", "0".repeat(2 - fraction.len())),
        Some(_) => usd.to_string(),
    }
}

/// An EVM address in its EIP-55 form (Agora stores them lower-case); anything else as given.
pub fn checksummed(family: &str, address: &str) -> String {
    let hex = address.strip_prefix("0x").unwrap_or_default();
    if family == "evm" && hex.len() == 40 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        format!("0x{}", eip55(&hex.to_ascii_lowercase()))
    } else {
        address.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::{checksummed, usd_cents};

    #[test]
    fn usd_reads_with_cents_and_evm_addresses_with_their_checksum() {
        assert_eq!(usd_cents("0.5"), "0.50");
        assert_eq!(usd_cents("1"), "1.00");
        assert_eq!(usd_cents("0.001"), "0.001");
        assert_eq!(usd_cents("12.25"), "12.25");
        assert_eq!(
            checksummed("evm", "0x833589fcd6edb6e08f4c7c32d4f71b54bda02913"),
            "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"
        );
        let solana = "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin";
        assert_eq!(checksummed("svm", solana), solana);
        assert_eq!(checksummed("evm", "0xnot-hex"), "0xnot-hex");
    }
}
