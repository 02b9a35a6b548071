//! Claims of control (docs/OWNERSHIP.md): the challenges Agora issued, the claims proven, and
//! which services each covers. Reads run on the read pool; writes (`apply_*`) inside the writer's
//! transaction. A claim's coverage is kept in `claim_services`, refreshed when a probe changes a
//! service's offers ([`recheck_pay_to`]) and when a service is registered on a claimed origin
//! ([`cover_new_services`]).

use super::StoreError;
use super::backend::{AnyRow, Conn, Db, Pool};
use super::moderation::{audit, bump};
use crate::{on_conn, on_pool};
use sqlx::QueryBuilder;

/// A challenge as issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub nonce: String,
    /// `well_known` or `siwx`.
    pub method: String,
    /// The origin (`well_known`) or the payTo address key (`siwx`).
    pub subject: String,
    /// The origin or service URL the claim is for.
    pub scope: String,
    pub proof: Option<String>,
    /// The SIWX message fields issued (JSON).
    pub info: Option<String>,
    pub issued_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

/// A proven claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub id: i64,
    /// `origin` or `pay_to`.
    pub kind: String,
    /// `well_known`, `eip191` or `ed25519`.
    pub method: String,
    pub subject: String,
    pub scope: String,
    pub token_hash: String,
    pub proven_at: i64,
    pub rotated_at: Option<i64>,
    pub ended_at: Option<i64>,
    /// `lapsed` or `revoked`.
    pub end_reason: Option<String>,
}

/// A claim to store once its proof checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewClaim {
    pub kind: &'static str,
    pub method: &'static str,
    pub subject: String,
    pub scope: String,
    pub token_hash: String,
}

/// What a service's page says was proven about it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Proof {
    /// `origin` (control of the origin) or `pay_to` (control of the address its offers pay).
    pub kind: String,
    /// `well_known`, `eip191` or `ed25519`.
    pub method: String,
    /// The origin or the payTo address proven.
    pub subject: String,
    /// When (epoch ms).
    pub proven_at: i64,
}

/// SQL: whether service row `s` is within scope column `scope` (the URL itself, or under the origin).
const IN_SCOPE: &str = "(s.url = c.scope OR substr(s.url, 1, length(c.scope) + 1) = c.scope || '/')";
/// SQL: the address key of offer `o`'s payTo (EVM folded to lowercase, as `siwx::address_key`).
const PAY_TO_KEY: &str = "(CASE WHEN o.pay_to LIKE '0x%' THEN lower(o.pay_to) ELSE o.pay_to END)";

fn challenge_row(row: &impl AnyRow) -> Result<Challenge, sqlx::Error> {
    Ok(Challenge {
        nonce: row.col("nonce")?,
        method: row.col("method")?,
        subject: row.col("subject")?,
        scope: row.col("scope")?,
        proof: row.col("proof")?,
        info: row.col("info")?,
        issued_at: row.col("issued_at")?,
        expires_at: row.col("expires_at")?,
        used_at: row.col("used_at")?,
    })
}

fn claim_row(row: &impl AnyRow) -> Result<Claim, sqlx::Error> {
    Ok(Claim {
        id: row.col("id")?,
        kind: row.col("kind")?,
        method: row.col("method")?,
        subject: row.col("subject")?,
        scope: row.col("scope")?,
        token_hash: row.col("token_hash")?,
        proven_at: row.col("proven_at")?,
        rotated_at: row.col("rotated_at")?,
        ended_at: row.col("ended_at")?,
        end_reason: row.col("end_reason")?,
    })
}

pub async fn challenge(pool: &Pool, nonce: &str) -> Result<Option<Challenge>, StoreError> {
    on_pool!(pool, |p| {
        let row = sqlx::query("SELECT * FROM claim_challenges WHERE nonce = $1").bind(nonce).fetch_optional(p).await?;
        Ok(row.as_ref().map(challenge_row).transpose()?)
    })
}

pub async fn claim(pool: &Pool, id: i64) -> Result<Option<Claim>, StoreError> {
    on_pool!(pool, |p| {
        let row = sqlx::query("SELECT * FROM claims WHERE id = $1").bind(id).fetch_optional(p).await?;
        Ok(row.as_ref().map(claim_row).transpose()?)
    })
}

