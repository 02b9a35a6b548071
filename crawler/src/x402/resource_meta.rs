//! The seller's own metadata on a v2 `resource` (PROTOCOL §8.1, core since x402 #2200):
//! `serviceName`, `tags` and `iconUrl`. The spec's rule is a soft drop: a bad value is dropped
//! with a warning naming it, and the challenge stays valid. Name and tags become the listing's
//! discovery metadata (`discovery::from_v2`); the icon URL stays on the resource.

use super::findings::{Findings, quote, type_name};
use serde_json::{Map, Value};
use url::{Host, Url};

/// Longest service name and tag, in characters (printable ASCII).
pub const MAX_NAME_CHARS: usize = 32;
/// Most tags kept.
pub const MAX_TAGS: usize = 5;
/// Longest icon URL.
pub const MAX_ICON_URL_BYTES: usize = 2048;

/// The metadata that survived the checks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Meta {
    pub service_name: Option<String>,
    pub tags: Vec<String>,
    pub icon_url: Option<String>,
}

/// Reads `serviceName`, `tags` and `iconUrl` of `resource`, dropping (with a warning) what breaks
/// the spec's rules.
pub fn read(resource: &Map<String, Value>, findings: &mut Findings) -> Meta {
    let service_name = resource.get("serviceName").and_then(|value| match value {
        Value::String(name) if is_short_printable(name) => Some(name.clone()),
        other => {
            let why = match other {
                Value::String(name) => {
                    format!("{} is not printable ASCII of at most {MAX_NAME_CHARS} characters", quote(name))
                }
                other => format!("must be a string, got {}", type_name(other)),
            };
            findings.warn(
                "service_name_invalid",
                "resource.serviceName",
                format!("`resource.serviceName` {why}; it was dropped."),
            );
            None
        }
    });
    Meta {
        service_name,
        tags: tags(resource.get("tags"), findings),
        icon_url: icon_url(resource.get("iconUrl"), findings),
    }
}

fn is_short_printable(text: &str) -> bool {
    !text.trim().is_empty() && text.len() <= MAX_NAME_CHARS && text.bytes().all(|b| (0x20..0x7f).contains(&b))
}

fn tags(value: Option<&Value>, findings: &mut Findings) -> Vec<String> {
    let items = match value {
        None | Some(Value::Null) => return Vec::new(),
        Some(Value::Array(items)) => items,
        Some(other) => {
            findings.warn(
                "tags_dropped",
                "resource.tags",
                format!("`resource.tags` must be an array of strings, got {}; it was dropped.", type_name(other)),
            );
            return Vec::new();
        }
    };
    let mut kept: Vec<String> = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let path = format!("resource.tags[{index}]");
        match item {
            Value::String(tag) if is_short_printable(tag) => {
                if kept.iter().any(|k| k.eq_ignore_ascii_case(tag)) {
                    findings.warn(
                        "tag_dropped",
                        &path,
                        format!(
                            "Tag {} repeats an earlier one (tags are compared ignoring case); it was dropped.",
                            quote(tag)
                        ),
                    );
                } else if kept.len() == MAX_TAGS {
                    findings.warn(
                        "tag_dropped",
                        &path,
                        format!("Tag {} is beyond the first {MAX_TAGS}; it was dropped.", quote(tag)),
                    );
                } else {
                    kept.push(tag.clone());
                }
            }
            Value::String(tag) => findings.warn(
                "tag_dropped",
                &path,
                format!(
                    "Tag {} is not printable ASCII of at most {MAX_NAME_CHARS} characters; it was dropped.",
                    quote(tag)
                ),
            ),
            other => findings.warn(
                "tag_dropped",
                &path,
                format!("A tag must be a string, got {}; it was dropped.", type_name(other)),
            ),
        }
    }
    kept
}

