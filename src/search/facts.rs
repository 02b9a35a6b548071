//! Per-document facts that filters, facets and sorting read: the offers (network, asset, scheme,
//! testnet, USD price) and a few service numbers. An offer filter must hold for *one offer*
//! ("one of its offers that passes the other filters is in range"), which flat multi-valued
//! index fields cannot express; so each document stores its facts, and each segment's facts are
//! decoded once into compact arrays when the segment is first searched (segments never change).
//!
//! Strings are interned into a process-wide [`Vocab`] so the arrays hold small integer codes.

use super::filters::price_bucket;
use super::plain::PlainFacts;
use crate::db::search_feed::FeedService;
use crate::quality::Quality;
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
    /// Someone proved control of it (a ranking signal and the hits' badge).
    #[serde(rename = "k", default)]
    pub owner_verified: bool,
    /// The quality parts in percent (`crate::quality::Parts::to_percent`).
    #[serde(rename = "q", default)]
    pub quality: [u8; 6],
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
            owner_verified: feed.verified,
            quality: feed.quality.to_percent(),
            offers: feed
                .offers
                .iter()
                .map(|o| {
                    // The same rounding (up) as the store's `usd_micros` column; `upto` is its cap.
                    // An offer no SDK client can pay has no price a buyer could get.
                    let micros = o.usd.as_deref().filter(|_| o.payable).and_then(usd_to_micros);
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
    /// The price facet bucket (meaningless without a USD price).
    pub price_bucket: u8,
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

/// What the collector reads for every document a query matches, kept small (8 bytes) because
/// that read is a cache miss per document at catalog scale; the rest lives in per-key columns
/// read only for documents that pass the filters.
#[derive(Debug, Clone, Copy)]
pub struct DocFacts {
    first_offer: u32,
    offer_count: u16,
    pub version: u8,
    /// [`READABLE`], [`OWNER_VERIFIED`]: read with the rest, not from a column of their own (a
    /// second cache miss for every match under relevance).
    flags: u8,
}

/// The document's facts could be read (otherwise no filter matches it).
const READABLE: u8 = 1;
/// Someone proved control of the document's service.
const OWNER_VERIFIED: u8 = 2;

impl DocFacts {
    pub fn readable(&self) -> bool {
        self.flags & READABLE != 0
    }

    pub fn owner_verified(&self) -> bool {
        self.flags & OWNER_VERIFIED != 0
    }
}

/// The facts of one segment, indexed by `DocId`.
#[derive(Debug, Default)]
pub struct SegmentFacts {
    docs: Vec<DocFacts>,
    offers: Vec<OfferFacts>,
    ids: Vec<i64>,
    registered_at: Vec<i64>,
    /// Epoch ms of the last valid probe, or -1.
    verified_at: Vec<i64>,
    /// Successes per probe in the window, or -1 before any probe.
    uptime: Vec<f32>,
    /// The quality score (0–100), read for every match under relevance (one byte: the column of
    /// a large catalog stays in cache).
    quality: Vec<u8>,
    /// Its parts in percent, read only for hits.
    quality_parts: Vec<[u8; 6]>,
    /// What each document contributes to a search without offer filters.
    plain: PlainFacts,
}

impl SegmentFacts {
    /// Decodes every document of `segment` (deleted ones too: doc ids must line up).
    pub fn load(
        segment: &SegmentReader,
        facts_field: tantivy::schema::Field,
        vocab: &RwLock<Vocab>,
    ) -> tantivy::Result<SegmentFacts> {
        let store = segment.get_store_reader(64)?;
        let capacity = segment.max_doc() as usize;
        let mut out = SegmentFacts {
            docs: Vec::with_capacity(capacity),
            ids: Vec::with_capacity(capacity),
            registered_at: Vec::with_capacity(capacity),
            verified_at: Vec::with_capacity(capacity),
            uptime: Vec::with_capacity(capacity),
            quality: Vec::with_capacity(capacity),
            quality_parts: Vec::with_capacity(capacity),
            offers: Vec::new(),
            plain: PlainFacts::default(),
        };
        for doc in store.iter::<TantivyDocument>(None) {
            let doc = doc?;
            let stored: Option<StoredFacts> =
                doc.get_first(facts_field).and_then(|v| v.as_str()).and_then(|json| serde_json::from_str(json).ok());
            // Locked per document: searches validating parameters only wait for one document.
            let mut vocab = vocab.write().unwrap_or_else(std::sync::PoisonError::into_inner);
            out.push(stored.as_ref(), &mut vocab);
        }
        out.plain.finish();
        Ok(out)
    }

    /// The facts of documents given as stored (for tests of what reads them).
    #[cfg(test)]
    pub fn from_stored(stored: &[Option<StoredFacts>], vocab: &mut Vocab) -> SegmentFacts {
        let mut out = SegmentFacts::default();
        for facts in stored {
            out.push(facts.as_ref(), vocab);
        }
        out.plain.finish();
        out
    }

    fn push(&mut self, stored: Option<&StoredFacts>, vocab: &mut Vocab) {
        let first_offer = u32::try_from(self.offers.len()).unwrap_or(u32::MAX);
        // Unreadable facts (never written by this version): a document no filter matches.
        let Some(stored) = stored.filter(|s| s.id >= 0) else {
            self.docs.push(DocFacts { first_offer, offer_count: 0, version: 0, flags: 0 });
            self.ids.push(-1);
            self.registered_at.push(0);
            self.verified_at.push(-1);
            self.uptime.push(-1.0);
            self.quality.push(0);
            self.quality_parts.push([0; 6]);
            self.plain.push(None, 0);
            return;
        };
        // The challenge size cap keeps `accepts` far below this; a document beyond it keeps the first.
        let kept = stored.offers.len().min(usize::from(u16::MAX));
        for (network, address, symbol, scheme, testnet, usd) in &stored.offers[..kept] {
            self.offers.push(OfferFacts {
                usd_micros: usd.unwrap_or(-1).max(-1),
                network: vocab.networks.intern(network),
                address: vocab.assets.intern(address),
                symbol: symbol.as_deref().map_or(NONE, |s| vocab.assets.intern(s)),
                scheme: vocab.schemes.intern(scheme),
                testnet: *testnet,
                price_bucket: usd.map_or(0, |usd| price_bucket(usd) as u8),
            });
        }
        self.plain.push(self.offers.get(first_offer as usize..), stored.version);
        let (probes, successes) = stored.uptime;
        self.docs.push(DocFacts {
            first_offer,
            offer_count: u16::try_from(kept).unwrap_or(u16::MAX),
            version: stored.version,
            flags: READABLE | if stored.owner_verified { OWNER_VERIFIED } else { 0 },
        });
        self.ids.push(stored.id);
        self.registered_at.push(stored.registered_at);
        self.verified_at.push(stored.verified_at.unwrap_or(-1));
        self.uptime.push(if probes > 0 { successes as f32 / probes as f32 } else { -1.0 });
        // Scored here, not stored: a change of weights needs no reindex.
        self.quality.push(Quality::from_percent(stored.quality).score);
        self.quality_parts.push(stored.quality);
    }

    pub fn doc(&self, doc: u32) -> Option<&DocFacts> {
        self.docs.get(doc as usize)
    }

    pub fn plain(&self) -> &PlainFacts {
        &self.plain
    }

    pub fn offers_of(&self, doc: &DocFacts) -> &[OfferFacts] {
        let start = doc.first_offer as usize;
        self.offers.get(start..start + usize::from(doc.offer_count)).unwrap_or_default()
    }

    /// The service id of a document (-1 if unreadable).
    pub fn id(&self, doc: u32) -> i64 {
        self.ids.get(doc as usize).copied().unwrap_or(-1)
    }

    pub fn registered_at(&self, doc: u32) -> i64 {
        self.registered_at.get(doc as usize).copied().unwrap_or(0)
    }

    pub fn verified_at(&self, doc: u32) -> i64 {
        self.verified_at.get(doc as usize).copied().unwrap_or(-1)
    }

    pub fn uptime(&self, doc: u32) -> f32 {
        self.uptime.get(doc as usize).copied().unwrap_or(-1.0)
    }

    pub fn quality(&self, doc: u32) -> u8 {
        self.quality.get(doc as usize).copied().unwrap_or(0)
    }

    pub fn quality_parts(&self, doc: u32) -> [u8; 6] {
        self.quality_parts.get(doc as usize).copied().unwrap_or([0; 6])
    }

    /// Approximate heap bytes (for the benchmark's memory figures).
    pub fn heap_bytes(&self) -> usize {
        self.docs.capacity() * size_of::<DocFacts>()
            + self.offers.capacity() * size_of::<OfferFacts>()
            + (self.ids.capacity() + self.registered_at.capacity() + self.verified_at.capacity()) * size_of::<i64>()
            + self.uptime.capacity() * size_of::<f32>()
            + self.quality.capacity()
            + self.quality_parts.capacity() * size_of::<[u8; 6]>()
            + self.plain.heap_bytes()
    }
}
