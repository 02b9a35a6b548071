//! The sellers' pages: `/register` (a form that probes and registers at once, showing every
//! problem when the URL cannot be registered at all) and `/status?url=&method=` (what Agora
//! knows about one URL, with a "re-check now" button). Form posts answer with a redirect to the
//! status page (post/redirect/get), so a reload never registers twice.

use super::errors;
use super::rich::{FindingRow, Rich, finding_rows};
use crate::app::AppState;
use crate::catalog::CatalogError;
use crate::catalog::recrawl::RECRAWL_INTERVAL_MS;
use crate::catalog::register::ServiceState;
use crate::db::services::ServiceRow;
use crate::http::views::words as view;
use askama::Template;
use askama_web::WebTemplate;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE"];

#[derive(Template, WebTemplate)]
#[template(path = "register.html")]
pub struct RegisterPage {
    url: String,
    method: String,
    methods: &'static [&'static str],
    refused: Option<String>,
    problems: Vec<FindingRow>,
    /// The refusal is the address policy's: operators can open a range with `--allow-cidr`.
    address_refused: bool,
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
    reason: Option<Rich>,
    checked: Option<String>,
    next: Option<String>,
    problems: Vec<FindingRow>,
    problems_omitted: u64,
    warnings: Vec<FindingRow>,
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
    RegisterPage {
        url: view::clip(&url, 2048),
        method,
        methods: METHODS,
        refused: None,
        problems: Vec::new(),
        address_refused: false,
    }
}

/// `POST /register`: probe and register, then the status page.
pub async fn submit(State(state): State<AppState>, body: Bytes) -> Response {
    let (url, method) = url_and_method(&body);
    let refused = |message: String, problems: Vec<FindingRow>| {
        let address_refused = problems.iter().any(|p| p.code == "address_refused");
        let page = RegisterPage {
            url: view::clip(&url, 2048),
            method: method.clone(),
            methods: METHODS,
            refused: Some(message),
            problems,
            address_refused,
        };
        (StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
    };
    if url.is_empty() {
        return refused("Enter the endpoint's URL.".to_string(), Vec::new());
    }
    match state.catalog.register(&url, Some(&method)).await {
        Ok(registration) => {
            let flash = if registration.created { "registered" } else { "rechecked" };
            see_status(&registration.state.service, flash)
        }
        Err(CatalogError::Refused(report)) => refused(
            "Agora cannot probe this URL, so it was not registered.".to_string(),
            finding_rows(&report.problems),
        ),
        Err(error) => errors::catalog_page(error),
    }
}

/// `GET /status?url=&method=`.
pub async fn status(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
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
    let catalog = &state.catalog;
    let (target, found) = match catalog.status(&url, Some(&method)).await {
        Ok(found) => found,
        Err(CatalogError::Param(error)) => {
            return errors::page(
                StatusCode::BAD_REQUEST,
                format!("That is not a URL Agora can check: {}", error.message),
            );
        }
        Err(error) => return errors::catalog_page(error),
    };
    let service = found.map(|state| service_status(&state, catalog.now_ms()));
    // The page names the URL as Agora stores it (canonical), registered or not.
    StatusPage { url: target.url, method: target.method, flash, service }.into_response()
}

/// `POST /status/recheck`: probe a registered URL now (at most once a minute per service).
pub async fn recheck(State(state): State<AppState>, body: Bytes) -> Response {
    let (url, method) = url_and_method(&body);
    let service = match state.catalog.status(&url, Some(&method)).await {
        Ok((_, Some(found))) => found.service,
        Ok((_, None)) => return errors::not_found(),
        Err(CatalogError::Param(_)) => {
            return errors::page(StatusCode::BAD_REQUEST, "That is not a URL Agora can check.");
        }
        Err(error) => return errors::catalog_page(error),
    };
    // The same use case as the API's recrawl: one per service per minute, however many ask.
    match state.catalog.recrawl(service.id).await {
        Ok(_) => see_status(&service, "rechecked"),
        Err(CatalogError::TooSoon { .. }) => see_status(&service, "too_soon"),
        Err(error) => errors::catalog_page(error),
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

fn service_status(state: &ServiceState, now: i64) -> ServiceStatus {
    let service = &state.service;
    let report = state.report.as_ref();
    let problems = report.map(|r| finding_rows(&r.problems)).unwrap_or_default();
    // The reason is the first problem's message when there are problems: say it once.
    let reason =
        problems.is_empty().then(|| service.reason.as_deref().map(|r| Rich::new(view::clip(r, 500)))).flatten();
    ServiceStatus {
        id: service.id,
        status: service.status.as_str(),
        reason,
        checked: service.last_probed_at.map(|at| view::ago(at, now)),
        next: Some(in_time(service.next_due_at, now)),
        problems,
        problems_omitted: report.map_or(0, |r| r.problems_omitted as u64),
        warnings: report.map(|r| finding_rows(&r.warnings)).unwrap_or_default(),
        warnings_omitted: report.map_or(0, |r| r.warnings_omitted as u64),
    }
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
