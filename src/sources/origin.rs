//! An origin source: its own route documents (`agora_crawler::origin_docs`), asked for
//! conditionally; the origin is authoritative for its routes, so one it no longer lists is
//! withdrawn (after a complete reading only).

use super::{ImportError, ImportSummary, MAX_ENTRIES, MAX_REPORTED, fetch, take};
use crate::db::sources::SourceWrite;
use crate::jobs::Dispatcher;
use agora_crawler::origin_docs;
use agora_crawler::sources::Claim;
use url::Url;

/// Reads every route document the origin publishes; none at all is an unreadable source.
pub(super) async fn import_origin(
    dispatcher: &Dispatcher,
    location: &str,
    summary: &mut ImportSummary,
) -> Result<(), ImportError> {
    let origin = Url::parse(location)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| ImportError::Unreadable(format!("{location} is not an http(s) URL")))?;
    let mut entries: Vec<(String, Option<String>, Claim)> = Vec::new();
    let mut tried = Vec::new();
    // A document that could not be read (not one that is absent) may still list routes.
    let mut incomplete = false;
    // First pass conditional: if every document that exists is unchanged, so is the origin.
    let mut bodies = Vec::new();
    let mut unchanged = Vec::new();
    for path in origin_docs::DOCUMENTS {
        let Ok(url) = origin.join(path) else { continue };
        summary.pages += 1;
        match fetch(dispatcher, &url, summary).await? {
            Ok(Some(body)) => bodies.push((*path, body)),
            Ok(None) => unchanged.push((*path, url)),
            Err(finding) => {
                incomplete |= finding.code != "status_404";
                tried.push(format!("{path}: {}", finding.code));
            }
        }
    }
    if bodies.is_empty() && !unchanged.is_empty() {
        summary.unchanged = true;
        return Ok(());
    }
    // Something changed: the unchanged documents' routes are needed too.
    for (path, url) in unchanged {
        summary.last_validators.remove(url.as_str());
        match fetch(dispatcher, &url, summary).await? {
            Ok(Some(body)) => bodies.push((path, body)),
            Ok(None) => {}
            Err(finding) => {
                incomplete |= finding.code != "status_404";
                tried.push(format!("{path}: {}", finding.code));
            }
        }
    }
    for (path, body) in bodies {
        match origin_docs::parse(&origin, path, &body) {
            Ok(routes) => {
                let room = MAX_REPORTED.saturating_sub(summary.skipped.len());
                summary.skipped.extend(routes.skipped.into_iter().take(room));
                for entry in routes.entries {
                    if !entries.iter().any(|(url, method, _)| *url == entry.url && *method == entry.method) {
                        entries.push((entry.url, entry.method, entry.claim));
                    }
                }
            }
            Err(finding) => tried.push(format!("{path}: {}", finding.code)),
        }
    }
    if entries.is_empty() && tried.len() == origin_docs::DOCUMENTS.len() {
        return Err(ImportError::Unreadable(format!(
            "{location} publishes no x402 route document (tried {})",
            tried.join(", ")
        )));
    }
    entries.truncate(MAX_ENTRIES);
    take(dispatcher, entries, summary).await?;
    // An origin is authoritative for its own routes: the ones it no longer lists are withdrawn —
    // only after a complete reading.
    if incomplete {
        return Ok(());
    }
    let present: Vec<i64> = summary.services.iter().map(|s| s.id).collect();
    let (source_id, at) = (summary.source_id, dispatcher.worker().now_ms());
    dispatcher.worker().store().writer().source(SourceWrite::Withdraw { source_id, present, at }).await?;
    Ok(())
}
