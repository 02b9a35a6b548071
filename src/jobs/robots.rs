//! A per-origin cache of robots.txt rules: readable files and 4xx answers are kept for a day
//! (RFC 9309 allows at most 24 h); unreachable ones are retried after ten minutes.

use agora_crawler::RobotsRules;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;
use url::Url;

const FRESH_FOR: Duration = Duration::from_secs(24 * 3600);
const UNREACHABLE_FOR: Duration = Duration::from_secs(600);
const MAX_ORIGINS: usize = 100_000;

#[derive(Default)]
pub struct RobotsCache {
    entries: Mutex<HashMap<String, (Instant, Arc<RobotsRules>)>>,
}

impl RobotsCache {
    /// The rules for `url`'s origin, if known and fresh.
    pub fn get(&self, url: &Url) -> Option<Arc<RobotsRules>> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let (expires, rules) = entries.get(&origin(url))?;
        (*expires > Instant::now()).then(|| Arc::clone(rules))
    }

    pub fn put(&self, url: &Url, rules: RobotsRules) -> Arc<RobotsRules> {
        let ttl = if matches!(rules, RobotsRules::Unreachable(_)) { UNREACHABLE_FOR } else { FRESH_FOR };
        let rules = Arc::new(rules);
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MAX_ORIGINS {
            let now = Instant::now();
            entries.retain(|_, (expires, _)| *expires > now);
        }
        entries.insert(origin(url), (Instant::now() + ttl, Arc::clone(&rules)));
        rules
    }
}

fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}
