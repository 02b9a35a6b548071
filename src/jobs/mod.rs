//! The crawl service (`shared/ARCHITECTURE.md` "jobs"): due services → per-host polite queues →
//! the prober → one writer transaction per result (batched) — plus registration, which stores a
//! URL and probes it at once through the same queues.
//!
//! - [`hosts`]: one request per host, with a gap; [`icons`]: the seller's icon after a listing;
//!   [`robots`]: robots.txt per origin; [`worker`]: one service end to end;
//!   [`dispatch`]: per-host queues; [`scheduler`]: `serve`'s loop and `crawl --once`;
//!   [`register`]: the registration function the CLI and the HTTP API call; [`documents`]: the
//!   documents sources publish.

pub mod dispatch;
pub mod documents;
pub mod hosts;
pub mod icons;
pub mod probe_metrics;
pub mod proofs;
pub mod register;
pub mod robots;
pub mod scheduler;
pub mod worker;

pub use dispatch::Dispatcher;
pub use probe_metrics::ProbeMetrics;
pub use worker::{JobError, Lane, Probed, Worker};

use crate::clock::Clock;
use crate::config::GlobalOptions;
use crate::db::Store;
use crate::db::leases::Lease;
use crate::lifecycle::LifecyclePolicy;
use agora_crawler::fetch::Fetcher;
use agora_crawler::{FetchConfig, icon, sources};
use agora_crawler::{ProbeConfig, Prober};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// Permits reserved for seller-initiated probes (registrations, recrawl requests).
pub const PRIORITY_PERMITS: usize = 16;

/// How the crawl behaves.
#[derive(Clone)]
pub struct CrawlSettings {
    pub probe: ProbeConfig,
    /// Minimum gap between two requests to one host.
    pub host_delay: Duration,
    /// Most scheduled probes in flight at once, across all hosts.
    pub concurrency: usize,
    pub lifecycle: LifecyclePolicy,
    /// How long raw probes are kept (daily rollups outlive them).
    pub retention: Duration,
    /// How long this node's claim on a due service lasts (`db::leases`).
    pub lease: Duration,
    /// This node's name in its claims (`db::leases::node_name`).
    pub node: String,
}

impl CrawlSettings {
    /// The crawl settings the command-line options ask for.
    pub fn from_options(options: &GlobalOptions) -> CrawlSettings {
        let hours = |h: u32| Duration::from_secs(u64::from(h) * 3600);
        CrawlSettings {
            probe: ProbeConfig { policy: options.address_policy(), ..ProbeConfig::default() },
            host_delay: Duration::from_millis(options.host_delay_ms),
            concurrency: options.concurrency as usize,
            lifecycle: LifecyclePolicy {
                degrade_after: options.degrade_after,
                delist_after: hours(options.delist_after_hours),
                recheck_rejected: hours(options.recheck_rejected_hours),
                ..LifecyclePolicy::default()
            },
            retention: hours(options.retention_days.saturating_mul(24)),
            lease: Duration::from_secs(u64::from(options.crawl_lease_secs)),
            node: crate::db::leases::node_name(&options.data_dir),
        }
    }
}

impl Default for CrawlSettings {
    fn default() -> Self {
        CrawlSettings {
            probe: ProbeConfig::default(),
            host_delay: Duration::from_secs(1),
            concurrency: 64,
            lifecycle: LifecyclePolicy::default(),
            retention: Duration::from_secs(30 * 24 * 3600),
            lease: Duration::from_secs(300),
            node: format!("node:{:016x}", fastrand::u64(..)),
        }
    }
}

/// Builds the worker and dispatcher over `store`. Fails only if the HTTP client cannot be built.
pub fn start(
    store: Store,
    settings: &CrawlSettings,
    clock: Arc<dyn Clock>,
    cancel: CancellationToken,
) -> Result<Dispatcher, StartError> {
    let prober = Prober::new(settings.probe.clone()).map_err(|e| StartError(e.to_string()))?;
    let probe = &settings.probe;
    let fetcher = |config| {
        Fetcher::new(config, probe.policy.clone(), probe.resolver.clone()).map_err(|e| StartError(e.to_string()))
    };
    let icons = fetcher(icon::fetch_config(&probe.fetch))?;
    let documents = fetcher(FetchConfig { max_body_bytes: sources::MAX_PAGE_BYTES, ..probe.fetch.clone() })?;
    let proofs = fetcher(proofs::fetch_config(&probe.fetch))?;
    let worker = Worker::new(worker::WorkerParts {
        prober,
        icons,
        documents,
        proofs,
        store,
        clock,
        policy: settings.lifecycle,
        hosts: hosts::HostGate::new(settings.host_delay),
        robots: robots::RobotsCache::default(),
        scheduled: Semaphore::new(settings.concurrency.max(1)),
        priority: Semaphore::new(PRIORITY_PERMITS),
        cancel,
        metrics: ProbeMetrics::default(),
        lease: Lease::new(
            settings.node.clone(),
            i64::try_from(settings.lease.as_millis()).unwrap_or(i64::MAX),
            settings.concurrency,
        ),
    });
    Ok(Dispatcher::new(worker))
}

/// The crawler could not start (the TLS stack failed to initialize).
#[derive(Debug, thiserror::Error)]
#[error("cannot build the HTTP client: {0}")]
pub struct StartError(String);
