//! What a proven owner can do (docs/OWNERSHIP.md), each action checked against the owner token
//! and the services its claim covers, and written to the audit log: re-probe now (at a shorter
//! interval than anonymous recrawls), delist and relist, pin display metadata, rotate or revoke
//! the token, and see every probe, problem and price change of their services.

use super::register::ServiceState;
use super::{Catalog, CatalogError};
use crate::db::claims::{self, Claim};
use crate::db::history::{self, OfferChange, StatusChange};
use crate::db::moderation::Pins;
use crate::db::ownership::OwnershipWrite;
use crate::db::probes::{self, ProbeRow};
use crate::db::services::{self, DueService, ServiceRow};
use crate::jobs::Lane;
use crate::ownership::token;
use agora_crawler::target::canonicalize_url;

/// Shortest time between a service's last probe and one its owner asks for (anonymous
/// recrawls: `recrawl::RECRAWL_INTERVAL_MS`).
pub const OWNER_RECRAWL_INTERVAL_MS: i64 = 10_000;

/// Probes the owner page shows per service.
const OWNER_PROBES_SHOWN: i64 = 20;

/// Limits of pinned text (characters), as registrations' display fields.
const MAX_NAME: usize = 120;
const MAX_DESCRIPTION: usize = 2_000;
const MAX_TAGS: usize = 16;
const MAX_TAG: usize = 40;
const MAX_CATEGORY: usize = 60;

/// An owner, authenticated.
#[derive(Debug, Clone)]
pub struct Owner {
    pub claim: Claim,
}

impl Owner {
    /// How the audit log names this owner.
    pub fn actor(&self) -> String {
        format!("owner:{}", self.claim.id)
    }
}

/// One of an owner's services with its recent history (the owner page).
#[derive(Debug, Clone)]
pub struct OwnedService {
    /// The service (its pins in `state.service.pinned`), offers and latest report.
    pub state: ServiceState,
    /// The latest probes, newest first.
    pub probes: Vec<ProbeRow>,
    pub status_changes: Vec<StatusChange>,
    pub offer_changes: Vec<OfferChange>,
}

impl Catalog {
    /// The owner `presented` (a bearer token) is, or why not.
    pub async fn owner(&self, presented: &str) -> Result<Owner, CatalogError> {
        let unauthorized = || CatalogError::Unauthorized("The owner token is not valid.");
        let (id, secret) = token::parse_owner_token(presented.trim()).ok_or_else(unauthorized)?;
        let claim = claims::claim(self.store.read(), id).await?.ok_or_else(unauthorized)?;
        if !token::secret_matches(secret, &claim.token_hash) {
            return Err(unauthorized());
        }
        if claim.ended_at.is_some() {
            return Err(CatalogError::Unauthorized(match claim.end_reason.as_deref() {
                Some("lapsed") => "This claim lapsed: none of its services pays the proven address any more.",
                _ => "This claim was revoked.",
            }));
        }
        Ok(Owner { claim })
    }

    /// The services `owner` covers, with their recent history.
    pub async fn owned(&self, owner: &Owner) -> Result<Vec<OwnedService>, CatalogError> {
        let pool = self.store.read();
        let mut out = Vec::new();
        for id in claims::covered(pool, owner.claim.id).await? {
            let Some(service) = services::get(pool, id).await? else { continue };
            out.push(OwnedService {
                probes: probes::recent(pool, id, OWNER_PROBES_SHOWN).await?,
                status_changes: history::status_changes(pool, id).await?,
                offer_changes: history::offer_changes(pool, id).await?,
                state: ServiceState {
                    offers: services::offers(pool, id).await?,
                    report: services::latest_report(pool, id).await?,
                    service,
                },
            });
        }
        Ok(out)
    }

    /// Service `id` if `owner` covers it.
    async fn owned_service(&self, owner: &Owner, id: i64) -> Result<ServiceRow, CatalogError> {
        let pool = self.store.read();
        let service = services::get(pool, id).await?.ok_or(CatalogError::NoSuchService(id))?;
        if !claims::covers(pool, owner.claim.id, id).await? {
            return Err(CatalogError::Forbidden(format!("This owner token does not cover service {id}.")));
        }
        Ok(service)
    }

    /// Probes an owned service now.
    pub async fn owner_recrawl(&self, owner: &Owner, id: i64) -> Result<ServiceState, CatalogError> {
        let service = self.owned_service(owner, id).await?;
        self.recrawls
            .claim_within(id, service.last_probed_at, self.now_ms(), OWNER_RECRAWL_INTERVAL_MS)
            .map_err(|since_ms| CatalogError::TooSoon { since_ms, interval_ms: OWNER_RECRAWL_INTERVAL_MS })?;
        self.audit(&owner.actor(), "probe_requested", Some(id)).await?;
        let probed = self.jobs.probe_now(DueService::from(&service)).await?;
        let service = services::get(self.store.read(), id).await?.ok_or(CatalogError::NoSuchService(id))?;
        self.state_after_probe(service, &probed.report).await
    }

