//! `agentry-ingest`: incremental document ingest for retrieval indexes, and the column policy.

mod columns;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Incremental, crash-safe document ingest for retrieval indexes, and a schema-evolution column policy.
#[derive(Debug, Parser)]
#[command(name = "agentry-ingest", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Classify the columns of CSV or JSON Lines data under a column policy.
    Columns(columns::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Columns(args) => columns::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("agentry-ingest: {e:#}");
            ExitCode::from(2)
        }
    }
}
