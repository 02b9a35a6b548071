//! Error pages in the site's style: 404, 429, 500, 503 — the HTML twins of the API's problem
//! answers, for browsers.

use askama::Template;
use askama_web::WebTemplate;
use axum::http::StatusCode;
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
        StatusCode::SERVICE_UNAVAILABLE => "Unavailable",
        _ => "Something went wrong",
    };
    (status, ErrorPage { title, message: message.into() }).into_response()
}

pub fn not_found() -> Response {
    page(StatusCode::NOT_FOUND, "There is no page at this address.")
}
