//! `cargo xtask ci`: every check CI makes, in order, each with its wall time.

use std::{path::Path, time::Instant};

use anyhow::{Context, bail};

use crate::cargo;

/// One CI step: a label, cargo arguments and extra environment.
struct Step {
    label: &'static str,
    args: Vec<&'static str>,
    env: Vec<(&'static str, &'static str)>,
}

fn step(label: &'static str, args: &[&'static str]) -> Step {
    Step { label, args: args.to_vec(), env: Vec::new() }
}

pub(crate) fn run(root: &Path) -> anyhow::Result<()> {
    let mut steps = vec![
        step("fmt", &["fmt", "--all", "--", "--check"]),
        step("clippy", &["clippy", "--workspace", "--all-targets", "--locked", "--", "-D", "warnings"]),
        step("test", &["test", "--workspace", "--locked"]),
        Step {
            label: "doc",
            args: vec!["doc", "--workspace", "--no-deps", "--locked"],
            env: vec![("RUSTDOCFLAGS", "-D warnings")],
        },
        step("benches build", &["bench", "--workspace", "--no-run", "--locked"]),
    ];
    // Feature sets that the default build leaves out but CI must still compile and test.
    for (label, args) in feature_steps(root) {
        steps.push(step(label, args));
    }

    let started = Instant::now();
    let mut times = Vec::new();
    for s in &steps {
        eprintln!("==> {}: cargo {}", s.label, s.args.join(" "));
        let t = Instant::now();
        let status = cargo()
            .args(&s.args)
            .envs(s.env.iter().copied())
            .current_dir(root)
            .status()
            .with_context(|| format!("starting cargo for step {}", s.label))?;
        let secs = t.elapsed().as_secs_f64();
        times.push((s.label, secs));
        eprintln!("<== {} took {secs:.1} s", s.label);
        if !status.success() {
            bail!("step {} failed ({status}) after {secs:.1} s", s.label);
        }
    }
    eprintln!("==> tidy");
    let t = Instant::now();
    crate::tidy::run(root)?;
    times.push(("tidy", t.elapsed().as_secs_f64()));

    eprintln!("\nci step times:");
    for (label, secs) in &times {
        eprintln!("  {label:<16} {secs:>7.1} s");
    }
    eprintln!("  {:<16} {:>7.1} s", "total", started.elapsed().as_secs_f64());
    Ok(())
}

/// Extra feature builds: `(label, cargo args)`. Each crate adds the features that CI must cover.
fn feature_steps(root: &Path) -> Vec<(&'static str, &'static [&'static str])> {
    let mut out: Vec<(&'static str, &'static [&'static str])> =
        vec![("types serde", &["test", "--package", "agentry-types", "--all-features", "--locked"])];
    // The column policy with its Anthropic judge (against a loopback HTTP server) and Parquet input.
    out.push((
        "ingest judge-anthropic parquet",
        &[
            "test",
            "-p",
            "agentry-ingest",
            "--features",
            "judge-anthropic,parquet",
            "--locked",
            "--",
            "columns",
        ],
    ));
    // The heavy optional parts of ingest: the HNSW graph (usearch, C++) and the MiniLM embedder (candle). The
    // MiniLM tests need the model (`cargo xtask fetch-minilm`); .ci/run fetches it and names its folder with
    // AGENTRY_MINILM_DIR, which makes a missing model a failure instead of a skip.
    out.push((
        "ingest hnsw minilm",
        &["test", "-p", "agentry-ingest", "--features", "hnsw,minilm", "--locked", "--", "hnsw", "minilm"],
    ));
    // agentry-cdc's REAPI client without the binary, and the crate with neither: the feature gates compile.
    out.push((
        "cdc remote alone",
        &["check", "-p", "agentry-cdc", "--no-default-features", "--features", "remote", "--locked"],
    ));
    out.push((
        "cdc no features",
        &["test", "-p", "agentry-cdc", "--no-default-features", "--lib", "--locked"],
    ));
    // cache-econ's charts (plotters), SVG and PNG.
    out.push((
        "cache-econ plot",
        &["test", "-p", "agentry-cache-econ", "--features", "plot", "--locked", "--", "plot"],
    ));
    // The fuzz targets live in workspaces of their own (cargo-fuzz wants nightly to run them); checking that they
    // compile on stable keeps them from rotting. They share one target folder under the workspace's.
    if root.join("crates/cdc/fuzz/Cargo.toml").is_file() {
        out.push((
            "cdc fuzz targets",
            &["check", "--manifest-path", "crates/cdc/fuzz/Cargo.toml", "--target-dir", "target/fuzz-check"],
        ));
    }
    if root.join("crates/cache-econ/fuzz/Cargo.toml").is_file() {
        out.push((
            "cache-econ fuzz targets",
            &[
                "check",
                "--manifest-path",
                "crates/cache-econ/fuzz/Cargo.toml",
                "--target-dir",
                "target/fuzz-check",
            ],
        ));
    }
    let ingest_has_postgres = std::fs::read_to_string(root.join("crates/ingest/Cargo.toml"))
        .is_ok_and(|m| m.lines().any(|l| l.trim_start().starts_with("postgres =")));
    if std::env::var_os("AGENTRY_PG_URL").is_some() && ingest_has_postgres {
        out.push((
            "ingest postgres",
            &["test", "--package", "agentry-ingest", "--features", "postgres", "--locked"],
        ));
    }
    out
}
