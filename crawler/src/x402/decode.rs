//! Response → raw challenge JSON (PROTOCOL §1.1, §4.1).
//!
//! The v2 `PAYMENT-REQUIRED` header is read first: standard base64 with or without padding;
//! URL-safe base64 and raw JSON are decoded too, with a warning, because real sellers send them.
//! Otherwise any JSON body that looks like a challenge is used, whatever its `Content-Type`.

use super::shape;
use crate::report::Finding;
use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde_json::Value;

/// The v2 challenge header. `http::HeaderMap` lookups are case-insensitive, so `Payment-Required`
/// and `payment-required` are found too.
pub const PAYMENT_REQUIRED: &str = "payment-required";

const TOLERANT: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
const STANDARD_TOLERANT: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, TOLERANT);
const URL_SAFE_TOLERANT: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, TOLERANT);

/// Where the challenge was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Header,
    Body,
}

/// Decodes a `PAYMENT-REQUIRED` header value into JSON. Leniencies are recorded in `warnings`;
/// a value that cannot be decoded is a problem.
pub fn decode_header(raw: &[u8], warnings: &mut Vec<Finding>) -> Result<Value, Finding> {
    let value = raw.trim_ascii();
    if value.is_empty() {
        return Err(Finding::new(
            "header_empty",
            "The PAYMENT-REQUIRED header is empty. Send base64(JSON of the PaymentRequired object).",
        )
        .at("PAYMENT-REQUIRED"));
    }
    let json_bytes = if value.starts_with(b"{") {
        warnings.push(Finding::new(
            "header_raw_json",
            "PAYMENT-REQUIRED carries raw JSON; the spec requires standard base64 of the JSON. \
             Official clients will fail to read it.",
        ));
        value.to_vec()
    } else if value.iter().any(|b| matches!(b, b'-' | b'_')) {
        let decoded = URL_SAFE_TOLERANT.decode(value).map_err(|e| base64_problem(&e))?;
        warnings.push(Finding::new(
            "base64_url_safe",
            "PAYMENT-REQUIRED uses the URL-safe base64 alphabet (- and _); the spec requires the \
             standard alphabet (+ and /).",
        ));
        decoded
    } else {
        let decoded = STANDARD_TOLERANT.decode(value).map_err(|e| base64_problem(&e))?;
        if !value.len().is_multiple_of(4) {
            warnings.push(Finding::new(
                "base64_unpadded",
                "PAYMENT-REQUIRED base64 has no '=' padding; most clients accept it, strict \
                 decoders do not. Pad it to a multiple of 4 characters.",
            ));
        }
        decoded
    };
    let text = std::str::from_utf8(&json_bytes).map_err(|e| {
        Finding::new(
            "header_utf8_invalid",
            format!(
                "The decoded PAYMENT-REQUIRED header is not valid UTF-8 (byte {}). Encode the \
                 JSON as UTF-8 before base64.",
                e.valid_up_to()
            ),
        )
        .at("PAYMENT-REQUIRED")
    })?;
    match shape::parse_bounded(text.as_bytes(), "PAYMENT-REQUIRED") {
        Ok(parsed) => parsed,
        Err(e) => Err(json_problem(&e, "PAYMENT-REQUIRED")),
    }
}

/// Parses a response body as a challenge candidate. `Ok(None)` means the body is not JSON and does
/// not pretend to be a challenge; `Err` means it tried to be one (it mentions `x402Version`) but
/// is not parseable JSON.
pub fn decode_body(body: &[u8]) -> Result<Option<Value>, Finding> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body).trim_ascii();
    if body.is_empty() {
        return Ok(None);
    }
    match shape::parse_bounded(body, "body") {
        Ok(Ok(value)) => Ok(Some(value)),
        // Too large to parse: a challenge that says so, or an answer that is not one.
        Ok(Err(finding)) if finding.code == "accepts_too_many" || mentions_x402(body) => Err(finding),
        Ok(Err(_)) => Ok(None),
        Err(e) if mentions_x402(body) => Err(json_problem(&e, "body")),
        Err(_) => Ok(None),
    }
}

