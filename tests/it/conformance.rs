//! Conformance: real sellers built with the official x402 SDKs, probed by Agora's prober.

use crate::peers::Peer;
use agora_crawler::{AddressPolicy, Offer, ProbeConfig, ProbeReport, Prober, Verdict};

fn prober() -> Prober {
    let policy = AddressPolicy::new(AddressPolicy::parse_allowlist("127.0.0.0/8").expect("cidr"));
    Prober::new(ProbeConfig { policy, ..ProbeConfig::default() }).expect("prober")
}

#[track_caller]
fn listed(report: &ProbeReport) -> &agora_crawler::Listing {
    assert_eq!(report.verdict, Verdict::Listed, "problems: {:?}", report.problems);
    report.listing.as_ref().expect("listing")
}

fn summary(offer: &Offer) -> (&str, &str, Option<&str>, Option<&str>, &str) {
    (
        offer.scheme.as_str(),
        offer.network.as_str(),
        offer.asset_symbol.as_deref(),
        offer.usd.as_deref(),
        offer.amount.as_str(),
    )
}

#[tokio::test]
async fn npm_x402_express_v2_sellers_are_listed_with_every_offer() {
    let peer = Peer::node("seller-v2-express.mjs");
    let prober = prober();

    let report = prober.probe_str(&peer.url("/weather"), None).await;
    let listing = listed(&report);
    assert_eq!(listing.x402_version, 2);
    let offers: Vec<_> = listing.offers.iter().map(summary).collect();
    assert_eq!(
        offers,
        [
            ("exact", "eip155:8453", Some("USDC"), Some("0.001"), "1000"),
            ("exact", "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp", Some("USDC"), Some("0.001"), "1000"),
        ]
    );
    assert_eq!(listing.offers[1].family, "svm");
    assert_eq!(listing.offers[0].pay_to, "0x209693bc6afc0c5328ba36faf03c514ef312287c");
    let discovery = listing.discovery.as_ref().expect("bazaar extension");
    assert!(discovery.valid, "the SDK's own schema validates its info: {:?}", report.warnings);
    assert_eq!(discovery.service_name.as_deref(), Some("Weather Now"));
    assert_eq!(discovery.tags, ["weather", "forecast"]);
    assert_eq!(discovery.input["queryParams"]["city"], "Paris");
    assert_eq!(listing.resource.description, "Current weather for a city");
    assert!(report.challenge.is_some());

    let post = prober.probe_str(&peer.url("/summarize"), Some("POST")).await;
    let listing = listed(&post);
    assert_eq!(
        listing.offers.iter().map(summary).collect::<Vec<_>>(),
        [("exact", "eip155:84532", Some("USDC"), Some("0.05"), "50000")]
    );
    assert!(listing.offers[0].testnet);
    assert_eq!(listing.discovery.as_ref().expect("bazaar").input["bodyType"], "json");

    // The same route probed with the wrong method is not a paid endpoint.
    let wrong_method = prober.probe_str(&peer.url("/summarize"), Some("GET")).await;
    assert_eq!(wrong_method.verdict, Verdict::NotX402);

    let premium = prober.probe_str(&peer.url("/premium"), None).await;
    let networks: Vec<_> = listed(&premium).offers.iter().map(|o| (o.network.as_str(), o.usd.as_deref())).collect();
    assert_eq!(networks, [("eip155:8453", Some("0.25")), ("eip155:137", Some("0.25")), ("eip155:84532", Some("0.25"))]);

    let free = prober.probe_str(&peer.url("/free"), None).await;
    assert_eq!((free.verdict, free.problems[0].code.as_str()), (Verdict::NotX402, "status_200"));
}

