//! Per-document facts that filters, facets and sorting read: the offers (network, asset, scheme,
//! testnet, USD price) and a few service numbers. An offer filter must hold for *one offer*
//! ("one of its offers that passes the other filters is in range"), which flat multi-valued
//! index fields cannot express; so each document stores its facts, and each segment's facts are
//! decoded once into compact arrays when the segment is first searched (segments never change).
//!
//! Strings are interned into a process-wide [`Vocab`] so the arrays hold small integer codes.

use crate::db::search_feed::FeedService;
use agora_crawler::x402::price::usd_to_micros;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::RwLock;
use tantivy::schema::Value;
use tantivy::{SegmentReader, TantivyDocument};

/// "No value" for an interned code.
pub const NONE: u32 = u32::MAX;

/// The stored form (JSON in the `facts` field).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredFacts {
    pub id: i64,
    #[serde(rename = "v")]
    pub version: u8,
    #[serde(rename = "r")]
    pub registered_at: i64,
    #[serde(rename = "l")]
    pub verified_at: Option<i64>,
    /// (probes, successes) in the uptime window.
    #[serde(rename = "u")]
    pub uptime: (i64, i64),
    #[serde(rename = "o")]
    pub offers: Vec<StoredOffer>,
}

/// (network, asset address, asset symbol, scheme, testnet, USD micro-dollars): a tuple, so the
/// stored JSON stays an array per offer.
pub type StoredOffer = (String, String, Option<String>, String, bool, Option<i64>);

impl StoredFacts {
    pub fn of(feed: &FeedService) -> StoredFacts {
        let service = &feed.service;
        StoredFacts {
            id: service.id,
            version: service.x402_version.and_then(|v| u8::try_from(v).ok()).unwrap_or(0),
            registered_at: service.registered_at,
            verified_at: service.last_listed_at,
            uptime: (feed.uptime.probes, feed.uptime.successes),
            offers: feed
                .offers
                .iter()
                .map(|o| {
                    // The same rounding (up) as the store's `usd_micros` column; `upto` is its cap.
                    let micros = o.usd.as_deref().and_then(usd_to_micros);
                    (o.network.clone(), o.asset.clone(), o.asset_symbol.clone(), o.scheme.clone(), o.testnet, micros)
                })
                .collect(),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// One interned dimension: value ↔ code.
#[derive(Debug, Default)]
pub struct Interner {
    codes: HashMap<String, u32>,
    values: Vec<String>,
}

impl Interner {
    pub fn intern(&mut self, value: &str) -> u32 {
        if let Some(code) = self.codes.get(value) {
            return *code;
        }
        let code = u32::try_from(self.values.len()).unwrap_or(NONE);
        self.codes.insert(value.to_string(), code);
        self.values.push(value.to_string());
        code
    }

    pub fn code(&self, value: &str) -> Option<u32> {
        self.codes.get(value).copied()
    }

    pub fn value(&self, code: u32) -> Option<&str> {
        self.values.get(code as usize).map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// Every value seen in indexed offers. Asset symbols and addresses share one interner (a symbol
/// is never spelled like an address), so an asset facet is keyed by "symbol, else address".
#[derive(Debug, Default)]
pub struct Vocab {
    pub networks: Interner,
    pub assets: Interner,
    pub schemes: Interner,
}

/// One offer, decoded.
#[derive(Debug, Clone, Copy)]
pub struct OfferFacts {
    /// Micro-dollars, or -1 without a USD price.
    pub usd_micros: i64,
    pub network: u32,
    pub address: u32,
    /// The symbol's code, or [`NONE`].
    pub symbol: u32,
    pub scheme: u32,
    pub testnet: bool,
}

impl OfferFacts {
    /// The asset facet value: the symbol when known, else the address.
    pub fn asset_label(&self) -> u32 {
        if self.symbol == NONE { self.address } else { self.symbol }
    }

    pub fn usd(&self) -> Option<i64> {
        (self.usd_micros >= 0).then_some(self.usd_micros)
    }
}

/// One document, decoded.
#[derive(Debug, Clone, Copy)]
pub struct DocFacts {
    pub id: i64,
    pub registered_at: i64,
    /// Epoch ms of the last valid probe, or -1.
    pub verified_at: i64,
    /// Successes per probe in the window, or -1 before any probe.
    pub uptime: f32,
    pub version: u8,
    first_offer: u32,
    offer_count: u32,
}

/// The facts of one segment, indexed by `DocId`.
#[derive(Debug, Default)]
pub struct SegmentFacts {
    docs: Vec<DocFacts>,
    offers: Vec<OfferFacts>,
}

impl SegmentFacts {
    /// Decodes every document of `segment` (deleted ones too: doc ids must line up).
    pub fn load(
        segment: &SegmentReader,
        facts_field: tantivy::schema::Field,
        vocab: &RwLock<Vocab>,
    ) -> tantivy::Result<SegmentFacts> {
        let store = segment.get_store_reader(64)?;
        let mut out = SegmentFacts { docs: Vec::with_capacity(segment.max_doc() as usize), offers: Vec::new() };
        for doc in store.iter::<TantivyDocument>(None) {
            let doc = doc?;
            let stored: Option<StoredFacts> =
                doc.get_first(facts_field).and_then(|v| v.as_str()).and_then(|json| serde_json::from_str(json).ok());
            // Locked per document: searches validating parameters only wait for one document.
            let mut vocab = vocab.write().unwrap_or_else(std::sync::PoisonError::into_inner);
            out.push(stored.as_ref(), &mut vocab);
        }
        Ok(out)
    }

    fn push(&mut self, stored: Option<&StoredFacts>, vocab: &mut Vocab) {
        let first_offer = u32::try_from(self.offers.len()).unwrap_or(u32::MAX);
        let Some(stored) = stored else {
            // Unreadable facts (never written by this version): a document no filter matches.
            self.docs.push(DocFacts {
                id: -1,
                registered_at: 0,
                verified_at: -1,
                uptime: -1.0,
                version: 0,
                first_offer,
                offer_count: 0,
            });
            return;
        };
        for (network, address, symbol, scheme, testnet, usd) in &stored.offers {
            self.offers.push(OfferFacts {
                usd_micros: usd.unwrap_or(-1).max(-1),
                network: vocab.networks.intern(network),
                address: vocab.assets.intern(address),
                symbol: symbol.as_deref().map_or(NONE, |s| vocab.assets.intern(s)),
                scheme: vocab.schemes.intern(scheme),
                testnet: *testnet,
            });
        }
        let (probes, successes) = stored.uptime;
        self.docs.push(DocFacts {
            id: stored.id,
            registered_at: stored.registered_at,
            verified_at: stored.verified_at.unwrap_or(-1),
            uptime: if probes > 0 { successes as f32 / probes as f32 } else { -1.0 },
            version: stored.version,
            first_offer,
            offer_count: u32::try_from(stored.offers.len()).unwrap_or(0),
        });
    }

    pub fn doc(&self, doc: u32) -> Option<&DocFacts> {
        self.docs.get(doc as usize)
    }

    pub fn offers_of(&self, doc: &DocFacts) -> &[OfferFacts] {
        let start = doc.first_offer as usize;
        self.offers.get(start..start + doc.offer_count as usize).unwrap_or_default()
    }

    /// Approximate heap bytes (for the benchmark's memory figures).
    pub fn heap_bytes(&self) -> usize {
        self.docs.capacity() * size_of::<DocFacts>() + self.offers.capacity() * size_of::<OfferFacts>()
    }
}
