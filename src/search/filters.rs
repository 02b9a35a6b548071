//! Offer-level filters, resolved against what Agora knows (its network and asset tables, the
//! schemes it prices) and what the index holds (values seen in offers). A value neither knows is
//! an error; a known value no offer uses simply matches nothing.

use super::facts::{NONE, OfferFacts, Vocab};
use super::request::{SearchRequest, TestnetMode};
use crate::params::ParamError;
use agora_crawler::x402::accepts::KNOWN_SCHEMES;
use agora_crawler::x402::networks::{self, NETWORKS};

/// Price buckets for the price facet, in micro-dollars: (exclusive lower, inclusive upper).
pub const PRICE_BUCKETS: [(Option<i64>, Option<i64>); 5] = [
    (None, Some(1_000)),
    (Some(1_000), Some(10_000)),
    (Some(10_000), Some(100_000)),
    (Some(100_000), Some(1_000_000)),
    (Some(1_000_000), None),
];

/// The bucket of a price.
pub fn price_bucket(usd_micros: i64) -> usize {
    PRICE_BUCKETS.iter().position(|(_, upper)| upper.is_none_or(|u| usd_micros <= u)).unwrap_or(PRICE_BUCKETS.len() - 1)
}

/// The offer filters of one search, as interned codes.
#[derive(Debug, Clone, Default)]
pub struct OfferFilter {
    /// Network, asset and scheme codes as lookup tables (`check` runs for every offer of every
    /// match). `None`: any value; `Some`: one of these (possibly none in the index).
    tables: [Option<CodeTable>; 3],
    pub min_usd: Option<i64>,
    pub max_usd: Option<i64>,
    pub testnet: TestnetMode,
    /// No filter on offers but the testnet one: `check`'s fast path.
    testnet_only: bool,
}

/// A set of interned codes as a table indexed by code (codes are small and dense).
#[derive(Debug, Clone, Default)]
struct CodeTable(Vec<bool>);

impl CodeTable {
    fn of(codes: &[u32]) -> CodeTable {
        let mut table = vec![false; codes.iter().map(|c| *c as usize + 1).max().unwrap_or(0)];
        for code in codes {
            table[*code as usize] = true;
        }
        CodeTable(table)
    }

    fn contains(&self, code: u32) -> bool {
        self.0.get(code as usize).copied().unwrap_or(false)
    }

    #[cfg(test)]
    fn codes(&self) -> Vec<u32> {
        self.0.iter().enumerate().filter(|(_, on)| **on).map(|(code, _)| code as u32).collect()
    }
}

/// Which of the filters one offer passes, one bit each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Passes(u8);

impl Passes {
    pub const NETWORK: u8 = 1;
    pub const ASSET: u8 = 2;
    pub const SCHEME: u8 = 4;
    pub const TESTNET: u8 = 8;
    pub const PRICE: u8 = 16;
    const ALL: u8 = 31;

    pub fn all(self) -> bool {
        self.0 == Self::ALL
    }

    /// Passes every filter, except perhaps the ones in `ignored`.
    pub fn all_but(self, ignored: u8) -> bool {
        self.0 | ignored == Self::ALL
    }
}

impl OfferFilter {
    pub fn resolve(request: &SearchRequest, vocab: &Vocab) -> Result<OfferFilter, ParamError> {
        let networks = resolve_all(&request.networks, |v| network_codes(v, vocab), "network", "network")?;
        let assets = resolve_all(&request.assets, |v| asset_codes(v, vocab), "asset", "asset")?;
        let schemes = resolve_all(&request.schemes, |v| scheme_codes(v, vocab), "scheme", "scheme")?;
        let tables = [networks, assets, schemes].map(|codes| codes.as_deref().map(CodeTable::of));
        let testnet_only =
            tables.iter().all(Option::is_none) && request.min_usd_micros.is_none() && request.max_usd_micros.is_none();
        Ok(OfferFilter {
            tables,
            min_usd: request.min_usd_micros,
            max_usd: request.max_usd_micros,
            testnet: request.testnet,
            testnet_only,
        })
    }

    /// No offer filter but the default one (testnet offers left out): a plain search, see
    /// `search::plain`.
    pub fn is_plain(&self) -> bool {
        self.testnet_only && self.testnet == TestnetMode::Exclude
    }

    /// The codes one dimension (0 network, 1 asset, 2 scheme) accepts, for tests.
    #[cfg(test)]
    fn codes(&self, dimension: usize) -> Option<Vec<u32>> {
        self.tables[dimension].as_ref().map(CodeTable::codes)
    }

