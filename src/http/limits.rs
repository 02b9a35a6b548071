//! Per-client rate limits and the request deadline, as one middleware in front of every route.
//! Registrations and recrawls (POST) and reads (everything else but `/healthz`) have separate
//! budgets per client address (`client::client_ip`); over budget is a 429 problem with
//! `Retry-After`. A request still running at the deadline is answered 503 and dropped.

use super::HttpState;
use super::client::client_ip;
use super::problem::Problem;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use ipnet::IpNet;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Defaults documented in docs/API.md.
pub const DEFAULT_READS_PER_MINUTE: u32 = 600;
pub const DEFAULT_WRITES_PER_HOUR: u32 = 60;
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The HTTP side's protective settings.
pub struct HttpLimits {
    /// `None`: no rate limits (`--no-rate-limits`).
    pub rates: Option<Rates>,
    pub trusted_proxies: Vec<IpNet>,
    pub request_timeout: Duration,
}

pub struct Rates {
    reads: DefaultKeyedRateLimiter<IpAddr>,
    writes: DefaultKeyedRateLimiter<IpAddr>,
    seen: AtomicU64,
}

impl Rates {
    pub fn new(reads_per_minute: u32, writes_per_hour: u32) -> Rates {
        let at_least_one = |n: u32| NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
        Rates {
            reads: DefaultKeyedRateLimiter::keyed(Quota::per_minute(at_least_one(reads_per_minute))),
            writes: DefaultKeyedRateLimiter::keyed(Quota::per_hour(at_least_one(writes_per_hour))),
            seen: AtomicU64::new(0),
        }
    }

    /// `Err(seconds to wait)` when `ip` is over its budget for this kind of request.
    fn check(&self, ip: IpAddr, write: bool) -> Result<(), u32> {
        // Forget idle clients now and then, so the tables stay as small as the active set.
        if self.seen.fetch_add(1, Ordering::Relaxed) % 4096 == 4095 {
            self.reads.retain_recent();
            self.writes.retain_recent();
        }
        let limiter = if write { &self.writes } else { &self.reads };
        limiter.check_key(&ip).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            u32::try_from(wait.as_secs() + 1).unwrap_or(u32::MAX)
        })
    }
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            rates: Some(Rates::new(DEFAULT_READS_PER_MINUTE, DEFAULT_WRITES_PER_HOUR)),
            trusted_proxies: Vec::new(),
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
        }
    }
}

pub async fn guard(State(state): State<HttpState>, request: Request, next: Next) -> Response {
    let limits = &state.limits;
    if let Some(rates) = &limits.rates
        && request.uri().path() != "/healthz"
    {
        let write = request.method() == Method::POST;
        if let Err(seconds) = rates.check(client_ip(&request, &limits.trusted_proxies), write) {
            let what = if write { "registrations and recrawls" } else { "requests" };
            return Problem::too_many(
                "rate_limited",
                format!("Too many {what} from your address; retry in {seconds}s."),
                seconds,
            )
            .into_response();
        }
    }
    match tokio::time::timeout(limits.request_timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            Problem::unavailable("timeout", "The request took too long and was stopped; try again.").into_response()
        }
    }
}
