//! `agora reindex`: rebuild the search index from SQLite, from scratch.

use crate::clock::SystemClock;
use crate::config::GlobalOptions;
use crate::db::Store;
use crate::search::{SearchIndex, build};
use indicatif::{ProgressBar, ProgressStyle};
use std::time::Instant;

pub async fn run(global: &GlobalOptions) -> u8 {
    let store = match Store::open_for(global).await {
        Ok(store) => store,
        Err(error) => {
            eprintln!("agora: cannot open {}: {error}", global.store_name());
            return 2;
        }
    };
    let bar = ProgressBar::with_draw_target(None, super::progress_target());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {pos}/{len} indexed [{elapsed_precise}] {wide_bar}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let started = Instant::now();
    let result = build::rebuild(&global.data_dir, store.read(), &SystemClock, &|done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })
    .await;
    bar.finish_and_clear();
    store.close().await;
    match result {
        Ok(indexed) => {
            println!(
                "indexed {indexed} services into {} in {:.1} s",
                SearchIndex::dir(&global.data_dir).display(),
                started.elapsed().as_secs_f64()
            );
            0
        }
        Err(error) => {
            eprintln!("agora: reindex failed: {error}");
            2
        }
    }
}
