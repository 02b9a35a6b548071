//! Seller icons as Agora keeps them (checked, by content hash), for `GET /icons/{hash}`.

use super::{Catalog, CatalogError};

impl Catalog {
    /// A seller's icon as kept (content type and bytes), by its hash.
    pub async fn icon(&self, hash: &str) -> Result<Option<(String, Vec<u8>)>, CatalogError> {
        Ok(crate::db::icons::get(self.store.read(), hash).await?)
    }
}
