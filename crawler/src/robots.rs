//! robots.txt (RFC 9309), fetched through the same safe client as probes.
//!
//! Outcomes follow the RFC: a 2xx file is parsed (Google's interpretation, via `robotxt`);
//! 4xx (401, 403 and 402 included) means no rules; 5xx or no answer means "unreachable", which the
//! RFC treats as disallow-all. Agora reports that as a transient failure of the probe rather
//! than a rejection, so a flaky robots.txt never delists a working endpoint.

use crate::fetch::{FetchResult, Fetcher};
use crate::report::Finding;
use http::Method;
use std::time::Duration;
use url::Url;

/// The product token Agora obeys in robots.txt `User-agent` lines (`AgoraBot`, or `*`).
pub const ROBOTS_AGENT: &str = "AgoraBot";

/// Longest `Crawl-delay` honoured; longer ones are clamped (as Nutch and StormCrawler do).
pub const MAX_CRAWL_DELAY: Duration = Duration::from_secs(30);

/// What one origin's robots.txt says.
#[derive(Debug, Clone)]
pub enum RobotsRules {
    /// No file (4xx), or the policy refused the origin (the probe itself will say so).
    AllowAll,
    Parsed(robotxt::Robots),
    /// 5xx or 429 (`robots_unreachable`), or no answer (the transport problem, e.g.
    /// `connect_failed`): nothing may be fetched until it is readable again.
    Unreachable(Finding),
}

impl RobotsRules {
    /// Whether `url` may be probed; `Err` carries the problem to report when it may not.
    pub fn check(&self, url: &Url) -> Result<(), Finding> {
        match self {
            RobotsRules::AllowAll => Ok(()),
            RobotsRules::Parsed(robots) if robots.is_url_allowed(url) => Ok(()),
            RobotsRules::Parsed(_) => Err(Finding::new(
                "robots_disallowed",
                format!(
                    "The site's robots.txt disallows {ROBOTS_AGENT} (or every crawler) from this URL; allow it to be \
                     listed."
                ),
            )),
            RobotsRules::Unreachable(problem) => Err(problem.clone()),
        }
    }

    /// The site's `Crawl-delay` for Agora, clamped to [`MAX_CRAWL_DELAY`].
    pub fn crawl_delay(&self) -> Option<Duration> {
        match self {
            RobotsRules::Parsed(robots) => robots.crawl_delay().map(|d| d.min(MAX_CRAWL_DELAY)),
            _ => None,
        }
    }
}

/// The robots.txt URL of `url`'s origin.
pub fn robots_url(url: &Url) -> Url {
    let mut robots = url.clone();
    robots.set_path("/robots.txt");
    robots.set_query(None);
    robots.set_fragment(None);
    robots
}

/// Fetches and interprets the robots.txt of `url`'s origin.
pub async fn fetch_robots(fetcher: &Fetcher, url: &Url) -> RobotsRules {
    let fetched = fetcher.fetch(&robots_url(url), &Method::GET).await;
    match fetched.result {
        FetchResult::Refused(_) => RobotsRules::AllowAll,
        // The host gave no answer at all: that, not robots.txt, is what the seller must fix.
        FetchResult::Failed(problem) => RobotsRules::Unreachable(Finding {
            message: format!("robots.txt could not be fetched: {}", problem.message),
            ..problem
        }),
        FetchResult::Answered(answer) => match answer.status {
            200..=299 => RobotsRules::Parsed(robotxt::Robots::parse(&answer.body, ROBOTS_AGENT)),
            429 | 500..=599 => {
                RobotsRules::Unreachable(unreachable(&format!("robots.txt answered HTTP {}", answer.status)))
            }
            // 3xx without a usable Location, and every 4xx: no rules apply (RFC 9309 §2.3.1.3).
            _ => RobotsRules::AllowAll,
        },
    }
}

fn unreachable(cause: &str) -> Finding {
    Finding::new(
        "robots_unreachable",
        format!("The site's robots.txt could not be read ({cause}); the URL is not probed until it can be."),
    )
}
