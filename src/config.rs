//! Command-line and environment configuration (`shared/INTERFACES.md` "CLI"): pure data, and the
//! defaults the flags show. It imports nothing of Agora's own: the parts it configures read it
//! (`jobs::CrawlSettings::from_options`, `http::limits`, `http::server`).
//!
//! Every global option has an `AGORA_*` environment twin, so a deployment configures Agora the
//! same way a user types it.

use agora_crawler::AddressPolicy;
use clap::{Args, Parser, Subcommand};
use ipnet::IpNet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

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

    /// Keep the catalog in this PostgreSQL database (postgres://user:password@host/db) instead of
    /// SQLite in the data directory, so several nodes can share it (docs/DEPLOY.md). The search
    /// index stays in DIR/index/, one per node.
    #[arg(long, global = true, env = "AGORA_DATABASE_URL", value_name = "URL", hide_env_values = true)]
    pub database_url: Option<String>,

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

    /// Days raw probes are kept; older history survives as daily rollups.
    #[arg(long, global = true, env = "AGORA_RETENTION_DAYS", default_value_t = 30, value_name = "DAYS", value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub retention_days: u32,

    /// Seconds a node's claim on a due service lasts (PostgreSQL store, several nodes): a node
    /// that dies mid-crawl leaves claims the others take over once they expire.
    #[arg(long, global = true, env = "AGORA_CRAWL_LEASE_SECS", default_value_t = 300, value_name = "SECS", value_parser = clap::value_parser!(u32).range(1..=86_400))]
    pub crawl_lease_secs: u32,

    /// Consecutive failed probes that turn a listed service into `degraded`.
    #[arg(long, global = true, env = "AGORA_DEGRADE_AFTER", default_value_t = 3, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100))]
    pub degrade_after: u32,

    /// Hours a service may keep failing before it is `delisted`.
    #[arg(long, global = true, env = "AGORA_DELIST_AFTER_HOURS", default_value_t = 168, value_name = "HOURS", value_parser = clap::value_parser!(u32).range(1..=87_600))]
    pub delist_after_hours: u32,

    /// Hours between re-probes of `rejected` and `delisted` services (so a fix is noticed).
    #[arg(long, global = true, env = "AGORA_RECHECK_REJECTED_HOURS", default_value_t = 24, value_name = "HOURS", value_parser = clap::value_parser!(u32).range(1..=8760))]
    pub recheck_rejected_hours: u32,
}

impl GlobalOptions {
    /// The catalog's store as messages name it: the PostgreSQL URL (password hidden) or the data
    /// directory.
    pub fn store_name(&self) -> String {
        match &self.database_url {
            Some(url) => crate::db::postgres::redacted(url),
            None => self.data_dir.display().to_string(),
        }
    }

    /// The address policy these options ask for.
    pub fn address_policy(&self) -> AddressPolicy {
        AddressPolicy::new(self.allow_cidrs.clone())
    }
}

/// Serving defaults (docs/API.md, docs/LIMITS.md): the flags below show them, the HTTP side
/// falls back to them.
pub const DEFAULT_READS_PER_MINUTE: u32 = 600;
pub const DEFAULT_WRITES_PER_HOUR: u32 = 60;
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
pub const DEFAULT_MAX_CONNECTIONS: usize = 4096;
pub const DEFAULT_MAX_PER_CLIENT: usize = 64;
pub const DEFAULT_IPV6_PREFIX: u8 = 64;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Probe one URL and print the verdict; stores nothing.
    ///
    /// Exit status: 0 listed, 1 not x402 or invalid, 2 fetch error, refused or usage error.
    Probe(ProbeArgs),
    /// Register an endpoint (or many with --from-file) and probe it at once.
    ///
    /// One URL: exit status as `probe`. With --from-file: 0 when the batch ran, rejections included.
    Register(RegisterArgs),
    /// Probe the services that are due (with --once: everything due now, then exit).
    Crawl(CrawlArgs),
    /// Run the catalog: web pages, JSON API and background crawler, until SIGINT/SIGTERM.
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Copy the SQLite catalog in --data-dir into an empty PostgreSQL database and verify every
    /// table's row count (docs/DEPLOY.md).
    ///
    /// Exit status: 0 when copied and verified, 2 otherwise (nothing is committed).
    MigrateStore(MigrateStoreArgs),
    /// Rebuild the search index (DATA_DIR/index/) from SQLite, with a progress bar. Refuses while
    /// `agora serve` or `crawl` holds the index.
    Reindex,
    /// Import every endpoint a source lists (a facilitator's Bazaar list, an origin's own route
    /// documents, or a file or URL of `URL [METHOD]` lines), probing each like a registration.
    ///
    /// Exit status: 0 when the import ran (refusals and rejections included), 2 when the source
    /// could not be read.
    Import(ImportArgs),
    /// List the sources imported so far, with their last run.
    Sources,
    /// Serve the catalog as MCP tools over stdio (for clients that start it as a child process).
    ///
    /// Reads the same data directory as `serve`, and works while it runs (docs/MCP.md).
    Mcp,
    /// Manage the services an owner token covers (docs/OWNERSHIP.md): the token comes from
    /// AGORA_OWNER_TOKEN or --token-file, never from the command line.
    ///
    /// Exit status: 0 done, 1 refused (a bad token, a service the token does not cover, too
    /// soon), 2 the data directory could not be opened.
    Owner(OwnerArgs),
    /// Moderate the catalog as its operator, on this machine (docs/OWNERSHIP.md); every action is
    /// in the audit log as `operator:cli`.
    ///
    /// Exit status: 0 done, 1 refused (bad input, no such service or block), 2 the data
    /// directory could not be opened.
    #[command(subcommand)]
    Admin(AdminCommand),
}

