//! The rules of x402 as it stands in late 2026 (PROTOCOL §8), one vector each, written from the
//! spec text: payment flows and transfer methods, price semantics per scheme, the
//! batch-settlement extras, card networks, the new stablecoins, the seller's resource metadata,
//! neighbouring 402 protocols and the known `"2"` version bug. Each asserts the verdict and every
//! problem and warning code.

use super::support::*;
use agora_crawler::testkit::v2_challenge;
use agora_crawler::{Evaluation, Verdict};
use serde_json::{Value, json};

const SOLANA: &str = "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp";
const SOLANA_USDC: &str = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v";
const AUTHORIZER: &str = "0x1111111111111111111111111111111111111111";

/// The valid v2 challenge with its one offer replaced by `offers`.
fn offering(offers: Value) -> Value {
    with(v2_challenge(URL), "/accepts", Some(offers))
}

/// The valid challenge's offer with `changes` merged in (`null` removes a key).
fn offer(changes: Value) -> Value {
    let mut entry = v2_challenge(URL)["accepts"][0].clone();
    for (key, value) in changes.as_object().expect("object") {
        if value.is_null() {
            entry.as_object_mut().expect("object").remove(key);
        } else {
            entry[key] = value.clone();
        }
    }
    entry
}

#[track_caller]
fn assert_codes(evaluation: &Evaluation, verdict: Verdict, problems: &[&str], warnings: &[&str]) {
    assert_eq!(evaluation.verdict, verdict, "problems {:?}, warnings {:?}", evaluation.problems, evaluation.warnings);
    assert_eq!(codes(&evaluation.problems), problems, "problems");
    assert_eq!(codes(&evaluation.warnings), warnings, "warnings");
}

#[test]
fn payment_flows_are_reported_and_unknown_ones_make_an_offer_unpayable() {
    let upfront =
        v2(&offering(json!([offer(json!({"extra": {"name": "USD Coin", "version": "2", "paymentFlow": "upfront"}}))])));
    assert_codes(&upfront, Verdict::Listed, &[], &[]);
    let listed = upfront.listing.expect("listing");
    let only = &listed.offers[0];
    assert_eq!(
        (only.payment_flow.as_str(), only.asset_transfer_method.as_deref(), only.payable),
        ("upfront", Some("eip3009"), true)
    );

    // One unknown flow beside a payable offer: still listed, that offer marked.
    let mixed = v2(&offering(json!([
        offer(json!({"extra": {"name": "USD Coin", "version": "2", "paymentFlow": "layaway"}})),
        offer(
            json!({"network": "eip155:137", "asset": "0x3c499c542cEF5E3811e1192ce70d8cC03d5c3359", "extra": {"name": "USD Coin", "version": "2"}})
        ),
    ])));
    assert_codes(&mixed, Verdict::Listed, &[], &["payment_flow_unknown"]);
    let offers = mixed.listing.expect("listing").offers;
    assert_eq!((offers[0].payable, offers[0].payment_flow.as_str(), offers[1].payable), (false, "layaway", true));

    // Every offer unpayable: not listed.
    let none = v2(&offering(json!([offer(json!({"extra": {"paymentFlow": "layaway"}}))])));
    assert_codes(&none, Verdict::Invalid, &["no_payable_offer"], &["extra_domain_missing", "payment_flow_unknown"]);
}

