//! Importing a source once (docs/SOURCES.md): read what it lists — a facilitator's Bazaar list
//! page by page, an origin's own route documents, or a list of `URL [METHOD]` lines — and send
//! every URL through the ordinary registration path (canonical URL, address policy; nothing
//! stored for a refused one), keeping what the source claimed about each service as provenance.
//! Each page's services are queued for probes as it is read: nothing a source says is believed
//! until a probe has seen it.
//!
//! The kinds: [`facilitator`], [`origin`], [`list`].
//!
//! A hostile source is bounded, never fatal: pages are capped in size and items
//! (`agora_crawler::sources`), a run in pages and entries, and a list that repeats a page (looping
//! pagination) stops the run with a reason.

mod facilitator;
mod list;
mod origin;

use crate::db::services::DueService;
use crate::db::sources::{self, SourceWrite};
use crate::jobs::documents::Document;
use crate::jobs::register::{new_service, register_many};
use crate::jobs::{Dispatcher, JobError, Lane};
use agora_crawler::fetch::Validators;
use agora_crawler::sources::{Claim, page_url, parse_page};
use agora_crawler::{Finding, ProbeTarget};
use std::collections::HashMap;
use url::Url;

/// Most pages read in one run (100,000 entries at 100 a page).
pub const MAX_PAGES: u64 = 1_000;
/// Most entries taken from one run.
pub const MAX_ENTRIES: usize = 100_000;

/// What a source is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// A facilitator's Bazaar list (`{base}/discovery/resources`).
    Facilitator,
    /// A file or URL of `URL [METHOD]` lines.
    List,
    /// An origin's own documents: `/.well-known/x402.json`, `/.well-known/x402`, OpenAPI.
    Origin,
}

impl SourceKind {
    pub fn parse(text: &str) -> Option<SourceKind> {
        match text {
            "facilitator" => Some(SourceKind::Facilitator),
            "list" => Some(SourceKind::List),
            "origin" => Some(SourceKind::Origin),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Facilitator => "facilitator",
            SourceKind::List => "list",
            SourceKind::Origin => "origin",
        }
    }
}

/// The kind `location` is when none is given: a path or a URL ending in `.txt` is a list; a URL
/// whose `/supported` lists the `bazaar` extension, or that answers a Bazaar page at
/// `/discovery/resources`, is a facilitator; any other URL, an origin.
pub async fn detect(dispatcher: &Dispatcher, location: &str) -> Result<SourceKind, ImportError> {
    let url = match Url::parse(location) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && !url.path().ends_with(".txt") => url,
        _ => return Ok(SourceKind::List),
    };
    let worker = dispatcher.worker();
    let supported = url.join(&format!("{}/supported", url.path().trim_end_matches('/'))).ok();
    if let Some(supported) = supported
        && let Ok(body) = worker.fetch_document(&supported, Lane::Priority).await?
        && serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("extensions").and_then(|e| e.as_array()).cloned())
            .is_some_and(|extensions| extensions.iter().any(|e| e.as_str() == Some("bazaar")))
    {
        return Ok(SourceKind::Facilitator);
    }
    if let Ok(body) = worker.fetch_document(&page_url(&url, 0), Lane::Priority).await?
        && parse_page(&body).is_ok()
    {
        return Ok(SourceKind::Facilitator);
    }
    Ok(SourceKind::Origin)
}

/// What one run found and did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ImportSummary {
    pub source_id: i64,
    /// Entries the source listed (usable ones).
    pub found: usize,
    /// Services stored for the first time.
    pub new: usize,
    /// Services Agora already had.
    pub known: usize,
    /// Entries refused by registration (with why), at most [`MAX_REPORTED`] kept.
    pub refused: usize,
    pub refusals: Vec<(String, Finding)>,
    /// Items the source listed that were not usable, with why (at most [`MAX_REPORTED`]).
    pub skipped: Vec<Finding>,
    pub pages: u64,
    /// Why the run stopped before the source's end, if it did.
    pub stopped: Option<Finding>,
    /// The services the source listed that registration accepted; each was queued for a probe
    /// as its page was read, so probing overlaps reading.
    #[serde(skip)]
    pub services: Vec<DueService>,
    /// Probes queued (a service already waiting for one is not queued twice).
    pub queued: usize,
    /// The source answered "not modified" (304) to a conditional request: nothing to read.
    pub unchanged: bool,
    /// Validators of the documents read, by URL, for the next conditional run.
    #[serde(skip)]
    pub validators: HashMap<String, Validators>,
    /// Validators stored from the last run.
    #[serde(skip)]
    last_validators: HashMap<String, Validators>,
}

/// Reasons kept per run (the counts say the rest).
pub const MAX_REPORTED: usize = 50;

