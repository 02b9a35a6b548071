//! What the service page says about who stands behind a listing (docs/OWNERSHIP.md): what was
//! proven and when, what its owner pinned over the challenge's own words, and why it is out of
//! search when its owner or an operator withheld it.

use crate::db::claims::Proof;
use crate::db::services::ServiceRow;
use crate::http::views::words as view;

/// The page's trust section.
pub struct Trust {
    /// One sentence per proof ("Control of the origin https://… proven by a file on it, 3 days ago").
    pub proofs: Vec<String>,
    /// Why it is out of search, if it is.
    pub withheld: Option<String>,
    /// What the owner pinned, and what the challenge itself says.
    pub pinned: Option<String>,
    pub category: Option<String>,
    /// A docs link the owner pinned (an http(s) URL, checked when pinned).
    pub docs_url: Option<String>,
}

impl Trust {
    pub fn new(service: &ServiceRow, proofs: &[Proof], now: i64) -> Trust {
        let proofs = proofs
            .iter()
            .map(|proof| {
                let what = match proof.kind.as_str() {
                    "origin" => format!("Control of the origin {}", view::clip(&proof.subject, 200)),
                    _ => format!("Control of the payTo address {}", proof.subject),
                };
                let how = match proof.method.as_str() {
                    "well_known" => "a file Agora asked it to serve",
                    "eip191" => "a Sign-In-With-Ethereum signature (EIP-4361)",
                    _ => "a Sign-In-With-Solana signature (ed25519)",
                };
                format!("{what} proven by {how}, {}.", view::ago(proof.proven_at, now))
            })
            .collect();
        let withheld = match (service.hidden_at, service.owner_delisted_at) {
            (Some(at), _) => Some(format!(
                "Hidden by the catalog's operator {}: {}",
                view::ago(at, now),
                view::clip(service.hidden_reason.as_deref().unwrap_or("no reason given"), 500)
            )),
            (None, Some(at)) => Some(format!("Delisted by its owner {}.", view::ago(at, now))),
            (None, None) => None,
        };
        let pinned = service.pinned.as_ref().map(|pinned| {
            let name = pinned.challenge_name.as_deref().unwrap_or("no name");
            format!(
                "Name, description and tags as its owner pinned them {}; the seller's 402 challenge itself says “{}”.",
                view::ago(pinned.pinned_at, now),
                view::clip(name, 120)
            )
        });
        let pins = service.pinned.as_ref().map(|p| &p.pins);
        Trust {
            proofs,
            withheld,
            pinned,
            category: pins.and_then(|p| p.category.clone()),
            docs_url: pins.and_then(|p| p.docs_url.clone()),
        }
    }
}
