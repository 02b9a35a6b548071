//! Storing registrations: a new (URL, method) becomes a `pending` service, due at once; an
//! existing one is found, never duplicated.

use super::StoreError;
use super::backend::Conn;
use crate::lifecycle::{LifecyclePolicy, Status};
use crate::on_conn;

/// A checked, canonical target to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewService {
    pub url: String,
    pub method: String,
    /// Politeness key: host name or IP, without the port.
    pub host: String,
}

/// A crawl claim written with new services (`db::leases`): the node and the claim's expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub node: String,
    pub until: i64,
}

/// What registering one target did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Registered {
    pub id: i64,
    /// False when the service already existed.
    pub created: bool,
}

pub(super) async fn apply(
    conn: &mut Conn<'_>,
    services: &[NewService],
    now: i64,
    claim: Option<&Claim>,
) -> Result<Vec<Registered>, StoreError> {
    let interval = i64::try_from(LifecyclePolicy::default().base_interval.as_millis()).unwrap_or(i64::MAX);
    let mut out = Vec::with_capacity(services.len());
    for service in services {
        let inserted: Option<i64> = on_conn!(conn, |c| {
            sqlx::query_scalar(
            "INSERT INTO services (url, method, host, status, registered_at, status_since, interval_ms, next_due_at,
                                   change_seq, lease_owner, lease_until)
             VALUES ($1, $2, $3, 'pending', $4, $4, $5, $4, (SELECT COALESCE(MAX(change_seq), 0) + 1 FROM services),
                     $6, $7)
             ON CONFLICT (url, method) DO NOTHING
             RETURNING id",
        )
        .bind(&service.url)
        .bind(&service.method)
        .bind(&service.host)
        .bind(now)
        .bind(interval)
        .bind(claim.map(|c| c.node.as_str()))
        .bind(claim.map(|c| c.until))
        .fetch_optional(c)
        .await
        })?;
        let registered = match inserted {
            Some(id) => {
                on_conn!(conn, |c| {
                    sqlx::query(
                    "INSERT INTO status_changes (service_id, changed_at, old_status, new_status) VALUES ($1, $2, NULL, $3)"
                )
                .bind(id)
                .bind(now)
                .bind(Status::Pending.as_str())
                .execute(c)
                .await
                .map(|done| done.rows_affected())
                })?;
                Registered { id, created: true }
            }
            None => {
                let id =
                    on_conn!(conn, |c| sqlx::query_scalar("SELECT id FROM services WHERE url = $1 AND method = $2")
                        .bind(&service.url)
                        .bind(&service.method)
                        .fetch_one(c)
                        .await)?;
                Registered { id, created: false }
            }
        };
        out.push(registered);
    }
    let created: Vec<i64> = out.iter().filter(|r| r.created).map(|r| r.id).collect();
    super::claims::cover_new_services(conn, &created, now).await?;
    Ok(out)
}
