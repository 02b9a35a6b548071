//! Claiming services (docs/OWNERSHIP.md): Agora issues a challenge — a file to serve on the
//! origin, or a Sign-In-With-X message for the payTo address to sign — and, when the proof comes
//! back, checks it the way it checks a 402 challenge: every refusal names what was wrong. A proof
//! is single use, expires, and is bound to Agora's domain, the nonce, the address and the scope.
//! A proven claim answers an owner token, shown once.

use super::{Catalog, CatalogError};
use crate::db::claims::{self, Challenge, NewClaim};
use crate::db::ownership::OwnershipWrite;
use crate::ownership::siwx::{self, Family, SiwxPayload};
use crate::ownership::token;
use agora_crawler::target::canonicalize_url;
use serde::{Deserialize, Serialize};
use url::Url;

/// How long a well-known challenge stays open (time to deploy a file).
pub const WELL_KNOWN_TTL_MS: i64 = 60 * 60 * 1000;
/// How long a SIWX challenge stays open (time to sign).
pub const SIWX_TTL_MS: i64 = 10 * 60 * 1000;
/// The path prefix of well-known proof files (RFC 8615).
pub const WELL_KNOWN_PREFIX: &str = "/.well-known/agora-verification/";

/// What a seller asks to prove.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimRequest {
    /// Control of the origin of `url`, by serving a file there.
    WellKnown { url: String },
    /// Control of `pay_to`, by signing; covers the services at `url` (or its whole origin) that
    /// pay it.
    Siwx { url: String, pay_to: String, whole_origin: bool, chain_id: Option<String> },
}

/// The SIWX message fields Agora issues (x402's `sign-in-with-x` extension info, camelCase):
/// what `createSIWxPayload` of the official SDK takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SiwxInfo {
    pub domain: String,
    pub uri: String,
    pub statement: String,
    pub version: String,
    pub chain_id: String,
    #[serde(rename = "type")]
    pub signature_type: String,
    pub nonce: String,
    pub issued_at: String,
    pub expiration_time: String,
    pub resources: Vec<String>,
}

/// A challenge issued: what to do to prove it.
#[derive(Debug, Clone)]
pub struct IssuedChallenge {
    pub challenge: Challenge,
    /// For `well_known`: where to serve the file.
    pub well_known_url: Option<String>,
    /// For `siwx`: the message fields to sign.
    pub siwx: Option<SiwxInfo>,
    /// For `siwx`: the message text itself (EIP-4361 or SIWS), for signing by hand.
    pub message: Option<String>,
}

/// The proof that comes back.
#[derive(Debug, Clone)]
pub enum ClaimProof {
    /// "The file is there now."
    WellKnown {
        nonce: String,
    },
    Siwx(Box<SiwxPayload>),
}

/// A proven claim.
#[derive(Debug, Clone)]
pub struct Proven {
    pub claim: claims::Claim,
    /// Shown once, never again.
    pub owner_token: String,
    pub services: Vec<i64>,
}

fn refuse(code: &'static str, detail: impl Into<String>) -> CatalogError {
    CatalogError::ClaimRefused { code, detail: detail.into() }
}

