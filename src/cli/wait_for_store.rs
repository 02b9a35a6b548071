//! `agora serve` when its PostgreSQL database cannot be reached at start (the database starting
//! after the nodes, a failover under way): the node listens anyway and answers every request,
//! `/healthz` included, 503 `database_unavailable` with the cause and a `Retry-After`, so a load
//! balancer's readiness check keeps traffic away, while it retries opening the catalog with a
//! capped backoff. Once open, the same socket is handed to the catalog's router. A mistake that
//! waiting cannot mend (a bad URL, a refused password, a missing database, a failed migration)
//! still ends `serve` with the cause, and the embedded SQLite store never waits.

use crate::app::{App, AppError};
use crate::config::GlobalOptions;
use crate::http::problem::Problem;
use crate::http::server::{self, ConnectionLimits};
use crate::search::SearchError;
use axum::Router;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// The first retry comes this soon after a failed open; each failure doubles the wait up to
/// [`LONGEST_WAIT`], so a database back after a minute is found within seconds, and one down for
/// an hour costs a connection attempt every few seconds, not a storm.
const FIRST_WAIT: Duration = Duration::from_millis(250);
const LONGEST_WAIT: Duration = Duration::from_secs(5);
/// What the waiting node's 503s advise clients to wait, in seconds.
const RETRY_AFTER_SECS: u32 = 5;

/// How waiting for the store ended.
pub enum Opened {
    App(Box<App>),
    /// A signal came first: nothing was opened.
    Stopped,
    /// An error waiting cannot mend.
    Failed(AppError),
}

/// Whether `error`, from opening the catalog `global` names, is worth waiting out: the database
/// is PostgreSQL and cannot be reached just now.
pub fn worth_waiting(global: &GlobalOptions, error: &AppError) -> bool {
    let store_error = match error {
        AppError::Store(error) | AppError::Search(SearchError::Store(error)) => error,
        AppError::Start(_) | AppError::Search(_) => return false,
    };
    global.database_url.is_some() && store_error.is_unavailable()
}

/// Serves the waiting answer on `listener` and retries `open` until it opens the catalog, fails
/// for good, or `stop` is cancelled. `first` is the error of the attempt already made.
pub async fn open_while_serving<F, Fut>(
    listener: &TcpListener,
    connections: ConnectionLimits,
    global: &GlobalOptions,
    first: AppError,
    open: F,
    stop: &CancellationToken,
) -> Opened
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<App, AppError>>,
{
    let cause = Arc::new(Mutex::new(first.to_string()));
    tracing::warn!(error = %first, "the database cannot be reached; answering 503 until it can");
    let done = CancellationToken::new();
    let waiting = server::serve(listener, waiting_router(cause.clone()), connections, done.clone().cancelled_owned());
    let retry = async {
        let mut wait = FIRST_WAIT;
        let opened = loop {
            tokio::select! {
                () = stop.cancelled() => break Opened::Stopped,
                () = tokio::time::sleep(wait) => {}
            }
            match open().await {
                Ok(app) => break Opened::App(Box::new(app)),
                Err(error) if worth_waiting(global, &error) => {
                    tracing::warn!(%error, retry_in = ?wait, "the database still cannot be reached");
                    *cause.lock().unwrap_or_else(PoisonError::into_inner) = error.to_string();
                    wait = (wait * 2).min(LONGEST_WAIT);
                }
                Err(error) => break Opened::Failed(error),
            }
        };
        done.cancel();
        opened
    };
    let (served, opened) = tokio::join!(waiting, retry);
    if let Err(error) = served {
        tracing::warn!(%error, "the waiting server stopped with an error");
    }
    if matches!(opened, Opened::App(_)) {
        tracing::info!("the database is reachable; serving the catalog");
    }
    opened
}

/// Every path answers the same 503: nothing can be read or written yet.
fn waiting_router(cause: Arc<Mutex<String>>) -> Router {
    Router::new().fallback(move || {
        let cause = cause.lock().unwrap_or_else(PoisonError::into_inner).clone();
        async move {
            let detail = format!("This node cannot reach the catalog's database yet and keeps trying ({cause}).");
            Problem { retry_after: Some(RETRY_AFTER_SECS), ..Problem::unavailable("database_unavailable", detail) }
        }
    })
}
