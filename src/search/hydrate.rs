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
//!
//! The memo is bounded twice: in rows ([`MAX_ROWS`]) and in the bytes its rows hold
//! ([`MAX_ROW_BYTES`], each row's strings, offers and words counted when it is read), so sellers'
//! long descriptions and schemas cannot make it grow past its budget.

use super::schema::{analyzer, field_texts};
use crate::db::StoreError;
use crate::db::backend::Pool;
use crate::db::services::{self, ServiceRow};
use agora_crawler::Offer;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How long a read row answers for later searches, in the process that writes the index.
pub const ROW_TTL: Duration = Duration::from_secs(30);
/// The same in a process following another's index (no forgets reach it).
pub const FOLLOWER_ROW_TTL: Duration = Duration::from_secs(2);
/// Most rows kept; when full (in rows or in bytes), expired rows go first, then the least
/// recently used, until three quarters are free. Hits are pages of what queries find, and the
/// long-tail mix at 100,000 listings (`benches/api`) shows its first pages across 30,000 distinct
/// queries come from ~33,000 services: 16,384 rows missed a quarter of them (SQLite reads on
/// ~70 % of searches, 2,250 req/s); this many miss none once warm (3,000 req/s).
pub const MAX_ROWS: usize = 65_536;
/// Most bytes the kept rows hold (as [`Hydrated::bytes`] counts them: ~3 KiB for a typical row).
pub const MAX_ROW_BYTES: usize = 128 << 20;

/// One service as a hit shows it.
#[derive(Debug)]
pub struct Hydrated {
    pub row: ServiceRow,
    pub offers: Vec<Offer>,
    /// Per text field (`schema::FIELD_NAMES`), its analyzed words, separated by spaces (which
    /// the analyzer never leaves in a word): one buffer per field, so explaining a hit reads its
    /// words in one sweep instead of chasing a pointer per word through a large memo.
    pub words: [String; 6],
    /// What it holds, about (`row_bytes`): its share of [`MAX_ROW_BYTES`].
    bytes: usize,
}

impl Hydrated {
    fn new(row: ServiceRow, offers: Vec<Offer>) -> Hydrated {
        let mut analyzer = analyzer();
        let words = field_texts(&row, &offers).map(|values| {
            let value = values.join(" ");
            let mut words = String::new();
            let mut stream = analyzer.token_stream(&value);
            while let Some(token) = stream.next() {
                if !words.is_empty() {
                    words.push(' ');
                }
                words.push_str(&token.text);
            }
            words.shrink_to_fit();
            words
        });
        let bytes = size_of::<Hydrated>()
            + row_bytes(&row)
            + offers.iter().map(offer_bytes).sum::<usize>()
            + words.iter().map(String::len).sum::<usize>();
        Hydrated { row, offers, words, bytes }
    }
}

/// The heap bytes of a row's variable parts (its text, tags and pins).
fn row_bytes(row: &ServiceRow) -> usize {
    let text = |s: &Option<String>| s.as_ref().map_or(0, String::len);
    let list = |l: &[String]| l.iter().map(|t| t.len() + size_of::<String>()).sum::<usize>();
    let pinned = row.pinned.as_ref().map_or(0, |p| {
        size_of::<services::Pinned>()
            + text(&p.challenge_name)
            + text(&p.challenge_description)
            + list(&p.challenge_tags)
    });
    row.url.len()
        + row.method.len()
        + row.host.len()
        + row.service_type.len()
        + [
            &row.verdict,
            &row.reason_code,
            &row.reason,
            &row.name,
            &row.description,
            &row.mime_type,
            &row.route_template,
            &row.schema_text,
            &row.tool_name,
            &row.icon_hash,
            &row.hidden_reason,
        ]
        .into_iter()
        .map(text)
        .sum::<usize>()
        + list(&row.tags)
        + pinned
}

/// An offer's size with its heap parts (`extra` as its JSON text: about what it holds).
fn offer_bytes(offer: &Offer) -> usize {
    size_of::<Offer>()
        + [
            &offer.scheme,
            &offer.network,
            &offer.family,
            &offer.asset,
            &offer.amount,
            &offer.pay_to,
            &offer.payment_flow,
        ]
        .into_iter()
        .map(String::len)
        .sum::<usize>()
        + [&offer.network_v1, &offer.asset_symbol, &offer.usd, &offer.asset_transfer_method]
            .into_iter()
            .map(|s| s.as_ref().map_or(0, String::len))
            .sum::<usize>()
        + if offer.extra.is_null() { 0 } else { offer.extra.to_string().len() }
}

/// Rows recently read for searches.
pub struct RowMemo {
    rows: Mutex<Rows>,
    ttl: Duration,
    /// Most rows, most bytes ([`MAX_ROWS`], [`MAX_ROW_BYTES`]).
    limits: (usize, usize),
}

#[derive(Default)]
struct Rows {
    /// id → (read at, last used, row).
    map: HashMap<i64, (Instant, Instant, Arc<Hydrated>)>,
    /// The kept rows' bytes, summed.
    bytes: usize,
    /// Calls of `forget` so far: a read that started before one is not kept.
    forgets: u64,
}

