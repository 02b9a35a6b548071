//! How catalog facts read on a page: a service's display name, its price, its networks, "3 h
//! ago". Plain functions over the API's types, so every page says the same thing the same way.

use crate::db::services::ServiceRow;
use agora_crawler::Offer;

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

/// The cheapest priced offer's price, else the first offer's; "no offer" for none.
pub fn best_price(offers: &[Offer]) -> String {
    let priced = offers
        .iter()
        .filter_map(|offer| Some((offer.usd.as_deref()?.parse::<f64>().ok()?, offer)))
        .min_by(|a, b| a.0.total_cmp(&b.0))
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