/// Why a run could not start or finish at all.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    Unreadable(String),
    #[error(transparent)]
    Job(#[from] JobError),
    #[error(transparent)]
    Store(#[from] crate::db::StoreError),
}

/// Imports `location` as a source of `kind`, storing it; the services are left to probe.
pub async fn import(dispatcher: &Dispatcher, kind: SourceKind, location: &str) -> Result<ImportSummary, ImportError> {
    let source_id = add(dispatcher, kind, location).await?;
    run(dispatcher, source_id, kind, location).await
}

/// Stores a source (or finds it by location); answers its id.
pub async fn add(dispatcher: &Dispatcher, kind: SourceKind, location: &str) -> Result<i64, ImportError> {
    let worker = dispatcher.worker();
    let at = worker.now_ms();
    let write = SourceWrite::Add { kind: kind.as_str().into(), location: location.into(), at };
    Ok(worker.store().writer().source(write).await?)
}

/// Runs the import of stored source `source_id` once, recording how it went.
pub async fn run(
    dispatcher: &Dispatcher,
    source_id: i64,
    kind: SourceKind,
    location: &str,
) -> Result<ImportSummary, ImportError> {
    let worker = dispatcher.worker();
    let writer = worker.store().writer();
    let last_validators = sources::validators(worker.store().read(), source_id).await?;
    let mut summary = ImportSummary { source_id, last_validators, ..ImportSummary::default() };
    let outcome = match kind {
        SourceKind::List => list::import_list(dispatcher, location, &mut summary).await,
        SourceKind::Facilitator => facilitator::import_facilitator(dispatcher, location, &mut summary).await,
        SourceKind::Origin => origin::import_origin(dispatcher, location, &mut summary).await,
    };
    let counts = (!summary.unchanged).then(|| {
        serde_json::json!({
            "found": summary.found, "new": summary.new, "known": summary.known,
            "refused": summary.refused, "skipped": summary.skipped.len(), "pages": summary.pages,
        })
    });
    let label = match (&outcome, &summary.stopped) {
        (Err(error), _) => error.to_string(),
        (Ok(()), Some(stopped)) => stopped.code.clone(),
        (Ok(()), None) if summary.unchanged => "unchanged".to_string(),
        (Ok(()), None) => "ok".to_string(),
    };
    let ok = outcome.is_ok();
    let validators = std::mem::take(&mut summary.validators);
    let at = worker.now_ms();
    writer.source(SourceWrite::Ran { source_id, outcome: label, counts, validators, ok, at }).await?;
    outcome.map(|()| summary)
}

/// Fetches `url` conditionally with the validators the last run stored for it: the body, or
/// `None` when it did not change; the validators it answered with are kept for the next run.
pub(super) async fn fetch(
    dispatcher: &Dispatcher,
    url: &Url,
    summary: &mut ImportSummary,
) -> Result<Result<Option<Vec<u8>>, Finding>, ImportError> {
    let known = summary.last_validators.get(url.as_str()).cloned().unwrap_or_default();
    Ok(match dispatcher.worker().fetch_document_if_changed(url, Lane::Priority, &known).await? {
        Ok(Document::Changed { body, validators }) => {
            if !validators.is_empty() {
                summary.validators.insert(url.to_string(), validators);
            }
            Ok(Some(body))
        }
        Ok(Document::Unchanged) => {
            summary.validators.insert(url.to_string(), known);
            Ok(None)
        }
        Err(finding) => Err(finding),
    })
}

/// Registers `entries` and records the source's claims about the services they became.
pub(super) async fn take(
    dispatcher: &Dispatcher,
    entries: Vec<(String, Option<String>, Claim)>,
    summary: &mut ImportSummary,
) -> Result<(), ImportError> {
    summary.found += entries.len();
    // A source repeating an entry (hostile, or sloppy) costs one registration, not one per copy.
    let mut distinct = std::collections::HashSet::new();
    let entries: Vec<_> =
        entries.into_iter().filter(|(url, method, _)| distinct.insert((url.clone(), method.clone()))).collect();
    let lines: Vec<_> =
        entries.iter().enumerate().map(|(i, (url, method, _))| (i + 1, url.clone(), method.clone())).collect();
    let bulk = register_many(dispatcher, &lines).await?;
    summary.refused += bulk.refused.len();
    for refusal in bulk.refused {
        if summary.refusals.len() < MAX_REPORTED {
            summary.refusals.push((refusal.text, refusal.problem));
        }
    }
    let ids: HashMap<(String, String), i64> =
        bulk.services.iter().map(|(due, _)| ((due.url.clone(), due.method.clone()), due.id)).collect();
    let mut seen = Vec::new();
    for (url, method, claim) in entries {
        let Ok(target) = ProbeTarget::parse(&url, method.as_deref()) else { continue };
        let new = new_service(&target);
        if let Some(id) = ids.get(&(new.url, new.method)) {
            seen.push((*id, claim));
        }
    }
    // Provenance first (an origin listing a withdrawn route gives it back to the probes), then
    // the probes: nothing a source says is believed until a probe has seen it.
    let worker = dispatcher.worker();
    let at = worker.now_ms();
    worker.store().writer().source(SourceWrite::Seen { source_id: summary.source_id, services: seen, at }).await?;
    for (due, created) in bulk.services {
        if created {
            summary.new += 1;
        } else {
            summary.known += 1;
        }
        if dispatcher.enqueue(due.clone()) {
            summary.queued += 1;
        }
        summary.services.push(due);
    }
    Ok(())
}
