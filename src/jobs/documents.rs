//! Documents sources publish (a facilitator's list pages, an origin's route documents, a list
//! of URLs): fetched with the crawler's manners — the host's politeness gap, robots.txt, a lane
//! permit — through the documents fetcher (the probe's address policy and deadlines, a 4 MiB
//! cap), conditionally when their last validators are known.

use super::worker::{JobError, Lane, Mannered, Worker};
use agora_crawler::Finding;
use agora_crawler::fetch::{FetchResult, Validators};
use axum::http::Method;
use url::Url;

/// A document as fetched: its body and validators, or unchanged since the validators sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Document {
    Changed { body: Vec<u8>, validators: Validators },
    Unchanged,
}

impl Worker {
    /// The body of `url` when it answers 200, else the finding that says why not.
    pub async fn fetch_document(&self, url: &Url, lane: Lane) -> Result<Result<Vec<u8>, Finding>, JobError> {
        Ok(self.fetch_document_if_changed(url, lane, &Validators::default()).await?.map(|document| match document {
            Document::Changed { body, .. } => body,
            Document::Unchanged => Vec::new(),
        }))
    }

    /// `url`, asked conditionally with `known` (a 304 is [`Document::Unchanged`]).
    pub async fn fetch_document_if_changed(
        &self,
        url: &Url,
        lane: Lane,
        known: &Validators,
    ) -> Result<Result<Document, Finding>, JobError> {
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let headers = known.request_headers();
        let request = || self.document_fetcher().fetch_with(url, &Method::GET, &headers);
        let fetched = match self.politely(url, &host, lane, request).await? {
            Mannered::Done(fetched) => fetched,
            Mannered::Refused(refusal, _) => return Ok(Err(refusal)),
        };
        Ok(match fetched.result {
            FetchResult::Refused(finding) | FetchResult::Failed(finding) => Err(finding),
            FetchResult::Answered(answer) => match (answer.status, answer.body_error) {
                (304, _) if !known.is_empty() => Ok(Document::Unchanged),
                (200, None) => Ok(Document::Changed { validators: Validators::of(&answer.headers), body: answer.body }),
                (200, Some(error)) => Err(error),
                (status, _) => Err(Finding::new(format!("status_{status}"), format!("The source answered {status}."))),
            },
        })
    }
}
