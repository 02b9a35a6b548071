//! One pass over the documents a query matches: offer filters, the total, disjunctive facet
//! counts, the testnet-hidden count and the top of the chosen sort, all at once.
//!
//! Facets are *disjunctive*: the counts of one dimension (say network) are computed with every
//! filter except that dimension's own, so a page can offer "also Solana (12)" next to a chosen
//! Base. A service counts once per value, and only through offers that pass the other filters.

use super::facet_counts::{Counters, FacetCounts};
use super::facts::{OfferFacts, SegmentFacts};
use super::filters::{OfferFilter, Passes};
use super::plain::PlainState;
use super::request::{Sort, TestnetMode};
use super::snapshot::Snapshot;
use super::top::TopK;
use std::cmp::Ordering;
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
        let plain = self.plan.filter.is_plain() && self.plan.version.is_none();
        Ok(CatalogSegmentCollector::new(Arc::clone(&self.plan), facts, plain))
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
    /// No offer or version filter: each match's part is read from `plain` (`search::plain`).
    plain: bool,
    facts: Arc<SegmentFacts>,
    collected: Collected,
    counters: Counters,
    top: TopK,
    /// Matches waiting to be counted, see [`BATCH`].
    batch: Vec<(DocId, Score)>,
    /// A plain search's matches, whose facet values are counted at harvest.
    matched: Vec<DocId>,
}

/// Matches are counted in batches. At catalog scale each one's facts are a cache miss (two:
/// the document, then its offers); touching a whole batch first in a tight loop of independent
/// loads lets the CPU fetch them in parallel instead of one after another.
const BATCH: usize = 64;

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
        if self.plain {
            self.collect_plain(doc_id, score);
            return;
        }
        self.batch.push((doc_id, score));
        if self.batch.len() == BATCH {
            self.flush();
        }
    }

    fn harvest(mut self) -> Collected {
        self.flush();
        if self.plain {
            self.count_plain_facets();
        }
        let mut collected = self.collected;
        collected.facets = self.counters.into_facets();
        collected.top = self.top.into_sorted();
        collected
    }
}

impl CatalogSegmentCollector {
    fn new(plan: Arc<Plan>, facts: Arc<SegmentFacts>, plain: bool) -> Self {
        let mut counters = Counters::default();
        if plain {
            counters.size_for(facts.plain().sizes);
        }
        let top = TopK::new(plan.keep);
        CatalogSegmentCollector {
            plan,
            plain,
            facts,
            collected: Collected::default(),
            counters,
            top,
            batch: if plain { Vec::new() } else { Vec::with_capacity(BATCH) },
            matched: Vec::new(),
        }
    }

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

    /// [`SegmentCollector::collect`] for a plain search: whether the document matches is one
    /// bit; its facet values are counted at harvest (`count_plain_facets`).
    fn collect_plain(&mut self, doc_id: DocId, score: Score) {
        let Self { plan, facts, collected, top, matched, .. } = self;
        let plain = facts.plain();
        let state = match plain.bits().matches(doc_id) {
            Some(true) => PlainState::Matches,
            Some(false) if plain.bits().testnet_only(doc_id) => PlainState::TestnetOnly,
            Some(false) => PlainState::Out,
            None => plain.doc(doc_id).state,
        };
        match state {
            PlainState::Out => return,
            PlainState::TestnetOnly => {
                collected.hidden_testnet += 1;
                return;
            }
            PlainState::Matches => {}
        }
        matched.push(doc_id);
        collected.total += 1;
        let best_price = match plan.sort {
            Sort::PriceAsc | Sort::PriceDesc => {
                facts.doc(doc_id).and_then(|d| facts.offers_of(d).iter().filter(|o| !o.testnet).fold(None, min_price))
            }
            _ => None,
        };
        offer_to_top(top, plan.sort, facts, doc_id, score, best_price);
    }

    /// The facet values and versions of a plain search's matches: by bitsets when they are
    /// many (`plain_bits`), else one document at a time.
    fn count_plain_facets(&mut self) {
        let plain = self.facts.plain();
        if plain.bits().worth_it(self.matched.len()) {
            plain.bits().count(plain, &self.matched, &mut self.counters);
            return;
        }
        for doc_id in &self.matched {
            let doc = plain.doc(*doc_id);
            self.counters.versions[usize::from(doc.version)] += 1;
            for (dimension, code) in plain.values(doc) {
                self.counters.add(dimension, code);
            }
        }
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
        offer_to_top(top, plan.sort, facts, doc_id, score, best_price);
    }
}

