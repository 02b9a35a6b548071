//! The one writer path. A task owns the only write connection; callers queue operations and
//! await their answers. Whatever is queued is applied as one `BEGIN IMMEDIATE` transaction
//! (group commit), each operation inside its own savepoint so one failure does not sink the
//! batch, and every answer is sent only after the commit: an acknowledged write is durable.
//!
//! `BEGIN IMMEDIATE` takes the write lock up front; a deferred transaction upgrading to a writer
//! gets `SQLITE_BUSY` without waiting (`reliability-perf.md` §D1).

use super::StoreError;
use super::maintain::{MaintainReport, Retention};
use super::record::{ProbeRecord, Recorded};
use super::register::{NewService, Registered};
use sqlx::{Connection, SqliteConnection};
use tokio::sync::{mpsc, oneshot};

/// Most operations in one transaction.
const MAX_BATCH: usize = 256;

enum Op {
    Register(Vec<NewService>, i64, oneshot::Sender<Result<Vec<Registered>, StoreError>>),
    Record(Box<ProbeRecord>, oneshot::Sender<Result<Recorded, StoreError>>),
    Maintain(Retention, oneshot::Sender<Result<MaintainReport, StoreError>>),
    Recrawl(i64, i64, oneshot::Sender<Result<bool, StoreError>>),
    /// Finish what is queued before this, then close the connection.
    Stop(oneshot::Sender<()>),
}

/// Handle to the writer task. Cheap to clone.
#[derive(Clone)]
pub struct Writer {
    queue: mpsc::Sender<Op>,
}

impl Writer {
    pub(super) fn spawn(conn: SqliteConnection) -> Writer {
        let (queue, inbox) = mpsc::channel(4096);
        tokio::spawn(run(conn, inbox));
        Writer { queue }
    }

    /// Stores new services as `pending` (or finds the existing rows), durably.
    pub async fn register(&self, services: Vec<NewService>, now: i64) -> Result<Vec<Registered>, StoreError> {
        self.ask(|reply| Op::Register(services, now, reply)).await?
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
    pub async fn stop(&self) {
        let _ = self.ask(Op::Stop).await;
    }

    async fn ask<T>(&self, op: impl FnOnce(oneshot::Sender<T>) -> Op) -> Result<T, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.queue.send(op(reply)).await.map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)
    }
}

/// One operation's answer, held until the commit.
enum Done {
    Register(oneshot::Sender<Result<Vec<Registered>, StoreError>>, Result<Vec<Registered>, StoreError>),
    Record(oneshot::Sender<Result<Recorded, StoreError>>, Result<Recorded, StoreError>),
    Maintain(oneshot::Sender<Result<MaintainReport, StoreError>>, Result<MaintainReport, StoreError>),
    Recrawl(oneshot::Sender<Result<bool, StoreError>>, Result<bool, StoreError>),
}

impl Done {
    fn fail(self, error: impl Fn() -> StoreError) {
        let _ = match self {
            Done::Register(reply, _) => reply.send(Err(error())).map_err(drop),
            Done::Record(reply, _) => reply.send(Err(error())).map_err(drop),
            Done::Maintain(reply, _) => reply.send(Err(error())).map_err(drop),
            Done::Recrawl(reply, _) => reply.send(Err(error())).map_err(drop),
        };
    }

    fn send(self) {
        let _ = match self {
            Done::Register(reply, result) => reply.send(result).map_err(drop),
            Done::Record(reply, result) => reply.send(result).map_err(drop),
            Done::Maintain(reply, result) => reply.send(result).map_err(drop),
            Done::Recrawl(reply, result) => reply.send(result).map_err(drop),
        };
    }
}

async fn run(mut conn: SqliteConnection, mut inbox: mpsc::Receiver<Op>) {
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
            apply_batch(&mut conn, batch).await;
        }
    }
    inbox.close();
    let _ = sqlx::query("PRAGMA optimize").execute(&mut conn).await;
    let _ = conn.close().await;
    if let Some(reply) = stopped {
        let _ = reply.send(());
    }
}

async fn apply_batch(conn: &mut SqliteConnection, batch: Vec<Op>) {
    // Registrations are what sellers cannot re-create: their batches are synced to disk (FULL);
    // crawl results are re-derivable and ride on NORMAL.
    let durable = batch.iter().any(|op| matches!(op, Op::Register(..)));
    if durable {
        let _ = sqlx::query("PRAGMA synchronous = FULL").execute(&mut *conn).await;
    }
    let mut done = Vec::with_capacity(batch.len());
    let committed = async {
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
        for op in batch {
            sqlx::query("SAVEPOINT op").execute(&mut *tx).await?;
            let (ok, outcome) = match op {
                Op::Register(services, now, reply) => {
                    let result = super::register::apply(&mut tx, &services, now).await;
                    (result.is_ok(), Done::Register(reply, result))
                }
                Op::Record(record, reply) => {
                    let result = super::record::apply(&mut tx, &record).await;
                    (result.is_ok(), Done::Record(reply, result))
                }
                Op::Maintain(retention, reply) => {
                    let result = super::maintain::apply(&mut tx, &retention).await;
                    (result.is_ok(), Done::Maintain(reply, result))
                }
                Op::Recrawl(id, at, reply) => {
                    let result = sqlx::query("UPDATE services SET next_due_at = MIN(next_due_at, ?) WHERE id = ?")
                        .bind(at)
                        .bind(id)
                        .execute(&mut *tx)
                        .await
                        .map(|done| done.rows_affected() == 1)
                        .map_err(StoreError::from);
                    (result.is_ok(), Done::Recrawl(reply, result))
                }
                Op::Stop(_) => continue,
            };
            let end = if ok { "RELEASE op" } else { "ROLLBACK TO op" };
            sqlx::query(end).execute(&mut *tx).await?;
            if !ok {
                sqlx::query("RELEASE op").execute(&mut *tx).await?;
            }
            done.push(outcome);
        }
        tx.commit().await?;
        Ok::<(), sqlx::Error>(())
    }
    .await;
    if durable {
        let _ = sqlx::query("PRAGMA synchronous = NORMAL").execute(&mut *conn).await;
    }
    match committed {
        Ok(()) => done.into_iter().for_each(Done::send),
        Err(error) => {
            tracing::error!(%error, "write transaction failed");
            let message = error.to_string();
            done.into_iter().for_each(|d| d.fail(|| StoreError::Sql(sqlx::Error::Protocol(message.clone()))));
        }
    }
}
