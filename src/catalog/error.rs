//! The one error type of the catalog's use cases. Front ends map it exactly once each: to a
//! problem document (`http::problem`), to the site's error page (`http::web::errors`), and (next)
//! to an MCP tool error. Store and index failures stay distinct from "not found": a database
//! error is never answered as a missing service, and it is logged where it is mapped.

use crate::db::StoreError;
use crate::jobs::JobError;
use crate::jobs::register::RegisterError;
use crate::params::ParamError;
use crate::search::SearchError;
use agora_crawler::ProbeReport;

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// A parameter the use case cannot take, named.
    #[error(transparent)]
    Param(#[from] ParamError),
    #[error("no service with id {0}")]
    NoSuchService(i64),
    /// The URL cannot be registered; the report (verdict `refused`) says why. Nothing was stored.
    #[error("{}", .0.problems.first().map_or("refused", |p| p.message.as_str()))]
    Refused(Box<ProbeReport>),
    /// A recrawl asked for within the minimum interval (`interval_ms`, anonymous or owner's);
    /// the service was probed `since_ms` ago.
    #[error("probed {since_ms} ms ago")]
    TooSoon { since_ms: i64, interval_ms: i64 },
    /// No valid owner or operator credentials; the sentence says which.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// Valid credentials that do not cover what was asked.
    #[error("{0}")]
    Forbidden(String),
    /// A claim whose proof did not hold; `code` names what was wrong (docs/OWNERSHIP.md).
    #[error("{detail}")]
    ClaimRefused { code: &'static str, detail: String },
    /// Shutdown came first; the sentence says what became of the request.
    #[error("{0}")]
    ShuttingDown(&'static str),
    /// The store failed (logged where mapped, never shown).
    #[error(transparent)]
    Store(StoreError),
    /// The search index failed (logged where mapped, never shown).
    #[error(transparent)]
    Index(SearchError),
    /// A probe ran but recording it failed, as reported to another caller waiting on it.
    #[error("the probe could not be recorded: {0}")]
    Failed(String),
}

/// What a request cut short by shutdown is told.
pub const SHUTTING_DOWN: &str = "The server is shutting down.";

impl From<StoreError> for CatalogError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NoSuchService(id) => CatalogError::NoSuchService(id),
            StoreError::Closed => CatalogError::ShuttingDown(SHUTTING_DOWN),
            other => CatalogError::Store(other),
        }
    }
}

impl From<sqlx::Error> for CatalogError {
    fn from(error: sqlx::Error) -> Self {
        StoreError::from(error).into()
    }
}

impl From<SearchError> for CatalogError {
    fn from(error: SearchError) -> Self {
        match error {
            SearchError::Param(error) => CatalogError::Param(error),
            SearchError::Store(error) => error.into(),
            SearchError::Closed => CatalogError::ShuttingDown(SHUTTING_DOWN),
            other => CatalogError::Index(other),
        }
    }
}

impl From<JobError> for CatalogError {
    fn from(error: JobError) -> Self {
        match error {
            JobError::Cancelled => CatalogError::ShuttingDown(SHUTTING_DOWN),
            JobError::Store(error) => error.into(),
            JobError::Failed(message) => CatalogError::Failed(message),
            // Only scheduled probes claim; a caller never waits on one, but say what happened.
            JobError::ClaimLost => CatalogError::Failed(error.to_string()),
        }
    }
}

impl From<RegisterError> for CatalogError {
    fn from(error: RegisterError) -> Self {
        match error {
            RegisterError::Refused(report) => CatalogError::Refused(report),
            RegisterError::Store(error) => error.into(),
            RegisterError::Cancelled => CatalogError::ShuttingDown(
                "registered, but the first probe was abandoned at shutdown; it will be probed by the crawl",
            ),
            RegisterError::Failed(message) => CatalogError::Failed(message),
        }
    }
}
