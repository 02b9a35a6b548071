//! A memo, per segment, of the spellings a word's typo, prefix or form walk accepts in the
//! catch-all field's term dictionary, with their document frequencies. Walking the dictionary
//! with a Levenshtein automaton is a tenth of a search's work, the same words come back in query
//! after query, and a segment never changes: so each (segment, word, kind) is walked once.
//!
//! Bounded in terms held, not only entries (a short prefix can accept many words): when full,
//! it starts over.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// The spellings kept per walk, the most frequent first: more than the query will use
/// (`expand::MAX_VARIANTS`), so that summing frequencies over segments still picks the right ones
/// in all but contrived cases.
pub const KEPT_PER_SEGMENT: usize = 256;

/// Most spellings held per segment before the memo starts over.
const MAX_HELD: usize = 65_536;

/// What an automaton accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// One edit away.
    Typo,
    /// Words it begins.
    Prefix,
    /// Words that share its stem (the word walked is the stem; see `forms`).
    Form,
}

/// Accepted spellings (the word itself left out) and their document frequency in the segment.
pub type Accepted = Arc<Vec<(String, u32)>>;

#[derive(Debug, Default)]
pub struct SegmentSpellings {
    memo: Mutex<Memo>,
}

#[derive(Debug, Default)]
struct Memo {
    entries: HashMap<(String, Kind), Accepted>,
    held: usize,
}

impl SegmentSpellings {
    /// The memoized walk for `word`, or `walk`'s answer (kept, cut to [`KEPT_PER_SEGMENT`]).
    pub fn get_or_walk(
        &self,
        word: &str,
        kind: Kind,
        walk: impl FnOnce() -> tantivy::Result<Vec<(String, u32)>>,
    ) -> tantivy::Result<Accepted> {
        let key = (word.to_string(), kind);
        if let Some(known) = self.memo.lock().unwrap_or_else(PoisonError::into_inner).entries.get(&key) {
            return Ok(Arc::clone(known));
        }
        // Walked outside the lock: two searches may walk the same word once each, never wait.
        let mut accepted = walk()?;
        accepted.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        accepted.truncate(KEPT_PER_SEGMENT);
        let accepted = Arc::new(accepted);
        let mut memo = self.memo.lock().unwrap_or_else(PoisonError::into_inner);
        if memo.held + accepted.len() + 1 > MAX_HELD {
            memo.entries.clear();
            memo.held = 0;
        }
        memo.held += accepted.len() + 1;
        memo.entries.insert(key, Arc::clone(&accepted));
        Ok(accepted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_walk_is_done_once_and_kept_most_frequent_first() {
        let spellings = SegmentSpellings::default();
        let mut walks = 0;
        for _ in 0..3 {
            let got = spellings
                .get_or_walk("wether", Kind::Typo, || {
                    walks += 1;
                    Ok(vec![("whether".into(), 2), ("weather".into(), 9)])
                })
                .expect("walk");
            assert_eq!(got[0], ("weather".to_string(), 9));
        }
        assert_eq!(walks, 1);
        // Another kind of the same word is another walk.
        let prefix = spellings.get_or_walk("wether", Kind::Prefix, || Ok(Vec::new())).expect("walk");
        assert!(prefix.is_empty());
        let many: Vec<(String, u32)> = (0..1000).map(|i| (format!("w{i}"), i)).collect();
        let cut = spellings.get_or_walk("w", Kind::Prefix, || Ok(many)).expect("walk");
        assert_eq!(cut.len(), KEPT_PER_SEGMENT);
        assert_eq!(cut[0].1, 999);
    }
}
