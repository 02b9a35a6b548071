//! Related terms: the catalog's own vocabulary of words sellers use together, so a query in one
//! seller's words also finds the sellers who say it in others ("money converter" → services that
//! say "currency"; "foreign exchange" → "rates"). Built from data, never by hand: from the words
//! of the services' names, tags and descriptions, as they stand in the index.
//!
//! Two stems are related when services use them together far more often than chance (normalized
//! PMI), and the pair is vouched for by at least [`MIN_HOSTS`] different hosts — one seller
//! repeating a keyword list across a thousand listings counts once. Only a word's strongest few
//! are kept, and they match at a low constant score: they add recall after the exact matches,
//! they never outrank them.
//!
//! Rebuilt with each new snapshot in a small catalog, at most every [`LARGE_CATALOG_TTL`] in a
//! large one, over a sample of at most [`MAX_SAMPLED_DOCS`] documents (the cost is bounded).

use super::forms;
use super::schema::Fields;
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocSet, Searcher, TERMINATED};

/// Up to this many documents, the terms are rebuilt with every snapshot.
pub const SMALL_CATALOG: u64 = 2_000;
/// How long a large catalog's related terms are kept.
pub const LARGE_CATALOG_TTL: Duration = Duration::from_secs(3_600);
/// Documents read per build, spread evenly over the index.
pub const MAX_SAMPLED_DOCS: u64 = 20_000;
/// Different hosts that must use two words together before they are related.
pub const MIN_HOSTS: u32 = 2;
/// Share of a word's services that must also use the related word.
const MIN_CONDITIONAL: f64 = 0.3;
/// Normalized PMI below this is chance, not relation.
const MIN_NPMI: f64 = 0.3;
/// A word used by more than this share of the sampled services relates to everything.
const MAX_DOC_SHARE: f64 = 0.2;
/// Related stems kept per stem, the strongest first.
pub const MAX_RELATED: usize = 6;
/// Spellings kept per related stem (its most used forms in the index).
const MAX_SPELLINGS: usize = 3;
/// Distinct words of one document counted (a keyword-stuffed description counts this many).
const MAX_WORDS_PER_DOC: usize = 48;
/// Words that say nothing about a service.
const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "or", "not", "the", "of", "for", "to", "in", "on", "with", "by", "api", "is", "at", "from",
    "into", "your", "you", "any", "all", "its", "it", "as", "be", "are", "this", "that", "via", "per",
];

/// One related stem: the spellings the index holds for it and how strongly it is related.
#[derive(Debug, Clone, PartialEq)]
pub struct Related {
    pub words: Vec<String>,
    /// Conditional share × normalized PMI, in (0, 1].
    pub weight: f32,
}

/// The vocabulary of one build.
#[derive(Debug)]
pub struct RelatedTerms {
    by_stem: HashMap<String, Vec<Related>>,
    /// Documents in the index when built.
    pub documents: u64,
    pub built: Instant,
}

impl Default for RelatedTerms {
    fn default() -> Self {
        RelatedTerms { by_stem: HashMap::new(), documents: 0, built: Instant::now() }
    }
}

impl RelatedTerms {
    /// The related terms of an analyzed query word (by its stem).
    pub fn of(&self, word: &str) -> &[Related] {
        self.by_stem.get(&forms::stem(word)).map_or(&[], Vec::as_slice)
    }

    /// Whether a build for an index of `documents` documents is due.
    pub fn stale(&self, documents: u64) -> bool {
        documents <= SMALL_CATALOG || self.documents <= SMALL_CATALOG || self.built.elapsed() >= LARGE_CATALOG_TTL
    }

    /// Stems with related terms.
    pub fn len(&self) -> usize {
        self.by_stem.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_stem.is_empty()
    }

    /// Reads the sampled documents' words and hosts from `searcher` and relates them.
    pub fn build(searcher: &Searcher, fields: &Fields) -> tantivy::Result<RelatedTerms> {
        let sample = Sample::read(searcher, fields)?;
        Ok(RelatedTerms { by_stem: sample.relate(), documents: searcher.num_docs(), built: Instant::now() })
    }
}

