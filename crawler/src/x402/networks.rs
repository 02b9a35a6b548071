//! The pinned network and stablecoin table: v1 name ↔ CAIP-2 id, address family, testnet flag,
//! and the stablecoins whose USD value Agora is willing to state.
//!
//! Source: `shared/x402/PROTOCOL.md` §2.1 (EVM) and §2.2 (Solana and other namespaces), which cite
//! coinbase/x402 (TS `EVM_NETWORK_CHAIN_ID_MAP`, `DEFAULT_STABLECOINS`, Python `V1_DEFAULT_ASSETS`,
//! legacy `usdcAddress`) and x402-rs `KNOWN_NETWORKS`. Where the sources disagree on a chain id we
//! follow TS/Go/x402scan (1328, 1514, 41923, 324705682), as the digest recommends. Decimals marked
//! "assumed" are not stated by any source and follow the USDC convention of 6.

/// The address family of a network: decides the address formats for `payTo` and `asset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// `eip155:*`: 20-byte hex addresses.
    Evm,
    /// `solana:*`: base58 32-byte keys.
    Svm,
    /// `aptos:*`: 32-byte hex addresses.
    Aptos,
    /// `algorand:*`: base32 addresses, numeric ASA ids.
    Algorand,
    /// `stellar:*`: strkey addresses and contract ids.
    Stellar,
    /// Any other namespace: structurally valid, formats unchecked beyond sanity, never priced.
    Other,
}

impl Family {
    /// The family of a CAIP-2 namespace (the part before `:`).
    pub fn of_namespace(namespace: &str) -> Family {
        match namespace {
            "eip155" => Family::Evm,
            "solana" => Family::Svm,
            "aptos" => Family::Aptos,
            "algorand" => Family::Algorand,
            "stellar" => Family::Stellar,
            _ => Family::Other,
        }
    }

    /// Lower-case name used in reports and facets.
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Evm => "evm",
            Family::Svm => "svm",
            Family::Aptos => "aptos",
            Family::Algorand => "algorand",
            Family::Stellar => "stellar",
            Family::Other => "other",
        }
    }
}

/// A stablecoin whose atomic amounts Agora converts to USD at par.
#[derive(Debug, Clone, Copy)]
pub struct Stablecoin {
    /// Token address as it appears on the wire, normalized: lower-case for EVM and Aptos,
    /// case-preserved for base58/strkey, decimal for Algorand ASA ids.
    pub address: &'static str,
    pub symbol: &'static str,
    pub decimals: u8,
    /// EIP-712 domain `name`/`version` the token signs with (EVM only), used to warn when a
    /// challenge's `extra` disagrees.
    pub eip712: Option<(&'static str, &'static str)>,
    /// How an EVM client moves it (PROTOCOL §8.1, §8.3): some tokens have no EIP-3009.
    pub transfer: Transfer,
}

/// The EVM transfer methods a stablecoin supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transfer {
    /// EIP-3009 `transferWithAuthorization` (and Permit2, like any ERC-20).
    Eip3009,
    /// Permit2 only (Mezo mUSD, Radius SBC, Igra USDC).
    Permit2Only,
}

/// One network Agora knows.
#[derive(Debug, Clone, Copy)]
pub struct Network {
    /// Canonical CAIP-2 id, e.g. `eip155:8453`.
    pub caip2: &'static str,
    /// The x402 v1 name, where v1 had one.
    pub v1_name: Option<&'static str>,
    pub testnet: bool,
    pub stablecoins: &'static [Stablecoin],
}

impl Network {
    pub fn family(&self) -> Family {
        Family::of_namespace(self.caip2.split(':').next().unwrap_or_default())
    }

    /// The known stablecoin at `address` (already normalized), if any.
    pub fn stablecoin(&self, address: &str) -> Option<&'static Stablecoin> {
        self.stablecoins.iter().find(|coin| coin.address == address)
    }
}

