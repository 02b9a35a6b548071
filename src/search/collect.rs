//! One pass over the documents a query matches: offer filters, the total, disjunctive facet
//! counts, the testnet-hidden count and the top of the chosen sort, all at once.
//!
//! Facets are *disjunctive*: the counts of one dimension (say network) are computed with every
//! filter except that dimension's own, so a page can offer "also Solana (12)" next to a chosen
//! Base. A service counts once per value, and only through offers that pass the other filters.

use super::facts::{DocFacts, OfferFacts, SegmentFacts};
use super::filters::{OfferFilter, PRICE_BUCKETS, price_bucket};
use super::request::{Sort, TestnetMode};
use super::snapshot::Snapshot;
use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap};
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
            heap: BinaryHeap::new(),
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
    heap: BinaryHeap<Reverse<Ranked>>,
}

/// Facet counters indexed by interned code (codes are small and dense), turned into maps once
/// per segment: the per-document work is array increments.
struct Counters {
    /// network, asset, scheme.
    dims: [Vec<u64>; 3],
    prices: [u64; PRICE_BUCKETS.len()],
    versions: Vec<u64>,
    /// Values already counted for the current document (few offers per service).
    seen: Vec<(u8, u32)>,
}

impl Default for Counters {
    fn default() -> Self {
        Counters { dims: Default::default(), prices: Default::default(), versions: vec![0; 256], seen: Vec::new() }
    }
}

impl Counters {
    /// Counts `code` in dimension `dim` (0–2 codes, 3 price buckets) once per document.
    fn once(&mut self, dim: u8, code: u32) {
        if self.seen.contains(&(dim, code)) {
            return;
        }
        self.seen.push((dim, code));
        if dim == 3 {
            self.prices[code as usize] += 1;
            return;
        }
        let counts = &mut self.dims[usize::from(dim)];
        let at = code as usize;
        if counts.len() <= at {
            counts.resize(at + 1, 0);
        }
        counts[at] += 1;
    }

    fn into_facets(self) -> FacetCounts {
        let versions = self.versions.iter().enumerate().filter(|(_, n)| **n > 0).map(|(v, n)| (v as u8, *n)).collect();
        let [networks, assets, schemes] = self.dims.map(|counts| {
            counts.into_iter().enumerate().filter(|(_, n)| *n > 0).map(|(code, n)| (code as u32, n)).collect()
        });
        FacetCounts { networks, assets, schemes, versions, prices: self.prices }
    }
}

fn rank(sort: Sort, doc: &DocFacts, score: Score, best_price: Option<i64>) -> Ranked {
    let plus_one = |v: i64| u64::try_from(v).map_or(0, |v| v.saturating_add(1));
    let (primary, secondary) = match sort {
        // Scores are non-negative, so their bit patterns order like the floats.
        Sort::Relevance => (u64::from(score.max(0.0).to_bits()), 0),
        Sort::PriceAsc => (best_price.map_or(0, |p| u64::MAX - plus_one(p)), 0),
        Sort::PriceDesc => (best_price.map_or(0, plus_one), 0),
        Sort::Newest => (plus_one(doc.registered_at), 0),
        Sort::Verified => (plus_one(doc.verified_at), 0),
        Sort::Uptime => {
            let uptime = if doc.uptime < 0.0 { 0 } else { 1 + (f64::from(doc.uptime) * 1e6) as u64 };
            (uptime, plus_one(doc.verified_at))
        }
    };
    Ranked { primary, secondary, id: doc.id, score }
}

impl SegmentCollector for CatalogSegmentCollector {
    type Fruit = Collected;

    fn collect(&mut self, doc_id: DocId, score: Score) {
        // Disjoint borrows of the fields: no reference counting per document.
        let Self { plan, facts, collected, counters, heap } = self;
        let Some(doc) = facts.doc(doc_id) else { return };
        if doc.id < 0 {
            return;
        }
        let version_ok = plan.version.is_none_or(|v| doc.version == v);
        let mut matches_offers = false;
        let mut matches_with_testnets = false;
        let mut best_price: Option<i64> = None;
        counters.seen.clear();
        for offer in facts.offers_of(doc) {
            let pass = plan.filter.check(offer);
            if pass.all() {
                matches_offers = true;
                best_price = min_price(best_price, offer);
            }
            if pass.network && pass.asset && pass.scheme && pass.price {
                matches_with_testnets = true;
            }
            if !version_ok {
                continue;
            }
            if pass.asset && pass.scheme && pass.testnet && pass.price {
                counters.once(0, offer.network);
            }
            if pass.network && pass.scheme && pass.testnet && pass.price {
                counters.once(1, offer.asset_label());
            }
            if pass.network && pass.asset && pass.testnet && pass.price {
                counters.once(2, offer.scheme);
            }
            if pass.network
                && pass.asset
                && pass.scheme
                && pass.testnet
                && let Some(usd) = offer.usd()
            {
                counters.once(3, price_bucket(usd) as u32);
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
        let ranked = rank(plan.sort, doc, score, best_price);
        if heap.len() < plan.keep {
            heap.push(Reverse(ranked));
        } else if let Some(Reverse(worst)) = heap.peek()
            && ranked > *worst
        {
            heap.pop();
            heap.push(Reverse(ranked));
        }
    }

    fn harvest(self) -> Collected {
        let mut collected = self.collected;
        collected.facets = self.counters.into_facets();
        collected.top = self.heap.into_sorted_vec().into_iter().map(|Reverse(r)| r).collect();
        collected
    }
}

fn min_price(best: Option<i64>, offer: &OfferFacts) -> Option<i64> {
    match (best, offer.usd()) {
        (Some(b), Some(p)) => Some(b.min(p)),
        (b, p) => b.or(p),
    }
}
