//! Driving the dispatcher: `serve`'s background loop (due services every tick, maintenance every
//! hour) and `crawl --once` (everything due now, then stop), both with clean cancellation.

use super::dispatch::{Dispatcher, JobResult};
use crate::db::maintain::{MaintainReport, Retention};
use crate::db::{Dialect, StoreError, leases};
use crate::lifecycle::Status;
use agora_crawler::Verdict;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// How often `serve` looks for due services.
pub const TICK: Duration = Duration::from_secs(1);
/// How often `serve` rolls up and prunes history.
pub const MAINTENANCE_EVERY: Duration = Duration::from_secs(3600);
/// Due services fetched per tick beyond those already queued.
const DUE_BATCH: usize = 1000;
/// `crawl --once` looks for more to claim this often while its probes run.
const REFILL_CHECK: Duration = Duration::from_millis(50);

/// Queues every due service that is not queued yet (up to `limit` more); returns how many were
/// queued. With `limit` or more already queued there is work enough: the table is not read.
pub async fn enqueue_due(dispatcher: &Dispatcher, limit: usize) -> Result<usize, StoreError> {
    if dispatcher.pending() >= limit {
        return Ok(0);
    }
    let worker = dispatcher.worker();
    let now = worker.now_ms();
    // Claimed for this node (PostgreSQL); on SQLite already-queued services are still due in
    // the table, so that many more are read.
    let due = leases::claim_due(worker.store().read(), worker.lease(), now, dispatcher.pending(), limit).await?;
    Ok(due.into_iter().filter(|service| dispatcher.enqueue(service.clone())).count())
}

/// Claims this node holds from before its start (it was killed): nothing of this process probes
/// them, so they are given back rather than left to expire.
async fn release_stale_claims(dispatcher: &Dispatcher) {
    let worker = dispatcher.worker();
    match leases::release_all(worker.store().read(), worker.lease()).await {
        Ok(0) => {}
        Ok(released) => tracing::info!(released, "crawl claims left by this node's previous run given back"),
        Err(error) => tracing::warn!(%error, "crawl claims of a previous run not given back; they expire"),
    }
}

/// One maintenance pass at the clock's time.
pub async fn maintain(dispatcher: &Dispatcher, keep: Duration) -> Result<MaintainReport, StoreError> {
    let worker = dispatcher.worker();
    worker.store().writer().maintain(Retention { now: worker.now_ms(), keep }).await
}

/// `serve`'s crawl loop: runs until the worker's cancellation token fires. Waiting for in-flight
/// probes (with a deadline) is [`crate::app::App::shutdown`]'s job.
pub async fn run(dispatcher: Dispatcher, retention: Duration) {
    let cancel = dispatcher.worker().cancel_token().clone();
    release_stale_claims(&dispatcher).await;
    let mut last_maintenance: Option<Instant> = None;
    while !cancel.is_cancelled() {
        if last_maintenance.is_none_or(|at| at.elapsed() >= MAINTENANCE_EVERY) {
            match maintain(&dispatcher, retention).await {
                Ok(report) => tracing::info!(?report, "history maintenance"),
                Err(error) => tracing::warn!(%error, "history maintenance failed"),
            }
            last_maintenance = Some(Instant::now());
        }
        if let Err(error) = enqueue_due(&dispatcher, DUE_BATCH).await {
            tracing::warn!(%error, "cannot read due services");
        }
        let _ = cancel.run_until_cancelled(tokio::time::sleep(TICK)).await;
    }
}

/// What `crawl --once` did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CrawlSummary {
    pub probed: usize,
    pub listed: usize,
    pub rejected: usize,
    pub degraded: usize,
    pub delisted: usize,
    /// Probes that got no usable answer (`fetch_error`).
    pub fetch_errors: usize,
    /// Probes that could not be recorded, or were abandoned at shutdown.
    pub failed: usize,
    pub elapsed: Duration,
}

impl CrawlSummary {
    pub fn count(&mut self, result: &JobResult) {
        match result {
            Ok(probed) => {
                self.probed += 1;
                match probed.recorded.status {
                    Status::Listed => self.listed += 1,
                    Status::Rejected => self.rejected += 1,
                    Status::Degraded => self.degraded += 1,
                    Status::Delisted => self.delisted += 1,
                    Status::Pending => {}
                }
                if probed.report.verdict == Verdict::FetchError {
                    self.fetch_errors += 1;
                }
            }
            Err(_) => self.failed += 1,
        }
    }
}