const fn usdc(address: &'static str, name: &'static str, version: &'static str) -> Stablecoin {
    Stablecoin { address, symbol: "USDC", decimals: 6, eip712: Some((name, version)), transfer: Transfer::Eip3009 }
}

const fn coin(address: &'static str, symbol: &'static str, decimals: u8) -> Stablecoin {
    Stablecoin { address, symbol, decimals, eip712: None, transfer: Transfer::Eip3009 }
}

/// An EVM stablecoin of the late-2026 default table (PROTOCOL §8.3), whose EIP-712 domain no
/// source states (so `extra` is not compared with one).
const fn evm_coin(address: &'static str, symbol: &'static str, decimals: u8, transfer: Transfer) -> Stablecoin {
    Stablecoin { address, symbol, decimals, eip712: None, transfer }
}

const fn evm(
    chain: &'static str,
    v1_name: Option<&'static str>,
    testnet: bool,
    stablecoins: &'static [Stablecoin],
) -> Network {
    Network { caip2: chain, v1_name, testnet, stablecoins }
}

/// Every network Agora knows. EVM token addresses are stored lower-case (the normalized form).
pub static NETWORKS: &[Network] = &[
    evm("eip155:8453", Some("base"), false, &[usdc("0x833589fcd6edb6e08f4c7c32d4f71b54bda02913", "USD Coin", "2")]),
    evm("eip155:84532", Some("base-sepolia"), true, &[usdc("0x036cbd53842c5426634e7929541ec2318f3dcf7e", "USDC", "2")]),
    evm(
        "eip155:43114",
        Some("avalanche"),
        false,
        &[usdc("0xb97ef9ef8734c71904d8002f8b6bc66dd9c48a6e", "USD Coin", "2")],
    ),
    evm(
        "eip155:43113",
        Some("avalanche-fuji"),
        true,
        &[usdc("0x5425890298aed601595a70ab815c96711a31bc65", "USD Coin", "2")],
    ),
    // Polygon's EIP-712 name differs between sources ("USD Coin" in CB, "USDC" in x402-rs);
    // we pin CB's and only warn on a mismatch, so either is accepted (PROTOCOL §2.1, §7).
    evm("eip155:137", Some("polygon"), false, &[usdc("0x3c499c542cef5e3811e1192ce70d8cc03d5c3359", "USD Coin", "2")]),
    evm("eip155:80002", Some("polygon-amoy"), true, &[usdc("0x41e94eb019c0762f9bfcf9fb1e58725bfb0e7582", "USDC", "2")]),
    evm("eip155:1329", Some("sei"), false, &[usdc("0xe15fc38f6d8c56af07bbcbe3baf5708a2bf42392", "USDC", "2")]),
    evm("eip155:1328", Some("sei-testnet"), true, &[usdc("0x4fcf1784b31630811181f670aea7a7bef803eaed", "USDC", "2")]),
    evm(
        "eip155:4689",
        Some("iotex"),
        false,
        &[usdc("0xcdf79194c6c285077a58da47641d4dbe51f63542", "Bridged USDC", "2")],
    ),
    evm("eip155:3338", Some("peaq"), false, &[usdc("0xbba60da06c2c5424f03f7434542280fcad453d10", "USDC", "2")]),
    // Decimals of the next five rows are assumed (USDC convention); no source states them.
    evm(
        "eip155:2741",
        Some("abstract"),
        false,
        &[usdc("0x84a71ccd554cc1b02749b35d22f684cc8ec987e1", "Bridged USDC", "2")],
    ),
    evm(
        "eip155:11124",
        Some("abstract-testnet"),
        true,
        &[usdc("0xe4c7fbb0a626ed208021ccaba6be1566905e2dfc", "Bridged USDC", "2")],
    ),
    evm(
        "eip155:1514",
        Some("story"),
        false,
        &[usdc("0xf1815bd50389c46847f0bda824ec8da914045d14", "Bridged USDC", "2")],
    ),
    evm(
        "eip155:41923",
        Some("educhain"),
        false,
        &[usdc("0x12a272a581fee5577a5dfa371afeb4b2f3a8c2f8", "Bridged USDC (Stargate)", "2")],
    ),
    evm(
        "eip155:324705682",
        Some("skale-base-sepolia"),
        true,
        &[usdc("0x2e08028e3c4c2356572e096d8ef835cd5c6030bd", "Bridged USDC (SKALE Bridge)", "2")],
    ),
    evm("eip155:1", Some("ethereum"), false, &[usdc("0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48", "USD Coin", "2")]),
    evm("eip155:11155111", Some("sepolia"), true, &[]),
    evm(
        "eip155:4326",
        Some("megaeth"),
        false,
        &[Stablecoin {
            address: "0xfafddbb3fc7688494971a79cc65dca3ef82079e7",
            symbol: "MegaUSD",
            decimals: 18,
            eip712: Some(("MegaUSD", "1")),
            transfer: Transfer::Eip3009,
        }],
    ),
    evm("eip155:143", Some("monad"), false, &[usdc("0x754704bc059f8c67012fed69bc8a327a5aafb603", "USD Coin", "2")]),
    evm(
        "eip155:988",
        Some("stable"),
        false,
        &[Stablecoin {
            address: "0x779ded0c9e1022225f8e0630b35a9b54be713736",
            symbol: "USDT0",
            decimals: 6,
            eip712: Some(("USDT0", "1")),
            transfer: Transfer::Eip3009,
        }],
    ),
    evm(
        "eip155:2201",
        Some("stable-testnet"),
        true,
        &[Stablecoin {
            address: "0x78cf24370174180738c5b8e352b6d14c83a6c9a9",
            symbol: "USDT0",
            decimals: 6,
            eip712: Some(("USDT0", "1")),
            transfer: Transfer::Eip3009,
        }],
    ),
    evm("eip155:42161", None, false, &[usdc("0xaf88d065e77c8cc2239327c5edb3a432268e5831", "USD Coin", "2")]),
    evm("eip155:421614", None, true, &[usdc("0x75faf114eafb1bdbe2f0316df893fd58ce46aa4d", "USD Coin", "2")]),
    evm(
        "eip155:31611",
        None,
        true,
        &[Stablecoin {
            address: "0x118917a40faf1cd7a13db0ef56c86de7973ac503",
            symbol: "mUSD",
            decimals: 18,
            eip712: Some(("Mezo USD", "1")),
            transfer: Transfer::Permit2Only,
        }],
    ),
    evm("eip155:50", Some("xdc"), false, &[usdc("0xfa2958cb79b0491cc627c1557f441ef849ca8eb1", "USDC", "2")]),
    evm(
        "eip155:1440000",
        Some("xrpl-evm"),
        false,
        &[Stablecoin {
            address: "0xdaf4556169c4f3f2231d8ab7bc8772ddb7d4c84c",
            symbol: "USDC",
            decimals: 15,
            eip712: Some(("USDC", "1")),
            transfer: Transfer::Eip3009,
        }],
    ),
    evm("eip155:42220", Some("celo"), false, &[usdc("0xceba9300f2b948710d2653dd7b07f33a8b32118c", "USDC", "2")]),
    evm(
        "eip155:11142220",
        Some("celo-sepolia"),
        true,
        &[usdc("0x01c5c0122039549ad1493b8220cabedd739bc44e", "USDC", "2")],
    ),
    evm(
        "eip155:723487",
        Some("radius"),
        false,
        &[Stablecoin {
            address: "0x33ad9e4bd16b69b5bfded37d8b5d9ff9aba014fb",
            symbol: "SBC",
            decimals: 6,
            eip712: Some(("Stable Coin", "1")),
            transfer: Transfer::Permit2Only,
        }],
    ),
    evm(
        "eip155:72344",
        Some("radius-testnet"),
        true,
        &[Stablecoin {
            address: "0x33ad9e4bd16b69b5bfded37d8b5d9ff9aba014fb",
            symbol: "SBC",
            decimals: 6,
            eip712: Some(("Stable Coin", "1")),
            transfer: Transfer::Permit2Only,
        }],
    ),
    // The late-2026 default stablecoin table (PROTOCOL §8.3, TS `defaultAssets.ts`).
    evm(
        "eip155:31612",
        None,
        false,
        // The domain the official SDK's seller emits for it (tests/peers/seller-2026-express.mjs).
        &[Stablecoin {
            address: "0xdd468a1ddc392dcdbef6db6e34e89aa338f9f186",
            symbol: "mUSD",
            decimals: 18,
            eip712: Some(("Mezo USD", "1")),
            transfer: Transfer::Permit2Only,
        }],
    ),
    evm(
        "eip155:36900",
        None,
        false,
        &[evm_coin("0x9cb8142aebbcdc60af7c97af897a67a8f3ca71c2", "USDC.e", 6, Transfer::Eip3009)],
    ),
    evm(
        "eip155:190415",
        None,
        false,
        &[evm_coin("0x401ecb1d350407f13ba348573e5630b83638e30d", "USDC", 6, Transfer::Eip3009)],
    ),
    evm(
        "eip155:181228",
        None,
        true,
        &[evm_coin("0x401ecb1d350407f13ba348573e5630b83638e30d", "USDC", 6, Transfer::Eip3009)],
    ),
    evm(
        "eip155:51",
        None,
        true,
        &[evm_coin("0xb5ab69f7bbada22b28e79c8ffaece55ef1c771d4", "USDC", 6, Transfer::Eip3009)],
    ),
    evm(
        "eip155:38833",
        None,
        false,
        &[evm_coin("0xa5b8bf902b2844da17d4506cc827f7f1681735e7", "USDC", 6, Transfer::Permit2Only)],
    ),
    Network {
        caip2: "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp",
        v1_name: Some("solana"),
        testnet: false,
        stablecoins: &[coin("EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", "USDC", 6)],
    },
    Network {
        caip2: "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1",
        v1_name: Some("solana-devnet"),
        testnet: true,
        stablecoins: &[coin("4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU", "USDC", 6)],
    },
    Network {
        caip2: "solana:4uhcVJyU9pJkvQyS88uRDiswHXSCkY3z",
        v1_name: Some("solana-testnet"),
        testnet: true,
        stablecoins: &[coin("4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU", "USDC", 6)],
    },
    Network {
        caip2: "aptos:1",
        v1_name: None,
        testnet: false,
        stablecoins: &[coin("0xbae207659db88bea0cbead6da0ed00aac12edcdda169e591cd41c94180b46f3b", "USDC", 6)],
    },
    Network {
        caip2: "aptos:2",
        v1_name: None,
        testnet: true,
        stablecoins: &[coin("0x69091fbab5f7d635ee7ac5098cf0c1efbe31d68fec0f2cd565e8d168daf52832", "USDC", 6)],
    },
    Network {
        caip2: "algorand:wGHE2Pwdvd7S12BL5FaOP20EGYesN73ktiC1qzkkit8=",
        v1_name: None,
        testnet: false,
        stablecoins: &[coin("31566704", "USDC", 6)],
    },
    Network {
        caip2: "algorand:SGO1GKSzyE7IEPItTxCByw9x8FmnrCDexi9/cOUJOiI=",
        v1_name: None,
        testnet: true,
        stablecoins: &[coin("10458941", "USDC", 6)],
    },
    Network {
        caip2: "stellar:pubnet",
        v1_name: None,
        testnet: false,
        stablecoins: &[coin("CCW67TSZV3SSS2HXMBQ5JFGCKJNXKZM7UQUWUZPUTHXSTZLEO7SJMI75", "USDC", 7)],
    },
    Network {
        caip2: "stellar:testnet",
        v1_name: None,
        testnet: true,
        stablecoins: &[coin("CBIELTK6YBZJU5UP2WWQEUCYKLPU6AUNZ2BQ4WWFEIE3USCIHMXQDAMA", "USDC", 7)],
    },
];

