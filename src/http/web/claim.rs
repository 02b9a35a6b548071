//! The claim pages (docs/OWNERSHIP.md): `/claim` asks what to prove, answers the challenge (a
//! file to serve, or a message to sign with any wallet), and `/claim/prove` checks the proof and
//! shows the owner token once — signing the seller in to `/owner` at the same time.

use super::errors;
use super::owner::sign_in_cookie;
use crate::app::AppState;
use crate::catalog::claims::{ClaimRequest, IssuedChallenge};
use crate::http::views::words as view;
use askama::Template;
use askama_web::WebTemplate;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

#[derive(Template, WebTemplate)]
#[template(path = "claim.html")]
pub struct ClaimPage {
    url: String,
    pay_to: String,
    challenge: Option<ChallengeView>,
    /// The owner token, shown once after a proof.
    token: Option<String>,
    covered: usize,
}

pub struct ChallengeView {
    nonce: String,
    scope: String,
    expires: String,
    well_known_url: Option<String>,
    content: Option<String>,
    message: Option<String>,
    address: String,
}

fn empty(url: String) -> ClaimPage {
    ClaimPage { url, pay_to: String::new(), challenge: None, token: None, covered: 0 }
}

/// `GET /claim` (`?url=` pre-fills the form).
pub async fn form(RawQuery(query): RawQuery) -> ClaimPage {
    let query = super::form_fields(query.unwrap_or_default().as_bytes());
    empty(view::clip(query.get("url").map_or("", String::as_str), 2048))
}

/// `POST /claim`: issues the challenge and says how to meet it.
pub async fn start(State(state): State<AppState>, body: Bytes) -> Response {
    let form = super::form_fields(&body);
    let url = form.get("url").cloned().unwrap_or_default();
    let pay_to = form.get("pay_to").cloned().unwrap_or_default();
    let request = if form.get("method").map(String::as_str) == Some("siwx") {
        let whole_origin = form.get("scope").map(String::as_str) == Some("origin");
        ClaimRequest::Siwx { url: url.clone(), pay_to: pay_to.clone(), whole_origin, chain_id: None }
    } else {
        ClaimRequest::WellKnown { url: url.clone() }
    };
    match state.catalog.challenge(&request).await {
        Ok(issued) => {
            let now = state.catalog.now_ms();
            ClaimPage { challenge: Some(challenge_view(issued, &pay_to, now)), ..empty(url) }.into_response()
        }
        Err(error) => errors::catalog_page(error),
    }
}

/// "59 minutes", "1 minute": how long a challenge stays open.
fn minutes_left(expires_at: i64, now: i64) -> String {
    let minutes = ((expires_at - now).max(0) + 59_999) / 60_000;
    if minutes == 1 { "1 minute".into() } else { format!("{minutes} minutes") }
}

fn challenge_view(issued: IssuedChallenge, address: &str, now: i64) -> ChallengeView {
    let challenge = issued.challenge;
    ChallengeView {
        expires: minutes_left(challenge.expires_at, now),
        content: challenge.proof.filter(|_| issued.well_known_url.is_some()),
        nonce: challenge.nonce,
        scope: challenge.scope,
        well_known_url: issued.well_known_url,
        message: issued.message,
        address: address.to_string(),
    }
}

/// `POST /claim/prove`: checks the file or the pasted signature; shows the owner token once.
pub async fn prove(State(state): State<AppState>, body: Bytes) -> Response {
    let form = super::form_fields(&body);
    let nonce = form.get("nonce").cloned().unwrap_or_default();
    let proven = match form.get("signature").filter(|s| !s.is_empty()) {
        Some(signature) => {
            let address = form.get("address").cloned().unwrap_or_default();
            state.catalog.prove_signed(&nonce, &address, signature).await
        }
        None => {
            let proof = crate::catalog::claims::ClaimProof::WellKnown { nonce };
            state.catalog.prove(&proof).await
        }
    };
    match proven {
        Ok(proven) => {
            let cookie = sign_in_cookie(&state, &proven.owner_token);
            let page =
                ClaimPage { token: Some(proven.owner_token), covered: proven.services.len(), ..empty(String::new()) };
            // Never cached: the token is shown this once.
            ([(header::SET_COOKIE, cookie), (header::CACHE_CONTROL, "no-store".to_string())], page).into_response()
        }
        Err(error) => errors::catalog_page(error),
    }
}
