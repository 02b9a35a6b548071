//! `GET /icons/{hash}`: a seller's icon as Agora kept it (`db::icons`), from Agora's own origin,
//! so pages never hot-link a seller. Named by the Keccak-256 of its bytes, so it is cached
//! forever; served with the content type its bytes proved, `nosniff` and a sandboxing CSP.

use super::problem::Problem;
use crate::app::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// The icon named `hash`, or a 404 problem.
pub async fn icon(State(state): State<AppState>, Path(hash): Path<String>) -> Result<Response, Problem> {
    let well_formed = hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    let kept = if well_formed { state.catalog.icon(&hash).await? } else { None };
    let Some((content_type, bytes)) = kept else {
        return Err(Problem::not_found("No icon by this name."));
    };
    let content_type = HeaderValue::from_str(&content_type).unwrap_or(HeaderValue::from_static("image/png"));
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable")),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
            (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox")),
        ],
        bytes,
    )
        .into_response())
}
