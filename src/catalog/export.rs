//! The export: the whole listed catalog (services with their offers) in id order, read in
//! batches so memory stays flat however large the catalog.

use super::{Catalog, CatalogError};
use crate::db::services::{self, ServiceRow};
use agora_crawler::Offer;
use futures_util::{Stream, stream};

/// Services read per batch.
const BATCH: i64 = 500;

impl Catalog {
    /// Batches of listed services with their offers, in id order; a store error ends the stream
    /// after it is yielded.
    pub fn export(&self) -> impl Stream<Item = Result<Vec<(ServiceRow, Vec<Offer>)>, CatalogError>> + Send + 'static {
        let pool = self.store.read().clone();
        stream::unfold(Some(0i64), move |after| {
            let pool = pool.clone();
            async move {
                let after = after?;
                match services::listed_after(&pool, after, BATCH).await {
                    Ok(batch) if batch.is_empty() => None,
                    Ok(batch) => {
                        let last = batch.last().map(|(s, _)| s.id);
                        Some((Ok(batch), last))
                    }
                    Err(error) => Some((Err(error.into()), None)),
                }
            }
        })
    }
}
