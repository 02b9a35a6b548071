//! Documents sources publish (a facilitator's list pages, a list of URLs): fetched with the
//! crawler's manners — the host's politeness gap, robots.txt, a lane permit — through the
//! documents fetcher (the probe's address policy and deadlines, a 4 MiB cap).

use super::worker::{JobError, Lane, Mannered, Worker};
use agora_crawler::Finding;
use agora_crawler::fetch::FetchResult;
use axum::http::Method;
use url::Url;

impl Worker {
    /// The body of `url` when it answers 200, else the finding that says why not.
    pub async fn fetch_document(&self, url: &Url, lane: Lane) -> Result<Result<Vec<u8>, Finding>, JobError> {
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let fetched = match self.politely(url, &host, lane, || self.document_fetcher().fetch(url, &Method::GET)).await?
        {
            Mannered::Done(fetched) => fetched,
            Mannered::Refused(refusal, _) => return Ok(Err(refusal)),
        };
        Ok(match fetched.result {
            FetchResult::Refused(finding) | FetchResult::Failed(finding) => Err(finding),
            FetchResult::Answered(answer) => match (answer.status, answer.body_error) {
                (200, None) => Ok(answer.body),
                (200, Some(error)) => Err(error),
                (status, _) => Err(Finding::new(format!("status_{status}"), format!("The source answered {status}."))),
            },
        })
    }
}
