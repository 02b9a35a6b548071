//! The one writer path. A task owns the only write connection; callers queue operations and
//! await their answers. Whatever is queued is applied as one `BEGIN IMMEDIATE` transaction
//! (group commit), each operation inside its own savepoint so one failure does not sink the
//! batch, and every answer is sent only after the commit: an acknowledged write is durable.
//!
//! After each commit that touched services the writer publishes the change-feed position that
//! includes it (a `watch`; `db::change_feed`), so derived views (the search index) know there is
//! something to catch up on and how far: SQLite's highest `change_seq`, or on PostgreSQL the
//! commit's transaction id + 1 (the watermark that has passed it). It knows nothing about who
//! listens.
//!
//! `BEGIN IMMEDIATE` takes the write lock up front; a deferred transaction upgrading to a writer
//! gets `SQLITE_BUSY` without waiting (`reliability-perf.md` §D1).
//!
//! On PostgreSQL each node has its own writer; they share the database. Each batch is one
//! transaction on a connection taken from a small pool (so a restarted server is reconnected to
//! at the next batch), and the same operations run: every statement is written to be safe beside
//! the other nodes' writers (`docs/DEPLOY.md`).

use super::StoreError;
use super::backend::Conn;
use super::icons::IconOutcome;
use super::maintain::{MaintainReport, Retention};
use super::ownership::OwnershipWrite;
use super::record::{ProbeRecord, Recorded};
use super::register::{Claim, NewService, Registered};
use super::sources::SourceWrite;
use super::touch::TouchLog;
use crate::on_conn;
use sqlx::{Connection, PgPool, SqliteConnection};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, watch};

/// Most operations in one transaction.
const MAX_BATCH: usize = 256;

enum Op {
    /// New services, the time, and a crawl claim on those created (`db::leases`).
    Register(Vec<NewService>, i64, Option<Claim>, oneshot::Sender<Result<Vec<Registered>, StoreError>>),
    Record(Box<ProbeRecord>, oneshot::Sender<Result<Recorded, StoreError>>),
    Maintain(Retention, oneshot::Sender<Result<MaintainReport, StoreError>>),
    Recrawl(i64, i64, oneshot::Sender<Result<bool, StoreError>>),
    Icon(Box<IconOutcome>, oneshot::Sender<Result<(), StoreError>>),
    Source(Box<SourceWrite>, oneshot::Sender<Result<i64, StoreError>>),
    Ownership(Box<OwnershipWrite>, oneshot::Sender<Result<i64, StoreError>>),
    /// Zero-result search counts of a day (`db::demand`).
    Demand(i64, Vec<(String, u32)>, oneshot::Sender<Result<u64, StoreError>>),
    /// Finish what is queued before this, then close the connection.
    Stop(oneshot::Sender<()>),
}

/// Where the writer writes: SQLite's one write connection, or a pool of PostgreSQL connections
/// and the transaction id of its last commit.
pub(super) enum WriteTo {
    Sqlite(SqliteConnection),
    Postgres(PgPool, i64),
}

impl WriteTo {
    async fn close(self) {
        match self {
            WriteTo::Sqlite(mut conn) => {
                let _ = sqlx::query("PRAGMA optimize").execute(&mut conn).await;
                let _ = conn.close().await;
            }
            WriteTo::Postgres(pool, _) => pool.close().await,
        }
    }

    /// SQLite's durability for the next commits (PostgreSQL's is its own configuration).
    async fn synchronous(&mut self, level: &'static str) {
        if let WriteTo::Sqlite(conn) = self {
            let sql = if level == "FULL" { "PRAGMA synchronous = FULL" } else { "PRAGMA synchronous = NORMAL" };
            let _ = sqlx::query(sql).execute(conn).await;
        }
    }
}

/// Handle to the writer task. Cheap to clone.
#[derive(Clone)]
pub struct Writer {
    queue: mpsc::Sender<Op>,
    committed: watch::Receiver<i64>,
    touches: Arc<TouchLog>,
}

impl Writer {
    pub(super) fn spawn(conn: WriteTo, committed_seq: i64) -> Writer {
        let (queue, inbox) = mpsc::channel(4096);
        let (publish, committed) = watch::channel(committed_seq);
        let touches = Arc::new(TouchLog::default());
        tokio::spawn(run(conn, inbox, publish, Arc::clone(&touches)));
        Writer { queue, committed, touches }
    }