impl Catalog {
    /// Issues a challenge for `request`.
    pub async fn challenge(&self, request: &ClaimRequest) -> Result<IssuedChallenge, CatalogError> {
        let now = self.now_ms();
        let nonce = token::nonce();
        let pool = self.store.read();
        let issued = match request {
            ClaimRequest::WellKnown { url } => {
                let origin = origin_of(url)?;
                self.require_registered(&origin).await?;
                let challenge = Challenge {
                    nonce: nonce.clone(),
                    method: "well_known".into(),
                    subject: origin.clone(),
                    scope: origin.clone(),
                    proof: Some(format!("agora-verification={}", token::nonce())),
                    info: None,
                    issued_at: now,
                    expires_at: now + WELL_KNOWN_TTL_MS,
                    used_at: None,
                };
                IssuedChallenge {
                    well_known_url: Some(format!("{origin}{WELL_KNOWN_PREFIX}{nonce}")),
                    challenge,
                    siwx: None,
                    message: None,
                }
            }
            ClaimRequest::Siwx { url, pay_to, whole_origin, chain_id } => {
                let scope = if *whole_origin { origin_of(url)? } else { service_url(url)? };
                self.require_registered(&scope).await?;
                let family = siwx::family_of_address(pay_to.trim()).ok_or_else(|| {
                    CatalogError::Param(crate::params::ParamError::new(
                        "pay_to",
                        "expected an EVM (0x + 40 hex) or Solana (base58) address",
                    ))
                })?;
                let subject = siwx::address_key(family, pay_to.trim()).unwrap_or_default();
                let networks = claims::networks_paying(pool, &scope, &subject).await?;
                if networks.is_empty() {
                    return Err(refuse(
                        "pay_to_not_paid",
                        format!("No registered service under {scope} pays {pay_to} (as last probed)."),
                    ));
                }
                let chain_id = match chain_id {
                    Some(chain) if siwx::family_of(chain).ok() == Some(family) => chain.clone(),
                    Some(chain) => {
                        return Err(CatalogError::Param(crate::params::ParamError::new(
                            "chain_id",
                            format!("{chain} is not a chain of {pay_to}"),
                        )));
                    }
                    None => networks
                        .iter()
                        .find(|n| siwx::family_of(n).ok() == Some(family))
                        .cloned()
                        .unwrap_or_else(|| default_chain(family).to_string()),
                };
                let info = SiwxInfo {
                    domain: self.ownership.domain(),
                    uri: self.ownership.claims_uri(),
                    statement: format!("Prove to Agora that I control {pay_to}, paid by {scope}."),
                    version: "1".into(),
                    signature_type: match family {
                        Family::Evm => "eip191",
                        Family::Solana => "ed25519",
                    }
                    .into(),
                    chain_id,
                    nonce: nonce.clone(),
                    issued_at: iso8601(now),
                    expiration_time: iso8601(now + SIWX_TTL_MS),
                    resources: vec![scope.clone()],
                };
                let message = payload_of(&info, pay_to.trim(), String::new()).message().ok();
                let challenge = Challenge {
                    nonce: nonce.clone(),
                    method: "siwx".into(),
                    subject,
                    scope,
                    proof: None,
                    info: Some(serde_json::to_string(&info).map_err(crate::db::StoreError::from)?),
                    issued_at: now,
                    expires_at: now + SIWX_TTL_MS,
                    used_at: None,
                };
                IssuedChallenge { challenge, well_known_url: None, siwx: Some(info), message }
            }
        };
        self.store.writer().ownership(OwnershipWrite::Challenge(issued.challenge.clone())).await?;
        Ok(issued)
    }

    /// Checks `proof` and, when it holds, stores the claim and answers its owner token.
    pub async fn prove(&self, proof: &ClaimProof) -> Result<Proven, CatalogError> {
        let nonce = match proof {
            ClaimProof::WellKnown { nonce } => nonce.as_str(),
            ClaimProof::Siwx(payload) => payload.nonce.as_str(),
        };
        let challenge = self.open_challenge(nonce).await?;
        let (new, services) = match proof {
            ClaimProof::WellKnown { .. } => self.check_well_known(&challenge).await?,
            ClaimProof::Siwx(payload) => self.check_siwx(&challenge, payload).await?,
        };
        let (secret, token_hash) = token::owner_secret();
        let now = self.now_ms();
        let new = NewClaim { token_hash, ..new };
        let id = self
            .store
            .writer()
            .ownership(OwnershipWrite::Prove { nonce: nonce.to_string(), claim: new, services: services.clone(), now })
            .await?;
        if id == 0 {
            return Err(refuse("nonce_used", "This challenge was already used; ask for a new one."));
        }
        // Verified at once in search, like every owner and operator change.
        self.index.flush().await?;
        let claim = claims::claim(self.store.read(), id).await?.ok_or(CatalogError::Failed("claim lost".into()))?;
        Ok(Proven { claim, owner_token: token::owner_token(id, &secret), services })
    }

