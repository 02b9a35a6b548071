//! Every rule of PROTOCOL §4.2 and the real-world malformations of §4.4, each with a challenge
//! that breaks it, judged by the same `evaluate` the prober runs; the changes through 2026-11
//! (§8) in [`late_2026`].

use agora_crawler::testkit::{v1_challenge, v2_challenge};
use agora_crawler::{Finding, Verdict};
use base64::Engine as _;
use serde_json::{Value, json};

mod late_2026;
mod support;

use support::*;

#[test]
fn valid_v2_and_v1_challenges_are_listed_and_normalized() {
    let evaluation = v2(&v2_challenge(URL));
    assert_eq!(evaluation.verdict, Verdict::Listed, "{:?}", evaluation.problems);
    assert!(evaluation.warnings.is_empty(), "{:?}", evaluation.warnings);
    let listing = evaluation.listing.expect("listing");
    assert_eq!(listing.x402_version, 2);
    assert_eq!(listing.resource.url, URL);
    let offer = &listing.offers[0];
    assert_eq!(offer.network, "eip155:8453");
    assert_eq!(offer.network_v1.as_deref(), Some("base"));
    assert_eq!(offer.asset, "0x833589fcd6edb6e08f4c7c32d4f71b54bda02913");
    assert_eq!(offer.pay_to, "0x209693bc6afc0c5328ba36faf03c514ef312287c");
    assert_eq!((offer.amount.as_str(), offer.usd.as_deref(), offer.decimals), ("1000", Some("0.001"), Some(6)));
    let discovery = listing.discovery.expect("discovery");
    assert!(discovery.valid);
    assert_eq!(discovery.service_name.as_deref(), Some("Weather"));

    let evaluation = v1(&v1_challenge(URL));
    assert_eq!(evaluation.verdict, Verdict::Listed, "{:?}", evaluation.problems);
    let listing = evaluation.listing.expect("listing");
    let offer = &listing.offers[0];
    assert_eq!((offer.network.as_str(), offer.testnet, offer.usd.as_deref()), ("eip155:84532", true, Some("0.01")));
    assert!(listing.discovery.expect("v1 outputSchema").valid);
}

// §4.2 step 1: the status decides first.
#[test]
fn statuses_other_than_402_are_classified() {
    for status in [200, 201, 204, 301, 400, 401, 403, 404, 405, 410, 412] {
        let evaluation = answer(status, &[], b"{}", None);
        assert_problem(&evaluation, Verdict::NotX402, &format!("status_{status}"));
    }
    for status in [429, 500, 502, 503, 504] {
        assert_problem(&answer(status, &[], b"", None), Verdict::FetchError, &format!("status_{status}"));
    }
    let with_header = answer(200, &[("payment-required", header_value(&v2_challenge(URL)).as_bytes())], b"", None);
    assert_eq!(with_header.verdict, Verdict::NotX402);
    assert!(codes(&with_header.warnings).contains(&"challenge_wrong_status"));
}

