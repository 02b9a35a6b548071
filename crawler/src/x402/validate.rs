//! The strict decision procedure (PROTOCOL §4.2): an HTTP answer in, a verdict with every problem
//! and warning out, plus the normalized listing when the challenge is valid.
//!
//! This is a pure function of the answer, so the rules are tested without a network and the
//! prober, the benchmark and the fuzz tests all run the very same code.

use super::accepts;
use super::decode::{self, PAYMENT_REQUIRED, Source};
use super::discovery;
use super::findings::{Collected, Findings, quote, type_name};
use super::limits::{MAX_ACCEPTS, MAX_STORED_CHALLENGE_BYTES};
use super::resource::{check_v2_resource, compare_resource, description, mime_type, v1_resource};
use super::resource_meta::Meta;
use super::{neighbours, shape};
use crate::report::{Finding, Listing, Offer, Verdict};
use serde_json::{Map, Value};
use url::Url;

/// What the seller answered, as far as the challenge engine cares.
#[derive(Debug, Clone, Copy)]
pub struct HttpAnswer<'a> {
    pub status: u16,
    pub headers: &'a http::HeaderMap,
    /// The body as read (possibly cut short, see `body_error`).
    pub body: &'a [u8],
    /// Why the body is incomplete (too large, too slow), when it is. A header challenge does not
    /// need the body, so this only matters when there is none.
    pub body_error: Option<&'a Finding>,
    /// The URL that produced this answer (after redirects), to compare with `resource`.
    pub url: &'a Url,
}

/// The judgement on one answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub verdict: Verdict,
    pub problems: Vec<Finding>,
    /// Problems found beyond the ones kept (`findings::MAX_FINDINGS_KEPT`).
    pub problems_omitted: usize,
    pub warnings: Vec<Finding>,
    pub warnings_omitted: usize,
    pub listing: Option<Listing>,
    pub challenge: Option<Value>,
}

impl Evaluation {
    fn classified(verdict: Verdict, finding: Finding, warnings: Vec<Finding>) -> Self {
        let Collected { warnings, warnings_omitted, .. } = Findings::with_warnings(warnings).finish();
        Evaluation {
            verdict,
            problems: vec![finding],
            problems_omitted: 0,
            warnings,
            warnings_omitted,
            listing: None,
            challenge: None,
        }
    }
}

/// Decodes, validates and normalizes one answer.
pub fn evaluate(answer: &HttpAnswer<'_>) -> Evaluation {
    let mut warnings = Vec::new();
    let header = answer.headers.get(PAYMENT_REQUIRED);
    if answer.status != 402 {
        if header.is_some() {
            warnings.push(Finding::new(
                "challenge_wrong_status",
                format!(
                    "A PAYMENT-REQUIRED header came with status {}; clients only read challenges from 402 answers.",
                    answer.status
                ),
            ));
        }
        let (verdict, finding) = classify_status(answer.status);
        return Evaluation::classified(verdict, finding, warnings);
    }

    let header_result = header.map(|h| decode::decode_header(h.as_bytes(), &mut warnings));
    let body_result = match answer.body_error {
        Some(_) => Ok(None),
        None => decode::decode_body(answer.body),
    };
    let (challenge, source) = match (header_result, body_result) {
        (Some(Ok(value)), _) => {
            if let Some(body_error) = answer.body_error {
                warnings.push(Finding::new(
                    "body_truncated",
                    format!(
                        "The body was not read in full ({}); the header challenge did not need it.",
                        body_error.message
                    ),
                ));
            }
            (value, Source::Header)
        }
        (Some(Err(problem)), Ok(Some(body))) if body.get("x402Version") == Some(&Value::from(1)) => {
            warnings.push(Finding::new(
                "header_ignored",
                format!(
                    "The PAYMENT-REQUIRED header was unusable ({}); the v1 challenge in the body was used.",
                    problem.message
                ),
            ));
            (body, Source::Body)
        }
        (Some(Err(problem)), _) => return Evaluation::classified(Verdict::Invalid, problem, warnings),
        (None, _) if answer.body_error.is_some() => {
            let error = answer
                .body_error
                .cloned()
                .unwrap_or_else(|| Finding::new("body_unreadable", "The body could not be read."));
            return Evaluation::classified(Verdict::FetchError, error, warnings);
        }
        (None, Err(problem)) => return Evaluation::classified(Verdict::Invalid, problem, warnings),
        (None, Ok(Some(body))) if decode::looks_like_challenge(&body) => (body, Source::Body),
        (None, _) => {
            let content_type = answer.headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
            let finding = if let Some(neighbour) = neighbours::recognize(answer.headers) {
                neighbour
            } else if decode::looks_like_html(content_type, answer.body) {
                Finding::new(
                    "html_paywall",
                    "The 402 answer is an HTML page without a PAYMENT-REQUIRED header. Serve the x402 challenge to non-browser clients (Agora sends Accept: application/json).",
                )
            } else {
                Finding::new(
                    "no_challenge",
                    "The answer is 402 but carries no x402 challenge: no PAYMENT-REQUIRED header and no JSON body with x402Version and accepts.",
                )
            };
            return Evaluation::classified(Verdict::NotX402, finding, warnings);
        }
    };

    let mut findings = Findings::with_warnings(warnings);
    let outcome = check_challenge(&challenge, source, answer.url, &mut findings);
    let stored = store_challenge(challenge, &mut findings);
    let valid = !findings.has_problems();
    let Collected { problems, problems_omitted, warnings, warnings_omitted } = findings.finish();
    match outcome {
        Outcome::AuthOnly => Evaluation {
            verdict: Verdict::NotX402,
            problems: vec![Finding::new(
                "auth_only",
                "The route asks for a Sign-In-With-X authentication, not a payment (empty accepts with the sign-in-with-x extension).",
            )],
            problems_omitted: 0,
            warnings,
            warnings_omitted,
            listing: None,
            challenge: stored,
        },
        Outcome::Checked(listing) => Evaluation {
            verdict: if valid { Verdict::Listed } else { Verdict::Invalid },
            problems,
            problems_omitted,
            warnings,
            warnings_omitted,
            listing: listing.map(|listing| *listing),
            challenge: stored,
        },
    }
}

