//! Subcommand implementations. Each returns the process exit code it wants.

pub mod admin;
pub mod crawl;
pub mod import;
pub mod mcp;
pub mod migrate;
pub mod migrate_store;
pub mod owner;
pub mod probe;
pub mod register;
pub mod reindex;
pub mod serve;
pub mod terminal;
pub mod wait_for_store;

use crate::app::Crawler;
use crate::config::GlobalOptions;
use indicatif::ProgressDrawTarget;
use std::io::IsTerminal;

/// Opens the data directory and the crawler (without the index, which stays with `serve`), or
/// says why not on stderr.
async fn open_crawler(global: &GlobalOptions) -> Option<Crawler> {
    match Crawler::open(global).await {
        Ok(crawler) => Some(crawler),
        Err(error) => {
            eprintln!("agora: cannot open {}: {error}", global.store_name());
            None
        }
    }
}

/// Progress bars draw on stderr only when it is a terminal, so logs and CI output stay clean.
fn progress_target() -> ProgressDrawTarget {
    if std::io::stderr().is_terminal() { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() }
}