    /// Delists (or relists) an owned service: it leaves (or rejoins) search, the Bazaar
    /// endpoints and the feeds at once.
    pub async fn owner_listing(&self, owner: &Owner, id: i64, delist: bool) -> Result<ServiceRow, CatalogError> {
        self.owned_service(owner, id).await?;
        let now = self.now_ms();
        let write = OwnershipWrite::OwnerListing { service: id, delist, actor: owner.actor(), now };
        self.store.writer().ownership(write).await?;
        self.index.flush().await?;
        services::get(self.store.read(), id).await?.ok_or(CatalogError::NoSuchService(id))
    }

    /// Pins display metadata on an owned service (every field; `None` shows the challenge's own).
    pub async fn owner_pin(&self, owner: &Owner, id: i64, pins: Pins) -> Result<Pins, CatalogError> {
        self.owned_service(owner, id).await?;
        let mut pins = checked_pins(pins)?;
        let icon = match &pins.icon_url {
            None => None,
            Some(url) => match self.jobs.worker().fetch_icon(url, Lane::Priority).await? {
                Ok(icon) => Some(icon),
                Err(finding) => {
                    return Err(CatalogError::Param(crate::params::ParamError::new(
                        "icon_url",
                        format!("the icon could not be kept: {}", finding.message),
                    )));
                }
            },
        };
        pins.icon_hash = icon.as_ref().map(|i| i.hash.clone());
        let now = self.now_ms();
        let write = OwnershipWrite::Pin { service: id, pins: pins.clone(), icon, actor: owner.actor(), now };
        self.store.writer().ownership(write).await?;
        self.index.flush().await?;
        Ok(pins)
    }

    /// A new owner token for the same claim; the old one stops working.
    pub async fn rotate_owner_token(&self, owner: &Owner) -> Result<String, CatalogError> {
        let (secret, token_hash) = token::owner_secret();
        let write = OwnershipWrite::Rotate { claim: owner.claim.id, token_hash, now: self.now_ms() };
        self.store.writer().ownership(write).await?;
        Ok(token::owner_token(owner.claim.id, &secret))
    }

    /// Ends the claim: its services are no longer verified by it and the token stops working.
    pub async fn revoke_claim(&self, owner: &Owner) -> Result<(), CatalogError> {
        let write = OwnershipWrite::Revoke { claim: owner.claim.id, now: self.now_ms() };
        self.store.writer().ownership(write).await?;
        self.index.flush().await?;
        Ok(())
    }

    /// Records an action in the audit log.
    pub(super) async fn audit(&self, actor: &str, action: &str, service: Option<i64>) -> Result<(), CatalogError> {
        let write = OwnershipWrite::Audit {
            actor: actor.to_string(),
            action: action.to_string(),
            service,
            target: None,
            now: self.now_ms(),
        };
        self.store.writer().ownership(write).await?;
        Ok(())
    }
}

/// Pins within their limits: trimmed, empty text as unset, URLs http(s).
fn checked_pins(pins: Pins) -> Result<Pins, CatalogError> {
    let bad = |param: &str, detail: String| CatalogError::Param(crate::params::ParamError::new(param, detail));
    let text = |param: &str, value: Option<String>, max: usize| -> Result<Option<String>, CatalogError> {
        let Some(value) = value.map(|v| v.trim().to_string()).filter(|v| !v.is_empty()) else { return Ok(None) };
        if value.chars().count() > max {
            return Err(bad(param, format!("at most {max} characters")));
        }
        if value.chars().any(|c| c.is_control() && c != '\n') {
            return Err(bad(param, "no control characters".into()));
        }
        Ok(Some(value))
    };
    let url = |param: &str, value: Option<String>| -> Result<Option<String>, CatalogError> {
        let Some(value) = value.map(|v| v.trim().to_string()).filter(|v| !v.is_empty()) else { return Ok(None) };
        canonicalize_url(&value).map(|u| Some(u.to_string())).map_err(|f| bad(param, f.message))
    };
    let tags = match pins.tags {
        None => None,
        Some(tags) => {
            if tags.len() > MAX_TAGS {
                return Err(bad("tags", format!("at most {MAX_TAGS} tags")));
            }
            let mut kept = Vec::new();
            for tag in tags {
                if let Some(tag) = text("tags", Some(tag), MAX_TAG)? {
                    kept.push(tag);
                }
            }
            Some(kept).filter(|t| !t.is_empty())
        }
    };
    Ok(Pins {
        name: text("name", pins.name, MAX_NAME)?,
        description: text("description", pins.description, MAX_DESCRIPTION)?,
        tags,
        category: text("category", pins.category, MAX_CATEGORY)?,
        docs_url: url("docs_url", pins.docs_url)?,
        icon_url: url("icon_url", pins.icon_url)?,
        icon_hash: None,
    })
}
