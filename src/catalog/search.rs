//! Search: the catalog search over the index, hydrated from the store (`search::results`).

use super::{Catalog, CatalogError};
use crate::search::SearchRequest;
use crate::search::results::{self, Found};

impl Catalog {
    /// One page of services matching `request`, with totals and facets.
    pub async fn search(&self, request: &SearchRequest) -> Result<Found, CatalogError> {
        Ok(results::search(&self.index, self.store.read(), request).await?)
    }
}