    /// Which services this process's commits touched (for answer caches).
    pub fn touches(&self) -> &TouchLog {
        &self.touches
    }

    /// The touch log, shared: the search indexer touches what other writers changed.
    pub fn touch_log(&self) -> Arc<TouchLog> {
        Arc::clone(&self.touches)
    }

    /// The change-feed position that includes this writer's last commit that touched services
    /// (`db::change_feed`: SQLite's highest `change_seq`, PostgreSQL's transaction id + 1).
    pub fn committed_seq(&self) -> watch::Receiver<i64> {
        self.committed.clone()
    }

    /// Stores new services as `pending` (or finds the existing rows), durably.
    pub async fn register(&self, services: Vec<NewService>, now: i64) -> Result<Vec<Registered>, StoreError> {
        self.ask(|reply| Op::Register(services, now, None, reply)).await?
    }

    /// Stores new services as `register` does, claimed for this node's crawler in the same
    /// transaction: a registration probed at once by its node is never probed by another that
    /// saw it due in between.
    pub async fn register_claimed(
        &self,
        services: Vec<NewService>,
        now: i64,
        claim: Claim,
    ) -> Result<Vec<Registered>, StoreError> {
        self.ask(|reply| Op::Register(services, now, Some(claim), reply)).await?
    }

    /// Records one probe and applies the lifecycle.
    pub async fn record(&self, record: ProbeRecord) -> Result<Recorded, StoreError> {
        self.ask(|reply| Op::Record(Box::new(record), reply)).await?
    }

    /// Rolls probe history up into daily rows and prunes raw probes past the retention window.
    pub async fn maintain(&self, retention: Retention) -> Result<MaintainReport, StoreError> {
        self.ask(|reply| Op::Maintain(retention, reply)).await?
    }

    /// Makes service `id` due at `at` at the latest (a recrawl request). False if there is no such
    /// service.
    pub async fn recrawl(&self, id: i64, at: i64) -> Result<bool, StoreError> {
        self.ask(|reply| Op::Recrawl(id, at, reply)).await?
    }

    /// Commits everything queued so far and stops the task. Later calls answer `Closed`.
    /// Keeps a service's icon, or records why it has none.
    pub async fn icon(&self, outcome: IconOutcome) -> Result<(), StoreError> {
        self.ask(|reply| Op::Icon(Box::new(outcome), reply)).await?
    }

    /// A write about sources (`db::sources`); answers the source id.
    pub async fn source(&self, write: SourceWrite) -> Result<i64, StoreError> {
        self.ask(|reply| Op::Source(Box::new(write), reply)).await?
    }

    /// A write about claims, listings or blocks (`db::ownership`); answers the id written.
    pub async fn ownership(&self, write: OwnershipWrite) -> Result<i64, StoreError> {
        self.ask(|reply| Op::Ownership(Box::new(write), reply)).await?
    }

    /// Adds zero-result search counts to `day`; answers how many queries were stored.
    pub async fn demand(&self, day: i64, counts: Vec<(String, u32)>) -> Result<u64, StoreError> {
        self.ask(|reply| Op::Demand(day, counts, reply)).await?
    }

    pub async fn stop(&self) {
        let _ = self.ask(Op::Stop).await;
    }

    async fn ask<T>(&self, op: impl FnOnce(oneshot::Sender<T>) -> Op) -> Result<T, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.queue.send(op(reply)).await.map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)
    }
}

/// One operation's result, before it is matched back to its caller's reply type.
enum Answer {
    Registered(Vec<Registered>),
    Recorded(Recorded),
    Maintained(MaintainReport),
    Recrawled(bool),
    Icon,
    Source(i64),
    Ownership(i64),
    Demand(u64),
}

