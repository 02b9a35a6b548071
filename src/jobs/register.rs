//! Registration, the one function behind `agora register` and (later) `POST /api/v1/services`:
//! check and canonicalize the URL, refuse what the address policy forbids, store it as `pending`
//! (or find the existing service — never a second row), then probe it at once, ahead of
//! scheduled work but still one request at a time per host.
//!
//! Nothing is stored for a URL that cannot be probed: a malformed URL, an unsupported scheme or
//! method, userinfo, a private address, a name that does not resolve.

use super::dispatch::Dispatcher;
use super::worker::JobError;
use crate::db::StoreError;
use crate::db::moderation::RegistrationBlocks;
use crate::db::register::{Claim, NewService, Registered};
use crate::db::services::{self, DueService, ServiceRow};
use agora_crawler::probe::refused_report;
use agora_crawler::{Finding, ProbeReport, ProbeTarget};
use std::collections::HashMap;
use std::sync::Arc;

/// A registration that was stored and probed.
#[derive(Debug, Clone)]
pub struct Registration {
    pub service: ServiceRow,
    /// False when the URL was already registered (it was re-probed).
    pub created: bool,
    pub report: Arc<ProbeReport>,
}

#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    /// The URL cannot be registered; the report (verdict `refused`) says why. Nothing was stored.
    #[error("{}", .0.problems.first().map_or("refused", |p| p.message.as_str()))]
    Refused(Box<ProbeReport>),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Stored, but shutdown came before the probe; the crawl will probe it.
    #[error("registered, but the first probe was abandoned at shutdown; it will be probed by the crawl")]
    Cancelled,
    /// The probe ran but recording it failed (reported to another caller waiting on it).
    #[error("the probe could not be recorded: {0}")]
    Failed(String),
}

/// Checks `url` and `method` without storing anything.
pub async fn check(dispatcher: &Dispatcher, url: &str, method: Option<&str>) -> Result<NewService, Box<ProbeReport>> {
    let refuse = |problem: Finding| Box::new(refused_report(url, method.unwrap_or("GET"), problem));
    let target = ProbeTarget::parse(url, method).map_err(refuse)?;
    // Fails closed: a block that cannot be read is not waved through.
    let blocks = RegistrationBlocks::load(dispatcher.worker().store().read()).await.map_err(|error| {
        tracing::warn!(%error, "cannot read the blocks");
        refuse(Finding::new("store_unavailable", "The catalog cannot check this URL just now; try again later."))
    })?;
    blocked(&blocks, &target).map_err(refuse)?;
    dispatcher.worker().prober().fetcher().preflight(&target.url).await.map_err(refuse)?;
    Ok(new_service(&target))
}

/// Refuses a target on a host or origin an operator blocked (docs/OWNERSHIP.md), giving the
/// block's public reason.
fn blocked(blocks: &RegistrationBlocks, target: &ProbeTarget) -> Result<(), Finding> {
    let host = target.url.host_str().unwrap_or_default().to_ascii_lowercase();
    match blocks.refusing(&host, &target.url.origin().ascii_serialization()) {
        Some(block) => {
            Err(Finding::new("blocked", format!("This {} is blocked from the catalog: {}", block.kind, block.reason)))
        }
        None => Ok(()),
    }
}

/// The stored identity of a checked target: canonical URL, method, lower-cased host.
pub fn new_service(target: &ProbeTarget) -> NewService {
    NewService {
        url: target.url.to_string(),
        method: target.method.to_string(),
        host: target.url.host_str().unwrap_or_default().to_ascii_lowercase(),
    }
}

