//! Subcommand implementations. Each returns the process exit code it wants.

pub mod crawl;
pub mod migrate;
pub mod probe;
pub mod register;
pub mod serve;