/// The sampled documents, each as its host and the ids of its stems.
#[derive(Default)]
struct Sample {
    stems: Vec<String>,
    stem_ids: HashMap<String, u32>,
    /// Per stem: its spellings and how many sampled documents use each.
    spellings: Vec<HashMap<String, u32>>,
    /// Per analyzed word: its stem id, or `None` for a word not counted.
    word_stems: HashMap<String, Option<u32>>,
    docs: Vec<(u32, Vec<u32>)>,
}

impl Sample {
    fn read(searcher: &Searcher, fields: &Fields) -> tantivy::Result<Sample> {
        let step = searcher.num_docs().div_ceil(MAX_SAMPLED_DOCS).max(1);
        let mut sample = Sample::default();
        let mut hosts: HashMap<Vec<u8>, u32> = HashMap::new();
        let mut ordinal = 0u64;
        for segment in searcher.segment_readers() {
            // Slot of each sampled document of the segment in `docs`.
            let mut slots: Vec<Option<usize>> = vec![None; segment.max_doc() as usize];
            for doc in 0..segment.max_doc() {
                if segment.is_deleted(doc) {
                    continue;
                }
                if ordinal.is_multiple_of(step) {
                    slots[doc as usize] = Some(sample.docs.len());
                    sample.docs.push((u32::MAX, Vec::new()));
                }
                ordinal += 1;
            }
            each_posting(segment, fields.host, &mut |key, doc| {
                if let Some(slot) = slots[doc as usize] {
                    let next = hosts.len() as u32;
                    sample.docs[slot].0 = *hosts.entry(key.to_vec()).or_insert(next);
                }
            })?;
            for field in [fields.name, fields.tags, fields.description] {
                each_posting(segment, field, &mut |key, doc| {
                    let Some(slot) = slots[doc as usize] else { return };
                    let Ok(word) = std::str::from_utf8(key) else { return };
                    if let Some(stem) = sample.stem_of(word) {
                        sample.docs[slot].1.push(stem);
                        *sample.spellings[stem as usize].entry(word.to_string()).or_default() += 1;
                    }
                })?;
            }
        }
        for (_, stems) in &mut sample.docs {
            stems.sort_unstable();
            stems.dedup();
            stems.truncate(MAX_WORDS_PER_DOC);
        }
        Ok(sample)
    }

    /// The stem id of an analyzed word, or `None` for numbers, single letters and stop words.
    fn stem_of(&mut self, word: &str) -> Option<u32> {
        if let Some(known) = self.word_stems.get(word) {
            return *known;
        }
        let counted =
            word.chars().count() >= 2 && !word.bytes().any(|b| b.is_ascii_digit()) && !STOP_WORDS.contains(&word);
        let id = counted.then(|| {
            let stem = forms::stem(word);
            let next = self.stems.len() as u32;
            *self.stem_ids.entry(stem.clone()).or_insert_with(|| {
                self.stems.push(stem);
                self.spellings.push(HashMap::new());
                next
            })
        });
        self.word_stems.insert(word.to_string(), id);
        id
    }