/// Ranks a counted match and keeps it if it may be among the best. Most lose on the keys alone:
/// the id and the rest (more cache misses) are read only for those that may enter the top.
fn offer_to_top(top: &mut TopK, sort: Sort, facts: &SegmentFacts, doc_id: DocId, score: Score, price: Option<i64>) {
    // By relevance, a score that would lose even at the best quality needs no quality read.
    if sort == Sort::Relevance && !top.admits(u64::from(blended(score, 100).max(0.0).to_bits()), u64::MAX) {
        return;
    }
    let (primary, secondary) = sort_keys(sort, facts, doc_id, score, price);
    if top.admits(primary, secondary) {
        top.push(Ranked {
            primary,
            secondary,
            id: facts.id(doc_id),
            score,
            uptime: facts.uptime(doc_id),
            owner_verified: facts.doc(doc_id).is_some_and(|d| d.owner_verified()),
            quality: facts.quality_parts(doc_id),
        });
    }
}

fn min_price(best: Option<i64>, offer: &OfferFacts) -> Option<i64> {
    match (best, offer.usd()) {
        (Some(b), Some(p)) => Some(b.min(p)),
        (b, p) => b.or(p),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::SearchRequest;
    use crate::search::facts::{StoredFacts, Vocab};

    /// A segment of random services: several offers each, some on testnets, some unpriced, a
    /// few unreadable or without offers.
    fn random_segment(rng: &mut fastrand::Rng, docs: usize) -> SegmentFacts {
        let networks = ["eip155:8453", "eip155:84532", "solana:mainnet", "eip155:137"];
        let assets = ["USDC", "EURC", "0xabc"];
        let stored: Vec<Option<StoredFacts>> = (0..docs)
            .map(|id| {
                (rng.u8(..20) != 0).then(|| StoredFacts {
                    id: id as i64,
                    version: 1 + rng.u8(..2),
                    registered_at: rng.i64(..1_000),
                    verified_at: rng.bool().then(|| rng.i64(..1_000)),
                    uptime: (10, rng.i64(..=10)),
                    owner_verified: rng.u8(..5) == 0,
                    quality: [rng.u8(..=100); 6],
                    offers: (0..rng.usize(..4))
                        .map(|_| {
                            // Now and then a rare asset: values too rare for a bitset (`plain_bits`).
                            let asset = if rng.u8(..200) == 0 { "0xrare" } else { assets[rng.usize(..assets.len())] };
                            let symbol = (asset != "0xabc").then(|| asset.to_string());
                            let price = (rng.u8(..6) != 0).then(|| 10_i64.pow(rng.u32(..8)));
                            let scheme = if rng.bool() { "exact" } else { "upto" };
                            let network = networks[rng.usize(..networks.len())];
                            (network.into(), asset.into(), symbol, scheme.into(), rng.u8(..4) == 0, price)
                        })
                        .collect(),
                })
            })
            .collect();
        SegmentFacts::from_stored(&stored, &mut Vocab::default())
    }

    fn collect(facts: &Arc<SegmentFacts>, sort: Sort, plain: bool, scores: &[Score], every: usize) -> Collected {
        let filter = OfferFilter::resolve(&SearchRequest::default(), &Vocab::default()).expect("no filters");
        let plan = Plan { filter, version: None, sort, keep: 15 };
        assert!(plan.filter.is_plain());
        let mut collector = CatalogSegmentCollector::new(Arc::new(plan), Arc::clone(facts), plain);
        for (doc, score) in scores.iter().enumerate() {
            if doc % every == 1 {
                collector.collect(doc as DocId, *score);
            }
        }
        collector.harvest()
    }

    #[test]
    fn a_plain_search_counts_and_ranks_as_the_general_path_does() {
        let mut rng = fastrand::Rng::with_seed(21);
        // Small segments count one by one; large ones by bitsets when the matches are many
        // (every other document) and one by one when they are few (one in 97).
        for (docs, every) in [(3_000, 2), (20_000, 2), (20_000, 97)] {
            let facts = Arc::new(random_segment(&mut rng, docs));
            let scores: Vec<Score> = (0..docs).map(|_| rng.f32() * 10.0).collect();
            let bits = facts.plain().bits();
            assert_eq!(bits.worth_it(docs / every), docs > 4_096 && every == 2, "{docs}/{every}: the path meant");
            for sort in [Sort::Relevance, Sort::PriceAsc, Sort::PriceDesc, Sort::Newest, Sort::Uptime, Sort::Quality] {
                let case = format!("{docs} documents, one in {every}, {sort:?}");
                let general = collect(&facts, sort, false, &scores, every);
                let plain = collect(&facts, sort, true, &scores, every);
                assert!(general.total > 100 && general.hidden_testnet > 5, "{case}: a varied catalog");
                assert!(general.facets.assets.len() == 4, "{case}: the rare asset too");
                assert_eq!(plain.total, general.total, "{case}");
                assert_eq!(plain.hidden_testnet, general.hidden_testnet, "{case}");
                assert_eq!(plain.facets.networks, general.facets.networks, "{case}");
                assert_eq!(plain.facets.assets, general.facets.assets, "{case}");
                assert_eq!(plain.facets.schemes, general.facets.schemes, "{case}");
                assert_eq!(plain.facets.versions, general.facets.versions, "{case}");
                assert_eq!(plain.facets.prices, general.facets.prices, "{case}");
                assert_eq!(plain.top, general.top, "{case}");
            }
        }
    }
}
