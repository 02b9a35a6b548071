//! Proof of control and what it unlocks (docs/OWNERSHIP.md): the [`siwx`] signature check, the
//! [`token`]s Agora hands out, and the settings the catalog checks proofs against.
//! The use cases themselves are the catalog's (`catalog::claims`, `catalog::owner`,
//! `catalog::admin`).

pub mod siwx;
pub mod token;

use token::OperatorToken;
use url::Url;

/// What proofs are bound to, and who operates this catalog.
#[derive(Debug, Clone)]
pub struct OwnershipSettings {
    /// Agora's public base URL: its host is the `domain` every SIWX message must name, and
    /// `<base>/api/v1/claims` the message's `uri`.
    pub public_url: Url,
    /// `None`: the operator API and pages are off.
    pub operator: Option<OperatorToken>,
}

impl OwnershipSettings {
    /// Settings for a catalog reachable at `public_url`, without an operator.
    pub fn new(public_url: Url) -> OwnershipSettings {
        OwnershipSettings { public_url, operator: None }
    }

    /// The SIWX `domain`: the public URL's host, with its port when not the scheme's default
    /// (what a browser's `location.host` says, and what the x402 SDK compares).
    pub fn domain(&self) -> String {
        let host = self.public_url.host_str().unwrap_or_default();
        match self.public_url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        }
    }

    /// The SIWX `uri`: where claims are proven.
    pub fn claims_uri(&self) -> String {
        format!("{}/api/v1/claims", self.public_url.as_str().trim_end_matches('/'))
    }
}

impl Default for OwnershipSettings {
    fn default() -> Self {
        #[allow(clippy::unwrap_used)] // a constant that parses
        OwnershipSettings::new(Url::parse("http://127.0.0.1:8402").unwrap())
    }
}
