//! Free text → query. User text is never parsed as query syntax: it is cut into words by the same
//! analyzer as the documents, so `AND`, quotes, `field:` prefixes and brackets are just words or
//! separators. Each word must match somewhere (common English words only add score); exact
//! matches score by BM25 with field boosts, other forms of the word ("currencies" for
//! "currency") score the same way a little lower, while the last word also matches as a prefix
//! (search-as-you-type) and longer words tolerate one typo, both at a low constant score so an
//! exact match always ranks above them. The prefix and typo spellings are read from the index
//! first ([`super::expand`]).

use super::expand::Variants;
use super::related::Related;
use super::request::TextMode;
use super::schema::{Fields, analyzer, boosted_text_fields};
use super::word_cache::{CachedWord, WordCache};
use super::word_join::{JoinedWords, Role};
use std::sync::Arc;
use tantivy::Term;
use tantivy::query::{BooleanQuery, BoostQuery, ConstScoreQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};

/// Words beyond this many are ignored.
pub const MAX_TERMS: usize = 16;
/// Shortest word that gets a typo-tolerant match (in characters).
const FUZZY_MIN_CHARS: usize = 5;
/// Shortest last word that gets a prefix match.
const PREFIX_MIN_CHARS: usize = 3;
const FUZZY_BOOST: f32 = 0.3;
const PREFIX_BOOST: f32 = 0.5;
/// A form of the word scores like the word on the same field, times this: the form the query
/// used ranks first among equals.
const FORM_WEIGHT: f32 = 0.85;
/// A related word (`related`) scores this times its relation's weight: below a typo.
const RELATED_BOOST: f32 = 0.25;

/// Queries with more required words than this are long: they match documents with enough of
/// their words, not all of them (natural-language requests hold words no seller writes).
pub const LONG_QUERY_WORDS: usize = 3;

/// In a long query, a word more than this share of the catalog holds is *common*: it adds score
/// but does not count toward "enough of the words" ("service", "data" say little about a request,
/// and requiring them would match most of the catalog).
pub const COMMON_SHARE: f64 = 0.5;

/// Words that may be absent from a match (they still add score where present).
const OPTIONAL_WORDS: &[&str] =
    &["a", "an", "and", "or", "not", "the", "of", "for", "to", "in", "on", "with", "by", "api", "is", "at"];

/// One word of the query and how it may match.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryTerm {
    pub word: String,
    pub required: bool,
    pub fuzzy: bool,
    pub prefix: bool,
    /// It also matches its other forms and related words (off in exact mode).
    pub widen: bool,
    /// The other spellings it matches in the index (filled in before the query is built).
    pub variants: Variants,
    /// Words sellers use together with it (filled in with the variants).
    pub related: Vec<Related>,
    /// Some document holds the word or one of its variants (filled in with the variants).
    pub present: bool,
    /// More than [`COMMON_SHARE`] of the documents hold the word (filled in for long queries).
    pub common: bool,
}

impl QueryTerm {
    /// What its query depends on besides the snapshot (the variants and related words are read
    /// from the snapshot by these).
    pub fn cache_key(&self) -> String {
        let flags = [self.fuzzy, self.prefix, self.widen, !self.related.is_empty()].map(u8::from);
        format!("{}\u{0}{flags:?}", self.word)
    }
}

/// Cuts `q` into query terms.
pub fn terms(q: &str, mode: TextMode) -> Vec<QueryTerm> {
    let mut analyzer = analyzer();
    let mut words: Vec<String> = Vec::new();
    let mut stream = analyzer.token_stream(q);
    while let Some(token) = stream.next() {
        if !words.contains(&token.text) {
            words.push(token.text.clone());
        }
        if words.len() == MAX_TERMS {
            break;
        }
    }
    // A finished last word (followed by a space or punctuation) is not a prefix.
    let typing_last = q.chars().last().is_some_and(char::is_alphanumeric);
    let all_optional = words.iter().all(|w| OPTIONAL_WORDS.contains(&w.as_str()));
    let count = words.len();
    words
        .into_iter()
        .enumerate()
        .map(|(i, word)| {
            let chars = word.chars().count();
            let forgiving = mode == TextMode::Forgiving;
            QueryTerm {
                required: all_optional || !OPTIONAL_WORDS.contains(&word.as_str()),
                fuzzy: forgiving && chars >= FUZZY_MIN_CHARS && !word.bytes().all(|b| b.is_ascii_digit()),
                prefix: forgiving && i + 1 == count && typing_last && chars >= PREFIX_MIN_CHARS,
                widen: forgiving,
                word,
                variants: Variants::default(),
                related: Vec::new(),
                present: true,
                common: false,
            }
        })
        .collect()
}

