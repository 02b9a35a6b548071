//! The change feed: registered, listed, rejected, degraded, delisted, price and payTo changes,
//! offers added or removed, oldest first. Start at a time or from the beginning; continue with
//! the previous page's cursor. An empty page keeps the same cursor, so polling with it never
//! misses or repeats an event.

use super::{Catalog, CatalogError};
use crate::db::events::{self, Cursor, Event};
use crate::params::ParamError;

/// Where a page of the feed starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangesFrom {
    Beginning,
    /// Everything at or after this instant (epoch ms).
    Since(i64),
    /// After the event this cursor names.
    After(Cursor),
}

impl ChangesFrom {
    /// From a `cursor` or a `since` (not both), else the beginning.
    pub fn parse(cursor: Option<&str>, since: Option<i64>) -> Result<ChangesFrom, ParamError> {
        match (cursor, since) {
            (Some(_), Some(_)) => Err(ParamError::new("since", "give either cursor or since, not both")),
            (Some(text), None) => Cursor::parse(text)
                .map(ChangesFrom::After)
                .ok_or_else(|| ParamError::new("cursor", "not a cursor from this feed")),
            (None, Some(at)) => Ok(ChangesFrom::Since(at)),
            (None, None) => Ok(ChangesFrom::Beginning),
        }
    }

    fn cursor(self) -> Cursor {
        match self {
            ChangesFrom::Beginning => Cursor { at: i64::MIN, source: 0, id: 0 },
            // The cursor just before the instant.
            ChangesFrom::Since(at) => Cursor { at: at.saturating_sub(1), source: i64::MAX, id: i64::MAX },
            ChangesFrom::After(cursor) => cursor,
        }
    }
}

/// One page of the feed.
#[derive(Debug, Clone)]
pub struct Changes {
    pub events: Vec<Event>,
    /// Where the next page starts.
    pub next_cursor: String,
    /// The page was full: more events are ready now.
    pub more: bool,
}

impl Catalog {
    /// Up to `limit` events from `from`, oldest first.
    pub async fn changes(&self, from: ChangesFrom, limit: i64) -> Result<Changes, CatalogError> {
        let start = from.cursor();
        let events = events::after(self.store.read(), start, limit).await?;
        let next_cursor = events.last().map_or_else(|| start.encode(), |e| e.cursor.clone());
        let more = events.len() as i64 == limit;
        Ok(Changes { events, next_cursor, more })
    }
}
