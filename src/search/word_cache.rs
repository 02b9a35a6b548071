//! The scored matches of one query word in one segment, kept for later queries.
//!
//! Agent traffic is a long tail of distinct queries (the answer cache rarely helps), built from a
//! far smaller vocabulary: "weather", "forecast", "stock" come back in query after query. A word's
//! part of a query — six fields, its other forms, typos, completions and related words, a union of
//! dozens of posting lists scored by BM25 — is computed once per segment into a flat
//! list of (document, score); later queries intersect and rank these lists instead of walking
//! the postings again (Lucene's query cache keeps filter clauses the same way).
//!
//! Entries belong to a segment, and segments outlive snapshots (a commit adds a small one), so a
//! live crawler committing every second does not empty the cache. A word's scores use the index
//! statistics of when it was computed, so an entry answers only while the index has about the
//! same documents (within [`STATS_DRIFT`], counting deleted ones, which still weigh in BM25) and
//! for at most [`WORD_TTL`]: in a large catalog a commit barely moves the statistics, in a small
//! one every commit does and words are computed again. Entries of segments merged away are
//! dropped at refresh.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tantivy::index::SegmentId;
use tantivy::query::{EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::{DocId, DocSet, Score, SegmentReader, TERMINATED};

/// Most (document, score) pairs kept (8 bytes each: 128 MiB); when full, the least recently used
/// words go until a quarter is free. A word matching more than a quarter is not kept at all.
/// Computing a word is most of a search's cost: the long-tail mix at 100,000 listings (`benches/
/// api`) needs about this many to stop recomputing (4 Mi: 620 req/s; 16 Mi: 940; 64 Mi: 940).
pub const MAX_PAIRS: usize = 16 << 20;

/// How long a word's matches answer for later searches.
pub const WORD_TTL: Duration = Duration::from_secs(30);

/// An entry answers while the index's documents (alive, and with deleted ones) are within this
/// share of what they were when it was computed.
pub const STATS_DRIFT: f64 = 0.01;

/// What the index held when an entry was computed: documents alive, documents with deleted ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    pub alive: u64,
    pub all: u64,
}

impl Stats {
    pub fn of(searcher: &tantivy::Searcher) -> Stats {
        let all = searcher.segment_readers().iter().map(|s| u64::from(s.max_doc())).sum();
        Stats { alive: searcher.num_docs(), all }
    }

    fn close_to(self, then: Stats) -> bool {
        let near = |now: u64, then: u64| now.abs_diff(then) as f64 <= then as f64 * STATS_DRIFT;
        near(self.alive, then.alive) && near(self.all, then.all)
    }
}

/// Per (word key, segment): the word's matches there, when and over what they were computed.
#[derive(Default)]
pub struct WordCache {
    entries: Mutex<Entries>,
    /// Lookups answered, lookups computed, times words were evicted.
    hits: AtomicU64,
    misses: AtomicU64,
    evictions: AtomicU64,
}

struct Entry {
    computed: Instant,
    used: Instant,
    stats: Stats,
    matches: Arc<Matches>,
}

#[derive(Default)]
struct Entries {
    map: HashMap<(Arc<str>, SegmentId), Entry>,
    pairs: usize,
}

impl Entries {
    /// Drops the least recently used entries until at most `pairs` are held.
    fn evict_until(&mut self, pairs: usize) {
        let mut by_use: Vec<(Instant, (Arc<str>, SegmentId))> =
            self.map.iter().map(|(key, entry)| (entry.used, key.clone())).collect();
        by_use.sort_unstable_by_key(|(used, _)| *used);
        for (_, key) in by_use {
            if self.pairs <= pairs {
                break;
            }
            if let Some(entry) = self.map.remove(&key) {
                self.pairs -= entry.matches.docs.len();
            }
        }
    }
}

/// One word's matches in one segment, in document order.
#[derive(Debug, Default)]
pub struct Matches {
    pub(crate) docs: Vec<DocId>,
    pub(crate) scores: Vec<Score>,
}

impl Matches {
    /// Room for `pairs` pairs (an upper bound known before a join: no regrowing as it fills).
    pub fn with_capacity(pairs: usize) -> Matches {
        Matches { docs: Vec::with_capacity(pairs), scores: Vec::with_capacity(pairs) }
    }
}