/// Non-canonical spellings seen in the wild (PROTOCOL §2.2, §4.4), mapped to the canonical id so
/// the problem message can tell the seller exactly what to write instead.
static ALIASES: &[(&str, &str)] = &[
    ("solana:mainnet", "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"),
    ("solana:mainnet-beta", "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"),
    ("solana-mainnet-beta", "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"),
    ("solana-mainnet", "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"),
    ("solana:devnet", "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1"),
    ("solana:testnet", "solana:4uhcVJyU9pJkvQyS88uRDiswHXSCkY3z"),
    ("base-mainnet", "eip155:8453"),
    ("eip155:0x2105", "eip155:8453"),
];

/// The network with this canonical CAIP-2 id.
pub fn by_caip2(id: &str) -> Option<&'static Network> {
    NETWORKS.iter().find(|n| n.caip2 == id)
}

/// The network with this x402 v1 name.
pub fn by_v1_name(name: &str) -> Option<&'static Network> {
    NETWORKS.iter().find(|n| n.v1_name == Some(name))
}

/// Any spelling of a known network — its CAIP-2 id, an alias, a v1 name, a bare EVM chain id —
/// as the canonical CAIP-2 id.
pub fn canonical(spelling: &str) -> Option<&'static str> {
    by_caip2(spelling).map(|n| n.caip2).or_else(|| canonical_for(spelling))
}

