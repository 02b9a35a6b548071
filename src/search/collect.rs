//! One pass over the documents a query matches: offer filters, the total, disjunctive facet
//! counts, the testnet-hidden count and the top of the chosen sort, all at once.
//!
//! Facets are *disjunctive*: the counts of one dimension (say network) are computed with every
//! filter except that dimension's own, so a page can offer "also Solana (12)" next to a chosen
//! Base. A service counts once per value, and only through offers that pass the other filters.

use super::facts::{OfferFacts, SegmentFacts};
use super::filters::{OfferFilter, PRICE_BUCKETS, Passes};
use super::request::{Sort, TestnetMode};
use super::snapshot::Snapshot;
use super::top::TopK;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

/// What one search asks the collector for.
#[derive(Debug)]
pub struct Plan {
    pub filter: OfferFilter,
    pub version: Option<u8>,
    pub sort: Sort,
    /// offset + limit: how many of the best to keep.
    pub keep: usize,
}

/// A ranked hit: greater is better; ties go to the lower id.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ranked {
    pub primary: u64,
    pub secondary: u64,
    pub id: i64,
    pub score: Score,
    /// Successes over probes in the index's uptime window; negative before any probe.
    pub uptime: f32,
    /// Someone proved control of it.
    pub owner_verified: bool,
    /// Its quality parts in percent (`crate::quality`).
    pub quality: [u8; 6],
}

impl Eq for Ranked {}

impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.primary, self.secondary).cmp(&(other.primary, other.secondary)).then_with(|| other.id.cmp(&self.id))
    }
}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Facet counts: value code → services.
#[derive(Debug, Default, Clone)]
pub struct FacetCounts {
    pub networks: HashMap<u32, u64>,
    pub assets: HashMap<u32, u64>,
    pub schemes: HashMap<u32, u64>,
    pub versions: HashMap<u8, u64>,
    pub prices: [u64; PRICE_BUCKETS.len()],
}

impl FacetCounts {
    fn merge(&mut self, other: FacetCounts) {
        for (mine, theirs) in
            [(&mut self.networks, other.networks), (&mut self.assets, other.assets), (&mut self.schemes, other.schemes)]
        {
            for (code, n) in theirs {
                *mine.entry(code).or_default() += n;
            }
        }
        for (version, n) in other.versions {
            *self.versions.entry(version).or_default() += n;
        }
        for (mine, theirs) in self.prices.iter_mut().zip(other.prices) {
            *mine += theirs;
        }
    }
}

/// Everything the pass found.
#[derive(Debug, Default, Clone)]
pub struct Collected {
    pub total: u64,
    /// Services that match only when testnets are included (with `testnet=exclude`).
    pub hidden_testnet: u64,
    pub facets: FacetCounts,
    /// Best first, at most `keep`.
    pub top: Vec<Ranked>,
}

pub struct CatalogCollector {
    pub plan: Arc<Plan>,
    pub snapshot: Arc<Snapshot>,
}

impl Collector for CatalogCollector {
    type Fruit = Collected;
    type Child = CatalogSegmentCollector;

    fn for_segment(&self, _ord: SegmentOrdinal, segment: &SegmentReader) -> tantivy::Result<Self::Child> {
        let facts = self.snapshot.facts(segment.segment_id()).unwrap_or_default();
        Ok(CatalogSegmentCollector {
            plan: Arc::clone(&self.plan),
            facts,
            collected: Collected::default(),
            counters: Counters::default(),
            top: TopK::new(self.plan.keep),
            batch: Vec::with_capacity(BATCH),
        })
    }

    fn requires_scoring(&self) -> bool {
        self.plan.sort == Sort::Relevance
    }

    fn merge_fruits(&self, fruits: Vec<Collected>) -> tantivy::Result<Collected> {
        let mut merged = Collected::default();
        let mut top = Vec::new();
        for fruit in fruits {
            merged.total += fruit.total;
            merged.hidden_testnet += fruit.hidden_testnet;
            merged.facets.merge(fruit.facets);
            top.extend(fruit.top);
        }
        top.sort_unstable_by(|a, b| b.cmp(a));
        top.truncate(self.plan.keep);
        merged.top = top;
        Ok(merged)
    }
}

