//! Bounded by construction (docs/LIMITS.md): whatever a seller sends, a probe examines a bounded
//! part of it and its report has a bounded size. Each test serves the hostile answer from a real
//! seller on loopback through the real prober and asserts the bound itself — problems kept, bytes
//! of the report — not only that nothing crashed.

use agora_crawler::testkit::{Reply, Seller, empty_entries_body, v1_challenge, v2_challenge, widest_valid_challenge};
use agora_crawler::x402::findings::MAX_FINDINGS_KEPT;
use agora_crawler::x402::limits::{
    MAX_ACCEPTS, MAX_DESCRIPTION_CHARS, MAX_DISCOVERY_BYTES, MAX_EXTRA_BYTES, MAX_REPORT_BYTES,
    MAX_STORED_CHALLENGE_BYTES,
};
use agora_crawler::{AddressPolicy, ProbeConfig, ProbeReport, Prober, StaticResolver, Verdict};
use base64::Engine as _;
use serde_json::{Value, json};
use std::sync::Arc;

fn prober() -> Prober {
    let policy = AddressPolicy::new(AddressPolicy::parse_allowlist("127.0.0.0/8").expect("cidr"));
    Prober::new(ProbeConfig { policy, resolver: Arc::new(StaticResolver::new()), ..ProbeConfig::default() })
        .expect("prober")
}

async fn probe(reply: Reply) -> (ProbeReport, usize) {
    let seller = Seller::always(reply).await.expect("seller");
    let report = prober().probe_str(&seller.url("/paid"), None).await;
    let size = serde_json::to_vec(&report).expect("serializes").len();
    (report, size)
}

fn json_body(body: Vec<u8>) -> Reply {
    Reply::new(402).header("content-type", "application/json").body(body)
}

fn codes(report: &ProbeReport) -> Vec<&str> {
    report.problems.iter().map(|p| p.code.as_str()).collect()
}

#[tokio::test]
async fn an_accepts_array_longer_than_any_seller_sends_is_one_problem() {
    // The attack of the issue: 87,000 empty entries in a 261 KB v1 body gave 696,000 problems.
    let body = empty_entries_body(87_000);
    assert!(body.len() < 256 * 1024, "inside the body cap: {} bytes", body.len());
    let (report, size) = probe(json_body(body)).await;
    assert_eq!(report.verdict, Verdict::Invalid);
    assert_eq!(codes(&report), ["accepts_too_many"]);
    assert!(report.problems[0].message.contains("87000 entries"), "{}", report.problems[0].message);
    assert_eq!(report.problems_omitted, 0);
    assert!(report.challenge.is_none(), "a 261 KB challenge is not kept");
    assert!(size < 4 * 1024, "report of {size} bytes");

    // The header variant: 10,000 entries in 40 KB.
    let entries: Vec<Value> = (0..10_000).map(|_| json!({})).collect();
    let challenge = json!({"x402Version": 2, "resource": {"url": "http://127.0.0.1/paid"}, "accepts": entries});
    let (report, size) = probe(Reply::v2(&challenge)).await;
    assert_eq!(codes(&report), ["accepts_too_many"]);
    // The raw challenge (30 KB) is kept for the seller to see; nothing else grows with it.
    let challenge_size = serde_json::to_vec(&report.challenge).expect("json").len();
    assert!(challenge_size <= MAX_STORED_CHALLENGE_BYTES);
    assert!(size - challenge_size < 4 * 1024, "report of {size} bytes");
}

#[tokio::test]
async fn a_challenge_with_a_problem_in_every_key_keeps_the_first_problems_and_counts_the_rest() {
    let (one, _) = probe(json_body(empty_entries_body(1))).await;
    let per_entry = one.problems.len() + one.problems_omitted;
    assert!(per_entry > 1, "an empty entry misses several keys: {:?}", codes(&one));

    let (report, size) = probe(json_body(empty_entries_body(MAX_ACCEPTS))).await;
    assert_eq!(report.verdict, Verdict::Invalid);
    assert_eq!(report.problems.len(), MAX_FINDINGS_KEPT);
    assert_eq!(report.problems.len() + report.problems_omitted, per_entry * MAX_ACCEPTS, "every problem is counted");
    assert_eq!(report.problems[0].path.as_deref(), Some("accepts[0].scheme"), "the first ones, in order");
    let json: Value = serde_json::to_value(&report).expect("json");
    assert_eq!(json["problems_omitted"], report.problems_omitted, "the count is in the JSON form");
    assert!(size < 32 * 1024, "report of {size} bytes");

    // A valid report says nothing of omissions.
    let (valid, _) = probe(Reply::v2(&v2_challenge("http://127.0.0.1/paid"))).await;
    let json: Value = serde_json::to_value(&valid).expect("json");
    assert!(json.get("problems_omitted").is_none() && json.get("warnings_omitted").is_none(), "{json}");
}

