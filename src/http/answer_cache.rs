//! A small cache of finished answers (serialized JSON or rendered HTML), for the hot read paths:
//! service detail (eleven SQLite reads), search and the search page (an index query plus
//! hydration). [`AnswerCache::get_or_compute`] is the one way in: an entry records the generation
//! it was made at, and the caller passes the freshness rule — whether that generation is still
//! current (`Catalog::service_unchanged` for a service, `Catalog::search_generation` for a search). Every entry also
//! expires after [`TTL`], which bounds what no generation sees: writes by another process, and
//! figures that move with the clock (uptime windows). Memory is bounded in bytes as well as in
//! entries, since clients choose the queries.
//!
//! A search answer goes stale for every query at once when the index commits; recomputing them
//! all at once stalls every connection behind the recomputations. [`AnswerCache::refresh_or_stale`]
//! lets the first request after the change recompute while the others for the same key keep
//! getting the previous answer until it lands (bounded by [`REFRESH_GRACE`]): a client that waits
//! for its own write and asks again is that first request, unless another one is already
//! recomputing the same answer.

use axum::body::Bytes;
use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Longest an answer is served from the cache.
pub const TTL: Duration = Duration::from_secs(5);

/// How long a recomputation may take before another request starts its own (the first may have
/// failed or its client gone away), and so how long a stale answer may still be served.
pub const REFRESH_GRACE: Duration = Duration::from_secs(1);

struct Entry {
    value: Bytes,
    generation: u64,
    made: Instant,
    /// When a request set out to replace this answer, if one did.
    refreshing: Option<Instant>,
}

/// Longer query strings are answered but not kept (they are rarely repeated).
pub const MAX_CACHED_QUERY: usize = 1024;

/// The cache key of a raw query string, `None` for one too long to keep.
pub fn query_key(query: &str) -> Option<String> {
    (query.len() <= MAX_CACHED_QUERY).then(|| query.to_string())
}

/// What to do when an answer is outdated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refresh {
    /// Every request that finds it outdated recomputes it (exact after this process's writes).
    Each,
    /// One request recomputes it; the others meanwhile get the previous answer
    /// ([`AnswerCache::refresh_or_stale`]).
    OneAtATime,
}

/// When a kept answer may be served.
#[derive(Debug, Clone, Copy)]
pub struct Freshness<F> {
    /// The generation now, read before computing: a computed answer is kept with it.
    pub now: u64,
    /// Whether an answer made at a generation is still current.
    pub current: F,
    pub refresh: Refresh,
}

/// What [`AnswerCache::refresh_or_stale`] found.
enum Lookup {
    /// A current answer.
    Fresh(Bytes),
    /// The previous answer, while another request recomputes it.
    Stale(Bytes),
    /// Nothing usable: compute the answer and [`AnswerCache::put`] it.
    Compute,
}

pub struct AnswerCache<K> {
    entries: Mutex<Entries<K>>,
    capacity: usize,
    max_bytes: usize,
    hits: AtomicU64,
    misses: AtomicU64,
}

struct Entries<K> {
    map: HashMap<K, Entry>,
    /// Sum of the kept answers' lengths.
    bytes: usize,
}

