//! The owner API under `/api/v1/owner` (docs/OWNERSHIP.md): every request carries the owner
//! token as `Authorization: Bearer …`; a service outside the token's claim is 403.

use super::ServiceId;
use super::bearer::Bearer;
use super::claims::ClaimView;
use super::register::body_problem;
use crate::app::AppState;
use crate::catalog::owner::OwnedService;
use crate::db::history::{OfferChange, StatusChange};
use crate::db::moderation::Pins;
use crate::db::probes::ProbeRow;
use crate::http::problem::Problem;
use crate::http::views::{ServiceView, ServiceWithReport};
use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// An owner's view of their claim and services.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OwnerView {
    pub claim: ClaimView,
    pub services: Vec<OwnedServiceView>,
}

/// One owned service with every recent probe, problem and price change.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OwnedServiceView {
    #[serde(flatten)]
    pub service: ServiceWithReport,
    /// The latest probes, newest first, each with its problem codes.
    pub recent_probes: Vec<ProbeRow>,
    pub status_changes: Vec<StatusChange>,
    pub offer_changes: Vec<OfferChange>,
}

impl From<OwnedService> for OwnedServiceView {
    fn from(owned: OwnedService) -> OwnedServiceView {
        OwnedServiceView {
            service: owned.state.into(),
            recent_probes: owned.probes,
            status_changes: owned.status_changes,
            offer_changes: owned.offer_changes,
        }
    }
}

/// A new owner token (the old one no longer works).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenView {
    pub owner_token: String,
}

/// The owner's claim and services.
#[utoipa::path(get, path = "/api/v1/owner", tag = "owners",
    responses((status = 200, description = "The claim and its services", body = OwnerView)))]
pub async fn overview(State(state): State<AppState>, Bearer(token): Bearer) -> Result<Json<OwnerView>, Problem> {
    let owner = state.catalog.owner(&token).await?;
    let services = state.catalog.owned(&owner).await?;
    Ok(Json(OwnerView {
        claim: owner.claim.into(),
        services: services.into_iter().map(OwnedServiceView::from).collect(),
    }))
}

/// Probe an owned service now (at most once per 10 s).
#[utoipa::path(post, path = "/api/v1/owner/services/{id}/recrawl", tag = "owners",
    params(("id" = i64, Path, description = "Service id")),
    responses((status = 200, description = "Probed", body = ServiceWithReport)))]
pub async fn recrawl(
    State(state): State<AppState>,
    Bearer(token): Bearer,
    ServiceId(id): ServiceId,
) -> Result<Json<ServiceWithReport>, Problem> {
    let owner = state.catalog.owner(&token).await?;
    Ok(Json(state.catalog.owner_recrawl(&owner, id).await?.into()))
}

/// Delist an owned service: it leaves search, the Bazaar endpoints and the feeds at once.
#[utoipa::path(post, path = "/api/v1/owner/services/{id}/delist", tag = "owners",
    params(("id" = i64, Path, description = "Service id")),
    responses((status = 200, description = "Delisted", body = ServiceView)))]
pub async fn delist(
    State(state): State<AppState>,
    Bearer(token): Bearer,
    ServiceId(id): ServiceId,
) -> Result<Json<ServiceView>, Problem> {
    let owner = state.catalog.owner(&token).await?;
    Ok(Json(state.catalog.owner_listing(&owner, id, true).await?.into()))
}

/// Relist an owned service delisted by its owner.
#[utoipa::path(post, path = "/api/v1/owner/services/{id}/relist", tag = "owners",
    params(("id" = i64, Path, description = "Service id")),
    responses((status = 200, description = "Relisted", body = ServiceView)))]
pub async fn relist(
    State(state): State<AppState>,
    Bearer(token): Bearer,
    ServiceId(id): ServiceId,
) -> Result<Json<ServiceView>, Problem> {
    let owner = state.catalog.owner(&token).await?;
    Ok(Json(state.catalog.owner_listing(&owner, id, false).await?.into()))
}

/// Pin display metadata that later probes and imports never overwrite.
#[utoipa::path(post, path = "/api/v1/owner/services/{id}/pins", tag = "owners",
    params(("id" = i64, Path, description = "Service id")),
    request_body(content = Pins, description = "Every pinned field (absent or null: the challenge's own value shows; all absent: unpin)"),
    responses((status = 200, description = "Pinned", body = Pins)))]
pub async fn pin(
    State(state): State<AppState>,
    Bearer(token): Bearer,
    ServiceId(id): ServiceId,
    body: Result<Json<Pins>, JsonRejection>,
) -> Result<Json<Pins>, Problem> {
    let owner = state.catalog.owner(&token).await?;
    let Json(pins) = body.map_err(body_problem)?;
    Ok(Json(state.catalog.owner_pin(&owner, id, pins).await?))
}

/// Replace the owner token: the answer holds the new one, the old one stops working.
#[utoipa::path(post, path = "/api/v1/owner/token", tag = "owners",
    responses((status = 200, description = "The new token", body = TokenView)))]
pub async fn rotate(State(state): State<AppState>, Bearer(token): Bearer) -> Result<Json<TokenView>, Problem> {
    let owner = state.catalog.owner(&token).await?;
    Ok(Json(TokenView { owner_token: state.catalog.rotate_owner_token(&owner).await? }))
}

/// End the claim: its services lose the verification it gave, and the token stops working.
#[utoipa::path(post, path = "/api/v1/owner/revoke", tag = "owners",
    responses((status = 204, description = "Revoked")))]
pub async fn revoke(State(state): State<AppState>, Bearer(token): Bearer) -> Result<Response, Problem> {
    let owner = state.catalog.owner(&token).await?;
    state.catalog.revoke_claim(&owner).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
