//! `agora owner` and `agora admin` as people run them: the real binary on a data directory where
//! a claim was proven, the owner token from the environment (never an argument), exit codes that
//! say done (0), refused (1) or unusable (2), and the audit log naming `operator:cli`.

use crate::cli::Run;
use crate::ownership::{Catalog, EVM_ADDRESS, OwnedSeller};
use serde_json::json;
use std::path::Path;

/// `agora --data-dir DIR …` with the owner token in the environment (empty: none).
async fn agora(dir: &Path, args: &[&str], token: Option<&str>) -> Run {
    let dir = dir.to_str().expect("utf-8 temp path");
    let store = crate::support::store_flags(Path::new(dir));
    let mut all = vec!["--data-dir", dir, "--allow-cidr", "127.0.0.0/8", "--host-delay-ms", "0"];
    all.extend(store.iter().map(String::as_str));
    all.extend_from_slice(args);
    crate::cli::agora(&all, &[("AGORA_OWNER_TOKEN", token.unwrap_or_default())]).await
}

#[tokio::test(flavor = "multi_thread")]
async fn owners_and_operators_act_from_the_shell() {
    let catalog = Catalog::open(None).await;
    let seller = OwnedSeller::start([127, 0, 0, 96]).await;
    seller.pays("/weather", EVM_ADDRESS);
    let id = catalog.register(&seller.url("/weather")).await;
    let (_, challenge) =
        catalog.post("/api/v1/claims/challenges", None, &json!({"method": "well_known", "url": seller.url("/")})).await;
    seller
        .serve_proof(challenge["well_known_url"].as_str().expect("file"), challenge["content"].as_str().expect("text"));
    let (status, proven) = catalog.post("/api/v1/claims", None, &json!({"nonce": challenge["nonce"]})).await;
    assert_eq!(status, 201, "{proven}");
    let token = proven["owner_token"].as_str().expect("token").to_string();
    let dir = catalog.data_dir().to_path_buf();
    catalog.app.shutdown().await;
    let dir = dir.as_path();

    let missing = agora(dir, &["owner", "show"], None).await;
    assert_eq!(missing.code, 1);
    assert!(missing.stderr.contains("AGORA_OWNER_TOKEN"), "{}", missing.stderr);
    let forged = agora(dir, &["owner", "show"], Some("agora_owner_1_00")).await;
    assert_eq!((forged.code, forged.stderr.trim()), (1, "agora: The owner token is not valid."));
    let shown = agora(dir, &["owner", "show"], Some(&token)).await;
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    assert!(shown.stdout.contains(&seller.url("/weather")), "{}", shown.stdout);
    let delisted = agora(dir, &["owner", "delist", &id.to_string()], Some(&token)).await;
    assert_eq!((delisted.code, delisted.stdout.trim()), (0, format!("service {id} delisted").as_str()));
    let pinned =
        agora(dir, &["owner", "pin", &id.to_string(), "--name", "Shell Weather", "--tag", "x"], Some(&token)).await;
    assert_eq!(pinned.code, 0, "{}", pinned.stderr);
    let foreign = agora(dir, &["owner", "relist", "999"], Some(&token)).await;
    assert_eq!(foreign.code, 1, "a service the token does not cover: {}", foreign.stderr);

    let blocked = agora(dir, &["admin", "block", "host", "127.0.0.97", "--reason", "Spam from here."], None).await;
    assert_eq!(blocked.code, 0, "{}", blocked.stderr);
    let other = OwnedSeller::start([127, 0, 0, 97]).await;
    other.pays("/x", EVM_ADDRESS);
    let refused = agora(dir, &["register", &other.url("/x")], None).await;
    assert_ne!(refused.code, 0);
    assert!(format!("{}{}", refused.stdout, refused.stderr).contains("Spam from here."), "{}", refused.stdout);
    let hidden = agora(dir, &["admin", "hide", &id.to_string(), "--reason", "Under review."], None).await;
    assert_eq!(hidden.code, 0, "{}", hidden.stderr);
    let bad = agora(dir, &["admin", "hide", &id.to_string(), "--reason", " "], None).await;
    assert_eq!(bad.code, 1, "an empty public reason is refused: {}", bad.stderr);
    let audit = agora(dir, &["admin", "audit"], None).await;
    assert_eq!(audit.code, 0);
    for line in ["operator:cli\thidden", "operator:cli\tblocked", &format!("owner:1\towner_delisted\tservice {id}")] {
        assert!(audit.stdout.contains(line), "{line:?} not in {}", audit.stdout);
    }
    assert!(!audit.stdout.contains(&token[token.len() - 64..]));
}
