//! Recrawl: a seller who fixed something asks for a probe now and gets its result, ahead of
//! scheduled work on the host but still one request at a time per host. At most one such probe
//! per service per [`RECRAWL_INTERVAL_MS`] (counted from the last probe of any kind), however
//! many ask at once and through whichever front end, so a loop of requests cannot turn Agora
//! against a seller.

use super::register::ServiceState;
use super::{Catalog, CatalogError};
use crate::db::services::{self, DueService};
use std::collections::HashMap;
use std::sync::Mutex;

/// Shortest time between a service's last probe and a requested one.
pub const RECRAWL_INTERVAL_MS: i64 = 60_000;

/// Claims kept before expired ones are dropped (memory bound).
const MAX_CLAIMS: usize = 10_000;

/// Recrawls granted, per service: checking `last_probed_at` alone lets concurrent requests that
/// read it before the first probe was recorded each start one; a claim taken under a lock does not.
#[derive(Debug, Default)]
pub struct RecrawlClaims {
    granted: Mutex<HashMap<i64, i64>>,
}

impl RecrawlClaims {
    /// Grants a recrawl of `id` at `now` unless the service was probed or granted one within
    /// [`RECRAWL_INTERVAL_MS`]; otherwise the milliseconds since that last one.
    pub fn claim(&self, id: i64, last_probed_at: Option<i64>, now: i64) -> Result<(), i64> {
        self.claim_within(id, last_probed_at, now, RECRAWL_INTERVAL_MS)
    }

    /// [`Self::claim`] with another interval (owners': `owner::OWNER_RECRAWL_INTERVAL_MS`).
    pub fn claim_within(&self, id: i64, last_probed_at: Option<i64>, now: i64, interval: i64) -> Result<(), i64> {
        let mut granted = self.granted.lock().unwrap_or_else(|p| p.into_inner());
        let last = granted.get(&id).copied().max(last_probed_at);
        if let Some(last) = last
            && now - last < interval
        {
            return Err(now - last);
        }
        if granted.len() >= MAX_CLAIMS {
            granted.retain(|_, at| now - *at < RECRAWL_INTERVAL_MS);
        }
        granted.insert(id, now);
        Ok(())
    }
}

impl Catalog {
    /// Probes service `id` now and answers the stored service with that probe's report;
    /// [`CatalogError::TooSoon`] within the interval.
    pub async fn recrawl(&self, id: i64) -> Result<ServiceState, CatalogError> {
        let pool = self.store.read();
        let service = services::get(pool, id).await?.ok_or(CatalogError::NoSuchService(id))?;
        self.recrawls
            .claim(id, service.last_probed_at, self.now_ms())
            .map_err(|since_ms| CatalogError::TooSoon { since_ms, interval_ms: RECRAWL_INTERVAL_MS })?;
        let probed = self.jobs.probe_now(DueService::from(&service)).await?;
        let service = services::get(pool, id).await?.ok_or(CatalogError::NoSuchService(id))?;
        self.state_after_probe(service, &probed.report).await
    }
}

#[cfg(test)]
mod tests {
    use super::{RECRAWL_INTERVAL_MS, RecrawlClaims};

    #[test]
    fn one_recrawl_per_service_per_interval_however_many_ask() {
        let claims = RecrawlClaims::default();
        assert_eq!(claims.claim(1, None, 1_000_000), Ok(()));
        assert_eq!(claims.claim(1, None, 1_000_500), Err(500), "granted a moment ago, not yet probed");
        assert_eq!(claims.claim(2, Some(1_000_000 - 10_000), 1_000_000), Err(10_000), "probed 10 s ago");
        assert_eq!(claims.claim(1, None, 1_000_000 + RECRAWL_INTERVAL_MS), Ok(()));
    }
}
