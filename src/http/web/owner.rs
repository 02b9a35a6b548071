//! The owner page (docs/OWNERSHIP.md): signed in with the owner token (kept in an HttpOnly,
//! SameSite=Strict cookie scoped to `/owner`), an owner sees every probe, problem and price change
//! of their services, and delists, relists, re-probes and pins them with plain forms. Every action
//! goes through the same catalog use cases and checks as the API.

use super::errors;
use crate::app::AppState;
use crate::catalog::owner::{OwnedService, Owner};
use crate::db::moderation::Pins;
use crate::http::views::words as view;
use crate::params::parse_service_id;
use askama::Template;
use askama_web::WebTemplate;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

const COOKIE: &str = "agora_owner";
/// How long a sign-in lasts.
const SESSION_SECONDS: u32 = 8 * 3600;

#[derive(Template, WebTemplate)]
#[template(path = "owner.html")]
pub struct OwnerPage {
    signed_in: bool,
    error: Option<String>,
    claim: String,
    services: Vec<OwnedLine>,
    /// A new token after rotation, shown once.
    new_token: Option<String>,
}

pub struct OwnedLine {
    id: i64,
    name: String,
    url: String,
    status: &'static str,
    withheld: Option<String>,
    owner_delisted: bool,
    pin_name: String,
    pin_description: String,
    pin_tags: String,
    pin_category: String,
    pin_docs_url: String,
    pin_icon_url: String,
    probes: Vec<(String, String, String)>,
    changes: Vec<String>,
}

/// The `Set-Cookie` value that signs `token` in.
pub fn sign_in_cookie(state: &AppState, token: &str) -> String {
    let secure = if state.catalog.ownership().public_url.scheme() == "https" { "; Secure" } else { "" };
    format!("{COOKIE}={token}; Path=/owner; HttpOnly; SameSite=Strict; Max-Age={SESSION_SECONDS}{secure}")
}

fn sign_out_cookie() -> String {
    format!("{COOKIE}=; Path=/owner; HttpOnly; SameSite=Strict; Max-Age=0")
}

fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|pair| {
        let (name, value) = pair.trim().split_once('=')?;
        (name == COOKIE && !value.is_empty()).then(|| value.to_string())
    })
}

fn signed_out(error: Option<String>) -> OwnerPage {
    OwnerPage { signed_in: false, error, claim: String::new(), services: Vec::new(), new_token: None }
}

async fn owner_of(state: &AppState, headers: &HeaderMap) -> Option<Owner> {
    state.catalog.owner(&cookie_token(headers)?).await.ok()
}

/// `GET /owner`: the owner's services, or the sign-in form.
pub async fn page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(owner) = owner_of(&state, &headers).await else {
        return ([(header::CACHE_CONTROL, "no-store")], signed_out(None)).into_response();
    };
    match dashboard(&state, &owner, None).await {
        Ok(page) => ([(header::CACHE_CONTROL, "no-store")], page).into_response(),
        Err(response) => response,
    }
}

async fn dashboard(state: &AppState, owner: &Owner, new_token: Option<String>) -> Result<OwnerPage, Response> {
    let owned = state.catalog.owned(owner).await.map_err(errors::catalog_page)?;
    let now = state.catalog.now_ms();
    let claim = &owner.claim;
    let claim =
        format!("{} {} (proven {})", claim.kind.replace('_', " "), claim.subject, view::ago(claim.proven_at, now));
    Ok(OwnerPage {
        signed_in: true,
        error: None,
        claim,
        services: owned.iter().map(|o| line(o, now)).collect(),
        new_token,
    })
}

