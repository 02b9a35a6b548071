//! What owners and operators change about a service besides its probes (docs/OWNERSHIP.md):
//! owner delisting and pinned metadata, operator hiding and blocks, and the audit log that records
//! every such action. Reads run on the read pool; writes (`apply_*`) inside the writer's
//! transaction, each bumping the service's `change_seq` so the search index follows at once.

use super::StoreError;
use super::backend::{AnyRow, Conn, Pool};
use crate::{on_conn, on_pool};
use sqlx::QueryBuilder;

/// Display metadata an owner pinned (`None`: the challenge's own value shows); also the body of
/// `POST /api/v1/owner/services/{id}/pins`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Pins {
    pub name: Option<String>,
    pub description: Option<String>,
    pub tags: Option<Vec<String>>,
    pub category: Option<String>,
    pub docs_url: Option<String>,
    /// Fetched and checked like a seller's icon; served from `/icons/{hash}`.
    pub icon_url: Option<String>,
    /// The pinned icon as kept (`/icons/{hash}`): Agora's, never taken from a request.
    #[serde(default, skip_deserializing)]
    pub icon_hash: Option<String>,
}

impl Pins {
    pub fn is_empty(&self) -> bool {
        self == &Pins::default()
    }
}

/// A block: what may not be registered, imported or listed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Block {
    pub id: i64,
    /// `host`, `origin` or `pay_to`.
    pub kind: String,
    pub value: String,
    /// Shown to whoever is refused.
    pub reason: String,
    pub created_at: i64,
}

/// One audit log entry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    pub at: i64,
    /// `owner:<claim id>`, `operator`, `operator:cli`, `probe` (a claim lapsed) or `block` (a block hid it).
    pub actor: String,
    pub action: String,
    pub service_id: Option<i64>,
    pub target: Option<String>,
    pub detail: Option<String>,
}

