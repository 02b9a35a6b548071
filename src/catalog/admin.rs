//! What an operator can do (docs/OWNERSHIP.md): hide a service with a public reason, block a
//! host, origin or payTo from registration, import and listing, and read the audit log. Over HTTP
//! an operator is whoever presents the configured operator token (there is no default one: without
//! it the operator API answers 401); `agora admin` on the machine itself acts as `operator:cli`.
//! What is hidden or blocked leaves search, the Bazaar endpoints and the feeds at once.

use super::claims::origin_of;
use super::{Catalog, CatalogError};
use crate::db::moderation::{self, AuditEntry, Block};
use crate::db::ownership::OwnershipWrite;
use crate::db::services::{self, ServiceRow};
use crate::ownership::siwx;
use crate::params::ParamError;

/// Longest public reason.
const MAX_REASON: usize = 500;

/// An operator, authenticated.
#[derive(Debug, Clone)]
pub struct Operator {
    actor: &'static str,
}

impl Operator {
    /// The operator at the machine's shell (`agora admin`).
    pub fn cli() -> Operator {
        Operator { actor: "operator:cli" }
    }
}

/// What a block applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockKind {
    Host,
    Origin,
    PayTo,
}

impl BlockKind {
    pub fn parse(text: &str) -> Option<BlockKind> {
        match text {
            "host" => Some(BlockKind::Host),
            "origin" => Some(BlockKind::Origin),
            "pay_to" => Some(BlockKind::PayTo),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            BlockKind::Host => "host",
            BlockKind::Origin => "origin",
            BlockKind::PayTo => "pay_to",
        }
    }
}

impl Catalog {
    /// The operator `presented` (a bearer token) is, or why not.
    pub fn operator(&self, presented: &str) -> Result<Operator, CatalogError> {
        let Some(token) = &self.ownership.operator else {
            return Err(CatalogError::Unauthorized("The operator API is off: this catalog has no operator token."));
        };
        if !token.matches(presented.trim()) {
            return Err(CatalogError::Unauthorized("The operator token is not valid."));
        }
        Ok(Operator { actor: "operator" })
    }

    /// Hides service `id` with a public `reason` (or, `None`, shows it again).
    pub async fn hide(&self, operator: &Operator, id: i64, reason: Option<&str>) -> Result<ServiceRow, CatalogError> {
        let reason = reason.map(checked_reason).transpose()?;
        let write = OwnershipWrite::Hide { service: id, reason, actor: operator.actor.to_string(), now: self.now_ms() };
        self.store.writer().ownership(write).await?;
        self.index.flush().await?;
        services::get(self.store.read(), id).await?.ok_or(CatalogError::NoSuchService(id))
    }

    /// Blocks `value` (a host, an origin or a payTo address) with a public `reason`, hiding what
    /// it matches now; answers the block.
    pub async fn block(
        &self,
        operator: &Operator,
        kind: BlockKind,
        value: &str,
        reason: &str,
    ) -> Result<Block, CatalogError> {
        let value = normalized_block_value(kind, value)?;
        let reason = checked_reason(reason)?;
        let write = OwnershipWrite::Block {
            kind: kind.as_str().to_string(),
            value,
            reason,
            actor: operator.actor.to_string(),
            now: self.now_ms(),
        };
        let id = self.store.writer().ownership(write).await?;
        self.index.flush().await?;
        let blocks = moderation::blocks(self.store.read()).await?;
        blocks.into_iter().find(|b| b.id == id).ok_or(CatalogError::Failed("block lost".into()))
    }

    /// Lifts block `id`; false if there was none.
    pub async fn unblock(&self, operator: &Operator, id: i64) -> Result<bool, CatalogError> {
        let write = OwnershipWrite::Unblock { block: id, actor: operator.actor.to_string(), now: self.now_ms() };
        let lifted = self.store.writer().ownership(write).await? != 0;
        self.index.flush().await?;
        Ok(lifted)
    }

    pub async fn blocks(&self, _operator: &Operator) -> Result<Vec<Block>, CatalogError> {
        Ok(moderation::blocks(self.store.read()).await?)
    }

    /// The audit log, newest first, before entry `before`, optionally of one service.
    pub async fn audit_log(
        &self,
        _operator: &Operator,
        before: Option<i64>,
        service: Option<i64>,
        limit: i64,
    ) -> Result<Vec<AuditEntry>, CatalogError> {
        Ok(moderation::audit_log(self.store.read(), before, service, limit).await?)
    }
}

fn checked_reason(reason: &str) -> Result<String, CatalogError> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON || reason.chars().any(char::is_control) {
        return Err(ParamError::new("reason", format!("a public reason of 1 to {MAX_REASON} characters")).into());
    }
    Ok(reason.to_string())
}

/// A block's value as matched: host names lowercased, origins serialized, addresses as keys.
fn normalized_block_value(kind: BlockKind, value: &str) -> Result<String, CatalogError> {
    let value = value.trim();
    let bad = |detail: &str| CatalogError::Param(ParamError::new("value", detail));
    match kind {
        BlockKind::Host => {
            let host = value.trim_end_matches('.').to_ascii_lowercase();
            let ok = !host.is_empty()
                && host.len() <= 253
                && host.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
            ok.then_some(host).ok_or_else(|| bad("expected a host name such as `api.example.com`"))
        }
        BlockKind::Origin => origin_of(value).map_err(|_| bad("expected an origin such as `https://api.example.com`")),
        BlockKind::PayTo => siwx::family_of_address(value)
            .and_then(|family| siwx::address_key(family, value))
            .ok_or_else(|| bad("expected an EVM (0x + 40 hex) or Solana (base58) address")),
    }
}