impl Op {
    /// Sends `result` to this operation's caller.
    fn reply(self, result: Result<Answer, StoreError>) {
        fn wrong() -> StoreError {
            StoreError::Closed
        }
        let _ = match self {
            Op::Register(_, _, _, reply) => reply
                .send(result.and_then(|a| if let Answer::Registered(v) = a { Ok(v) } else { Err(wrong()) }))
                .map_err(drop),
            Op::Record(_, reply) => reply
                .send(result.and_then(|a| if let Answer::Recorded(v) = a { Ok(v) } else { Err(wrong()) }))
                .map_err(drop),
            Op::Maintain(_, reply) => reply
                .send(result.and_then(|a| if let Answer::Maintained(v) = a { Ok(v) } else { Err(wrong()) }))
                .map_err(drop),
            Op::Recrawl(_, _, reply) => reply
                .send(result.and_then(|a| if let Answer::Recrawled(v) = a { Ok(v) } else { Err(wrong()) }))
                .map_err(drop),
            Op::Source(_, reply) => reply
                .send(result.and_then(|a| if let Answer::Source(v) = a { Ok(v) } else { Err(wrong()) }))
                .map_err(drop),
            Op::Ownership(_, reply) => reply
                .send(result.and_then(|a| if let Answer::Ownership(v) = a { Ok(v) } else { Err(wrong()) }))
                .map_err(drop),
            Op::Demand(_, _, reply) => reply
                .send(result.and_then(|a| if let Answer::Demand(v) = a { Ok(v) } else { Err(wrong()) }))
                .map_err(drop),
            Op::Icon(_, reply) => {
                reply.send(result.and_then(|a| if let Answer::Icon = a { Ok(()) } else { Err(wrong()) })).map_err(drop)
            }
            Op::Stop(reply) => reply.send(()).map_err(drop),
        };
    }
}

async fn run(mut conn: WriteTo, mut inbox: mpsc::Receiver<Op>, publish: watch::Sender<i64>, touches: Arc<TouchLog>) {
    let mut stopped = None;
    while stopped.is_none() {
        let Some(first) = inbox.recv().await else { break };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match inbox.try_recv() {
                Ok(op) => batch.push(op),
                Err(_) => break,
            }
        }
        if let Some(at) = batch.iter().position(|op| matches!(op, Op::Stop(_))) {
            // Everything after a stop is answered `Closed` when the queue is dropped.
            if let Some(Op::Stop(reply)) = batch.drain(at..).next() {
                stopped = Some(reply);
            }
        }
        if !batch.is_empty() {
            let touches_services = batch
                .iter()
                .any(|op| matches!(op, Op::Register(..) | Op::Record(..) | Op::Icon(..) | Op::Ownership(..)));
            apply_batch(&mut conn, batch, &touches).await;
            if touches_services {
                publish_committed_seq(&mut conn, &publish).await;
            }
        }
    }
    inbox.close();
    conn.close().await;
    if let Some(reply) = stopped {
        let _ = reply.send(());
    }
}

async fn publish_committed_seq(conn: &mut WriteTo, publish: &watch::Sender<i64>) {
    let seq = match conn {
        WriteTo::Sqlite(conn) => {
            sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(change_seq) FROM services").fetch_one(conn).await
        }
        WriteTo::Postgres(_, last_tx) => Ok(Some(*last_tx + 1)),
    };
    match seq {
        Ok(seq) => {
            publish.send_if_modified(|current| {
                let seq = seq.unwrap_or(0);
                let newer = seq > *current;
                *current = (*current).max(seq);
                newer
            });
        }
        Err(error) => tracing::warn!(%error, "cannot read the committed change sequence"),
    }
}

async fn apply_one(conn: &mut Conn<'_>, op: &Op) -> Result<Answer, StoreError> {
    Ok(match op {
        Op::Register(services, now, claim, _) => {
            Answer::Registered(super::register::apply(conn, services, *now, claim.as_ref()).await?)
        }
        Op::Record(record, _) => {
            let mut staged = super::record::Staged::default();
            let recorded = staged.record(conn, record).await?;
            staged.flush(conn).await?;
            Answer::Recorded(recorded)
        }
        Op::Maintain(retention, _) => Answer::Maintained(super::maintain::apply(conn, retention).await?),
        Op::Recrawl(id, at, _) => {
            let done = on_conn!(conn, |c| {
                sqlx::query(
                "UPDATE services SET next_due_at = CASE WHEN next_due_at < $1 THEN next_due_at ELSE $1 END WHERE id = $2"
            )
                .bind(at)
                .bind(id)
                .execute(c)
                .await.map(|done| done.rows_affected())
            })?;
            Answer::Recrawled(done == 1)
        }
        Op::Icon(outcome, _) => {
            super::icons::apply(conn, outcome).await?;
            Answer::Icon
        }
        Op::Source(write, _) => Answer::Source(super::sources::apply(conn, write).await?),
        Op::Ownership(write, _) => Answer::Ownership(super::ownership::apply(conn, write).await?),
        Op::Demand(day, counts, _) => Answer::Demand(super::demand::apply(conn, *day, counts).await?),
        Op::Stop(_) => return Err(StoreError::Closed),
    })
}

