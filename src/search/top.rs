//! The best `k` of a stream of ranked hits, in amortized constant time per hit.
//!
//! A binary heap costs a sift per improving hit, and a sort by "newest" over documents indexed
//! oldest first improves on every hit. Instead, hits above the current threshold go into a
//! buffer of `2k`; when it fills, a selection keeps the best `k` and raises the threshold.

use super::collect::Ranked;

#[derive(Debug)]
pub struct TopK {
    keep: usize,
    buffer: Vec<Ranked>,
    /// Keys of the worst hit kept by the last selection: anything ranked below cannot enter.
    threshold: Option<(u64, u64)>,
}

impl TopK {
    pub fn new(keep: usize) -> TopK {
        TopK { keep, buffer: Vec::new(), threshold: None }
    }

    /// Whether a hit with these keys could still enter (ties are decided by id, so they may).
    pub fn admits(&self, primary: u64, secondary: u64) -> bool {
        self.keep > 0 && self.threshold.is_none_or(|threshold| (primary, secondary) >= threshold)
    }

    pub fn push(&mut self, hit: Ranked) {
        if !self.admits(hit.primary, hit.secondary) {
            return;
        }
        self.buffer.push(hit);
        if self.buffer.len() >= 2 * self.keep.max(32) {
            self.select();
        }
    }

    /// Keeps the best `keep` of the buffer and raises the threshold to the worst of them.
    fn select(&mut self) {
        if self.buffer.len() > self.keep {
            let at = self.keep - 1;
            self.buffer.select_nth_unstable_by(at, |a, b| b.cmp(a));
            self.buffer.truncate(self.keep);
            let worst = &self.buffer[at];
            self.threshold = Some((worst.primary, worst.secondary));
        }
    }

    /// The best `keep`, best first.
    pub fn into_sorted(mut self) -> Vec<Ranked> {
        self.buffer.sort_unstable_by(|a, b| b.cmp(a));
        self.buffer.truncate(self.keep);
        self.buffer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(primary: u64, id: i64) -> Ranked {
        Ranked { primary, secondary: 0, id, score: 0.0, uptime: -1.0, owner_verified: false, quality: [0; 6] }
    }

    #[test]
    fn keeps_the_best_in_order_with_ties_to_the_lower_id() {
        let mut rng = fastrand::Rng::with_seed(7);
        for keep in [1, 3, 20, 100] {
            let hits: Vec<Ranked> = (0..5_000).map(|id| hit(rng.u64(0..300), id)).collect();
            let mut top = TopK::new(keep);
            for h in &hits {
                top.push(*h);
            }
            let mut expected = hits.clone();
            expected.sort_by(|a, b| b.cmp(a));
            expected.truncate(keep);
            assert_eq!(top.into_sorted(), expected, "keep {keep}");
        }
        // Ascending keys (a "newest" sort over documents indexed oldest first).
        let mut top = TopK::new(5);
        for id in 0..1_000 {
            top.push(hit(id as u64, id));
        }
        let ids: Vec<i64> = top.into_sorted().iter().map(|h| h.id).collect();
        assert_eq!(ids, [999, 998, 997, 996, 995]);
        let mut none = TopK::new(0);
        none.push(hit(1, 1));
        assert!(none.into_sorted().is_empty());
    }
}