/// The first position at or after `from` whose document is at least `target` (`docs.len()` if
/// none). Galloping: an intersection seeks to targets near the current document far more often
/// than far away, so steps double from `from` before a binary search of the last step.
#[inline]
pub fn gallop(docs: &[DocId], from: usize, target: DocId) -> usize {
    let (mut low, mut step) = (from, 1);
    if docs.get(low).is_none_or(|doc| *doc >= target) {
        return low.min(docs.len());
    }
    while low + step < docs.len() && docs[low + step] < target {
        low += step;
        step *= 2;
    }
    let high = (low + step + 1).min(docs.len());
    low + docs[low..high].partition_point(|doc| *doc < target)
}

impl WordCache {
    fn get(&self, key: &Arc<str>, segment: SegmentId, stats: Stats) -> Option<Arc<Matches>> {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let found = entries
            .map
            .get_mut(&(Arc::clone(key), segment))
            .filter(|entry| entry.computed.elapsed() < WORD_TTL && stats.close_to(entry.stats));
        let counter = if found.is_some() { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
        found.map(|entry| {
            entry.used = Instant::now();
            Arc::clone(&entry.matches)
        })
    }

    fn put(&self, key: &Arc<str>, segment: SegmentId, stats: Stats, matches: &Arc<Matches>) {
        let size = matches.docs.len();
        if size > MAX_PAIRS / 4 {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.pairs + size > MAX_PAIRS {
            entries.evict_until(MAX_PAIRS * 3 / 4 - size);
            self.evictions.fetch_add(1, Ordering::Relaxed);
        }
        let now = Instant::now();
        let entry = Entry { computed: now, used: now, stats, matches: Arc::clone(matches) };
        let replaced = entries.map.insert((Arc::clone(key), segment), entry);
        entries.pairs = entries.pairs + size - replaced.map_or(0, |old| old.matches.docs.len());
    }

    /// Drops the entries of segments not in `alive` (merged away).
    pub fn retain_segments(&self, alive: &HashSet<SegmentId>) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.map.retain(|(_, segment), _| alive.contains(segment));
        entries.pairs = entries.map.values().map(|e| e.matches.docs.len()).sum();
    }

    /// Lookups answered from the cache, lookups computed, and times words were evicted.
    pub fn counts(&self) -> (u64, u64, u64) {
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        (load(&self.hits), load(&self.misses), load(&self.evictions))
    }

    /// (document, score) pairs held.
    pub fn pairs(&self) -> usize {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner).pairs
    }
}

/// A query word's query (`text::term_query`), answered from `cache` when the word was seen
/// in this snapshot. `key` must say everything the inner query depends on besides the snapshot.
pub struct CachedWord {
    key: Arc<str>,
    inner: Box<dyn Query>,
    cache: Arc<WordCache>,
}

impl CachedWord {
    pub fn new(key: String, inner: Box<dyn Query>, cache: Arc<WordCache>) -> CachedWord {
        CachedWord { key: key.into(), inner, cache }
    }
}

impl Clone for CachedWord {
    fn clone(&self) -> Self {
        CachedWord { key: Arc::clone(&self.key), inner: self.inner.box_clone(), cache: Arc::clone(&self.cache) }
    }
}

impl std::fmt::Debug for CachedWord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CachedWord({:?})", self.key)
    }
}

impl Query for CachedWord {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(self.cached_weight(scoring)?))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a tantivy::Term, bool)) {
        self.inner.query_terms(visitor);
    }
}

impl CachedWord {
    /// The weight, with the word's entries of every segment looked up now.
    pub(crate) fn cached_weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<CachedWordWeight> {
        // Scored and unscored matches differ: each has its own entries.
        let key: Arc<str> = format!("{}\u{0}{}", self.key, u8::from(scoring.is_scoring_enabled())).into();
        let mut known = HashMap::new();
        let mut complete = true;
        let stats = scoring.searcher().map_or(Stats { alive: 0, all: 0 }, Stats::of);
        if let Some(searcher) = scoring.searcher() {
            for segment in searcher.segment_readers() {
                match self.cache.get(&key, segment.segment_id(), stats) {
                    Some(matches) => {
                        known.insert(segment.segment_id(), matches);
                    }
                    None => complete = false,
                }
            }
        }
        // Building the inner weight reads every term's statistics: only when something is new.
        let inner = if complete { None } else { Some(self.inner.weight(scoring)?) };
        Ok(CachedWordWeight { key, stats, known, inner, cache: Arc::clone(&self.cache) })
    }
}

