//! The resource a challenge is for (PROTOCOL §1.2–1.3, §4.2 step 11): the v2 top-level
//! `resource` object (its URL, description and media type, and the seller's metadata on it) or
//! the v1 fields of the first entry, the display text clipped, and the resource compared with
//! the URL that was probed.

use super::accepts::is_absolute_http_url;
use super::findings::{Findings, quote, type_name};
use super::limits::{self, MAX_DESCRIPTION_CHARS, MAX_MIME_TYPE_BYTES};
use super::resource_meta::{self, Meta};
use crate::report::Resource;
use crate::target::MAX_URL_BYTES;
use serde_json::{Map, Value};
use url::Url;

/// The v2 resource, and the seller's metadata on it.
pub(super) fn check_v2_resource(object: &Map<String, Value>, findings: &mut Findings) -> (Option<Resource>, Meta) {
    match v2_resource(object, findings) {
        Some((resource, meta)) => (Some(resource), meta),
        None => (None, Meta::default()),
    }
}

fn v2_resource(object: &Map<String, Value>, findings: &mut Findings) -> Option<(Resource, Meta)> {
    let resource = match object.get("resource") {
        None => {
            findings.problem(
                "resource_missing",
                "resource",
                "x402 v2 requires a top-level `resource` object with the endpoint's `url`.",
            );
            return None;
        }
        Some(Value::Object(resource)) => resource,
        Some(other) => {
            findings.problem(
                "resource_not_object",
                "resource",
                format!("`resource` must be an object with a `url`, got {}.", type_name(other)),
            );
            return None;
        }
    };
    let url = match resource.get("url") {
        Some(Value::String(url)) => url,
        Some(other) => {
            findings.problem(
                "resource_url_not_string",
                "resource.url",
                format!("`resource.url` must be a string, got {}.", type_name(other)),
            );
            return None;
        }
        None => {
            findings.problem("resource_url_missing", "resource.url", "`resource.url` is required.");
            return None;
        }
    };
    if !(is_absolute_http_url(url) || (url.starts_with("mcp://") && url.len() <= MAX_URL_BYTES)) {
        findings.problem(
            "resource_invalid",
            "resource.url",
            format!(
                "`resource.url` {} must be the absolute URL of the paid endpoint (at most {MAX_URL_BYTES} bytes).",
                quote(url)
            ),
        );
        return None;
    }
    let text = |key: &str| resource.get(key).and_then(Value::as_str).map(str::to_string);
    let mut meta = resource_meta::read(resource, findings);
    let resource = Resource {
        url: url.clone(),
        description: description(text("description"), "resource.description", findings),
        mime_type: mime_type(text("mimeType"), "resource.mimeType", findings),
        icon_url: meta.icon_url.take(),
    };
    Some((resource, meta))
}

pub(super) fn v1_resource(entry: &Map<String, Value>) -> Option<Resource> {
    let text = |key: &str| entry.get(key).and_then(Value::as_str).map(str::to_string);
    Some(Resource {
        url: text("resource")?,
        description: text("description").unwrap_or_default(),
        mime_type: text("mimeType"),
        ..Resource::default()
    })
}

/// The description as shown and searched: clipped to [`MAX_DESCRIPTION_CHARS`].
pub(super) fn description(value: Option<String>, path: &str, findings: &mut Findings) -> String {
    let value = value.unwrap_or_default();
    match limits::clip_chars(&value, MAX_DESCRIPTION_CHARS) {
        None => value,
        Some(clipped) => {
            findings.warn(
                "description_clipped",
                path,
                format!(
                    "The description is {} characters; its first {MAX_DESCRIPTION_CHARS} are shown and searched.",
                    value.chars().count()
                ),
            );
            clipped
        }
    }
}

pub(super) fn mime_type(value: Option<String>, path: &str, findings: &mut Findings) -> Option<String> {
    let value = value.filter(|m| !m.is_empty())?;
    if value.len() > MAX_MIME_TYPE_BYTES {
        findings.warn(
            "mime_type_invalid",
            path,
            format!("`mimeType` is {} bytes, longer than any media type; it was ignored.", value.len()),
        );
        return None;
    }
    if !value.contains('/') {
        findings.warn(
            "mime_type_invalid",
            path,
            format!("`mimeType` {} is not a media type such as \"application/json\".", quote(&value)),
        );
    }
    Some(value)
}

/// A resource that names another endpoint, or a development host, is suspicious but not fatal:
/// many real challenges advertise `http://localhost:…` (PROTOCOL §4.2 step 11).
pub(super) fn compare_resource(resource: &str, probed: &Url, findings: &mut Findings) {
    let Ok(resource_url) = Url::parse(resource) else { return };
    let is_local = matches!(resource_url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]" | "0.0.0.0"));
    if is_local && !matches!(probed.host_str(), Some("localhost" | "127.0.0.1" | "[::1]")) {
        findings.warn(
            "resource_localhost",
            "resource",
            format!("The challenge's resource {} points at a development host.", quote(resource)),
        );
        return;
    }
    let strip = |u: &Url| {
        format!(
            "{}://{}{}",
            u.scheme(),
            u.host_str().unwrap_or_default(),
            u.port().map(|p| format!(":{p}")).unwrap_or_default()
        ) + u.path()
    };
    if resource_url.scheme() != "mcp" && strip(&resource_url) != strip(probed) {
        findings.warn(
            "resource_mismatch",
            "resource",
            format!(
                "The challenge's resource {} differs from the probed URL {}.",
                quote(resource),
                quote(probed.as_str())
            ),
        );
    }
}
