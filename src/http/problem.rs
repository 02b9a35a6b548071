//! Errors as RFC 9457 problem details (`application/problem+json`): every failure the HTTP side
//! reports — bad parameters, bodies and paths, unknown routes, store trouble — has this one
//! shape, with a stable machine-readable `code` (`shared/INTERFACES.md` "HTTP").

use crate::catalog::CatalogError;
use crate::params::ParamError;
use agora_crawler::ProbeReport;
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
    /// Also send `detail` as `error`, the member the x402 SDK discovery clients read.
    pub error_member: bool,
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
    /// The detail again, for the x402 SDK discovery clients (`/discovery/*` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
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
            error_member: false,
        }
    }

    /// The same problem with `detail` also sent as `error` (the discovery endpoints' clients).
    pub fn with_error_member(self) -> Problem {
        Problem { error_member: true, ..self }
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
        Problem::unavailable("shutting_down", crate::catalog::error::SHUTTING_DOWN)
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
            error: self.error_member.then_some(self.detail.as_str()),
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

/// The one mapping of the catalog's errors to problems (the site's pages reuse it: status and
/// detail, `web::errors::catalog_page`). Failures on our side are logged here, once.
impl From<CatalogError> for Problem {
    fn from(error: CatalogError) -> Self {
        match error {
            CatalogError::Param(error) => error.into(),
            CatalogError::NoSuchService(id) => Problem::not_found(format!("No service with id {id}.")),
            CatalogError::Refused(report) => refused(&report),
            CatalogError::TooSoon { since_ms, interval_ms } => {
                let wait = (interval_ms - since_ms + 999) / 1000;
                Problem::too_many(
                    "recrawl_too_soon",
                    format!("This service was probed {}s ago; ask again in {wait}s.", since_ms / 1000),
                    u32::try_from(wait).unwrap_or(1),
                )
            }
            CatalogError::ShuttingDown(detail) => Problem::unavailable("shutting_down", detail),
            CatalogError::Unauthorized(detail) => {
                Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", "Not authorized", detail)
            }
            CatalogError::Forbidden(detail) => Problem::new(StatusCode::FORBIDDEN, "forbidden", "Forbidden", detail),
            CatalogError::ClaimRefused { code, detail } => {
                Problem::new(StatusCode::UNPROCESSABLE_ENTITY, code, "The proof does not hold", detail)
            }
            CatalogError::Store(error) if error.is_unavailable() => {
                tracing::error!(%error, "the store is unavailable");
                Problem::unavailable("database_unavailable", "The catalog's database cannot be read just now.")
            }
            CatalogError::Store(_) | CatalogError::Index(_) | CatalogError::Failed(_) => Problem::internal(&error),
        }
    }
}

/// A refused registration: 422 with the report's first problem as the detail, and every
/// problem code in `reasons`.
fn refused(report: &ProbeReport) -> Problem {
    let first = report.problems.first();
    let detail = first.map_or_else(|| "The URL cannot be registered.".to_string(), |p| p.message.clone());
    let mut problem =
        Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "registration_refused", "Registration refused", detail);
    // The field at fault: the method when that is what cannot be probed, else the URL.
    let method = first.is_some_and(|p| p.code == "method_unsupported");
    problem.param = Some(if method { "method" } else { "url" }.into());
    problem.reasons = report.problems.iter().map(|p| p.code.clone()).collect::<Vec<_>>().into();
    problem
}

#[cfg(test)]
mod tests {
    use super::Problem;
    use crate::catalog::CatalogError;
    use crate::catalog::recrawl::RECRAWL_INTERVAL_MS;
    use crate::db::StoreError;

    fn mapped(error: impl Into<CatalogError>) -> (u16, &'static str) {
        let problem = Problem::from(error.into());
        (problem.status, problem.code)
    }

    #[test]
    fn store_failures_are_never_answered_as_missing_services() {
        assert_eq!(mapped(StoreError::NoSuchService(7)), (404, "not_found"));
        assert_eq!(mapped(StoreError::Sql(sqlx::Error::RowNotFound)), (500, "internal"), "a bug, not a 404");
        assert_eq!(mapped(StoreError::Sql(sqlx::Error::PoolTimedOut)), (503, "database_unavailable"));
        assert_eq!(mapped(StoreError::Sql(sqlx::Error::PoolClosed)), (503, "database_unavailable"));
        assert_eq!(mapped(StoreError::Closed), (503, "shutting_down"));
        let too_soon = CatalogError::TooSoon { since_ms: 10_500, interval_ms: RECRAWL_INTERVAL_MS };
        assert_eq!(mapped(too_soon), (429, "recrawl_too_soon"));
        let too_soon = Problem::from(CatalogError::TooSoon { since_ms: 10_500, interval_ms: RECRAWL_INTERVAL_MS });
        assert_eq!(
            (too_soon.retry_after, too_soon.detail.as_str()),
            (Some(50), "This service was probed 10s ago; ask again in 50s.")
        );
    }
}