    /// Counts pairs (documents and distinct hosts) and keeps the strong relations.
    fn relate(mut self) -> HashMap<String, Vec<Related>> {
        let total = self.docs.len() as f64;
        let mut df = vec![0u32; self.stems.len()];
        for (_, stems) in &self.docs {
            for stem in stems {
                df[*stem as usize] += 1;
            }
        }
        let eligible = |stem: u32| {
            let n = df[stem as usize];
            n >= MIN_HOSTS && f64::from(n) <= (total * MAX_DOC_SHARE).max(f64::from(MIN_HOSTS))
        };
        // Per pair (smaller id first): documents using both, hosts using both.
        let mut pairs: HashMap<(u32, u32), (u32, u32)> = HashMap::new();
        self.docs.sort_unstable_by_key(|(host, _)| *host);
        for group in self.docs.chunk_by(|a, b| a.0 == b.0) {
            let mut in_host: HashSet<(u32, u32)> = HashSet::new();
            for (_, stems) in group {
                let stems: Vec<u32> = stems.iter().copied().filter(|s| eligible(*s)).collect();
                for (i, a) in stems.iter().enumerate() {
                    for b in &stems[i + 1..] {
                        pairs.entry((*a, *b)).or_default().0 += 1;
                        in_host.insert((*a, *b));
                    }
                }
            }
            for pair in in_host {
                pairs.entry(pair).or_default().1 += 1;
            }
        }
        let mut related: HashMap<u32, Vec<(f64, u32)>> = HashMap::new();
        for ((a, b), (both, hosts)) in pairs {
            if hosts < MIN_HOSTS {
                continue;
            }
            let both = f64::from(both);
            let npmi =
                (both * total / (f64::from(df[a as usize]) * f64::from(df[b as usize]))).ln() / -(both / total).ln();
            for (from, to) in [(a, b), (b, a)] {
                let conditional = both / f64::from(df[from as usize]);
                if npmi >= MIN_NPMI && conditional >= MIN_CONDITIONAL {
                    related.entry(from).or_default().push((conditional * npmi.min(1.0), to));
                }
            }
        }
        related
            .into_iter()
            .map(|(from, mut to)| {
                // Ties go by the word, not its id: ids follow the order segments were read in, and
                // the same catalog must relate the same words however it was committed.
                to.sort_unstable_by(|x, y| {
                    y.0.total_cmp(&x.0).then_with(|| self.stems[x.1 as usize].cmp(&self.stems[y.1 as usize]))
                });
                to.truncate(MAX_RELATED);
                let to = to
                    .into_iter()
                    .map(|(weight, stem)| Related { words: self.spelled(stem), weight: weight as f32 })
                    .collect();
                (self.stems[from as usize].clone(), to)
            })
            .collect()
    }

    /// The most used spellings of a stem.
    fn spelled(&self, stem: u32) -> Vec<String> {
        let mut spellings: Vec<(&String, &u32)> = self.spellings[stem as usize].iter().collect();
        spellings.sort_unstable_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        spellings.into_iter().take(MAX_SPELLINGS).map(|(word, _)| word.clone()).collect()
    }
}