    #[inline]
    pub fn check(&self, offer: &OfferFacts) -> Passes {
        let testnet = match self.testnet {
            TestnetMode::Exclude => !offer.testnet,
            TestnetMode::Include => true,
            TestnetMode::Only => offer.testnet,
        };
        let testnet = u8::from(testnet) * Passes::TESTNET;
        // The common case (no offer filter but the default testnet one) in one step.
        if self.testnet_only {
            return Passes(Passes::ALL & !Passes::TESTNET | testnet);
        }
        let [networks, assets, schemes] = &self.tables;
        let bit = |pass: bool, bit: u8| u8::from(pass) * bit;
        Passes(
            bit(networks.as_ref().is_none_or(|t| t.contains(offer.network)), Passes::NETWORK)
                | bit(
                    assets.as_ref().is_none_or(|t| {
                        t.contains(offer.address) || (offer.symbol != NONE && t.contains(offer.symbol))
                    }),
                    Passes::ASSET,
                )
                | bit(schemes.as_ref().is_none_or(|t| t.contains(offer.scheme)), Passes::SCHEME)
                | testnet
                | bit(self.price_ok(offer), Passes::PRICE),
        )
    }

    /// An offer without a USD price never matches a price filter.
    #[inline]
    fn price_ok(&self, offer: &OfferFacts) -> bool {
        if self.min_usd.is_none() && self.max_usd.is_none() {
            return true;
        }
        offer.usd().is_some_and(|usd| self.min_usd.is_none_or(|m| usd >= m) && self.max_usd.is_none_or(|m| usd <= m))
    }
}

/// Codes for every value of one parameter; an unknown value is an error.
fn resolve_all(
    values: &[String],
    codes_of: impl Fn(&str) -> Option<Vec<u32>>,
    param: &str,
    what: &str,
) -> Result<Option<Vec<u32>>, ParamError> {
    if values.is_empty() {
        return Ok(None);
    }
    let mut all = Vec::new();
    for value in values {
        let codes = codes_of(value).ok_or_else(|| ParamError::unmatched(param, format!("unknown {what} {value:?}")))?;
        all.extend(codes);
    }
    Ok(Some(all))
}

/// A CAIP-2 id, v1 name or known alias → the canonical id's code. Unknown to the table but seen
/// in the index (a network Agora lists without pricing) is accepted as spelled.
fn network_codes(value: &str, vocab: &Vocab) -> Option<Vec<u32>> {
    match networks::canonical(value) {
        Some(id) => Some(vocab.networks.code(id).into_iter().collect()),
        None => vocab.networks.code(value).map(|code| vec![code]),
    }
}

/// A symbol (any case) or an address (EVM: any case) → the codes of the offers it names.
fn asset_codes(value: &str, vocab: &Vocab) -> Option<Vec<u32>> {
    let spellings = [value.to_string(), value.to_ascii_uppercase(), value.to_ascii_lowercase()];
    let known = NETWORKS
        .iter()
        .flat_map(|n| n.stablecoins)
        .any(|coin| spellings.iter().any(|s| coin.symbol == s || coin.address == s));
    let mut codes: Vec<u32> = spellings.iter().filter_map(|s| vocab.assets.code(s)).collect();
    codes.dedup();
    (known || !codes.is_empty()).then_some(codes)
}

fn scheme_codes(value: &str, vocab: &Vocab) -> Option<Vec<u32>> {
    let code = vocab.schemes.code(value);
    (KNOWN_SCHEMES.contains(&value) || code.is_some()).then(|| code.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets() {
        assert_eq!(price_bucket(0), 0);
        assert_eq!(price_bucket(1_000), 0);
        assert_eq!(price_bucket(1_001), 1);
        assert_eq!(price_bucket(10_000), 1);
        assert_eq!(price_bucket(1_000_000), 3);
        assert_eq!(price_bucket(1_000_001), 4);
        assert_eq!(price_bucket(i64::MAX), 4);
    }

    #[test]
    fn values_known_to_the_tables_or_the_index() {
        let mut vocab = Vocab::default();
        let base = vocab.networks.intern("eip155:8453");
        let odd = vocab.networks.intern("eip155:999999");
        let usdc = vocab.assets.intern("USDC");
        let exact = vocab.schemes.intern("exact");
        let request = |networks: &[&str], assets: &[&str], schemes: &[&str]| SearchRequest {
            networks: networks.iter().map(|s| s.to_string()).collect(),
            assets: assets.iter().map(|s| s.to_string()).collect(),
            schemes: schemes.iter().map(|s| s.to_string()).collect(),
            ..SearchRequest::new("")
        };
        let filter =
            OfferFilter::resolve(&request(&["base", "eip155:999999"], &["usdc"], &["exact"]), &vocab).expect("known");
        assert_eq!(filter.codes(0), Some(vec![base, odd]));
        assert_eq!(filter.codes(1), Some(vec![usdc]));
        assert_eq!(filter.codes(2), Some(vec![exact]));
        // Known to the table, absent from the index: valid, matches nothing.
        let filter = OfferFilter::resolve(&request(&["polygon"], &[], &["upto"]), &vocab).expect("known");
        assert_eq!(filter.codes(0), Some(vec![]));
        assert_eq!(filter.codes(2), Some(vec![]));
        for (networks, assets, schemes, param) in [
            (&["ethereum-classic"][..], &[][..], &[][..], "network"),
            (&[], &["DOGE"], &[], "asset"),
            (&[], &[], &["stream"], "scheme"),
        ] {
            let error = OfferFilter::resolve(&request(networks, assets, schemes), &vocab).expect_err("unknown");
            assert_eq!(error.param, param);
        }
    }
}