/// The verdict for any status but 402.
fn classify_status(status: u16) -> (Verdict, Finding) {
    let code = format!("status_{status}");
    let (verdict, message) = match status {
        200..=299 => (Verdict::NotX402, format!("The endpoint answered {status} without asking for payment; a paid endpoint answers an unpaid request with 402.")),
        300..=399 => (Verdict::NotX402, format!("The endpoint answered {status} (a redirect without a usable Location)." )),
        400 => (Verdict::NotX402, "The endpoint answered 400 Bad Request; it may validate the request before the paywall. Answer 402 to an unpaid request first.".to_string()),
        401 | 403 => (Verdict::NotX402, format!("The endpoint answered {status}: it requires authentication, not an x402 payment.")),
        404 => (Verdict::NotX402, "The endpoint answered 404 Not Found; check the URL and the HTTP method.".to_string()),
        405 => (Verdict::NotX402, "The endpoint answered 405 Method Not Allowed; register it with the method it serves.".to_string()),
        412 => (Verdict::NotX402, "The endpoint answered 412: x402 servers send this when a Permit2 allowance is required, not as a discovery challenge.".to_string()),
        429 => (Verdict::FetchError, "The endpoint answered 429 Too Many Requests; Agora will retry later.".to_string()),
        500..=599 => (Verdict::FetchError, format!("The endpoint answered {status} (a server error); Agora will retry later.")),
        _ => (Verdict::NotX402, format!("The endpoint answered {status}, not 402 Payment Required.")),
    };
    (verdict, Finding::new(code, message))
}

enum Outcome {
    /// Empty `accepts` with a sign-in extension: an authentication route, not a paid one.
    AuthOnly,
    /// Checked; the listing is present when no problem was found.
    Checked(Option<Box<Listing>>),
}

