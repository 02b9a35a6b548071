//! What each document contributes to a *plain* search — one whose only offer filter is the
//! default (testnet offers left out) and that filters no version — decided once when its
//! segment is decoded: whether it matches, whether only testnet offers keep it out, and the facet
//! values it counts under, each once. Most searches are plain (nearly every long-tail text
//! search), and for them the collector's work per match becomes a few reads of small dense
//! arrays and increments, instead of walking the offers and testing each against the filters.

use super::facts::OfferFacts;
use super::plain_bits::PlainBits;

/// A document's part in a plain search (8 bytes: one read per match).
#[derive(Debug, Clone, Copy, Default)]
pub struct PlainDoc {
    first_code: u32,
    code_count: u16,
    pub state: PlainState,
    pub version: u8,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[repr(u8)]
pub enum PlainState {
    /// Unreadable, or without offers: matches nothing.
    #[default]
    Out,
    /// Every offer is on a testnet: counted in `testnets_hidden`.
    TestnetOnly,
    /// At least one mainnet offer.
    Matches,
}

/// Facet dimensions, in the order `Counters` keeps them.
pub const DIMENSIONS: usize = 4;
const DIMENSION_SHIFT: u32 = 30;
const CODE_MASK: u32 = (1 << DIMENSION_SHIFT) - 1;

/// The plain contributions of one segment's documents, indexed by `DocId`.
#[derive(Debug, Default)]
pub struct PlainFacts {
    docs: Vec<PlainDoc>,
    /// Each document's facet values, deduplicated: dimension in the top two bits, code below.
    codes: Vec<u32>,
    /// One more than the largest code seen per dimension (network, asset, scheme, price bucket):
    /// the collector sizes its counters once.
    pub sizes: [usize; DIMENSIONS],
    /// The same facts as bitsets, for broad matches (built by [`PlainFacts::finish`]).
    bits: PlainBits,
}

impl PlainFacts {
    /// Adds the next document: `None` when its facts are unreadable.
    pub fn push(&mut self, offers: Option<&[OfferFacts]>, version: u8) {
        let first_code = u32::try_from(self.codes.len()).unwrap_or(u32::MAX);
        let Some(offers) = offers.filter(|o| !o.is_empty()) else {
            self.docs.push(PlainDoc { first_code, ..PlainDoc::default() });
            return;
        };
        if offers.iter().all(|o| o.testnet) {
            self.docs.push(PlainDoc { first_code, code_count: 0, state: PlainState::TestnetOnly, version });
            return;
        }
        let start = self.codes.len();
        for offer in offers.iter().filter(|o| !o.testnet) {
            let price = (offer.usd_micros >= 0).then_some(u32::from(offer.price_bucket));
            let values = [Some(offer.network), Some(offer.asset_label()), Some(offer.scheme), price];
            for (dimension, code) in values.into_iter().enumerate() {
                let Some(code) = code.filter(|c| *c <= CODE_MASK) else { continue };
                let packed = (dimension as u32) << DIMENSION_SHIFT | code;
                if !self.codes[start..].contains(&packed) {
                    self.codes.push(packed);
                    self.sizes[dimension] = self.sizes[dimension].max(code as usize + 1);
                }
            }
        }
        let code_count = u16::try_from(self.codes.len() - start).unwrap_or(u16::MAX);
        self.codes.truncate(start + usize::from(code_count));
        self.docs.push(PlainDoc { first_code, code_count, state: PlainState::Matches, version });
    }

    /// Called once every document is pushed: builds the bitsets.
    pub fn finish(&mut self) {
        self.bits = PlainBits::build(self);
    }

    pub fn bits(&self) -> &PlainBits {
        &self.bits
    }

    /// Documents pushed.
    pub fn documents(&self) -> usize {
        self.docs.len()
    }

    #[inline]
    pub fn doc(&self, doc: u32) -> PlainDoc {
        self.docs.get(doc as usize).copied().unwrap_or_default()
    }

    /// The facet values of a document, as (dimension, code).
    #[inline]
    pub fn values(&self, doc: PlainDoc) -> impl Iterator<Item = (usize, usize)> + '_ {
        let start = doc.first_code as usize;
        let codes = self.codes.get(start..start + usize::from(doc.code_count)).unwrap_or_default();
        codes.iter().map(|c| ((c >> DIMENSION_SHIFT) as usize, (c & CODE_MASK) as usize))
    }

    /// The first of a document's values (to touch its cache line ahead of counting).
    #[inline]
    pub fn first_value(&self, doc: PlainDoc) -> u32 {
        self.codes.get(doc.first_code as usize).copied().unwrap_or(0)
    }

    pub fn heap_bytes(&self) -> usize {
        self.docs.capacity() * size_of::<PlainDoc>() + self.codes.capacity() * size_of::<u32>() + self.bits.heap_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(network: u32, symbol: u32, scheme: u32, testnet: bool, usd_micros: i64, bucket: u8) -> OfferFacts {
        OfferFacts { usd_micros, network, address: 100 + symbol, symbol, scheme, testnet, price_bucket: bucket }
    }

    #[test]
    fn each_value_once_mainnet_only_and_the_states() {
        let mut plain = PlainFacts::default();
        plain.push(
            Some(&[
                offer(1, 2, 0, false, 10_000, 1),
                offer(1, 2, 0, false, 20_000, 1),
                offer(3, 4, 1, false, -1, 0),
                offer(5, 6, 0, true, 5, 0),
            ]),
            2,
        );
        plain.push(Some(&[offer(5, 6, 0, true, 5, 0)]), 1);
        plain.push(Some(&[]), 2);
        plain.push(None, 0);
        let first = plain.doc(0);
        assert_eq!((first.state, first.version), (PlainState::Matches, 2));
        let mut values: Vec<_> = plain.values(first).collect();
        values.sort_unstable();
        // Network 1 and 3, asset 2 and 4, scheme 0 and 1, price bucket 1 (the unpriced offer has
        // none); nothing from the testnet offer.
        assert_eq!(values, [(0, 1), (0, 3), (1, 2), (1, 4), (2, 0), (2, 1), (3, 1)]);
        assert_eq!(plain.doc(1).state, PlainState::TestnetOnly);
        assert_eq!(plain.values(plain.doc(1)).count(), 0);
        assert_eq!(plain.doc(2).state, PlainState::Out);
        assert_eq!(plain.doc(3).state, PlainState::Out);
        assert_eq!(plain.doc(99).state, PlainState::Out, "beyond the segment");
        assert_eq!(plain.sizes, [4, 5, 2, 2]);
    }
}