pub struct CatalogSegmentCollector {
    plan: Arc<Plan>,
    facts: Arc<SegmentFacts>,
    collected: Collected,
    counters: Counters,
    top: TopK,
    /// Matches waiting to be counted, see [`BATCH`].
    batch: Vec<(DocId, Score)>,
}

/// Matches are counted in batches. At catalog scale each one's facts are a cache miss (two:
/// the document, then its offers); touching a whole batch first in a tight loop of independent
/// loads lets the CPU fetch them in parallel instead of one after another.
const BATCH: usize = 64;

/// Facet counters indexed by interned code (codes are small and dense), turned into maps once
/// per segment: the per-document work is array increments.
struct Counters {
    /// network, asset, scheme, price bucket.
    dims: [Vec<u64>; 4],
    /// Per dimension and code, the last document counted (+1): a service counts once per value
    /// however many of its offers carry it.
    counted: [Vec<u32>; 4],
    versions: Vec<u64>,
}

impl Default for Counters {
    fn default() -> Self {
        let mut dims: [Vec<u64>; 4] = Default::default();
        dims[3] = vec![0; PRICE_BUCKETS.len()];
        Counters { dims, counted: Default::default(), versions: vec![0; 256] }
    }
}

impl Counters {
    /// Counts `code` in dimension `dim` (0–2 codes, 3 price buckets) for document `doc`.
    #[inline]
    fn once(&mut self, dim: usize, code: u32, doc: DocId) {
        let at = code as usize;
        let (counts, counted) = (&mut self.dims[dim], &mut self.counted[dim]);
        if counted.len() <= at {
            counted.resize(at + 1, 0);
            counts.resize(at + 1, 0);
        }
        if counted[at] != doc + 1 {
            counted[at] = doc + 1;
            counts[at] += 1;
        }
    }

    fn into_facets(self) -> FacetCounts {
        let versions = self.versions.iter().enumerate().filter(|(_, n)| **n > 0).map(|(v, n)| (v as u8, *n)).collect();
        let [networks, assets, schemes, prices] = self.dims;
        let [networks, assets, schemes] = [networks, assets, schemes].map(|counts| {
            counts.into_iter().enumerate().filter(|(_, n)| *n > 0).map(|(code, n)| (code as u32, n)).collect()
        });
        let mut buckets = [0; PRICE_BUCKETS.len()];
        for (bucket, n) in buckets.iter_mut().zip(prices) {
            *bucket = n;
        }
        FacetCounts { networks, assets, schemes, versions, prices: buckets }
    }
}

/// Relevance is multiplied by `QUALITY_BLEND.0` at quality 0, rising evenly to `QUALITY_BLEND.1` at
/// quality 100: a bounded nudge (docs/SEARCH.md "Quality"), so a measured-better service wins
/// near-ties but never buries a clearly better text match.
pub const QUALITY_BLEND: (f32, f32) = (0.9, 1.1);

/// Relevance blended with quality (0–100).
pub fn blended(score: Score, quality: u8) -> Score {
    let (low, high) = QUALITY_BLEND;
    score * (low + (high - low) * f32::from(quality.min(100)) / 100.0)
}

/// The sort keys of a matching document, read only for documents that pass the filters.
fn sort_keys(sort: Sort, facts: &SegmentFacts, doc: DocId, score: Score, best_price: Option<i64>) -> (u64, u64) {
    let plus_one = |v: i64| u64::try_from(v).map_or(0, |v| v.saturating_add(1));
    match sort {
        // Scores are non-negative, so their bit patterns order like the floats.
        Sort::Relevance => {
            let quality = facts.quality(doc);
            (u64::from(blended(score, quality).max(0.0).to_bits()), u64::from(quality))
        }
        Sort::Quality => (u64::from(facts.quality(doc)), plus_one(facts.verified_at(doc))),
        Sort::PriceAsc => (best_price.map_or(0, |p| u64::MAX - plus_one(p)), 0),
        Sort::PriceDesc => (best_price.map_or(0, plus_one), 0),
        Sort::Newest => (plus_one(facts.registered_at(doc)), 0),
        Sort::Verified => (plus_one(facts.verified_at(doc)), 0),
        Sort::Uptime => {
            let uptime = facts.uptime(doc);
            let uptime = if uptime < 0.0 { 0 } else { 1 + (f64::from(uptime) * 1e6) as u64 };
            (uptime, plus_one(facts.verified_at(doc)))
        }
    }
}

