//! Subcommand implementations. Each returns the process exit code it wants.

pub mod crawl;
pub mod migrate;
pub mod probe;
pub mod register;
pub mod serve;

use crate::app::App;
use crate::config::GlobalOptions;

/// Opens the data directory and the crawler, or says why not on stderr.
async fn open_app(global: &GlobalOptions) -> Option<App> {
    match App::open(global).await {
        Ok(app) => Some(app),
        Err(error) => {
            eprintln!("agora: cannot open {}: {error}", global.data_dir.display());
            None
        }
    }
}
