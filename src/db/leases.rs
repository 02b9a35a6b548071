//! Crawl leases: which node probes a due service. On PostgreSQL several nodes crawl one catalog;
//! a node claims due services with `FOR UPDATE SKIP LOCKED` (two nodes never claim the same row,
//! neither waits for the other) by writing its name and an expiry, renews the claim as the probe
//! starts, and recording the probe clears it (`db::record`). A host's due services go to one node
//! at a time, so its politeness holds across nodes. A node that dies leaves claims that
//! expire, and the services are due again for everyone. On SQLite one process crawls: claiming is
//! reading what is due.

use super::StoreError;
use super::backend::Pool;
use super::register::NewService;
use super::services::{self, DueService};

/// Who claims, how many at a time, and for how long.
#[derive(Debug, Clone)]
pub struct Lease {
    /// This node's name ([`node_name`]): the same across restarts of one data directory.
    pub node: String,
    pub duration_ms: i64,
    /// Most services a node holds claimed and not yet probed ([`CLAIMS_PER_PROBE_SLOT`] per
    /// concurrent probe): enough to keep every slot busy when services cluster on a few hosts
    /// (each host's probes wait for each other), few enough that a backlog is shared rather than
    /// taken whole by the first node to look.
    pub batch: usize,
}

impl Lease {
    /// A lease of `duration_ms` in `node`'s name for a node probing `concurrency` at once.
    pub fn new(node: String, duration_ms: i64, concurrency: usize) -> Lease {
        Lease { node, duration_ms, batch: concurrency.max(1).saturating_mul(CLAIMS_PER_PROBE_SLOT) }
    }
}

/// Claims a node may hold per concurrent probe (`--concurrency`).
pub const CLAIMS_PER_PROBE_SLOT: usize = 16;

/// The file in the data directory that names its node.
pub const NODE_FILE: &str = "node-id";

/// The name of the node running on `data_dir`: the host name and an id kept in
/// `data_dir/node-id` (made on first use), so a node restarted after a crash knows its own
/// claims and gives them back at once ([`release_all`]) instead of waiting for them to expire.
/// Without a writable data directory: a random id for this process.
pub fn node_name(data_dir: &std::path::Path) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let host = if host.trim().is_empty() { "node".to_string() } else { host.trim().to_string() };
    let path = data_dir.join(NODE_FILE);
    let stored = std::fs::read_to_string(&path)
        .ok()
        .map(|id| id.trim().to_string())
        .filter(|id| !id.is_empty() && id.len() <= 32 && id.chars().all(|c| c.is_ascii_alphanumeric()));
    let id = stored.unwrap_or_else(|| {
        let id = format!("{:016x}", fastrand::u64(..));
        let _ = std::fs::create_dir_all(data_dir).and_then(|()| std::fs::write(&path, &id));
        id
    });
    format!("{host}:{id}")
}

/// The advisory lock key that serializes claims across nodes (any constant of Agora's own).
const CLAIM_LOCK: i64 = 0x4147_4f52_4100_0001;

/// Claims up to `limit` services due at `now` (most overdue first) that nobody holds; `pending`
/// is how many this process has queued already (still due in the table on SQLite, so read past
/// them there; leased to this node on PostgreSQL, so not claimable again). On PostgreSQL a host
/// whose services another node holds is left to that node, so politeness per host (one request
/// at a time, `--host-delay-ms` apart) holds across nodes, not only within one.
pub async fn claim_due(
    pool: &Pool,
    lease: &Lease,
    now: i64,
    pending: usize,
    limit: usize,
) -> Result<Vec<DueService>, StoreError> {
    let Pool::Postgres(pg) = pool else {
        return services::due(pool, now, pending.saturating_add(limit)).await;
    };
    let limit = limit.min(lease.batch.saturating_sub(pending));
    if limit == 0 {
        return Ok(Vec::new());
    }
    // One claim at a time across the nodes (claims are batches, seconds apart): each sees the
    // others' committed claims, so no two nodes ever hold services of one host at once.
    let mut tx = pg.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(CLAIM_LOCK).execute(&mut *tx).await?;
    let mut rows: Vec<(i64, i64, String, String, String)> = sqlx::query_as(
        "UPDATE services s SET lease_owner = $1, lease_until = $2 + $3
         FROM (SELECT id FROM services c
               WHERE next_due_at <= $2 AND (lease_until IS NULL OR lease_until <= $2)
                 AND NOT EXISTS (SELECT 1 FROM services o
                                 WHERE o.host = c.host AND o.lease_owner <> $1 AND o.lease_until > $2)
               ORDER BY next_due_at, id LIMIT $4
               FOR UPDATE SKIP LOCKED) due
         WHERE s.id = due.id
         RETURNING s.next_due_at, s.id, s.url, s.method, s.host",
    )
    .bind(&lease.node)
    .bind(now)
    .bind(lease.duration_ms)
    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    // RETURNING keeps no order: most overdue first, as on SQLite.
    rows.sort_unstable();
    Ok(rows
        .into_iter()
        .map(|(_, id, url, method, host)| DueService::registered(id, NewService { url, method, host }))
        .collect())
}

/// Extends this node's claim on service `id` as its probe starts; false when the claim was lost
/// (it expired while queued and another node took it): the probe is left to that node.
pub async fn renew(pool: &Pool, lease: &Lease, id: i64, now: i64) -> Result<bool, StoreError> {
    let Pool::Postgres(pg) = pool else { return Ok(true) };
    // Still due (no other node probed it meanwhile), and the claim is this node's or free.
    let renewed = sqlx::query(
        "UPDATE services SET lease_owner = $2, lease_until = $3 + $4
         WHERE id = $1 AND next_due_at <= $3 AND (lease_owner = $2 OR lease_until IS NULL OR lease_until <= $3)",
    )
    .bind(id)
    .bind(&lease.node)
    .bind(now)
    .bind(lease.duration_ms)
    .execute(pg)
    .await?;
    Ok(renewed.rows_affected() == 1)
}

/// Gives back every claim of this node (a graceful stop, or a start after a crash): the other
/// nodes, and this one, need not wait for them to expire.
pub async fn release_all(pool: &Pool, lease: &Lease) -> Result<u64, StoreError> {
    let Pool::Postgres(pg) = pool else { return Ok(0) };
    let released = sqlx::query("UPDATE services SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1")
        .bind(&lease.node)
        .execute(pg)
        .await?;
    Ok(released.rows_affected())
}