fn check_challenge(challenge: &Value, source: Source, url: &Url, findings: &mut Findings) -> Outcome {
    let Some(object) = challenge.as_object() else {
        findings.problem(
            "challenge_not_object",
            "",
            format!("The challenge must be a JSON object, got {}.", type_name(challenge)),
        );
        return Outcome::Checked(None);
    };
    let Some(version) = check_version(object, findings) else { return Outcome::Checked(None) };
    match (version, source) {
        (2, Source::Body) => findings.warn(
            "v2_in_body",
            "",
            "A v2 challenge was found only in the body; official v2 clients read only the PAYMENT-REQUIRED header and will not see it.",
        ),
        (1, Source::Header) => findings.warn("v1_in_header", "", "A v1 challenge was sent in the PAYMENT-REQUIRED header; v1 clients read the body."),
        _ => {}
    }
    if let Some(error) = object.get("error").filter(|e| !e.is_string() && !e.is_null()) {
        findings.warn("error_not_string", "error", format!("`error` should be a string, got {}.", type_name(error)));
    }

    let entries = match object.get("accepts") {
        None => {
            findings.problem("accepts_missing", "accepts", "`accepts` is required: list at least one way to pay.");
            None
        }
        Some(Value::Array(entries)) if entries.is_empty() => {
            if object.get("extensions").and_then(|e| e.get("sign-in-with-x")).is_some() {
                return Outcome::AuthOnly;
            }
            findings.problem("accepts_empty", "accepts", "`accepts` is empty: list at least one way to pay.");
            None
        }
        Some(Value::Array(entries)) if entries.len() > MAX_ACCEPTS => {
            // Examining them would cost time and report bytes in proportion to what the seller
            // chose to send; one problem says it all.
            let problem = shape::too_many_accepts(entries.len());
            findings.problem(&problem.code, "accepts", problem.message);
            return Outcome::Checked(None);
        }
        Some(Value::Array(entries)) => Some(entries),
        Some(other) => {
            findings.problem(
                "accepts_not_array",
                "accepts",
                format!("`accepts` must be an array of payment requirements, got {}.", type_name(other)),
            );
            None
        }
    };

    let (resource, meta) = if version == 2 { check_v2_resource(object, findings) } else { (None, Meta::default()) };
    let mut offers = Vec::new();
    for (index, entry) in entries.into_iter().flatten().enumerate() {
        match entry.as_object() {
            Some(entry) => offers.extend(accepts::check_entry(entry, index, version, findings)),
            None => findings.problem(
                "accept_not_object",
                &format!("accepts[{index}]"),
                format!("Each `accepts` entry must be an object, got {}.", type_name(entry)),
            ),
        }
    }
    warn_duplicates(&offers, findings);
    if !offers.is_empty() && offers.iter().all(|offer| !offer.payable) && !findings.has_problems() {
        findings.problem(
            "no_payable_offer",
            "accepts",
            "No offer can be paid by the official x402 clients (each one's warning says why), so buyers could not pay this endpoint; it is not listed.",
        );
    }

    let first = entries.and_then(|e| e.first()).and_then(Value::as_object);
    let resource = match version {
        1 => first.and_then(v1_resource).map(|mut resource| {
            resource.mime_type = mime_type(resource.mime_type.take(), "accepts[0].mimeType", findings);
            resource.description =
                description(Some(std::mem::take(&mut resource.description)), "accepts[0].description", findings);
            resource
        }),
        _ => resource,
    };
    if let Some(resource) = &resource {
        compare_resource(&resource.url, url, findings);
    }
    let discovery = match version {
        2 => discovery::from_v2(object, meta, findings),
        _ => first.and_then(|entry| discovery::from_v1(entry, findings)),
    };
    if findings.has_problems() {
        return Outcome::Checked(None);
    }
    Outcome::Checked(resource.map(|resource| Box::new(Listing { x402_version: version, resource, discovery, offers })))
}

fn check_version(object: &Map<String, Value>, findings: &mut Findings) -> Option<u8> {
    match object.get("x402Version") {
        None => findings.problem("version_missing", "x402Version", "`x402Version` is required (the number 1 or 2)."),
        Some(Value::Number(n)) => match n.as_u64() {
            Some(v @ (1 | 2)) => return u8::try_from(v).ok(),
            _ => findings.problem(
                "version_unsupported",
                "x402Version",
                format!("`x402Version` {n} is not a version Agora knows (1 or 2)."),
            ),
        },
        Some(Value::String(s)) => {
            // The sign-in-with-x spec's own example writes `"x402Version": "2"`: say so, since
            // sellers copy it.
            let origin = if s.trim() == "2" {
                " This is a known error in the sign-in-with-x extension's spec example; SDK clients follow the core spec"
            } else {
                ""
            };
            findings.problem(
                "version_not_number",
                "x402Version",
                format!(
                    "`x402Version` is the string {}; it must be the number {} (every SDK rejects the string).{origin}",
                    quote(s),
                    s.trim()
                ),
            )
        }
        Some(other) => findings.problem(
            "version_not_number",
            "x402Version",
            format!("`x402Version` must be the number 1 or 2, got {}.", type_name(other)),
        ),
    }
    None
}

fn warn_duplicates(offers: &[Offer], findings: &mut Findings) {
    for (i, offer) in offers.iter().enumerate() {
        let duplicate = offers[..i]
            .iter()
            .any(|o| o.scheme == offer.scheme && o.network == offer.network && o.asset == offer.asset);
        if duplicate {
            findings.warn(
                "offer_duplicate",
                "accepts",
                format!(
                    "Two entries offer {} on {} in the same asset; clients will use the first.",
                    offer.scheme, offer.network
                ),
            );
        }
    }
}

fn store_challenge(challenge: Value, findings: &mut Findings) -> Option<Value> {
    let size = serde_json::to_vec(&challenge).map(|v| v.len()).unwrap_or(usize::MAX);
    if size > MAX_STORED_CHALLENGE_BYTES {
        findings.warn("challenge_not_stored", "", format!("The challenge is {size} bytes; only challenges up to {MAX_STORED_CHALLENGE_BYTES} bytes are kept for display."));
        return None;
    }
    Some(challenge)
}
