//! The analyzer of usage logs: what each request cost, why each cache write happened, and what keep-alive
//! policies would have cost on the observed gaps.

mod codex;
mod collect;
mod gemini;
mod listing;
mod replay;
mod scan_cache;
mod scan_file;

use std::{collections::BTreeMap, path::PathBuf};

use agentry_types::Usd;
use serde::Serialize;

pub(crate) use self::{
    collect::{Collected, collect, day_of},
    scan_cache::ScanCache,
    scan_file::scan_files,
};

/// Scans one in-memory log (`name` stands for its path).
pub(crate) fn scan_bytes(name: &str, data: &[u8]) -> FileScan {
    scan_reader(data, data.len() as u64, 0, name, &Finders::new(), &mut Vec::new())
}
pub use self::listing::{LogListing, SkippedPath, default_log_dirs, find_logs, list_logs};
use self::{
    replay::{Gap, classify_lineage, replay},
    scan_file::{FileScan, Finders, scan_reader},
};
use crate::{
    decide::{GapObservation, KaplanMeier, hazard_threshold},
    error::Error,
    pricing::{PriceTable, Ttl, Usage},
};

/// How much detail the analyzer keeps about malformed lines (all are counted).
pub(crate) const MALFORMED_KEPT: usize = 200;

/// Options of [`analyze`].
#[derive(Debug, Clone, PartialEq)]
pub struct AnalyzeOptions {
    /// Minutes between keep-alive pings in the policy replay (at most 5).
    pub ping_interval_minutes: f64,
    /// Pings of the "fixed" replay policy (Aider's `--cache-keepalive-pings N`).
    pub fixed_pings: u32,
    /// The most pings any replayed policy may send after one request.
    pub max_pings: u32,
    /// Keep per-session totals (they can be many).
    pub sessions: bool,
}

impl Default for AnalyzeOptions {
    fn default() -> Self {
        Self { ping_interval_minutes: 5.0, fixed_pings: 3, max_pings: 24, sessions: true }
    }
}

/// What caused a cache write (or, for [`Cause::BelowMinimum`], the lack of one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// The first request of a cache lineage.
    ColdStart,
    /// The cached prefix had expired: the gap exceeded the lifetime and the prefix was written again.
    TtlExpiry,
    /// The gap was within the lifetime, yet the read dropped: something early in the prefix changed.
    PrefixBreak,
    /// As a prefix break, but more than 20 blocks were added since the previous request, so the lookback
    /// window could not reach the previous entry.
    LookbackOverflow,
    /// A prompt below the model's minimum: neither read nor written.
    BelowMinimum,
    /// The normal write of the new tail (the last turn's messages) on top of a read prefix.
    TailGrowth,
}

impl Cause {
    /// Every cause, in report order.
    pub const ALL: [Self; 6] = [
        Self::ColdStart,
        Self::TtlExpiry,
        Self::PrefixBreak,
        Self::LookbackOverflow,
        Self::BelowMinimum,
        Self::TailGrowth,
    ];

    /// The snake_case name used in JSON.
    pub const fn name(self) -> &'static str {
        match self {
            Self::ColdStart => "cold_start",
            Self::TtlExpiry => "ttl_expiry",
            Self::PrefixBreak => "prefix_break",
            Self::LookbackOverflow => "lookback_overflow",
            Self::BelowMinimum => "below_minimum",
            Self::TailGrowth => "tail_growth",
        }
    }
}

/// Totals of one cause.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct CauseTotals {
    /// Requests classified so.
    pub count: u64,
    /// Cache-write tokens of those requests (prompt tokens for below-minimum requests).
    pub tokens: u64,
    /// What those writes cost.
    pub write_usd: Usd,
    /// The part a better policy would have saved.
    pub avoidable_usd: Usd,
}

/// Tokens and cost of a group of requests (a model, a day, a session).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct GroupTotals {
    /// The group's key.
    pub key: String,
    /// Requests after deduplication.
    pub requests: u64,
    /// Token sums.
    pub usage: Usage,
    /// Cost.
    pub cost_usd: Usd,
}

/// A line that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MalformedLine {
    /// The file.
    pub file: PathBuf,
    /// Line number, from 1.
    pub line: u64,
    /// Why.
    pub reason: String,
}

/// What one replayed policy would have cost on the observed gaps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyCost {
    /// `none`, `fixed`, `breakeven`, `hazard`, `optimal`, `ttl_1h`, `hybrid`.
    pub policy: String,
    /// Pings after each request (for ping policies; break-even varies by model and reports the first).
    pub pings: Option<u32>,
    /// Cost of the cache-related part of input: first writes, tail writes, and each gap's pings plus the
    /// returning request's read or rewrite of the prefix.
    pub cost_usd: Usd,
}

