//! Per-request limits, as one middleware in front of every route:
//! - a declared body over the limit is refused (413) before anything is read, so the client is
//!   never told `100 Continue` and never kept waiting for a body nobody will read;
//! - registrations and recrawls (POST) and reads (everything else but `/healthz`) have separate
//!   budgets per client (`client::client_key`: an address, or an IPv6 prefix); over budget is a
//!   429 problem with `Retry-After`;
//! - a request still running at the deadline is answered 503 and dropped.
//!
//! An answer given before a request's body was read says `Connection: close`: the unread body is
//! still on its way, so the connection cannot carry another request.

use super::client::{client_ip, client_key};
use super::problem::Problem;
use crate::app::AppState;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use ipnet::IpNet;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub use crate::config::{DEFAULT_READS_PER_MINUTE, DEFAULT_REQUEST_TIMEOUT, DEFAULT_WRITES_PER_HOUR};

/// The HTTP side's protective settings.
pub struct HttpLimits {
    /// `None`: no rate limits (`--no-rate-limits`).
    pub rates: Option<Rates>,
    pub trusted_proxies: Vec<IpNet>,
    pub request_timeout: Duration,
    /// IPv6 clients share a rate-limit budget per prefix of this length.
    pub ipv6_prefix: u8,
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
    pub fn check(&self, ip: IpAddr, write: bool) -> Result<(), u32> {
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
            ipv6_prefix: crate::config::DEFAULT_IPV6_PREFIX,
        }
    }
}

pub async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let limits = &state.limits;
    if let Some(declared) = declared_length(&request)
        && declared > super::BODY_LIMIT as u64
    {
        let problem = Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_body",
            "Invalid request body",
            format!("The body is {declared} bytes; requests carry at most {} bytes.", super::BODY_LIMIT),
        );
        return closing(problem.into_response());
    }
    if let Some(rates) = &limits.rates
        && request.uri().path() != "/healthz"
    {
        // MCP speaks in POSTs, but its tools read the catalog: they count as reads. (A tool that
        // probes will take a write of its own.)
        let write = request.method() == Method::POST && !request.uri().path().starts_with("/mcp");
        let key = client_key(client_ip(&request, &limits.trusted_proxies), limits.ipv6_prefix);
        if let Err(seconds) = rates.check(key, write) {
            let what = if write { "registrations and recrawls" } else { "requests" };
            let answer = Problem::too_many(
                "rate_limited",
                format!("Too many {what} from your address; retry in {seconds}s."),
                seconds,
            )
            .into_response();
            return if has_body(&request) { closing(answer) } else { answer };
        }
    }
    match tokio::time::timeout(limits.request_timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            Problem::unavailable("timeout", "The request took too long and was stopped; try again.").into_response()
        }
    }
}

/// The body length the client declared, if it declared one.
fn declared_length(request: &Request) -> Option<u64> {
    request.headers().get(header::CONTENT_LENGTH)?.to_str().ok()?.trim().parse().ok()
}

/// Whether a body follows the request's head (declared, or chunked).
fn has_body(request: &Request) -> bool {
    declared_length(request).is_some_and(|n| n > 0) || request.headers().contains_key(header::TRANSFER_ENCODING)
}

/// `response`, telling the client this connection ends with it.
fn closing(mut response: Response) -> Response {
    response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}
