//! Demand: text searches that found nothing, counted so sellers can see what agents and people
//! look for and cannot find (the about page, `GET /api/v1/demand`). No personal data: only the
//! normalized query and the UTC day are kept — no address, agent, session or finer time — and a
//! query that looks like it carries personal data (an e-mail, a URL, a long number, a key or an
//! address) is not counted at all.
//!
//! Counts gather in memory and are written every [`FLUSH_EVERY`] (and at shutdown), so a search
//! never waits for a write. Repeats served from an answer cache are not searches and are not
//! counted, which also keeps one client repeating itself from inflating a query.

use super::{Catalog, CatalogError};
use crate::db::demand::{self, Missed};
use crate::db::maintain::DAY_MS;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

/// How often counts are written.
pub const FLUSH_EVERY: Duration = Duration::from_secs(60);
/// Distinct queries held between two writes; more are dropped until the next write.
pub const MAX_PENDING: usize = 10_000;
/// Characters of a query kept.
pub const MAX_QUERY_CHARS: usize = 100;
/// Misses a query needs before it is shown (one miss is noise, or one person's typo).
pub const SHOWN_FROM: i64 = 2;
/// How long a read of the most-missed queries is reused (the about page reads it).
const READ_REUSED: Duration = Duration::from_secs(30);

/// Zero-result counts not yet written, and the last read.
#[derive(Debug, Default)]
pub struct DemandCounter {
    pending: Mutex<HashMap<String, u32>>,
    last_read: Mutex<Option<LastRead>>,
}

/// A read of the most-missed queries: its (days, limit), when it was made, and what it found.
type LastRead = ((i64, i64), Instant, Vec<Missed>);

impl DemandCounter {
    /// Counts one search for `q` that found nothing (if `q` may be kept at all).
    pub fn missed(&self, q: &str) {
        let Some(query) = normalize(q) else { return };
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        if pending.len() >= MAX_PENDING && !pending.contains_key(&query) {
            return;
        }
        let count = pending.entry(query).or_default();
        *count = count.saturating_add(1);
    }

    fn take(&self) -> Vec<(String, u32)> {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        let mut counts: Vec<(String, u32)> = pending.drain().collect();
        counts.sort_unstable();
        counts
    }
}

/// The query as counted: lowercase, single spaces, clipped at a word; `None` when it has no
/// letter or digit, or looks like it carries personal data.
pub fn normalize(q: &str) -> Option<String> {
    let lower = q.to_lowercase();
    let words: Vec<&str> = lower.split_whitespace().collect();
    if !words.iter().any(|w| w.chars().any(char::is_alphanumeric)) {
        return None;
    }
    if words.iter().any(|w| personal(w)) {
        return None;
    }
    let mut query = String::new();
    for word in words {
        let extra = usize::from(!query.is_empty()) + word.chars().count();
        if query.chars().count() + extra > MAX_QUERY_CHARS {
            break;
        }
        if !query.is_empty() {
            query.push(' ');
        }
        query.push_str(word);
    }
    (!query.is_empty()).then_some(query)
}

/// An e-mail, a URL, a run of 6+ digits (phone, card, account numbers) or a long token of letters
/// and digits (keys, addresses, hashes).
fn personal(word: &str) -> bool {
    let mut digits = 0;
    let mut longest_digits = 0;
    for c in word.chars() {
        digits = if c.is_ascii_digit() { digits + 1 } else { 0 };
        longest_digits = longest_digits.max(digits);
    }
    let mixed_token = word.chars().count() >= 20
        && word.chars().all(|c| c.is_ascii_alphanumeric())
        && word.chars().any(|c| c.is_ascii_digit());
    word.contains('@') || word.contains("://") || word.starts_with("www.") || longest_digits >= 6 || mixed_token
}

impl Catalog {
    /// Writes the counts gathered so far (every [`FLUSH_EVERY`], at shutdown, and in tests).
    pub async fn flush_demand(&self) -> Result<u64, CatalogError> {
        let counts = self.demand.take();
        if counts.is_empty() {
            return Ok(0);
        }
        let day = self.clock.now_ms().div_euclid(DAY_MS);
        Ok(self.store.writer().demand(day, counts).await?)
    }

    /// The most-missed queries of the last `days` days (shown from [`SHOWN_FROM`] misses).
    pub async fn demand(&self, days: i64, limit: i64) -> Result<Vec<Missed>, CatalogError> {
        let key = (days, limit);
        if let Some((read_key, at, missed)) = &*self.demand.last_read.lock().unwrap_or_else(PoisonError::into_inner)
            && *read_key == key
            && at.elapsed() < READ_REUSED
        {
            return Ok(missed.clone());
        }
        let missed = demand::most_missed(self.store.read(), self.clock.now_ms(), days, SHOWN_FROM, limit).await?;
        *self.demand.last_read.lock().unwrap_or_else(PoisonError::into_inner) =
            Some((key, Instant::now(), missed.clone()));
        Ok(missed)
    }

    /// Forgets the last read (a test reads right after a flush).
    pub fn demand_read_expired(&self) {
        *self.demand.last_read.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

/// Writes the counts every [`FLUSH_EVERY`] while the catalog lives.
pub(super) fn spawn_flusher(
    catalog: Weak<DemandCounter>,
    writer: crate::db::Store,
    clock: Arc<dyn crate::clock::Clock>,
) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(FLUSH_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        every.tick().await;
        loop {
            every.tick().await;
            let Some(counter) = catalog.upgrade() else { return };
            let counts = counter.take();
            drop(counter);
            if counts.is_empty() {
                continue;
            }
            let day = clock.now_ms().div_euclid(DAY_MS);
            if let Err(error) = writer.writer().demand(day, counts).await {
                tracing::debug!(%error, "zero-result counts not written");
                if matches!(error, crate::db::StoreError::Closed) {
                    return;
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_normalized_and_personal_ones_are_not_kept() {
        assert_eq!(normalize("  Cheap   OCR on Solana ").as_deref(), Some("cheap ocr on solana"));
        assert_eq!(normalize("??? !!"), None);
        for personal in [
            "contact jane@example.com",
            "https://example.com/api",
            "www.example.com weather",
            "call 5551234567",
            "wallet 0x209693bc6afc0c5328ba36faf03c514ef312287c",
            "key sk4f8a9b2c7d1e6f3a0b5c",
        ] {
            assert_eq!(normalize(personal), None, "{personal}");
        }
        assert_eq!(normalize("top 10 apis of 2026").as_deref(), Some("top 10 apis of 2026"), "short numbers stay");
        let long = "word ".repeat(60);
        let clipped = normalize(&long).expect("kept");
        assert!(clipped.chars().count() <= MAX_QUERY_CHARS && clipped.ends_with("word"), "{clipped}");
    }

    #[test]
    fn pending_counts_are_bounded() {
        let counter = DemandCounter::default();
        for i in 0..(MAX_PENDING + 50) {
            counter.missed(&format!("query {i}"));
        }
        counter.missed("query 1");
        let counts = counter.take();
        assert_eq!(counts.len(), MAX_PENDING);
        assert_eq!(counts.iter().find(|(q, _)| q == "query 1").map(|c| c.1), Some(2), "known queries still count");
        assert!(counter.take().is_empty(), "taken once");
    }
}
