//! The prober: fetch one target safely, evaluate the answer, and report with timings.

use crate::fetch::{FetchConfig, FetchResult, Fetched, Fetcher};
use crate::policy::AddressPolicy;
use crate::report::{Finding, HttpInfo, ProbeReport, Timings, Verdict};
use crate::resolve::{Resolver, SystemResolver};
use crate::target::ProbeTarget;
use crate::x402::validate::{HttpAnswer, evaluate};
use std::sync::Arc;
use std::time::Duration;

/// Everything that configures a prober.
#[derive(Clone)]
pub struct ProbeConfig {
    pub fetch: FetchConfig,
    pub policy: AddressPolicy,
    pub resolver: Arc<dyn Resolver>,
}

impl Default for ProbeConfig {
    fn default() -> Self {
        ProbeConfig {
            fetch: FetchConfig::default(),
            policy: AddressPolicy::default(),
            resolver: Arc::new(SystemResolver::default()),
        }
    }
}

/// Probes URLs. Cheap to clone; one per process is enough.
#[derive(Clone)]
pub struct Prober {
    fetcher: Fetcher,
}

impl Prober {
    /// Builds a prober. Fails only if the TLS stack cannot be initialized.
    pub fn new(config: ProbeConfig) -> Result<Self, reqwest::Error> {
        Ok(Prober { fetcher: Fetcher::new(config.fetch, config.policy, config.resolver)? })
    }

    pub fn fetcher(&self) -> &Fetcher {
        &self.fetcher
    }

    /// Probes one target. Never panics on seller input; every outcome is a report.
    pub async fn probe(&self, target: &ProbeTarget) -> ProbeReport {
        let fetched = self.fetcher.fetch(&target.url, &target.method).await;
        report_from(target, fetched)
    }

    /// Probes a URL given as text: a URL or method that cannot be probed is a `refused` report,
    /// so callers printing JSON always have one object to print.
    pub async fn probe_str(&self, url: &str, method: Option<&str>) -> ProbeReport {
        match ProbeTarget::parse(url, method) {
            Ok(target) => self.probe(&target).await,
            Err(problem) => refused_report(url, method.unwrap_or("GET"), problem),
        }
    }
}

/// The report for a target that was never fetched.
pub fn refused_report(url: &str, method: &str, problem: Finding) -> ProbeReport {
    ProbeReport {
        url: url.to_string(),
        method: method.to_ascii_uppercase(),
        verdict: Verdict::Refused,
        problems: vec![problem],
        problems_omitted: 0,
        warnings: Vec::new(),
        warnings_omitted: 0,
        http: None,
        listing: None,
        challenge: None,
        retry_after: None,
    }
}

fn report_from(target: &ProbeTarget, fetched: Fetched) -> ProbeReport {
    let ms = |d: Duration| (d.as_secs_f64() * 1_000_000.0).round() / 1000.0;
    let mut http = HttpInfo {
        status: None,
        final_url: fetched.final_url.to_string(),
        redirects: fetched.redirects,
        timings_ms: Timings {
            connect: fetched.connect.map(ms),
            first_byte: fetched.first_byte.map(ms),
            total: ms(fetched.total),
        },
    };
    let mut report = ProbeReport {
        url: target.url.to_string(),
        method: target.method.to_string(),
        verdict: Verdict::FetchError,
        problems: Vec::new(),
        problems_omitted: 0,
        warnings: Vec::new(),
        warnings_omitted: 0,
        http: None,
        listing: None,
        challenge: None,
        retry_after: None,
    };
    match fetched.result {
        FetchResult::Refused(problem) => {
            report.verdict = Verdict::Refused;
            report.problems.push(problem);
            // A refused redirect did send requests to the earlier hops: report them.
            report.http = fetched.first_byte.is_some().then_some(http);
        }
        FetchResult::Failed(problem) => {
            report.problems.push(problem);
            report.http = Some(http);
        }
        FetchResult::Answered(answer) => {
            http.status = Some(answer.status);
            report.retry_after = retry_after(&answer.headers);
            let evaluation = evaluate(&HttpAnswer {
                status: answer.status,
                headers: &answer.headers,
                body: &answer.body,
                body_error: answer.body_error.as_ref(),
                url: &fetched.final_url,
            });
            report.verdict = evaluation.verdict;
            report.problems = evaluation.problems;
            report.problems_omitted = evaluation.problems_omitted;
            report.warnings = evaluation.warnings;
            report.warnings_omitted = evaluation.warnings_omitted;
            report.listing = evaluation.listing.filter(|_| evaluation.verdict == Verdict::Listed);
            if fetched.final_url.origin() != target.url.origin() {
                // The listing is for the registered URL; someone else's endpoint behind a redirect
                // is worth the seller's (and a reviewer's) attention.
                report.warn(Finding::new(
                    "redirected_cross_origin",
                    format!(
                        "The URL redirects to another origin ({}); register the final URL instead.",
                        fetched.final_url.origin().ascii_serialization()
                    ),
                ));
            }
            report.challenge = evaluation.challenge;
            report.http = Some(http);
        }
    }
    report
}

/// `Retry-After` in seconds (the HTTP-date form is rare on APIs and is ignored), capped at a day.
fn retry_after(headers: &http::HeaderMap) -> Option<Duration> {
    let seconds: u64 = headers.get(http::header::RETRY_AFTER)?.to_str().ok()?.trim().parse().ok()?;
    Some(Duration::from_secs(seconds.min(86_400)))
}