fn icon_url(value: Option<&Value>, findings: &mut Findings) -> Option<String> {
    let text = match value? {
        Value::Null => return None,
        Value::String(text) => text,
        other => {
            findings.warn(
                "icon_url_dropped",
                "resource.iconUrl",
                format!("`resource.iconUrl` must be a string, got {}; it was dropped.", type_name(other)),
            );
            return None;
        }
    };
    match icon_url_problem(text) {
        None => Some(text.clone()),
        Some(why) => {
            findings.warn(
                "icon_url_dropped",
                "resource.iconUrl",
                format!("`resource.iconUrl` {} {why}; it was dropped.", quote(text)),
            );
            None
        }
    }
}

/// Why `text` is not an acceptable icon URL, if it is not.
fn icon_url_problem(text: &str) -> Option<&'static str> {
    if text.len() > MAX_ICON_URL_BYTES {
        return Some("is longer than 2048 bytes");
    }
    let Ok(url) = Url::parse(text) else { return Some("is not an absolute URL") };
    if !matches!(url.scheme(), "http" | "https") {
        return Some("is not an http(s) URL");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Some("carries credentials");
    }
    match url.host() {
        None => Some("has no host"),
        Some(Host::Ipv4(_) | Host::Ipv6(_)) => Some("names an IP address, not a host name"),
        Some(Host::Domain(host)) => {
            let host = host.trim_end_matches('.');
            let label = host.split('.').next_back().unwrap_or_default();
            if host == "localhost" || host.ends_with(".localhost") || host.ends_with(".local") {
                Some("names a local host")
            } else if host.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
                Some("names an all-digit host")
            } else if host.starts_with("0x") && host[2..].bytes().all(|b| b.is_ascii_hexdigit()) {
                Some("names a hexadecimal host")
            } else if label.is_empty() {
                Some("has an empty host")
            } else {
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn meta(resource: Value) -> (Meta, Vec<String>) {
        let mut findings = Findings::default();
        let meta = read(resource.as_object().expect("object"), &mut findings);
        let collected = findings.finish();
        assert!(collected.problems.is_empty(), "a soft drop never makes a problem");
        (meta, collected.warnings.into_iter().map(|w| w.code).collect())
    }

    #[test]
    fn good_metadata_is_kept() {
        let (kept, codes) = meta(json!({
            "serviceName": "Weather Now",
            "tags": ["weather", "forecast"],
            "iconUrl": "https://cdn.weather.example/icon.png",
        }));
        assert_eq!(kept.service_name.as_deref(), Some("Weather Now"));
        assert_eq!(kept.tags, ["weather", "forecast"]);
        assert_eq!(kept.icon_url.as_deref(), Some("https://cdn.weather.example/icon.png"));
        assert!(codes.is_empty(), "{codes:?}");
    }

    #[test]
    fn bad_values_are_dropped_one_by_one_with_a_warning() {
        let (kept, codes) = meta(json!({
            "serviceName": "A name that is far too long for the spec's limit",
            "tags": ["ok", "OK", "caf\u{e9}", 7, "b", "c", "d", "e"],
            "iconUrl": "https://user:pw@icons.example/i.png",
        }));
        assert_eq!(kept.service_name, None);
        assert_eq!(kept.tags, ["ok", "b", "c", "d", "e"]);
        assert_eq!(kept.icon_url, None);
        assert_eq!(codes.iter().filter(|c| *c == "tag_dropped").count(), 3, "{codes:?}");
        assert!(codes.contains(&"service_name_invalid".to_string()) && codes.contains(&"icon_url_dropped".to_string()));
    }

    #[test]
    fn icon_hosts_that_reach_inside_are_refused() {
        for bad in [
            "http://127.0.0.1/i.png",
            "http://[::1]/i.png",
            "http://localhost/i.png",
            "http://2130706433/i.png",
            "http://0x7f000001/i.png",
            "ftp://icons.example/i.png",
            "/relative.png",
        ] {
            assert!(icon_url_problem(bad).is_some(), "{bad}");
        }
        assert_eq!(icon_url_problem("https://icons.example/i.png"), None);
    }
}