pub(crate) struct CachedWordWeight {
    key: Arc<str>,
    stats: Stats,
    /// The entries found when the weight was made (a later clear cannot take them away).
    known: HashMap<SegmentId, Arc<Matches>>,
    /// `None` when every segment was known.
    inner: Option<Box<dyn Weight>>,
    cache: Arc<WordCache>,
}

impl CachedWordWeight {
    /// The word's matches in a segment: cached, or computed and kept.
    pub(crate) fn matches(&self, reader: &SegmentReader) -> tantivy::Result<Arc<Matches>> {
        let segment = reader.segment_id();
        if let Some(matches) = self.known.get(&segment) {
            return Ok(Arc::clone(matches));
        }
        let Some(inner) = &self.inner else {
            // A segment the searcher did not list when the weight was made: cannot happen with
            // one searcher, and nothing matches is the safe answer if it does.
            return Ok(Arc::default());
        };
        let mut scorer = inner.scorer(reader, 1.0)?;
        let mut matches = Matches::default();
        let mut doc = scorer.doc();
        while doc != TERMINATED {
            matches.docs.push(doc);
            matches.scores.push(scorer.score());
            doc = scorer.advance();
        }
        let matches = Arc::new(matches);
        self.cache.put(&self.key, segment, self.stats, &matches);
        Ok(matches)
    }
}

impl Weight for CachedWordWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        Ok(Box::new(CachedScorer { matches: self.matches(reader)?, at: 0, boost }))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let matches = self.matches(reader)?;
        match matches.docs.binary_search(&doc) {
            Ok(at) => Ok(Explanation::new_with_string(format!("word {:?} (cached)", self.key), matches.scores[at])),
            Err(_) => Err(tantivy::TantivyError::InvalidArgument(format!("document {doc} does not match"))),
        }
    }
}

/// Walks a [`Matches`] list.
pub(crate) struct CachedScorer {
    matches: Arc<Matches>,
    at: usize,
    boost: Score,
}

impl CachedScorer {
    pub(crate) fn new(matches: Arc<Matches>, boost: Score) -> CachedScorer {
        CachedScorer { matches, at: 0, boost }
    }
}

impl DocSet for CachedScorer {
    fn advance(&mut self) -> DocId {
        self.at = (self.at + 1).min(self.matches.docs.len());
        self.doc()
    }

    fn seek(&mut self, target: DocId) -> DocId {
        self.at = gallop(&self.matches.docs, self.at, target);
        self.doc()
    }

    fn doc(&self) -> DocId {
        self.matches.docs.get(self.at).copied().unwrap_or(TERMINATED)
    }

    fn size_hint(&self) -> u32 {
        (self.matches.docs.len() - self.at) as u32
    }
}

