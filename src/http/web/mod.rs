//! The HTML pages for people (`shared/INTERFACES.md` "Web pages"): server-rendered askama
//! templates (`templates/`) over the same catalog use cases as the JSON API, working without
//! JavaScript; htmx, served from the binary, only enhances (search as you type). Every page
//! carries a strict Content-Security-Policy (no inline script, nothing from elsewhere).

pub mod about;
pub mod assets;
pub mod claim;
pub mod errors;
pub mod interpreted;
pub mod offer_rows;
pub mod owner;
pub mod register;
pub mod rich;
pub mod schema_fields;
pub mod search;
pub mod service;
pub mod sources;
pub mod trust;

use crate::app::AppState;
use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use tower_http::set_header::SetResponseHeaderLayer;

/// The policy every page is served with: only this origin's scripts, styles and forms.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

pub fn routes() -> Router<AppState> {
    let header = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
    };
    Router::new()
        .route("/", get(search::page))
        .route("/services/{id}", get(service::page))
        .route("/register", get(register::form).post(register::submit))
        .route("/status", get(register::status))
        .route("/about", get(about::page))
        .route("/sources", get(sources::page))
        .route("/status/recheck", post(register::recheck))
        .route("/claim", get(claim::form).post(claim::start))
        .route("/claim/prove", post(claim::prove))
        .route("/owner", get(owner::page))
        .route("/owner/sign-in", post(owner::sign_in))
        .route("/owner/sign-out", post(owner::sign_out))
        .route("/owner/token", post(owner::rotate))
        .route("/owner/services/{id}/{action}", post(owner::act))
        .route("/static/{file}", get(assets::serve))
        .layer(middleware::from_fn(same_origin_posts))
        .layer(header(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .layer(header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header(header::REFERRER_POLICY, "no-referrer"))
        .layer(header(header::X_FRAME_OPTIONS, "DENY"))
}

/// The fields of a form body (or a query string), values trimmed; a repeated name keeps its last.
pub fn form_fields(encoded: &[u8]) -> std::collections::HashMap<String, String> {
    url::form_urlencoded::parse(encoded).map(|(k, v)| (k.into_owned(), v.trim().to_string())).collect()
}

/// Cross-site request forgery guard for the form posts: a browser says where a request comes
/// from (`Sec-Fetch-Site`, else `Origin`); a post from another site is refused. Requests with
/// neither header are not from a browser page and pass (curl, scripts).
async fn same_origin_posts(request: Request, next: Next) -> Response {
    if request.method() != Method::GET && request.method() != Method::HEAD && !same_origin(&request) {
        return errors::page(StatusCode::FORBIDDEN, "This form must be sent from Agora's own pages.");
    }
    next.run(request).await
}

fn same_origin(request: &Request) -> bool {
    let headers = request.headers();
    if let Some(site) = headers.get("sec-fetch-site") {
        return matches!(site.as_bytes(), b"same-origin" | b"none");
    }
    match (headers.get(header::ORIGIN), headers.get(header::HOST)) {
        (None, _) => true,
        (Some(origin), Some(host)) => {
            let origin = origin.to_str().unwrap_or_default();
            let host = host.to_str().unwrap_or_default();
            origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://")) == Some(host)
        }
        (Some(_), None) => false,
    }
}
