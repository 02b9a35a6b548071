//! Probing one stored service end to end: take the host's lease, consult robots.txt, take a
//! global permit only while a request is on the wire, probe, and record the result through the
//! writer. The lifecycle is applied inside the writer's transaction.

use super::hosts::HostGate;
use super::probe_metrics::ProbeMetrics;
use super::robots::RobotsCache;
use crate::clock::Clock;
use crate::db::leases::{self, Lease};
use crate::db::record::{ProbeRecord, Recorded};
use crate::db::register::NewService;
use crate::db::services::DueService;
use crate::db::{Store, StoreError};
use crate::lifecycle::LifecyclePolicy;
use agora_crawler::fetch::Fetcher;
use agora_crawler::probe::refused_report;
use agora_crawler::{Finding, ProbeReport, ProbeTarget, Prober, RobotsRules, Verdict, fetch_robots};
use std::sync::Arc;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use url::Url;

/// Which pool of global permits a probe draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// Recrawls from the schedule.
    Scheduled,
    /// A seller waiting for a verdict: its own permits, so it never queues behind a crawl.
    Priority,
}

/// A probe that was recorded.
#[derive(Debug, Clone)]
pub struct Probed {
    pub service: DueService,
    /// Shared: the same report goes to the writer, the caller and progress listeners.
    pub report: Arc<ProbeReport>,
    pub recorded: Recorded,
}

/// What the crawler's manners allowed a request.
pub(super) enum Mannered<T> {
    Done(T),
    /// robots.txt forbade it (the flag: because robots.txt itself could not be read).
    Refused(Finding, bool),
}

/// Why a job produced no record.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("shutting down: the probe was abandoned before anything was written")]
    Cancelled,
    #[error("another node probes it: this node's claim expired while the probe waited")]
    ClaimLost,
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The store failed for another caller waiting on the same probe.
    #[error("{0}")]
    Failed(String),
}

pub(super) struct WorkerParts {
    pub prober: Prober,
    /// The prober's fetcher with the icon limits (`agora_crawler::icon::fetch_config`).
    pub icons: Fetcher,
    /// The prober's fetcher with the source-document limits (4 MiB pages).
    pub documents: Fetcher,
    /// The prober's fetcher with the proof-file limits (`jobs::proofs`).
    pub proofs: Fetcher,
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub policy: LifecyclePolicy,
    pub hosts: HostGate,
    pub robots: RobotsCache,
    pub scheduled: Semaphore,
    pub priority: Semaphore,
    pub cancel: CancellationToken,
    pub metrics: ProbeMetrics,
    /// This node's claims on due services (`db::leases`).
    pub lease: Lease,
}

/// Probes services. Cheap to clone.
#[derive(Clone)]
pub struct Worker {
    parts: Arc<WorkerParts>,
}

impl Worker {
    pub(super) fn new(parts: WorkerParts) -> Self {
        Worker { parts: Arc::new(parts) }
    }

    pub fn store(&self) -> &Store {
        &self.parts.store
    }

    pub fn icon_fetcher(&self) -> &Fetcher {
        &self.parts.icons
    }

    pub fn document_fetcher(&self) -> &Fetcher {
        &self.parts.documents
    }

    pub fn proof_fetcher(&self) -> &Fetcher {
        &self.parts.proofs
    }

    pub fn prober(&self) -> &Prober {
        &self.parts.prober
    }

    /// Probe outcome counters (`GET /metrics`).
    pub fn metrics(&self) -> &ProbeMetrics {
        &self.parts.metrics
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.parts.clock
    }

    /// Catalog time (epoch ms).
    pub fn now_ms(&self) -> i64 {
        self.parts.clock.now_ms()
    }

    /// The status and schedule rules this worker applies (the operator's flags over the defaults).
    pub fn policy(&self) -> &LifecyclePolicy {
        &self.parts.policy
    }

    pub fn cancel_token(&self) -> &CancellationToken {
        &self.parts.cancel
    }

    /// This node's claims on due services.
    pub fn lease(&self) -> &Lease {
        &self.parts.lease
    }