/// Registers one URL and returns the stored service with its first (or fresh) probe.
pub async fn register(dispatcher: &Dispatcher, url: &str, method: Option<&str>) -> Result<Registration, RegisterError> {
    let new = check(dispatcher, url, method).await.map_err(RegisterError::Refused)?;
    let worker = dispatcher.worker();
    let store = worker.store();
    // Claimed for this node's crawler as it is stored: probed here, at once, and by no other node.
    let now = worker.now_ms();
    let claim = Claim { node: worker.lease().node.clone(), until: now.saturating_add(worker.lease().duration_ms) };
    let registered = store.writer().register_claimed(vec![new.clone()], now, claim).await?;
    let Registered { id, created } = registered.first().copied().ok_or(StoreError::NoSuchService(0))?;
    let due = DueService::registered(id, new);
    let probed = match dispatcher.probe_now(due).await {
        Ok(probed) => probed,
        Err(JobError::Cancelled) => return Err(RegisterError::Cancelled),
        Err(JobError::Store(error)) => return Err(error.into()),
        Err(error @ (JobError::Failed(_) | JobError::ClaimLost)) => {
            return Err(RegisterError::Failed(error.to_string()));
        }
    };
    let service = services::get(store.read(), id).await?.ok_or(StoreError::NoSuchService(id))?;
    Ok(Registration { service, created, report: probed.report })
}

/// One line of a bulk file that could not be registered.
#[derive(Debug, Clone)]
pub struct BulkRefusal {
    pub line: usize,
    pub text: String,
    pub problem: Finding,
}

/// What storing a bulk file did (probing follows through the scheduler).
#[derive(Debug, Clone, Default)]
pub struct BulkRegistration {
    pub services: Vec<(DueService, bool)>,
    pub refused: Vec<BulkRefusal>,
}

/// Parses `URL [METHOD]` lines; blank lines and `#` comments are skipped.
pub fn parse_lines(text: &str) -> Vec<(usize, String, Option<String>)> {
    text.lines()
        .enumerate()
        .filter_map(|(index, line)| {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                return None;
            }
            let mut parts = line.split_whitespace();
            let url = parts.next()?.to_string();
            let method = parts.next().map(str::to_string);
            Some((index + 1, url, method))
        })
        .collect()
}

/// Checks and stores many URLs in one durable transaction; nothing is stored for refused lines.
/// Lines that name the same service twice count once.
pub async fn register_many(
    dispatcher: &Dispatcher,
    lines: &[(usize, String, Option<String>)],
) -> Result<BulkRegistration, StoreError> {
    let mut out = BulkRegistration::default();
    let mut checked_hosts: HashMap<String, Result<(), Finding>> = HashMap::new();
    let blocks = RegistrationBlocks::load(dispatcher.worker().store().read()).await?;
    let mut accepted = Vec::new();
    for (line, url, method) in lines {
        let refuse = |problem: Finding| BulkRefusal { line: *line, text: url.clone(), problem };
        let target = match ProbeTarget::parse(url, method.as_deref()) {
            Ok(target) => target,
            Err(problem) => {
                out.refused.push(refuse(problem));
                continue;
            }
        };
        if let Err(problem) = blocked(&blocks, &target) {
            out.refused.push(refuse(problem));
            continue;
        }
        let host = target.url.host_str().unwrap_or_default().to_ascii_lowercase();
        let verdict = match checked_hosts.get(&host) {
            Some(verdict) => verdict.clone(),
            None => {
                let verdict = dispatcher.worker().prober().fetcher().preflight(&target.url).await;
                checked_hosts.insert(host, verdict.clone());
                verdict
            }
        };
        match verdict {
            Ok(()) => accepted.push(new_service(&target)),
            Err(problem) => out.refused.push(refuse(problem)),
        }
    }
    if accepted.is_empty() {
        return Ok(out);
    }
    let worker = dispatcher.worker();
    let registered = worker.store().writer().register(accepted.clone(), worker.now_ms()).await?;
    let mut seen = std::collections::HashSet::new();
    for (new, Registered { id, created }) in accepted.into_iter().zip(registered) {
        if seen.insert(id) {
            out.services.push((DueService::registered(id, new), created));
        }
    }
    Ok(out)
}
