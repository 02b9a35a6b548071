//! A small cache of finished answers (serialized JSON), for the two hot read paths: service
//! detail (eleven SQLite reads) and search (an index query plus hydration). An entry records the
//! generation it was made at; the caller says whether that generation is still current (the
//! store's touch log for a service, the index's applied sequence for a search). Every entry also
//! expires after [`TTL`], which bounds what no generation sees: writes by another process, and
//! figures that move with the clock (uptime windows).

use axum::body::Bytes;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Longest an answer is served from the cache.
pub const TTL: Duration = Duration::from_secs(5);

struct Entry<V> {
    value: V,
    generation: u64,
    made: Instant,
}

pub struct AnswerCache<K, V = Bytes> {
    entries: Mutex<HashMap<K, Entry<V>>>,
    capacity: usize,
}

impl<K: Eq + Hash, V: Clone> AnswerCache<K, V> {
    pub fn new(capacity: usize) -> Self {
        AnswerCache { entries: Mutex::new(HashMap::new()), capacity: capacity.max(1) }
    }

    /// The cached answer for `key`, if it is younger than [`TTL`] and `current(generation)` holds.
    pub fn get(&self, key: &K, current: impl FnOnce(u64) -> bool) -> Option<V> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let entry = entries.get(key)?;
        (entry.made.elapsed() < TTL && current(entry.generation)).then(|| entry.value.clone())
    }

    /// Keeps `value`, read at `generation`. When full, expired entries go first, then everything
    /// (a refill costs one miss per hot key; no per-hit bookkeeping for an LRU order).
    pub fn put(&self, key: K, generation: u64, value: V) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= self.capacity && !entries.contains_key(&key) {
            entries.retain(|_, entry| entry.made.elapsed() < TTL);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(key, Entry { value, generation, made: Instant::now() });
    }
}

#[cfg(test)]
mod tests {
    use super::AnswerCache;
    use axum::body::Bytes;

    #[test]
    fn answers_are_served_while_current_and_capacity_is_kept() {
        let cache: AnswerCache<i32> = AnswerCache::new(2);
        cache.put(1, 5, Bytes::from_static(b"one"));
        assert_eq!(cache.get(&1, |g| g == 5).as_deref(), Some(&b"one"[..]));
        assert_eq!(cache.get(&1, |g| g == 6), None, "a stale generation misses");
        assert_eq!(cache.get(&2, |_| true), None);
        cache.put(2, 5, Bytes::from_static(b"two"));
        cache.put(3, 5, Bytes::from_static(b"three"));
        assert!(cache.entries.lock().expect("lock").len() <= 2);
        assert_eq!(cache.get(&3, |_| true).as_deref(), Some(&b"three"[..]));
    }
}