    /// Proves SIWX challenge `nonce` with a signature made by hand over its message text (the
    /// web form, the CLI): the payload is the one Agora issued, with `address` and `signature`.
    pub async fn prove_signed(&self, nonce: &str, address: &str, signature: &str) -> Result<Proven, CatalogError> {
        let challenge = self.open_challenge(nonce).await?;
        let info: SiwxInfo =
            challenge.info.as_deref().and_then(|info| serde_json::from_str(info).ok()).ok_or_else(|| {
                refuse("wrong_method", "This challenge asks for a file on the origin, not a signature.")
            })?;
        let payload = payload_of(&info, address.trim(), signature.trim().to_string());
        self.prove(&ClaimProof::Siwx(Box::new(payload))).await
    }

    /// The challenge `nonce` if it can still be proven.
    async fn open_challenge(&self, nonce: &str) -> Result<Challenge, CatalogError> {
        let challenge = claims::challenge(self.store.read(), nonce)
            .await?
            .ok_or_else(|| refuse("unknown_nonce", "Agora issued no challenge with this nonce."))?;
        if challenge.used_at.is_some() {
            return Err(refuse("nonce_used", "This challenge was already used; ask for a new one."));
        }
        if self.now_ms() > challenge.expires_at {
            return Err(refuse("expired", "This challenge expired; ask for a new one."));
        }
        Ok(challenge)
    }

    async fn check_well_known(&self, challenge: &Challenge) -> Result<(NewClaim, Vec<i64>), CatalogError> {
        if challenge.method != "well_known" {
            return Err(refuse("wrong_method", "This challenge asks for a signature, not a file."));
        }
        let url = format!("{}{WELL_KNOWN_PREFIX}{}", challenge.scope, challenge.nonce);
        let url = Url::parse(&url).map_err(|_| refuse("proof_unreachable", format!("{url} is not a URL.")))?;
        let body = match self.jobs.worker().fetch_proof(&url).await? {
            Ok(body) => body,
            Err(finding) => {
                return Err(refuse("proof_unreachable", format!("{url} could not be read: {}", finding.message)));
            }
        };
        let expected = challenge.proof.as_deref().unwrap_or_default();
        if String::from_utf8_lossy(&body).trim() != expected {
            return Err(refuse("proof_mismatch", format!("{url} does not contain the expected text ({expected}).")));
        }
        // Every service of the origin (an origin import holds at most `sources::MAX_ENTRIES`).
        let services = claims::in_scope(self.store.read(), &challenge.scope, i64::MAX).await?;
        let claim = NewClaim {
            kind: "origin",
            method: "well_known",
            subject: challenge.subject.clone(),
            scope: challenge.scope.clone(),
            token_hash: String::new(),
        };
        Ok((claim, services))
    }

