//! The `agora` binary: parse the command line, set up logging, dispatch.

use agora::config::{Cli, Command};
use clap::Parser;
use std::io::IsTerminal;
use std::process::ExitCode;

/// mimalloc: under concurrent searches glibc's malloc spent a large share of the CPU in its
/// locks, free lists and consolidation (see `Cargo.toml`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        // Colours only for a person at a terminal: a log file or a pipe gets plain text.
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("agora: cannot start the async runtime: {error}");
            return ExitCode::from(2);
        }
    };
    let code = runtime.block_on(async {
        match cli.command {
            Command::Probe(args) => agora::cli::probe::run(&cli.global, &args).await,
            Command::Register(args) => agora::cli::register::run(&cli.global, &args).await,
            Command::Crawl(args) => agora::cli::crawl::run(&cli.global, &args).await,
            Command::Serve(args) => agora::cli::serve::run(&cli.global, &args).await,
            Command::Migrate => agora::cli::migrate::run(&cli.global).await,
            Command::MigrateStore(args) => agora::cli::migrate_store::run(&cli.global, &args).await,
            Command::Reindex => agora::cli::reindex::run(&cli.global).await,
            Command::Mcp => agora::cli::mcp::run(&cli.global).await,
            Command::Import(args) => agora::cli::import::run(&cli.global, &args).await,
            Command::Sources => agora::cli::import::list(&cli.global).await,
            Command::Owner(args) => agora::cli::owner::run(&cli.global, &args).await,
            Command::Admin(command) => agora::cli::admin::run(&cli.global, &command).await,
        }
    });
    ExitCode::from(code)
}
