//! How catalog facts read as text: a service's display name, its price, its networks, "3 h
//! ago". Plain functions over the catalog's values, so every page and every MCP answer says the
//! same thing the same way.

use crate::db::services::ServiceRow;
use agora_crawler::Offer;
use agora_crawler::x402::price::usd_to_micros;

/// The seller's name, else host and path (v1 challenges carry no name).
pub fn display_name(service: &ServiceRow) -> String {
    match service.name.as_deref().map(str::trim) {
        Some(name) if !name.is_empty() => clip(name, 120),
        _ => clip(&format!("{}{}", service.host, path_of(&service.url)), 120),
    }
}

/// The path (and query) of a URL, `/` when it has none.
pub fn path_of(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(parsed) => {
            let mut path = parsed.path().to_string();
            if let Some(query) = parsed.query() {
                path.push('?');
                path.push_str(query);
            }
            path
        }
        Err(_) => String::new(),
    }
}

/// At most `max` characters, with an ellipsis when cut.
pub fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// One offer's price: "$0.001", "up to $0.01" (`upto`), or the atomic amount and asset when
/// Agora cannot price the asset.
pub fn offer_price(offer: &Offer) -> String {
    match &offer.usd {
        Some(usd) if offer.usd_is_max => format!("up to ${usd}"),
        Some(usd) => format!("${usd}"),
        None => {
            let asset = offer.asset_symbol.clone().unwrap_or_else(|| short_address(&offer.asset));
            format!("{} {asset} (atomic units)", offer.amount)
        }
    }
}

/// The cheapest payable priced offer's price, else the first offer's; "no offer" for none.
/// Compared in exact micro-dollars, as the index sorts by price.
pub fn best_price(offers: &[Offer]) -> String {
    let priced = offers
        .iter()
        .filter(|offer| offer.payable)
        .filter_map(|offer| Some((offer.usd.as_deref().and_then(usd_to_micros)?, offer)))
        .min_by_key(|(micros, _)| *micros)
        .map(|(_, offer)| offer);
    priced.or(offers.first()).map_or_else(|| "no offer".to_string(), offer_price)
}

/// `0x8335…2913` for long addresses; short strings unchanged.
pub fn short_address(address: &str) -> String {
    let chars: Vec<char> = address.chars().collect();
    if chars.len() <= 14 {
        return address.to_string();
    }
    let head: String = chars[..6].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

/// A network as people name it: the v1 name when Agora knows one, else the CAIP-2 id.
pub fn network_label(offer: &Offer) -> String {
    offer.network_v1.clone().unwrap_or_else(|| offer.network.clone())
}

/// Distinct networks of the offers, in offer order, with whether each is a testnet.
pub fn networks(offers: &[Offer]) -> Vec<NetworkBadge> {
    let mut badges: Vec<NetworkBadge> = Vec::new();
    for offer in offers {
        let label = network_label(offer);
        if !badges.iter().any(|b| b.label == label) {
            badges.push(NetworkBadge { label, testnet: offer.testnet });
        }
    }
    badges
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkBadge {
    pub label: String,
    pub testnet: bool,
}

/// "99.9 %" from a ratio.
pub fn percent(ratio: f64) -> String {
    let value = ratio * 100.0;
    if (99.95..100.0).contains(&value) { "99.9 %".to_string() } else { format!("{value:.1} %").replace(".0 %", " %") }
}

/// "just now", "5 min ago", "3 h ago", "2 days ago" from two epoch-ms instants.
pub fn ago(then_ms: i64, now_ms: i64) -> String {
    let seconds = (now_ms - then_ms).max(0) / 1000;
    match seconds {
        0..60 => "just now".to_string(),
        60..3_600 => format!("{} min ago", seconds / 60),
        3_600..86_400 => format!("{} h ago", seconds / 3_600),
        _ => match seconds / 86_400 {
            1 => "1 day ago".to_string(),
            days => format!("{days} days ago"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_clipped_on_character_boundaries() {
        assert_eq!(clip("héllo wörld", 5), "héllo…");
        assert_eq!(clip("short", 10), "short");
        assert_eq!(short_address("0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"), "0x8335…2913");
    }

    fn offer(usd: Option<&str>, usd_is_max: bool) -> Offer {
        Offer {
            scheme: if usd_is_max { "upto" } else { "exact" }.into(),
            network: "eip155:8453".into(),
            network_v1: Some("base".into()),
            family: "evm".into(),
            testnet: false,
            asset: "0x833589fcd6edb6e08f4c7c32d4f71b54bda02913".into(),
            asset_symbol: usd.map(|_| "USDC".into()),
            decimals: usd.map(|_| 6),
            amount: "1234".into(),
            usd: usd.map(Into::into),
            usd_is_max,
            pay_to: "0x209693bc6afc0c5328ba36faf03c514ef312287c".into(),
            max_timeout_seconds: 60,
            extra: serde_json::Value::Null,
            payment_flow: "authorization".into(),
            asset_transfer_method: Some("eip3009".into()),
            payable: true,
        }
    }

    #[test]
    fn the_best_price_is_the_cheapest_exact_amount() {
        // 0.0000015 rounds up to 2 micro-dollars, still below 0.00001; unpriced offers lose.
        let offers = [offer(None, false), offer(Some("0.00001"), false), offer(Some("0.0000015"), true)];
        assert_eq!(best_price(&offers), "up to $0.0000015");
        assert_eq!(best_price(&offers[..1]), "1234 0x8335…2913 (atomic units)");
        assert_eq!(best_price(&[]), "no offer");
    }

    #[test]
    fn figures_read_like_a_person_would_say_them() {
        assert_eq!(percent(1.0), "100 %");
        assert_eq!(percent(0.5), "50 %");
        assert_eq!(percent(0.9996), "99.9 %");
        assert_eq!(percent(0.987), "98.7 %");
        assert_eq!(ago(0, 30_000), "just now");
        assert_eq!(ago(0, 5 * 60_000), "5 min ago");
        assert_eq!(ago(0, 3 * 3_600_000), "3 h ago");
        assert_eq!(ago(0, 86_400_000), "1 day ago");
        assert_eq!(ago(0, 3 * 86_400_000), "3 days ago");
    }
}
