//! Search: the catalog search over the index, hydrated from the store (`search::results`).

use super::{Catalog, CatalogError};
use crate::search::SearchRequest;
use crate::search::results::{self, Found};

impl Catalog {
    /// One page of services matching `request`, with totals and facets. A text search that finds
    /// nothing is counted as demand (`catalog::demand`).
    pub async fn search(&self, request: &SearchRequest) -> Result<Found, CatalogError> {
        let found = results::search(&self.index, self.store.read(), request).await?;
        if found.total == 0 && !request.q.trim().is_empty() {
            self.demand.missed(&request.q);
        }
        Ok(found)
    }
}
