//! The latency norms the indexer scores services against (`db::quality`), read again when they
//! may have gone stale: at once in a small catalog (reading them costs less than a commit), at
//! most every [`LARGE_CATALOG_TTL`] in a large one (a pass over a week of probes).

use crate::db::StoreError;
use crate::db::quality::{LatencyNorms, latency_norms};
use sqlx::SqlitePool;
use std::time::{Duration, Instant};

/// Up to this many searchable services, norms are read for every catch-up.
pub const SMALL_CATALOG: usize = 2_000;
/// How long a large catalog's norms are kept.
pub const LARGE_CATALOG_TTL: Duration = Duration::from_secs(300);

#[derive(Debug, Default)]
pub struct NormsCache {
    held: Option<(LatencyNorms, Instant)>,
}

impl NormsCache {
    /// Norms fresh enough for a catch-up at `now` (epoch ms).
    pub async fn get(&mut self, pool: &SqlitePool, now: i64) -> Result<&LatencyNorms, StoreError> {
        let fresh = self
            .held
            .as_ref()
            .is_some_and(|(norms, read)| norms.measured > SMALL_CATALOG && read.elapsed() < LARGE_CATALOG_TTL);
        let held = match self.held.take() {
            Some(held) if fresh => held,
            _ => (latency_norms(pool, now).await?, Instant::now()),
        };
        Ok(&self.held.insert(held).0)
    }
}
