//! Facet counts: what one search counts per dimension value, per segment while collecting
//! (`Counters`, arrays indexed by interned code) and merged over segments (`FacetCounts`).

use super::filters::PRICE_BUCKETS;
use std::collections::HashMap;
use tantivy::DocId;

/// Facet counts: value code → services.
#[derive(Debug, Default, Clone)]
pub struct FacetCounts {
    pub networks: HashMap<u32, u64>,
    pub assets: HashMap<u32, u64>,
    pub schemes: HashMap<u32, u64>,
    pub versions: HashMap<u8, u64>,
    pub prices: [u64; PRICE_BUCKETS.len()],
}

impl FacetCounts {
    pub fn merge(&mut self, other: FacetCounts) {
        for (mine, theirs) in
            [(&mut self.networks, other.networks), (&mut self.assets, other.assets), (&mut self.schemes, other.schemes)]
        {
            for (code, n) in theirs {
                *mine.entry(code).or_default() += n;
            }
        }
        for (version, n) in other.versions {
            *self.versions.entry(version).or_default() += n;
        }
        for (mine, theirs) in self.prices.iter_mut().zip(other.prices) {
            *mine += theirs;
        }
    }
}

/// Facet counters indexed by interned code (codes are small and dense), turned into maps once
/// per segment: the per-document work is array increments.
pub struct Counters {
    /// network, asset, scheme, price bucket.
    pub dims: [Vec<u64>; 4],
    /// Per dimension and code, the last document counted (+1): a service counts once per value
    /// however many of its offers carry it.
    counted: [Vec<u32>; 4],
    pub versions: Vec<u64>,
}

impl Default for Counters {
    fn default() -> Self {
        let mut dims: [Vec<u64>; 4] = Default::default();
        dims[3] = vec![0; PRICE_BUCKETS.len()];
        Counters { dims, counted: Default::default(), versions: vec![0; 256] }
    }
}

impl Counters {
    /// Counts `code` in dimension `dim` (0–2 codes, 3 price buckets) for document `doc`.
    #[inline]
    pub fn once(&mut self, dim: usize, code: u32, doc: DocId) {
        let at = code as usize;
        let (counts, counted) = (&mut self.dims[dim], &mut self.counted[dim]);
        if counted.len() <= at {
            counted.resize(at + 1, 0);
            counts.resize(at + 1, 0);
        }
        if counted[at] != doc + 1 {
            counted[at] = doc + 1;
            counts[at] += 1;
        }
    }

    /// Sizes the counters for codes below `sizes` (a plain search's, `search::plain`).
    pub fn size_for(&mut self, sizes: [usize; 4]) {
        for (counts, size) in self.dims.iter_mut().zip(sizes) {
            counts.resize(size.max(counts.len()), 0);
        }
    }

    /// Counts a value already known to count once for this document (a plain search's).
    #[inline]
    pub fn add(&mut self, dim: usize, code: usize) {
        let counts = &mut self.dims[dim];
        if counts.len() <= code {
            counts.resize(code + 1, 0);
        }
        counts[code] += 1;
    }

    /// Counts `n` documents under a value at once (a plain search's bitset count).
    pub fn add_n(&mut self, dim: usize, code: usize, n: u64) {
        let counts = &mut self.dims[dim];
        if counts.len() <= code {
            counts.resize(code + 1, 0);
        }
        counts[code] += n;
    }

    pub fn into_facets(self) -> FacetCounts {
        let versions = self.versions.iter().enumerate().filter(|(_, n)| **n > 0).map(|(v, n)| (v as u8, *n)).collect();
        let [networks, assets, schemes, prices] = self.dims;
        let [networks, assets, schemes] = [networks, assets, schemes].map(|counts| {
            counts.into_iter().enumerate().filter(|(_, n)| *n > 0).map(|(code, n)| (code as u32, n)).collect()
        });
        let mut buckets = [0; PRICE_BUCKETS.len()];
        for (bucket, n) in buckets.iter_mut().zip(prices) {
            *bucket = n;
        }
        FacetCounts { networks, assets, schemes, versions, prices: buckets }
    }
}
