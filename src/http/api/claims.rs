//! `POST /api/v1/claims/challenges` (ask how to prove control) and `POST /api/v1/claims` (prove
//! it, and get an owner token once) — docs/OWNERSHIP.md. Both are writes for the rate limits.

use super::register::body_problem;
use crate::app::AppState;
use crate::catalog::claims::{ClaimProof, ClaimRequest, IssuedChallenge, Proven, SiwxInfo};
use crate::http::problem::Problem;
use crate::ownership::siwx::SiwxPayload;
use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::{Deserialize, Serialize};

/// The header the x402 `sign-in-with-x` extension carries a signed payload in (base64 JSON).
pub const SIWX_HEADER: &str = "sign-in-with-x";

/// The body of `POST /api/v1/claims/challenges`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChallengeBody {
    /// `well_known` (serve a file on the origin) or `siwx` (sign with the payTo address).
    pub method: String,
    /// A registered service URL (for `well_known`, any URL of the origin).
    pub url: String,
    /// `siwx`: the payTo address to prove.
    pub pay_to: Option<String>,
    /// `siwx`: `service` (default: the URL's service) or `origin` (every service of the origin
    /// paying the address).
    pub scope: Option<String>,
    /// `siwx`: the CAIP-2 chain to sign for (default: a network the service is paid on).
    pub chain_id: Option<String>,
}

/// A challenge: what to do to prove control.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChallengeView {
    pub nonce: String,
    pub method: String,
    /// The origin or service URL the claim covers.
    pub scope: String,
    pub expires_at: i64,
    /// `well_known`: serve `content` (text/plain) at this URL, then prove.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub well_known_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// `siwx`: the message fields to sign (x402 `sign-in-with-x` info; the SDK's
    /// `createSIWxPayload` takes them as they are).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub siwx: Option<SiwxInfo>,
    /// `siwx`: the same message as text (EIP-4361 or SIWS), to sign with any wallet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl From<IssuedChallenge> for ChallengeView {
    fn from(issued: IssuedChallenge) -> ChallengeView {
        let challenge = issued.challenge;
        ChallengeView {
            content: challenge.proof.filter(|_| issued.well_known_url.is_some()),
            nonce: challenge.nonce,
            method: challenge.method,
            scope: challenge.scope,
            expires_at: challenge.expires_at,
            well_known_url: issued.well_known_url,
            siwx: issued.siwx,
            message: issued.message,
        }
    }
}

/// The body of `POST /api/v1/claims`: the nonce of a `well_known` challenge whose file is in
/// place, or a signed SIWX payload (or send that in the `SIGN-IN-WITH-X` header instead).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProofBody {
    pub nonce: Option<String>,
    pub siwx: Option<SiwxPayload>,
}

/// A proven claim.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ClaimView {
    pub id: i64,
    /// `origin` or `pay_to`.
    pub kind: String,
    /// `well_known`, `eip191` or `ed25519`.
    pub method: String,
    /// The origin or payTo address proven.
    pub subject: String,
    pub scope: String,
    pub proven_at: i64,
    /// Set when the claim lapsed or was revoked.
    pub ended_at: Option<i64>,
    pub end_reason: Option<String>,
}

impl From<crate::db::claims::Claim> for ClaimView {
    fn from(claim: crate::db::claims::Claim) -> ClaimView {
        ClaimView {
            id: claim.id,
            kind: claim.kind,
            method: claim.method,
            subject: claim.subject,
            scope: claim.scope,
            proven_at: claim.proven_at,
            ended_at: claim.ended_at,
            end_reason: claim.end_reason,
        }
    }
}

/// What proving answers: the claim, the services it covers, and the owner token — shown this
/// once; Agora keeps only its hash.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProvenView {
    pub claim: ClaimView,
    pub services: Vec<i64>,
    pub owner_token: String,
}