#[tokio::test]
async fn oversized_fields_that_decide_payment_make_the_challenge_invalid() {
    let url = "http://127.0.0.1/paid";
    let mut big_extra = v2_challenge(url);
    big_extra["accepts"][0]["extra"]["pad"] = Value::String("x".repeat(MAX_EXTRA_BYTES));
    let (report, _) = probe(Reply::v2(&big_extra)).await;
    assert_eq!(codes(&report), ["extra_too_large"]);

    let mut long_scheme = v2_challenge(url);
    long_scheme["accepts"][0]["scheme"] = Value::String("s".repeat(33));
    let (report, _) = probe(Reply::v2(&long_scheme)).await;
    assert_eq!(codes(&report), ["scheme_invalid"]);

    let mut long_resource = v2_challenge(url);
    long_resource["resource"]["url"] = Value::String(format!("{url}?{}", "q".repeat(2100)));
    let (report, _) = probe(Reply::v2(&long_resource)).await;
    assert_eq!(codes(&report), ["resource_invalid"]);

    let mut v1_long = v1_challenge(url);
    v1_long["accepts"][0]["resource"] = Value::String(format!("{url}?{}", "q".repeat(2100)));
    let (report, _) = probe(json_body(v1_long.to_string().into_bytes())).await;
    assert_eq!(codes(&report), ["resource_invalid"]);
}

#[tokio::test]
async fn oversized_display_text_and_metadata_are_clipped_or_dropped_with_a_warning() {
    let url = "http://127.0.0.1/paid";
    let mut challenge = v2_challenge(url);
    challenge["resource"]["description"] = Value::String("é".repeat(5 * MAX_DESCRIPTION_CHARS));
    challenge["resource"]["mimeType"] = Value::String(format!("application/{}", "x".repeat(300)));
    challenge["extensions"]["bazaar"]["info"]["input"]["queryParams"]["pad"] =
        Value::String("p".repeat(MAX_DISCOVERY_BYTES));
    let reply = Reply::new(402).header("content-type", "application/json").body(challenge.to_string().into_bytes());
    let (report, _) = probe(reply).await;
    assert_eq!(report.verdict, Verdict::Listed, "{:?}", report.problems);
    let listing = report.listing.as_ref().expect("listing");
    assert_eq!(listing.resource.description.chars().count(), MAX_DESCRIPTION_CHARS);
    assert_eq!(listing.resource.mime_type, None);
    let discovery = listing.discovery.as_ref().expect("discovery");
    assert!(discovery.input.is_null() && discovery.output.is_null() && !discovery.valid);
    assert_eq!(discovery.service_name.as_deref(), Some("Weather"), "the rest of the metadata is kept");
    let warnings: Vec<&str> = report.warnings.iter().map(|w| w.code.as_str()).collect();
    for code in ["description_clipped", "mime_type_invalid", "discovery_too_large"] {
        assert!(warnings.contains(&code), "{code} in {warnings:?}");
    }
}

#[tokio::test]
async fn the_widest_valid_challenge_gives_a_bounded_report() {
    let challenge = widest_valid_challenge("http://127.0.0.1/paid");
    let body = challenge.to_string().into_bytes();
    assert!(body.len() < 256 * 1024, "fits the body cap: {} bytes", body.len());
    let (report, size) = probe(json_body(body)).await;
    assert_eq!(report.verdict, Verdict::Listed, "{:?}", report.problems);
    let listing = report.listing.as_ref().expect("listing");
    assert_eq!(listing.offers.len(), MAX_ACCEPTS);
    assert!(listing.discovery.as_ref().is_some_and(|d| !d.input.is_null()), "schemas just under the cap are kept");
    // One `network_unknown` per offer and more: the warnings are capped too.
    assert_eq!(report.warnings.len(), MAX_FINDINGS_KEPT);
    assert!(report.warnings_omitted > 0);
    assert!(report.challenge.is_none(), "over {MAX_STORED_CHALLENGE_BYTES} bytes: not kept");
    assert!(size <= MAX_REPORT_BYTES, "report of {size} bytes");

    // Just under the stored-challenge cap, the challenge is kept: both together still fit.
    let mut kept = widest_valid_challenge("http://127.0.0.1/paid");
    let accepts = kept["accepts"].as_array_mut().expect("accepts");
    while kept_size(accepts) > MAX_STORED_CHALLENGE_BYTES - 24 * 1024 {
        accepts.pop();
    }
    let header = base64::engine::general_purpose::STANDARD.encode(kept.to_string());
    let (report, size) = probe(Reply::new(402).header("payment-required", header).body(b"{}".to_vec())).await;
    assert_eq!(report.verdict, Verdict::Listed, "{:?}", report.problems);
    assert!(report.challenge.is_some(), "kept for display");
    assert!(size <= MAX_REPORT_BYTES, "report of {size} bytes");
}

fn kept_size(accepts: &[Value]) -> usize {
    serde_json::to_vec(accepts).map_or(usize::MAX, |b| b.len())
}

#[tokio::test]
async fn a_document_with_more_values_than_any_challenge_is_never_parsed() {
    use agora_crawler::x402::limits::MAX_CHALLENGE_VALUES;
    let zeros = vec!["0"; MAX_CHALLENGE_VALUES + 1].join(",");
    let challenge = format!(r#"{{"x402Version":1,"error":"x","accepts":[],"pad":[{zeros}]}}"#);
    let (report, size) = probe(json_body(challenge.into_bytes())).await;
    assert_eq!(report.verdict, Verdict::Invalid);
    assert_eq!(codes(&report), ["challenge_too_large"]);
    assert!(size < 4 * 1024, "report of {size} bytes");

    // The same weight without any claim to be a challenge is just not an x402 answer.
    let (report, _) = probe(json_body(format!(r#"{{"pad":[{zeros}]}}"#).into_bytes())).await;
    assert_eq!(report.verdict, Verdict::NotX402, "{:?}", report.problems);
}
