//! What to probe: a URL checked and canonicalized, and an HTTP method.
//!
//! Canonical form (ARCHITECTURE "Identity and lifecycle"): lower-case scheme and host, no default
//! port, no fragment, no empty query (`…?` is `…`); path and query otherwise kept as given. The `url` crate does the WHATWG work
//! (including `0x7f.1` → `127.0.0.1`), so the address policy sees the host a client would use.

use crate::report::Finding;
use http::Method;
use url::Url;

/// Longest URL accepted, in bytes.
pub const MAX_URL_BYTES: usize = 2048;

/// Methods a paid endpoint can be probed with. HEAD is excluded: sellers skip payment on HEAD.
pub const PROBE_METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE"];

/// A checked probe target.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProbeTarget {
    pub url: Url,
    pub method: Method,
}

impl ProbeTarget {
    /// Checks `url` and `method` (case-insensitive; default GET).
    pub fn parse(url: &str, method: Option<&str>) -> Result<Self, Finding> {
        let method = parse_method(method.unwrap_or("GET"))?;
        Ok(ProbeTarget { url: canonicalize_url(url)?, method })
    }
}

/// Validates and canonicalizes a seller URL: http/https only, no userinfo, at most
/// [`MAX_URL_BYTES`], fragment removed.
pub fn canonicalize_url(text: &str) -> Result<Url, Finding> {
    let text = text.trim();
    if text.len() > MAX_URL_BYTES {
        return Err(Finding::new("url_too_long", format!("The URL is longer than {MAX_URL_BYTES} bytes.")));
    }
    let mut url = Url::parse(text).map_err(|e| {
        Finding::new(
            "url_invalid",
            format!("{} is not a valid absolute URL ({e}).", crate::x402::findings::quote(text)),
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Finding::new(
            "url_scheme_unsupported",
            format!("Only http and https URLs can be listed, not {}:.", url.scheme()),
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Finding::new(
            "url_userinfo",
            "URLs with a user name or password cannot be listed; remove the user:pass@ part.",
        ));
    }
    if url.host().is_none() {
        return Err(Finding::new("url_invalid", "The URL has no host."));
    }
    if url.port() == Some(0) {
        return Err(Finding::new("url_port_invalid", "Port 0 is not a port anything listens on."));
    }
    url.set_fragment(None);
    // `…/case?` and `…/case` are one resource to every client; keep one spelling.
    if url.query() == Some("") {
        url.set_query(None);
    }
    if url.as_str().len() > MAX_URL_BYTES {
        return Err(Finding::new(
            "url_too_long",
            format!("The URL is longer than {MAX_URL_BYTES} bytes once normalized."),
        ));
    }
    Ok(url)
}

/// Parses a probe method.
pub fn parse_method(text: &str) -> Result<Method, Finding> {
    let upper = text.trim().to_ascii_uppercase();
    if PROBE_METHODS.contains(&upper.as_str()) {
        return Method::from_bytes(upper.as_bytes()).map_err(|_| unsupported_method(text));
    }
    Err(unsupported_method(text))
}

fn unsupported_method(text: &str) -> Finding {
    Finding::new(
        "method_unsupported",
        format!(
            "Method {} cannot be probed; use one of {}.",
            crate::x402::findings::quote(text),
            PROBE_METHODS.join(", ")
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_form() {
        let url = canonicalize_url("HTTPS://API.Example.COM:443/Weather?city=Paris#frag").expect("valid");
        assert_eq!(url.as_str(), "https://api.example.com/Weather?city=Paris");
        assert_eq!(canonicalize_url("http://0x7f.1/").expect("valid").as_str(), "http://127.0.0.1/");
        assert_eq!(canonicalize_url("https://a.example/case?").expect("valid").as_str(), "https://a.example/case");
        assert_eq!(canonicalize_url("https://a.example/case?#x").expect("valid").as_str(), "https://a.example/case");
        assert_eq!(canonicalize_url("https://a.example/?q=").expect("valid").as_str(), "https://a.example/?q=");
    }

    #[test]
    fn rejections() {
        let code = |u: &str| canonicalize_url(u).expect_err("rejected").code;
        assert_eq!(code("ftp://example.com/"), "url_scheme_unsupported");
        assert_eq!(code("javascript:alert(1)"), "url_scheme_unsupported");
        assert_eq!(code("http://user:pw@example.com/"), "url_userinfo");
        assert_eq!(code("not a url"), "url_invalid");
        assert_eq!(code("http://example.com:0/"), "url_port_invalid");
        assert_eq!(code("https://[::1]:0/x"), "url_port_invalid");
        assert_eq!(code(&format!("https://example.com/{}", "a".repeat(2100))), "url_too_long");
        assert_eq!(parse_method("head").expect_err("HEAD").code, "method_unsupported");
        assert_eq!(parse_method("post").expect("POST"), Method::POST);
    }
}