impl std::fmt::Display for CrawlSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "probed {} in {:.1} s: {} listed, {} rejected, {} degraded, {} delisted; {} fetch errors",
            self.probed,
            self.elapsed.as_secs_f64(),
            self.listed,
            self.rejected,
            self.degraded,
            self.delisted,
            self.fetch_errors
        )?;
        if self.failed > 0 {
            write!(f, "; {} not recorded", self.failed)?;
        }
        Ok(())
    }
}

/// Probes everything due now, once, calling `progress(done, total, result)` after each.
pub async fn crawl_once(
    dispatcher: &Dispatcher,
    progress: impl FnMut(usize, usize, &JobResult),
) -> Result<CrawlSummary, StoreError> {
    let started = Instant::now();
    release_stale_claims(dispatcher).await;
    let events = dispatcher.subscribe();
    // On PostgreSQL a node claims a batch at a time (`db::leases`), so queue again as probes
    // finish, until nothing due is left unclaimed and nothing is queued. (On SQLite the first
    // read queues everything due; reading again could race a probe recorded meanwhile.)
    let refill = dispatcher.worker().store().read().dialect() == Dialect::Postgres;
    let work = async {
        let mut total = 0;
        loop {
            let queued = enqueue_due(dispatcher, usize::MAX / 2).await?;
            total += queued;
            if !refill {
                return Ok::<usize, StoreError>(total);
            }
            if queued == 0 {
                if dispatcher.pending() == 0 || dispatcher.worker().cancel_token().is_cancelled() {
                    return Ok::<usize, StoreError>(total);
                }
                tokio::time::sleep(REFILL_CHECK).await;
            }
        }
    };
    let (queued, summary) =
        collect_while(dispatcher, events, work, |queued| *queued.as_ref().unwrap_or(&0), started, progress).await;
    queued.map(|_| summary)
}

/// Waits for `total` queued jobs (or cancellation), tallying each result as it arrives.
pub async fn collect(
    dispatcher: &Dispatcher,
    events: mpsc::UnboundedReceiver<JobResult>,
    total: usize,
    started: Instant,
    progress: impl FnMut(usize, usize, &JobResult),
) -> CrawlSummary {
    collect_while(dispatcher, events, std::future::ready(()), |()| total, started, progress).await.1
}

/// Runs `work` — which queues jobs as it goes — tallying results as they arrive (so none waits
/// in the channel), then waits for the `total_of(work's output)` jobs it queued. `progress`
/// gets (done, total), total 0 while `work` runs.
pub async fn collect_while<T>(
    dispatcher: &Dispatcher,
    mut events: mpsc::UnboundedReceiver<JobResult>,
    work: impl Future<Output = T>,
    total_of: impl FnOnce(&T) -> usize,
    started: Instant,
    mut progress: impl FnMut(usize, usize, &JobResult),
) -> (T, CrawlSummary) {
    let cancel = dispatcher.worker().cancel_token().clone();
    let mut summary = CrawlSummary::default();
    let mut done = 0;
    let mut total = 0;
    let mut tally = |result: JobResult, summary: &mut CrawlSummary, done: &mut usize, total: usize| {
        *done += 1;
        summary.count(&result);
        progress(*done, total, &result);
    };
    let mut work = std::pin::pin!(work);
    let output = loop {
        tokio::select! {
            output = &mut work => break output,
            Some(result) = events.recv() => tally(result, &mut summary, &mut done, total),
        }
    };
    total = total_of(&output);
    while done < total {
        let next = tokio::select! {
            event = events.recv() => event,
            () = cancel.cancelled() => None,
        };
        let Some(result) = next else { break };
        tally(result, &mut summary, &mut done, total);
    }
    dispatcher.idle().await;
    // Results that arrived while the host tasks wound down.
    while let Ok(result) = events.try_recv() {
        tally(result, &mut summary, &mut done, total);
    }
    summary.failed += total.saturating_sub(done);
    summary.elapsed = started.elapsed();
    (output, summary)
}