impl SegmentCollector for CatalogSegmentCollector {
    type Fruit = Collected;

    fn collect(&mut self, doc_id: DocId, score: Score) {
        self.batch.push((doc_id, score));
        if self.batch.len() == BATCH {
            self.flush();
        }
    }

    fn harvest(mut self) -> Collected {
        self.flush();
        let mut collected = self.collected;
        collected.facets = self.counters.into_facets();
        collected.top = self.top.into_sorted();
        collected
    }
}

impl CatalogSegmentCollector {
    fn flush(&mut self) {
        let mut touched = 0i64;
        for (doc_id, _) in &self.batch {
            if let Some(doc) = self.facts.doc(*doc_id) {
                // First and last offer: a document's offers may span two cache lines.
                let offers = self.facts.offers_of(doc);
                touched ^=
                    offers.first().map_or(0, |o| o.usd_micros) ^ offers.last().map_or(0, |o| i64::from(o.testnet));
            }
        }
        std::hint::black_box(touched);
        let batch = std::mem::take(&mut self.batch);
        for (doc_id, score) in &batch {
            self.count(*doc_id, *score);
        }
        self.batch = batch;
        self.batch.clear();
    }

    fn count(&mut self, doc_id: DocId, score: Score) {
        // Disjoint borrows of the fields: no reference counting per document.
        let Self { plan, facts, collected, counters, top, .. } = self;
        let Some(doc) = facts.doc(doc_id) else { return };
        if !doc.readable() {
            return;
        }
        let version_ok = plan.version.is_none_or(|v| doc.version == v);
        let mut matches_offers = false;
        let mut matches_with_testnets = false;
        let mut best_price: Option<i64> = None;
        for offer in facts.offers_of(doc) {
            let pass = plan.filter.check(offer);
            if pass.all() {
                matches_offers = true;
                best_price = min_price(best_price, offer);
            }
            matches_with_testnets |= pass.all_but(Passes::TESTNET);
            if !version_ok {
                continue;
            }
            // Each facet counts under every filter but its own.
            if pass.all_but(Passes::NETWORK) {
                counters.once(0, offer.network, doc_id);
            }
            if pass.all_but(Passes::ASSET) {
                counters.once(1, offer.asset_label(), doc_id);
            }
            if pass.all_but(Passes::SCHEME) {
                counters.once(2, offer.scheme, doc_id);
            }
            if pass.all_but(Passes::PRICE) && offer.usd_micros >= 0 {
                counters.once(3, u32::from(offer.price_bucket), doc_id);
            }
        }
        if matches_offers {
            counters.versions[usize::from(doc.version)] += 1;
        }
        if !version_ok {
            return;
        }
        if !matches_offers {
            if matches_with_testnets && plan.filter.testnet == TestnetMode::Exclude {
                collected.hidden_testnet += 1;
            }
            return;
        }
        collected.total += 1;
        let (primary, secondary) = sort_keys(plan.sort, facts, doc_id, score, best_price);
        // Most documents lose on the keys alone: the id (another cache miss) is read only for
        // those that may enter the top.
        if top.admits(primary, secondary) {
            top.push(Ranked {
                primary,
                secondary,
                id: facts.id(doc_id),
                score,
                uptime: facts.uptime(doc_id),
                owner_verified: doc.owner_verified(),
                quality: facts.quality_parts(doc_id),
            });
        }
    }
}

fn min_price(best: Option<i64>, offer: &OfferFacts) -> Option<i64> {
    match (best, offer.usd()) {
        (Some(b), Some(p)) => Some(b.min(p)),
        (b, p) => b.or(p),
    }
}