/// Calls `visit(term, doc)` for every posting of `field` in `segment`.
fn each_posting(
    segment: &tantivy::SegmentReader,
    field: Field,
    visit: &mut dyn FnMut(&[u8], u32),
) -> tantivy::Result<()> {
    let inverted = segment.inverted_index(field)?;
    let mut stream = inverted.terms().stream()?;
    while stream.advance() {
        let mut postings = inverted.read_postings_from_terminfo(stream.value(), IndexRecordOption::Basic)?;
        let mut doc = postings.doc();
        while doc != TERMINATED {
            visit(stream.key(), doc);
            doc = postings.advance();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::schema::{build_schema, register_analyzer};
    use tantivy::{Index, TantivyDocument};

    fn index(docs: &[(&str, &str, &str)]) -> (Searcher, Fields) {
        index_in_segments(&[docs])
    }

    /// Each group of documents committed as a segment of its own.
    fn index_in_segments(groups: &[&[(&str, &str, &str)]]) -> (Searcher, Fields) {
        let (schema, fields) = build_schema();
        let index = Index::create_in_ram(schema);
        register_analyzer(&index);
        let mut writer = index.writer_with_num_threads(1, 15 << 20).expect("writer");
        // Segments as committed: merging them would read the words back in one order.
        writer.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
        for group in groups {
            for (host, name, description) in *group {
                let mut doc = TantivyDocument::default();
                doc.add_text(fields.host, host);
                doc.add_text(fields.name, name);
                doc.add_text(fields.description, description);
                writer.add_document(doc).expect("add");
            }
            writer.commit().expect("commit");
        }
        (index.reader().expect("reader").searcher(), fields)
    }

    fn words(terms: &RelatedTerms, word: &str) -> Vec<String> {
        terms.of(word).iter().flat_map(|r| r.words.clone()).collect()
    }

    /// Filler services on other topics, so the topic words are rare the way they are in a catalog.
    fn filler() -> Vec<(&'static str, &'static str, &'static str)> {
        ["weather", "ocr", "translation", "geocoding", "stocks", "email", "scraping", "speech", "sentiment"]
            .into_iter()
            .flat_map(|topic| [("c.example", topic, "answers about it"), ("d.example", topic, "answers about it")])
            .collect()
    }

    #[test]
    fn words_two_hosts_use_together_are_related_and_one_host_cannot_make_it_so() {
        let mut docs = filler();
        docs.extend([
            ("a.example", "Money Converter", "currency conversion for invoices"),
            ("b.example", "Money Exchange", "convert a currency at market rates"),
            ("a.example", "FX Rates", "live currencies"),
        ]);
        // One host stuffing a keyword next to a topic word, on many listings.
        for _ in 0..30 {
            docs.push(("spam.example", "Weather Casino", "weather casino jackpot"));
        }
        let (searcher, fields) = index(&docs);
        let terms = RelatedTerms::build(&searcher, &fields).expect("build");
        let money = words(&terms, "money");
        assert!(money.contains(&"currency".to_string()), "{money:?}");
        assert!(!money.contains(&"invoices".to_string()), "only one host wrote it: {money:?}");
        // Forms count as one word: "currencies" is a spelling of the stem related to money.
        assert!(words(&terms, "currencies").contains(&"money".to_string()));
        assert!(words(&terms, "casino").is_empty(), "one host, however many listings");
        assert!(terms.of("weather").iter().all(|r| !r.words.contains(&"casino".to_string())));
        assert!(terms.of("money").iter().all(|r| r.weight > 0.0 && r.weight <= 1.0));
    }

    #[test]
    fn the_same_catalog_relates_the_same_words_however_it_was_committed() {
        // "alpha" goes with eight words equally: which six are kept must not depend on the
        // order a reader meets the words in. One segment lists them alphabetically; split, the
        // reader goes through the larger segment first, where one listing uses "papa".."sierra".
        let words = ["kilo", "lima", "mike", "oscar", "papa", "quebec", "romeo", "sierra"];
        let mut first = filler();
        first.push(("x.example", "other", "papa quebec romeo sierra"));
        let mut second = vec![("y.example", "other", "kilo lima mike oscar")];
        for host in ["a.example", "b.example", "c.example"] {
            second.push((host, "alpha", "kilo lima mike oscar papa quebec romeo sierra"));
        }
        let all: Vec<_> = first.iter().chain(&second).copied().collect();
        let (one, fields) = index(&all);
        let one = RelatedTerms::build(&one, &fields).expect("build");
        assert_eq!(self::words(&one, "alpha"), words[..MAX_RELATED], "equals go by the word");
        let (split, _) = index_in_segments(&[&first, &second]);
        assert_eq!(split.segment_readers().len(), 2);
        assert_eq!(RelatedTerms::build(&split, &fields).expect("build").by_stem, one.by_stem);
    }

    #[test]
    fn a_large_catalogs_terms_are_kept_for_a_while() {
        let (searcher, fields) = index(&filler());
        let terms = RelatedTerms::build(&searcher, &fields).expect("build");
        assert!(terms.stale(10), "a small catalog: rebuilt with every snapshot");
        let large = RelatedTerms { documents: SMALL_CATALOG + 1, ..RelatedTerms::default() };
        assert!(!large.stale(SMALL_CATALOG + 5), "a large catalog keeps its terms for the TTL");
        assert!(large.stale(SMALL_CATALOG), "shrunk to a small one: rebuilt");
    }
}
