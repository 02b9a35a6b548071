//! Property tests: the decoder and validator never panic, whatever the bytes and headers, and
//! every verdict they return is consistent with what they report — including the late-2026
//! rules: a listing has a payable offer, an unpayable one is explained, maxima are flagged by
//! scheme, transfer methods are EVM-only, and a kept icon URL names a host.

use agora_crawler::testkit::v2_challenge;
use agora_crawler::{HttpAnswer, Verdict, evaluate};
use base64::Engine as _;
use http::{HeaderMap, HeaderValue};
use proptest::prelude::*;
use serde_json::Value;

fn judge(status: u16, header: Option<&[u8]>, body: &[u8]) -> agora_crawler::Evaluation {
    let mut headers = HeaderMap::new();
    if let Some(value) = header.and_then(|h| HeaderValue::from_bytes(h).ok()) {
        headers.insert("payment-required", value);
    }
    let url = url::Url::parse("https://seller.example/x").expect("url");
    evaluate(&HttpAnswer { status, headers: &headers, body, body_error: None, url: &url })
}

fn check_consistency(evaluation: &agora_crawler::Evaluation) {
    match evaluation.verdict {
        Verdict::Listed => {
            assert!(evaluation.problems.is_empty());
            let listing = evaluation.listing.as_ref().expect("listing");
            assert!(!listing.offers.is_empty());
            // A listed challenge has an offer SDK clients can pay; an unpayable one says why.
            assert!(listing.offers.iter().any(|o| o.payable), "listed with no payable offer");
            let explained = |code: &str| evaluation.warnings.iter().any(|w| w.code == code);
            for offer in listing.offers.iter().filter(|o| !o.payable) {
                assert!(
                    explained("payment_flow_unknown")
                        || explained("asset_transfer_method_unknown")
                        || explained("asset_transfer_method_unsupported"),
                    "{offer:?} unpayable without a warning"
                );
            }
            for offer in &listing.offers {
                let maximum = matches!(offer.scheme.as_str(), "upto" | "batch-settlement" | "auth-capture");
                assert_eq!(offer.usd_is_max, maximum, "{offer:?}");
                assert!(offer.asset_transfer_method.is_none() || offer.family == "evm", "{offer:?}");
            }
            if let Some(icon) = &listing.resource.icon_url {
                let url = url::Url::parse(icon).expect("a kept icon URL parses");
                assert!(matches!(url.host(), Some(url::Host::Domain(_))), "a kept icon names a host: {icon}");
            }
        }
        _ => {
            assert!(evaluation.listing.is_none());
            assert!(!evaluation.problems.is_empty(), "a rejection always says why");
        }
    }
}

/// Arbitrary JSON, a few levels deep, biased toward the keys challenges use.
fn json_value() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("x402Version".to_string()),
        Just("accepts".to_string()),
        Just("amount".to_string()),
        Just("network".to_string()),
        Just("payTo".to_string()),
        Just("resource".to_string()),
        Just("paymentFlow".to_string()),
        Just("assetTransferMethod".to_string()),
        Just("receiverAuthorizer".to_string()),
        Just("withdrawDelay".to_string()),
        Just("iconUrl".to_string()),
        Just("serviceName".to_string()),
        Just("tags".to_string()),
        "[a-zA-Z]{1,8}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,20}".prop_map(Value::from),
        Just(Value::from("eip155:8453")),
        Just(Value::from("0x833589fcd6edb6e08f4c7c32d4f71b54bda02913")),
        Just(Value::from("upfront")),
        Just(Value::from("escrow")),
        Just(Value::from("permit2")),
        Just(Value::from("batch-settlement")),
        Just(Value::from("card:visa")),
        Just(Value::from("https://icons.example/i.png")),
        Just(Value::from(3600)),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map(key.clone(), inner, 0..6).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(status in prop_oneof![Just(402u16), 100u16..600], header in proptest::option::of(prop::collection::vec(any::<u8>(), 0..300)), body in prop::collection::vec(any::<u8>(), 0..600)) {
        check_consistency(&judge(status, header.as_deref(), &body));
    }

    #[test]
    fn arbitrary_json_challenges_never_panic(value in json_value(), in_header in any::<bool>()) {
        let text = value.to_string();
        let evaluation = if in_header {
            let encoded = base64::engine::general_purpose::STANDARD.encode(&text);
            judge(402, Some(encoded.as_bytes()), b"")
        } else {
            judge(402, None, text.as_bytes())
        };
        check_consistency(&evaluation);
    }

    #[test]
    fn mutated_valid_challenges_never_panic(pointer_index in 0usize..20, replacement in json_value()) {
        let mut challenge = v2_challenge("https://seller.example/x");
        let pointers = ["/x402Version", "/accepts", "/accepts/0", "/accepts/0/amount", "/accepts/0/network", "/accepts/0/payTo",
            "/accepts/0/asset", "/accepts/0/extra", "/resource", "/extensions", "/extensions/bazaar/schema", "/extensions/bazaar/info",
            "/accepts/0/scheme", "/accepts/0/extra/paymentFlow", "/accepts/0/extra/assetTransferMethod",
            "/accepts/0/extra/receiverAuthorizer", "/accepts/0/extra/withdrawDelay", "/resource/iconUrl",
            "/resource/serviceName", "/resource/tags"];
        let (parent, key) = pointers[pointer_index].rsplit_once('/').expect("a pointer");
        match challenge.pointer_mut(parent) {
            Some(Value::Object(object)) => {
                object.insert(key.to_string(), replacement);
            }
            Some(Value::Array(items)) => {
                if let Some(slot) = key.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                    *slot = replacement;
                }
            }
            _ => {}
        }
        let encoded = base64::engine::general_purpose::STANDARD.encode(challenge.to_string());
        check_consistency(&judge(402, Some(encoded.as_bytes()), b"{}"));
    }
}
