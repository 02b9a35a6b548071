//! Which services each commit touched, as generations, so answers derived from the store can be
//! cached and still be exact for this process's writes: an answer read while the generation was
//! `g` is current as long as its service has not been touched after `g`. The writer task is the
//! only one that touches, and does so after the commit, so a reader that sees generation `g`
//! also sees every write of generations up to `g`.
//!
//! Writes by another process (`agora crawl` beside `serve`) are not seen here; caches bound them
//! with a short time to live.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct TouchLog {
    generation: AtomicU64,
    /// The generation of the last write that may have touched every service (maintenance).
    all: AtomicU64,
    by_service: Mutex<HashMap<i64, u64>>,
}

impl TouchLog {
    /// The current generation: read it before reading what an answer is made of.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Whether `id` was written after `generation`.
    pub fn touched_since(&self, id: i64, generation: u64) -> bool {
        if self.all.load(Ordering::Acquire) > generation {
            return true;
        }
        let by_service = self.by_service.lock().unwrap_or_else(|p| p.into_inner());
        by_service.get(&id).is_some_and(|touched| *touched > generation)
    }

    /// After a commit that wrote `ids`.
    pub(crate) fn touch(&self, ids: &[i64]) {
        if ids.is_empty() {
            return;
        }
        let next = self.generation.load(Ordering::Relaxed) + 1;
        {
            let mut by_service = self.by_service.lock().unwrap_or_else(|p| p.into_inner());
            for id in ids {
                by_service.insert(*id, next);
            }
        }
        self.generation.store(next, Ordering::Release);
    }

    /// After a commit that may have written any service.
    pub(super) fn touch_all(&self) {
        let next = self.generation.load(Ordering::Relaxed) + 1;
        self.all.store(next, Ordering::Release);
        self.generation.store(next, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::TouchLog;

    #[test]
    fn an_answer_is_current_until_its_service_is_touched() {
        let log = TouchLog::default();
        let read_at = log.generation();
        log.touch(&[7]);
        assert!(log.touched_since(7, read_at));
        assert!(!log.touched_since(8, read_at));
        let reread = log.generation();
        assert!(!log.touched_since(7, reread));
        log.touch_all();
        assert!(log.touched_since(8, reread));
        assert!(!log.touched_since(8, log.generation()));
    }
}
