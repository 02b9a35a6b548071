//! `agora-crawler`: URL in, [`ProbeReport`] out.
//!
//! The crate knows x402 and safe HTTP, and nothing of storage, search or the web server:
//! - [`x402`]: decode a 402 answer, validate it strictly, normalize every `accepts` entry;
//! - [`fetch`]: the one SSRF-safe HTTP client (address policy, manual redirects, caps, deadlines);
//! - [`probe`]: both together, with timings, as a [`ProbeReport`] whose JSON form is pinned in
//!   `shared/INTERFACES.md`.

pub mod fetch;
pub mod icon;
pub mod origin_docs;
pub mod policy;
pub mod probe;
pub mod report;
pub mod resolve;
pub mod robots;
pub mod sources;
pub mod target;
#[cfg(feature = "testkit")]
pub mod testkit;
mod timing;
pub mod x402;

pub use fetch::FetchConfig;
pub use policy::AddressPolicy;
pub use probe::{ProbeConfig, Prober};
pub use report::{Discovery, Finding, HttpInfo, Listing, Offer, ProbeReport, Resource, Timings, Verdict};
pub use resolve::{Resolver, StaticResolver, SystemResolver};
pub use robots::{RobotsRules, fetch_robots};
pub use target::ProbeTarget;
pub use x402::validate::{Evaluation, HttpAnswer, evaluate};
