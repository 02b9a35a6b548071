//! The `Authorization: Bearer <token>` of owner and operator requests. The token is only handed
//! on to the catalog's check; it is never logged or echoed (the trace layer records no headers).

use crate::http::problem::Problem;
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

/// A presented bearer token.
pub struct Bearer(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Bearer {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        let missing = || {
            Problem::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Not authorized",
                "Send the token as `Authorization: Bearer <token>`.",
            )
        };
        let value = parts.headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()).ok_or_else(missing)?;
        let (scheme, token) = value.trim().split_once(' ').ok_or_else(missing)?;
        if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
            return Err(missing());
        }
        Ok(Bearer(token.trim().to_string()))
    }
}