#[test]
fn the_amount_is_a_maximum_for_upto_batch_settlement_and_auth_capture() {
    let upto = v2(&offering(json!([offer(json!({"scheme": "upto", "extra": {"facilitatorAddress": AUTHORIZER}}))])));
    assert_codes(&upto, Verdict::Listed, &[], &[]);
    let o = &upto.listing.expect("listing").offers[0];
    assert_eq!(
        (o.usd_is_max, o.asset_transfer_method.as_deref(), o.usd.as_deref()),
        (true, Some("permit2"), Some("0.001"))
    );
    // EVM `upto` without its facilitator: a warning; Solana `upto` has none to give.
    let bare = v2(&offering(json!([offer(json!({"scheme": "upto", "extra": {}}))])));
    assert_codes(&bare, Verdict::Listed, &[], &["facilitator_address_missing"]);
    let solana = v2(&offering(json!([offer(json!({
        "scheme": "upto", "network": SOLANA, "asset": SOLANA_USDC, "payTo": SOLANA_USDC,
        "extra": {"paymentFlow": "escrow", "feePayer": SOLANA_USDC, "receiverAuthorizer": SOLANA_USDC, "withdrawDelay": 86400},
    }))])));
    assert_codes(&solana, Verdict::Listed, &[], &[]);
    let o = &solana.listing.expect("listing").offers[0];
    assert_eq!((o.usd_is_max, o.payment_flow.as_str(), o.asset_transfer_method.as_deref()), (true, "escrow", None));

    let capture = v2(&offering(json!([offer(json!({"scheme": "auth-capture", "extra": {}}))])));
    assert_codes(&capture, Verdict::Listed, &[], &[]);
    let o = &capture.listing.expect("listing").offers[0];
    assert_eq!((o.usd_is_max, o.payment_flow.as_str()), (true, "escrow"));

    let deferred = v2(&offering(json!([offer(json!({"scheme": "deferred"}))])));
    assert_codes(&deferred, Verdict::Listed, &[], &["scheme_unknown"]);
    assert_eq!(deferred.listing.expect("listing").offers[0].usd, None, "an unknown scheme is not priced");
}

#[test]
fn batch_settlement_needs_its_receiver_authorizer_and_withdraw_delay() {
    let batch = |extra: Value| v2(&offering(json!([offer(json!({"scheme": "batch-settlement", "extra": extra}))])));
    let valid = batch(json!({"receiverAuthorizer": AUTHORIZER, "withdrawDelay": 3600}));
    assert_codes(&valid, Verdict::Listed, &[], &[]);
    let o = &valid.listing.expect("listing").offers[0];
    assert_eq!((o.usd_is_max, o.usd.as_deref()), (true, Some("0.001")));
    assert_codes(&batch(json!({"withdrawDelay": 3600})), Verdict::Invalid, &["receiver_authorizer_missing"], &[]);
    assert_codes(
        &batch(json!({"receiverAuthorizer": SOLANA_USDC, "withdrawDelay": 3600})),
        Verdict::Invalid,
        &["receiver_authorizer_invalid"],
        &[],
    );
    for delay in [json!(899), json!(2_592_001), json!("3600"), json!(3600.5)] {
        let evaluation = batch(json!({"receiverAuthorizer": AUTHORIZER, "withdrawDelay": delay}));
        assert_codes(&evaluation, Verdict::Invalid, &["withdraw_delay_invalid"], &[]);
    }
    assert_codes(&batch(json!({"receiverAuthorizer": AUTHORIZER})), Verdict::Invalid, &["withdraw_delay_invalid"], &[]);
}

#[test]
fn card_networks_name_a_currency_and_an_opaque_account() {
    let card = |asset: &str, extra: Value| {
        v2(&offering(json!([offer(json!({
            "scheme": "auth-capture", "network": "card:visa", "asset": asset, "payTo": "acct_1NxK2a", "amount": "50", "extra": extra,
        }))])))
    };
    let stated = card("USD", json!({"psp": "stripe", "decimals": 2}));
    assert_codes(&stated, Verdict::Listed, &[], &[]);
    let o = &stated.listing.expect("listing").offers[0];
    assert_eq!(
        (o.usd.as_deref(), o.asset_symbol.as_deref(), o.pay_to.as_str(), o.family.as_str()),
        (Some("0.5"), Some("USD"), "acct_1NxK2a", "other")
    );
    assert_eq!(o.asset_transfer_method, None);
    let unstated = card("USD", json!({"psp": "stripe"}));
    assert_codes(&unstated, Verdict::Listed, &[], &["fiat_unpriced"]);
    assert_eq!(unstated.listing.expect("listing").offers[0].usd, None);
    assert_codes(&card("usd", json!({})), Verdict::Invalid, &["asset_invalid"], &[]);
}

