//! Typo, prefix and form variants of a query word, read from the term dictionary of the
//! catch-all field before the query runs.
//!
//! Tantivy's fuzzy and prefix queries build a bitset over the postings of *every* term their
//! automaton accepts — the word itself included, so a common word walks its long posting list
//! twice more per search. Expanding up front lets the query keep only the other spellings (rare
//! by nature: typos, longer words), and cap them, most frequent first, so a short prefix in a
//! large catalog cannot turn into thousands of terms.

use super::forms;
use super::snapshot::Snapshot;
use super::spellings::Kind;
use super::text::QueryTerm;
use std::collections::HashMap;
use tantivy::Term;
use tantivy::query::FuzzyTermQuery;
use tantivy::schema::Field;

/// Most variants kept per word and kind.
pub const MAX_VARIANTS: usize = 64;
/// Most other forms kept per word (they are scored like the word itself, so they cost more).
pub const MAX_FORMS: usize = 4;

/// The spellings a word also matches, other than itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Variants {
    /// One edit away (insertion, deletion, substitution, transposition).
    pub typos: Vec<String>,
    /// Longer words it begins (search-as-you-type), not already among `typos` or `forms`.
    pub completions: Vec<String>,
    /// Other forms of the same word (`forms`): "currencies" for "currency".
    pub forms: Vec<String>,
}

impl Variants {
    /// Every other spelling: typos, completions and forms.
    pub fn words(&self) -> impl Iterator<Item = &String> {
        self.typos.iter().chain(&self.completions).chain(&self.forms)
    }

    pub fn is_empty(&self) -> bool {
        self.typos.is_empty() && self.completions.is_empty() && self.forms.is_empty()
    }
}

/// Reads the variants of `term` from every segment of `snapshot` (document frequencies summed
/// across segments decide which are kept); each segment's walk is memoized.
pub fn variants(snapshot: &Snapshot, all: Field, term: &QueryTerm) -> tantivy::Result<Variants> {
    let word = Term::from_field_text(all, &term.word);
    let not_the_word = |key: &str| key != term.word;
    let mut forms = match forms::stem_to_walk(&term.word).filter(|_| term.widen) {
        Some(stem) => {
            let query = FuzzyTermQuery::new_prefix(Term::from_field_text(all, &stem), 0, true);
            let same_stem = |key: &str| forms::is_form(key, &stem);
            accepted(snapshot, all, &query, &stem, Kind::Form, &same_stem)?
        }
        None => Vec::new(),
    };
    forms.retain(|f| *f != term.word);
    forms.truncate(MAX_FORMS);
    let typos = if term.fuzzy {
        let query = FuzzyTermQuery::new(word.clone(), 1, true);
        let typos = accepted(snapshot, all, &query, &term.word, Kind::Typo, &not_the_word)?;
        typos.into_iter().filter(|t| !forms.contains(t)).collect()
    } else {
        Vec::new()
    };
    let completions = if term.prefix {
        let query = FuzzyTermQuery::new_prefix(word, 0, true);
        let completions = accepted(snapshot, all, &query, &term.word, Kind::Prefix, &not_the_word)?;
        completions.into_iter().filter(|c| !typos.contains(c) && !forms.contains(c)).collect()
    } else {
        Vec::new()
    };
    Ok(Variants { typos, completions, forms })
}

/// The terms `query`'s automaton accepts in `field` that `keep` keeps, the most frequent first.
/// `walked` names the walk in the memo (the word, or the stem of a form walk).
fn accepted(
    snapshot: &Snapshot,
    field: Field,
    query: &FuzzyTermQuery,
    walked: &str,
    kind: Kind,
    keep: &dyn Fn(&str) -> bool,
) -> tantivy::Result<Vec<String>> {
    let mut frequency: HashMap<String, u64> = HashMap::new();
    for segment in snapshot.searcher.segment_readers() {
        let walk = || {
            let inverted = segment.inverted_index(field)?;
            let mut stream = inverted.terms().search(query.automaton()?).into_stream()?;
            let mut found = Vec::new();
            while stream.advance() {
                let Ok(key) = std::str::from_utf8(stream.key()) else { continue };
                if keep(key) {
                    found.push((key.to_string(), stream.value().doc_freq));
                }
            }
            Ok(found)
        };
        let spellings = snapshot.spellings(segment.segment_id()).get_or_walk(walked, kind, walk)?;
        for (key, freq) in spellings.iter() {
            *frequency.entry(key.clone()).or_default() += u64::from(*freq);
        }
    }
    let mut ranked: Vec<(String, u64)> = frequency.into_iter().collect();
    ranked.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    ranked.truncate(MAX_VARIANTS);
    Ok(ranked.into_iter().map(|(term, _)| term).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::request::TextMode;
    use crate::search::text::terms;
    use std::sync::RwLock;
    use tantivy::schema::{STORED, Schema, TEXT};
    use tantivy::{Index, TantivyDocument};

    #[test]
    fn variants_leave_out_the_word_itself_and_keep_the_most_frequent() {
        let mut builder = Schema::builder();
        let all = builder.add_text_field("all", TEXT);
        let facts = builder.add_text_field("facts", STORED);
        let index = Index::create_in_ram(builder.build());
        let mut writer = index.writer_with_num_threads(1, 15 << 20).expect("writer");
        let add = |text: &str| {
            let mut doc = TantivyDocument::default();
            doc.add_text(all, text);
            writer.add_document(doc).expect("add");
        };
        for text in ["weather", "weather", "wether", "weathers", "weathers", "feather", "weatherproof"] {
            add(text);
        }
        // Many completions of "dat": the most frequent are kept ("data" in 3 documents).
        for i in 0..(MAX_VARIANTS + 20) {
            add(&format!("dat{i:03}"));
        }
        for _ in 0..3 {
            add("data");
        }
        writer.commit().expect("commit");
        let searcher = index.reader().expect("reader").searcher();
        let snapshot = Snapshot::build(searcher, None, facts, &RwLock::default()).expect("snapshot");
        let term = |q: &str| terms(q, TextMode::Forgiving).remove(0);

        let weather = variants(&snapshot, all, &term("weather ")).expect("variants");
        assert_eq!(weather.forms, ["weathers"], "a form of the word, not a typo of it");
        assert_eq!(weather.typos, ["feather", "wether"]);
        assert!(weather.completions.is_empty(), "a finished word is no prefix");

        let typing = variants(&snapshot, all, &term("weathe")).expect("variants");
        assert_eq!(typing.typos, ["weather"]);
        assert_eq!(typing.completions, ["weathers", "weatherproof"], "typos are not repeated as completions");

        let dat = variants(&snapshot, all, &term("dat")).expect("variants");
        assert_eq!(dat.completions.len(), MAX_VARIANTS);
        assert_eq!(dat.completions[0], "data");
        assert!(!dat.words().any(|w| w == "dat"));
        assert!(variants(&snapshot, all, &term("we")).expect("variants") == Variants::default());
        // Asked again, the memo answers the same.
        assert_eq!(variants(&snapshot, all, &term("weathe")).expect("variants"), typing);
    }
}
