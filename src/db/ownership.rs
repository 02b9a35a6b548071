//! The writes of ownership and moderation, as one writer operation (`Writer::ownership`): each
//! answers an id (the claim, service or block written; 0 when there was nothing to do — a nonce
//! already used, a block already lifted).

use super::StoreError;
use super::backend::Conn;
use super::claims::{self, Challenge, NewClaim};
use super::moderation::{self, Pins};

/// One write about claims, listings or blocks.
#[derive(Debug, Clone)]
pub enum OwnershipWrite {
    Challenge(Challenge),
    /// Use the challenge `nonce` and store the claim covering `services`.
    Prove {
        nonce: String,
        claim: NewClaim,
        services: Vec<i64>,
        now: i64,
    },
    Rotate {
        claim: i64,
        token_hash: String,
        now: i64,
    },
    /// End a claim: `revoked` by its owner.
    Revoke {
        claim: i64,
        now: i64,
    },
    /// Owner delisting (`delist`) or relisting.
    OwnerListing {
        service: i64,
        delist: bool,
        actor: String,
        now: i64,
    },
    /// Pin display metadata, keeping the pinned icon (fetched and checked like a seller's).
    Pin {
        service: i64,
        pins: Pins,
        icon: Option<agora_crawler::icon::Icon>,
        actor: String,
        now: i64,
    },
    /// Hide with a public reason, or show (`reason: None`).
    Hide {
        service: i64,
        reason: Option<String>,
        actor: String,
        now: i64,
    },
    Block {
        kind: String,
        value: String,
        reason: String,
        actor: String,
        now: i64,
    },
    Unblock {
        block: i64,
        actor: String,
        now: i64,
    },
    /// An action that changes nothing stored but belongs in the audit log (a re-probe asked for).
    Audit {
        actor: String,
        action: String,
        service: Option<i64>,
        target: Option<String>,
        now: i64,
    },
}

impl OwnershipWrite {
    /// Whether it changes what a service shows (answer caches must forget it).
    pub fn touches_services(&self) -> bool {
        !matches!(self, OwnershipWrite::Challenge(_) | OwnershipWrite::Rotate { .. } | OwnershipWrite::Audit { .. })
    }
}

pub(super) async fn apply(conn: &mut Conn<'_>, write: &OwnershipWrite) -> Result<i64, StoreError> {
    match write {
        OwnershipWrite::Challenge(challenge) => claims::apply_challenge(conn, challenge).await,
        OwnershipWrite::Prove { nonce, claim, services, now } => {
            claims::apply_prove(conn, nonce, claim, services, *now).await
        }
        OwnershipWrite::Rotate { claim, token_hash, now } => claims::apply_rotate(conn, *claim, token_hash, *now).await,
        OwnershipWrite::Revoke { claim, now } => claims::apply_revoke(conn, *claim, *now).await,
        OwnershipWrite::OwnerListing { service, delist, actor, now } => {
            moderation::apply_owner_listing(conn, *service, *delist, actor, *now).await
        }
        OwnershipWrite::Pin { service, pins, icon, actor, now } => {
            if let Some(icon) = icon {
                super::icons::keep(conn, icon, *now).await?;
            }
            moderation::apply_pins(conn, *service, pins, actor, *now).await
        }
        OwnershipWrite::Hide { service, reason, actor, now } => {
            moderation::apply_hide(conn, *service, reason.as_deref(), actor, *now).await
        }
        OwnershipWrite::Block { kind, value, reason, actor, now } => {
            moderation::apply_block(conn, kind, value, reason, actor, *now).await
        }
        OwnershipWrite::Unblock { block, actor, now } => moderation::apply_unblock(conn, *block, actor, *now).await,
        OwnershipWrite::Audit { actor, action, service, target, now } => {
            moderation::audit(conn, *now, actor, action, *service, target.as_deref(), None).await?;
            Ok(0)
        }
    }
}