#[derive(Debug, Args)]
pub struct OwnerArgs {
    /// A file holding the owner token (instead of the AGORA_OWNER_TOKEN environment variable).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    #[command(subcommand)]
    pub command: OwnerCommand,
}

#[derive(Debug, Subcommand)]
pub enum OwnerCommand {
    /// The claim and every service it covers, with their latest probes.
    Show,
    /// Take a service out of search, the Bazaar endpoints and the feeds.
    Delist { id: i64 },
    /// Put a service you delisted back.
    Relist { id: i64 },
    /// Probe a service now (at most every 10 s).
    Recrawl { id: i64 },
    /// Pin display metadata (every field: the ones left out show the challenge's own).
    Pin {
        id: i64,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        description: Option<String>,
        /// Repeatable.
        #[arg(long = "tag")]
        tags: Vec<String>,
        #[arg(long)]
        category: Option<String>,
        #[arg(long)]
        docs_url: Option<String>,
        #[arg(long)]
        icon_url: Option<String>,
    },
    /// Replace the token; prints the new one (the old one stops working).
    Rotate,
    /// End the claim.
    Revoke,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Hide a service with a public reason.
    Hide {
        id: i64,
        #[arg(long)]
        reason: String,
    },
    /// Show a hidden service again.
    Unhide { id: i64 },
    /// Block a host, an origin or a payTo address from registration, import and listing.
    Block {
        #[arg(value_parser = ["host", "origin", "pay_to"])]
        kind: String,
        value: String,
        #[arg(long)]
        reason: String,
    },
    /// Lift a block.
    Unblock { id: i64 },
    /// List the blocks.
    Blocks,
    /// The audit log, newest first.
    Audit {
        /// Only this service's entries.
        #[arg(long)]
        service: Option<i64>,
        /// Entries before this id (paging).
        #[arg(long)]
        before: Option<i64>,
    },
}

#[derive(Debug, Args)]
pub struct RegisterArgs {
    /// The endpoint URL (http or https).
    #[arg(required_unless_present = "from_file", conflicts_with = "from_file")]
    pub url: Option<String>,
    /// The HTTP method the endpoint is paid on (GET, POST, PUT, PATCH, DELETE).
    #[arg(long, short = 'X', default_value = "GET", conflicts_with = "from_file")]
    pub method: String,
    /// Print the result as one JSON object on stdout.
    #[arg(long, conflicts_with = "from_file")]
    pub json: bool,
    /// Register every `URL [METHOD]` line of FILE (`-` for stdin); `#` comments and blank lines
    /// are skipped. Probes go through the polite scheduler; a summary is printed.
    #[arg(long, value_name = "FILE")]
    pub from_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// A facilitator base URL (its `/discovery/resources` is read), an origin URL (its
    /// `/.well-known/x402*` and OpenAPI documents), or a list: a file, or a URL ending in `.txt`,
    /// of `URL [METHOD]` lines.
    pub source: String,
    /// What the source is (detected from it when left out).
    #[arg(long, value_enum)]
    pub kind: Option<crate::sources::SourceKind>,
}

