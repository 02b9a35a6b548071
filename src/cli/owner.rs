//! `agora owner`: what the owner API does, from a shell on the catalog's machine — the token
//! read from AGORA_OWNER_TOKEN or a file (a command line is visible to other users), checked by
//! the same catalog use cases as the API. Works beside a running `serve` (`app::Companion`).

use crate::app::Companion;
use crate::catalog::CatalogError;
use crate::catalog::owner::Owner;
use crate::config::{GlobalOptions, OwnerArgs, OwnerCommand};
use crate::db::moderation::Pins;
use crate::http::views::words as view;

pub async fn run(global: &GlobalOptions, args: &OwnerArgs) -> u8 {
    let token = match &args.token_file {
        Some(path) => match std::fs::read_to_string(path) {
            Ok(text) => text.trim().to_string(),
            Err(error) => {
                eprintln!("agora: cannot read {}: {error}", path.display());
                return 2;
            }
        },
        None => std::env::var("AGORA_OWNER_TOKEN").unwrap_or_default(),
    };
    if token.is_empty() {
        eprintln!("agora: no owner token: set AGORA_OWNER_TOKEN or pass --token-file");
        return 1;
    }
    let companion = match Companion::open(global).await {
        Ok(companion) => companion,
        Err(error) => {
            eprintln!("agora: cannot open {}: {error}", global.store_name());
            return 2;
        }
    };
    let code = match act(&companion, &token, &args.command).await {
        Ok(()) => 0,
        Err(error) => {
            eprintln!("agora: {}", refusal(&error));
            1
        }
    };
    companion.shutdown().await;
    code
}

/// What a refused action says (a store failure says so, without its internals).
fn refusal(error: &CatalogError) -> String {
    match error {
        CatalogError::Store(_) | CatalogError::Index(_) => "the catalog could not be read or written".into(),
        other => other.to_string(),
    }
}

async fn act(companion: &Companion, token: &str, command: &OwnerCommand) -> Result<(), CatalogError> {
    let catalog = &companion.catalog;
    let owner: Owner = catalog.owner(token).await?;
    match command {
        OwnerCommand::Show => {
            let claim = &owner.claim;
            println!("claim {}: {} {} (scope {})", claim.id, claim.kind, claim.subject, claim.scope);
            let now = catalog.now_ms();
            for owned in catalog.owned(&owner).await? {
                let service = &owned.state.service;
                let withheld = if service.withheld() { " (withheld)" } else { "" };
                println!("{}\t{}\t{} {}{withheld}", service.id, service.status.as_str(), service.method, service.url);
                for probe in owned.probes.iter().take(3) {
                    println!("\t{} {} {}", view::ago(probe.probed_at, now), probe.verdict, probe.codes.join(","));
                }
            }
        }
        OwnerCommand::Delist { id } => report(catalog.owner_listing(&owner, *id, true).await?.id, "delisted"),
        OwnerCommand::Relist { id } => report(catalog.owner_listing(&owner, *id, false).await?.id, "relisted"),
        OwnerCommand::Recrawl { id } => {
            let state = catalog.owner_recrawl(&owner, *id).await?;
            report(*id, &format!("probed: {}", state.service.status.as_str()));
        }
        OwnerCommand::Pin { id, name, description, tags, category, docs_url, icon_url } => {
            let pins = Pins {
                name: name.clone(),
                description: description.clone(),
                tags: (!tags.is_empty()).then(|| tags.clone()),
                category: category.clone(),
                docs_url: docs_url.clone(),
                icon_url: icon_url.clone(),
                icon_hash: None,
            };
            catalog.owner_pin(&owner, *id, pins).await?;
            report(*id, "pinned");
        }
        OwnerCommand::Rotate => println!("{}", catalog.rotate_owner_token(&owner).await?),
        OwnerCommand::Revoke => {
            catalog.revoke_claim(&owner).await?;
            println!("claim {} revoked", owner.claim.id);
        }
    }
    Ok(())
}

fn report(id: i64, what: &str) {
    println!("service {id} {what}");
}
