//! Startup and shutdown order: open the store (migrating it), open the search index (catching it
//! up with the store, or rebuilding it), build the crawler over both; on the way out stop taking
//! work, let in-flight probes finish (up to a deadline), let the writer commit what is queued,
//! let the indexer catch up and commit, then close the database.
//!
//! [`App`] is the whole product (`agora serve`, the tests), made by `crate::build_app`, and holds
//! the one [`AppState`] every front end shares; [`Crawler`] is the store and the crawler alone
//! (`agora register`, `agora crawl`: the index stays with `serve`, whose indexer follows their
//! commits, or catches up on its next start); [`Companion`] is the catalog for a second process
//! beside `serve` (`agora mcp`): it follows the index `serve` writes.

use crate::catalog::Catalog;
use crate::clock::{Clock, SystemClock};
use crate::config::GlobalOptions;
use crate::db::{Store, StoreError};
use crate::http::limits::HttpLimits;
use crate::http::{Answers, metrics::HttpMetrics};
use crate::jobs::{self, CrawlSettings, Dispatcher, StartError};
use crate::ownership::OwnershipSettings;
use crate::search::{SearchError, SearchIndex};
use agora_crawler::Resolver;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How long shutdown waits for in-flight probes before abandoning them (nothing of an abandoned
/// probe is written: each result is one transaction).
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// What `build_app` is told.
pub struct AppConfig {
    pub global: GlobalOptions,
    /// Catalog time (tests pass a `ManualClock`).
    pub clock: Arc<dyn Clock>,
    /// The HTTP front end's protective limits.
    pub limits: HttpLimits,
    /// Keep answers in the answer caches (`serve --no-answer-cache` turns them off).
    pub answer_cache: bool,
    /// Public host names `/mcp` answers besides the loopback ones (`--mcp-allowed-host`).
    pub mcp_allowed_hosts: Vec<String>,
    /// Whether anyone may add a source over the API (`serve --no-public-sources` turns it off).
    pub public_sources: bool,
    /// How the crawler resolves host names (`None`: the system's). Tests give names to loopback
    /// sellers this way, since the address policy refuses IP literals where names are required.
    pub resolver: Option<Arc<dyn Resolver>>,
    /// What sellers' proofs are bound to, and the operator token (docs/OWNERSHIP.md).
    pub ownership: OwnershipSettings,
}

impl AppConfig {
    /// The system clock, default limits, caches on.
    pub fn new(global: GlobalOptions) -> AppConfig {
        AppConfig {
            global,
            clock: Arc::new(SystemClock),
            limits: HttpLimits::default(),
            answer_cache: true,
            mcp_allowed_hosts: Vec::new(),
            public_sources: true,
            resolver: None,
            ownership: OwnershipSettings::default(),
        }
    }
}

/// What every front end shares: the catalog core, and the HTTP front end's limits, metrics and
/// answer caches. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub catalog: Catalog,
    pub limits: Arc<HttpLimits>,
    pub metrics: HttpMetrics,
    pub answers: Arc<Answers>,
    /// Public host names `/mcp` answers besides the loopback ones.
    pub mcp_allowed_hosts: Arc<[String]>,
    /// Whether `POST /api/v1/sources` is open.
    pub public_sources: bool,
}

impl AppState {
    /// The same catalog behind other HTTP limits (tests serve one app several ways).
    pub fn with_limits(&self, limits: HttpLimits) -> AppState {
        AppState { limits: Arc::new(limits), ..self.clone() }
    }
}

