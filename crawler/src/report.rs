//! The probe report: what one probe of one URL found, in the JSON shape pinned by
//! `shared/INTERFACES.md` ("Probe report"). Money is always a decimal string. Reports are stored
//! in this shape and read back into these types (serde both ways).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::Duration;
use utoipa::ToSchema;

/// The judgement on one URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum Verdict {
    /// A valid x402 challenge: the URL belongs in the catalog.
    #[serde(rename = "listed")]
    Listed,
    /// The answer is not an x402 challenge (200, 404, 401, HTML paywall, auth-only route, ...).
    #[serde(rename = "not_x402")]
    NotX402,
    /// A 402 with an x402 challenge that breaks the protocol's rules.
    #[serde(rename = "invalid")]
    Invalid,
    /// No usable answer (timeouts, resets, 5xx, 429, oversize, redirect loops): transient.
    #[serde(rename = "fetch_error")]
    FetchError,
    /// The URL or the address policy forbade the request; nothing was sent.
    #[serde(rename = "refused")]
    Refused,
}

impl Verdict {
    /// The lower-case wire name (`listed`, `not_x402`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Listed => "listed",
            Verdict::NotX402 => "not_x402",
            Verdict::Invalid => "invalid",
            Verdict::FetchError => "fetch_error",
            Verdict::Refused => "refused",
        }
    }

    /// Whether a later probe may well answer differently without the seller changing anything.
    pub fn is_transient(self) -> bool {
        self == Verdict::FetchError
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem or warning: a stable machine code, a sentence a seller can act on, and where in
/// the challenge it was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Finding {
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

impl Finding {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Finding { code: code.into(), message: message.into(), path: None }
    }

    pub fn at(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }
}

/// Time spent in each phase of the final hop, in milliseconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Timings {
    /// TCP (and TLS) connect; `null` when a pooled connection was reused or it was not observed.
    pub connect: Option<f64>,
    /// Until the response head arrived.
    pub first_byte: Option<f64>,
    /// The whole probe, redirects and body included.
    pub total: f64,
}

/// What happened on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct HttpInfo {
    /// Status of the final answer; `null` when no answer arrived (connect failure, timeout).
    pub status: Option<u16>,
    pub final_url: String,
    /// Every URL redirected to, in order.
    pub redirects: Vec<String>,
    pub timings_ms: Timings,
}

/// The resource a challenge is for.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Resource {
    pub url: String,
    pub description: String,
    pub mime_type: Option<String>,
    /// v2 `resource.iconUrl`, when it passed the spec's checks: the seller's address, never
    /// shown as is (Agora serves a checked copy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon_url: Option<String>,
}

/// Discovery metadata: the v2 `extensions.bazaar` or the v1 `outputSchema`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Discovery {
    pub service_name: Option<String>,
    pub tags: Vec<String>,
    /// The request description (`type`, `method`, `queryParams`, `body`, ... or an MCP tool).
    pub input: Value,
    pub output: Value,
    pub route_template: Option<String>,
    /// False when the seller's metadata failed its own schema or our structural checks: it is kept
    /// for the seller to see, but not trusted for search.
    pub valid: bool,
}

impl Discovery {
    /// `mcp` when the metadata describes an MCP tool (PROTOCOL §8.4), else `http`.
    pub fn service_type(&self) -> &'static str {
        if self.input.get("type").and_then(Value::as_str) == Some("mcp") { "mcp" } else { "http" }
    }

    /// The MCP tool's name (`input.toolName`, or the older `input.tool`).
    pub fn tool_name(&self) -> Option<&str> {
        let input = self.input.get("toolName").or_else(|| self.input.get("tool"));
        input.and_then(Value::as_str).filter(|name| !name.is_empty())
    }
}

