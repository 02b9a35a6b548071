//! The service lifecycle and recrawl schedule as a pure function: state + one probe's outcome →
//! next state. No I/O and no randomness (the caller passes the jitter), so every rule is tested
//! directly and the database applies it inside the same transaction that records the probe.
//!
//! Statuses (`shared/INTERFACES.md` "Storage"): `pending` → `listed` | `rejected`;
//! `listed` → `degraded` after consecutive failures → `delisted` once failing for the failure
//! window; a valid probe restores `listed` from anywhere. A robots.txt disallow rejects at once:
//! the site asked not to be fetched, so the listing cannot be kept fresh.

use agora_crawler::Verdict;
use std::time::Duration;

/// A service's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum Status {
    Pending,
    Listed,
    Rejected,
    Degraded,
    Delisted,
}

impl Status {
    pub const ALL: [Status; 5] =
        [Status::Pending, Status::Listed, Status::Rejected, Status::Degraded, Status::Delisted];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Listed => "listed",
            Status::Rejected => "rejected",
            Status::Degraded => "degraded",
            Status::Delisted => "delisted",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Knobs of the lifecycle and schedule. Defaults follow `reliability-perf.md` §B1 (Nutch's
/// adaptive schedule, `db.fetch.retry.max = 3`, delist after a week).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LifecyclePolicy {
    /// First interval of a newly listed service.
    pub base_interval: Duration,
    /// Floor after changes.
    pub min_interval: Duration,
    /// Cap while stable.
    pub max_interval: Duration,
    /// Multiplier while a listing stays the same.
    pub grow: f64,
    /// Multiplier after a listing changed.
    pub shrink: f64,
    /// First retry after a failure; doubles per consecutive failure up to `backoff_max`.
    pub backoff_start: Duration,
    pub backoff_max: Duration,
    /// Consecutive failures that turn `listed` into `degraded`.
    pub degrade_after: u32,
    /// How long a service may fail before it is `delisted`.
    pub delist_after: Duration,
    /// How often `rejected` and `delisted` services are re-probed, so a fix is noticed.
    pub recheck_rejected: Duration,
    /// Relative spread of every delay (0.2 = ±20 %), so hosts are not hit in lockstep.
    pub jitter: f64,
}

impl Default for LifecyclePolicy {
    fn default() -> Self {
        LifecyclePolicy {
            base_interval: Duration::from_secs(6 * 3600),
            min_interval: Duration::from_secs(15 * 60),
            max_interval: Duration::from_secs(7 * 24 * 3600),
            grow: 1.4,
            shrink: 0.8,
            backoff_start: Duration::from_secs(5 * 60),
            backoff_max: Duration::from_secs(6 * 3600),
            degrade_after: 3,
            delist_after: Duration::from_secs(7 * 24 * 3600),
            recheck_rejected: Duration::from_secs(24 * 3600),
            jitter: 0.2,
        }
    }
}

/// What the lifecycle needs to know about a service before a probe.
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    pub status: Status,
    pub failure_streak: u32,
    pub failing_since: Option<i64>,
    pub interval_ms: i64,
    /// Fingerprint of the last valid listing.
    pub challenge_hash: Option<String>,
    /// Its origin no longer lists it: probes keep it delisted (`removed_by_origin`).
    pub withdrawn: bool,
}

/// One probe's outcome, as the lifecycle sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome<'a> {
    pub verdict: Verdict,
    /// The first problem's code (`robots_disallowed` is special).
    pub reason_code: Option<&'a str>,
    /// Fingerprint of the listing, when the verdict is `listed`.
    pub challenge_hash: Option<&'a str>,
    pub retry_after: Option<Duration>,
}

/// The state after the probe, and when to probe next.
#[derive(Debug, Clone, PartialEq)]
pub struct Next {
    pub status: Status,
    pub failure_streak: u32,
    pub failing_since: Option<i64>,
    pub interval_ms: i64,
    pub next_due_at: i64,
    /// A valid listing whose fingerprint differs from the previous valid one.
    pub listing_changed: bool,
}

