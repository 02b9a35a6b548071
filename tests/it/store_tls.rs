//! TLS to PostgreSQL: against a cluster that refuses connections without TLS, a node whose URL
//! asks `sslmode=verify-full` with the cluster's CA connects (every connection it holds is
//! encrypted) and serves; without TLS, or with a certificate it cannot verify, it stops with a
//! clear error and exit status 2 rather than waiting (waiting would not mend either). Runs its
//! own cluster, so it runs in both test passes.

use crate::cli::agora;
use crate::nodes::{Cluster, CountingSeller, Node, eventually};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread")]
async fn a_node_reaches_postgresql_over_verified_tls_and_refuses_what_it_cannot_verify() {
    let cluster = Cluster::start_tls();
    let verified = cluster.database().await;
    assert!(verified.contains("sslmode=verify-full") && verified.contains("sslrootcert="), "{verified}");

    let seller = CountingSeller::start([127, 0, 0, 75], Duration::ZERO).await;
    let node = Node::start(&verified, 60, 2).await;
    let (status, body) = node.register(&seller.seller.url("/sealed")).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_i64().expect("id");
    assert!(eventually(Duration::from_secs(10), || async { node.search("sealed").await == [id] }).await);

    // Every connection the node holds is encrypted (the server would refuse any other, too).
    let observer = sqlx::PgPool::connect(&verified).await.expect("observer connects");
    let (encrypted, plain): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*) FILTER (WHERE s.ssl), COUNT(*) FILTER (WHERE NOT s.ssl) \
         FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) WHERE a.application_name = 'agora'",
    )
    .fetch_one(&observer)
    .await
    .expect("connection statistics");
    assert!(encrypted >= 1 && plain == 0, "{encrypted} encrypted, {plain} plain");
    observer.close().await;

    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().to_str().expect("utf-8");
    let without_tls = verified.split('?').next().expect("base").to_string() + "?sslmode=disable";
    // The CA left out: Mozilla's roots do not know the test CA.
    let unverifiable = verified.split("&sslrootcert=").next().expect("base").to_string();
    for (url, says) in [(&without_tls, "no encryption"), (&unverifiable, "certificate")] {
        for command in [&["migrate"][..], &["serve", "--listen", "127.0.0.1:0"][..]] {
            let mut args = vec!["--data-dir", data, "--database-url", url];
            args.extend_from_slice(command);
            let run = agora(&args, &[]).await;
            assert_eq!(run.code, 2, "{url} {command:?}: {}", run.stderr);
            assert!(run.stderr.contains(says), "{url} {command:?}: {}", run.stderr);
            assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
        }
    }
    // Encrypted but unverified, as libpq's `require` means: connects.
    let encrypted_only = unverifiable.replace("sslmode=verify-full", "sslmode=require");
    let run = agora(&["--data-dir", data, "--database-url", &encrypted_only, "migrate"], &[]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
}
