//! Error pages in the site's style: 404, 429, 500, 503 — the HTML twins of the API's problem
//! answers, for browsers. A catalog error becomes a page through [`catalog_page`], the one HTML
//! mapping (the status and sentence of its problem); page handlers answer their own form errors
//! with [`page`]; every other problem (the rate limiter's 429, the deadline's 503, a caught
//! panic's 500, an unknown path's 404) becomes a page in [`pages_for_browsers`] when the request
//! came from a browser asking for a page.

use crate::catalog::CatalogError;
use crate::http::problem::{Problem, ProblemDetail};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
pub struct ErrorPage {
    title: &'static str,
    message: String,
}

/// A page for `status`, saying `message`.
pub fn page(status: StatusCode, message: impl Into<String>) -> Response {
    let title = match status {
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::TOO_MANY_REQUESTS => "Too many requests",
        StatusCode::BAD_REQUEST => "Bad request",
        StatusCode::FORBIDDEN => "Refused",
        StatusCode::UNAUTHORIZED => "Not signed in",
        StatusCode::UNPROCESSABLE_ENTITY => "The proof does not hold",
        StatusCode::SERVICE_UNAVAILABLE => "Unavailable",
        _ => "Something went wrong",
    };
    let mut response = (status, ErrorPage { title, message: message.into() }).into_response();
    // Also served outside the pages' router (the rate limiter's 429, an unknown path's 404), so
    // it carries the pages' security headers itself.
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(super::CONTENT_SECURITY_POLICY));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// The page for a catalog error: its problem's status, sentence and `Retry-After` (failures on
/// our side are logged by that mapping, and say nothing of their cause).
pub fn catalog_page(error: CatalogError) -> Response {
    let problem = Problem::from(error);
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = page(status, problem.detail);
    if let Some(seconds) = problem.retry_after {
        response.headers_mut().insert(header::RETRY_AFTER, seconds.into());
    }
    response
}

pub fn not_found() -> Response {
    page(StatusCode::NOT_FOUND, "There is no page at this address.")
}

/// Whether a request wants a page rather than a problem document: a browser navigating (its
/// `Accept` starts with `text/html`) anywhere outside the machine APIs.
pub fn wants_page(headers: &HeaderMap, path: &str) -> bool {
    let html_first = headers
        .get(header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.starts_with("text/html"));
    html_first && !path.starts_with("/api/") && !path.starts_with("/discovery/")
}

/// Outermost layer: turns a problem answer into the site's error page for browsers, keeping
/// its status, detail and `Retry-After`.
pub async fn pages_for_browsers(request: Request, next: Next) -> Response {
    let wants = wants_page(request.headers(), request.uri().path());
    let response = next.run(request).await;
    if !wants {
        return response;
    }
    let Some(ProblemDetail(detail)) = response.extensions().get::<ProblemDetail>().cloned() else {
        return response;
    };
    let mut page = page(response.status(), detail);
    if let Some(retry_after) = response.headers().get(header::RETRY_AFTER) {
        page.headers_mut().insert(header::RETRY_AFTER, retry_after.clone());
    }
    page
}

#[cfg(test)]
mod tests {
    use super::pages_for_browsers;
    use crate::http::problem::Problem;
    use axum::Router;
    use axum::body::Body;
    use axum::http::{Request, StatusCode, header};
    use axum::routing::get;
    use tower::ServiceExt;
    use tower_http::catch_panic::CatchPanicLayer;

    async fn boom() -> &'static str {
        panic!("a bug")
    }

    fn app() -> Router {
        Router::new()
            .route("/boom", get(boom))
            .route("/api/v1/boom", get(boom))
            .route("/busy", get(|| async { Problem::too_many("rate_limited", "Slow down; retry in 7s.", 7) }))
            .layer(CatchPanicLayer::custom(crate::http::panic_answer))
            .layer(axum::middleware::from_fn(pages_for_browsers))
    }

    async fn get_as(path: &str, accept: &str) -> (StatusCode, String, Option<String>, String, String) {
        let request = Request::get(path).header(header::ACCEPT, accept).body(Body::empty()).expect("request");
        let response = app().oneshot(request).await.expect("infallible");
        let status = response.status();
        let header = |name| response.headers().get(name).map(|v| v.to_str().expect("ascii").to_string());
        let (content_type, retry_after) =
            (header(header::CONTENT_TYPE).unwrap_or_default(), header(header::RETRY_AFTER));
        let csp = header(header::CONTENT_SECURITY_POLICY).unwrap_or_default();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20).await.expect("body");
        (status, content_type, retry_after, String::from_utf8(body.to_vec()).expect("utf-8"), csp)
    }

    const BROWSER: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

    #[tokio::test]
    async fn browsers_get_pages_for_panics_and_limits_programs_get_problems() {
        let (status, content_type, _, html, csp) = get_as("/boom", BROWSER).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(content_type.starts_with("text/html"), "{content_type}");
        assert!(html.contains("<h1>Something went wrong</h1>") && html.contains("it is logged"), "{html}");
        assert!(csp.starts_with("default-src 'none'"), "the page's policy: {csp}");
        assert!(!html.contains("a bug"), "the panic message stays in the log");

        let (status, content_type, retry_after, html, _) = get_as("/busy", BROWSER).await;
        assert_eq!((status, retry_after.as_deref()), (StatusCode::TOO_MANY_REQUESTS, Some("7")));
        assert!(content_type.starts_with("text/html") && html.contains("retry in 7s"), "{html}");

        for (path, accept) in [("/boom", "application/json"), ("/api/v1/boom", BROWSER), ("/busy", "*/*")] {
            let (_, content_type, _, _, _) = get_as(path, accept).await;
            assert_eq!(content_type, "application/problem+json", "{path} for {accept}");
        }
    }
}