impl<K: Eq + Hash> AnswerCache<K> {
    /// Keeps at most `capacity` answers of at most `max_bytes` in all (clients choose what is
    /// asked, so the bound is on memory, not only on entries); capacity 0 keeps none.
    pub fn new(capacity: usize, max_bytes: usize) -> Self {
        AnswerCache {
            entries: Mutex::new(Entries { map: HashMap::new(), bytes: 0 }),
            capacity,
            max_bytes,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// Lookups so far: (hits, misses), for `/metrics`.
    pub fn lookups(&self) -> (u64, u64) {
        (self.hits.load(Ordering::Relaxed), self.misses.load(Ordering::Relaxed))
    }

    /// The answer for `key` (`None`: not kept): the kept one while `freshness` allows, else
    /// `compute`'s, kept for the next request. (`compute` makes its future only on a miss: a hit
    /// builds nothing.)
    pub async fn get_or_compute<E, F: Future<Output = Result<Bytes, E>>>(
        &self,
        key: Option<K>,
        freshness: Freshness<impl FnOnce(u64) -> bool>,
        compute: impl FnOnce() -> F,
    ) -> Result<Bytes, E> {
        let Some(key) = key else { return compute().await };
        let kept = match freshness.refresh {
            Refresh::Each => self.get(&key, freshness.current),
            Refresh::OneAtATime => match self.refresh_or_stale(&key, freshness.current) {
                Lookup::Fresh(kept) | Lookup::Stale(kept) => Some(kept),
                Lookup::Compute => None,
            },
        };
        if let Some(kept) = kept {
            return Ok(kept);
        }
        let answer = compute().await?;
        self.put(key, freshness.now, answer.clone());
        Ok(answer)
    }

    /// The cached answer for `key`, if it is younger than [`TTL`] and `current(generation)` holds.
    fn get(&self, key: &K, current: impl FnOnce(u64) -> bool) -> Option<Bytes> {
        let found = {
            let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            entries.map.get(key).and_then(|entry| {
                (entry.made.elapsed() < TTL && current(entry.generation)).then(|| entry.value.clone())
            })
        };
        let counter = if found.is_some() { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Like [`Self::get`], but when the answer is outdated and another request is recomputing
    /// it (for less than [`REFRESH_GRACE`]), the outdated answer; else the caller recomputes.
    fn refresh_or_stale(&self, key: &K, current: impl FnOnce(u64) -> bool) -> Lookup {
        let found = {
            let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            match entries.map.get_mut(key) {
                None => Lookup::Compute,
                Some(entry) if entry.made.elapsed() < TTL && current(entry.generation) => {
                    Lookup::Fresh(entry.value.clone())
                }
                Some(entry) => match entry.refreshing {
                    Some(started) if started.elapsed() < REFRESH_GRACE => Lookup::Stale(entry.value.clone()),
                    _ => {
                        entry.refreshing = Some(Instant::now());
                        Lookup::Compute
                    }
                },
            }
        };
        let counter = if matches!(found, Lookup::Compute) { &self.misses } else { &self.hits };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Keeps `value`, read at `generation`. When full, expired entries go first, then everything
    /// (a refill costs one miss per hot key; no per-hit bookkeeping for an LRU order). An answer
    /// larger than a tenth of the byte budget is not kept.
    fn put(&self, key: K, generation: u64, value: Bytes) {
        if self.capacity == 0 || value.len() > self.max_bytes / 10 {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let entries = &mut *entries;
        if let Some(replaced) = entries.map.remove(&key) {
            entries.bytes -= replaced.value.len();
        }
        if entries.map.len() >= self.capacity || entries.bytes + value.len() > self.max_bytes {
            entries.map.retain(|_, entry| entry.made.elapsed() < TTL);
            entries.bytes = entries.map.values().map(|entry| entry.value.len()).sum();
            if entries.map.len() >= self.capacity || entries.bytes + value.len() > self.max_bytes {
                entries.map.clear();
                entries.bytes = 0;
            }
        }
        entries.bytes += value.len();
        entries.map.insert(key, Entry { value, generation, made: Instant::now(), refreshing: None });
    }
}

#[cfg(test)]
mod tests {
    use super::{AnswerCache, Freshness, Lookup, Refresh};
    use axum::body::Bytes;

    #[test]
    fn answers_are_served_while_current_and_capacity_is_kept() {
        let cache: AnswerCache<i32> = AnswerCache::new(2, 1000);
        cache.put(1, 5, Bytes::from_static(b"one"));
        assert_eq!(cache.get(&1, |g| g == 5).as_deref(), Some(&b"one"[..]));
        assert_eq!(cache.get(&1, |g| g == 6), None, "a stale generation misses");
        assert_eq!(cache.get(&2, |_| true), None);
        cache.put(2, 5, Bytes::from_static(b"two"));
        cache.put(3, 5, Bytes::from_static(b"three"));
        assert!(cache.entries.lock().expect("lock").map.len() <= 2);
        assert_eq!(cache.get(&3, |_| true).as_deref(), Some(&b"three"[..]));
        assert_eq!(cache.lookups(), (2, 2));

        let off: AnswerCache<i32> = AnswerCache::new(0, 1000);
        off.put(1, 5, Bytes::from_static(b"one"));
        assert_eq!(off.get(&1, |_| true), None, "capacity 0 keeps nothing");
    }

    #[test]
    fn the_byte_budget_bounds_memory_whatever_clients_ask() {
        let cache: AnswerCache<i32> = AnswerCache::new(1_000, 100);
        cache.put(0, 1, Bytes::from(vec![b'x'; 11]));
        assert_eq!(cache.get(&0, |_| true), None, "over a tenth of the budget: not kept");
        for key in 0..50 {
            cache.put(key, 1, Bytes::from(vec![b'x'; 10]));
            let entries = cache.entries.lock().expect("lock");
            assert!(entries.bytes <= 100, "{} bytes kept", entries.bytes);
            assert_eq!(entries.bytes, entries.map.values().map(|e| e.value.len()).sum::<usize>());
        }
        cache.put(49, 1, Bytes::from(vec![b'y'; 5]));
        assert_eq!(cache.get(&49, |_| true).as_deref(), Some(&b"yyyyy"[..]), "a replaced answer");
        let entries = cache.entries.lock().expect("lock");
        assert_eq!(entries.bytes, entries.map.values().map(|e| e.value.len()).sum::<usize>());
    }

    #[test]
    fn one_request_recomputes_an_outdated_answer_while_others_get_the_previous_one() {
        let cache: AnswerCache<i32> = AnswerCache::new(4, 1000);
        assert!(matches!(cache.refresh_or_stale(&1, |_| true), Lookup::Compute));
        cache.put(1, 5, Bytes::from_static(b"old"));
        assert!(matches!(cache.refresh_or_stale(&1, |g| g == 5), Lookup::Fresh(v) if v == "old"));
        // Generation 6 committed: the first asker recomputes, the next ones get "old" meanwhile.
        assert!(matches!(cache.refresh_or_stale(&1, |g| g == 6), Lookup::Compute));
        assert!(matches!(cache.refresh_or_stale(&1, |g| g == 6), Lookup::Stale(v) if v == "old"));
        cache.put(1, 6, Bytes::from_static(b"new"));
        assert!(matches!(cache.refresh_or_stale(&1, |g| g == 6), Lookup::Fresh(v) if v == "new"));
        assert_eq!(cache.lookups(), (3, 2));
    }

    /// Asks `cache` for key 1 at `generation`, counting the computations; the answer names the
    /// generation it was computed at.
    async fn ask(cache: &AnswerCache<i32>, generation: u64, refresh: Refresh, computed: &mut u32) -> Result<Bytes, ()> {
        let freshness = Freshness { now: generation, current: |made: u64| made == generation, refresh };
        cache
            .get_or_compute(Some(1), freshness, || async {
                *computed += 1;
                Ok(Bytes::from(format!("made at {generation}")))
            })
            .await
    }

    #[tokio::test]
    async fn get_or_compute_keeps_answers_while_the_rule_says_current() {
        let cache: AnswerCache<i32> = AnswerCache::new(4, 1000);
        let mut computed = 0;
        assert_eq!(ask(&cache, 1, Refresh::Each, &mut computed).await.as_deref(), Ok(&b"made at 1"[..]));
        assert_eq!(ask(&cache, 1, Refresh::Each, &mut computed).await.as_deref(), Ok(&b"made at 1"[..]));
        assert_eq!(computed, 1, "a current answer is served, not recomputed");
        assert_eq!(ask(&cache, 2, Refresh::Each, &mut computed).await.as_deref(), Ok(&b"made at 2"[..]));
        assert_eq!(computed, 2, "an outdated one is recomputed and kept");

        // One request at a time: while one recomputes (its entry marked), others get the previous.
        assert!(matches!(cache.refresh_or_stale(&1, |g| g == 3), Lookup::Compute));
        assert_eq!(ask(&cache, 3, Refresh::OneAtATime, &mut computed).await.as_deref(), Ok(&b"made at 2"[..]));
        assert_eq!(computed, 2);

        // Errors pass through and nothing is kept; a missing key is computed every time.
        let failed =
            cache.get_or_compute(Some(9), Freshness { now: 1, current: |_| true, refresh: Refresh::Each }, || async {
                Err::<Bytes, _>("no")
            });
        assert_eq!(failed.await, Err("no"));
        assert_eq!(cache.get(&9, |_| true), None);
        let uncached =
            cache.get_or_compute(None, Freshness { now: 1, current: |_| true, refresh: Refresh::Each }, || async {
                Ok::<_, ()>(Bytes::from_static(b"x"))
            });
        assert_eq!(uncached.await.as_deref(), Ok(&b"x"[..]));
    }
}
