//! The sellers' pages: `/register` (a form that probes and registers at once, showing every
//! problem when the URL cannot be registered at all) and `/status?url=&method=` (what Agora
//! knows about one URL, with a "re-check now" button). Form posts answer with a redirect to the
//! status page (post/redirect/get), so a reload never registers twice.

use super::errors;
use super::view;
use crate::db::services::{self, DueService, ServiceRow};
use crate::http::HttpState;
use crate::http::api::recrawl::RECRAWL_INTERVAL_MS;
use crate::jobs::register::{RegisterError, register};
use agora_crawler::ProbeTarget;
use askama::Template;
use askama_web::WebTemplate;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::Value;

const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE"];

#[derive(Template, WebTemplate)]
#[template(path = "register.html")]
pub struct RegisterPage {
    url: String,
    method: String,
    methods: &'static [&'static str],
    refused: Option<String>,
    problems: Vec<(String, String)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "status.html")]
pub struct StatusPage {
    url: String,
    method: String,
    flash: Option<String>,
    service: Option<ServiceStatus>,
}

pub struct ServiceStatus {
    id: i64,
    status: &'static str,
    reason: Option<String>,
    checked: Option<String>,
    next: Option<String>,
    problems: Vec<(String, String)>,
    problems_omitted: u64,
    warnings: Vec<(String, String)>,
    warnings_omitted: u64,
}

/// The `url` and `method` fields of a query string or form body.
fn url_and_method(encoded: &[u8]) -> (String, String) {
    let mut url = String::new();
    let mut method = "GET".to_string();
    for (key, value) in url::form_urlencoded::parse(encoded) {
        match key.as_ref() {
            "url" => url = value.trim().to_string(),
            "method" if !value.trim().is_empty() => method = value.trim().to_ascii_uppercase(),
            _ => {}
        }
    }
    (url, method)
}

/// `GET /register` (`?url=` pre-fills the form).
pub async fn form(RawQuery(query): RawQuery) -> RegisterPage {
    let (url, method) = url_and_method(query.unwrap_or_default().as_bytes());
    RegisterPage { url: view::clip(&url, 2048), method, methods: METHODS, refused: None, problems: Vec::new() }
}

/// `POST /register`: probe and register, then the status page.
pub async fn submit(State(state): State<HttpState>, body: Bytes) -> Response {
    let (url, method) = url_and_method(&body);
    let refused = |message: String, problems: Vec<(String, String)>| {
        let page = RegisterPage {
            url: view::clip(&url, 2048),
            method: method.clone(),
            methods: METHODS,
            refused: Some(message),
            problems,
        };
        (StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
    };
    if url.is_empty() {
        return refused("Enter the endpoint's URL.".to_string(), Vec::new());
    }
    match register(&state.dispatcher, &url, Some(&method)).await {
        Ok(registration) => {
            let flash = if registration.created { "registered" } else { "rechecked" };
            see_status(&registration.service, flash)
        }
        Err(RegisterError::Refused(report)) => {
            refused("Agora cannot probe this URL, so it was not registered.".to_string(), findings(&report.problems))
        }
        Err(RegisterError::Cancelled) => errors::page(StatusCode::SERVICE_UNAVAILABLE, "Agora is shutting down."),
        Err(error) => {
            tracing::error!(%error, "registration from the web form failed");
            errors::page(StatusCode::INTERNAL_SERVER_ERROR, "The registration could not be completed. Try again.")
        }
    }
}

/// `GET /status?url=&method=`.
pub async fn status(State(state): State<HttpState>, RawQuery(query): RawQuery) -> Response {
    let query = query.unwrap_or_default();
    let (url, method) = url_and_method(query.as_bytes());
    let flash = url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "done")
        .map(|(_, v)| match v.as_ref() {
            "registered" => "Registered: here is what the first probe found.".to_string(),
            "rechecked" => "Checked again just now.".to_string(),
            "too_soon" => {
                format!("Checked less than {} s ago; the result below is current.", RECRAWL_INTERVAL_MS / 1000)
            }
            _ => String::new(),
        })
        .filter(|f| !f.is_empty());
    let target = match ProbeTarget::parse(&url, Some(&method)) {
        Ok(target) => target,
        Err(finding) => {
            return errors::page(
                StatusCode::BAD_REQUEST,
                format!("That is not a URL Agora can check: {}", finding.message),
            );
        }
    };
    let pool = state.store.read();
    let service = match services::lookup(pool, target.url.as_str(), target.method.as_str()).await {
        Ok(service) => service,
        Err(_) => return errors::page(StatusCode::SERVICE_UNAVAILABLE, "The catalog could not be read just now."),
    };
    let now = state.dispatcher.worker().clock().now_ms();
    let service = match service {
        None => None,
        Some(service) => {
            let report = services::latest_report(pool, service.id).await.ok().flatten();
            Some(service_status(&service, report.as_ref(), now))
        }
    };
    StatusPage { url: target.url.to_string(), method: target.method.to_string(), flash, service }.into_response()
}

