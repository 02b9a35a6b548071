//! Agora: an open discovery catalog for x402 paid APIs.
//!
//! The root crate owns the product around the challenge engine in `agora-crawler`
//! (`docs/ARCHITECTURE.md`): [`config`] and [`cli`], the store ([`db`]), the lifecycle rules
//! ([`lifecycle`]), the crawl service ([`jobs`]), imports from sources ([`sources`]), the search index ([`search`]), the catalog core
//! every front end calls ([`catalog`]), the HTTP front ends ([`http`]), and startup and shutdown
//! ([`app`], [`build_app`]).

pub mod app;
pub mod catalog;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod demo;
pub mod http;
pub mod jobs;
pub mod lifecycle;
pub mod mcp;
pub mod ownership;
pub mod params;
pub mod quality;
pub mod search;
pub mod sources;

pub use app::{App, AppConfig, AppError, AppState};

/// Builds the whole product from `config`: the store (migrated), the search index (caught up or
/// rebuilt), the crawler, and the one [`AppState`] the front ends share. `agora serve` and the
/// tests start Agora through this; stop it with [`App::shutdown`].
pub async fn build_app(config: AppConfig) -> Result<App, AppError> {
    app::build(config).await
}