/// Registered services within `scope` (an origin or one URL), at most `limit`.
pub async fn in_scope(pool: &Pool, scope: &str, limit: i64) -> Result<Vec<i64>, StoreError> {
    Ok(on_pool!(pool, |p| sqlx::query_scalar(
        // `scope/` .. `scope0` is exactly the URLs under `scope/` ('0' follows '/'), on the url index.
        "SELECT id FROM services WHERE url = $1 OR (url >= $1 || '/' AND url < $1 || '0') ORDER BY id LIMIT $2",
    )
    .bind(scope)
    .bind(limit)
    .fetch_all(p)
    .await)?)
}

/// Services within `scope` whose stored offers pay the address key `subject`.
pub async fn paying_in_scope(pool: &Pool, scope: &str, subject: &str) -> Result<Vec<i64>, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT DISTINCT s.id FROM services s JOIN offers o ON o.service_id = s.id, (SELECT $1 AS scope) c
         WHERE {IN_SCOPE} AND {PAY_TO_KEY} = $2 ORDER BY s.id"
    ));
    Ok(on_pool!(pool, |p| sqlx::query_scalar(sql).bind(scope).bind(subject).fetch_all(p).await)?)
}

/// The networks (CAIP-2) on which services in `scope` pay `subject`, most used first.
pub async fn networks_paying(pool: &Pool, scope: &str, subject: &str) -> Result<Vec<String>, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT o.network FROM services s JOIN offers o ON o.service_id = s.id, (SELECT $1 AS scope) c
         WHERE {IN_SCOPE} AND {PAY_TO_KEY} = $2 GROUP BY o.network ORDER BY COUNT(*) DESC, o.network"
    ));
    Ok(on_pool!(pool, |p| sqlx::query_scalar(sql).bind(scope).bind(subject).fetch_all(p).await)?)
}

/// The services claim `id` covers now.
pub async fn covered(pool: &Pool, id: i64) -> Result<Vec<i64>, StoreError> {
    Ok(on_pool!(pool, |p| sqlx::query_scalar(
        "SELECT service_id FROM claim_services WHERE claim_id = $1 ORDER BY service_id"
    )
    .bind(id)
    .fetch_all(p)
    .await)?)
}

/// Whether claim `id` covers service `service` now.
pub async fn covers(pool: &Pool, id: i64, service: i64) -> Result<bool, StoreError> {
    Ok(on_pool!(pool, |p| sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM claim_services WHERE claim_id = $1 AND service_id = $2)"
    )
    .bind(id)
    .bind(service)
    .fetch_one(p)
    .await)?)
}

/// What was proven about service `id`, by active claims.
pub async fn proofs_of(db: impl Into<Db<'_>>, id: i64) -> Result<Vec<Proof>, StoreError> {
    let mut held = db.into().hold().await?;
    on_conn!(&mut held.conn(), |c| {
        let rows = sqlx::query(
            "SELECT c.kind, c.method, c.subject, c.proven_at FROM claim_services cs JOIN claims c ON c.id = cs.claim_id
         WHERE cs.service_id = $1 AND c.ended_at IS NULL ORDER BY c.proven_at, c.id",
        )
        .bind(id)
        .fetch_all(c)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Proof {
                    kind: row.col("kind")?,
                    method: row.col("method")?,
                    subject: row.col("subject")?,
                    proven_at: row.col("proven_at")?,
                })
            })
            .collect()
    })
}

/// Of `ids`, the services some active claim covers.
pub async fn verified_among(pool: &Pool, ids: &[i64]) -> Result<Vec<i64>, StoreError> {
    Ok(on_pool!(pool, |p| {
        let mut builder = QueryBuilder::new("SELECT DISTINCT service_id FROM claim_services WHERE service_id IN ");
        super::in_list(&mut builder, ids);
        builder.build_query_scalar().fetch_all(p).await
    })?)
}

