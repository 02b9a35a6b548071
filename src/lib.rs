//! Agora: an open discovery catalog for x402 paid APIs.
//!
//! The root crate owns the product around the challenge engine in `agora-crawler`: configuration
//! and the command line today; storage, scheduling, search and HTTP as they land
//! (`shared/ARCHITECTURE.md`).

pub mod cli;
pub mod config;
