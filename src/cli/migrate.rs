//! `agora migrate`: apply pending migrations to `DATA_DIR/agora.db`, or to the PostgreSQL
//! database of `--database-url`.

use crate::config::GlobalOptions;
use crate::db::{connect, postgres};

pub async fn run(global: &GlobalOptions) -> u8 {
    let (outcome, target) = match &global.database_url {
        Some(url) => (postgres::migrate(url).await, postgres::redacted(url)),
        None => {
            (connect::migrate(&global.data_dir).await, global.data_dir.join(connect::DB_FILE).display().to_string())
        }
    };
    match outcome {
        Ok(applied) if applied.is_empty() => {
            println!("database {target} is up to date");
            0
        }
        Ok(applied) => {
            let versions: Vec<String> = applied.iter().map(i64::to_string).collect();
            println!("applied migrations {} to {target}", versions.join(", "));
            0
        }
        Err(error) => {
            eprintln!("agora: {error}");
            2
        }
    }
}
