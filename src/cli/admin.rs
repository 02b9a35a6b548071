//! `agora admin`: the operator's moderation from the catalog's own machine (shell access is the
//! credential; actions are audited as `operator:cli`). Works beside a running `serve`.

use crate::app::Companion;
use crate::catalog::CatalogError;
use crate::catalog::admin::{BlockKind, Operator};
use crate::config::{AdminCommand, GlobalOptions};

/// Audit entries printed per call.
const AUDIT_PAGE: i64 = 100;

pub async fn run(global: &GlobalOptions, command: &AdminCommand) -> u8 {
    let companion = match Companion::open(global).await {
        Ok(companion) => companion,
        Err(error) => {
            eprintln!("agora: cannot open {}: {error}", global.store_name());
            return 2;
        }
    };
    let code = match act(&companion, command).await {
        Ok(()) => 0,
        Err(error) => {
            eprintln!("agora: {error}");
            1
        }
    };
    companion.shutdown().await;
    code
}

async fn act(companion: &Companion, command: &AdminCommand) -> Result<(), CatalogError> {
    let catalog = &companion.catalog;
    let operator = Operator::cli();
    match command {
        AdminCommand::Hide { id, reason } => {
            catalog.hide(&operator, *id, Some(reason)).await?;
            println!("service {id} hidden");
        }
        AdminCommand::Unhide { id } => {
            catalog.hide(&operator, *id, None).await?;
            println!("service {id} shown");
        }
        AdminCommand::Block { kind, value, reason } => {
            let kind = BlockKind::parse(kind).unwrap_or(BlockKind::Host);
            let block = catalog.block(&operator, kind, value, reason).await?;
            println!("block {}: {} {}", block.id, block.kind, block.value);
        }
        AdminCommand::Unblock { id } => {
            if !catalog.unblock(&operator, *id).await? {
                return Err(CatalogError::Param(crate::params::ParamError::new(
                    "id",
                    format!("no block with id {id}"),
                )));
            }
            println!("block {id} lifted");
        }
        AdminCommand::Blocks => {
            for block in catalog.blocks(&operator).await? {
                println!("{}\t{}\t{}\t{}", block.id, block.kind, block.value, block.reason);
            }
        }
        AdminCommand::Audit { service, before } => {
            for entry in catalog.audit_log(&operator, *before, *service, AUDIT_PAGE).await? {
                let service = entry.service_id.map_or_else(|| "-".to_string(), |id| id.to_string());
                let target = entry.target.unwrap_or_default();
                println!("{}\t{}\t{}\t{}\tservice {service}\t{target}", entry.id, entry.at, entry.actor, entry.action);
            }
        }
    }
    Ok(())
}
