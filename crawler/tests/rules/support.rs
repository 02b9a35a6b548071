//! Building answers around a challenge and reading their findings, for the rule tests.

use agora_crawler::testkit::{v1_challenge, v2_challenge};
use agora_crawler::{Evaluation, Finding, HttpAnswer, Verdict, evaluate};
use base64::Engine as _;
use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;
use url::Url;

pub const URL: &str = "https://api.example.com/weather";

pub fn answer(status: u16, headers: &[(&str, &[u8])], body: &[u8], body_error: Option<&Finding>) -> Evaluation {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        map.append(
            HeaderName::from_bytes(name.as_bytes()).expect("name"),
            HeaderValue::from_bytes(value).expect("value"),
        );
    }
    let url = Url::parse(URL).expect("url");
    evaluate(&HttpAnswer { status, headers: &map, body, body_error, url: &url })
}

pub fn header_value(challenge: &Value) -> String {
    base64::engine::general_purpose::STANDARD.encode(challenge.to_string())
}

pub fn v2(challenge: &Value) -> Evaluation {
    answer(402, &[("payment-required", header_value(challenge).as_bytes())], b"{}", None)
}

pub fn v1(challenge: &Value) -> Evaluation {
    answer(402, &[("content-type", b"application/json")], challenge.to_string().as_bytes(), None)
}

/// A valid v2 challenge with one change applied at a JSON pointer (`None` removes the key).
pub fn v2_with(pointer: &str, value: Option<Value>) -> Value {
    with(v2_challenge(URL), pointer, value)
}

pub fn v1_with(pointer: &str, value: Option<Value>) -> Value {
    with(v1_challenge(URL), pointer, value)
}

pub fn with(mut challenge: Value, pointer: &str, value: Option<Value>) -> Value {
    let (parent, key) = pointer.rsplit_once('/').expect("pointer");
    let target = challenge.pointer_mut(parent).expect("parent exists");
    match (target, value) {
        (Value::Object(map), Some(v)) => {
            map.insert(key.to_string(), v);
        }
        (Value::Object(map), None) => {
            map.remove(key);
        }
        (Value::Array(items), Some(v)) => items[key.parse::<usize>().expect("index")] = v,
        _ => panic!("cannot edit {pointer}"),
    }
    challenge
}

pub fn codes(findings: &[Finding]) -> Vec<&str> {
    findings.iter().map(|f| f.code.as_str()).collect()
}

#[track_caller]
pub fn assert_problem(evaluation: &Evaluation, verdict: Verdict, code: &str) {
    assert_eq!(evaluation.verdict, verdict, "problems: {:?}", evaluation.problems);
    assert!(codes(&evaluation.problems).contains(&code), "expected {code} in {:?}", evaluation.problems);
    assert!(evaluation.listing.is_none());
    for problem in &evaluation.problems {
        assert!(!problem.message.is_empty());
    }
}

#[track_caller]
pub fn assert_listed_with_warning(evaluation: &Evaluation, code: &str) {
    assert_eq!(evaluation.verdict, Verdict::Listed, "problems: {:?}", evaluation.problems);
    assert!(codes(&evaluation.warnings).contains(&code), "expected warning {code} in {:?}", evaluation.warnings);
}