/// Stores a challenge, forgetting those expired a day ago.
pub(super) async fn apply_challenge(conn: &mut Conn<'_>, challenge: &Challenge) -> Result<i64, StoreError> {
    on_conn!(conn, |c| sqlx::query("DELETE FROM claim_challenges WHERE expires_at < $1")
        .bind(challenge.issued_at - 86_400_000)
        .execute(c)
        .await
        .map(|done| done.rows_affected()))?;
    on_conn!(conn, |c| sqlx::query(
        "INSERT INTO claim_challenges (nonce, method, subject, scope, proof, info, issued_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&challenge.nonce)
    .bind(&challenge.method)
    .bind(&challenge.subject)
    .bind(&challenge.scope)
    .bind(&challenge.proof)
    .bind(&challenge.info)
    .bind(challenge.issued_at)
    .bind(challenge.expires_at)
    .execute(c)
    .await
    .map(|done| done.rows_affected()))?;
    Ok(0)
}

/// Uses challenge `nonce` and stores `claim` covering `services`: the new claim's id, or 0 when
/// the nonce was used meanwhile (a replay racing the first use).
pub(super) async fn apply_prove(
    conn: &mut Conn<'_>,
    nonce: &str,
    claim: &NewClaim,
    services: &[i64],
    now: i64,
) -> Result<i64, StoreError> {
    let used = on_conn!(conn, |c| sqlx::query(
        "UPDATE claim_challenges SET used_at = $2 WHERE nonce = $1 AND used_at IS NULL"
    )
    .bind(nonce)
    .bind(now)
    .execute(c)
    .await
    .map(|done| done.rows_affected()))?;
    if used == 0 {
        return Ok(0);
    }
    let id: i64 = on_conn!(conn, |c| {
        sqlx::query_scalar(
        "INSERT INTO claims (kind, method, subject, scope, token_hash, proven_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(claim.kind)
    .bind(claim.method)
    .bind(&claim.subject)
    .bind(&claim.scope)
    .bind(&claim.token_hash)
    .bind(now)
    .fetch_one(c)
    .await
    })?;
    let actor = format!("owner:{id}");
    for service in services {
        on_conn!(conn, |c| sqlx::query(
            "INSERT INTO claim_services (claim_id, service_id, since) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
        )
        .bind(id)
        .bind(service)
        .bind(now)
        .execute(c)
        .await
        .map(|done| done.rows_affected()))?;
        audit(conn, now, &actor, "claimed", Some(*service), Some(&claim.subject), None).await?;
        bump(conn, *service).await?;
    }
    if services.is_empty() {
        audit(conn, now, &actor, "claimed", None, Some(&claim.subject), None).await?;
    }
    Ok(id)
}

/// Replaces claim `id`'s token hash.
pub(super) async fn apply_rotate(conn: &mut Conn<'_>, id: i64, hash: &str, now: i64) -> Result<i64, StoreError> {
    on_conn!(conn, |c| sqlx::query(
        "UPDATE claims SET token_hash = $1, rotated_at = $2 WHERE id = $3 AND ended_at IS NULL"
    )
    .bind(hash)
    .bind(now)
    .bind(id)
    .execute(c)
    .await
    .map(|done| done.rows_affected()))?;
    audit(conn, now, &format!("owner:{id}"), "token_rotated", None, None, None).await?;
    Ok(id)
}

/// Ends claim `id` at its owner's request: it covers nothing from now on. (A claim lapses in
/// [`recheck_pay_to`], service by service.)
pub(super) async fn apply_revoke(conn: &mut Conn<'_>, id: i64, now: i64) -> Result<i64, StoreError> {
    let services: Vec<i64> =
        on_conn!(conn, |c| sqlx::query_scalar("DELETE FROM claim_services WHERE claim_id = $1 RETURNING service_id")
            .bind(id)
            .fetch_all(c)
            .await)?;
    on_conn!(conn, |c| sqlx::query(
        "UPDATE claims SET ended_at = $1, end_reason = 'revoked' WHERE id = $2 AND ended_at IS NULL"
    )
    .bind(now)
    .bind(id)
    .execute(c)
    .await
    .map(|done| done.rows_affected()))?;
    for service in &services {
        bump(conn, *service).await?;
    }
    audit(conn, now, &format!("owner:{id}"), "claim_revoked", None, None, None).await?;
    Ok(id)
}

/// After a probe replaced the offers of `ids`: payTo claims whose address those offers no longer
/// pay stop covering them (the owner is told in the changes feed: `claim_lapsed`), a claim left
/// covering nothing lapses, and active payTo claims whose address they now pay cover them.
pub(super) async fn recheck_pay_to(conn: &mut Conn<'_>, ids: &[i64], now: i64) -> Result<(), StoreError> {
    if ids.is_empty() || !any_pay_to_claims(conn).await? {
        return Ok(());
    }
    let gone: Vec<(i64, i64, String)> = on_conn!(conn, |c| {
        let mut builder = QueryBuilder::new(format!(
            "SELECT cs.claim_id, cs.service_id, c.subject FROM claim_services cs JOIN claims c ON c.id = cs.claim_id
             WHERE c.kind = 'pay_to' AND NOT EXISTS (SELECT 1 FROM offers o WHERE o.service_id = cs.service_id
               AND {PAY_TO_KEY} = c.subject) AND cs.service_id IN "
        ));
        super::in_list(&mut builder, ids);
        builder.build_query_as().fetch_all(c).await
    })?;
    for (claim, service, subject) in &gone {
        on_conn!(conn, |c| sqlx::query("DELETE FROM claim_services WHERE claim_id = $1 AND service_id = $2")
            .bind(claim)
            .bind(service)
            .execute(c)
            .await
            .map(|done| done.rows_affected()))?;
        audit(conn, now, "probe", "claim_lapsed", Some(*service), Some(subject), Some(&format!("owner:{claim}")))
            .await?;
    }
    let mut claims: Vec<i64> = gone.iter().map(|g| g.0).collect();
    claims.sort_unstable();
    claims.dedup();
    for claim in claims {
        on_conn!(conn, |c| sqlx::query(
            "UPDATE claims SET ended_at = $1, end_reason = 'lapsed' WHERE id = $2 AND ended_at IS NULL
             AND NOT EXISTS (SELECT 1 FROM claim_services WHERE claim_id = claims.id)",
        )
        .bind(now)
        .bind(claim)
        .execute(c)
        .await
        .map(|done| done.rows_affected()))?;
    }
    on_conn!(conn, |c| {
        let mut builder = QueryBuilder::new(format!(
            "INSERT INTO claim_services (claim_id, service_id, since)
             SELECT c.id, s.id, {now} FROM services s JOIN claims c ON c.kind = 'pay_to' AND c.ended_at IS NULL AND {IN_SCOPE}
             WHERE EXISTS (SELECT 1 FROM offers o WHERE o.service_id = s.id AND {PAY_TO_KEY} = c.subject) AND s.id IN "
        ));
        super::in_list(&mut builder, ids);
        builder.push(" ON CONFLICT DO NOTHING");
        builder.build().execute(c).await.map(|done| done.rows_affected())
    })?;
    Ok(())
}

/// Services just registered on an origin someone proved control of are covered by that claim.
pub(super) async fn cover_new_services(conn: &mut Conn<'_>, ids: &[i64], now: i64) -> Result<(), StoreError> {
    if ids.is_empty() {
        return Ok(());
    }
    on_conn!(conn, |c| {
        let mut builder = QueryBuilder::new(format!(
            "INSERT INTO claim_services (claim_id, service_id, since)
             SELECT c.id, s.id, {now} FROM services s JOIN claims c ON c.kind = 'origin' AND c.ended_at IS NULL AND {IN_SCOPE}
             WHERE s.id IN "
        ));
        super::in_list(&mut builder, ids);
        builder.push(" ON CONFLICT DO NOTHING");
        builder.build().execute(c).await.map(|done| done.rows_affected())
    })?;
    Ok(())
}

async fn any_pay_to_claims(conn: &mut Conn<'_>) -> Result<bool, StoreError> {
    Ok(on_conn!(conn, |c| sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM claims WHERE kind = 'pay_to')")
        .fetch_one(c)
        .await)?)
}
