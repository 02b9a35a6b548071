//! Agora: an open discovery catalog for x402 paid APIs.
//!
//! The root crate owns the product around the challenge engine in `agora-crawler`
//! (`shared/ARCHITECTURE.md`): [`config`] and [`cli`], the store ([`db`]), the lifecycle rules
//! ([`lifecycle`]), the crawl service ([`jobs`]), startup and shutdown ([`app`]) and [`http`].

pub mod app;
pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod http;
pub mod jobs;
pub mod lifecycle;
pub mod search;
