//! Errors as RFC 9457 problem details (`application/problem+json`): every failure the HTTP side
//! reports — bad parameters, bodies and paths, unknown routes, store trouble — has this one
//! shape, with a stable machine-readable `code` (`shared/INTERFACES.md` "HTTP").

use crate::db::StoreError;
use crate::jobs::worker::JobError;
use crate::search::{ParamError, SearchError};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    pub code: &'static str,
    /// The query or body parameter at fault, when there is one.
    pub param: Option<String>,
    /// Every problem code behind a refusal (a registration's probe report), first is `detail`.
    pub reasons: Box<[String]>,
    /// Seconds, sent as `Retry-After` (429 and 503).
    pub retry_after: Option<u32>,
}

/// The JSON form (the OpenAPI schema `Problem`).
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Problem)]
pub struct Wire<'a> {
    /// `urn:agora:problem:<code>`: stable, one per code.
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    /// What went wrong, in a sentence a person can act on.
    detail: &'a str,
    /// Stable machine-readable code (`docs/API.md` lists them).
    code: &'a str,
    /// The query or body parameter at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    param: Option<&'a str>,
    /// Every problem code behind a refused registration.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    #[schema(value_type = Vec<String>)]
    reasons: &'a [String],
}

impl Problem {
    pub fn new(status: StatusCode, code: &'static str, title: &'static str, detail: impl Into<String>) -> Problem {
        Problem {
            title,
            status: status.as_u16(),
            detail: detail.into(),
            code,
            param: None,
            reasons: Box::default(),
            retry_after: None,
        }
    }

    /// A bad query or body parameter.
    pub fn invalid_param(param: &str, detail: impl Into<String>) -> Problem {
        Problem {
            param: Some(param.to_string()),
            ..Problem::new(StatusCode::BAD_REQUEST, "invalid_parameter", "Invalid parameter", detail)
        }
    }

    pub fn not_found(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::NOT_FOUND, "not_found", "Not found", detail)
    }

    /// Something on our side; the detail is logged, not shown.
    pub fn internal(error: &dyn std::fmt::Display) -> Problem {
        tracing::error!(%error, "request failed");
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            "The request could not be completed; it is logged.",
        )
    }

    /// 429: try again in `seconds`.
    pub fn too_many(code: &'static str, detail: impl Into<String>, seconds: u32) -> Problem {
        Problem {
            retry_after: Some(seconds.max(1)),
            ..Problem::new(StatusCode::TOO_MANY_REQUESTS, code, "Too many requests", detail)
        }
    }

    pub fn shutting_down() -> Problem {
        Problem::unavailable("shutting_down", "The server is shutting down.")
    }

    pub fn unavailable(code: &'static str, detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::SERVICE_UNAVAILABLE, code, "Temporarily unavailable", detail)
    }
}

/// A problem answer's `detail`, carried on the response so that a browser that asked for a page
/// can be shown it in the site's style (`http::web::errors::pages_for_browsers`).
#[derive(Debug, Clone)]
pub struct ProblemDetail(pub String);

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let wire = Wire {
            kind: format!("urn:agora:problem:{}", self.code),
            title: self.title,
            status: self.status,
            detail: &self.detail,
            code: self.code,
            param: self.param.as_deref(),
            reasons: &self.reasons,
        };
        let body = serde_json::to_vec(&wire).unwrap_or_default();
        let mut response = (status, [(header::CONTENT_TYPE, "application/problem+json")], body).into_response();
        // For the site's error pages: a browser asking for a page gets this detail as HTML.
        response.extensions_mut().insert(ProblemDetail(self.detail));
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

impl From<ParamError> for Problem {
    fn from(error: ParamError) -> Self {
        Problem::invalid_param(&error.param, error.message)
    }
}

impl From<StoreError> for Problem {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NoSuchService(id) => Problem::not_found(format!("No service with id {id}.")),
            StoreError::Closed => Problem::shutting_down(),
            other => Problem::internal(&other),
        }
    }
}

impl From<SearchError> for Problem {
    fn from(error: SearchError) -> Self {
        match error {
            SearchError::Param(error) => error.into(),
            SearchError::Store(error) => error.into(),
            SearchError::Closed => Problem::shutting_down(),
            other => Problem::internal(&other),
        }
    }
}

impl From<JobError> for Problem {
    fn from(error: JobError) -> Self {
        match error {
            JobError::Cancelled => Problem::shutting_down(),
            JobError::Store(error) => error.into(),
            JobError::Failed(_) => Problem::internal(&error),
        }
    }
}
