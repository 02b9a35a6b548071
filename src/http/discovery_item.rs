//! One service as a Bazaar discovery item (`/discovery/resources`, `/discovery/search`), within a
//! byte budget: the official listing clients refuse a page over 4 MiB (PROTOCOL §8.4), so an item
//! is at most [`MAX_ITEM_BYTES`] whatever its seller sent, and a page of 100 stays under that.
//!
//! The item echoes the seller's own `accepts` and `extensions` from its latest valid challenge
//! when they fit their share of the budget; otherwise `accepts` is the normalized offers, as many
//! as fit, and `extensions` is left out (the service's detail has everything).

use super::discovery::{DiscoveryResource, iso8601};
use crate::db::services::ServiceRow;
use agora_crawler::{Offer, ProbeReport, Verdict};
use serde::Deserialize;
use serde_json::{Value, json};

/// Most bytes of one item: 100 of them and the envelope stay under the clients' 4 MiB.
pub const MAX_ITEM_BYTES: usize = 40 * 1024;
// A full page (100 items) and its envelope stay under the official clients' 4 MiB.
const _: () = assert!(100 * MAX_ITEM_BYTES + 4096 < 4 << 20);
/// The share of `accepts` (real ones are a few hundred bytes per entry).
const ACCEPTS_BYTES: usize = 24 * 1024;
/// The share of `extensions` (the bazaar `info` and `schema`: a few kilobytes when real).
const EXTENSIONS_BYTES: usize = 8 * 1024;

/// The parts of a seller's challenge a discovery item echoes, as the seller sent them.
#[derive(Deserialize)]
struct Echoed {
    accepts: Option<Vec<Value>>,
    extensions: Option<Value>,
}

/// A service in the Bazaar shape.
pub fn item(service: ServiceRow, offers: &[Offer], report: Option<&ProbeReport>) -> DiscoveryResource {
    // The raw challenge is the seller's document, kept as JSON: read once into the parts echoed
    // (a challenge whose `accepts` is not a list echoes nothing of its own).
    let echoed = report
        .filter(|r| r.verdict == Verdict::Listed)
        .and_then(|r| r.challenge.as_ref())
        .and_then(|c| Echoed::deserialize(c).ok());
    let (raw_accepts, raw_extensions) = echoed.map_or((None, None), |e| (e.accepts, e.extensions));
    let accepts = match raw_accepts.filter(|accepts| json_len(accepts) <= ACCEPTS_BYTES) {
        Some(accepts) => accepts,
        None => fitting(offers.iter().map(normalized_accept), ACCEPTS_BYTES),
    };
    let extensions = raw_extensions.filter(|e| !e.is_null() && json_len(e) <= EXTENSIONS_BYTES);
    DiscoveryResource {
        resource: service.url,
        kind: service.service_type,
        x402_version: service.x402_version.unwrap_or(2),
        accepts,
        last_updated: iso8601(service.last_listed_at.unwrap_or(service.registered_at)),
        description: service.description.filter(|d| !d.is_empty()),
        mime_type: service.mime_type,
        service_name: service.name,
        tags: service.tags,
        extensions,
    }
}

/// The leading values whose JSON array stays within `budget` bytes.
fn fitting(values: impl Iterator<Item = Value>, budget: usize) -> Vec<Value> {
    let mut used = 2;
    let mut kept = Vec::new();
    for value in values {
        used += json_len(&value) + 1;
        if used > budget {
            break;
        }
        kept.push(value);
    }
    kept
}

fn json_len<T: serde::Serialize + ?Sized>(value: &T) -> usize {
    serde_json::to_vec(value).map_or(usize::MAX, |bytes| bytes.len())
}

/// An offer in the v2 `PaymentRequirements` shape.
fn normalized_accept(offer: &Offer) -> Value {
    json!({
        "scheme": offer.scheme,
        "network": offer.network,
        "amount": offer.amount,
        "asset": offer.asset,
        "payTo": offer.pay_to,
        "maxTimeoutSeconds": offer.max_timeout_seconds,
        "extra": offer.extra,
    })
}
