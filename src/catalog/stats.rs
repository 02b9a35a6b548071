//! Stats: what an operator checks first — the catalog's size by status, the crawl queue, how far
//! the search index has caught up with the store — and the probe counters for `/metrics`.

use super::{Catalog, CatalogError};
use crate::db::services;
use crate::jobs::ProbeMetrics;
use crate::lifecycle::Status;

#[derive(Debug)]
pub struct Stats {
    /// Services by status (statuses with none are absent), or why the store could not count them.
    pub services: Result<Vec<(Status, i64)>, CatalogError>,
    /// Probes queued or in flight.
    pub crawl_queue: usize,
    /// Documents in the search index.
    pub index_documents: u64,
    /// The last catalog change the index has applied.
    pub index_seq: i64,
    /// The last catalog change the store has committed.
    pub store_seq: i64,
}

impl Catalog {
    /// The figures (only the count by status reads the store, and may fail).
    pub async fn stats(&self) -> Stats {
        Stats {
            services: services::count_by_status(self.store.read()).await.map_err(CatalogError::from),
            crawl_queue: self.jobs.pending(),
            index_documents: self.index.num_docs(),
            index_seq: *self.index.applied_seq().borrow(),
            store_seq: *self.store.writer().committed_seq().borrow(),
        }
    }

    /// When the catalog was last probed (epoch ms; `None` before any probe): how fresh it is.
    pub async fn last_probe_at(&self) -> Result<Option<i64>, CatalogError> {
        Ok(crate::on_pool!(self.store.read(), |p| sqlx::query_scalar("SELECT MAX(last_probed_at) FROM services")
            .fetch_one(p)
            .await)
        .map_err(crate::db::StoreError::from)?)
    }

    /// The crawler's probe counters.
    pub fn probe_metrics(&self) -> &ProbeMetrics {
        self.jobs.worker().metrics()
    }
}
