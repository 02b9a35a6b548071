//! The search function the JSON API and the web pages share: run the query over the current
//! snapshot, then hydrate the page of hits from SQLite (the source of truth: a service that
//! left the searchable statuses since the last index commit is dropped) and explain each hit.

use super::collect::{CatalogCollector, Collected, Plan};
use super::expand;
use super::facts::Vocab;
use super::filters::{OfferFilter, PRICE_BUCKETS};
use super::hit_offers;
use super::hydrate::hydrate;
use super::matched::WordMatcher;
use super::related::Related;
use super::request::{SearchRequest, Sort, StatusFilter};
use super::snapshot::Snapshot;
use super::text::{self, QueryTerm};
use super::understand::{self, Interpretation};
use super::{SearchError, SearchIndex, Shared};
use crate::db::backend::Pool;
use crate::db::search_feed::SEARCHABLE;
use crate::db::services::ServiceRow;
use crate::lifecycle::Status;
use agora_crawler::Offer;
use agora_crawler::x402::networks;
use std::sync::atomic::Ordering as AtomicOrdering;
use std::sync::{Arc, PoisonError};
use tantivy::collector::Collector;
use tantivy::query::EnableScoring;
use tantivy::query::{AllQuery, BooleanQuery, ConstScoreQuery, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{Executor, Term};

/// One page of results (the JSON answer is `http::views::SearchResults`).
#[derive(Debug, Clone)]
pub struct Found {
    pub hits: Vec<FoundHit>,
    /// Services matching (all pages).
    pub total: u64,
    pub facets: Facets,
    /// Services that would match if testnets were included (only with `testnet=exclude`).
    pub testnets_hidden: u64,
    pub limit: usize,
    pub offset: usize,
    pub sort: Sort,
    /// What was read into `q` (`search::understand`), when anything was.
    pub interpreted_as: Option<Interpretation>,
}

/// One service found: its row (as hydrated now), the offers a hit shows (`hit_offers`) out of
/// `offers_total`, the 30-day uptime the index ranked it by, its score (relevance with text) and
/// which fields matched which query words (answered as `http::views::Hit`).
#[derive(Debug, Clone)]
pub struct FoundHit {
    pub service: ServiceRow,
    pub offers: Vec<Offer>,
    pub offers_total: usize,
    pub uptime: Option<f64>,
    pub score: Option<f32>,
    pub matched: Vec<Matched>,
    /// Someone proved control of it (`db::claims`).
    pub verified: bool,
    /// What its probes measured, scored (`crate::quality`).
    pub quality: crate::quality::Quality,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Matched {
    pub field: &'static str,
    pub terms: Vec<String>,
}

/// Facet counts (services), each computed with every filter but its own.
#[derive(Debug, Clone, Default, serde::Serialize, utoipa::ToSchema)]
pub struct Facets {
    pub network: Vec<FacetValue>,
    pub asset: Vec<FacetValue>,
    pub scheme: Vec<FacetValue>,
    pub version: Vec<FacetValue>,
    pub price: Vec<PriceFacet>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct FacetValue {
    /// What to pass back as the filter value.
    pub value: String,
    /// A friendlier name where there is one (a network's v1 name).
    pub label: String,
    pub count: u64,
}

/// A price range: `min_usd` exclusive, `max_usd` inclusive (decimal USD).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct PriceFacet {
    pub min_usd: Option<String>,
    pub max_usd: Option<String>,
    pub count: u64,
}

/// Searches the catalog.
pub async fn search(index: &SearchIndex, pool: &Pool, request: &SearchRequest) -> Result<Found, SearchError> {
    if index.follows() {
        // The writer is another process: see its latest commit (a file read when unchanged).
        index.flush().await?;
    }
    let shared = Arc::clone(&index.shared);
    let owned = request.clone();
    // Counted from before its turn: a search that starts while others wait is not alone.
    let running = Running::enter(&index.shared);
    let alone = running.others == 0;
    let Ran { collected, facets, terms, request: effective, interpreted_as } = index
        .shared
        .threads
        .run(move || {
            let ran = run(&shared, &owned, alone);
            drop(running);
            ran
        })
        .await??;
    let request = &effective;
    let page: Vec<_> = collected.top.iter().skip(request.offset).take(request.limit).collect();
    let ids: Vec<i64> = page.iter().map(|r| r.id).collect();
    let rows = if ids.is_empty() { Default::default() } else { hydrate(pool, &index.shared.rows, &ids).await? };
    let vocab = index.shared.vocab.read().unwrap_or_else(PoisonError::into_inner);
    let filter = OfferFilter::resolve(request, &vocab)?;
    let mut hits = Vec::with_capacity(page.len());
    let matcher = WordMatcher::new(&terms);
    for ranked in page {
        let Some(hydrated) = rows.get(&ranked.id) else { continue };
        let row = &hydrated.row;
        // Withheld since the snapshot was taken (its write flushes the index, but a search may
        // have started before): the store has the last word.
        if !request.status.allows(row.status) || row.withheld() {
            continue;
        }
        let matched = matcher.fields(&hydrated.words);
        let (offers, offers_total) = hit_offers::select(hydrated.offers.clone(), &filter, &vocab);
        let score = (request.sort() == Sort::Relevance && !terms.is_empty()).then_some(ranked.score);
        let uptime = (ranked.uptime >= 0.0).then(|| round_ratio(ranked.uptime));
        let verified = ranked.owner_verified;
        let quality = crate::quality::Quality::from_percent(ranked.quality);
        hits.push(FoundHit { service: row.clone(), offers, offers_total, uptime, score, matched, verified, quality });
    }
    drop(vocab);
    Ok(Found {
        hits,
        total: collected.total,
        facets,
        testnets_hidden: collected.hidden_testnet,
        limit: request.limit,
        offset: request.offset,
        sort: request.sort(),
        interpreted_as,
    })
}

/// A ratio kept as f32 in the index, shown with four decimals (0.9987, not 0.998699963).
fn round_ratio(ratio: f32) -> f64 {
    (f64::from(ratio) * 10_000.0).round() / 10_000.0
}

/// Results of searches without text, for one index snapshot: browsing pages and agents polling
/// the same filters repeat them, and between two index commits their answer cannot change
/// (the issue allows caching facets of filter-only queries between commits).
#[derive(Default)]
pub struct FilterCache {
    generation: u64,
    entries: std::collections::HashMap<String, (Collected, Facets)>,
}

/// Most cached searches per snapshot.
const FILTER_CACHE_ENTRIES: usize = 512;

/// What `run` answers: the index part, the request as understood, and what was read into `q`.
struct Ran {
    collected: Collected,
    facets: Facets,
    terms: Vec<QueryTerm>,
    request: SearchRequest,
    interpreted_as: Option<Interpretation>,
}

/// The index part: ids, scores, counts and facets.
fn run(shared: &Shared, request: &SearchRequest, alone: bool) -> Result<Ran, SearchError> {
    let snapshot = shared.snapshot();
    let (effective, interpretation) = understand::understood(shared, &snapshot.searcher, request);
    let request = &effective;
    let generation = snapshot.searcher.generation().generation_id();
    let mut terms = text::terms(&request.q, request.text_mode);
    let long = terms.iter().filter(|t| t.required).count() > text::LONG_QUERY_WORDS;
    let documents = snapshot.searcher.num_docs() as f64;
    let related = shared.related();
    // Per word: how many documents hold it exactly (long queries only) and its related words.
    let mut known = Vec::with_capacity(terms.len());
    for term in &mut terms {
        term.variants = expand::variants(&snapshot, shared.fields.all, term)?;
        let exact =
            if long { snapshot.searcher.doc_freq(&Term::from_field_text(shared.fields.all, &term.word))? } else { 0 };
        term.common = exact as f64 > documents * text::COMMON_SHARE;
        let widened = if term.widen { related.of(&term.word).to_vec() } else { Vec::new() };
        known.push((exact, widened));
    }
    // Related words first stay out: they only widen a search that finds few services.
    with_related(&mut terms, &known, long, false);
    let cache_key = terms.is_empty().then(|| format!("{request:?}"));
    if let Some(key) = &cache_key {
        let cache = shared.filter_cache.lock().unwrap_or_else(PoisonError::into_inner);
        if cache.generation == generation
            && let Some((collected, facets)) = cache.entries.get(key)
        {
            let (collected, facets) = (collected.clone(), facets.clone());
            drop(cache);
            return Ok(Ran { collected, facets, terms, request: effective, interpreted_as: interpretation });
        }
    }
    let (mut collected, mut facets) = execute(shared, &snapshot, request, &terms, alone)?;
    if collected.total < RELATED_BELOW && known.iter().any(|(_, related)| !related.is_empty()) {
        with_related(&mut terms, &known, long, true);
        (collected, facets) = execute(shared, &snapshot, request, &terms, alone)?;
    }
    if let Some(key) = cache_key {
        let mut cache = shared.filter_cache.lock().unwrap_or_else(PoisonError::into_inner);
        if cache.generation != generation || cache.entries.len() >= FILTER_CACHE_ENTRIES {
            cache.entries.clear();
            cache.generation = generation;
        }
        cache.entries.insert(key, (collected.clone(), facets.clone()));
    }
    Ok(Ran { collected, facets, terms, request: effective, interpreted_as: interpretation })
}

/// A search whose words (with their forms, typos and completions) find fewer services than this
/// runs again with related words. With more, a service found only by a related word ranks below
/// all of them (its constant score is below any word's), so it would not reach the first pages —
/// and every related word widens the matches each search must count.
pub const RELATED_BELOW: u64 = 50;

/// Gives each term its related words (or none) and says whether the index knows it at all.
/// (Whether a word is in the index matters only to long queries, `text::query`.)
fn with_related(terms: &mut [QueryTerm], known: &[(u64, Vec<Related>)], long: bool, on: bool) {
    for (term, (exact, related)) in terms.iter_mut().zip(known) {
        term.related = if on { related.clone() } else { Vec::new() };
        term.present = !long || *exact > 0 || !term.variants.is_empty() || !term.related.is_empty();
    }
}

fn execute(
    shared: &Shared,
    snapshot: &Arc<Snapshot>,
    request: &SearchRequest,
    terms: &[QueryTerm],
    alone: bool,
) -> Result<(Collected, Facets), SearchError> {
    let filter = OfferFilter::resolve(request, &shared.vocab.read().unwrap_or_else(PoisonError::into_inner))?;
    let fields = &shared.fields;
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    if let Some(text) = text::query(terms, fields, &shared.words) {
        clauses.push((Occur::Must, text));
    }
    let raw = |field, value: &str| Term::from_field_text(field, value);
    // The index holds the searchable statuses only, and nearly all of them are listed: "listed"
    // is cheapest as "none of the others" (short lists to skip) rather than a walk of a list of
    // nearly every document.
    let status = |s: Status| Box::new(TermQuery::new(raw(fields.status, s.as_str()), IndexRecordOption::Basic));
    let mut filters: Vec<Box<dyn Query>> = Vec::new();
    match request.status {
        StatusFilter::Listed => {
            clauses.extend(
                SEARCHABLE
                    .into_iter()
                    .filter(|s| *s != Status::Listed)
                    .map(|s| (Occur::MustNot, status(s) as Box<dyn Query>)),
            );
        }
        StatusFilter::Degraded => filters.push(status(Status::Degraded)),
        StatusFilter::All => {}
    }
    if let Some(host) = &request.host {
        filters.push(Box::new(TermQuery::new(raw(fields.host, host), IndexRecordOption::Basic)));
    }
    if request.has_schema {
        filters.push(Box::new(TermQuery::new(raw(fields.has_schema, "true"), IndexRecordOption::Basic)));
    }
    if let Some(source) = request.source {
        filters.push(Box::new(TermQuery::new(raw(fields.sources, &source.to_string()), IndexRecordOption::Basic)));
    }
    if request.verified {
        filters.push(Box::new(TermQuery::new(raw(fields.verified, "true"), IndexRecordOption::Basic)));
    }
    if let Some(kind) = request.service_type {
        filters.push(Box::new(TermQuery::new(raw(fields.service_type, kind.as_str()), IndexRecordOption::Basic)));
    }
    if !request.formats.is_empty() {
        // Any of the formats. Not a `TermSetQuery`: its weight builds an FST of the terms, and
        // the builder zeroes a registry of ~10,000 cells, per search, for two or three terms.
        let any = request.formats.iter().map(|f| {
            let term = TermQuery::new(raw(fields.format, f), IndexRecordOption::Basic);
            (Occur::Should, Box::new(term) as Box<dyn Query>)
        });
        filters.push(Box::new(BooleanQuery::new(any.collect())));
    }
    // Filters add no score: relevance is the text's alone.
    clauses
        .extend(filters.into_iter().map(|q| (Occur::Must, Box::new(ConstScoreQuery::new(q, 0.0)) as Box<dyn Query>)));
    if clauses.iter().all(|(occur, _)| *occur == Occur::MustNot) {
        clauses.push((Occur::Must, Box::new(AllQuery)));
    }
    let query = BooleanQuery::new(clauses);
    let plan = Plan { filter, version: request.version, sort: request.sort(), keep: request.offset + request.limit };
    let collector = CatalogCollector { plan: Arc::new(plan), snapshot: Arc::clone(snapshot) };
    let searcher = &snapshot.searcher;
    // Segments are searched in parallel when this search runs alone; with one segment, or with
    // other searches running or waiting for their turn, the hops to the pool only cost (and
    // leave a core idle while the search waits for its parts).
    let single = Executor::single_thread();
    let executor =
        if alone && searcher.segment_readers().len() > 1 { searcher.index().search_executor() } else { &single };
    let scoring = if collector.requires_scoring() {
        EnableScoring::enabled_from_searcher(searcher)
    } else {
        EnableScoring::disabled_from_searcher(searcher)
    };
    let collected = searcher.search_with_executor(&query, &collector, executor, scoring)?;
    let facets = label_facets(&collected, &shared.vocab.read().unwrap_or_else(PoisonError::into_inner));
    Ok((collected, facets))
}

/// Counts a search as running (or waiting for its turn) for as long as it lives.
struct Running {
    shared: Arc<Shared>,
    /// Searches that were running or waiting when this one started.
    others: usize,
}

impl Running {
    fn enter(shared: &Arc<Shared>) -> Self {
        Running { shared: Arc::clone(shared), others: shared.running.fetch_add(1, AtomicOrdering::AcqRel) }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.shared.running.fetch_sub(1, AtomicOrdering::AcqRel);
    }
}

fn label_facets(collected: &Collected, vocab: &Vocab) -> Facets {
    fn sorted(mut values: Vec<FacetValue>) -> Vec<FacetValue> {
        values.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
        values
    }
    let counts = &collected.facets;
    let plain = |value: &str, count: u64| FacetValue { value: value.to_string(), label: value.to_string(), count };
    let network = counts.networks.iter().filter_map(|(code, n)| {
        let value = vocab.networks.value(*code)?;
        let label = networks::by_caip2(value).and_then(|n| n.v1_name).unwrap_or(value);
        Some(FacetValue { value: value.to_string(), label: label.to_string(), count: *n })
    });
    let from = |interner: &super::facts::Interner, map: &std::collections::HashMap<u32, u64>| {
        sorted(map.iter().filter_map(|(code, n)| Some(plain(interner.value(*code)?, *n))).collect())
    };
    Facets {
        network: sorted(network.collect()),
        asset: from(&vocab.assets, &counts.assets),
        scheme: from(&vocab.schemes, &counts.schemes),
        version: sorted(counts.versions.iter().map(|(v, n)| plain(&v.to_string(), *n)).collect()),
        price: PRICE_BUCKETS
            .iter()
            .zip(counts.prices)
            .map(|((min, max), count)| PriceFacet {
                min_usd: min.map(micros_to_usd),
                max_usd: max.map(micros_to_usd),
                count,
            })
            .collect(),
    }
}

/// Micro-dollars as a decimal string: 10000 → "0.01".
pub fn micros_to_usd(micros: i64) -> String {
    let (whole, fraction) = (micros / 1_000_000, micros % 1_000_000);
    if fraction == 0 {
        return whole.to_string();
    }
    format!("{whole}.{fraction:06}").trim_end_matches('0').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usd_strings() {
        assert_eq!(micros_to_usd(10_000), "0.01");
        assert_eq!(micros_to_usd(1_000_000), "1");
        assert_eq!(micros_to_usd(1_500_000), "1.5");
        assert_eq!(micros_to_usd(1), "0.000001");
        assert_eq!(micros_to_usd(0), "0");
    }
}
