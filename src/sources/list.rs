//! A list source: a file, or an http(s) URL (fetched conditionally), of `URL [METHOD]` lines.

use super::{ImportError, ImportSummary, MAX_ENTRIES, fetch, take};
use crate::jobs::Dispatcher;
use crate::jobs::register::parse_lines;
use agora_crawler::sources::Claim;
use url::Url;

pub(super) async fn import_list(
    dispatcher: &Dispatcher,
    location: &str,
    summary: &mut ImportSummary,
) -> Result<(), ImportError> {
    let text = match Url::parse(location) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => match fetch(dispatcher, &url, summary).await? {
            Ok(Some(body)) => String::from_utf8_lossy(&body).into_owned(),
            Ok(None) => {
                summary.unchanged = true;
                return Ok(());
            }
            Err(finding) => return Err(ImportError::Unreadable(finding.message)),
        },
        _ => std::fs::read_to_string(location).map_err(|e| ImportError::Unreadable(format!("{location}: {e}")))?,
    };
    let lines: Vec<_> = parse_lines(&text).into_iter().take(MAX_ENTRIES).collect();
    let entries: Vec<(String, Option<String>, Claim)> =
        lines.into_iter().map(|(_, url, method)| (url, method, Claim::default())).collect();
    summary.pages = 1;
    take(dispatcher, entries, summary).await
}