impl Scorer for CachedScorer {
    fn score(&mut self) -> Score {
        self.matches.scores.get(self.at).map_or(0.0, |s| s * self.boost)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::collector::{Count, TopDocs};
    use tantivy::query::{BooleanQuery, Occur, TermQuery};
    use tantivy::schema::{IndexRecordOption, STRING, Schema, TEXT};
    use tantivy::{Index, Term, doc};

    #[test]
    fn gallop_finds_the_first_position_at_or_after_the_target() {
        let mut rng = fastrand::Rng::with_seed(5);
        for _ in 0..2_000 {
            let mut docs: Vec<DocId> = (0..rng.usize(..60)).map(|_| rng.u32(..200)).collect();
            docs.sort_unstable();
            docs.dedup();
            let from = rng.usize(..=docs.len() + 1);
            let target = rng.u32(..210);
            let expected = from.min(docs.len()) + docs.get(from..).unwrap_or_default().partition_point(|d| *d < target);
            assert_eq!(gallop(&docs, from, target), expected, "{docs:?} from {from} to {target}");
        }
    }

    #[test]
    fn cached_matches_score_and_count_like_the_query_and_are_reused() {
        let mut builder = Schema::builder();
        let text = builder.add_text_field("text", TEXT);
        let tag = builder.add_text_field("tag", STRING);
        let index = Index::create_in_ram(builder.build());
        let mut writer = index.writer_with_num_threads(1, 15 << 20).expect("writer");
        for i in 0..300 {
            let words = if i % 3 == 0 { "weather forecast weather" } else { "stock quote" };
            let tagged = if i % 2 == 0 { "even" } else { "odd" };
            writer.add_document(doc!(text => words, tag => tagged)).expect("add");
            if i == 150 {
                writer.commit().expect("commit");
            }
        }
        writer.commit().expect("commit");
        let searcher = index.reader().expect("reader").searcher();
        assert_eq!(searcher.segment_readers().len(), 2);
        let word = |w: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(Term::from_field_text(text, w), IndexRecordOption::WithFreqs))
        };
        let even = || -> Box<dyn Query> {
            Box::new(TermQuery::new(Term::from_field_text(tag, "even"), IndexRecordOption::Basic))
        };
        let cache = Arc::new(WordCache::default());
        let plain = BooleanQuery::new(vec![(Occur::Must, word("weather")), (Occur::Must, even())]);
        let cached = || {
            let word = CachedWord::new("weather".into(), word("weather"), Arc::clone(&cache));
            BooleanQuery::new(vec![(Occur::Must, Box::new(word) as Box<dyn Query>), (Occur::Must, even())])
        };
        let top = || TopDocs::with_limit(100).order_by_score();
        let expected = searcher.search(&plain, &(top(), Count)).expect("plain");
        let first = searcher.search(&cached(), &(top(), Count)).expect("cached");
        assert_eq!(cache.pairs(), 100, "every match of the word, in both segments");
        let again = searcher.search(&cached(), &(top(), Count)).expect("again");
        assert_eq!(first, expected);
        assert_eq!(again, expected);
        assert_eq!(expected.1, 50);
        // Unscored searches keep their own entries.
        assert_eq!(searcher.search(&cached(), &Count).expect("count"), 50);
        assert_eq!(cache.pairs(), 200);
    }

    #[test]
    fn seeking_lands_on_the_first_document_at_or_after_the_target() {
        let docs: Vec<DocId> = (0..1_000).map(|d| d * 3).collect();
        let scores = vec![1.0; docs.len()];
        let matches = Arc::new(Matches { docs: docs.clone(), scores });
        for start in [0, 1, 7, 500, 999] {
            for target in [0, 1, 3, 4, 300, 1_500, 2_997, 2_998, 5_000] {
                let mut scorer = CachedScorer { matches: Arc::clone(&matches), at: start, boost: 1.0 };
                let from = docs[start];
                let expected = if target <= from {
                    from
                } else {
                    docs.iter().copied().find(|d| *d >= target).unwrap_or(TERMINATED)
                };
                assert_eq!(scorer.seek(target.max(from)), expected, "from {from} to {target}");
            }
        }
    }

    #[test]
    fn a_full_cache_evicts_the_least_recently_used_and_huge_words_are_not_kept() {
        let cache = WordCache::default();
        let segment = SegmentId::generate_random();
        let stats = Stats { alive: 1_000, all: 1_000 };
        let list = |n: usize| Arc::new(Matches { docs: vec![0; n], scores: vec![0.0; n] });
        cache.put(&"huge".into(), segment, stats, &list(MAX_PAIRS / 4 + 1));
        assert_eq!(cache.pairs(), 0);
        let eighth = MAX_PAIRS / 8;
        for n in 0..8 {
            cache.put(&format!("w{n}").into(), segment, stats, &list(eighth));
        }
        assert_eq!(cache.pairs(), MAX_PAIRS);
        // w0 was just used: w1 and w2 are the least recently used.
        assert!(cache.get(&"w0".into(), segment, stats).is_some());
        cache.put(&"w8".into(), segment, stats, &list(eighth));
        assert_eq!(cache.pairs(), MAX_PAIRS * 6 / 8, "a quarter free after the new word");
        for (word, kept) in [("w0", true), ("w1", false), ("w2", false), ("w3", false), ("w4", true), ("w8", true)] {
            assert_eq!(cache.get(&word.into(), segment, stats).is_some(), kept, "{word}");
        }
        assert_eq!(cache.counts().2, 1, "one eviction");
        // The index moved on: a word's scores are computed again.
        let w8: Arc<str> = "w8".into();
        assert!(cache.get(&w8, segment, Stats { alive: 1_010, all: 1_010 }).is_some(), "1 %");
        assert!(cache.get(&w8, segment, Stats { alive: 1_000, all: 1_011 }).is_none(), "deleted ones count");
        assert!(cache.get(&w8, segment, Stats { alive: 989, all: 1_000 }).is_none());
    }
}