/// Appends an audit entry.
pub(super) async fn audit(
    conn: &mut Conn<'_>,
    at: i64,
    actor: &str,
    action: &str,
    service_id: Option<i64>,
    target: Option<&str>,
    detail: Option<&str>,
) -> Result<(), StoreError> {
    on_conn!(conn, |c| sqlx::query(
        "INSERT INTO audit_log (at, actor, action, service_id, target, detail) VALUES ($1, $2, $3, $4, $5, $6)"
    )
    .bind(at)
    .bind(actor)
    .bind(action)
    .bind(service_id)
    .bind(target)
    .bind(detail)
    .execute(c)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(())
}

/// Gives service `id` a new change sequence, so derived views (search) take it up again.
pub(super) async fn bump(conn: &mut Conn<'_>, id: i64) -> Result<(), StoreError> {
    on_conn!(conn, |c| sqlx::query(
        "UPDATE services SET change_seq = (SELECT COALESCE(MAX(change_seq), 0) + 1 FROM services) WHERE id = $1",
    )
    .bind(id)
    .execute(c)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(())
}

/// Owner delisting (`delisted`) or relisting: false if the service does not exist.
pub(super) async fn apply_owner_listing(
    conn: &mut Conn<'_>,
    id: i64,
    delist: bool,
    actor: &str,
    now: i64,
) -> Result<i64, StoreError> {
    let done = on_conn!(conn, |c| sqlx::query(
        "UPDATE services SET owner_delisted_at = CASE WHEN $2 THEN $3 END WHERE id = $1"
    )
    .bind(id)
    .bind(delist)
    .bind(now)
    .execute(c)
    .await
    .map(|done| done.rows_affected()))?;
    if done == 0 {
        return Err(StoreError::NoSuchService(id));
    }
    audit(conn, now, actor, if delist { "owner_delisted" } else { "owner_relisted" }, Some(id), None, None).await?;
    bump(conn, id).await?;
    Ok(id)
}

/// Stores (or, when empty, clears) the pins of service `id`.
pub(super) async fn apply_pins(
    conn: &mut Conn<'_>,
    id: i64,
    pins: &Pins,
    actor: &str,
    now: i64,
) -> Result<i64, StoreError> {
    let done = on_conn!(conn, |c| {
        sqlx::query(
        "UPDATE services SET pin_name = $2, pin_description = $3, pin_tags = $4, pin_category = $5, pin_docs_url = $6,
            pin_icon_url = $7, pin_icon_hash = $8, pinned_at = $9 WHERE id = $1",
    )
    .bind(id)
    .bind(&pins.name)
    .bind(&pins.description)
    .bind(pins.tags.as_ref().map(serde_json::to_string).transpose()?)
    .bind(&pins.category)
    .bind(&pins.docs_url)
    .bind(&pins.icon_url)
    .bind(&pins.icon_hash)
    .bind((!pins.is_empty()).then_some(now))
    .execute(c)
    .await.map(|done| done.rows_affected())
    })?;
    if done == 0 {
        return Err(StoreError::NoSuchService(id));
    }
    audit(conn, now, actor, "pinned", Some(id), None, Some(&serde_json::to_string(pins)?)).await?;
    bump(conn, id).await?;
    Ok(id)
}

/// Hides service `id` with a public `reason`, or (reason `None`) shows it again.
pub(super) async fn apply_hide(
    conn: &mut Conn<'_>,
    id: i64,
    reason: Option<&str>,
    actor: &str,
    now: i64,
) -> Result<i64, StoreError> {
    let done = on_conn!(conn, |c| sqlx::query(
        "UPDATE services SET hidden_at = CASE WHEN $2 IS NULL THEN NULL ELSE $3 END, hidden_reason = $2,
            hidden_by_block = NULL WHERE id = $1",
    )
    .bind(id)
    .bind(reason)
    .bind(now)
    .execute(c)
    .await
    .map(|done| done.rows_affected()))?;
    if done == 0 {
        return Err(StoreError::NoSuchService(id));
    }
    audit(conn, now, actor, if reason.is_some() { "hidden" } else { "unhidden" }, Some(id), None, reason).await?;
    bump(conn, id).await?;
    Ok(id)
}

/// SQL: services (`s`) a block (`b`) matches by host or origin.
const BLOCK_MATCHES_SERVICE: &str = "((b.kind = 'host' AND s.host = b.value)
    OR (b.kind = 'origin' AND (s.url = b.value OR substr(s.url, 1, length(b.value) + 1) = b.value || '/'))
    OR (b.kind = 'pay_to' AND EXISTS (SELECT 1 FROM offers o WHERE o.service_id = s.id
        AND (CASE WHEN o.pay_to LIKE '0x%' THEN lower(o.pay_to) ELSE o.pay_to END) = b.value)))";

/// Stores a block and hides what it matches: the block's id.
pub(super) async fn apply_block(
    conn: &mut Conn<'_>,
    kind: &str,
    value: &str,
    reason: &str,
    actor: &str,
    now: i64,
) -> Result<i64, StoreError> {
    let id: i64 = on_conn!(conn, |c| sqlx::query_scalar(
        "INSERT INTO blocks (kind, value, reason, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (kind, value) DO UPDATE SET reason = excluded.reason RETURNING id",
    )
    .bind(kind)
    .bind(value)
    .bind(reason)
    .bind(now)
    .fetch_one(c)
    .await)?;
    audit(conn, now, actor, "blocked", None, Some(&format!("{kind} {value}")), Some(reason)).await?;
    hide_matching(conn, Some(id), None, now).await?;
    Ok(id)
}

/// Lifts block `id`, showing again what it alone hid: false if there was no such block.
pub(super) async fn apply_unblock(conn: &mut Conn<'_>, id: i64, actor: &str, now: i64) -> Result<i64, StoreError> {
    let Some((kind, value)): Option<(String, String)> =
        on_conn!(conn, |c| sqlx::query_as("DELETE FROM blocks WHERE id = $1 RETURNING kind, value")
            .bind(id)
            .fetch_optional(c)
            .await)?
    else {
        return Ok(0);
    };
    let shown: Vec<i64> = on_conn!(conn, |c| sqlx::query_scalar(
        "UPDATE services SET hidden_at = NULL, hidden_reason = NULL, hidden_by_block = NULL
         WHERE hidden_by_block = $1 RETURNING id",
    )
    .bind(id)
    .fetch_all(c)
    .await)?;
    for service in shown {
        bump(conn, service).await?;
    }
    audit(conn, now, actor, "unblocked", None, Some(&format!("{kind} {value}")), None).await?;
    // What another block still matches stays hidden.
    hide_matching(conn, None, None, now).await?;
    Ok(id)
}

/// Hides services that a block matches and nothing hides yet: block `block` (or every block),
/// among services `among` (or every service). Answers how many it hid.
pub(super) async fn hide_matching(
    conn: &mut Conn<'_>,
    block: Option<i64>,
    among: Option<&[i64]>,
    now: i64,
) -> Result<u64, StoreError> {
    // Called for every batch of probes: answer without a query when there is nothing to match.
    if among.is_some_and(<[i64]>::is_empty)
        || !on_conn!(conn, |c| sqlx::query_scalar::<_, bool>("SELECT EXISTS (SELECT 1 FROM blocks)")
            .fetch_one(c)
            .await)?
    {
        return Ok(0);
    }
    let matched: Vec<(i64, i64, String)> = on_conn!(conn, |c| {
        let mut builder = QueryBuilder::new(format!(
            "SELECT s.id, b.id, b.reason FROM services s JOIN blocks b ON {BLOCK_MATCHES_SERVICE} WHERE s.hidden_at IS NULL"
        ));
        if let Some(block) = block {
            builder.push(" AND b.id = ").push_bind(block);
        }
        if let Some(ids) = among {
            builder.push(" AND s.id IN ");
            super::in_list(&mut builder, ids);
        }
        builder.build_query_as().fetch_all(c).await
    })?;
    let mut hidden = 0;
    for (service, block, reason) in matched {
        let done = on_conn!(conn, |c| {
            sqlx::query(
            "UPDATE services SET hidden_at = $1, hidden_reason = $2, hidden_by_block = $3 WHERE id = $4 AND hidden_at IS NULL",
        )
        .bind(now)
        .bind(&reason)
        .bind(block)
        .bind(service)
        .execute(c)
        .await.map(|done| done.rows_affected())
        })?;
        if done == 1 {
            hidden += 1;
            audit(conn, now, "block", "hidden", Some(service), None, Some(&reason)).await?;
            bump(conn, service).await?;
        }
    }
    Ok(hidden)
}

/// The host and origin blocks, for checking many registrations against them.
#[derive(Debug, Clone, Default)]
pub struct RegistrationBlocks {
    blocks: Vec<Block>,
}

impl RegistrationBlocks {
    pub async fn load(pool: &Pool) -> Result<RegistrationBlocks, StoreError> {
        let mut blocks = blocks(pool).await?;
        blocks.retain(|b| b.kind != "pay_to");
        Ok(RegistrationBlocks { blocks })
    }

    /// The block refusing a service on `host` at `origin`, if any.
    pub fn refusing(&self, host: &str, origin: &str) -> Option<&Block> {
        self.blocks.iter().find(|b| (b.kind == "host" && b.value == host) || (b.kind == "origin" && b.value == origin))
    }
}

pub async fn blocks(pool: &Pool) -> Result<Vec<Block>, StoreError> {
    Ok(on_pool!(pool, |p| {
        let rows = sqlx::query("SELECT * FROM blocks ORDER BY id").fetch_all(p).await?;
        rows.iter().map(block_row).collect::<Result<_, sqlx::Error>>()
    })?)
}

fn block_row(row: &impl AnyRow) -> Result<Block, sqlx::Error> {
    Ok(Block {
        id: row.col("id")?,
        kind: row.col("kind")?,
        value: row.col("value")?,
        reason: row.col("reason")?,
        created_at: row.col("created_at")?,
    })
}

/// Audit entries, newest first, before entry `before` (exclusive; `None`: from the newest).
pub async fn audit_log(
    pool: &Pool,
    before: Option<i64>,
    service: Option<i64>,
    limit: i64,
) -> Result<Vec<AuditEntry>, StoreError> {
    on_pool!(pool, |p| {
        let rows = sqlx::query(
            "SELECT * FROM audit_log WHERE id < COALESCE($1, 9223372036854775807) AND ($2 IS NULL OR service_id = $2)
         ORDER BY id DESC LIMIT $3",
        )
        .bind(before)
        .bind(service)
        .bind(limit)
        .fetch_all(p)
        .await?;
        rows.iter().map(audit_entry).collect()
    })
}

fn audit_entry(row: &impl AnyRow) -> Result<AuditEntry, StoreError> {
    Ok(AuditEntry {
        id: row.col("id")?,
        at: row.col("at")?,
        actor: row.col("actor")?,
        action: row.col("action")?,
        service_id: row.col("service_id")?,
        target: row.col("target")?,
        detail: row.col("detail")?,
    })
}