/// Idle-gap statistics of the cache lineages.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GapStats {
    /// Gaps that ended in a return.
    pub observed: u64,
    /// Lineages whose last gap was cut off by the end of the log.
    pub censored: u64,
    /// Median of the Kaplan-Meier survival (minutes), if it falls below one half.
    pub median_minutes: Option<f64>,
    /// `P(gap > 5 min)` and `P(gap > 60 min)`.
    pub survival_5m: f64,
    /// See `survival_5m`.
    pub survival_60m: f64,
    /// The hazard threshold at the most common model's 5-minute multipliers.
    pub hazard_threshold: f64,
}

/// The analysis of a set of usage logs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Files read.
    pub files: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Lines read (blank ones included).
    pub lines: u64,
    /// Requests after deduplication by (message id, request id).
    pub requests: u64,
    /// Lines dropped as duplicates of a request already counted.
    pub duplicate_lines: u64,
    /// Files of JSON lines in which nothing could be read as usage nor as a Claude Code transcript: logs of
    /// another tool (Codex CLI, Gemini CLI) that this crate does not read. Their requests are missing.
    pub unrecognized_files: Vec<PathBuf>,
    /// Requests dropped because a subagent's transcript replayed its parent's message (same `message.id`,
    /// a new `requestId`): billed once, in the parent. Their lines count in `duplicate_lines`.
    pub subagent_replays: u64,
    /// Lines that could not be read.
    pub malformed_lines: u64,
    /// The first few malformed lines, with file and line.
    pub malformed: Vec<MalformedLine>,
    /// Folders and paths that could not be listed and were skipped (filled by [`analyze_listing`]; the file
    /// list [`analyze`] takes has none).
    pub skipped_paths: Vec<SkippedPath>,
    /// Requests of sidechains (subagents, compaction), analyzed as their own lineages.
    pub sidechain_requests: u64,
    /// Cache lineages (main sessions and sidechains).
    pub lineages: u64,
    /// Requests whose model is not in the price table (counted in tokens, not in cost).
    pub unpriced_requests: u64,
    /// Those models.
    pub unpriced_models: Vec<String>,
    /// Token sums.
    pub usage: Usage,
    /// Total cost, each TTL bucket at its own price.
    pub cost_usd: Usd,
    /// Cost a better keep-alive or prefix discipline would have avoided.
    pub avoidable_usd: Usd,
    /// Requests per cause (as plain counts).
    pub cause_counts: BTreeMap<Cause, u64>,
    /// Details per cause.
    pub causes: BTreeMap<Cause, CauseTotals>,
    /// Totals by model.
    pub by_model: Vec<GroupTotals>,
    /// Totals by UTC day.
    pub by_day: Vec<GroupTotals>,
    /// Totals by session (empty when not asked for).
    pub by_session: Vec<GroupTotals>,
    /// Idle-gap statistics.
    pub gaps: GapStats,
    /// Policy replay on the observed gaps.
    pub policies: Vec<PolicyCost>,
}

/// [`analyze`] on a [`list_logs`] listing: the report also carries the folders that were skipped.
pub fn analyze_listing(
    listing: &LogListing,
    prices: &PriceTable,
    options: &AnalyzeOptions,
    progress: Option<&(dyn Fn(u64) + Sync)>,
) -> Result<Report, Error> {
    let mut report = analyze(&listing.files, prices, options, progress)?;
    report.skipped_paths = listing.skipped.clone();
    Ok(report)
}

/// Analyzes the given log files (see [`find_logs`]) in parallel. `progress` is called with each file's
/// size once it is done. Unreadable files and malformed lines are counted in the report, never fatal.
pub fn analyze(
    files: &[PathBuf],
    prices: &PriceTable,
    options: &AnalyzeOptions,
    progress: Option<&(dyn Fn(u64) + Sync)>,
) -> Result<Report, Error> {
    if !(options.ping_interval_minutes > 0.0 && options.ping_interval_minutes <= 5.0) {
        return Err(Error::param(
            "ping interval",
            options.ping_interval_minutes,
            "must be above 0 and at most 5 minutes",
        ));
    }
    let scans = scan_files(files, progress);
    Ok(build_report(files, scans, prices, options))
}

/// Analyzes one in-memory log (for tests, fuzzing and callers that already hold the bytes).
pub fn analyze_bytes(name: &str, data: &[u8], prices: &PriceTable, options: &AnalyzeOptions) -> Report {
    let scan = scan_bytes(name, data);
    build_report(&[PathBuf::from(name)], vec![scan], prices, options)
}

