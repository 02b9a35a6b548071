//! Neighbouring 402 protocols (PROTOCOL §8.6): a 402 without an x402 challenge may carry another
//! protocol's — the Machine Payments Protocol (`WWW-Authenticate: Payment …`) or L402 (`L402 …`,
//! formerly `LSAT …`). Such an endpoint is not x402, and the report names what it is rather
//! than calling it malformed.

use crate::report::Finding;
use http::HeaderMap;
use http::header::WWW_AUTHENTICATE;

/// The finding for a 402 whose `WWW-Authenticate` challenges are another payment protocol's.
pub fn recognize(headers: &HeaderMap) -> Option<Finding> {
    for value in headers.get_all(WWW_AUTHENTICATE) {
        // Lossy: a stray non-ASCII byte elsewhere in the value does not hide the scheme.
        let text = String::from_utf8_lossy(value.as_bytes());
        // The auth scheme is the first token of the challenge (RFC 9110 §11.6.1).
        let scheme = text.trim_start().split([' ', ',']).next().unwrap_or_default();
        if scheme.eq_ignore_ascii_case("Payment") {
            return Some(Finding::new(
                "mpp_challenge",
                "The 402 carries a Machine Payments Protocol challenge (WWW-Authenticate: Payment …), not an x402 one: x402 clients cannot pay it, and Agora lists x402 endpoints only. To be listed, also answer with an x402 PAYMENT-REQUIRED challenge.",
            ));
        }
        if scheme.eq_ignore_ascii_case("L402") || scheme.eq_ignore_ascii_case("LSAT") {
            return Some(Finding::new(
                "l402_challenge",
                format!(
                    "The 402 carries an {} challenge (Lightning: a macaroon and an invoice), not an x402 one: x402 clients cannot pay it, and Agora lists x402 endpoints only. To be listed, also answer with an x402 PAYMENT-REQUIRED challenge.",
                    scheme.to_ascii_uppercase()
                ),
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(values: &[&str]) -> Option<String> {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(WWW_AUTHENTICATE, value.parse().expect("a header value"));
        }
        recognize(&headers).map(|finding| finding.code)
    }

    #[test]
    fn mpp_and_l402_are_named() {
        assert_eq!(
            code(&[r#"Payment id="abc", realm="api", method="stripe", intent="charge", request="e30""#]).as_deref(),
            Some("mpp_challenge")
        );
        assert_eq!(
            code(&[r#"L402 macaroon="AGIAJEemVQUTEyNCR0exk7ek90Cg==", invoice="lnbc1500n1pj""#]).as_deref(),
            Some("l402_challenge")
        );
        assert_eq!(
            code(&[r#"Bearer realm="x""#, r#"LSAT macaroon="m", invoice="i""#]).as_deref(),
            Some("l402_challenge")
        );
        assert_eq!(code(&[r#"Bearer realm="x""#]), None);
        assert_eq!(code(&[]), None);
        let mut raw = HeaderMap::new();
        raw.append(WWW_AUTHENTICATE, http::HeaderValue::from_bytes(b"L402 invoice=\"\xe2\x80\xa6\"").expect("bytes"));
        assert_eq!(recognize(&raw).map(|f| f.code).as_deref(), Some("l402_challenge"), "non-ASCII bytes");
        assert_eq!(code(&["PaymentRequired x"]), None, "the scheme token, not a prefix");
    }
}