/// Whether a JSON value has the shape of a challenge attempt (as opposed to `{}` or an app error).
pub fn looks_like_challenge(value: &Value) -> bool {
    value.as_object().is_some_and(|o| o.contains_key("x402Version") || o.contains_key("accepts"))
}

/// Whether the body looks like an HTML page (a browser paywall or an error page).
pub fn looks_like_html(content_type: Option<&str>, body: &[u8]) -> bool {
    let by_type = content_type.is_some_and(|t| t.trim_start().to_ascii_lowercase().starts_with("text/html"));
    by_type || body.trim_ascii_start().first() == Some(&b'<')
}

fn mentions_x402(body: &[u8]) -> bool {
    body.windows(b"x402Version".len()).any(|w| w == b"x402Version")
}

fn base64_problem(e: &base64::DecodeError) -> Finding {
    Finding::new(
        "header_base64_invalid",
        format!("PAYMENT-REQUIRED is not valid base64 ({e}). Send standard base64 of the JSON."),
    )
    .at("PAYMENT-REQUIRED")
}

fn json_problem(e: &serde_json::Error, path: &str) -> Finding {
    Finding::new(
        "challenge_json_invalid",
        format!(
            "The challenge in the {} is not valid JSON: {e}.",
            if path == "body" { "body" } else { "PAYMENT-REQUIRED header" }
        ),
    )
    .at(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(raw: &str) -> (Result<Value, Finding>, Vec<String>) {
        let mut warnings = Vec::new();
        let result = decode_header(raw.as_bytes(), &mut warnings);
        (result, warnings.into_iter().map(|w| w.code).collect())
    }

    #[test]
    fn padding_is_optional_but_noted() {
        // {"a":1} = eyJhIjoxfQ==
        let (padded, w) = decode("eyJhIjoxfQ==");
        assert_eq!(padded.expect("decodes"), serde_json::json!({"a": 1}));
        assert!(w.is_empty());
        let (unpadded, w) = decode("eyJhIjoxfQ");
        assert_eq!(unpadded.expect("decodes"), serde_json::json!({"a": 1}));
        assert_eq!(w, ["base64_unpadded"]);
    }

    #[test]
    fn url_safe_and_raw_json_decode_with_warnings() {
        // {"a":"??>"} standard: eyJhIjoiPz8+In0= ; url-safe: eyJhIjoiPz8-In0
        let (value, w) = decode("eyJhIjoiPz8-In0");
        assert_eq!(value.expect("decodes"), serde_json::json!({"a": "??>"}));
        assert_eq!(w, ["base64_url_safe"]);
        let (value, w) = decode(r#"{"x402Version":2}"#);
        assert_eq!(value.expect("decodes"), serde_json::json!({"x402Version": 2}));
        assert_eq!(w, ["header_raw_json"]);
    }

    #[test]
    fn garbage_is_a_problem_not_a_panic() {
        assert_eq!(decode("!!!").0.expect_err("bad").code, "header_base64_invalid");
        // base64 of bytes 0xff 0xfe: not UTF-8.
        assert_eq!(decode("//4=").0.expect_err("bad").code, "header_utf8_invalid");
        // base64 of "nope"
        assert_eq!(decode("bm9wZQ==").0.expect_err("bad").code, "challenge_json_invalid");
        assert_eq!(decode("   ").0.expect_err("bad").code, "header_empty");
    }

    #[test]
    fn body_candidates() {
        assert_eq!(decode_body(b"").expect("ok"), None);
        assert_eq!(decode_body(b"<html>").expect("ok"), None);
        assert_eq!(decode_body(b"\xEF\xBB\xBF{}").expect("ok"), Some(serde_json::json!({})));
        assert_eq!(decode_body(br#"{"x402Version":1,"#).expect_err("broken").code, "challenge_json_invalid");
    }
}
