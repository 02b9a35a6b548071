//! Hydration: the page of hits read back from SQLite, the source of truth, with each service's
//! text already cut into words (what `matched` is computed from).
//!
//! Agents' queries rarely repeat, but the services they find do: the same few thousand lead the
//! pages of every query about weather or stocks. A row read for one page answers later pages
//! while it is fresh. The indexer forgets a service's row whenever it applies a change to it
//! (every change to what a hit shows bumps `change_seq`; the indexer applies it before the commit
//! that makes it searchable, and a change that withholds a service flushes the index at once),
//! so a hit never shows a row older than what the index ranked it by. A read that overlaps a
//! forget is not kept (it may predate the change). In the writing process rows stay
//! [`ROW_TTL`]; in `agora mcp`, which follows another process's index and hears of no change,
//! [`FOLLOWER_ROW_TTL`] is all that bounds a row's age.

use super::schema::{analyzer, field_texts};
use crate::db::StoreError;
use crate::db::services::{self, ServiceRow};
use agora_crawler::Offer;
use sqlx::SqlitePool;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How long a read row answers for later searches, in the process that writes the index.
pub const ROW_TTL: Duration = Duration::from_secs(30);
/// The same in a process following another's index (no forgets reach it).
pub const FOLLOWER_ROW_TTL: Duration = Duration::from_secs(2);
/// Most rows kept (a few KiB each); when full, expired rows go first, then the least recently used.
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
pub struct RowMemo {
    rows: Mutex<Rows>,
    ttl: Duration,
}

#[derive(Default)]
struct Rows {
    /// id → (read at, last used, row).
    map: HashMap<i64, (Instant, Instant, Arc<Hydrated>)>,
    /// Calls of `forget` so far: a read that started before one is not kept.
    forgets: u64,
}

impl Default for RowMemo {
    fn default() -> Self {
        RowMemo::new(ROW_TTL)
    }
}

impl RowMemo {
    pub fn new(ttl: Duration) -> RowMemo {
        RowMemo { rows: Mutex::default(), ttl }
    }

    /// Forgets these services' rows (they changed).
    pub fn forget(&self, ids: impl IntoIterator<Item = i64>) {
        let mut rows = self.rows.lock().unwrap_or_else(PoisonError::into_inner);
        rows.forgets += 1;
        for id in ids {
            rows.map.remove(&id);
        }
    }

    /// The fresh rows of `ids` (marked used), and the forget count to pass to `keep`.
    fn fresh(&self, now: Instant, ids: &[i64]) -> (HashMap<i64, Arc<Hydrated>>, u64) {
        let mut rows = self.rows.lock().unwrap_or_else(PoisonError::into_inner);
        let mut found = HashMap::with_capacity(ids.len());
        for id in ids {
            if let Some((read, used, hydrated)) = rows.map.get_mut(id)
                && now.duration_since(*read) < self.ttl
            {
                *used = now;
                found.insert(*id, Arc::clone(hydrated));
            }
        }
        (found, rows.forgets)
    }

    /// Keeps rows read since `forgets` was taken — unless a change was forgotten meanwhile.
    fn keep(&self, now: Instant, read: &[Arc<Hydrated>], forgets: u64) {
        let mut rows = self.rows.lock().unwrap_or_else(PoisonError::into_inner);
        if rows.forgets != forgets {
            return;
        }
        if rows.map.len() + read.len() > MAX_ROWS {
            rows.map.retain(|_, (at, _, _)| now.duration_since(*at) < self.ttl);
            let room = (MAX_ROWS * 3 / 4).saturating_sub(read.len());
            if rows.map.len() > room {
                let mut by_use: Vec<(Instant, i64)> = rows.map.iter().map(|(id, (_, used, _))| (*used, *id)).collect();
                by_use.sort_unstable();
                let excess = rows.map.len() - room;
                for (_, id) in by_use.into_iter().take(excess) {
                    rows.map.remove(&id);
                }
            }
        }
        for hydrated in read {
            rows.map.insert(hydrated.row.id, (now, now, Arc::clone(hydrated)));
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.rows.lock().unwrap_or_else(PoisonError::into_inner).map.len()
    }
}

/// The services with these ids that exist (any status: the caller decides what it shows), each
/// from `memo` when fresh there, the others in one read of each table.
pub async fn hydrate(
    pool: &SqlitePool,
    memo: &RowMemo,
    ids: &[i64],
) -> Result<HashMap<i64, Arc<Hydrated>>, StoreError> {
    let now = Instant::now();
    let (mut found, forgets) = memo.fresh(now, ids);
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
    memo.keep(now, &read, forgets);
    found.extend(read.into_iter().map(|hydrated| (hydrated.row.id, hydrated)));
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(ids: impl IntoIterator<Item = i64>) -> Vec<Arc<Hydrated>> {
        ids.into_iter().map(|id| Arc::new(Hydrated::new(ServiceRow::sample(id), Vec::new()))).collect()
    }

    #[test]
    fn rows_answer_until_forgotten_and_a_read_overlapping_a_forget_is_not_kept() {
        let memo = RowMemo::default();
        let now = Instant::now();
        let (found, forgets) = memo.fresh(now, &[1, 2]);
        assert!(found.is_empty());
        memo.keep(now, &read([1, 2]), forgets);
        let (found, forgets) = memo.fresh(now, &[1, 2, 3]);
        assert_eq!(found.len(), 2);
        assert_eq!(found[&1].words[0], ["service", "1"], "kept with its words");
        // Service 3 is read while the indexer applies a change to service 2: the read may predate
        // that change, so nothing from it is kept — and 2 itself is gone.
        memo.forget([2]);
        memo.keep(now, &read([3]), forgets);
        let (found, _) = memo.fresh(now, &[1, 2, 3]);
        assert_eq!(found.keys().copied().collect::<Vec<_>>(), [1]);
        // Stale after the TTL.
        let (found, _) = memo.fresh(now + ROW_TTL, &[1]);
        assert!(found.is_empty());
        let follower = RowMemo::new(FOLLOWER_ROW_TTL);
        follower.keep(now, &read([1]), 0);
        assert!(follower.fresh(now + FOLLOWER_ROW_TTL, &[1]).0.is_empty());
    }

    #[test]
    fn a_full_memo_lets_the_least_recently_used_rows_go() {
        let memo = RowMemo::default();
        let start = Instant::now();
        memo.keep(start, &read(0..MAX_ROWS as i64), 0);
        assert_eq!(memo.len(), MAX_ROWS);
        // Rows 0–9 are used again later: they outlive the others.
        let later = start + Duration::from_secs(1);
        assert_eq!(memo.fresh(later, &(0..10).collect::<Vec<_>>()).0.len(), 10);
        let more: Vec<i64> = (0..100).map(|i| MAX_ROWS as i64 + i).collect();
        memo.keep(later, &read(more.iter().copied()), 0);
        assert_eq!(memo.len(), MAX_ROWS * 3 / 4);
        assert_eq!(memo.fresh(later, &(0..10).collect::<Vec<_>>()).0.len(), 10, "recently used kept");
        assert_eq!(memo.fresh(later, &more).0.len(), 100, "just read kept");
        assert!(memo.fresh(later, &[10, 11, 12]).0.is_empty(), "least recently used gone");
    }
}
