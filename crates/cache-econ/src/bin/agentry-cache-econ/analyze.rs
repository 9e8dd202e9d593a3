//! `analyze`: the whole analysis of usage logs, as text or JSON.

use std::path::PathBuf;

use agentry_cache_econ::{AnalyzeOptions, PriceTable, Report, analyze_listing, default_log_dirs, list_logs};
use anyhow::{Context, Result, bail};
use clap::Args;

use crate::{cents, print_json};

#[derive(Args)]
pub(crate) struct AnalyzeArgs {
    /// Files or folders of JSONL logs.
    pub(crate) paths: Vec<PathBuf>,
    /// Minutes between pings in the policy replay (at most 5).
    #[arg(long, default_value_t = 5.0)]
    pub(crate) ping_interval: f64,
    /// Pings of the replayed fixed policy.
    #[arg(long, default_value_t = 3)]
    pub(crate) fixed_pings: u32,
    /// Leave out per-session totals.
    #[arg(long)]
    pub(crate) no_sessions: bool,
    /// No progress bar.
    #[arg(long)]
    pub(crate) quiet: bool,
    /// Print one JSON document.
    #[arg(long)]
    pub(crate) json: bool,
}

pub(crate) fn run(prices: &PriceTable, args: AnalyzeArgs) -> Result<()> {
    let AnalyzeArgs { paths, ping_interval, fixed_pings, no_sessions, quiet, json } = args;
    // A path given by name must exist; below it, and under the default folders, what cannot be
    // read is skipped and reported like a malformed line.
    for p in &paths {
        std::fs::metadata(p).with_context(|| format!("cannot read {}", p.display()))?;
    }
    let roots = if paths.is_empty() { default_log_dirs() } else { paths };
    if roots.is_empty() {
        bail!("no log folders found: pass PATH or set CLAUDE_CONFIG_DIR");
    }
    let listing = list_logs(&roots);
    let files = &listing.files;
    let options = AnalyzeOptions {
        ping_interval_minutes: ping_interval,
        fixed_pings,
        sessions: !no_sessions,
        ..AnalyzeOptions::default()
    };
    let total: u64 = files.iter().filter_map(|f| std::fs::metadata(f).ok()).map(|m| m.len()).sum();
    let bar = (!quiet && files.len() > 1).then(|| {
        let bar = indicatif::ProgressBar::new(total);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} {eta}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let tick = |n: u64| {
        if let Some(b) = &bar {
            b.inc(n);
        }
    };
    let report = analyze_listing(&listing, prices, &options, Some(&tick))?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    crate::usage::warn_unrecognized(&report.unrecognized_files);
    if json {
        return print_json(&report);
    }
    print_report(&report);
    Ok(())
}

fn print_report(r: &Report) {
    say!(
        "{} files, {} MB, {} lines: {} requests after dedup ({} duplicate lines), {} malformed, {} lineages ({} sidechain requests)",
        r.files,
        r.bytes / 1_000_000,
        r.lines,
        r.requests,
        r.duplicate_lines,
        r.malformed_lines,
        r.lineages,
        r.sidechain_requests
    );
    for m in r.malformed.iter().take(10) {
        say!("  malformed: {}:{}: {}", m.file.display(), m.line, m.reason);
    }
    if !r.skipped_paths.is_empty() {
        say!("{} folders or paths skipped:", r.skipped_paths.len());
    }
    for s in r.skipped_paths.iter().take(10) {
        say!("  skipped: {}: {}", s.path.display(), s.reason);
    }
    say!(
        "tokens: input {}, output {}, cache write 5m {}, 1h {}, read {}",
        r.usage.input_tokens,
        r.usage.output_tokens,
        r.usage.cache_write_5m_tokens,
        r.usage.cache_write_1h_tokens,
        r.usage.cache_read_tokens
    );
    say!("cost {}   avoidable {}", cents(r.cost_usd), cents(r.avoidable_usd));
    if !r.unpriced_models.is_empty() {
        say!("unpriced ({} requests): {}", r.unpriced_requests, r.unpriced_models.join(", "));
    }
    say!("cache writes by cause:");
    for (name, c) in &r.causes {
        say!(
            "  {:<18} {:>8} requests {:>14} tokens  written {:>10}  avoidable {:>10}",
            name.name(),
            c.count,
            c.tokens,
            cents(c.write_usd),
            cents(c.avoidable_usd)
        );
    }
    say!("by model:");
    for g in &r.by_model {
        say!("  {:<36} {:>8} requests  {}", g.key, g.requests, cents(g.cost_usd));
    }
    say!("by day:");
    for g in &r.by_day {
        say!("  {:<12} {:>8} requests  {}", g.key, g.requests, cents(g.cost_usd));
    }
    say!(
        "idle gaps: {} observed, {} censored; P(gap > 5 min) = {:.2}, P(gap > 60 min) = {:.2}; hazard threshold {:.1}%",
        r.gaps.observed,
        r.gaps.censored,
        r.gaps.survival_5m,
        r.gaps.survival_60m,
        100.0 * r.gaps.hazard_threshold
    );
    say!("policy replay (cache-related input cost on the observed gaps):");
    for p in &r.policies {
        let pings = p.pings.map(|n| format!("{n} pings")).unwrap_or_default();
        say!("  {:<10} {:>10}  {}", p.policy, pings, cents(p.cost_usd));
    }
}
