//! Stats: what an operator checks first — the catalog's size by status, the crawl queue, how far
//! the search index has caught up with the store — and the probe counters for `/metrics`.

use super::{Catalog, CatalogError};
use crate::db::services;
use crate::jobs::ProbeMetrics;
use crate::lifecycle::Status;

#[derive(Debug, Clone)]
pub struct Stats {
    /// Services by status (statuses with none are absent).
    pub services: Vec<(Status, i64)>,
    /// Probes queued or in flight.
    pub crawl_queue: usize,
    /// Documents in the search index.
    pub index_documents: u64,
    /// The last catalog change the index has applied.
    pub index_seq: i64,
    /// The last catalog change the store has committed.
    pub store_seq: i64,
    /// Heap bytes of the index's decoded per-segment facts.
    pub index_facts_bytes: usize,
}

impl Catalog {
    /// The figures; fails only when the store cannot be read.
    pub async fn stats(&self) -> Result<Stats, CatalogError> {
        Ok(Stats {
            services: services::count_by_status(self.store.read()).await?,
            crawl_queue: self.jobs.pending(),
            index_documents: self.index.num_docs(),
            index_seq: *self.index.applied_seq().borrow(),
            store_seq: *self.store.writer().committed_seq().borrow(),
            index_facts_bytes: self.index.facts_bytes(),
        })
    }

    /// The crawler's probe counters.
    pub fn probe_metrics(&self) -> &ProbeMetrics {
        self.jobs.worker().metrics()
    }
}
