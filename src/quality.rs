//! The quality score: what Agora's own probes measured about a service, as one number from 0 to
//! 100 with its parts. Only measured signals count (never volume or payments a seller could fake):
//! uptime (shrunk toward a neutral prior when probes are few), latency against services of its
//! category, the integrity of its challenge, the stability of its prices and payTo, and proven
//! ownership. `docs/SEARCH.md` "Quality" explains it to sellers; keep the two in step.

use serde::Serialize;

/// Probes' worth of neutral evidence every service starts with: with few probes the uptime part
/// stays near [`UPTIME_PRIOR`], so two lucky probes do not outrank a hundred good ones.
pub const UPTIME_PRIOR_PROBES: f64 = 10.0;
/// The uptime believed before any probe.
pub const UPTIME_PRIOR: f64 = 0.5;
/// Each part's weight in the score (they sum to 1).
pub const WEIGHTS: Parts = Parts {
    uptime: 0.35,
    latency: 0.15,
    integrity: 0.15,
    price_stability: 0.10,
    pay_to_stability: 0.10,
    verified: 0.15,
};
/// Added to both latencies before they are compared, and the latency part is kept in steps of
/// [`LATENCY_STEP`]: a few milliseconds of network noise must not reorder services.
pub const LATENCY_SMOOTHING_MS: f64 = 50.0;
pub const LATENCY_STEP: f64 = 0.1;
/// Warnings on the latest valid challenge at which the integrity part reaches 0.
pub const WARNINGS_TO_ZERO: f64 = 5.0;

/// Each signal from 0 (worst) to 1 (best).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Parts {
    /// Successful probes over the uptime window, shrunk toward 0.5 when probes are few.
    pub uptime: f64,
    /// 0.5 at the median latency of its category, toward 1 when faster, toward 0 when slower.
    pub latency: f64,
    /// The latest valid challenge: fewer warnings and more payable offers score higher.
    pub integrity: f64,
    /// 1 without price changes in the window, halved by the first, and so on.
    pub price_stability: f64,
    /// 1 without payTo changes in the window; each change costs more than a price change.
    pub pay_to_stability: f64,
    /// 1 when someone proved control of the service.
    pub verified: f64,
}

/// What the probes measured about one service, the score's input.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Signals {
    pub probes: i64,
    pub successes: i64,
    /// Median total time of its successful probes in the latency window.
    pub latency_ms: Option<f64>,
    /// The median of its category's services' latencies.
    pub category_latency_ms: Option<f64>,
    /// Warnings on the latest valid challenge.
    pub warnings: i64,
    pub offers: i64,
    pub payable_offers: i64,
    pub price_changes: i64,
    pub pay_to_changes: i64,
    pub verified: bool,
}

impl Parts {
    pub fn of(signals: &Signals) -> Parts {
        let uptime = (signals.successes.max(0) as f64 + UPTIME_PRIOR * UPTIME_PRIOR_PROBES)
            / (signals.probes.max(0) as f64 + UPTIME_PRIOR_PROBES);
        let latency = match (signals.latency_ms, signals.category_latency_ms) {
            (Some(own), Some(norm)) if own >= 0.0 && norm > 0.0 => {
                let (own, norm) = (own + LATENCY_SMOOTHING_MS, norm + LATENCY_SMOOTHING_MS);
                (norm / (norm + own) / LATENCY_STEP).round() * LATENCY_STEP
            }
            _ => 0.5,
        };
        let payable = if signals.offers > 0 { signals.payable_offers as f64 / signals.offers as f64 } else { 0.0 };
        let clean = 1.0 - (signals.warnings.max(0) as f64 / WARNINGS_TO_ZERO).min(1.0);
        Parts {
            uptime: unit(uptime),
            latency: unit(latency),
            integrity: unit(0.5 * clean + 0.5 * payable),
            price_stability: unit(1.0 / (1.0 + signals.price_changes.max(0) as f64)),
            pay_to_stability: unit(1.0 / (1.0 + 3.0 * signals.pay_to_changes.max(0) as f64)),
            verified: if signals.verified { 1.0 } else { 0.0 },
        }
    }

    /// The weighted score, 0–100.
    pub fn score(&self) -> u8 {
        let w = WEIGHTS;
        let sum = self.uptime * w.uptime
            + self.latency * w.latency
            + self.integrity * w.integrity
            + self.price_stability * w.price_stability
            + self.pay_to_stability * w.pay_to_stability
            + self.verified * w.verified;
        (unit(sum) * 100.0).round() as u8
    }

    /// Each part in percent: the index's compact form.
    pub fn to_percent(self) -> [u8; 6] {
        let p = |v: f64| (unit(v) * 100.0).round() as u8;
        [
            p(self.uptime),
            p(self.latency),
            p(self.integrity),
            p(self.price_stability),
            p(self.pay_to_stability),
            p(self.verified),
        ]
    }

