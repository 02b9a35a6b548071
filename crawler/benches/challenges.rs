//! Challenge engine throughput: decode + validate + normalize on a realistic mix of 402 answers,
//! printed as challenges per second, next to the floor of merely parsing the same bytes as JSON
//! (measured in the same run, so the ratio is comparable across machines).
//!
//! `AGORA_BENCH_SMOKE=1` runs a short pass (CI); otherwise a longer one.

use agora_crawler::testkit::{v1_challenge, v2_challenge};
use agora_crawler::{HttpAnswer, Verdict, evaluate};
use base64::Engine as _;
use http::{HeaderMap, HeaderValue};
use serde_json::{Value, json};
use std::hint::black_box;
use std::time::{Duration, Instant};

struct Sample {
    name: &'static str,
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
    /// The JSON bytes the challenge decodes from, for the parse-only baseline.
    json: Vec<u8>,
    expected: Verdict,
}

impl Sample {
    fn answer<'a>(&'a self, url: &'a url::Url) -> HttpAnswer<'a> {
        HttpAnswer { status: self.status, headers: &self.headers, body: &self.body, body_error: None, url }
    }
}

fn header_sample(name: &'static str, challenge: &Value, expected: Verdict) -> Sample {
    let text = challenge.to_string();
    let mut headers = HeaderMap::new();
    let encoded = base64::engine::general_purpose::STANDARD.encode(&text);
    headers.insert("payment-required", HeaderValue::from_str(&encoded).expect("header"));
    Sample { name, status: 402, headers, body: b"{}".to_vec(), json: text.into_bytes(), expected }
}

fn body_sample(name: &'static str, challenge: &Value, expected: Verdict) -> Sample {
    let text = challenge.to_string().into_bytes();
    Sample { name, status: 402, headers: HeaderMap::new(), body: text.clone(), json: text, expected }
}

fn mix() -> Vec<(Sample, u32)> {
    let url = "https://api.example.com/weather";
    let mut multi = v2_challenge(url);
    let accept = multi["accepts"][0].clone();
    let networks = ["eip155:8453", "eip155:137", "eip155:43114", "eip155:42161", "eip155:84532", "eip155:1"];
    let assets = [
        "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913",
        "0x3c499c542cEF5E3811e1192ce70d8cC03d5c3359",
        "0xB97EF9Ef8734C71904D8002F8b6Bc66Dd9c48a6E",
        "0xaf88d065e77c8cC2239327C5EDb3A432268e5831",
        "0x036CbD53842c5426634e7929541eC2318f3dCF7e",
        "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48",
    ];
    multi["accepts"] = networks
        .iter()
        .zip(assets)
        .map(|(network, asset)| {
            let mut entry = accept.clone();
            entry["network"] = json!(network);
            entry["asset"] = json!(asset);
            entry
        })
        .collect();
    let mut invalid = v2_challenge(url);
    invalid["accepts"][0]["amount"] = json!("0.01");
    invalid["accepts"][0]["network"] = json!("base");
    invalid["accepts"][0]["payTo"] = json!("0xYourAddress");
    let mut plain = v2_challenge(url);
    plain.as_object_mut().expect("object").remove("extensions");
    let html = Sample {
        name: "html paywall",
        status: 402,
        headers: [(http::header::CONTENT_TYPE, HeaderValue::from_static("text/html"))].into_iter().collect(),
        body: b"<!doctype html><html><body>Pay with your wallet</body></html>".to_vec(),
        json: b"{}".to_vec(),
        expected: Verdict::NotX402,
    };
    // Weights: mostly valid v2 as on today's directories, some v1, some broken.
    vec![
        (header_sample("v2 + bazaar", &v2_challenge(url), Verdict::Listed), 40),
        (header_sample("v2 plain", &plain, Verdict::Listed), 20),
        (header_sample("v2, 6 accepts", &multi, Verdict::Listed), 10),
        (body_sample("v1 body", &v1_challenge(url), Verdict::Listed), 15),
        (header_sample("invalid", &invalid, Verdict::Invalid), 10),
        (html, 5),
    ]
}

fn main() {
    let smoke = std::env::var_os("AGORA_BENCH_SMOKE").is_some();
    let budget = if smoke { Duration::from_millis(300) } else { Duration::from_secs(3) };
    let url = url::Url::parse("https://api.example.com/weather").expect("url");
    let samples = mix();

    // Correctness first: a benchmark of wrong answers measures nothing.
    for (sample, _) in &samples {
        let answer = sample.answer(&url);
        assert_eq!(evaluate(&answer).verdict, sample.expected, "{}", sample.name);
    }
    let schedule: Vec<&Sample> = samples.iter().flat_map(|(s, w)| std::iter::repeat_n(s, *w as usize)).collect();

    let engine = measure(budget, || {
        for sample in &schedule {
            let answer = sample.answer(&url);
            black_box(evaluate(black_box(&answer)));
        }
        schedule.len()
    });
    let parse_only = measure(budget, || {
        for sample in &schedule {
            black_box(serde_json::from_slice::<Value>(black_box(&sample.json)).ok());
        }
        schedule.len()
    });
    println!(
        "challenge engine benchmark ({} samples in the mix{})",
        schedule.len(),
        if smoke { ", smoke run" } else { "" }
    );
    for (sample, weight) in &samples {
        let answer = sample.answer(&url);
        let one = measure(budget / 6, || {
            black_box(evaluate(black_box(&answer)));
            1
        });
        println!("  {:<16} weight {:>2}%  {:>10.0} /s", sample.name, weight, one);
    }
    println!("decode + validate + normalize: {engine:>10.0} challenges/s");
    println!("baseline (serde_json parse only): {parse_only:>10.0} /s");
    println!("ratio engine / parse-only: {:.2}", engine / parse_only);
}

/// Runs `round` until `budget` has passed; returns items per second.
fn measure(budget: Duration, mut round: impl FnMut() -> usize) -> f64 {
    for _ in 0..3 {
        round();
    }
    let started = Instant::now();
    let mut items = 0usize;
    while started.elapsed() < budget {
        items += round();
    }
    items as f64 / started.elapsed().as_secs_f64()
}
