//! Word forms: the other inflections of a query word that the index holds — "currencies" for
//! "currency", "scanned" for "scanning", "geocoder" for "geocoding". Sellers write whichever form
//! their sentence needs, agents ask in another; matching only the exact form loses half a topic.
//!
//! The index keeps words as written (so typo tolerance and highlighting see real words); forms are
//! found at query time instead: the Snowball English stemmer gives the word's stem, the terms of
//! the index that begin with the stem are walked (memoized per segment like the other spellings)
//! and those with the same stem are its forms.

use frostem::{Algorithm, Stemmer};
use std::sync::OnceLock;

/// Shortest stem whose forms are looked for: shorter stems begin too many words, and the
/// words they come from are too short to have forms worth matching.
pub const MIN_STEM_CHARS: usize = 3;

fn stemmer() -> &'static Stemmer {
    static STEMMER: OnceLock<Stemmer> = OnceLock::new();
    STEMMER.get_or_init(|| Stemmer::new(Algorithm::English))
}

/// The Snowball English stem of an analyzed (lower-case) word.
pub fn stem(word: &str) -> String {
    stemmer().stem(word).into_owned()
}

/// The stem whose forms `word` matches, or `None` when the word has none worth looking for
/// (too short, or a number).
pub fn stem_to_walk(word: &str) -> Option<String> {
    if word.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    let stem = stem(word);
    (stem.chars().count() >= MIN_STEM_CHARS).then_some(stem)
}

/// Whether `term` (a word of the index beginning with `stem`) is a form of it.
pub fn is_form(term: &str, stem_of_word: &str) -> bool {
    stem(term) == stem_of_word
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_share_a_stem_and_other_words_do_not() {
        let forms = |a: &str, b: &str| stem_to_walk(a).is_some_and(|s| is_form(b, &s));
        for (a, b) in [
            ("currency", "currencies"),
            ("scanning", "scanned"),
            ("geocoding", "geocoder"),
            ("picture", "pictures"),
            ("translate", "translation"),
            ("extract", "extraction"),
        ] {
            assert!(forms(a, b), "{a} ~ {b}");
            assert!(forms(b, a), "{b} ~ {a}");
        }
        for (a, b) in [("weather", "weatherproof"), ("image", "imaginary"), ("news", "new"), ("base", "basement")] {
            assert!(!forms(a, b), "{a} !~ {b}");
        }
        assert_eq!(stem_to_walk("a1"), None);
        assert_eq!(stem_to_walk("web3"), None, "numbers and codes have no forms");
        assert_eq!(stem_to_walk("is"), None, "too short");
    }
}