impl From<Proven> for ProvenView {
    fn from(proven: Proven) -> ProvenView {
        ProvenView { claim: proven.claim.into(), services: proven.services, owner_token: proven.owner_token }
    }
}

/// Ask for a challenge.
///
/// Answers what to do to prove control of a registered service's origin (a file to serve) or of
/// the payTo address its offers pay (a Sign-In-With-X message to sign).
#[utoipa::path(post, path = "/api/v1/claims/challenges", tag = "owners",
    request_body(content = ChallengeBody, description = "What to prove"),
    responses(
        (status = 201, description = "The challenge", body = ChallengeView),
    ))]
pub async fn challenge(
    State(state): State<AppState>,
    body: Result<Json<ChallengeBody>, JsonRejection>,
) -> Result<Response, Problem> {
    let Json(body) = body.map_err(body_problem)?;
    let request = match body.method.as_str() {
        "well_known" => ClaimRequest::WellKnown { url: body.url },
        "siwx" => ClaimRequest::Siwx {
            url: body.url,
            pay_to: body.pay_to.ok_or_else(|| Problem::invalid_param("pay_to", "required with `siwx`"))?,
            whole_origin: match body.scope.as_deref() {
                None | Some("service") => false,
                Some("origin") => true,
                Some(_) => return Err(Problem::invalid_param("scope", "expected `service` or `origin`")),
            },
            chain_id: body.chain_id,
        },
        _ => return Err(Problem::invalid_param("method", "expected `well_known` or `siwx`")),
    };
    let issued = state.catalog.challenge(&request).await?;
    Ok((StatusCode::CREATED, Json(ChallengeView::from(issued))).into_response())
}

/// Prove a claim.
///
/// Checks the proof (the file on the origin, or the signature) and answers the owner token,
/// once. Every refusal names what was wrong: `unknown_nonce`, `nonce_used`, `expired`,
/// `wrong_domain`, `wrong_address`, `message_altered`, `bad_signature`, `proof_unreachable`,
/// `proof_mismatch`, `pay_to_not_paid`.
#[utoipa::path(post, path = "/api/v1/claims", tag = "owners",
    request_body(content = ProofBody, description = "The proof"),
    responses(
        (status = 201, description = "Proven: the claim and its owner token", body = ProvenView),
    ))]
pub async fn prove(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<ProofBody>, JsonRejection>,
) -> Result<Response, Problem> {
    let from_header = headers.get(SIWX_HEADER).map(|value| decode_header(value.as_bytes())).transpose()?;
    let body = match (body, &from_header) {
        (Ok(Json(body)), _) => body,
        // The header alone is a whole proof.
        (Err(_), Some(_)) => ProofBody::default(),
        (Err(rejection), None) => return Err(body_problem(rejection)),
    };
    let proof = match (body.nonce, body.siwx.or(from_header)) {
        (Some(nonce), None) => ClaimProof::WellKnown { nonce },
        (None, Some(payload)) => ClaimProof::Siwx(Box::new(payload)),
        _ => {
            return Err(Problem::invalid_param(
                "siwx",
                "send either `nonce` (a well-known challenge) or a signed `siwx` payload",
            ));
        }
    };
    let proven = state.catalog.prove(&proof).await?;
    Ok((StatusCode::CREATED, Json(ProvenView::from(proven))).into_response())
}

/// The `SIGN-IN-WITH-X` header: base64 (standard or URL-safe) of the payload's JSON.
fn decode_header(value: &[u8]) -> Result<SiwxPayload, Problem> {
    let bad = |detail: &str| Problem::invalid_param(SIWX_HEADER, detail);
    let engines = [base64::engine::general_purpose::STANDARD, base64::engine::general_purpose::URL_SAFE];
    let json =
        engines.iter().find_map(|engine| engine.decode(value.trim_ascii()).ok()).ok_or_else(|| bad("not base64"))?;
    serde_json::from_slice(&json).map_err(|e| bad(&format!("not a SIWX payload: {e}")))
}
