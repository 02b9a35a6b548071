//! Command-line and environment configuration (`shared/INTERFACES.md` "CLI"): pure data.
//!
//! Every global option has an `AGORA_*` environment twin, so a deployment configures Agora the
//! same way a user types it.

use agora_crawler::AddressPolicy;
use clap::{Args, Parser, Subcommand};
use ipnet::IpNet;
use std::path::PathBuf;

/// Agora: an open discovery catalog for x402 paid APIs.
#[derive(Debug, Parser)]
#[command(name = "agora", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOptions,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand accepts.
#[derive(Debug, Clone, Args)]
pub struct GlobalOptions {
    /// Where Agora stores everything: DIR/agora.db (SQLite) and DIR/index/ (search index).
    #[arg(long, global = true, env = "AGORA_DATA_DIR", default_value = "./data", value_name = "DIR")]
    pub data_dir: PathBuf,

    /// Let outbound fetches reach this private/loopback range (repeatable; for tests, demos and
    /// private deployments). Empty by default: only public addresses are probed.
    #[arg(long = "allow-cidr", global = true, env = "AGORA_ALLOW_CIDRS", value_delimiter = ',', value_name = "CIDR", value_parser = parse_cidr)]
    pub allow_cidrs: Vec<IpNet>,

    /// Politeness: minimum gap in milliseconds between two requests to one host (0 allowed).
    #[arg(long, global = true, env = "AGORA_HOST_DELAY_MS", default_value_t = 1000, value_name = "N")]
    pub host_delay_ms: u64,

    /// Most probes in flight at once, across all hosts.
    #[arg(long, global = true, env = "AGORA_CONCURRENCY", default_value_t = 64, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub concurrency: u32,
}

impl GlobalOptions {
    /// The address policy these options ask for.
    pub fn address_policy(&self) -> AddressPolicy {
        AddressPolicy::new(self.allow_cidrs.clone())
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Probe one URL and print the verdict; stores nothing.
    ///
    /// Exit status: 0 listed, 1 not x402 or invalid, 2 fetch error, refused or usage error.
    Probe(ProbeArgs),
}

#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// The endpoint URL (http or https).
    pub url: String,
    /// The HTTP method the endpoint is paid on (GET, POST, PUT, PATCH, DELETE).
    #[arg(long, short = 'X', default_value = "GET")]
    pub method: String,
    /// Print the report as one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

fn parse_cidr(text: &str) -> Result<IpNet, String> {
    let mut nets = AddressPolicy::parse_allowlist(text)?;
    match (nets.pop(), nets.is_empty()) {
        (Some(net), true) => Ok(net),
        _ => Err(format!("{text:?} is not one CIDR range")),
    }
}
