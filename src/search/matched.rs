//! Which query words each hit was found by, per field (`matched` in an answer): the query word
//! when the field holds it or one of its variants (forms, typos, completions), else the related
//! word it holds ("currency" for "money").
//!
//! A page explains twenty hits over six fields of tens of words each, against query words with
//! dozens of variants: comparing every document word with every variant was a tenth of a long-tail
//! search's CPU. The words to look for are put in one map per search instead, and each document
//! word is one lookup — or none, when no word looked for begins with its first two letters.

use super::results::Matched;
use super::schema::FIELD_NAMES;
use super::text::QueryTerm;
use rustc_hash::FxHashMap;

/// The query's words, their variants and related words, each pointing at the terms it stands for.
pub struct WordMatcher<'a> {
    terms: &'a [QueryTerm],
    /// Word → (term index, true for the word or a variant, false for a related word).
    by_word: FxHashMap<&'a str, Vec<(usize, bool)>>,
    /// A bit per (hashed) first two bytes of the words in `by_word`: most document words begin
    /// otherwise and are passed over without hashing.
    beginnings: [u64; BEGINNING_BITS / 64],
}

const BEGINNING_BITS: usize = 1024;

/// Where a word's first two bytes fall in [`WordMatcher::beginnings`].
fn beginning(word: &str) -> (usize, u64) {
    let bytes = word.as_bytes();
    let (first, second) = (bytes.first().copied().unwrap_or(0), bytes.get(1).copied().unwrap_or(0));
    let bit = ((usize::from(first) << 5) ^ usize::from(second)) % BEGINNING_BITS;
    (bit / 64, 1 << (bit % 64))
}

impl<'a> WordMatcher<'a> {
    pub fn new(terms: &'a [QueryTerm]) -> WordMatcher<'a> {
        let mut by_word: FxHashMap<&'a str, Vec<(usize, bool)>> = FxHashMap::default();
        for (at, term) in terms.iter().enumerate() {
            for word in std::iter::once(&term.word).chain(term.variants.words()) {
                by_word.entry(word).or_default().push((at, true));
            }
            for word in term.related.iter().flat_map(|related| &related.words) {
                by_word.entry(word).or_default().push((at, false));
            }
        }
        let mut beginnings = [0; BEGINNING_BITS / 64];
        for word in by_word.keys() {
            let (at, bit) = beginning(word);
            beginnings[at] |= bit;
        }
        WordMatcher { terms, by_word, beginnings }
    }

    /// Per field (`schema::FIELD_NAMES`) of a hit, given its analyzed words (`hydrate::Hydrated`:
    /// separated by spaces), the query words it was found by; fields that matched none are left
    /// out.
    pub fn fields(&self, words: &[String; 6]) -> Vec<Matched> {
        if self.terms.is_empty() {
            return Vec::new();
        }
        FIELD_NAMES
            .into_iter()
            .zip(words)
            .filter_map(|(field, tokens)| {
                let terms = self.matched(tokens);
                (!terms.is_empty()).then_some(Matched { field, terms })
            })
            .collect()
    }

    /// In the order of the query's terms, the word each was found by among `tokens`.
    fn matched(&self, tokens: &str) -> Vec<String> {
        let mut exact = vec![false; self.terms.len()];
        let mut related: Vec<Option<&str>> = vec![None; self.terms.len()];
        for token in tokens.split(' ') {
            let (word, bit) = beginning(token);
            if self.beginnings[word] & bit == 0 {
                continue;
            }
            for (at, is_exact) in self.by_word.get(token).into_iter().flatten() {
                if *is_exact {
                    exact[*at] = true;
                } else if related[*at].is_none() {
                    // The first related word in the field's order.
                    related[*at] = Some(token);
                }
            }
        }
        self.terms
            .iter()
            .zip(exact.iter().zip(related))
            .filter_map(
                |(term, (exact, related))| if *exact { Some(term.word.clone()) } else { related.map(String::from) },
            )
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::related::Related;
    use crate::search::request::TextMode;
    use crate::search::text::terms;

    fn in_description(matcher: &WordMatcher, text: &str) -> Vec<String> {
        let words = [String::new(), text.into(), String::new(), String::new(), String::new(), String::new()];
        matcher.fields(&words).into_iter().flat_map(|m| m.terms).collect()
    }

    #[test]
    fn a_hit_is_explained_by_the_word_or_the_related_word_it_holds() {
        let mut terms = terms("money transfer", TextMode::Forgiving);
        terms[0].variants.forms = vec!["moneys".into()];
        terms[0].related = vec![Related { words: vec!["currency".into(), "currencies".into()], weight: 0.8 }];
        terms[1].variants.typos = vec!["transfers".into()];
        terms[1].variants.completions = vec!["transferwise".into()];
        // "currency" is also related to the second word: each term is explained on its own.
        terms[1].related = vec![Related { words: vec!["currency".into()], weight: 0.5 }];
        let matcher = WordMatcher::new(&terms);
        assert_eq!(in_description(&matcher, "live currencies"), ["currencies"]);
        assert_eq!(in_description(&matcher, "moneys and currency"), ["money", "currency"], "the word first");
        assert_eq!(in_description(&matcher, "currency currencies transferwise"), ["currency", "transfer"]);
        assert_eq!(in_description(&matcher, "transfers money"), ["money", "transfer"], "in the query's order");
        assert!(in_description(&matcher, "weather").is_empty());
        assert!(in_description(&matcher, "m mo mon tr transfe").is_empty(), "same beginnings, other words");
        let words = ["money", "", "transfer", "", "", "nothing"].map(String::from);
        let fields = matcher.fields(&words);
        assert_eq!(fields.len(), 2, "fields without a match are left out: {fields:?}");
        assert_eq!((fields[0].field, fields[0].terms.as_slice()), (FIELD_NAMES[0], &["money".to_string()][..]));
        assert_eq!((fields[1].field, fields[1].terms.as_slice()), (FIELD_NAMES[2], &["transfer".to_string()][..]));
        assert!(WordMatcher::new(&[]).fields(&words).is_empty());
    }
}
