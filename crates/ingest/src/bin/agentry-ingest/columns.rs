//! `agentry-ingest columns`: classify the columns of tabular data under a column policy.

use std::{path::PathBuf, process::ExitCode};

/// Arguments of `agentry-ingest columns`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// CSV or JSON Lines files to profile.
    #[arg(required = true)]
    data: Vec<PathBuf>,
}

pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("the column policy is not built yet (asked for {} file(s))", args.data.len())
}
