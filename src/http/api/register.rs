//! Sellers' side of the API: `POST /api/v1/services` registers a URL and answers with the first
//! probe's verdict (201 new, 200 already known — re-probed), and `GET /api/v1/services/lookup`
//! answers "why am I (not) listed" for any URL: the stored service and its latest report when
//! registered, otherwise a fresh probe that stores nothing.

use crate::db::services::DueService;
use crate::db::services::{self, ServiceRow};
use crate::http::HttpState;
use crate::http::problem::Problem;
use crate::jobs::register::{RegisterError, new_service, register};
use crate::jobs::worker::Lane;
use agora_crawler::{Offer, ProbeReport, ProbeTarget};
use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::SqlitePool;

/// The registration body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRegistration {
    pub url: String,
    pub method: Option<String>,
}

/// A stored service with its offers and latest probe report.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ServiceWithReport {
    #[serde(flatten)]
    pub service: ServiceRow,
    pub offers: Vec<Offer>,
    /// The latest probe report (`null` before the first probe).
    #[schema(value_type = Option<ProbeReport>)]
    pub report: Option<Value>,
}

impl ServiceWithReport {
    /// The answer after a probe Agora just ran: the stored row and offers, and that probe's report.
    pub async fn probed(pool: &SqlitePool, service: ServiceRow, report: &ProbeReport) -> Result<Self, Problem> {
        Ok(ServiceWithReport {
            offers: services::offers(pool, service.id).await?,
            report: Some(serde_json::to_value(report).map_err(|e| Problem::internal(&e))?),
            service,
        })
    }
}

/// Register a URL.
///
/// Probes it at once and answers with the stored service and the probe's report: `listed`, or
/// `rejected` with the reasons (re-checked later, so a fix is noticed). A URL that cannot be
/// probed at all (malformed, private address, unresolvable host) is refused with 422 and the
/// problem codes in `reasons`; nothing is stored for it.
#[utoipa::path(post, path = "/api/v1/services", tag = "sellers",
    request_body(content = NewRegistration, description = "The endpoint; `method` defaults to GET"),
    responses(
        (status = 201, description = "Registered and probed", body = ServiceWithReport),
        (status = 200, description = "Already registered: probed again", body = ServiceWithReport),
    ))]
pub async fn create(
    State(state): State<HttpState>,
    body: Result<Json<NewRegistration>, JsonRejection>,
) -> Result<Response, Problem> {
    let Json(body) = body.map_err(body_problem)?;
    let registration =
        register(&state.dispatcher, &body.url, body.method.as_deref()).await.map_err(|error| match error {
            RegisterError::Refused(report) => refused(&report),
            RegisterError::Store(error) => error.into(),
            RegisterError::Cancelled => Problem::unavailable("shutting_down", error.to_string()),
            RegisterError::Failed(_) => Problem::internal(&error),
        })?;
    let answer = ServiceWithReport::probed(state.store.read(), registration.service, &registration.report).await?;
    let status = if registration.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(answer)).into_response())
}

/// `?url=&method=`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LookupQuery {
    pub url: String,
    pub method: Option<String>,
}

/// The lookup answer: `registered` says which of the two halves is filled.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Lookup {
    pub registered: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<ServiceWithReport>,
    /// For a URL not registered: what a probe finds now (nothing stored).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<ProbeReport>,
}

/// Why is this URL (not) listed?
///
/// For a registered URL: the stored service and its latest report. Otherwise a probe run now
/// under the crawler's rules; nothing is stored.
#[utoipa::path(get, path = "/api/v1/services/lookup", tag = "sellers",
    params(
        ("url" = String, Query, description = "The endpoint URL"),
        ("method" = Option<String>, Query, description = "`GET` (default) or `POST`"),
    ),
    responses((status = 200, description = "What Agora knows or finds", body = Lookup)))]
pub async fn lookup(
    State(state): State<HttpState>,
    query: Result<Query<LookupQuery>, QueryRejection>,
) -> Result<Json<Lookup>, Problem> {
    let Query(query) = query.map_err(|e| Problem::invalid_param("url", e.body_text()))?;
    let target = ProbeTarget::parse(&query.url, query.method.as_deref()).map_err(|finding| {
        let param = if finding.code == "method_unsupported" { "method" } else { "url" };
        Problem::invalid_param(param, finding.message)
    })?;
    let pool = state.store.read();
    if let Some(service) = services::lookup(pool, target.url.as_str(), target.method.as_str()).await? {
        let id = service.id;
        let service = ServiceWithReport {
            offers: services::offers(pool, id).await?,
            report: services::latest_report(pool, id).await?,
            service,
        };
        return Ok(Json(Lookup { registered: true, service: Some(service), report: None }));
    }
    // Not registered: a probe under the crawler's rules (politeness gap, robots.txt), not stored.
    let new = new_service(&target);
    let due = DueService { id: 0, url: new.url, method: new.method, host: new.host };
    let report = state.dispatcher.worker().fetch_report(&due, Lane::Priority).await?;
    Ok(Json(Lookup { registered: false, service: None, report: Some(report) }))
}

/// A refused registration: 422 with the report's first problem as the code, and the whole
/// report attached.
fn refused(report: &ProbeReport) -> Problem {
    let first = report.problems.first();
    let detail = first.map_or_else(|| "The URL cannot be registered.".to_string(), |p| p.message.clone());
    let mut problem =
        Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "registration_refused", "Registration refused", detail);
    problem.param = Some("url".into());
    problem.reasons = report.problems.iter().map(|p| p.code.clone()).collect::<Vec<_>>().into();
    problem
}

/// A body that is not the expected JSON.
pub fn body_problem(rejection: JsonRejection) -> Problem {
    let status = rejection.status();
    Problem::new(status, "invalid_body", "Invalid request body", rejection.body_text())
}