/// `POST /status/recheck`: probe a registered URL now (at most once a minute per service).
pub async fn recheck(State(state): State<HttpState>, body: Bytes) -> Response {
    let (url, method) = url_and_method(&body);
    let Ok(target) = ProbeTarget::parse(&url, Some(&method)) else {
        return errors::page(StatusCode::BAD_REQUEST, "That is not a URL Agora can check.");
    };
    let pool = state.store.read();
    let Ok(Some(service)) = services::lookup(pool, target.url.as_str(), target.method.as_str()).await else {
        return errors::not_found();
    };
    let now = state.dispatcher.worker().clock().now_ms();
    // The same claim as the API's recrawl: one per service per minute, however many ask at once.
    if state.recrawls.claim(service.id, service.last_probed_at, now).is_err() {
        return see_status(&service, "too_soon");
    }
    let due = DueService {
        id: service.id,
        url: service.url.clone(),
        method: service.method.clone(),
        host: service.host.clone(),
    };
    match state.dispatcher.probe_now(due).await {
        Ok(_) => see_status(&service, "rechecked"),
        Err(error) => {
            tracing::error!(%error, "re-check from the status page failed");
            errors::page(StatusCode::SERVICE_UNAVAILABLE, "The re-check could not run just now. Try again.")
        }
    }
}

/// 303 to the status page of `service`, telling it what just happened.
fn see_status(service: &ServiceRow, done: &str) -> Response {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("url", &service.url)
        .append_pair("method", &service.method)
        .append_pair("done", done)
        .finish();
    let mut response = Redirect::to(&format!("/status?{query}")).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    response
}

fn service_status(service: &ServiceRow, report: Option<&Value>, now: i64) -> ServiceStatus {
    let list = |key: &str| -> Vec<(String, String)> {
        report.and_then(|r| r[key].as_array()).map_or_else(Vec::new, |items| {
            items
                .iter()
                .map(|f| {
                    let text = |k: &str| view::clip(f[k].as_str().unwrap_or_default(), 500);
                    (text("code"), text("message"))
                })
                .collect()
        })
    };
    let problems = list("problems");
    // The reason is usually the first problem's message: say it once.
    let reason =
        service.reason.as_deref().map(|r| view::clip(r, 500)).filter(|r| problems.first().is_none_or(|p| &p.1 != r));
    ServiceStatus {
        id: service.id,
        status: service.status.as_str(),
        reason,
        checked: service.last_probed_at.map(|at| view::ago(at, now)),
        next: Some(in_time(service.next_due_at, now)),
        problems,
        problems_omitted: super::service::omitted(report, "problems_omitted"),
        warnings: list("warnings"),
        warnings_omitted: super::service::omitted(report, "warnings_omitted"),
    }
}

fn findings(findings: &[agora_crawler::Finding]) -> Vec<(String, String)> {
    findings.iter().map(|f| (f.code.clone(), view::clip(&f.message, 500))).collect()
}

/// "in 5 min", "in 3 h", "now" for a future instant.
fn in_time(at_ms: i64, now_ms: i64) -> String {
    let seconds = (at_ms - now_ms) / 1000;
    match seconds {
        ..60 => "within a minute".to_string(),
        60..3_600 => format!("in {} min", seconds / 60),
        3_600..86_400 => format!("in {} h", seconds / 3_600),
        _ => match seconds / 86_400 {
            1 => "in 1 day".to_string(),
            days => format!("in {days} days"),
        },
    }
}
