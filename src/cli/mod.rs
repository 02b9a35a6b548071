//! Subcommand implementations. Each returns the process exit code it wants.

pub mod probe;
