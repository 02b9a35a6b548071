//! The HTML pages for people (`shared/INTERFACES.md` "Web pages"): server-rendered askama
//! templates (`templates/`) over the same query functions as the JSON API, working without
//! JavaScript; htmx, served from the binary, only enhances (search as you type). Every page
//! carries a strict Content-Security-Policy (no inline script, nothing from elsewhere).

pub mod assets;
pub mod errors;
pub mod search;
pub mod service;
pub mod view;

use super::HttpState;
use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use axum::routing::get;
use tower_http::set_header::SetResponseHeaderLayer;

/// The policy every page is served with: only this origin's scripts, styles and forms.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

pub fn routes() -> Router<HttpState> {
    let header = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
    };
    Router::new()
        .route("/", get(search::page))
        .route("/services/{id}", get(service::page))
        .route("/static/{file}", get(assets::serve))
        .layer(header(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .layer(header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header(header::REFERRER_POLICY, "no-referrer"))
        .layer(header(header::X_FRAME_OPTIONS, "DENY"))
}
