//! `agora migrate-store --to postgres://…`: copies the SQLite catalog in the data directory into
//! an empty PostgreSQL database and verifies every table's row count (`db::copy`). Exit status
//! 0 when copied and verified, 2 otherwise (nothing committed).

use crate::config::{GlobalOptions, MigrateStoreArgs};
use crate::db::{connect, copy, postgres};
use sqlx::{ConnectOptions, Connection};

pub async fn run(global: &GlobalOptions, args: &MigrateStoreArgs) -> u8 {
    match migrate(global, args).await {
        Ok(counts) => {
            let services = counts.iter().find(|(table, _)| *table == "services").map_or(0, |(_, n)| *n);
            let rows: i64 = counts.iter().map(|(_, n)| n).sum();
            println!(
                "copied {services} services ({rows} rows in {} tables, every count verified) to {}",
                counts.len(),
                postgres::redacted(&args.to)
            );
            println!("serve from it with: agora --database-url <URL> serve");
            0
        }
        Err(message) => {
            eprintln!("agora: migrate-store: {message}");
            2
        }
    }
}

async fn migrate(global: &GlobalOptions, args: &MigrateStoreArgs) -> Result<copy::Counts, String> {
    if global.database_url.is_some() {
        return Err(
            "the source is the SQLite catalog in --data-dir: leave --database-url (AGORA_DATABASE_URL) unset".into()
        );
    }
    let file = global.data_dir.join(connect::DB_FILE);
    if !file.exists() {
        return Err(format!("no catalog at {}", file.display()));
    }
    // The source at this build's schema (a pending migration is applied, as any start would).
    connect::migrate(&global.data_dir).await.map_err(|e| e.to_string())?;
    postgres::migrate(&args.to).await.map_err(|e| e.to_string())?;
    let mut sqlite = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&file)
        .read_only(true)
        .connect()
        .await
        .map_err(|e| format!("{}: {e}", file.display()))?;
    let mut target = postgres::options(&args.to)
        .map_err(|e| e.to_string())?
        .connect()
        .await
        .map_err(|e| format!("cannot reach the database: {e}"))?;
    // One read transaction: one snapshot, even if a server still writes the file.
    let mut snapshot = sqlite.begin().await.map_err(|e| e.to_string())?;
    let mut progress = |table: &str, rows: i64| eprintln!("agora: {table}: {rows} rows");
    let counts = copy::copy(&mut snapshot, &mut target, &mut progress).await.map_err(|e| e.to_string())?;
    let _ = snapshot.rollback().await;
    let _ = target.close().await;
    Ok(counts)
}
