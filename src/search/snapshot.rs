//! A searchable moment of the index: one tantivy searcher plus the decoded facts of each of its
//! segments. A new snapshot is made after each commit; segments it shares with the previous one
//! keep their facts and their memo of spellings (segments are immutable), so only new segments
//! are decoded.

use super::facts::{SegmentFacts, Vocab};
use super::spellings::SegmentSpellings;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use tantivy::Searcher;
use tantivy::index::SegmentId;
use tantivy::schema::Field;

pub struct Snapshot {
    pub searcher: Searcher,
    facts: HashMap<SegmentId, Arc<SegmentFacts>>,
    spellings: HashMap<SegmentId, Arc<SegmentSpellings>>,
}

impl Snapshot {
    /// Decodes what `previous` lacks. A segment that cannot be read fails the snapshot (the
    /// caller keeps the previous one, or rebuilds on open).
    pub fn build(
        searcher: Searcher,
        previous: Option<&Snapshot>,
        facts_field: Field,
        vocab: &RwLock<Vocab>,
    ) -> tantivy::Result<Snapshot> {
        let mut facts = HashMap::new();
        let mut spellings = HashMap::new();
        for segment in searcher.segment_readers() {
            let id = segment.segment_id();
            let decoded = match previous.and_then(|p| p.facts.get(&id)) {
                Some(known) => Arc::clone(known),
                None => Arc::new(SegmentFacts::load(segment, facts_field, vocab)?),
            };
            facts.insert(id, decoded);
            let memo = previous.and_then(|p| p.spellings.get(&id)).cloned().unwrap_or_default();
            spellings.insert(id, memo);
        }
        Ok(Snapshot { searcher, facts, spellings })
    }

    /// The memo of accepted spellings for a segment of this snapshot.
    pub fn spellings(&self, segment: SegmentId) -> Arc<SegmentSpellings> {
        self.spellings.get(&segment).cloned().unwrap_or_default()
    }

    pub fn facts(&self, segment: SegmentId) -> Option<Arc<SegmentFacts>> {
        self.facts.get(&segment).cloned()
    }

    /// Searchable documents.
    pub fn num_docs(&self) -> u64 {
        self.searcher.num_docs()
    }

    /// Heap bytes held by decoded facts.
    pub fn facts_bytes(&self) -> usize {
        self.facts.values().map(|f| f.heap_bytes()).sum()
    }
}