/// The canonical id a non-canonical spelling stands for: a known alias, a v1 name, or a bare
/// EVM chain id such as `8453`.
pub fn canonical_for(spelling: &str) -> Option<&'static str> {
    if let Some((_, canonical)) = ALIASES.iter().find(|(alias, _)| *alias == spelling) {
        return Some(canonical);
    }
    if let Some(network) = by_v1_name(spelling) {
        return Some(network.caip2);
    }
    if !spelling.is_empty() && spelling.bytes().all(|b| b.is_ascii_digit()) {
        let id = format!("eip155:{spelling}");
        return by_caip2(&id).map(|n| n.caip2);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_v1_names_are_unique() {
        for (i, a) in NETWORKS.iter().enumerate() {
            for b in &NETWORKS[i + 1..] {
                assert_ne!(a.caip2, b.caip2);
                if a.v1_name.is_some() {
                    assert_ne!(a.v1_name, b.v1_name);
                }
            }
        }
    }

    #[test]
    fn evm_addresses_are_stored_normalized() {
        for network in NETWORKS.iter().filter(|n| n.family() == Family::Evm) {
            for coin in network.stablecoins {
                assert_eq!(coin.address, coin.address.to_ascii_lowercase(), "{}", network.caip2);
                assert_eq!(coin.address.len(), 42);
            }
        }
    }

    #[test]
    fn aliases_resolve_to_known_networks() {
        for (alias, canonical) in ALIASES {
            assert!(by_caip2(canonical).is_some(), "{alias}");
        }
        assert_eq!(canonical_for("base"), Some("eip155:8453"));
        assert_eq!(canonical_for("8453"), Some("eip155:8453"));
        assert_eq!(canonical_for("99999999"), None);
    }

    #[test]
    fn non_six_decimal_tokens_are_pinned() {
        let decimals = |id: &str| by_caip2(id).expect("known").stablecoins[0].decimals;
        assert_eq!(decimals("eip155:4326"), 18);
        assert_eq!(decimals("eip155:31611"), 18);
        assert_eq!(decimals("eip155:1440000"), 15);
        assert_eq!(decimals("stellar:pubnet"), 7);
    }
}