fn line(owned: &OwnedService, now: i64) -> OwnedLine {
    let service = &owned.state.service;
    let pins = service.pinned.as_ref().map(|p| p.pins.clone()).unwrap_or_default();
    let text = |value: Option<String>| value.unwrap_or_default();
    OwnedLine {
        id: service.id,
        name: view::display_name(service),
        url: service.url.clone(),
        status: service.status.as_str(),
        withheld: match (service.hidden_at, service.owner_delisted_at) {
            (Some(_), _) => Some(format!("hidden by the operator: {}", text(service.hidden_reason.clone()))),
            (None, Some(at)) => Some(format!("delisted by you {}", view::ago(at, now))),
            (None, None) => None,
        },
        owner_delisted: service.owner_delisted_at.is_some(),
        pin_name: text(pins.name),
        pin_description: text(pins.description),
        pin_tags: pins.tags.unwrap_or_default().join(", "),
        pin_category: text(pins.category),
        pin_docs_url: text(pins.docs_url),
        pin_icon_url: text(pins.icon_url),
        probes: owned
            .probes
            .iter()
            .map(|p| (view::ago(p.probed_at, now), p.verdict.replace('_', " "), p.codes.join(", ")))
            .collect(),
        changes: owned
            .offer_changes
            .iter()
            .rev()
            .take(20)
            .map(|c| {
                let (before, after) =
                    (c.old_value.clone().unwrap_or_default(), c.new_value.clone().unwrap_or_default());
                format!(
                    "{}: {} {before} → {after} ({} on {})",
                    view::ago(c.changed_at, now),
                    c.kind,
                    c.scheme,
                    c.network
                )
            })
            .collect(),
    }
}

/// `POST /owner/sign-in`: checks the token, keeps it in the cookie.
pub async fn sign_in(State(state): State<AppState>, body: Bytes) -> Response {
    let token = super::form_fields(&body).remove("token").unwrap_or_default();
    match state.catalog.owner(&token).await {
        Ok(_) => ([(header::SET_COOKIE, sign_in_cookie(&state, &token))], Redirect::to("/owner")).into_response(),
        Err(error) => (StatusCode::UNAUTHORIZED, signed_out(Some(error.to_string()))).into_response(),
    }
}

/// `POST /owner/sign-out`.
pub async fn sign_out() -> Response {
    ([(header::SET_COOKIE, sign_out_cookie())], Redirect::to("/owner")).into_response()
}

/// `POST /owner/token`: a new token, shown once; the old one stops working.
pub async fn rotate(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(owner) = owner_of(&state, &headers).await else { return Redirect::to("/owner").into_response() };
    let token = match state.catalog.rotate_owner_token(&owner).await {
        Ok(token) => token,
        Err(error) => return errors::catalog_page(error),
    };
    match dashboard(&state, &owner, Some(token.clone())).await {
        Ok(page) => {
            ([(header::SET_COOKIE, sign_in_cookie(&state, &token)), (header::CACHE_CONTROL, "no-store".into())], page)
                .into_response()
        }
        Err(response) => response,
    }
}

/// `POST /owner/services/{id}/{action}`: `delist`, `relist`, `recrawl` or `pins`.
pub async fn act(
    State(state): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(owner) = owner_of(&state, &headers).await else { return Redirect::to("/owner").into_response() };
    let Ok(id) = parse_service_id(&id) else { return errors::not_found() };
    let catalog = &state.catalog;
    let done = match action.as_str() {
        "delist" => catalog.owner_listing(&owner, id, true).await.map(drop),
        "relist" => catalog.owner_listing(&owner, id, false).await.map(drop),
        "recrawl" => catalog.owner_recrawl(&owner, id).await.map(drop),
        "pins" => {
            let mut form = super::form_fields(&body);
            let mut take = |name: &str| form.remove(name).filter(|v| !v.is_empty());
            let tags =
                take("tags").map(|t| t.split(',').map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect());
            let pins = Pins {
                name: take("name"),
                description: take("description"),
                tags,
                category: take("category"),
                docs_url: take("docs_url"),
                icon_url: take("icon_url"),
                icon_hash: None,
            };
            catalog.owner_pin(&owner, id, pins).await.map(drop)
        }
        _ => return errors::not_found(),
    };
    match done {
        Ok(()) => Redirect::to("/owner").into_response(),
        Err(error) => errors::catalog_page(error),
    }
}