#[tokio::test]
async fn npm_x402_express_v1_sellers_are_listed_from_the_body() {
    let peer = Peer::node("seller-v1-express.mjs");
    let prober = prober();

    let report = prober.probe_str(&peer.url("/joke"), None).await;
    let listing = listed(&report);
    assert_eq!(listing.x402_version, 1);
    assert_eq!(
        listing.offers.iter().map(summary).collect::<Vec<_>>(),
        [("exact", "eip155:84532", Some("USDC"), Some("0.01"), "10000")]
    );
    assert_eq!(listing.offers[0].network_v1.as_deref(), Some("base-sepolia"));
    assert_eq!(listing.resource.description, "A random joke");

    let post = prober.probe_str(&peer.url("/translate"), Some("POST")).await;
    let listing = listed(&post);
    assert_eq!(listing.offers[0].usd.as_deref(), Some("0.05"));
    let discovery = listing.discovery.as_ref().expect("v1 outputSchema");
    assert_eq!(
        (discovery.input["method"].as_str(), discovery.input["bodyType"].as_str()),
        (Some("POST"), Some("json"))
    );

    // The legacy SDK takes one global payTo; offering an EVM address on Solana is unpayable, and
    // Agora says so precisely.
    let solana = prober.probe_str(&peer.url("/solana-fact"), None).await;
    assert_eq!(solana.verdict, Verdict::Invalid);
    assert_eq!(
        (solana.problems[0].code.as_str(), solana.problems[0].path.as_deref()),
        ("pay_to_invalid", Some("accepts[0].payTo"))
    );
}

#[tokio::test]
async fn pypi_x402_flask_sellers_are_listed() {
    let peer = Peer::python("seller_v2_flask.py");
    let prober = prober();

    let report = prober.probe_str(&peer.url("/quote"), None).await;
    let listing = listed(&report);
    assert_eq!(listing.x402_version, 2);
    let offers: Vec<_> = listing.offers.iter().map(summary).collect();
    assert_eq!(
        offers,
        [
            ("exact", "eip155:8453", Some("USDC"), Some("0.003"), "3000"),
            ("exact", "eip155:84532", Some("USDC"), Some("0.003"), "3000")
        ]
    );
    assert_eq!(listing.discovery.as_ref().and_then(|d| d.service_name.as_deref()), Some("Quotes"));

    let post = prober.probe_str(&peer.url("/classify"), Some("POST")).await;
    assert_eq!(listed(&post).offers[0].usd.as_deref(), Some("0.02"));
}

/// The late-2026 schemes and flows as the official SDK (npm `@x402/express`/`@x402/evm` 2.27)
/// emits them: a maximum for `upto` and `batch-settlement`, the batch-settlement extras, an
/// upfront flow, Mezo's 18-decimal Permit2-only mUSD, and Solana `upto` in escrow (npm `@x402/svm`,
/// no facilitatorAddress) — all listed without a warning, each priced and typed.
#[tokio::test]
async fn npm_sellers_of_the_late_2026_schemes_and_flows_are_listed_with_their_terms() {
    let peer = Peer::node("seller-2026-express.mjs");
    let prober = prober();
    let terms = |offer: &Offer| {
        (
            offer.scheme.clone(),
            offer.usd.clone(),
            offer.usd_is_max,
            offer.payment_flow.clone(),
            offer.asset_transfer_method.clone(),
            offer.payable,
        )
    };
    let s = |text: &str| text.to_string();
    for (path, expected) in [
        ("/metered", (s("upto"), Some(s("0.01")), true, s("authorization"), Some(s("permit2")), true)),
        ("/batched", (s("batch-settlement"), Some(s("0.002")), true, s("authorization"), Some(s("eip3009")), true)),
        ("/upfront", (s("exact"), Some(s("0.003")), false, s("upfront"), Some(s("eip3009")), true)),
        ("/mezo", (s("exact"), Some(s("0.01")), false, s("authorization"), Some(s("permit2")), true)),
        ("/solana-metered", (s("upto"), Some(s("0.01")), true, s("escrow"), None, true)),
    ] {
        let report = prober.probe_str(&peer.url(path), None).await;
        let listing = listed(&report);
        assert!(report.warnings.is_empty(), "{path}: {:?}", report.warnings);
        assert_eq!(terms(&listing.offers[0]), expected, "{path}");
    }
    let mezo = prober.probe_str(&peer.url("/mezo"), None).await;
    let offer = &listed(&mezo).offers[0];
    assert_eq!((offer.decimals, offer.asset_symbol.as_deref()), (Some(18), Some("mUSD")));
}