    pub fn from_percent(percent: [u8; 6]) -> Parts {
        let f = |v: u8| f64::from(v.min(100)) / 100.0;
        Parts {
            uptime: f(percent[0]),
            latency: f(percent[1]),
            integrity: f(percent[2]),
            price_stability: f(percent[3]),
            pay_to_stability: f(percent[4]),
            verified: f(percent[5]),
        }
    }
}

/// A hit's quality: the score and the parts it was made of.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Quality {
    /// 0–100.
    pub score: u8,
    pub parts: Parts,
}

impl Quality {
    pub fn from_percent(percent: [u8; 6]) -> Quality {
        let parts = Parts::from_percent(percent);
        Quality { score: parts.score(), parts }
    }
}

fn unit(v: f64) -> f64 {
    if v.is_nan() { 0.0 } else { v.clamp(0.0, 1.0) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> Signals {
        Signals {
            probes: 100,
            successes: 100,
            latency_ms: Some(100.0),
            category_latency_ms: Some(100.0),
            warnings: 0,
            offers: 1,
            payable_offers: 1,
            ..Signals::default()
        }
    }

    #[test]
    fn few_probes_are_shrunk_toward_the_prior() {
        let two = Parts::of(&Signals { probes: 2, successes: 2, ..good() });
        let hundred = Parts::of(&good());
        assert!(two.uptime < 0.6 && hundred.uptime > 0.95, "{two:?} {hundred:?}");
        assert!(Parts::of(&Signals { probes: 100, successes: 50, ..good() }).uptime < hundred.uptime);
        assert_eq!(Parts::of(&Signals { probes: 0, successes: 0, ..good() }).uptime, UPTIME_PRIOR);
    }

    #[test]
    fn latency_is_judged_against_the_category() {
        assert_eq!(Parts::of(&good()).latency, 0.5);
        let fast = Parts::of(&Signals { latency_ms: Some(25.0), ..good() }).latency;
        let slow = Parts::of(&Signals { latency_ms: Some(1000.0), ..good() }).latency;
        assert!(fast > 0.6 && slow < 0.2, "{fast} {slow}");
        let noise = Parts::of(&Signals { latency_ms: Some(108.0), ..good() }).latency;
        assert_eq!(noise, 0.5, "a few milliseconds either way is noise");
        assert_eq!(Parts::of(&Signals { latency_ms: None, ..good() }).latency, 0.5, "unmeasured is neutral");
        assert_eq!(Parts::of(&Signals { category_latency_ms: Some(0.0), ..good() }).latency, 0.5);
    }

    #[test]
    fn warnings_unpayable_offers_and_changes_cost_points() {
        let base = Parts::of(&good());
        assert_eq!(base.integrity, 1.0);
        assert_eq!(Parts::of(&Signals { warnings: 50, ..good() }).integrity, 0.5);
        assert_eq!(Parts::of(&Signals { payable_offers: 0, ..good() }).integrity, 0.5);
        assert_eq!(Parts::of(&Signals { price_changes: 1, ..good() }).price_stability, 0.5);
        let pay_to = Parts::of(&Signals { pay_to_changes: 1, ..good() }).pay_to_stability;
        assert_eq!(pay_to, 0.25, "a payTo change weighs more than a price change");
        assert!(Parts::of(&Signals { pay_to_changes: 1, ..good() }).score() < base.score());
        assert!(Parts::of(&Signals { verified: true, ..good() }).score() > base.score());
    }

    #[test]
    fn the_score_spans_0_to_100_and_survives_its_compact_form() {
        let best = Parts::of(&Signals {
            verified: true,
            latency_ms: Some(0.0),
            category_latency_ms: Some(1e9),
            probes: 1_000_000,
            successes: 1_000_000,
            ..good()
        });
        assert_eq!(best.score(), 100);
        let worst = Parts::of(&Signals {
            probes: 1_000_000,
            latency_ms: Some(1e12),
            warnings: 99,
            payable_offers: 0,
            price_changes: 1_000_000,
            pay_to_changes: 1_000_000,
            ..good()
        });
        assert_eq!(worst.score(), 0);
        let sum: f64 = [
            WEIGHTS.uptime,
            WEIGHTS.latency,
            WEIGHTS.integrity,
            WEIGHTS.price_stability,
            WEIGHTS.pay_to_stability,
            WEIGHTS.verified,
        ]
        .iter()
        .sum();
        assert!((sum - 1.0).abs() < 1e-9);
        let parts = Parts::of(&Signals { probes: 7, successes: 5, price_changes: 2, ..good() });
        let back = Quality::from_percent(parts.to_percent());
        assert!((back.parts.uptime - parts.uptime).abs() <= 0.005);
        assert!(back.score.abs_diff(parts.score()) <= 1);
        // Hostile numbers do not panic or leave the range.
        let odd = Parts::of(&Signals { probes: -5, successes: 9, latency_ms: Some(f64::NAN), warnings: -3, ..good() });
        assert!(odd.score() <= 100);
    }
}
