//! Hydration: the page of hits read back from SQLite, the source of truth, with each service's
//! text already cut into words (what `matched` is computed from).
//!
//! Agents' queries rarely repeat, but the services they find do: the same few hundred lead the
//! pages of every query about weather or stocks. A row read for one page answers later pages for
//! [`ROW_TTL`]. The indexer forgets a service's row whenever it applies a change to it (before
//! the commit that makes the change searchable; a change that withholds a service flushes the
//! index at once), so a hit never shows a row older than what the index ranked it by — and at
//! most `ROW_TTL` older than the store (in `agora mcp`, which follows another process's index,
//! that bound is all there is).

use super::schema::{analyzer, field_texts};
use crate::db::StoreError;
use crate::db::services::{self, ServiceRow};
use agora_crawler::Offer;
use sqlx::SqlitePool;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How long a read row answers for later searches.
pub const ROW_TTL: Duration = Duration::from_secs(2);
/// Most rows kept (a few KiB each); when full, expired rows go first, then all.
pub const MAX_ROWS: usize = 16_384;

/// One service as a hit shows it.
#[derive(Debug)]
pub struct Hydrated {
    pub row: ServiceRow,
    pub offers: Vec<Offer>,
    /// Per text field (`schema::FIELD_NAMES`), its analyzed words.
    pub words: [Vec<String>; 6],
}

impl Hydrated {
    fn new(row: ServiceRow, offers: Vec<Offer>) -> Hydrated {
        let mut analyzer = analyzer();
        let words = field_texts(&row, &offers).map(|values| {
            let value = values.join(" ");
            let mut words = Vec::new();
            let mut stream = analyzer.token_stream(&value);
            while let Some(token) = stream.next() {
                words.push(token.text.clone());
            }
            words
        });
        Hydrated { row, offers, words }
    }
}

/// Rows recently read for searches.
#[derive(Default)]
pub struct RowMemo {
    rows: Mutex<HashMap<i64, (Instant, Arc<Hydrated>)>>,
}

impl RowMemo {
    /// Forgets these services' rows (they changed).
    pub fn forget(&self, ids: impl IntoIterator<Item = i64>) {
        let mut rows = self.rows.lock().unwrap_or_else(PoisonError::into_inner);
        for id in ids {
            rows.remove(&id);
        }
    }

    fn keep(&self, now: Instant, read: &[Arc<Hydrated>]) {
        let mut rows = self.rows.lock().unwrap_or_else(PoisonError::into_inner);
        if rows.len() + read.len() > MAX_ROWS {
            rows.retain(|_, (at, _)| now.duration_since(*at) < ROW_TTL);
            if rows.len() + read.len() > MAX_ROWS * 3 / 4 {
                rows.clear();
            }
        }
        for hydrated in read {
            // A row the indexer replaced while this one was read is not overwritten by it.
            let newer =
                rows.get(&hydrated.row.id).is_some_and(|(_, kept)| kept.row.change_seq > hydrated.row.change_seq);
            if !newer {
                rows.insert(hydrated.row.id, (now, Arc::clone(hydrated)));
            }
        }
    }
}

/// The services with these ids that exist (any status: the caller decides what it shows), each
/// from `memo` when read less than [`ROW_TTL`] ago, the others in one read of each table.
pub async fn hydrate(
    pool: &SqlitePool,
    memo: &RowMemo,
    ids: &[i64],
) -> Result<HashMap<i64, Arc<Hydrated>>, StoreError> {
    let now = Instant::now();
    let mut found = HashMap::with_capacity(ids.len());
    {
        let rows = memo.rows.lock().unwrap_or_else(PoisonError::into_inner);
        for id in ids {
            if let Some((read, hydrated)) = rows.get(id)
                && now.duration_since(*read) < ROW_TTL
            {
                found.insert(*id, Arc::clone(hydrated));
            }
        }
    }
    let missing: Vec<i64> = ids.iter().copied().filter(|id| !found.contains_key(id)).collect();
    if missing.is_empty() {
        return Ok(found);
    }
    // One connection for both reads: a pool round trip each costs as much as the reads.
    let mut conn = pool.acquire().await?;
    let rows = services::get_many(&mut conn, &missing).await?;
    let mut offers = services::offers_many(&mut conn, &missing).await?;
    drop(conn);
    let read: Vec<Arc<Hydrated>> = rows
        .into_iter()
        .map(|row| {
            let offers = offers.remove(&row.id).unwrap_or_default();
            Arc::new(Hydrated::new(row, offers))
        })
        .collect();
    memo.keep(now, &read);
    found.extend(read.into_iter().map(|hydrated| (hydrated.row.id, hydrated)));
    Ok(found)
}