/// A running Agora: store, index, crawler, the shared state, and the token that stops them.
pub struct App {
    pub store: Store,
    pub search: SearchIndex,
    pub dispatcher: Dispatcher,
    pub cancel: CancellationToken,
    pub retention: Duration,
    pub state: AppState,
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

/// Opens everything `config` asks for (see `crate::build_app`).
pub(crate) async fn build(config: AppConfig) -> Result<App, AppError> {
    let store = Store::open_for(&config.global).await?;
    let search = match crate::search::build::open(&config.global.data_dir, &store, config.clock.clone()).await {
        Ok(search) => search,
        Err(error) => {
            store.close().await;
            return Err(error.into());
        }
    };
    let crawler = Crawler::start(store, &config.global, config.clock.clone(), config.resolver)?;
    let catalog = Catalog::new(crawler.store.clone(), crawler.dispatcher.clone(), search.clone(), config.clock)
        .with_ownership(config.ownership);
    let answers = if config.answer_cache { Answers::default() } else { Answers::off() };
    let state = AppState {
        catalog,
        limits: Arc::new(config.limits),
        metrics: HttpMetrics::default(),
        answers: Arc::new(answers),
        mcp_allowed_hosts: config.mcp_allowed_hosts.into(),
        public_sources: config.public_sources,
    };
    let Crawler { store, dispatcher, cancel, retention } = crawler;
    Ok(App { store, search, dispatcher, cancel, retention, state })
}

impl App {
    /// Stops the crawler, commits the store, lets the index catch up, closes the store.
    pub async fn shutdown(self) {
        if let Err(error) = self.state.catalog.flush_demand().await {
            tracing::warn!(%error, "zero-result counts not written");
        }
        let App { store, search, dispatcher, cancel, retention, .. } = self;
        let crawler = Crawler { store, dispatcher, cancel, retention };
        crawler.stop_crawling().await;
        search.stop().await;
        crawler.store.close().await;
    }
}

/// The catalog in a process beside `serve` (`agora mcp`): the store, a crawler that probes only
/// when asked (no schedule: `serve` crawls), and the search index followed read-only
/// (`search::follow`), so both can run on one data directory.
pub struct Companion {
    pub catalog: Catalog,
    crawler: Crawler,
    search: SearchIndex,
}

impl Companion {
    /// Opens the data directory of `global` beside whatever else runs on it.
    pub async fn open(global: &GlobalOptions) -> Result<Companion, AppError> {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let store = Store::open_for(global).await?;
        let search = match crate::search::follow::follow(&global.data_dir, &store, clock.clone()).await {
            Ok(search) => search,
            Err(error) => {
                store.close().await;
                return Err(error.into());
            }
        };
        let crawler = Crawler::start(store, global, clock.clone(), None)?;
        let catalog = Catalog::new(crawler.store.clone(), crawler.dispatcher.clone(), search.clone(), clock);
        Ok(Companion { catalog, crawler, search })
    }

    /// Lets in-flight probes finish, commits, closes.
    pub async fn shutdown(self) {
        if let Err(error) = self.catalog.flush_demand().await {
            tracing::warn!(%error, "zero-result counts not written");
        }
        self.search.stop().await;
        self.crawler.shutdown().await;
    }
}

/// The store and the crawler, without the index.
pub struct Crawler {
    pub store: Store,
    pub dispatcher: Dispatcher,
    pub cancel: CancellationToken,
    pub retention: Duration,
}

impl Crawler {
    /// Opens the store and the crawler with the system clock.
    pub async fn open(global: &GlobalOptions) -> Result<Crawler, AppError> {
        let store = Store::open_for(global).await?;
        Ok(Crawler::start(store, global, Arc::new(SystemClock), None)?)
    }

    fn start(
        store: Store,
        global: &GlobalOptions,
        clock: Arc<dyn Clock>,
        resolver: Option<Arc<dyn Resolver>>,
    ) -> Result<Crawler, StartError> {
        let mut settings = CrawlSettings::from_options(global);
        if let Some(resolver) = resolver {
            settings.probe.resolver = resolver;
        }
        let cancel = CancellationToken::new();
        let dispatcher = jobs::start(store.clone(), &settings, clock, cancel.clone())?;
        Ok(Crawler { store, dispatcher, cancel, retention: settings.retention })
    }

    /// Stops the crawler, commits the store, closes it.
    pub async fn shutdown(self) {
        self.stop_crawling().await;
        self.store.close().await;
    }

    /// Stops taking work, waits for in-flight probes (up to [`SHUTDOWN_GRACE`]), commits.
    async fn stop_crawling(&self) {
        self.cancel.cancel();
        if tokio::time::timeout(SHUTDOWN_GRACE, self.dispatcher.idle()).await.is_err() {
            tracing::warn!("in-flight probes abandoned after {SHUTDOWN_GRACE:?}; nothing of them was written");
        }
        // The other nodes need not wait for this node's claims to expire.
        if let Err(error) = crate::db::leases::release_all(self.store.read(), self.dispatcher.worker().lease()).await {
            tracing::warn!(%error, "crawl claims not released; they expire");
        }
        self.store.writer().stop().await;
    }
}

/// Cancels `cancel` on SIGINT (Ctrl-C) or SIGTERM.
pub fn cancel_on_signals(cancel: CancellationToken) {
    // Registered before this returns (not in the task, which may first run later): a signal sent
    // right after, by a script that read `serve`'s listening line, is caught, not fatal.
    #[cfg(unix)]
    let (mut interrupt, mut terminate) = {
        use tokio::signal::unix::{SignalKind, signal};
        (signal(SignalKind::interrupt()).ok(), signal(SignalKind::terminate()).ok())
    };
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            async fn received(signal: &mut Option<tokio::signal::unix::Signal>) {
                match signal {
                    Some(signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            }
            tokio::select! {
                () = received(&mut interrupt) => {}
                () = received(&mut terminate) => {}
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
        cancel.cancel();
    });
}
