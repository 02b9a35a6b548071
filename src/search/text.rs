//! Free text → query. User text is never parsed as query syntax: it is cut into words by the same
//! analyzer as the documents, so `AND`, quotes, `field:` prefixes and brackets are just words or
//! separators. Each word must match somewhere (common English words only add score); exact
//! matches score by BM25 with field boosts, while the last word also matches as a prefix
//! (search-as-you-type) and longer words tolerate one typo, both at a low constant score so an
//! exact match always ranks above them.

use super::request::TextMode;
use super::schema::{Fields, analyzer, boosted_text_fields};
use tantivy::Term;
use tantivy::query::{BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;

/// Words beyond this many are ignored.
pub const MAX_TERMS: usize = 16;
/// Shortest word that gets a typo-tolerant match (in characters).
const FUZZY_MIN_CHARS: usize = 5;
/// Shortest last word that gets a prefix match.
const PREFIX_MIN_CHARS: usize = 3;
const FUZZY_BOOST: f32 = 0.3;
const PREFIX_BOOST: f32 = 0.5;

/// Words that may be absent from a match (they still add score where present).
const OPTIONAL_WORDS: &[&str] =
    &["a", "an", "and", "or", "not", "the", "of", "for", "to", "in", "on", "with", "by", "api", "is", "at"];

/// One word of the query and how it may match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryTerm {
    pub word: String,
    pub required: bool,
    pub fuzzy: bool,
    pub prefix: bool,
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
                word,
            }
        })
        .collect()
}

/// The query for `terms`, or `None` when there is no text.
pub fn query(terms: &[QueryTerm], fields: &Fields) -> Option<Box<dyn Query>> {
    if terms.is_empty() {
        return None;
    }
    let clauses = terms
        .iter()
        .map(|term| {
            let occur = if term.required { Occur::Must } else { Occur::Should };
            (occur, term_query(term, fields))
        })
        .collect();
    Some(Box::new(BooleanQuery::new(clauses)))
}

/// One word against every text field: boosted exact terms, plus low-boost fuzzy and prefix
/// matches on the catch-all field.
fn term_query(term: &QueryTerm, fields: &Fields) -> Box<dyn Query> {
    let mut alternatives: Vec<(Occur, Box<dyn Query>)> = boosted_text_fields(fields)
        .into_iter()
        .map(|(field, boost)| {
            let exact = TermQuery::new(Term::from_field_text(field, &term.word), IndexRecordOption::WithFreqs);
            (Occur::Should, Box::new(BoostQuery::new(Box::new(exact), boost)) as Box<dyn Query>)
        })
        .collect();
    let all = Term::from_field_text(fields.all, &term.word);
    if term.fuzzy {
        let fuzzy = FuzzyTermQuery::new(all.clone(), 1, true);
        alternatives.push((Occur::Should, Box::new(BoostQuery::new(Box::new(fuzzy), FUZZY_BOOST))));
    }
    if term.prefix {
        let prefix = FuzzyTermQuery::new_prefix(all, 0, true);
        alternatives.push((Occur::Should, Box::new(BoostQuery::new(Box::new(prefix), PREFIX_BOOST))));
    }
    Box::new(BooleanQuery::new(alternatives))
}

/// Does `token` (an analyzed document word) match `term` the way the query would?
pub fn token_matches(term: &QueryTerm, token: &str) -> bool {
    token == term.word
        || (term.prefix && token.starts_with(&term.word))
        || (term.fuzzy && within_one_edit(&term.word, token))
}

/// Damerau–Levenshtein distance ≤ 1 (one insertion, deletion, substitution or transposition),
/// like the fuzzy query with `transposition_cost_one`.
fn within_one_edit(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len().abs_diff(b.len()) > 1 {
        return false;
    }
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let (ra, rb) = (&a[prefix..], &b[prefix..]);
    let suffix = ra.iter().rev().zip(rb.iter().rev()).take_while(|(x, y)| x == y).count();
    let (ma, mb) = (&ra[..ra.len() - suffix.min(ra.len())], &rb[..rb.len() - suffix.min(rb.len())]);
    match (ma.len(), mb.len()) {
        (0, 0) | (1, 0) | (0, 1) | (1, 1) => true,
        (2, 2) => ma[0] == mb[1] && ma[1] == mb[0],
        _ => false,
    }
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

    #[test]
    fn one_edit() {
        for (a, b) in [
            ("weather", "weather"),
            ("weather", "wether"),
            ("weather", "weathers"),
            ("weather", "waether"),
            ("weather", "weatner"),
        ] {
            assert!(within_one_edit(a, b), "{a} {b}");
        }
        for (a, b) in [("weather", "wthr"), ("weather", "feathers"), ("weather", "waehter"), ("forecast", "broadcast")]
        {
            assert!(!within_one_edit(a, b), "{a} {b}");
        }
    }
}