fn build_report(
    files: &[PathBuf],
    scans: Vec<FileScan>,
    prices: &PriceTable,
    options: &AnalyzeOptions,
) -> Report {
    let Collected {
        strings,
        records,
        priced,
        costs,
        lines,
        bytes,
        malformed_count,
        malformed,
        duplicate_lines,
        replays,
        unpriced_models,
        unrecognized,
    } = collect(files, scans, prices);
    let mut usage = Usage::default();
    let mut by_model: BTreeMap<String, GroupTotals> = BTreeMap::new();
    let mut by_day: BTreeMap<String, GroupTotals> = BTreeMap::new();
    let mut by_session: BTreeMap<String, GroupTotals> = BTreeMap::new();
    let add = |g: &mut GroupTotals, u: &Usage, c: Usd| {
        g.requests += 1;
        g.usage.input_tokens += u.input_tokens;
        g.usage.output_tokens += u.output_tokens;
        g.usage.cache_write_5m_tokens += u.cache_write_5m_tokens;
        g.usage.cache_write_1h_tokens += u.cache_write_1h_tokens;
        g.usage.cache_read_tokens += u.cache_read_tokens;
        g.usage.web_search_requests += u.web_search_requests;
        g.cost_usd += c;
    };
    for (r, &c) in records.iter().zip(&costs) {
        usage.input_tokens += r.usage.input_tokens;
        usage.output_tokens += r.usage.output_tokens;
        usage.cache_write_5m_tokens += r.usage.cache_write_5m_tokens;
        usage.cache_write_1h_tokens += r.usage.cache_write_1h_tokens;
        usage.cache_read_tokens += r.usage.cache_read_tokens;
        usage.web_search_requests += r.usage.web_search_requests;
        let model = strings[r.model as usize].clone();
        add(
            by_model
                .entry(model.clone())
                .or_insert_with(|| GroupTotals { key: model, ..GroupTotals::default() }),
            &r.usage,
            c,
        );
        let day = day_of(r.ts);
        add(
            by_day.entry(day.clone()).or_insert_with(|| GroupTotals { key: day, ..GroupTotals::default() }),
            &r.usage,
            c,
        );
        if options.sessions {
            let s = strings[r.session as usize].clone();
            add(
                by_session
                    .entry(s.clone())
                    .or_insert_with(|| GroupTotals { key: s, ..GroupTotals::default() }),
                &r.usage,
                c,
            );
        }
    }

    // Lineages in time order.
    let mut order: Vec<usize> = (0..records.len()).collect();
    order.sort_by_key(|&i| {
        (records[i].lineage, records[i].ts.unwrap_or(i64::MIN), records[i].file, records[i].line)
    });
    let end_of_log = records.iter().filter_map(|r| r.ts).max().unwrap_or(0);
    let mut causes: BTreeMap<Cause, CauseTotals> =
        Cause::ALL.iter().map(|&c| (c, CauseTotals::default())).collect();
    let mut gaps: Vec<Gap> = Vec::new();
    let mut lineages = 0u64;
    let mut start = 0;
    while start < order.len() {
        let lineage = records[order[start]].lineage;
        let mut end = start;
        while end < order.len() && records[order[end]].lineage == lineage {
            end += 1;
        }
        lineages += 1;
        classify_lineage(&order[start..end], &records, &priced, end_of_log, &mut causes, &mut gaps);
        start = end;
    }
    let avoidable_usd = causes.values().map(|c| c.avoidable_usd).sum();

    let observations: Vec<GapObservation> = gaps
        .iter()
        .filter(|g| !g.first)
        .map(|g| GapObservation { minutes: g.minutes, returned: g.returned })
        .collect();
    let km = KaplanMeier::fit(&observations).unwrap_or(KaplanMeier {
        times: Vec::new(),
        survival: Vec::new(),
        observations: 0,
        censored: 0,
    });
    let common = by_model.values().max_by_key(|g| g.requests).and_then(|g| prices.lookup(&g.key, None));
    let (w, rho) = common.map_or((1.25, 0.1), |m| {
        let m = m.multipliers(Ttl::FiveMinutes);
        (m.write, m.read)
    });
    let median = km.times.iter().zip(&km.survival).find(|(_, s)| **s <= 0.5).map(|(t, _)| *t);
    let gap_stats = GapStats {
        observed: observations.iter().filter(|o| o.returned).count() as u64,
        censored: observations.iter().filter(|o| !o.returned).count() as u64,
        median_minutes: median,
        survival_5m: km.survival_at(5.0),
        survival_60m: km.survival_at(60.0),
        hazard_threshold: hazard_threshold(w, rho),
    };
    let policies = replay(&gaps, &km, w, rho, options);

    Report {
        files: files.len() as u64,
        bytes,
        lines,
        requests: records.len() as u64,
        duplicate_lines,
        subagent_replays: replays,
        unrecognized_files: unrecognized,
        malformed_lines: malformed_count,
        malformed,
        skipped_paths: Vec::new(),
        sidechain_requests: records.iter().filter(|r| r.sidechain).count() as u64,
        lineages,
        unpriced_requests: priced.iter().filter(|p| p.is_none()).count() as u64,
        unpriced_models: unpriced_models.into_iter().collect(),
        usage,
        cost_usd: costs.iter().sum(),
        avoidable_usd,
        cause_counts: causes.iter().map(|(c, t)| (*c, t.count)).collect(),
        causes,
        by_model: by_model.into_values().collect(),
        by_day: by_day.into_values().collect(),
        by_session: by_session.into_values().collect(),
        gaps: gap_stats,
        policies,
    }
}
