//! Seller icons in the store: what to fetch (a listed service's icon URL that is new, or was
//! last tried long ago), the write that keeps one (or records why not), and the read that serves
//! one by its hash.

use super::StoreError;
use super::backend::{Conn, Db};
use crate::on_conn;
use agora_crawler::icon::Icon;

/// How long a failed icon fetch is not retried (a working one is refetched only when its URL changes).
pub const RETRY_AFTER_MS: i64 = 24 * 3600 * 1000;

/// What a service's icon came to.
#[derive(Debug, Clone)]
pub struct IconOutcome {
    pub service_id: i64,
    /// The seller's icon URL.
    pub url: String,
    /// The icon kept, or the probe code of why not.
    pub result: Result<Icon, String>,
    pub at: i64,
}

/// A service's icon as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredIcon {
    pub url: Option<String>,
    pub hash: Option<String>,
    pub checked_at: Option<i64>,
}

impl StoredIcon {
    /// Whether the icon the listing names now (`url`) needs fetching at `now`: a new URL, or a
    /// failed fetch a day old.
    pub fn needs_fetch(&self, url: &str, now: i64) -> bool {
        self.url.as_deref() != Some(url)
            || (self.hash.is_none() && self.checked_at.is_none_or(|at| now - at >= RETRY_AFTER_MS))
    }
}

/// Service `id`'s stored icon (default when the service does not exist).
pub async fn stored(db: impl Into<Db<'_>>, id: i64) -> Result<StoredIcon, StoreError> {
    let mut held = db.into().hold().await?;
    let row: Option<(Option<String>, Option<String>, Option<i64>)> = on_conn!(&mut held.conn(), |c| sqlx::query_as(
        "SELECT icon_url, icon_hash, icon_checked_at FROM services WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(c)
    .await)?;
    Ok(row.map(|(url, hash, checked_at)| StoredIcon { url, hash, checked_at }).unwrap_or_default())
}

/// Keeps the icon (once per content) and points the service at it, or records why there is none.
/// Bumps the service's change sequence: its answers change.
pub async fn apply(conn: &mut Conn<'_>, outcome: &IconOutcome) -> Result<(), StoreError> {
    if let Ok(icon) = &outcome.result {
        keep(conn, icon, outcome.at).await?;
    }
    on_conn!(conn, |c| sqlx::query(
        "UPDATE services SET icon_url = $1, icon_hash = $2, icon_problem = $3, icon_checked_at = $4,
            change_seq = (SELECT COALESCE(MAX(change_seq), 0) + 1 FROM services)
         WHERE id = $5",
    )
    .bind(&outcome.url)
    .bind(outcome.result.as_ref().ok().map(|icon| icon.hash.as_str()))
    .bind(outcome.result.as_ref().err())
    .bind(outcome.at)
    .bind(outcome.service_id)
    .execute(c)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(())
}

/// Keeps an icon's bytes, once per content.
pub(super) async fn keep(conn: &mut Conn<'_>, icon: &Icon, at: i64) -> Result<(), StoreError> {
    {
        on_conn!(conn, |c| sqlx::query(
            "INSERT INTO icons (hash, content_type, width, height, bytes, stored_at) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT DO NOTHING",
        )
        .bind(&icon.hash)
        .bind(icon.content_type)
        .bind(i64::try_from(icon.width).unwrap_or(0))
        .bind(i64::try_from(icon.height).unwrap_or(0))
        .bind(&icon.bytes)
        .bind(at)
        .execute(c)
        .await
        .map(|done| done.rows_affected()))?;
    }
    Ok(())
}

/// A kept icon: its content type and bytes.
pub async fn get(db: impl Into<Db<'_>>, hash: &str) -> Result<Option<(String, Vec<u8>)>, StoreError> {
    let mut held = db.into().hold().await?;
    Ok(on_conn!(&mut held.conn(), |c| sqlx::query_as("SELECT content_type, bytes FROM icons WHERE hash = $1")
        .bind(hash)
        .fetch_optional(c)
        .await)?)
}
