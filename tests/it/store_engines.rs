//! The two store engines: each test pass runs on the engine it asked for, and a database URL that
//! is wrong or unreachable is a clear error with a non-zero exit (never a panic, never the
//! password in a message).

use crate::cli::agora;
use crate::support::{T0, open_app, options, postgres_store};
use agora::clock::ManualClock;
use agora::db::Dialect;

#[tokio::test]
async fn the_store_under_test_is_the_engine_the_pass_asked_for() {
    let dir = tempfile::tempdir().expect("dir");
    let app = open_app(&options(dir.path(), &[]), &ManualClock::new(T0)).await;
    let expected = if postgres_store().is_some() { Dialect::Postgres } else { Dialect::Sqlite };
    assert_eq!(app.store.read().dialect(), expected, "AGORA_TEST_STORE={:?}", std::env::var("AGORA_TEST_STORE"));
    app.shutdown().await;
}

#[tokio::test]
async fn bad_and_unreachable_database_urls_are_clear_errors() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().to_str().expect("utf-8");
    for (url, says) in [
        ("mysql://root:hunter2@db.example/agora", "expected postgres://"),
        ("postgres://agora:hunter2@[::1/agora", "bad --database-url"),
        // Nothing listens on port 1 of loopback: refused at once. (`serve` waits for such a
        // database instead, answering 503: tests/it/store_waiting.rs.)
        ("postgres://agora:hunter2@127.0.0.1:1/agora", "cannot reach the database"),
    ] {
        let serve = &["serve", "--listen", "127.0.0.1:0"][..];
        let commands = if url.contains(":1/") {
            vec![&["migrate"][..], &["crawl", "--once"][..]]
        } else {
            vec![&["migrate"][..], serve]
        };
        for command in commands {
            let mut args = vec!["--data-dir", data, "--database-url", url];
            args.extend_from_slice(command);
            let run = agora(&args, &[]).await;
            assert_eq!(run.code, 2, "{url} {command:?}: {}", run.stderr);
            assert!(run.stderr.contains(says), "{url} {command:?}: {}", run.stderr);
            assert!(!run.stderr.contains("hunter2") && !run.stdout.contains("hunter2"), "{}", run.stderr);
            assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
        }
    }
    // Nothing was created in the data directory for a store that was never opened.
    assert!(!dir.path().join("agora.db").exists());
}
