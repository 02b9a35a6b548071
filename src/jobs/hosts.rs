//! Per-host politeness: at most one request in flight per host, and a minimum gap between the
//! end of one request and the start of the next (the larger of the configured gap and the
//! site's robots.txt `Crawl-delay`).
//!
//! Hosts are keyed by name or IP without the port (several ports are one server). Each host has
//! a FIFO async mutex; holding it ([`HostLease`]) is the right to talk to the host.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::OwnedMutexGuard;
use tokio::time::Instant;

#[derive(Debug, Default)]
struct HostSlot {
    /// Earliest start of the next request.
    next_allowed: Option<Instant>,
    crawl_delay: Option<Duration>,
}

/// The politeness gate shared by every crawl task of a process.
pub struct HostGate {
    gap: Duration,
    hosts: Mutex<HashMap<String, Arc<tokio::sync::Mutex<HostSlot>>>>,
}

impl HostGate {
    pub fn new(gap: Duration) -> Self {
        HostGate { gap, hosts: Mutex::new(HashMap::new()) }
    }

    /// Waits for exclusive use of `host`. FIFO: callers are served in arrival order.
    pub async fn acquire(&self, host: &str) -> HostLease {
        let slot = {
            let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
            if hosts.len() > 4096 {
                // Forget idle hosts whose gap is over, so the map stays as small as the crawl.
                let now = Instant::now();
                hosts.retain(|_, slot| {
                    Arc::strong_count(slot) > 1
                        || slot.try_lock().map_or(true, |s| s.next_allowed.is_some_and(|t| t > now))
                });
            }
            Arc::clone(hosts.entry(host.to_ascii_lowercase()).or_default())
        };
        HostLease { slot: slot.lock_owned().await, gap: self.gap }
    }
}

/// Exclusive use of one host. Call [`HostLease::turn`] before each request and
/// [`HostLease::done`] after it.
pub struct HostLease {
    slot: OwnedMutexGuard<HostSlot>,
    gap: Duration,
}

impl HostLease {
    /// Waits until the host's gap since the last request is over.
    pub async fn turn(&mut self) {
        if let Some(at) = self.slot.next_allowed {
            tokio::time::sleep_until(at).await;
        }
    }

    /// Marks the end of a request: the next one may start after the gap.
    pub fn done(&mut self) {
        let gap = self.slot.crawl_delay.map_or(self.gap, |delay| delay.max(self.gap));
        self.slot.next_allowed = Some(Instant::now() + gap);
    }

    /// Applies the site's robots.txt `Crawl-delay` (already clamped) to later requests.
    pub fn set_crawl_delay(&mut self, delay: Option<Duration>) {
        self.slot.crawl_delay = delay;
    }
}
