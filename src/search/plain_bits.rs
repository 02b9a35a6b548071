//! A plain search's counts over broad matches, from document bitsets. A text search of a large
//! catalog often matches a tenth of it or more, and counting each match's facet values one by
//! one (a cache miss each) was most of such a search's cost after the words were joined. Here
//! each common facet value (and version, and the two states a plain search tells apart) keeps
//! the set of documents holding it as a bitset: a search sets its matches into one bitset and
//! a value's count is the popcount of an AND, a few thousand word operations for the whole
//! segment. Values few documents hold stay per document (bitsets for them would cost memory
//! and time for nothing), counted only for the matches that hold one.

use super::facet_counts::Counters;
use super::plain::{DIMENSIONS, PlainFacts, PlainState};
use tantivy::DocId;

/// A value gets a bitset when at least this share (1 / N) of the segment's documents hold it:
/// a segment has at most N × (values per document) of them, so their memory stays a small
/// multiple of the segment's size whatever the catalog's vocabulary.
const DENSE_SHARE: usize = 32;

/// Segments smaller than this count one by one (a bitset would save nothing).
const MIN_DOCS: usize = 4_096;

/// What a bitset counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    /// A facet value: dimension (as `Counters::dims`), code.
    Value(usize, usize),
    Version(u8),
}

/// The bitsets of one segment's plain facts.
#[derive(Debug, Default)]
pub struct PlainBits {
    /// 64-bit words per bitset (0: the segment counts one by one).
    words: usize,
    matches: Vec<u64>,
    testnet_only: Vec<u64>,
    dense: Vec<(Slot, Vec<u64>)>,
    /// Per dimension and code (and per version, last): whether the value has a bitset.
    is_dense: [Vec<bool>; DIMENSIONS + 1],
    /// Documents holding a value (or version) without a bitset.
    sparse_docs: Vec<u64>,
}

fn set(bits: &mut [u64], doc: usize) {
    bits[doc / 64] |= 1 << (doc % 64);
}

fn get(bits: &[u64], doc: DocId) -> bool {
    let doc = doc as usize;
    bits.get(doc / 64).is_some_and(|word| word & (1 << (doc % 64)) != 0)
}

fn and_count(a: &[u64], b: &[u64]) -> u64 {
    a.iter().zip(b).map(|(a, b)| u64::from((a & b).count_ones())).sum()
}

impl PlainBits {
    /// Built once the segment's plain facts are all decoded.
    pub fn build(plain: &PlainFacts) -> PlainBits {
        let docs = plain.documents();
        if docs < MIN_DOCS {
            return PlainBits::default();
        }
        let words = docs.div_ceil(64);
        let mut held: [Vec<usize>; DIMENSIONS + 1] = Default::default();
        held[DIMENSIONS] = vec![0; 256];
        for (dimension, size) in plain.sizes.iter().enumerate() {
            held[dimension] = vec![0; *size];
        }
        let mut out =
            PlainBits { words, matches: vec![0; words], testnet_only: vec![0; words], ..PlainBits::default() };
        for doc in 0..docs {
            let facts = plain.doc(doc as DocId);
            match facts.state {
                PlainState::Out => continue,
                PlainState::TestnetOnly => set(&mut out.testnet_only, doc),
                PlainState::Matches => set(&mut out.matches, doc),
            }
            if facts.state == PlainState::Matches {
                held[DIMENSIONS][usize::from(facts.version)] += 1;
                for (dimension, code) in plain.values(facts) {
                    held[dimension][code] += 1;
                }
            }
        }
        let dense_from = (docs / DENSE_SHARE).max(1);
        let mut at: [Vec<Option<usize>>; DIMENSIONS + 1] = Default::default();
        for (slot_dim, counts) in held.iter().enumerate() {
            out.is_dense[slot_dim] = counts.iter().map(|n| *n >= dense_from).collect();
            at[slot_dim] = vec![None; counts.len()];
            for (code, _) in counts.iter().enumerate().filter(|(_, n)| **n >= dense_from) {
                let slot = if slot_dim == DIMENSIONS { Slot::Version(code as u8) } else { Slot::Value(slot_dim, code) };
                at[slot_dim][code] = Some(out.dense.len());
                out.dense.push((slot, vec![0; words]));
            }
        }
        out.sparse_docs = vec![0; words];
        for doc in (0..docs).filter(|doc| get(&out.matches, *doc as DocId)) {
            let facts = plain.doc(doc as DocId);
            let values = plain.values(facts).chain([(DIMENSIONS, usize::from(facts.version))]);
            for (slot_dim, code) in values {
                match at[slot_dim][code] {
                    Some(index) => set(&mut out.dense[index].1, doc),
                    None => set(&mut out.sparse_docs, doc),
                }
            }
        }
        out
    }

    /// The document has a mainnet offer (it matches a plain search).
    #[inline]
    pub fn matches(&self, doc: DocId) -> Option<bool> {
        (self.words > 0).then(|| get(&self.matches, doc))
    }

    /// Every offer of the document is on a testnet.
    #[inline]
    pub fn testnet_only(&self, doc: DocId) -> bool {
        get(&self.testnet_only, doc)
    }

    /// Whether counting `matched` documents by bitsets costs less than one by one (a cache miss
    /// and a few increments each, against a pass of word operations per bitset).
    pub fn worth_it(&self, matched: usize) -> bool {
        self.words > 0 && matched * 16 >= self.words * (self.dense.len() + 2)
    }

    /// Counts the facet values and versions of `matched` (documents in the plain state
    /// `Matches`) into `counters`.
    pub fn count(&self, plain: &PlainFacts, matched: &[DocId], counters: &mut Counters) {
        let mut bits = vec![0u64; self.words];
        for doc in matched {
            set(&mut bits, *doc as usize);
        }
        for (slot, holders) in &self.dense {
            let n = and_count(&bits, holders);
            match *slot {
                Slot::Value(dimension, code) => counters.add_n(dimension, code, n),
                Slot::Version(version) => counters.versions[usize::from(version)] += n,
            }
        }
        for (at, (word, sparse)) in bits.iter().zip(&self.sparse_docs).enumerate() {
            let mut left = word & sparse;
            while left != 0 {
                let doc = (at * 64 + left.trailing_zeros() as usize) as DocId;
                left &= left - 1;
                let facts = plain.doc(doc);
                if !self.is_dense[DIMENSIONS][usize::from(facts.version)] {
                    counters.versions[usize::from(facts.version)] += 1;
                }
                for (dimension, code) in plain.values(facts).filter(|(d, c)| !self.is_dense[*d][*c]) {
                    counters.add(dimension, code);
                }
            }
        }
    }

    pub fn heap_bytes(&self) -> usize {
        let bitsets = 3 + self.dense.len();
        bitsets * self.words * size_of::<u64>() + self.is_dense.iter().map(Vec::len).sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn and_counts_and_bits() {
        let mut a = vec![0u64; 3];
        let mut b = vec![0u64; 3];
        for doc in [0, 63, 64, 130] {
            set(&mut a, doc);
        }
        for doc in [63, 130, 131] {
            set(&mut b, doc);
        }
        assert_eq!(and_count(&a, &b), 2);
        assert!(get(&a, 64) && !get(&a, 65) && !get(&a, 10_000));
    }
}