/// One `accepts` entry, normalized.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Offer {
    pub scheme: String,
    /// Canonical CAIP-2 id.
    pub network: String,
    pub network_v1: Option<String>,
    pub family: String,
    pub testnet: bool,
    /// Token address (EVM lower-case).
    pub asset: String,
    pub asset_symbol: Option<String>,
    pub decimals: Option<u8>,
    /// Atomic units, decimal string.
    pub amount: String,
    /// Exact decimal USD, only for known stablecoins under a known scheme.
    pub usd: Option<String>,
    /// True when `amount` is a maximum (`upto`, `batch-settlement`, `auth-capture`), not the
    /// price of every call.
    pub usd_is_max: bool,
    pub pay_to: String,
    pub max_timeout_seconds: u64,
    #[schema(value_type = Object)]
    pub extra: Value,
    /// How the payment settles (`extra.paymentFlow`): `authorization` (verify, serve, settle),
    /// `upfront` (settled before the resource is served, no refund), `escrow`, or the seller's
    /// own value, which SDK clients do not pay.
    #[serde(default = "default_flow")]
    pub payment_flow: String,
    /// EVM only: how the token moves (`eip3009`, `permit2`, `erc7710`), as stated in
    /// `extra.assetTransferMethod` or implied by the scheme and token; `null` elsewhere.
    #[serde(default)]
    pub asset_transfer_method: Option<String>,
    /// False when the official SDK clients must skip this offer (an unknown payment flow or
    /// transfer method, a method the token does not support).
    #[serde(default = "default_payable")]
    pub payable: bool,
}

fn default_flow() -> String {
    "authorization".to_string()
}

fn default_payable() -> bool {
    true
}

/// A valid challenge, normalized.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Listing {
    pub x402_version: u8,
    pub resource: Resource,
    pub discovery: Option<Discovery>,
    pub offers: Vec<Offer>,
}

/// Everything one probe found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ProbeReport {
    pub url: String,
    pub method: String,
    pub verdict: Verdict,
    pub problems: Vec<Finding>,
    /// Problems found beyond the first ones kept (`x402::findings::MAX_FINDINGS_KEPT`); absent
    /// when every problem is listed.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub problems_omitted: usize,
    pub warnings: Vec<Finding>,
    /// Warnings found beyond the ones kept; absent when every warning is listed.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub warnings_omitted: usize,
    /// `null` when no request was sent (refused).
    pub http: Option<HttpInfo>,
    /// Present only when the verdict is `listed`.
    pub listing: Option<Listing>,
    /// The decoded challenge JSON as the seller sent it (size-capped), whatever the verdict.
    #[schema(value_type = Option<Object>)]
    pub challenge: Option<Value>,
    /// How long the seller asked us to wait (`Retry-After`), for the scheduler.
    #[serde(skip)]
    pub retry_after: Option<Duration>,
}

fn is_zero(count: &usize) -> bool {
    *count == 0
}

impl Discovery {
    /// The schema's field names and descriptions as search text; empty when the metadata is not
    /// trusted (`valid: false`).
    pub fn schema_text(&self) -> String {
        if !self.valid {
            return String::new();
        }
        crate::x402::schema_text::schema_text(&self.input, &self.output)
    }
}

impl Listing {
    /// A stable fingerprint of everything a buyer sees (offers, prices, payTo, metadata): equal
    /// fingerprints mean nothing changed between two probes. Keccak-256 of the JSON form, hex.
    pub fn fingerprint(&self) -> String {
        use tiny_keccak::{Hasher, Keccak};
        let json = serde_json::to_vec(self).unwrap_or_default();
        let mut hasher = Keccak::v256();
        hasher.update(&json);
        let mut digest = [0u8; 32];
        hasher.finalize(&mut digest);
        digest[..16].iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl ProbeReport {
    /// Adds a warning found after validation, within the same cap as the validator's.
    pub fn warn(&mut self, warning: Finding) {
        if self.warnings.len() < crate::x402::findings::MAX_FINDINGS_KEPT {
            self.warnings.push(warning);
        } else {
            self.warnings_omitted += 1;
        }
    }
}