/// Applies one probe outcome at `now` (epoch ms). `jitter` is in [-1, 1] and scales
/// [`LifecyclePolicy::jitter`].
pub fn next_state(policy: &LifecyclePolicy, state: &State, outcome: &Outcome<'_>, now: i64, jitter: f64) -> Next {
    let spread = 1.0 + policy.jitter * jitter.clamp(-1.0, 1.0);
    let after = |delay_ms: i64| now + ((delay_ms as f64) * spread).round() as i64;
    let min = millis(policy.min_interval);
    let max = millis(policy.max_interval);

    if outcome.verdict == Verdict::Listed {
        let listing_changed = state.challenge_hash.as_deref().is_some_and(|old| Some(old) != outcome.challenge_hash);
        let interval_ms = match (&state.challenge_hash, listing_changed) {
            (None, _) => millis(policy.base_interval),
            (Some(_), true) => scale(state.interval_ms, policy.shrink).clamp(min, max),
            (Some(_), false) => scale(state.interval_ms, policy.grow).clamp(min, max),
        };
        return Next {
            status: Status::Listed,
            failure_streak: 0,
            failing_since: None,
            interval_ms,
            next_due_at: after(interval_ms),
            listing_changed,
        };
    }

    let failure_streak = state.failure_streak.saturating_add(1);
    let failing_since = state.failing_since.unwrap_or(now);
    let slow_recheck = after(millis(policy.recheck_rejected));
    let backoff = {
        let doubled = policy.backoff_start.saturating_mul(1u32 << (failure_streak - 1).min(20));
        let delay = after(millis(doubled.min(policy.backoff_max)));
        let asked = outcome.retry_after.map_or(0, |d| now + millis(d));
        delay.max(asked)
    };
    let (status, next_due_at) = if outcome.reason_code == Some("robots_disallowed") {
        (Status::Rejected, slow_recheck)
    } else {
        match state.status {
            Status::Pending | Status::Rejected => {
                // A transient first failure is retried soon; a seller's mistake waits for a fix.
                let due = if outcome.verdict.is_transient() { backoff.min(slow_recheck) } else { slow_recheck };
                (Status::Rejected, due)
            }
            Status::Listed | Status::Degraded => {
                let failing_for = now - failing_since;
                if failing_for >= millis(policy.delist_after) {
                    (Status::Delisted, slow_recheck)
                } else if failure_streak >= policy.degrade_after {
                    (Status::Degraded, backoff)
                } else {
                    (Status::Listed, backoff)
                }
            }
            Status::Delisted => (Status::Delisted, slow_recheck),
        }
    };
    Next {
        status,
        failure_streak,
        failing_since: Some(failing_since),
        interval_ms: state.interval_ms,
        next_due_at,
        listing_changed: false,
    }
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

fn scale(ms: i64, factor: f64) -> i64 {
    ((ms as f64) * factor).round() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;

    fn state(status: Status) -> State {
        State {
            status,
            failure_streak: 0,
            failing_since: None,
            interval_ms: 6 * HOUR,
            challenge_hash: None,
            withdrawn: false,
        }
    }

    fn ok(hash: &str) -> Outcome<'_> {
        Outcome { verdict: Verdict::Listed, reason_code: None, challenge_hash: Some(hash), retry_after: None }
    }

    fn failed(verdict: Verdict) -> Outcome<'static> {
        Outcome { verdict, reason_code: Some("status_500"), challenge_hash: None, retry_after: None }
    }

    #[test]
    fn first_probe_lists_or_rejects() {
        let p = LifecyclePolicy::default();
        let listed = next_state(&p, &state(Status::Pending), &ok("a"), 0, 0.0);
        assert_eq!((listed.status, listed.interval_ms, listed.next_due_at), (Status::Listed, 6 * HOUR, 6 * HOUR));
        let rejected = next_state(&p, &state(Status::Pending), &failed(Verdict::Invalid), 0, 0.0);
        assert_eq!((rejected.status, rejected.next_due_at), (Status::Rejected, 24 * HOUR));
        // A transient failure is retried after the backoff, not a day later.
        let flaky = next_state(&p, &state(Status::Pending), &failed(Verdict::FetchError), 0, 0.0);
        assert_eq!((flaky.status, flaky.next_due_at), (Status::Rejected, 5 * 60_000));
    }

    #[test]
    fn interval_grows_while_stable_and_shrinks_on_change_within_bounds() {
        let p = LifecyclePolicy::default();
        let mut s = State { challenge_hash: Some("a".into()), ..state(Status::Listed) };
        let same = next_state(&p, &s, &ok("a"), 0, 0.0);
        assert_eq!((same.interval_ms, same.listing_changed), (30_240_000, false));
        let changed = next_state(&p, &s, &ok("b"), 0, 0.0);
        assert_eq!((changed.interval_ms, changed.listing_changed), (17_280_000, true));
        s.interval_ms = 7 * 24 * HOUR;
        assert_eq!(next_state(&p, &s, &ok("a"), 0, 0.0).interval_ms, 7 * 24 * HOUR);
        s.interval_ms = 15 * 60_000;
        assert_eq!(next_state(&p, &s, &ok("b"), 0, 0.0).interval_ms, 15 * 60_000);
    }

    #[test]
    fn failures_degrade_then_delist_and_success_restores() {
        let p = LifecyclePolicy::default();
        let mut s = State { challenge_hash: Some("a".into()), ..state(Status::Listed) };
        let mut now = 0;
        let mut delays = Vec::new();
        for expected in [Status::Listed, Status::Listed, Status::Degraded] {
            let n = next_state(&p, &s, &failed(Verdict::FetchError), now, 0.0);
            assert_eq!(n.status, expected);
            delays.push(n.next_due_at - now);
            now = n.next_due_at;
            s = State { status: n.status, failure_streak: n.failure_streak, failing_since: n.failing_since, ..s };
        }
        assert_eq!(delays, [5 * 60_000, 10 * 60_000, 20 * 60_000], "backoff doubles");
        assert_eq!(s.failing_since, Some(0));
        let week = 7 * 24 * HOUR;
        let still = next_state(&p, &s, &failed(Verdict::NotX402), week - 1, 0.0);
        assert_eq!(still.status, Status::Degraded);
        let gone = next_state(&p, &s, &failed(Verdict::NotX402), week, 0.0);
        assert_eq!(gone.status, Status::Delisted);
        let s = State { status: Status::Delisted, failure_streak: 9, ..s };
        let back = next_state(&p, &s, &ok("a"), week + 1, 0.0);
        assert_eq!((back.status, back.failure_streak, back.failing_since), (Status::Listed, 0, None));
    }

    #[test]
    fn retry_after_robots_and_jitter() {
        let p = LifecyclePolicy::default();
        let s = state(Status::Listed);
        let busy = Outcome { retry_after: Some(Duration::from_secs(3600)), ..failed(Verdict::FetchError) };
        assert_eq!(next_state(&p, &s, &busy, 0, 0.0).next_due_at, HOUR, "Retry-After beats a shorter backoff");
        let robots = Outcome { reason_code: Some("robots_disallowed"), ..failed(Verdict::Refused) };
        assert_eq!(next_state(&p, &s, &robots, 0, 0.0).status, Status::Rejected);
        let early = next_state(&p, &state(Status::Pending), &ok("a"), 0, -1.0).next_due_at;
        let late = next_state(&p, &state(Status::Pending), &ok("a"), 0, 1.0).next_due_at;
        assert_eq!((early, late), (17_280_000, 25_920_000));
    }
}