    async fn check_siwx(
        &self,
        challenge: &Challenge,
        payload: &SiwxPayload,
    ) -> Result<(NewClaim, Vec<i64>), CatalogError> {
        if challenge.method != "siwx" {
            return Err(refuse("wrong_method", "This challenge asks for a file on the origin, not a signature."));
        }
        let issued: SiwxInfo = challenge
            .info
            .as_deref()
            .and_then(|info| serde_json::from_str(info).ok())
            .ok_or_else(|| CatalogError::Failed("challenge without its message".into()))?;
        if payload.domain != issued.domain {
            return Err(refuse(
                "wrong_domain",
                format!("The message is for {:?}; proofs for Agora must name {:?}.", payload.domain, issued.domain),
            ));
        }
        let family = payload.family().map_err(|e| refuse("unsupported_chain", e.to_string()))?;
        let address = siwx::address_key(family, &payload.address)
            .ok_or_else(|| refuse("wrong_address", format!("{:?} is not an address.", payload.address)))?;
        if address != challenge.subject {
            return Err(refuse(
                "wrong_address",
                format!("The challenge is for {}, the message names {}.", challenge.subject, payload.address),
            ));
        }
        let mismatch = [
            ("uri", payload.uri == issued.uri),
            ("chainId", payload.chain_id == issued.chain_id),
            ("version", payload.version == issued.version),
            ("issuedAt", payload.issued_at == issued.issued_at),
            ("expirationTime", payload.expiration_time.as_deref() == Some(issued.expiration_time.as_str())),
            ("resources", payload.resources.as_deref() == Some(issued.resources.as_slice())),
            ("statement", payload.statement.as_deref() == Some(issued.statement.as_str())),
            ("notBefore", payload.not_before.is_none()),
            ("requestId", payload.request_id.is_none()),
        ];
        if let Some((field, _)) = mismatch.iter().find(|(_, same)| !same) {
            return Err(refuse(
                "message_altered",
                format!("The message's {field} is not the one Agora issued with this nonce."),
            ));
        }
        payload.verify_signature().map_err(|error| refuse("bad_signature", error.to_string()))?;
        let services = claims::paying_in_scope(self.store.read(), &challenge.scope, &challenge.subject).await?;
        if services.is_empty() {
            return Err(refuse(
                "pay_to_not_paid",
                format!("No service under {} pays {} any more.", challenge.scope, payload.address),
            ));
        }
        let claim = NewClaim {
            kind: "pay_to",
            method: match family {
                Family::Evm => "eip191",
                Family::Solana => "ed25519",
            },
            subject: challenge.subject.clone(),
            scope: challenge.scope.clone(),
            token_hash: String::new(),
        };
        Ok((claim, services))
    }

    async fn require_registered(&self, scope: &str) -> Result<(), CatalogError> {
        if claims::in_scope(self.store.read(), scope, 1).await?.is_empty() {
            return Err(refuse(
                "not_registered",
                format!("No service under {scope} is registered; register it first."),
            ));
        }
        Ok(())
    }
}

/// The SIWX payload `address` would send for `info` with `signature`.
pub fn payload_of(info: &SiwxInfo, address: &str, signature: String) -> SiwxPayload {
    SiwxPayload {
        domain: info.domain.clone(),
        address: address.to_string(),
        statement: Some(info.statement.clone()),
        uri: info.uri.clone(),
        version: info.version.clone(),
        chain_id: info.chain_id.clone(),
        signature_type: Some(info.signature_type.clone()),
        nonce: info.nonce.clone(),
        issued_at: info.issued_at.clone(),
        expiration_time: Some(info.expiration_time.clone()),
        not_before: None,
        request_id: None,
        resources: Some(info.resources.clone()),
        signature_scheme: None,
        signature,
    }
}

fn default_chain(family: Family) -> &'static str {
    match family {
        Family::Evm => "eip155:8453",
        Family::Solana => "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp",
    }
}

/// The origin (`https://host[:port]`) of a URL a seller gave.
pub fn origin_of(url: &str) -> Result<String, CatalogError> {
    let url =
        canonicalize_url(url).map_err(|f| CatalogError::Param(crate::params::ParamError::new("url", f.message)))?;
    Ok(url.origin().ascii_serialization())
}

/// A service URL in the catalog's canonical form.
fn service_url(url: &str) -> Result<String, CatalogError> {
    let url =
        canonicalize_url(url).map_err(|f| CatalogError::Param(crate::params::ParamError::new("url", f.message)))?;
    Ok(url.to_string())
}

/// Epoch ms as ISO 8601 with milliseconds and `Z` (JavaScript's `toISOString`).
fn iso8601(ms: i64) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.millisecond()
    )
}

#[cfg(test)]
mod tests {
    use super::iso8601;

    #[test]
    fn times_read_like_javascript_iso_strings() {
        assert_eq!(iso8601(1_796_320_800_123), "2026-12-03T18:00:00.123Z");
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
    }
}
