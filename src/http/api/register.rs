//! Sellers' side of the API: `POST /api/v1/services` registers a URL and answers with the first
//! probe's verdict (201 new, 200 already known — re-probed), and `GET /api/v1/services/lookup`
//! answers "why am I (not) listed" for any URL (`catalog::register`).

use crate::app::AppState;
use crate::catalog::register::Lookup;
use crate::http::problem::Problem;
use crate::http::views::ServiceWithReport;
use crate::params::{Known, Params};
use agora_crawler::ProbeReport;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

/// The registration body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRegistration {
    pub url: String,
    pub method: Option<String>,
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
    State(state): State<AppState>,
    body: Result<Json<NewRegistration>, JsonRejection>,
) -> Result<Response, Problem> {
    let Json(body) = body.map_err(body_problem)?;
    let registration = state.catalog.register(&body.url, body.method.as_deref()).await?;
    let status = if registration.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(ServiceWithReport::from(registration.state))).into_response())
}

/// The lookup answer: `registered` says which of the two halves is filled.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Lookup)]
pub struct LookupAnswer {
    pub registered: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<ServiceWithReport>,
    /// For a URL not registered: what a probe finds now (nothing stored).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<ProbeReport>,
}

/// `?url=&method=`.
const LOOKUP_PARAMS: Known<'static> = Known::once(&["url", "method"]);

/// Why is this URL (not) listed?
///
/// For a registered URL: the stored service and its latest report. Otherwise a probe run now
/// under the crawler's rules; nothing is stored.
#[utoipa::path(get, path = "/api/v1/services/lookup", tag = "sellers",
    params(
        ("url" = String, Query, description = "The endpoint URL"),
        ("method" = Option<String>, Query, description = "`GET` (default) or `POST`"),
    ),
    responses((status = 200, description = "What Agora knows or finds", body = LookupAnswer)))]
pub async fn lookup(State(state): State<AppState>, RawQuery(query): RawQuery) -> Result<Json<LookupAnswer>, Problem> {
    let params = Params::parse(query.as_deref(), LOOKUP_PARAMS)?;
    let url = params.get("url").ok_or_else(|| Problem::invalid_param("url", "required: the endpoint URL"))?;
    Ok(Json(match state.catalog.lookup(url, params.get("method")).await? {
        Lookup::Registered(service) => {
            LookupAnswer { registered: true, service: Some((*service).into()), report: None }
        }
        Lookup::Unregistered(report) => LookupAnswer { registered: false, service: None, report: Some(*report) },
    }))
}

/// A body that is not the expected JSON.
pub fn body_problem(rejection: JsonRejection) -> Problem {
    let status = rejection.status();
    Problem::new(status, "invalid_body", "Invalid request body", rejection.body_text())
}