#[test]
fn the_late_2026_stablecoins_are_priced_exactly() {
    let mezo = v2(&offering(json!([offer(json!({
        "network": "eip155:31612", "asset": "0xdD468A1DDc392dcdbEf6db6e34E89AA338F9F186", "amount": "10000000000000000",
        "extra": {"name": "Mezo USD", "version": "1"},
    }))])));
    assert_codes(&mezo, Verdict::Listed, &[], &[]);
    let o = &mezo.listing.expect("listing").offers[0];
    assert_eq!(
        (o.usd.as_deref(), o.decimals, o.asset_symbol.as_deref(), o.asset_transfer_method.as_deref()),
        (Some("0.01"), Some(18), Some("mUSD"), Some("permit2"))
    );
    for (network, asset, symbol) in [
        ("eip155:36900", "0x9cb8142aEBBcdc60AF7c97Af897A67A8f3CA71C2", "USDC.e"),
        ("eip155:190415", "0x401eCb1D350407f13ba348573E5630B83638E30D", "USDC"),
        ("eip155:181228", "0x401eCb1D350407f13ba348573E5630B83638E30D", "USDC"),
        ("eip155:51", "0xb5AB69F7bBada22B28e79C8FFAECe55eF1c771D4", "USDC"),
        ("eip155:38833", "0xA5b8BF902b2844dA17d4506cc827F7F1681735E7", "USDC"),
    ] {
        let evaluation = v2(&offering(json!([offer(json!({"network": network, "asset": asset, "extra": {}}))])));
        assert_codes(&evaluation, Verdict::Listed, &[], &[]);
        let o = &evaluation.listing.expect("listing").offers[0];
        assert_eq!((o.usd.as_deref(), o.asset_symbol.as_deref()), (Some("0.001"), Some(symbol)), "{network}");
    }
    // Igra's USDC moves through Permit2 only: an offer insisting on EIP-3009 cannot be paid.
    let igra = v2(&offering(json!([offer(json!({
        "network": "eip155:38833", "asset": "0xA5b8BF902b2844dA17d4506cc827F7F1681735E7", "extra": {"assetTransferMethod": "eip3009"},
    }))])));
    assert_codes(&igra, Verdict::Invalid, &["no_payable_offer"], &["asset_transfer_method_unsupported"]);
}

#[test]
fn the_sellers_resource_metadata_is_kept_or_dropped_softly() {
    let mut challenge = v2_challenge(URL);
    challenge["resource"]["serviceName"] = json!("Weather Now");
    challenge["resource"]["tags"] = json!(["weather", "WEATHER", "forecast"]);
    challenge["resource"]["iconUrl"] = json!("http://10.0.0.1/icon.png");
    challenge["extensions"] = json!({});
    let evaluation = v2(&challenge);
    assert_codes(&evaluation, Verdict::Listed, &[], &["tag_dropped", "icon_url_dropped"]);
    let listing = evaluation.listing.expect("listing");
    let discovery = listing.discovery.expect("the seller's metadata, with no bazaar extension");
    assert_eq!(discovery.service_name.as_deref(), Some("Weather Now"));
    assert_eq!(discovery.tags, ["weather", "forecast"]);
    assert_eq!(listing.resource.icon_url, None);

    challenge["resource"]["iconUrl"] = json!("https://cdn.weather.example/icon.png");
    let listing = v2(&challenge).listing.expect("listing");
    assert_eq!(listing.resource.icon_url.as_deref(), Some("https://cdn.weather.example/icon.png"));
}

#[test]
fn neighbouring_402_protocols_are_named_not_called_malformed() {
    let mpp = br#"Payment id="qB3wErTy", realm="api.example.com", method="tempo", intent="charge", request="eyJhbW91bnQiOiIxMDAwIn0""#;
    let evaluation = answer(402, &[("www-authenticate", mpp)], b"", None);
    assert_codes(&evaluation, Verdict::NotX402, &["mpp_challenge"], &[]);
    assert!(evaluation.problems[0].message.contains("Machine Payments Protocol"));
    let l402 = br#"L402 macaroon="AGIAJEemVQUTEyNCR0exk7ek90Cg==", invoice="lnbc1500n1pj""#;
    assert_codes(&answer(402, &[("www-authenticate", l402)], b"", None), Verdict::NotX402, &["l402_challenge"], &[]);
    // With an x402 challenge too, the x402 one is judged.
    let both = answer(
        402,
        &[("www-authenticate", l402), ("payment-required", header_value(&v2_challenge(URL)).as_bytes())],
        b"",
        None,
    );
    assert_codes(&both, Verdict::Listed, &[], &[]);
}

#[test]
fn the_string_version_of_the_sign_in_spec_example_is_named() {
    let evaluation = v2(&v2_with("/x402Version", Some(json!("2"))));
    assert_problem(&evaluation, Verdict::Invalid, "version_not_number");
    assert!(evaluation.problems[0].message.contains("sign-in-with-x"), "{}", evaluation.problems[0].message);
}
