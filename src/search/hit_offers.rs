//! Which offers a search hit carries. A hit is a summary: it lists at most [`MAX_HIT_OFFERS`]
//! offers, so a page of hits stays bounded whatever sellers send (docs/LIMITS.md), and says how
//! many the service has (`offers_total`); its detail lists them all. When a service has more, the
//! offers matching the search's offer filters (network, asset, scheme, price, testnets) come
//! first, then the rest, each group in the seller's order.

use super::facts::{NONE, OfferFacts, Vocab};
use super::filters::{OfferFilter, price_bucket};
use agora_crawler::Offer;
use agora_crawler::x402::price::usd_to_micros;

/// Offers listed per hit. Real services offer a handful.
pub const MAX_HIT_OFFERS: usize = 16;

/// The offers to show and how many there are in all.
pub fn select(offers: Vec<Offer>, filter: &OfferFilter, vocab: &Vocab) -> (Vec<Offer>, usize) {
    let total = offers.len();
    if total <= MAX_HIT_OFFERS {
        return (offers, total);
    }
    let (mut shown, rest): (Vec<Offer>, Vec<Offer>) =
        offers.into_iter().partition(|offer| filter.check(&facts_of(offer, vocab)).all());
    shown.extend(rest);
    shown.truncate(MAX_HIT_OFFERS);
    (shown, total)
}

/// An offer in the index's terms; a value the index has never seen gets a code no filter holds.
fn facts_of(offer: &Offer, vocab: &Vocab) -> OfferFacts {
    let usd = offer.usd.as_deref().filter(|_| offer.payable).and_then(usd_to_micros);
    OfferFacts {
        usd_micros: usd.unwrap_or(-1).max(-1),
        network: vocab.networks.code(&offer.network).unwrap_or(NONE),
        address: vocab.assets.code(&offer.asset).unwrap_or(NONE),
        symbol: offer.asset_symbol.as_deref().and_then(|s| vocab.assets.code(s)).unwrap_or(NONE),
        scheme: vocab.schemes.code(&offer.scheme).unwrap_or(NONE),
        testnet: offer.testnet,
        price_bucket: usd.map_or(0, |usd| price_bucket(usd) as u8),
    }
}
