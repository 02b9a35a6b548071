//! Static files the pages use, compiled into the binary (nothing fetched at runtime, no CDN):
//! the vendored htmx and Pico releases (`assets/vendor/`, reproduced by
//! `scripts/vendor-assets.sh`) and Agora's own stylesheet. Each is served at a path that names
//! its version or content, so browsers may cache it forever.

use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use std::sync::LazyLock;

pub const HTMX: &str = "htmx-2.0.11.min.js";
pub const PICO: &str = "pico-2.1.1.classless.min.css";
const APP_CSS_BYTES: &[u8] = include_bytes!("../../../assets/app.css");
const ICON_BYTES: &[u8] = include_bytes!("../../../assets/icon.svg");

/// Agora's stylesheet, named by a hash of its content so that an edit gets a new URL.
pub fn app_css() -> &'static str {
    static NAME: LazyLock<String> = LazyLock::new(|| content_name("app", APP_CSS_BYTES, "css"));
    &NAME
}

/// The site icon (linked from every page, so browsers never ask for `/favicon.ico`).
pub fn icon() -> &'static str {
    static NAME: LazyLock<String> = LazyLock::new(|| content_name("icon", ICON_BYTES, "svg"));
    &NAME
}

fn content_name(stem: &str, bytes: &[u8], extension: &str) -> String {
    // FNV-1a: stable across builds and platforms, unlike std's hasher.
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3));
    format!("{stem}-{hash:016x}.{extension}")
}

/// `GET /static/{file}`.
pub async fn serve(Path(file): Path<String>) -> Response {
    let found: Option<(&'static str, &'static [u8])> = match file.as_str() {
        HTMX => Some(("text/javascript; charset=utf-8", include_bytes!("../../../assets/vendor/htmx-2.0.11.min.js"))),
        PICO => {
            Some(("text/css; charset=utf-8", include_bytes!("../../../assets/vendor/pico-2.1.1.classless.min.css")))
        }
        name if name == app_css() => Some(("text/css; charset=utf-8", APP_CSS_BYTES)),
        name if name == icon() => Some(("image/svg+xml", ICON_BYTES)),
        _ => None,
    };
    match found {
        Some((content_type, bytes)) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
                (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable")),
            ],
            bytes,
        )
            .into_response(),
        None => super::errors::not_found(),
    }
}
