//! `agora migrate`: apply pending migrations to `DATA_DIR/agora.db`.

use crate::config::GlobalOptions;
use crate::db::connect;

pub async fn run(global: &GlobalOptions) -> u8 {
    match connect::migrate(&global.data_dir).await {
        Ok(applied) if applied.is_empty() => {
            println!("database {} is up to date", global.data_dir.join(connect::DB_FILE).display());
            0
        }
        Ok(applied) => {
            let versions: Vec<String> = applied.iter().map(i64::to_string).collect();
            println!(
                "applied migrations {} to {}",
                versions.join(", "),
                global.data_dir.join(connect::DB_FILE).display()
            );
            0
        }
        Err(error) => {
            eprintln!("agora: {error}");
            2
        }
    }
}
