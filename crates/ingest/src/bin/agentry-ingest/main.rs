//! `agentry-ingest`: incremental document ingest for retrieval indexes, and the column policy.

mod columns;
mod documents;

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
    /// Ingest a folder into a new index version (skipping unchanged documents and already embedded chunks).
    Index(documents::IndexArgs),
    /// Search the version `current` points at.
    Query(documents::QueryArgs),
    /// Show counts of documents, chunks, vectors and versions.
    Status(documents::ShowArgs),
    /// List index versions.
    Versions(documents::ShowArgs),
    /// Point `current` at a ready version.
    Promote(documents::PromoteArgs),
    /// Point `current` back at the version it pointed at before the last swap.
    Rollback(documents::ShowArgs),
    /// Find and repair drift between the registry and the stored vectors.
    Reconcile(documents::ShowArgs),
    /// Mark documents deleted in a new version.
    Delete(documents::DeleteArgs),
    /// Classify the columns of CSV or JSON Lines data under a column policy.
    Columns(columns::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Index(args) => documents::index(args),
        Command::Query(args) => documents::query(args),
        Command::Status(args) => documents::status(args),
        Command::Versions(args) => documents::versions(args),
        Command::Promote(args) => documents::promote(args),
        Command::Rollback(args) => documents::rollback(args),
        Command::Reconcile(args) => documents::reconcile(args),
        Command::Delete(args) => documents::delete(args),
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
