//! `agora serve` when its PostgreSQL database cannot be reached at start (the database starting
//! after the nodes, a failover under way): the node listens anyway and answers every request,
//! `/healthz` included, 503 `database_unavailable` with the cause and a `Retry-After`, so a load
//! balancer's readiness check keeps traffic away, while it retries opening the catalog with a
//! capped backoff. Once open, the same server passes every request to the catalog's router. A
//! mistake that waiting cannot mend (a bad URL, a refused password, a missing database, a
//! certificate that does not verify, a failed migration) still ends `serve` with the cause, and
//! the embedded SQLite store never waits.

use crate::app::{App, AppError};
use crate::config::GlobalOptions;
use crate::http::problem::Problem;
use crate::search::SearchError;
use axum::Router;
use axum::extract::Request;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

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

/// The router a node that waits for its store serves from the start: the waiting answer until
/// [`Gate::open_to`] gives it the catalog's router, then that router. One server on one socket
/// throughout, so no connection is dropped at the switch.
#[derive(Clone)]
pub struct Gate {
    catalog: Arc<OnceLock<Router>>,
    cause: Arc<Mutex<String>>,
}

impl Gate {
    /// A gate answering 503 with `first` (the failed attempt to open) as the cause.
    pub fn new(first: &AppError) -> Gate {
        tracing::warn!(error = %first, "the database cannot be reached; answering 503 until it can");
        Gate { catalog: Arc::default(), cause: Arc::new(Mutex::new(first.to_string())) }
    }

    /// The router to serve: each request goes to the catalog's router once there is one.
    pub fn router(&self) -> Router {
        // Meanwhile: the 503 as problem JSON, or as the site's error page for a browser.
        let waiting = {
            let gate = self.clone();
            Router::new()
                .fallback(move || std::future::ready(gate.waiting_answer()))
                .layer(axum::middleware::from_fn(crate::http::web::errors::pages_for_browsers))
        };
        let catalog = Arc::clone(&self.catalog);
        Router::new().fallback_service(tower::service_fn(move |request: Request| {
            let router = catalog.get().unwrap_or(&waiting).clone();
            router.oneshot(request)
        }))
    }

    /// From now on, requests go to `catalog`.
    pub fn open_to(&self, catalog: Router) {
        let _ = self.catalog.set(catalog);
        tracing::info!("the database is reachable; serving the catalog");
    }

    /// Retries `open` until it opens the catalog, fails for good, or `stop` is cancelled.
    pub async fn retry<F, Fut>(&self, global: &GlobalOptions, open: F, stop: &CancellationToken) -> Opened
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<App, AppError>>,
    {
        let mut wait = FIRST_WAIT;
        loop {
            tokio::select! {
                () = stop.cancelled() => return Opened::Stopped,
                () = tokio::time::sleep(wait) => {}
            }
            match open().await {
                Ok(app) => return Opened::App(Box::new(app)),
                Err(error) if worth_waiting(global, &error) => {
                    tracing::warn!(%error, retry_in = ?wait, "the database still cannot be reached");
                    *self.cause.lock().unwrap_or_else(PoisonError::into_inner) = error.to_string();
                    wait = (wait * 2).min(LONGEST_WAIT);
                }
                Err(error) => return Opened::Failed(error),
            }
        }
    }

    /// Every path answers the same 503 meanwhile: nothing can be read or written yet.
    fn waiting_answer(&self) -> Problem {
        let cause = self.cause.lock().unwrap_or_else(PoisonError::into_inner).clone();
        let detail = format!("This node cannot reach the catalog's database yet and keeps trying ({cause}).");
        Problem { retry_after: Some(RETRY_AFTER_SECS), ..Problem::unavailable("database_unavailable", detail) }
    }
}