/// The query for `terms`, or `None` when there is no text. Each word's part is answered from
/// `words` when an earlier query computed it (`word_cache`).
pub fn query(terms: &[QueryTerm], fields: &Fields, words: &Arc<WordCache>) -> Option<Box<dyn Query>> {
    let cached = |term: &QueryTerm| CachedWord::new(term.cache_key(), term_query(term, fields), Arc::clone(words));
    if terms.is_empty() {
        return None;
    }
    let required = terms.iter().filter(|t| t.required).count();
    if required > LONG_QUERY_WORDS {
        // A long query: every word may match, and at least half of the words the index knows
        // must (so "what will the weather be like in paris tomorrow" finds weather services).
        // Common words count only when the query has nothing else.
        let counts = |t: &QueryTerm| !t.common;
        let (counted, scored): (Vec<&QueryTerm>, Vec<&QueryTerm>) = if terms.iter().any(|t| counts(t) && t.present) {
            terms.iter().partition(|t| counts(t))
        } else {
            (terms.iter().collect(), Vec::new())
        };
        let known = counted.iter().filter(|t| t.required && t.present).count();
        let parts = counted
            .into_iter()
            .map(|term| (cached(term), Role::Counted))
            .chain(scored.into_iter().map(|term| (cached(term), Role::Optional)))
            .collect();
        return Some(Box::new(JoinedWords::new(parts, known.div_ceil(2).max(1))));
    }
    let parts =
        terms.iter().map(|term| (cached(term), if term.required { Role::Required } else { Role::Optional })).collect();
    Some(Box::new(JoinedWords::new(parts, 0)))
}

/// One word against every text field: boosted exact terms and its other forms, plus its typo
/// and prefix variants on the catch-all field at a low constant score.
fn term_query(term: &QueryTerm, fields: &Fields) -> Box<dyn Query> {
    let scored = |field, word: &str, boost: f32| {
        let exact = TermQuery::new(Term::from_field_text(field, word), IndexRecordOption::WithFreqs);
        (Occur::Should, Box::new(BoostQuery::new(Box::new(exact), boost)) as Box<dyn Query>)
    };
    let mut alternatives: Vec<(Occur, Box<dyn Query>)> =
        boosted_text_fields(fields).into_iter().map(|(field, boost)| scored(field, &term.word, boost)).collect();
    // Forms on the fields the seller writes in words (name, tags, description): the others hold
    // identifiers, where another form of a word is another word.
    for form in &term.variants.forms {
        for (field, boost) in boosted_text_fields(fields).into_iter().take(3) {
            alternatives.push(scored(field, form, boost * FORM_WEIGHT));
        }
    }
    for (spellings, score) in [(&term.variants.typos, FUZZY_BOOST), (&term.variants.completions, PREFIX_BOOST)] {
        if let Some(any) = any_of(fields.all, spellings) {
            alternatives.push((Occur::Should, Box::new(ConstScoreQuery::new(any, score))));
        }
    }
    for related in &term.related {
        if let Some(any) = any_of(fields.all, &related.words) {
            alternatives.push((Occur::Should, Box::new(ConstScoreQuery::new(any, RELATED_BOOST * related.weight))));
        }
    }
    Box::new(BooleanQuery::new(alternatives))
}

/// Matches documents with any of `words` in `field`, or `None` for no words.
fn any_of(field: Field, words: &[String]) -> Option<Box<dyn Query>> {
    if words.is_empty() {
        return None;
    }
    let clauses = words
        .iter()
        .map(|w| {
            let term = TermQuery::new(Term::from_field_text(field, w), IndexRecordOption::Basic);
            (Occur::Should, Box::new(term) as Box<dyn Query>)
        })
        .collect();
    Some(Box::new(BooleanQuery::new(clauses)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(q: &str) -> Vec<(String, bool, bool, bool)> {
        terms(q, TextMode::Forgiving).into_iter().map(|t| (t.word, t.required, t.fuzzy, t.prefix)).collect()
    }

    #[test]
    fn syntax_is_just_words() {
        let parsed: Vec<String> =
            words(r#"name:"weather" AND (price:[0 TO 1]) OR -x*"#).into_iter().map(|w| w.0).collect();
        assert_eq!(parsed, ["name", "weather", "and", "price", "0", "to", "1", "or", "x"]);
        assert!(words("").is_empty());
        assert!(words("  ?!: ").is_empty());
    }

    #[test]
    fn optional_words_prefix_and_typos() {
        assert_eq!(
            words("weather for Paris"),
            [
                ("weather".into(), true, true, false),
                ("for".into(), false, false, false),
                ("paris".into(), true, true, true)
            ]
        );
        // Typing finished (trailing space): no prefix. Short words: neither prefix nor typo.
        assert_eq!(words("paris "), [("paris".into(), true, true, false)]);
        assert_eq!(words("we"), [("we".into(), true, false, false)]);
        // Only optional words: they are required, or everything would match.
        assert_eq!(words("the api"), [("the".into(), true, false, false), ("api".into(), true, false, true)]);
        assert_eq!(words(&"word ".repeat(40)).len(), 1);
    }
}