    /// Probes `service` politely and records the outcome.
    pub async fn probe(&self, service: &DueService, lane: Lane) -> Result<Probed, JobError> {
        let parts = &*self.parts;
        // A scheduled probe renews this node's claim as it starts: another node may have taken
        // the service if the claim expired while the probe waited for its host.
        if lane == Lane::Scheduled
            && !leases::renew(parts.store.read(), &parts.lease, service.id, self.now_ms()).await?
        {
            return Err(JobError::ClaimLost);
        }
        let report = Arc::new(self.fetch_report(&service.target(), lane).await?);
        let record = ProbeRecord {
            service_id: service.id,
            report: Arc::clone(&report),
            probed_at: parts.clock.now_ms(),
            jitter: fastrand::f64() * 2.0 - 1.0,
            policy: parts.policy,
        };
        let recorded = parts.store.writer().record(record).await?;
        // The icon follows the listing; a failure to keep it is recorded, never the probe's.
        if let Err(error) = self.refresh_icon(service.id, &report, lane).await {
            tracing::warn!(%error, service = service.id, "icon not refreshed");
        }
        Ok(Probed { service: service.clone(), report, recorded })
    }

    /// Probes `service` under the same rules as every probe — the host's politeness gap,
    /// robots.txt, the lane's permits — and records nothing (a lookup of an unregistered URL).
    pub async fn fetch_report(&self, service: &NewService, lane: Lane) -> Result<ProbeReport, JobError> {
        let parts = &*self.parts;
        let report = match ProbeTarget::parse(&service.url, Some(&service.method)) {
            Err(problem) => refused_report(&service.url, &service.method, problem),
            Ok(target) => {
                match self.politely(&target.url, &service.host, lane, || parts.prober.probe(&target)).await? {
                    Mannered::Done(report) => report,
                    Mannered::Refused(problem, unreachable) => {
                        let mut report = refused_report(target.url.as_str(), target.method.as_str(), problem);
                        if unreachable {
                            report.verdict = Verdict::FetchError;
                        }
                        report
                    }
                }
            }
        };
        parts.metrics.observe(&report, lane);
        Ok(report)
    }

    /// Runs `request` to `url` with the crawler's manners: `host`'s lease and politeness gap,
    /// robots.txt (fetched in the same lease when not cached; its crawl delay applied), and a
    /// global permit of `lane` while the request is on the wire.
    pub(super) async fn politely<T, F: Future<Output = T>>(
        &self,
        url: &Url,
        host: &str,
        lane: Lane,
        request: impl FnOnce() -> F,
    ) -> Result<Mannered<T>, JobError> {
        let parts = &*self.parts;
        let cancel = &parts.cancel;
        let mut lease = cancel.run_until_cancelled(parts.hosts.acquire(host)).await.ok_or(JobError::Cancelled)?;
        let rules = match parts.robots.get(url) {
            Some(rules) => rules,
            None => {
                cancel.run_until_cancelled(lease.turn()).await.ok_or(JobError::Cancelled)?;
                let _permit = self.permit(lane).await?;
                let rules = fetch_robots(parts.prober.fetcher(), url).await;
                lease.done();
                parts.robots.put(url, rules)
            }
        };
        lease.set_crawl_delay(rules.crawl_delay());
        if let Err(problem) = rules.check(url) {
            return Ok(Mannered::Refused(problem, matches!(*rules, RobotsRules::Unreachable(_))));
        }
        cancel.run_until_cancelled(lease.turn()).await.ok_or(JobError::Cancelled)?;
        let _permit = self.permit(lane).await?;
        let done = request().await;
        lease.done();
        Ok(Mannered::Done(done))
    }

    /// Runs `request` under the host's politeness gap and a lane permit, without consulting
    /// robots.txt: for fetches a seller asked for on their own origin (a proof of control), which
    /// are not crawling.
    pub(super) async fn on_request<T, F: Future<Output = T>>(
        &self,
        host: &str,
        lane: Lane,
        request: impl FnOnce() -> F,
    ) -> Result<T, JobError> {
        let cancel = &self.parts.cancel;
        let mut lease = cancel.run_until_cancelled(self.parts.hosts.acquire(host)).await.ok_or(JobError::Cancelled)?;
        cancel.run_until_cancelled(lease.turn()).await.ok_or(JobError::Cancelled)?;
        let _permit = self.permit(lane).await?;
        let done = request().await;
        lease.done();
        Ok(done)
    }

    async fn permit(&self, lane: Lane) -> Result<tokio::sync::SemaphorePermit<'_>, JobError> {
        let semaphore = match lane {
            Lane::Scheduled => &self.parts.scheduled,
            Lane::Priority => &self.parts.priority,
        };
        let acquire = semaphore.acquire();
        match self.parts.cancel.run_until_cancelled(acquire).await {
            Some(Ok(permit)) => Ok(permit),
            _ => Err(JobError::Cancelled),
        }
    }
}
