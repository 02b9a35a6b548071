//! A facilitator source: its Bazaar `/discovery/resources` list, page by page, bounded in pages
//! and entries, a page that repeats the previous one stopping the run.

use super::{ImportError, ImportSummary, MAX_ENTRIES, MAX_PAGES, MAX_REPORTED, take};
use crate::jobs::{Dispatcher, Lane};
use agora_crawler::Finding;
use agora_crawler::sources::{page_url, parse_page};
use url::Url;

pub(super) async fn import_facilitator(
    dispatcher: &Dispatcher,
    location: &str,
    summary: &mut ImportSummary,
) -> Result<(), ImportError> {
    let base = Url::parse(location)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| ImportError::Unreadable(format!("{location} is not an http(s) URL")))?;
    let mut offset = 0u64;
    let mut previous_first: Option<String> = None;
    while summary.pages < MAX_PAGES {
        let url = page_url(&base, offset);
        let body = match dispatcher.worker().fetch_document(&url, Lane::Priority).await? {
            Ok(body) => body,
            // The first page is the source; a later one failing ends the run with what was read.
            Err(finding) if summary.pages == 0 => return Err(ImportError::Unreadable(finding.message)),
            Err(finding) => {
                summary.stopped = Some(finding);
                return Ok(());
            }
        };
        let page = match parse_page(&body) {
            Ok(page) => page,
            Err(finding) if summary.pages == 0 => return Err(ImportError::Unreadable(finding.message)),
            Err(finding) => {
                summary.stopped = Some(finding);
                return Ok(());
            }
        };
        summary.pages += 1;
        let first = page.entries.first().map(|e| e.url.clone());
        if first.is_some() && first == previous_first {
            summary.stopped = Some(Finding::new(
                "source_pagination_loop",
                format!("Page {} repeats the previous one: the source's paging does not advance.", summary.pages),
            ));
            return Ok(());
        }
        previous_first = first;
        let room = MAX_ENTRIES.saturating_sub(summary.found);
        let room_for_reasons = MAX_REPORTED.saturating_sub(summary.skipped.len());
        summary.skipped.extend(page.skipped.into_iter().take(room_for_reasons));
        let entries: Vec<_> = page.entries.into_iter().take(room).map(|e| (e.url, e.method, e.claim)).collect();
        let read = page.items as u64;
        take(dispatcher, entries, summary).await?;
        offset += read;
        // The end: an empty page, or the total the source states. (A short page is not the end:
        // some facilitators cap `limit` below what was asked.)
        let at_end = read == 0 || page.total.is_some_and(|total| offset >= total);
        if at_end {
            return Ok(());
        }
        if summary.found >= MAX_ENTRIES {
            summary.stopped = Some(Finding::new(
                "source_too_large",
                format!("The source lists more than {MAX_ENTRIES} entries; Agora took the first {MAX_ENTRIES}."),
            ));
            return Ok(());
        }
    }
    summary.stopped = Some(Finding::new(
        "source_too_large",
        format!("The source has more than {MAX_PAGES} pages; Agora read the first {MAX_PAGES}."),
    ));
    Ok(())
}
