//! Wake-ups from the other nodes on a shared PostgreSQL store: every change's trigger sends
//! `NOTIFY agora_changes` at commit (migrations/postgres/0001), and a listener here counts them
//! for the search indexer. Only a hint: notifications sent while the listener was disconnected are
//! lost (sqlx reconnects on the next receive), so the indexer also polls the change log.

use super::Pool;
use sqlx::postgres::PgListener;
use std::time::Duration;
use tokio::sync::watch;

/// The channel the change trigger notifies.
pub const CHANNEL: &str = "agora_changes";

/// After a failed listen, try again this much later.
const RETRY: Duration = Duration::from_secs(2);

/// A counter that moves at each notification from the store, or `None` on SQLite (one writer:
/// its own commits wake the indexer). The listening task ends when the receiver is dropped.
pub fn listen(pool: &Pool) -> Option<watch::Receiver<u64>> {
    let Pool::Postgres(pool) = pool else { return None };
    let pool = pool.clone();
    let (wake, woken) = watch::channel(0u64);
    tokio::spawn(async move {
        loop {
            let listened = async {
                let mut listener = PgListener::connect_with(&pool).await?;
                listener.listen(CHANNEL).await?;
                loop {
                    listener.recv().await?;
                    wake.send_modify(|count| *count += 1);
                }
            };
            let outcome: Result<(), sqlx::Error> = tokio::select! {
                outcome = listened => outcome,
                () = wake.closed() => return,
            };
            if let Err(error) = outcome {
                tracing::debug!(%error, "change notifications interrupted; the indexer polls meanwhile");
            }
            tokio::select! {
                () = tokio::time::sleep(RETRY) => {}
                () = wake.closed() => return,
            }
        }
    });
    Some(woken)
}
