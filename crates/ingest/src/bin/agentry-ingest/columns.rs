//! `agentry-ingest columns`: classify the columns of tabular data under a column policy.

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::ExitCode,
};

use agentry_ingest::{
    BUILTIN_POLICY, Classifier, ColumnPolicy, ColumnReport, Decision, ProfileOptions, SqlDialect, ValueJudge,
    create_view_sql, profile_paths, write_audit,
};
use anyhow::Context;

/// Arguments of `agentry-ingest columns`.
///
/// Exit status: 0 when the decisions were made; 1 under `--strict` when a column was rejected (dlt `freeze`
/// fails the load); 2 on an error (unreadable data or policy).
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// CSV (.csv, .tsv) or JSON Lines (.jsonl, .ndjson) files, profiled together as one table.
    #[arg(required_unless_present = "print_policy")]
    data: Vec<PathBuf>,
    /// Policy file (TOML); the built-in policy when absent.
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// Print the built-in policy (a starting point for --policy) and exit.
    #[arg(long)]
    print_policy: bool,
    /// Print one JSON document: `columns` with `name`, `decision`, `escalated`, `reason`, `dlt_mode`.
    #[arg(long)]
    json: bool,
    /// Also write a CREATE VIEW statement with this name over the safe columns (dots separate a schema).
    #[arg(long, value_name = "NAME")]
    sql_view: Option<String>,
    /// SQL dialect of the view: duckdb, sqlite or postgres.
    #[arg(long, default_value = "duckdb", value_name = "DIALECT", requires = "sql_view")]
    dialect: String,
    /// Table the view selects from; the first data file's stem when absent.
    #[arg(long, value_name = "TABLE", requires = "sql_view")]
    source_table: Option<String>,
    /// Strict mode: rejected columns map to dlt `freeze` and the exit status is 1.
    #[arg(long)]
    strict: bool,
    /// Append one JSON line per decision to this audit log.
    #[arg(long, value_name = "FILE")]
    audit: Option<PathBuf>,
    /// Seed of the per-column random samples.
    #[arg(long, default_value_t = ProfileOptions::default().seed)]
    seed: u64,
    /// Distinct values are counted exactly up to this many per column, then estimated (HyperLogLog).
    #[arg(long, default_value_t = ProfileOptions::default().exact_distinct_limit, value_name = "N")]
    exact_distinct_limit: usize,
    #[cfg(feature = "judge-anthropic")]
    /// Value judge for text the inspectors cannot place: `anthropic` (reads ANTHROPIC_API_KEY).
    #[arg(long, value_name = "JUDGE")]
    judge: Option<String>,
    #[cfg(feature = "judge-anthropic")]
    /// Model of the value judge.
    #[arg(long, default_value = "claude-haiku-4-5", value_name = "MODEL")]
    judge_model: String,
    #[cfg(feature = "judge-anthropic")]
    /// Base URL of the judge's API.
    #[arg(long, default_value = "https://api.anthropic.com", value_name = "URL")]
    judge_url: String,
    #[cfg(feature = "judge-anthropic")]
    /// Attempts at a valid judge answer before failing closed.
    #[arg(long, default_value_t = 3, value_name = "N")]
    judge_attempts: u32,
}

pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut stdout = std::io::stdout().lock();
    if args.print_policy {
        stdout.write_all(BUILTIN_POLICY.as_bytes())?;
        return Ok(ExitCode::SUCCESS);
    }
    let policy = match &args.policy {
        Some(path) => ColumnPolicy::from_path(path)?,
        None => ColumnPolicy::builtin(),
    };
    let dialect: SqlDialect = args.dialect.parse()?;
    let opts = ProfileOptions {
        sample_size: policy.inspection.sample_size,
        seed: args.seed,
        exact_distinct_limit: args.exact_distinct_limit,
    };
    let table = profile_paths(&args.data, opts)?;
    let judge = make_judge(&args)?;
    let mut classifier = Classifier::new(&policy).strict(args.strict);
    if let Some(j) = judge.as_deref() {
        classifier = classifier.with_judge(j, judge_attempts(&args));
    }
    let report = classifier.classify_table(&table);

    let view = match &args.sql_view {
        Some(name) => {
            let source = match &args.source_table {
                Some(t) => t.clone(),
                None => file_stem(&args.data[0])?,
            };
            Some(create_view_sql(name, &source, &report.safe_columns(), dialect)?)
        }
        None => None,
    };
    if let Some(path) = &args.audit {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("opening audit log {}", path.display()))?;
        let source = args.data.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(",");
        write_audit(&mut f, &source, &report)
            .with_context(|| format!("writing audit log {}", path.display()))?;
    }

    if args.json {
        let doc = JsonOut {
            policy_hash: &report.policy_hash,
            rows: report.rows,
            columns: &report.columns,
            safe_columns: report.safe_columns(),
            view: view.as_deref(),
        };
        serde_json::to_writer_pretty(&mut stdout, &doc)?;
        writeln!(stdout)?;
    } else {
        print_human(&mut stdout, &report)?;
        if let Some(sql) = &view {
            writeln!(stdout, "\n{sql}")?;
        }
    }
    let rejected = report.columns.iter().any(|c| c.decision == Decision::Reject);
    Ok(if args.strict && rejected { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// The `--json` document; a struct, so fields print in this order.
#[derive(serde::Serialize)]
struct JsonOut<'a> {
    policy_hash: &'a str,
    rows: u64,
    columns: &'a [agentry_ingest::ColumnDecision],
    safe_columns: Vec<&'a str>,
    view: Option<&'a str>,
}

fn file_stem(path: &Path) -> anyhow::Result<String> {
    path.file_stem()
        .and_then(|s| s.to_str())
        .map(str::to_owned)
        .with_context(|| format!("cannot name a source table after {}; pass --source-table", path.display()))
}

fn print_human(out: &mut impl Write, report: &ColumnReport) -> std::io::Result<()> {
    let width = report.columns.iter().map(|c| c.name.chars().count()).max().unwrap_or(0).max(6);
    writeln!(out, "{} rows, policy {}", report.rows, report.policy_hash)?;
    writeln!(out, "{:width$}  {:9}  {:17}  {:13}  reason", "column", "dtype", "decision", "dlt_mode")?;
    for c in &report.columns {
        let decision =
            if c.escalated { format!("escalated->{}", c.decision) } else { c.decision.to_string() };
        writeln!(
            out,
            "{:width$}  {:9}  {:17}  {:13}  {}",
            c.name,
            c.stats.dtype.name(),
            decision,
            c.dlt_mode.as_str(),
            c.reason
        )?;
    }
    writeln!(out, "\nsafe columns: {}", report.safe_columns().join(", "))
}

#[cfg(feature = "judge-anthropic")]
fn make_judge(args: &Args) -> anyhow::Result<Option<Box<dyn ValueJudge>>> {
    match args.judge.as_deref() {
        None => Ok(None),
        Some("anthropic") => {
            let key =
                std::env::var("ANTHROPIC_API_KEY").context("--judge anthropic needs ANTHROPIC_API_KEY")?;
            Ok(Some(Box::new(agentry_ingest::AnthropicJudge::new(&args.judge_url, &key, &args.judge_model))))
        }
        Some(other) => anyhow::bail!("unknown judge {other:?} (known: anthropic)"),
    }
}

#[cfg(feature = "judge-anthropic")]
fn judge_attempts(args: &Args) -> u32 {
    args.judge_attempts
}

#[cfg(not(feature = "judge-anthropic"))]
fn judge_attempts(_: &Args) -> u32 {
    1
}

#[cfg(not(feature = "judge-anthropic"))]
fn make_judge(_: &Args) -> anyhow::Result<Option<Box<dyn ValueJudge>>> {
    Ok(None)
}
