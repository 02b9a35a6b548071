//! Bazaar discovery's reads: the whole listed catalog in registration order under the discovery
//! filters, and the catalog search with each hit's latest report (for the seller's own
//! `accepts`), `payTo` applied to the page since the index does not hold it.

use super::{Catalog, CatalogError};
use crate::db::discovery::{self, DiscoveryFilter, DiscoveryItem};
use crate::db::services;
use crate::search::SearchRequest;
use crate::search::results::FoundHit;
use agora_crawler::ProbeReport;

/// One page of the discovery search.
#[derive(Debug, Clone)]
pub struct DiscoveryPage {
    /// The hits left after the `payTo` filter, each with its latest report.
    pub hits: Vec<(FoundHit, Option<ProbeReport>)>,
    /// Hits the search returned for the page, before the `payTo` filter.
    pub returned: usize,
    /// Services matching the search (all pages).
    pub total: u64,
}

impl Catalog {
    /// A page of listed services under `filter`, in id order, and the total under it.
    pub async fn discovery_list(
        &self,
        filter: &DiscoveryFilter,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<DiscoveryItem>, i64), CatalogError> {
        Ok(discovery::list(self.store.read(), filter, limit, offset).await?)
    }

    /// The catalog search, each hit with its latest report; hits without an offer paying
    /// `pay_to` are dropped from the page.
    pub async fn discovery_search(
        &self,
        request: &SearchRequest,
        pay_to: Option<&str>,
    ) -> Result<DiscoveryPage, CatalogError> {
        let found = match self.search(request).await {
            // A network, asset or scheme nothing in the catalog has: nothing matches (the
            // discovery filters are honest, never a 400 for a well-formed value).
            Err(CatalogError::Param(error)) if error.unmatched_value => {
                return Ok(DiscoveryPage { hits: Vec::new(), returned: 0, total: 0 });
            }
            found => found?,
        };
        let ids: Vec<i64> = found.hits.iter().map(|h| h.service.id).collect();
        let mut reports = services::latest_reports_many(&mut self.store.read().acquire().await?.conn(), &ids).await?;
        let returned = found.hits.len();
        let hits = found
            .hits
            .into_iter()
            .filter(|hit| pay_to.is_none_or(|p| hit.offers.iter().any(|o| o.pay_to.eq_ignore_ascii_case(p))))
            .map(|hit| {
                let report = reports.remove(&hit.service.id);
                (hit, report)
            })
            .collect();
        Ok(DiscoveryPage { hits, returned, total: found.total })
    }
}
