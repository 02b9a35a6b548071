//! Startup and shutdown order: open the store (migrating it), open the search index (catching it
//! up with the store, or rebuilding it), build the crawler over both; on the way out stop taking
//! work, let in-flight probes finish (up to a deadline), let the writer commit what is queued,
//! let the indexer catch up and commit, then close the database.

use crate::config::GlobalOptions;
use crate::db::{Store, StoreError};
use crate::jobs::{self, Clock, Dispatcher, StartError, SystemClock};
use crate::search::{SearchError, SearchIndex};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How long shutdown waits for in-flight probes before abandoning them (nothing of an abandoned
/// probe is written: each result is one transaction).
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// A running Agora: store, crawler and the token that stops them.
pub struct App {
    pub store: Store,
    /// The search index, owned by this process (`None` for the CLI commands that only crawl or
    /// register: a running `serve` holds the index and catches up with their changes).
    pub search: Option<SearchIndex>,
    pub dispatcher: Dispatcher,
    pub cancel: CancellationToken,
    pub retention: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Start(#[from] StartError),
    #[error(transparent)]
    Search(#[from] SearchError),
}

impl App {
    /// Opens the data directory, the search index and the crawler with the system clock.
    pub async fn open(global: &GlobalOptions) -> Result<App, AppError> {
        App::open_with_clock(global, Arc::new(SystemClock)).await
    }

    /// Opens the store and the crawler only (`register`, `crawl`): the search index stays with
    /// `serve`, whose indexer notices their commits, or catches up on its next start.
    pub async fn open_crawler_only(global: &GlobalOptions) -> Result<App, AppError> {
        App::open_parts(global, Arc::new(SystemClock), false).await
    }

    pub async fn open_with_clock(global: &GlobalOptions, clock: Arc<dyn Clock>) -> Result<App, AppError> {
        App::open_parts(global, clock, true).await
    }

    async fn open_parts(global: &GlobalOptions, clock: Arc<dyn Clock>, with_search: bool) -> Result<App, AppError> {
        let store = Store::open(&global.data_dir).await?;
        let search = if with_search {
            let committed = store.writer().committed_seq();
            match crate::search::build::open(&global.data_dir, store.read(), committed, clock.clone()).await {
                Ok(search) => Some(search),
                Err(error) => {
                    store.close().await;
                    return Err(error.into());
                }
            }
        } else {
            None
        };
        let settings = global.crawl_settings();
        let cancel = CancellationToken::new();
        let dispatcher = jobs::start(store.clone(), &settings, clock, cancel.clone())?;
        Ok(App { store, search, dispatcher, cancel, retention: settings.retention })
    }

    /// Stops the crawler, commits the store, lets the index catch up, closes the store.
    pub async fn shutdown(self) {
        self.cancel.cancel();
        if tokio::time::timeout(SHUTDOWN_GRACE, self.dispatcher.idle()).await.is_err() {
            tracing::warn!("in-flight probes abandoned after {SHUTDOWN_GRACE:?}; nothing of them was written");
        }
        self.store.writer().stop().await;
        if let Some(search) = &self.search {
            search.stop().await;
        }
        self.store.close().await;
    }
}

/// Cancels `cancel` on SIGINT (Ctrl-C) or SIGTERM.
pub fn cancel_on_signals(cancel: CancellationToken) {
    tokio::spawn(async move {
        let interrupt = tokio::signal::ctrl_c();
        #[cfg(unix)]
        let terminate = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let terminate = std::future::pending::<()>();
        tokio::select! {
            _ = interrupt => {}
            () = terminate => {}
        }
        tracing::info!("shutting down");
        cancel.cancel();
    });
}