/// All operations in one transaction; if any fails, the batch is rolled back and each operation
/// is retried alone, so one bad operation only fails itself. (Cheaper than a savepoint around
/// every operation: failures are rare, statements per commit are the writer's cost.)
async fn apply_all(to: &mut WriteTo, batch: &[Op]) -> Result<Vec<Answer>, StoreError> {
    match to {
        WriteTo::Sqlite(conn) => {
            let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
            let answers = apply_in(&mut Conn::Sqlite(&mut tx), batch).await?;
            tx.commit().await?;
            Ok(answers)
        }
        WriteTo::Postgres(pool, last_tx) => {
            let mut tx = pool.begin().await?;
            let answers = apply_in(&mut Conn::Postgres(&mut tx), batch).await?;
            let id: i64 = sqlx::query_scalar("SELECT pg_current_xact_id()::text::bigint").fetch_one(&mut *tx).await?;
            tx.commit().await?;
            *last_tx = (*last_tx).max(id);
            Ok(answers)
        }
    }
}

/// The batch's operations inside its open transaction.
async fn apply_in(tx: &mut Conn<'_>, batch: &[Op]) -> Result<Vec<Answer>, StoreError> {
    let recorded: Vec<i64> =
        batch.iter().filter_map(|op| if let Op::Record(r, _) = op { Some(r.service_id) } else { None }).collect();
    let mut staged = super::record::Staged::prefetch(tx, &recorded).await?;
    let mut answers = Vec::with_capacity(batch.len());
    for op in batch {
        answers.push(match op {
            Op::Record(record, _) => Answer::Recorded(staged.record(tx, record).await?),
            other => apply_one(tx, other).await?,
        });
    }
    staged.flush(tx).await?;
    Ok(answers)
}

/// Records, in the touch log, the services `ops` wrote. Called after their commit (or rollback:
/// a spurious touch only costs a cache miss) and before any reply, so a caller that got its
/// answer never reads a cached answer from before its write.
fn touch(touches: &TouchLog, ops: &[Op]) {
    // Ownership writes are rare and may touch many services (a block, a claim): forget them all.
    if ops.iter().any(|op| match op {
        Op::Maintain(..) => true,
        Op::Ownership(write, _) => write.touches_services(),
        _ => false,
    }) {
        touches.touch_all();
        return;
    }
    let ids: Vec<i64> = ops
        .iter()
        .filter_map(|op| match op {
            Op::Record(record, _) => Some(record.service_id),
            Op::Recrawl(id, _, _) => Some(*id),
            Op::Icon(outcome, _) => Some(outcome.service_id),
            _ => None,
        })
        .collect();
    touches.touch(&ids);
}

async fn apply_batch(conn: &mut WriteTo, batch: Vec<Op>, touches: &TouchLog) {
    // Registrations, sources and claims are what people cannot re-create: their batches are synced to
    // disk (FULL); crawl results are re-derivable and ride on NORMAL.
    let durable = batch.iter().any(|op| matches!(op, Op::Register(..) | Op::Source(..) | Op::Ownership(..)));
    if durable {
        conn.synchronous("FULL").await;
    }
    let outcome = apply_all(conn, &batch).await;
    touch(touches, &batch);
    match outcome {
        Ok(answers) => batch.into_iter().zip(answers).for_each(|(op, answer)| op.reply(Ok(answer))),
        Err(error) if batch.len() == 1 => {
            tracing::warn!(%error, "write failed");
            if let Some(op) = batch.into_iter().next() {
                op.reply(Err(error));
            }
        }
        Err(_) => {
            for op in batch {
                let result = apply_all(conn, std::slice::from_ref(&op)).await;
                touch(touches, std::slice::from_ref(&op));
                op.reply(result.map(|mut answers| answers.remove(0)));
            }
        }
    }
    if durable {
        conn.synchronous("NORMAL").await;
    }
}
