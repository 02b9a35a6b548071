//! Fetching a proof-of-control file a seller serves on their origin
//! (`/.well-known/agora-verification/<nonce>`, docs/OWNERSHIP.md): through the probe's address
//! policy and deadlines, with the host's politeness gap, no redirects (the proof must come from
//! the origin itself) and a 1 KiB cap. robots.txt is not consulted: the seller asked for this one
//! request on their own origin, as ACME's HTTP-01 check does not either.

use super::worker::{JobError, Lane, Worker};
use agora_crawler::Finding;
use agora_crawler::fetch::{FetchConfig, FetchResult};
use axum::http::Method;
use url::Url;

/// Largest proof file read.
pub const MAX_PROOF_BYTES: usize = 1024;

/// The fetch limits of proof files, from the probe's.
pub fn fetch_config(probe: &FetchConfig) -> FetchConfig {
    FetchConfig { max_body_bytes: MAX_PROOF_BYTES, max_redirects: 0, accept: "text/plain", ..probe.clone() }
}

impl Worker {
    /// The body of the proof file at `url` when it answers 200, else the finding saying why not.
    pub async fn fetch_proof(&self, url: &Url) -> Result<Result<Vec<u8>, Finding>, JobError> {
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let fetched = self.on_request(&host, Lane::Priority, || self.proof_fetcher().fetch(url, &Method::GET)).await?;
        Ok(match fetched.result {
            FetchResult::Refused(finding) | FetchResult::Failed(finding) => Err(finding),
            FetchResult::Answered(answer) => match (answer.status, answer.body_error) {
                (200, None) => Ok(answer.body),
                (200, Some(error)) => Err(error),
                (status, _) => Err(Finding::new(format!("status_{status}"), format!("{url} answered {status}."))),
            },
        })
    }
}