// §4.2 step 2: parseable JSON object with a numeric version.
#[test]
fn decoding_and_version_rules() {
    assert_problem(
        &answer(402, &[("payment-required", b"%%%not base64%%%")], b"", None),
        Verdict::Invalid,
        "header_base64_invalid",
    );
    assert_problem(&answer(402, &[("payment-required", b"//79")], b"", None), Verdict::Invalid, "header_utf8_invalid");
    assert_problem(
        &answer(402, &[("payment-required", b"bm90IGpzb24=")], b"", None),
        Verdict::Invalid,
        "challenge_json_invalid",
    );
    assert_problem(
        &answer(402, &[], br#"{"x402Version":1,"accepts":[{"#, None),
        Verdict::Invalid,
        "challenge_json_invalid",
    );
    assert_problem(&v2(&json!([1, 2])), Verdict::Invalid, "challenge_not_object");
    assert_problem(&v2(&v2_with("/x402Version", None)), Verdict::Invalid, "version_missing");
    assert_problem(&v2(&v2_with("/x402Version", Some(json!("2")))), Verdict::Invalid, "version_not_number");
    assert_problem(&v1(&v1_with("/x402Version", Some(json!("1")))), Verdict::Invalid, "version_not_number");
    assert_problem(&v2(&v2_with("/x402Version", Some(json!(3)))), Verdict::Invalid, "version_unsupported");
}

// §4.2 step 3: accepts is a non-empty array of objects; auth-only routes are skipped, not invalid.
#[test]
fn accepts_rules() {
    assert_problem(&v2(&v2_with("/accepts", None)), Verdict::Invalid, "accepts_missing");
    assert_problem(&v2(&v2_with("/accepts", Some(json!({"scheme": "exact"})))), Verdict::Invalid, "accepts_not_array");
    assert_problem(&v2(&v2_with("/accepts", Some(json!([])))), Verdict::Invalid, "accepts_empty");
    assert_problem(&v2(&v2_with("/accepts/0", Some(json!("exact")))), Verdict::Invalid, "accept_not_object");
    let auth_only = with(v2_with("/accepts", Some(json!([]))), "/extensions/sign-in-with-x", Some(json!({"info": {}})));
    assert_problem(&v2(&auth_only), Verdict::NotX402, "auth_only");
}

// §4.2 step 4: required keys per version; v1 keys in v2 are rejected.
#[test]
fn required_keys() {
    for (key, code) in [
        ("scheme", "scheme_missing"),
        ("network", "network_missing"),
        ("amount", "amount_missing"),
        ("asset", "asset_missing"),
        ("payTo", "pay_to_missing"),
        ("maxTimeoutSeconds", "timeout_missing"),
    ] {
        assert_problem(&v2(&v2_with(&format!("/accepts/0/{key}"), None)), Verdict::Invalid, code);
    }
    for (key, code) in [
        ("maxAmountRequired", "amount_missing"),
        ("resource", "resource_missing"),
        ("description", "description_missing"),
    ] {
        assert_problem(&v1(&v1_with(&format!("/accepts/0/{key}"), None)), Verdict::Invalid, code);
    }
    assert_problem(&v2(&v2_with("/resource", None)), Verdict::Invalid, "resource_missing");
    assert_problem(&v2(&v2_with("/resource/url", None)), Verdict::Invalid, "resource_url_missing");
    assert_problem(&v2(&v2_with("/resource", Some(json!("https://x")))), Verdict::Invalid, "resource_not_object");
    let v1_key_in_v2 = with(v2_with("/accepts/0/amount", None), "/accepts/0/maxAmountRequired", Some(json!("1000")));
    assert_problem(&v2(&v1_key_in_v2), Verdict::Invalid, "amount_v1_key");
}

// §4.2 step 5: scheme.
#[test]
fn scheme_rules() {
    assert_problem(&v2(&v2_with("/accepts/0/scheme", Some(json!("")))), Verdict::Invalid, "scheme_invalid");
    assert_problem(&v2(&v2_with("/accepts/0/scheme", Some(json!(1)))), Verdict::Invalid, "scheme_not_string");
    let unknown = v2(&v2_with("/accepts/0/scheme", Some(json!("streaming"))));
    assert_listed_with_warning(&unknown, "scheme_unknown");
    assert_eq!(unknown.listing.expect("listing").offers[0].usd, None, "unknown schemes are not priced");
}

// §4.2 step 6: networks.
#[test]
fn network_rules() {
    assert_problem(
        &v1(&v1_with("/accepts/0/network", Some(json!("solana-mainnet-beta")))),
        Verdict::Invalid,
        "unknown_network",
    );
    assert_problem(
        &v1(&v1_with("/accepts/0/network", Some(json!("base-mainnet")))),
        Verdict::Invalid,
        "unknown_network",
    );
    assert_listed_with_warning(&v1(&v1_with("/accepts/0/network", Some(json!("eip155:84532")))), "v1_caip2_network");
    for (spelling, canonical) in [
        ("base", "eip155:8453"),
        ("base-sepolia", "eip155:84532"),
        ("8453", "eip155:8453"),
        ("solana:mainnet", "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"),
    ] {
        let evaluation = v2(&v2_with("/accepts/0/network", Some(json!(spelling))));
        assert_problem(&evaluation, Verdict::Invalid, "network_not_canonical");
        assert!(evaluation.problems[0].message.contains(canonical), "{spelling}: {}", evaluation.problems[0].message);
    }
    assert_problem(
        &v2(&v2_with("/accepts/0/network", Some(json!("Base Mainnet")))),
        Verdict::Invalid,
        "network_invalid",
    );
    let unknown = v2(&v2_with("/accepts/0/network", Some(json!("eip155:999999"))));
    assert_listed_with_warning(&unknown, "network_unknown");
    let offer = &unknown.listing.expect("listing").offers[0];
    assert_eq!((offer.usd.as_deref(), offer.decimals, offer.family.as_str()), (None, None, "evm"));
}

// §4.2 step 7: amounts are integer strings within uint256, not zero.
#[test]
fn amount_rules() {
    for bad in ["0.5", "1e6", "0x10", "-1", "+1", " 1000", "1,000", "", "$0.01"] {
        assert_problem(&v2(&v2_with("/accepts/0/amount", Some(json!(bad)))), Verdict::Invalid, "amount_not_integer");
    }
    assert_problem(&v2(&v2_with("/accepts/0/amount", Some(json!(1000)))), Verdict::Invalid, "amount_not_string");
    assert_problem(&v2(&v2_with("/accepts/0/amount", Some(json!("0")))), Verdict::Invalid, "amount_zero");
    assert_problem(
        &v2(&v2_with("/accepts/0/amount", Some(json!("9".repeat(79))))),
        Verdict::Invalid,
        "amount_too_large",
    );
    assert_problem(
        &v1(&v1_with("/accepts/0/maxAmountRequired", Some(json!("0.01")))),
        Verdict::Invalid,
        "amount_not_integer",
    );
}

// §4.2 steps 8 and 9: payTo and asset formats.
#[test]
fn address_rules() {
    for bad in ["", "0x123", "0xYourAddress", "merchant"] {
        assert_problem(&v2(&v2_with("/accepts/0/payTo", Some(json!(bad)))), Verdict::Invalid, "pay_to_invalid");
    }
    let zero = v2(&v2_with("/accepts/0/payTo", Some(json!("0x0000000000000000000000000000000000000000"))));
    assert_problem(&zero, Verdict::Invalid, "pay_to_zero");
    let bad_checksum = v2(&v2_with("/accepts/0/payTo", Some(json!("0x209693bc6afc0C5328bA36FaF03C514EF312287C"))));
    assert_problem(&bad_checksum, Verdict::Invalid, "pay_to_checksum");
    assert_problem(&v2(&v2_with("/accepts/0/asset", Some(json!("USDC")))), Verdict::Invalid, "asset_invalid");
    let upper = v2(&v2_with("/accepts/0/asset", Some(json!("0x833589FCD6EDB6E08F4C7C32D4F71B54BDA02913"))));
    assert_eq!(upper.verdict, Verdict::Listed, "all-upper-case hex has no checksum to check");
    let unknown_token = v2(&v2_with("/accepts/0/asset", Some(json!("0x1111111111111111111111111111111111111111"))));
    assert_listed_with_warning(&unknown_token, "asset_unknown");
    assert_eq!(unknown_token.listing.expect("listing").offers[0].usd, None);
    // A role constant is a valid payTo only on non-blockchain namespaces.
    let fiat = with(
        with(v2_with("/accepts/0/network", Some(json!("fiat:usd"))), "/accepts/0/payTo", Some(json!("merchant"))),
        "/accepts/0/asset",
        Some(json!("USD")),
    );
    assert_eq!(v2(&fiat).verdict, Verdict::Listed);
}

// §4.2 step 10: timeouts.
#[test]
fn timeout_rules() {
    for bad in [json!(0), json!(-5), json!(60.5), json!("60"), json!(null)] {
        assert_problem(&v2(&v2_with("/accepts/0/maxTimeoutSeconds", Some(bad))), Verdict::Invalid, "timeout_invalid");
    }
    assert_listed_with_warning(&v2(&v2_with("/accepts/0/maxTimeoutSeconds", Some(json!(100_000)))), "timeout_large");
}

// §4.2 step 11: resource URLs.
#[test]
fn resource_rules() {
    assert_problem(&v1(&v1_with("/accepts/0/resource", Some(json!("sku-123")))), Verdict::Invalid, "resource_invalid");
    assert_problem(&v2(&v2_with("/resource/url", Some(json!("/weather")))), Verdict::Invalid, "resource_invalid");
    assert_listed_with_warning(
        &v2(&v2_with("/resource/url", Some(json!("http://localhost:4021/weather")))),
        "resource_localhost",
    );
    assert_listed_with_warning(
        &v2(&v2_with("/resource/url", Some(json!("https://other.example.com/x")))),
        "resource_mismatch",
    );
    // The query string is not part of the comparison.
    let with_query = v2(&v2_with("/resource/url", Some(json!("https://api.example.com/weather?city=Paris"))));
    assert!(!codes(&with_query.warnings).contains(&"resource_mismatch"));
}

// §4.2 step 12: extra per scheme.
#[test]
fn extra_rules() {
    assert_problem(&v2(&v2_with("/accepts/0/extra", Some(json!("USDC")))), Verdict::Invalid, "extra_invalid");
    assert_eq!(v2(&v2_with("/accepts/0/extra", Some(Value::Null))).verdict, Verdict::Listed);
    assert_listed_with_warning(
        &v2(&v2_with("/accepts/0/extra", Some(json!({"name": "USDC", "version": "1"})))),
        "extra_domain_mismatch",
    );
    assert_listed_with_warning(&v2(&v2_with("/accepts/0/extra", Some(json!({})))), "extra_domain_missing");
    let solana = json!({"scheme": "exact", "network": "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp", "amount": "1000",
        "asset": "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", "payTo": "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin",
        "maxTimeoutSeconds": 60, "extra": {}});
    assert_problem(&v2(&v2_with("/accepts/0", Some(solana.clone()))), Verdict::Invalid, "fee_payer_missing");
    let paid = with(solana, "/extra/feePayer", Some(json!("BENrLoUbndxoNMUS5JXApGMtNykLjFXXixMtpDwDR9SP")));
    assert_eq!(v2(&v2_with("/accepts/0", Some(paid))).verdict, Verdict::Listed);
    let upto = v2(&v2_with("/accepts/0/scheme", Some(json!("upto"))));
    assert_listed_with_warning(&upto, "facilitator_address_missing");
    let offer = &upto.listing.expect("listing").offers[0];
    assert!(offer.usd_is_max);
    assert_eq!(offer.usd.as_deref(), Some("0.001"));
}

// §4.2 step 13: discovery metadata is flagged, never fatal.
#[test]
fn bazaar_rules() {
    let mismatch = v2(&v2_with("/extensions/bazaar/info/input/method", Some(json!("POST"))));
    assert_listed_with_warning(&mismatch, "discovery_invalid");
    assert!(!mismatch.listing.expect("listing").discovery.expect("kept").valid);
    let remote = v2(&v2_with("/extensions/bazaar/schema/$ref", Some(json!("https://evil.example/schema.json"))));
    assert_listed_with_warning(&remote, "discovery_invalid");
    assert!(remote.warnings.iter().any(|w| w.message.contains("external")));
    let local_file = v2(&v2_with("/extensions/bazaar/schema/$ref", Some(json!("file:///etc/passwd"))));
    assert_listed_with_warning(&local_file, "discovery_invalid");
    assert_listed_with_warning(&v2(&v2_with("/extensions/bazaar/schema", None)), "discovery_invalid");
    assert_listed_with_warning(
        &v2(&v2_with("/extensions/bazaar/info/input/type", Some(json!("grpc")))),
        "discovery_invalid",
    );
    // A catastrophic-backtracking pattern runs on a linear-time engine: no hang.
    let redos =
        v2_with("/extensions/bazaar/schema/properties/input/properties/method", Some(json!({"pattern": "^(a+)+$"})));
    let redos = with(redos, "/extensions/bazaar/info/input/method", Some(json!(format!("{}!", "a".repeat(50_000)))));
    assert_listed_with_warning(&v2(&redos), "discovery_invalid");
    let template = v2(&v2_with("/extensions/bazaar/routeTemplate", Some(json!("/a/../../etc"))));
    assert_listed_with_warning(&template, "route_template_invalid");
    let good_template = v2(&v2_with("/extensions/bazaar/routeTemplate", Some(json!("/weather/:city"))));
    assert_eq!(
        good_template.listing.expect("listing").discovery.expect("d").route_template.as_deref(),
        Some("/weather/:city")
    );
}

// §4.1: header decoding leniencies, precedence and the body.
#[test]
fn header_variants_and_precedence() {
    let mut challenge = v2_challenge(URL);
    // A JSON length that is not a multiple of 3 needs '=' padding in base64.
    while challenge.to_string().len().is_multiple_of(3) {
        challenge["error"] = format!("{} ", challenge["error"].as_str().unwrap_or_default()).into();
    }
    let padded = header_value(&challenge);
    assert!(padded.ends_with('='));
    let unpadded = padded.trim_end_matches('=');
    assert_listed_with_warning(
        &answer(402, &[("Payment-Required", unpadded.as_bytes())], b"", None),
        "base64_unpadded",
    );
    let url_safe = base64::engine::general_purpose::URL_SAFE.encode(json!({"pad": "??>>", "c": challenge}).to_string());
    assert!(url_safe.contains('-') || url_safe.contains('_'));
    let decoded = answer(402, &[("payment-required", url_safe.as_bytes())], b"", None);
    assert!(codes(&decoded.warnings).contains(&"base64_url_safe"), "{:?}", decoded);
    assert_listed_with_warning(
        &answer(402, &[("PAYMENT-REQUIRED", challenge.to_string().as_bytes())], b"", None),
        "header_raw_json",
    );
    // A broken header falls back to a v1 body.
    let fallback = answer(402, &[("payment-required", b"!!")], v1_challenge(URL).to_string().as_bytes(), None);
    assert_listed_with_warning(&fallback, "header_ignored");
    // A v2 object only in the body is accepted with a warning.
    assert_listed_with_warning(&v1(&challenge), "v2_in_body");
    // A header challenge does not need the body.
    let cut = Finding::new("body_too_large", "The body is larger than 256 KiB.");
    let truncated = answer(402, &[("payment-required", header_value(&challenge).as_bytes())], b"{", Some(&cut));
    assert_listed_with_warning(&truncated, "body_truncated");
    assert_problem(&answer(402, &[], b"{\"x402", Some(&cut)), Verdict::FetchError, "body_too_large");
}

// §4.4: malformations seen in public code.
#[test]
fn real_world_malformations() {
    let html = answer(402, &[("content-type", b"text/html")], b"<html><body>Pay with your wallet</body></html>", None);
    assert_problem(&html, Verdict::NotX402, "html_paywall");
    let envelope = answer(402, &[], br#"{"error":"payment required","x402":true,"price":"$0.01"}"#, None);
    assert_problem(&envelope, Verdict::NotX402, "no_challenge");
    assert_problem(&answer(402, &[], b"", None), Verdict::NotX402, "no_challenge");
    let stray = with(with(v2_challenge(URL), "/payer", Some(json!("0xabc"))), "/accepts/0/chainId", Some(json!(8453)));
    assert_eq!(v2(&stray).verdict, Verdict::Listed, "stray keys are ignored");
    let snake = v1_with(
        "/accepts/0/outputSchema",
        Some(json!({"input": {"type": "http", "method": "get", "query_params": {"q": "x"}}})),
    );
    let listing = v1(&snake).listing.expect("listing");
    let input = listing.discovery.expect("discovery").input;
    assert_eq!((input["method"].as_str(), input["queryParams"]["q"].as_str()), (Some("GET"), Some("x")));
    let pasted_schema =
        v1_with("/accepts/0/outputSchema", Some(json!({"input": {"type": "object", "properties": {}}})));
    assert_listed_with_warning(&v1(&pasted_schema), "discovery_invalid");
    assert_listed_with_warning(&v2(&v2_with("/resource/mimeType", Some(json!("json")))), "mime_type_invalid");
    assert_eq!(v1(&v1_with("/accepts/0/mimeType", Some(json!("")))).verdict, Verdict::Listed);
    assert_listed_with_warning(&v1(&v1_with("/accepts/0/mimeType", Some(json!("json")))), "mime_type_invalid");
}

#[test]
fn every_problem_is_reported_and_every_entry_normalized() {
    let broken = v2_with(
        "/accepts",
        Some(json!([
            {"scheme": "exact", "network": "base", "amount": "0.5", "asset": "USDC", "payTo": "", "maxTimeoutSeconds": 0},
            {"scheme": "exact", "network": "eip155:8453", "amount": 1, "asset": "0x833589fcd6edb6e08f4c7c32d4f71b54bda02913",
             "payTo": "0x209693bc6afc0c5328ba36faf03c514ef312287c", "maxTimeoutSeconds": 60},
        ])),
    );
    let evaluation = v2(&broken);
    assert_eq!(evaluation.verdict, Verdict::Invalid);
    let found = codes(&evaluation.problems);
    for code in ["network_not_canonical", "amount_not_integer", "timeout_invalid", "amount_not_string"] {
        assert!(found.contains(&code), "{code} missing from {found:?}");
    }
    assert!(evaluation.problems.iter().any(|p| p.path.as_deref() == Some("accepts[1].amount")));

    let many = v2_with(
        "/accepts",
        Some(json!([
            {"scheme": "exact", "network": "eip155:8453", "amount": "1000", "asset": "0x833589fcd6edb6e08f4c7c32d4f71b54bda02913",
             "payTo": "0x209693bc6afc0c5328ba36faf03c514ef312287c", "maxTimeoutSeconds": 60, "extra": {"name": "USD Coin", "version": "2"}},
            {"scheme": "exact", "network": "eip155:4326", "amount": "1230000000000000000", "asset": "0xFAfDdbb3FC7688494971a79cc65DCa3EF82079E7",
             "payTo": "0x209693bc6afc0c5328ba36faf03c514ef312287c", "maxTimeoutSeconds": 60, "extra": {"name": "MegaUSD", "version": "1"}},
            {"scheme": "exact", "network": "stellar:pubnet", "amount": "25000", "asset": "CCW67TSZV3SSS2HXMBQ5JFGCKJNXKZM7UQUWUZPUTHXSTZLEO7SJMI75",
             "payTo": "GA7QYNF7SOWQ3GLR2BGMZEHXAVIRZA4KVWLTJJFC7MGXUA74P7UJVSGZ", "maxTimeoutSeconds": 60},
            {"scheme": "upto", "network": "eip155:1440000", "amount": "250000000000000", "asset": "0xdaf4556169c4f3f2231d8ab7bc8772ddb7d4c84c",
             "payTo": "0x209693bc6afc0c5328ba36faf03c514ef312287c", "maxTimeoutSeconds": 60, "extra": {"facilitatorAddress": "0x1"}},
        ])),
    );
    let evaluation = v2(&many);
    assert_eq!(evaluation.verdict, Verdict::Listed, "{:?}", evaluation.problems);
    let offers = evaluation.listing.expect("listing").offers;
    let prices: Vec<_> =
        offers.iter().map(|o| (o.asset_symbol.as_deref(), o.decimals, o.usd.as_deref(), o.usd_is_max)).collect();
    assert_eq!(
        prices,
        [
            (Some("USDC"), Some(6), Some("0.001"), false),
            (Some("MegaUSD"), Some(18), Some("1.23"), false),
            (Some("USDC"), Some(7), Some("0.0025"), false),
            (Some("USDC"), Some(15), Some("0.25"), true),
        ]
    );
}