#[derive(Debug, Args)]
pub struct CrawlArgs {
    /// Probe everything due now, then exit (without it, keep crawling until interrupted).
    #[arg(long)]
    pub once: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "AGORA_LISTEN", default_value = "127.0.0.1:8402", value_name = "ADDR")]
    pub listen: SocketAddr,
    /// Also start built-in demo sellers on 127.0.0.88 and register them (a tour of the whole
    /// flow; only that one address is opened to probes).
    #[arg(long)]
    pub demo: bool,
    /// Turn per-client rate limits off (private deployments, load tests).
    #[arg(long)]
    pub no_rate_limits: bool,
    /// Answer every search and service detail from the index and the store, never from the
    /// answer caches (measuring, debugging).
    #[arg(long)]
    pub no_answer_cache: bool,
    /// Read requests per minute per client address.
    #[arg(long, default_value_t = DEFAULT_READS_PER_MINUTE, value_name = "N")]
    pub reads_per_minute: u32,
    /// Registrations and recrawl requests per hour per client address.
    #[arg(long, default_value_t = DEFAULT_WRITES_PER_HOUR, value_name = "N")]
    pub registrations_per_hour: u32,
    /// A reverse proxy in front of Agora (CIDR, repeatable): only from these peers is the client
    /// address read from `X-Forwarded-For`.
    #[arg(long = "trusted-proxy", value_name = "CIDR", value_parser = parse_proxy_cidr)]
    pub trusted_proxies: Vec<IpNet>,
    /// Longest a request may run, in seconds (a registration waits for its first probe).
    #[arg(long, default_value_t = DEFAULT_REQUEST_TIMEOUT.as_secs(), value_name = "SECONDS")]
    pub request_timeout: u64,
    /// Seconds a connection gets to send a request's headers, counted from when it may send one:
    /// slow-header and idle keep-alive connections are closed after it.
    #[arg(long, default_value_t = DEFAULT_HEADER_READ_TIMEOUT.as_secs(), value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub header_read_timeout: u64,
    /// Most connections open at once (also kept below the process's open-file limit).
    #[arg(long, default_value_t = DEFAULT_MAX_CONNECTIONS, value_name = "N", value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000_000))]
    pub max_connections: usize,
    /// Most connections open at once from one client (an address, or an IPv6 prefix); trusted
    /// proxies are exempt.
    #[arg(long, default_value_t = DEFAULT_MAX_PER_CLIENT, value_name = "N", value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000_000))]
    pub max_connections_per_client: usize,
    /// A public host name `/mcp` answers (repeatable): MCP requests are refused unless their
    /// `Host` is a loopback name or one of these (DNS rebinding protection).
    #[arg(long = "mcp-allowed-host", value_name = "HOST")]
    pub mcp_allowed_hosts: Vec<String>,
    /// Refuse `POST /api/v1/sources` (adding sources stays with the operator's `agora import`).
    #[arg(long)]
    pub no_public_sources: bool,
    /// IPv6 clients are one client per prefix of this many bits, for rate limits and connection
    /// caps (one IPv6 client is handed a whole /64).
    #[arg(long, default_value_t = DEFAULT_IPV6_PREFIX, value_name = "BITS", value_parser = clap::value_parser!(u8).range(1..=128))]
    pub ipv6_prefix: u8,
    /// The URL people and agents reach this catalog at (its host is the domain sellers' signed
    /// proofs must name; docs/OWNERSHIP.md). Default: http:// and the listening address.
    #[arg(long, env = "AGORA_PUBLIC_URL", value_name = "URL", value_parser = parse_public_url)]
    pub public_url: Option<url::Url>,
    /// The operator token for `/api/v1/admin/…` (at least 32 characters; prefer the environment
    /// variable to the flag, which other users of the machine can see). Unset: no operator API.
    #[arg(long, env = "AGORA_OPERATOR_TOKEN", hide_env_values = true, value_name = "TOKEN")]
    pub operator_token: Option<String>,
}

fn parse_public_url(text: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(text).map_err(|e| format!("{text:?} is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!("{text:?} is not an http(s) URL with a host"));
    }
    Ok(url)
}

fn parse_proxy_cidr(text: &str) -> Result<IpNet, String> {
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(IpNet::from))
        .map_err(|_| format!("{text:?} is not an address or CIDR range (e.g. 10.0.0.0/8)"))
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

#[derive(Debug, Args)]
pub struct MigrateStoreArgs {
    /// The PostgreSQL database to copy into (postgres://user:password@host/db); migrated, and
    /// refused if it already holds services.
    #[arg(long, value_name = "URL")]
    pub to: String,
}