impl Rows {
    fn remove(&mut self, id: i64) {
        if let Some((_, _, hydrated)) = self.map.remove(&id) {
            self.bytes -= hydrated.bytes;
        }
    }
}

impl Default for RowMemo {
    fn default() -> Self {
        RowMemo::new(ROW_TTL)
    }
}

impl RowMemo {
    pub fn new(ttl: Duration) -> RowMemo {
        RowMemo { rows: Mutex::default(), ttl, limits: (MAX_ROWS, MAX_ROW_BYTES) }
    }

    /// Forgets these services' rows (they changed).
    pub fn forget(&self, ids: impl IntoIterator<Item = i64>) {
        let mut rows = self.rows.lock().unwrap_or_else(PoisonError::into_inner);
        rows.forgets += 1;
        for id in ids {
            rows.remove(id);
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
        let (max_rows, max_bytes) = self.limits;
        let read_bytes: usize = read.iter().map(|h| h.bytes).sum();
        if rows.map.len() + read.len() > max_rows || rows.bytes + read_bytes > max_bytes {
            let ttl = self.ttl;
            let expired: Vec<i64> =
                rows.map.iter().filter(|(_, (at, _, _))| now.duration_since(*at) >= ttl).map(|(id, _)| *id).collect();
            for id in expired {
                rows.remove(id);
            }
            let room = ((max_rows * 3 / 4).saturating_sub(read.len()), (max_bytes * 3 / 4).saturating_sub(read_bytes));
            if rows.map.len() > room.0 || rows.bytes > room.1 {
                let mut by_use: Vec<(Instant, i64)> = rows.map.iter().map(|(id, (_, used, _))| (*used, *id)).collect();
                by_use.sort_unstable();
                for (_, id) in by_use {
                    if rows.map.len() <= room.0 && rows.bytes <= room.1 {
                        break;
                    }
                    rows.remove(id);
                }
            }
        }
        for hydrated in read {
            rows.remove(hydrated.row.id);
            rows.bytes += hydrated.bytes;
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
pub async fn hydrate(pool: &Pool, memo: &RowMemo, ids: &[i64]) -> Result<HashMap<i64, Arc<Hydrated>>, StoreError> {
    let now = Instant::now();
    let (mut found, forgets) = memo.fresh(now, ids);
    let missing: Vec<i64> = ids.iter().copied().filter(|id| !found.contains_key(id)).collect();
    if missing.is_empty() {
        return Ok(found);
    }
    // One connection for both reads: a pool round trip each costs as much as the reads.
    let mut held = pool.acquire().await?;
    let mut conn = held.conn();
    let rows = services::get_many(&mut conn, &missing).await?;
    let mut offers = services::offers_many(&mut conn, &missing).await?;
    drop(held);
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
        assert_eq!(found[&1].words[0], "service 1", "kept with its words");
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

    #[test]
    fn rows_are_bounded_by_the_bytes_they_hold_too() {
        let long = |id: i64, chars: usize| {
            let mut row = ServiceRow::sample(id);
            row.description = Some("word ".repeat(chars / 5));
            Arc::new(Hydrated::new(row, Vec::new()))
        };
        let small = long(1, 0).bytes;
        let big = long(2, 100_000);
        // Counted: the description and its words.
        assert!(big.bytes > small + 2 * 100_000 - 10, "{} vs {small}", big.bytes);
        let memo = RowMemo { limits: (MAX_ROWS, 10 * big.bytes), ..RowMemo::default() };
        let start = Instant::now();
        let first: Vec<_> = (0..8).map(|id| long(id, 100_000)).collect();
        memo.keep(start, &first, 0);
        assert_eq!(memo.len(), 8);
        let later = start + Duration::from_secs(1);
        assert_eq!(memo.fresh(later, &[0]).0.len(), 1);
        // Four more do not fit in ten rows' bytes: the least recently used go until three quarters
        // of the budget (7.5 rows) hold the new four.
        let more: Vec<_> = (8..12).map(|id| long(id, 100_000)).collect();
        memo.keep(later, &more, 0);
        let held = memo.rows.lock().expect("memo lock").bytes;
        assert!(held <= 10 * big.bytes * 3 / 4 + 4 * big.bytes, "{held}");
        assert_eq!(held, memo.rows.lock().expect("memo lock").map.values().map(|(_, _, h)| h.bytes).sum::<usize>());
        assert_eq!(memo.fresh(later, &[0]).0.len(), 1, "recently used kept");
        assert_eq!(memo.fresh(later, &[8, 9, 10, 11]).0.len(), 4, "just read kept");
        assert!(memo.fresh(later, &[1, 2, 3]).0.is_empty(), "least recently used gone");
        // Forgetting a row gives its bytes back; a row read again is counted once.
        memo.forget([0]);
        memo.keep(later, &[long(8, 100_000)], 1);
        let rows = memo.rows.lock().expect("memo lock");
        assert!(!rows.map.contains_key(&0));
        assert_eq!(rows.bytes, rows.map.values().map(|(_, _, h)| h.bytes).sum::<usize>());
    }
}
