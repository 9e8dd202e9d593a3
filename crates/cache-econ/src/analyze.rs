use std::{
    collections::{BTreeMap, HashMap},
    hash::{DefaultHasher, Hash, Hasher},
    io::Read,
    path::{Path, PathBuf},
};

use agentry_types::Usd;
use memchr::memmem;
use rayon::prelude::*;
use serde::Serialize;

use crate::{
    decide::{GapObservation, KaplanMeier, hazard_rule_pings, hazard_threshold, solve_keepalive},
    error::Error,
    money::cost_of,
    pricing::{ModelPrice, PriceTable, Rates, Ttl, Usage},
    rules::reads_to_cover,
    scan::{looks_like_object, parse_line_fast},
};

/// How much detail the analyzer keeps about malformed lines (all are counted).
const MALFORMED_KEPT: usize = 200;
/// Read size for streaming a log file.
const CHUNK: usize = 1 << 22;

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
    pub cause_counts: BTreeMap<&'static str, u64>,
    /// Details per cause.
    pub causes: BTreeMap<&'static str, CauseTotals>,
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

#[derive(Debug, Clone)]
struct Record {
    key: Option<u128>,
    ts: Option<i64>,
    lineage: u32,
    session: u32,
    model: u32,
    sidechain: bool,
    usage: Usage,
    file: u32,
    line: u64,
    last_line: u64,
    merged: u64,
    user_lines_before: u64,
}

#[derive(Default)]
struct FileScan {
    records: Vec<Record>,
    strings: Vec<String>,
    lookup: HashMap<String, u32>,
    malformed: Vec<(u64, String)>,
    malformed_count: u64,
    lines: u64,
    bytes: u64,
    error: Option<String>,
}

impl FileScan {
    fn intern(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.lookup.get(s) {
            return i;
        }
        let i = self.strings.len() as u32;
        self.strings.push(s.to_owned());
        self.lookup.insert(s.to_owned(), i);
        i
    }
}

fn key_of(message_id: &str, request_id: &str) -> u128 {
    let mut a = DefaultHasher::new();
    (0u8, message_id, request_id).hash(&mut a);
    let mut b = DefaultHasher::new();
    (1u8, message_id, request_id).hash(&mut b);
    (u128::from(a.finish()) << 64) | u128::from(b.finish())
}

struct Finders {
    usage: memmem::Finder<'static>,
    user: memmem::Finder<'static>,
}

#[allow(clippy::too_many_arguments)]
fn scan_line(
    line: &[u8],
    number: u64,
    file: u32,
    f: &Finders,
    path_key: &str,
    out: &mut FileScan,
    users: &mut u64,
    scratch: &mut Vec<u8>,
) {
    if line.iter().all(u8::is_ascii_whitespace) {
        return;
    }
    if f.usage.find(line).is_none() {
        if !looks_like_object(line) {
            out.malformed_count += 1;
            if out.malformed.len() < MALFORMED_KEPT {
                out.malformed.push((number, "not a JSON object".to_owned()));
            }
        } else if f.user.find(line).is_some() {
            *users += 1;
        }
        return;
    }
    let entry = match parse_line_fast(line, scratch) {
        Ok(Some(e)) => e,
        Ok(None) => {
            if f.user.find(line).is_some() {
                *users += 1;
            }
            return;
        }
        Err(e) => {
            out.malformed_count += 1;
            if out.malformed.len() < MALFORMED_KEPT {
                out.malformed.push((number, e.to_string()));
            }
            return;
        }
    };
    let key = match (&entry.message_id, &entry.request_id) {
        (Some(m), Some(r)) => Some(key_of(m, r)),
        _ => None,
    };
    let session = entry.session_id.as_deref().unwrap_or(path_key).to_owned();
    let lineage_name = if entry.sidechain {
        format!("{session}\u{0}{}", entry.agent_id.as_deref().unwrap_or(path_key))
    } else {
        session.clone()
    };
    let model = entry.model.as_deref().unwrap_or("unknown").to_owned();
    let (lineage, session, model) = (out.intern(&lineage_name), out.intern(&session), out.intern(&model));
    // Consecutive lines of one streamed response: merge here already, the global pass finishes the job.
    if let Some(last) = out.records.last_mut()
        && key.is_some()
        && last.key == key
        && last.file == file
    {
        last.last_line = number;
        last.merged += 1;
        if entry.usage.total_tokens() > last.usage.total_tokens() {
            last.usage = entry.usage;
            last.model = model;
        }
        return;
    }
    out.records.push(Record {
        key,
        ts: entry.timestamp.map(|t| t.unix_micros()),
        lineage,
        session,
        model,
        sidechain: entry.sidechain,
        usage: entry.usage,
        file,
        line: number,
        last_line: number,
        merged: 0,
        user_lines_before: *users,
    });
}

/// Scans one file. `buf` is reused from file to file on the same thread, so its pages are faulted in and
/// zeroed once, not per file; it grows to the file size (up to one chunk) or to the longest line.
fn scan_reader(
    mut reader: impl Read,
    size_hint: u64,
    file: u32,
    path_key: &str,
    f: &Finders,
    buf: &mut Vec<u8>,
) -> FileScan {
    let mut out = FileScan::default();
    let want = (size_hint as usize).saturating_add(1).clamp(4096, CHUNK);
    if buf.len() < want {
        buf.resize(want, 0);
    }
    let mut filled = 0usize;
    let mut number = 0u64;
    let mut users = 0u64;
    let mut scratch = Vec::new();
    loop {
        if filled == buf.len() {
            buf.resize(buf.len() * 2, 0);
        }
        let n = match reader.read(&mut buf[filled..]) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                out.error = Some(e.to_string());
                break;
            }
        };
        out.bytes += n as u64;
        let end = filled + n;
        let mut start = 0;
        for nl in memchr::memchr_iter(b'\n', &buf[filled..end]) {
            let stop = filled + nl;
            number += 1;
            scan_line(&buf[start..stop], number, file, f, path_key, &mut out, &mut users, &mut scratch);
            start = stop + 1;
        }
        if n == 0 {
            if start < end {
                number += 1;
                let rest = buf[start..end].to_vec();
                scan_line(&rest, number, file, f, path_key, &mut out, &mut users, &mut scratch);
            }
            break;
        }
        buf.copy_within(start..end, 0);
        filled = end - start;
    }
    out.lines = number;
    out
}

/// The folders Claude Code writes transcripts to: each entry of `CLAUDE_CONFIG_DIR` (comma-separated)
/// plus `projects`, or else `~/.config/claude/projects` and `~/.claude/projects`, whichever exist.
pub fn default_log_dirs() -> Vec<PathBuf> {
    if let Some(dirs) = std::env::var_os("CLAUDE_CONFIG_DIR") {
        let dirs = dirs.to_string_lossy().into_owned();
        return dirs
            .split(',')
            .filter(|d| !d.trim().is_empty())
            .map(|d| Path::new(d.trim()).join("projects"))
            .collect();
    }
    let Some(home) = std::env::var_os("HOME") else { return Vec::new() };
    let home = PathBuf::from(home);
    [home.join(".config/claude/projects"), home.join(".claude/projects")]
        .into_iter()
        .filter(|p| p.is_dir())
        .collect()
}

/// A folder or file that could not be listed, skipped and reported instead of aborting the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkippedPath {
    /// The folder or file.
    pub path: PathBuf,
    /// Why it could not be read.
    pub reason: String,
}

/// The log files under some files and folders, and what could not be listed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LogListing {
    /// Every `*.jsonl` file found, sorted, each once.
    pub files: Vec<PathBuf>,
    /// Folders (and given paths) that could not be read, in the order met.
    pub skipped: Vec<SkippedPath>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Dir,
    File,
}

type Entries = std::io::Result<Vec<Result<(PathBuf, Kind), (PathBuf, std::io::Error)>>>;

/// A folder's entries from the file system (symbolic links are not followed).
fn fs_entries(dir: &Path) -> Entries {
    let entries = std::fs::read_dir(dir)?;
    Ok(entries
        .map(|entry| {
            let entry = entry.map_err(|e| (dir.to_owned(), e))?;
            let path = entry.path();
            match entry.file_type() {
                Ok(kind) => Ok((path, if kind.is_dir() { Kind::Dir } else { Kind::File })),
                Err(e) => Err((path, e)),
            }
        })
        .collect())
}

/// Lists `paths` through `kind_of` (a given path) and `entries` (a folder), collecting what fails.
fn list_with(
    paths: &[PathBuf],
    kind_of: &dyn Fn(&Path) -> std::io::Result<Kind>,
    entries: &dyn Fn(&Path) -> Entries,
) -> (Vec<PathBuf>, Vec<(PathBuf, std::io::Error)>) {
    fn walk(
        dir: &Path,
        entries: &dyn Fn(&Path) -> Entries,
        out: &mut Vec<PathBuf>,
        failed: &mut Vec<(PathBuf, std::io::Error)>,
    ) {
        let list = match entries(dir) {
            Ok(list) => list,
            Err(e) => return failed.push((dir.to_owned(), e)),
        };
        for entry in list {
            match entry {
                Ok((path, Kind::Dir)) => walk(&path, entries, out, failed),
                Ok((path, Kind::File)) if path.extension().is_some_and(|e| e == "jsonl") => out.push(path),
                Ok(_) => {}
                Err(failure) => failed.push(failure),
            }
        }
    }
    let (mut out, mut failed) = (Vec::new(), Vec::new());
    for p in paths {
        match kind_of(p) {
            Ok(Kind::Dir) => walk(p, entries, &mut out, &mut failed),
            Ok(Kind::File) => out.push(p.clone()),
            Err(e) => failed.push((p.clone(), e)),
        }
    }
    out.sort();
    out.dedup();
    (out, failed)
}

fn fs_kind(path: &Path) -> std::io::Result<Kind> {
    std::fs::metadata(path).map(|m| if m.is_dir() { Kind::Dir } else { Kind::File })
}

/// Every `*.jsonl` file under the given files and folders, sorted, each once; a folder (or given path)
/// that cannot be read is skipped and listed in [`LogListing::skipped`], like a malformed line, so one
/// unreadable subfolder or a `CLAUDE_CONFIG_DIR` entry without `projects/` does not stop the analysis.
pub fn list_logs(paths: &[PathBuf]) -> LogListing {
    let (files, failed) = list_with(paths, &fs_kind, &fs_entries);
    let skipped = failed.into_iter().map(|(path, e)| SkippedPath { path, reason: e.to_string() }).collect();
    LogListing { files, skipped }
}

/// As [`list_logs`], but strict: the first folder or path that cannot be read is an error naming it.
pub fn find_logs(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Error> {
    let (files, failed) = list_with(paths, &fs_kind, &fs_entries);
    match failed.into_iter().next() {
        Some((path, source)) => Err(Error::Io { path, source }),
        None => Ok(files),
    }
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
    let finders = Finders {
        usage: memmem::Finder::new(b"\"usage\"").into_owned(),
        user: memmem::Finder::new(b"\"type\":\"user\"").into_owned(),
    };
    let scans: Vec<FileScan> = files
        .par_iter()
        .enumerate()
        .map_init(Vec::new, |buf, (i, path)| {
            let key = path.to_string_lossy();
            let scan = match std::fs::File::open(path) {
                Ok(file) => {
                    let size = file.metadata().map_or(CHUNK as u64, |m| m.len());
                    scan_reader(file, size, i as u32, &key, &finders, buf)
                }
                Err(e) => FileScan { error: Some(e.to_string()), ..FileScan::default() },
            };
            if let Some(p) = progress {
                p(scan.bytes);
            }
            scan
        })
        .collect();
    Ok(build_report(files, scans, prices, options))
}

/// Analyzes one in-memory log (for tests, fuzzing and callers that already hold the bytes).
pub fn analyze_bytes(name: &str, data: &[u8], prices: &PriceTable, options: &AnalyzeOptions) -> Report {
    let finders = Finders {
        usage: memmem::Finder::new(b"\"usage\"").into_owned(),
        user: memmem::Finder::new(b"\"type\":\"user\"").into_owned(),
    };
    let scan = scan_reader(data, data.len() as u64, 0, name, &finders, &mut Vec::new());
    build_report(&[PathBuf::from(name)], vec![scan], prices, options)
}

struct Interner {
    names: Vec<String>,
    ids: HashMap<String, u32>,
}

impl Interner {
    fn id(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.ids.get(s) {
            return i;
        }
        let i = self.names.len() as u32;
        self.names.push(s.to_owned());
        self.ids.insert(s.to_owned(), i);
        i
    }
}

fn day_of(ts: Option<i64>) -> String {
    match ts {
        Some(micros) => {
            let (y, m, d) = agentry_types::Timestamp::from_unix_micros(micros).date();
            format!("{y:04}-{m:02}-{d:02}")
        }
        None => "unknown".to_owned(),
    }
}

fn build_report(
    files: &[PathBuf],
    scans: Vec<FileScan>,
    prices: &PriceTable,
    options: &AnalyzeOptions,
) -> Report {
    let mut strings = Interner { names: Vec::new(), ids: HashMap::new() };
    let (mut lines, mut bytes, mut malformed_count) = (0u64, 0u64, 0u64);
    let mut malformed = Vec::new();
    let mut records: Vec<Record> = Vec::new();
    let mut duplicate_lines = 0u64;
    let mut index: HashMap<u128, usize> = HashMap::new();
    for (file_idx, mut scan) in scans.into_iter().enumerate() {
        lines += scan.lines;
        bytes += scan.bytes;
        malformed_count += scan.malformed_count;
        if let Some(e) = scan.error.take() {
            malformed_count += 1;
            if malformed.len() < MALFORMED_KEPT {
                malformed.push(MalformedLine {
                    file: files[file_idx].clone(),
                    line: 0,
                    reason: format!("unreadable: {e}"),
                });
            }
        }
        for (line, reason) in scan.malformed.drain(..) {
            if malformed.len() < MALFORMED_KEPT {
                malformed.push(MalformedLine { file: files[file_idx].clone(), line, reason });
            }
        }
        let map: Vec<u32> = scan.strings.iter().map(|s| strings.id(s)).collect();
        for mut r in scan.records {
            r.lineage = map[r.lineage as usize];
            r.session = map[r.session as usize];
            r.model = map[r.model as usize];
            let Some(key) = r.key else {
                records.push(r);
                continue;
            };
            match index.get(&key) {
                Some(&i) => {
                    duplicate_lines += 1;
                    let kept = &mut records[i];
                    if r.usage.total_tokens() > kept.usage.total_tokens() {
                        kept.usage = r.usage;
                        kept.model = r.model;
                    }
                    kept.ts = match (kept.ts, r.ts) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                }
                None => {
                    index.insert(key, records.len());
                    records.push(r);
                }
            }
        }
    }
    drop(index);
    // Duplicates merged inside a file count as duplicate lines too.
    duplicate_lines += records.iter().map(|r| r.merged).sum::<u64>();

    // Price every request.
    let mut price_cache: HashMap<(u32, String), Option<&ModelPrice>> = HashMap::new();
    let mut priced: Vec<Option<&ModelPrice>> = Vec::with_capacity(records.len());
    let mut unpriced_models = std::collections::BTreeSet::new();
    for r in &records {
        let day = day_of(r.ts);
        let price = *price_cache.entry((r.model, day.clone())).or_insert_with(|| {
            prices.lookup(&strings.names[r.model as usize], (day != "unknown").then_some(day.as_str()))
        });
        if price.is_none() {
            unpriced_models.insert(strings.names[r.model as usize].clone());
        }
        priced.push(price);
    }
    let costs: Vec<Usd> =
        records.iter().zip(&priced).map(|(r, p)| p.map_or(Usd::ZERO, |p| p.cost(&r.usage))).collect();

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
        g.cost_usd += c;
    };
    for (r, &c) in records.iter().zip(&costs) {
        usage.input_tokens += r.usage.input_tokens;
        usage.output_tokens += r.usage.output_tokens;
        usage.cache_write_5m_tokens += r.usage.cache_write_5m_tokens;
        usage.cache_write_1h_tokens += r.usage.cache_write_1h_tokens;
        usage.cache_read_tokens += r.usage.cache_read_tokens;
        let model = strings.names[r.model as usize].clone();
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
            let s = strings.names[r.session as usize].clone();
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
        cause_counts: causes.iter().map(|(c, t)| (c.name(), t.count)).collect(),
        causes: causes.into_iter().map(|(c, t)| (c.name(), t)).collect(),
        by_model: by_model.into_values().collect(),
        by_day: by_day.into_values().collect(),
        by_session: by_session.into_values().collect(),
        gaps: gap_stats,
        policies,
    }
}

/// One idle gap in a lineage, with what the replay needs to price it.
#[derive(Debug, Clone)]
struct Gap {
    minutes: f64,
    returned: bool,
    /// Tokens cached before the gap.
    prefix: u64,
    /// The lineage's first prefix (tools and system prompt): the stable part the hybrid policy caches for 1h.
    stable: u64,
    /// Tokens added by the returning request (written in every policy).
    tail: u64,
    /// Whether this gap opens the lineage (its `prefix` is the cold-start write).
    first: bool,
    rates: Rates,
}

fn write_rate_cost(u: &Usage, rates: &Rates, tokens: u64) -> Usd {
    let total = u.cache_write_tokens();
    if total == 0 || tokens == 0 {
        return Usd::ZERO;
    }
    let all = cost_of(u.cache_write_5m_tokens, rates.cache_write_5m)
        + cost_of(u.cache_write_1h_tokens, rates.write_1h());
    Usd::from_picos(crate::money::div_round_half_up(all.picos() * tokens.min(total) as i128, total as i128))
}

fn classify_lineage(
    order: &[usize],
    records: &[Record],
    priced: &[Option<&ModelPrice>],
    end_of_log: i64,
    causes: &mut BTreeMap<Cause, CauseTotals>,
    gaps: &mut Vec<Gap>,
) {
    let mut prev: Option<usize> = None;
    let mut ttl_1h = false;
    let mut stable = 0u64;
    for &i in order {
        let r = &records[i];
        let Some(price) = priced[i] else {
            prev = Some(i);
            continue;
        };
        let rates = price.rates_for(r.usage.prompt_tokens());
        let u = &r.usage;
        let written = u.cache_write_tokens();
        let write_cost = cost_of(u.cache_write_5m_tokens, rates.cache_write_5m)
            + cost_of(u.cache_write_1h_tokens, rates.write_1h());
        let cached_now = u.cache_read_tokens + written;
        let mut classify = |cause: Cause, tokens: u64, avoidable: Usd| {
            let t = causes.entry(cause).or_default();
            t.count += 1;
            t.tokens += tokens;
            t.write_usd += if cause == Cause::BelowMinimum { Usd::ZERO } else { write_cost };
            t.avoidable_usd += avoidable.max(Usd::ZERO);
        };
        if written == 0 && u.cache_read_tokens == 0 {
            let prompt = u.prompt_tokens();
            if prompt > 0 && prompt < price.min_cacheable_tokens {
                classify(Cause::BelowMinimum, prompt, Usd::ZERO);
            }
            prev = Some(i);
            continue;
        }
        match prev.filter(|&p| priced[p].is_some()) {
            None => {
                if written > 0 {
                    classify(Cause::ColdStart, written, Usd::ZERO);
                }
                stable = cached_now;
                gaps.push(Gap {
                    minutes: 0.0,
                    returned: true,
                    prefix: 0,
                    stable,
                    tail: cached_now,
                    first: true,
                    rates: *rates,
                });
            }
            Some(p) => {
                let pr = &records[p];
                let prefix = pr.usage.cache_read_tokens + pr.usage.cache_write_tokens();
                let minutes = match (pr.ts, r.ts) {
                    // Saturating: `created` seconds at the ends of i64 must not overflow.
                    (Some(a), Some(b)) => b.saturating_sub(a).max(0) as f64 / 60e6,
                    _ => 0.0,
                };
                let ttl = if ttl_1h { 60.0 } else { 5.0 };
                let lost = prefix.saturating_sub(u.cache_read_tokens);
                let dropped = lost >= 256 && lost * 20 > prefix;
                let rewritten = lost.min(written);
                if written > 0 {
                    if !dropped {
                        classify(Cause::TailGrowth, written, Usd::ZERO);
                    } else if minutes > ttl {
                        let rewrite = write_rate_cost(u, rates, rewritten);
                        let keep = cost_of(rewritten, rates.cache_read)
                            .checked_mul(reads_to_cover(minutes, ttl))
                            .unwrap_or(rewrite);
                        classify(Cause::TtlExpiry, written, rewrite - keep);
                    } else {
                        let blocks = if pr.file == r.file {
                            (pr.last_line - pr.line + 1)
                                + r.user_lines_before.saturating_sub(pr.user_lines_before)
                        } else {
                            0
                        };
                        let avoid =
                            write_rate_cost(u, rates, rewritten) - cost_of(rewritten, rates.cache_read);
                        let cause = if blocks > crate::lint::LOOKBACK_BLOCKS as u64 {
                            Cause::LookbackOverflow
                        } else {
                            Cause::PrefixBreak
                        };
                        classify(cause, written, avoid);
                    }
                }
                gaps.push(Gap {
                    minutes,
                    returned: true,
                    prefix,
                    stable: stable.min(prefix),
                    tail: cached_now.saturating_sub(prefix),
                    first: false,
                    rates: *rates,
                });
            }
        }
        if u.cache_write_1h_tokens > 0 {
            ttl_1h = true;
        } else if u.cache_write_5m_tokens > 0 {
            ttl_1h = false;
        }
        prev = Some(i);
    }
    // The open gap after the lineage's last request, censored at the end of the log.
    if let Some(p) = prev.filter(|&p| priced[p].is_some()) {
        let pr = &records[p];
        let prefix = pr.usage.cache_read_tokens + pr.usage.cache_write_tokens();
        let minutes = pr.ts.map_or(0.0, |t| end_of_log.saturating_sub(t).max(0) as f64 / 60e6);
        let rates = priced[p].map(|m| *m.rates_for(pr.usage.prompt_tokens()));
        if let Some(rates) = rates {
            gaps.push(Gap {
                minutes,
                returned: false,
                prefix,
                stable: stable.min(prefix),
                tail: 0,
                first: false,
                rates,
            });
        }
    }
}

fn keep_alive_cost(g: &Gap, pings: u32, tau: f64) -> Usd {
    let read = cost_of(g.prefix, g.rates.cache_read);
    let ttl = Ttl::FiveMinutes.minutes();
    let made = if g.minutes <= 0.0 {
        0
    } else {
        ((g.minutes / tau - 1e-9).ceil() as u64).saturating_sub(1).min(u64::from(pings))
    };
    let ping_cost = read.checked_mul(made).unwrap_or(Usd::ZERO);
    if !g.returned {
        return ping_cost;
    }
    let warm_until = f64::from(pings) * tau + ttl;
    ping_cost + if g.minutes <= warm_until { read } else { cost_of(g.prefix, g.rates.cache_write_5m) }
}

fn replay(gaps: &[Gap], km: &KaplanMeier, w: f64, rho: f64, options: &AnalyzeOptions) -> Vec<PolicyCost> {
    let tau = options.ping_interval_minutes;
    let base = |g: &Gap, tail_rate: Usd, first_rate: Usd| {
        if g.first { cost_of(g.tail, first_rate) } else { cost_of(g.tail, tail_rate) }
    };
    let ping_policy = |name: &str, pings: Option<u32>, per_gap: &dyn Fn(&Gap) -> u32| {
        let cost = gaps
            .iter()
            .map(|g| {
                base(g, g.rates.cache_write_5m, g.rates.cache_write_5m)
                    + if g.first { Usd::ZERO } else { keep_alive_cost(g, per_gap(g), tau) }
            })
            .sum();
        PolicyCost { policy: name.to_owned(), pings, cost_usd: cost }
    };
    let breakeven_pings = |g: &Gap| {
        let (wr, rd) = (g.rates.cache_write_5m.picos(), g.rates.cache_read.picos());
        if rd <= 0 {
            options.max_pings
        } else {
            (((wr - 1).max(0) / rd) as u32).saturating_sub(1).min(options.max_pings)
        }
    };
    let plan =
        solve_keepalive(|t| km.survival_at(t), 0.0, w, rho, Ttl::FiveMinutes.minutes(), options.max_pings);
    let (optimal, hazard) = match &plan {
        Ok(p) => (p.pings, hazard_rule_pings(&p.hazards, w, rho)),
        Err(_) => (0, 0),
    };
    let first_be = gaps.first().map(breakeven_pings);
    let mut out = vec![
        ping_policy("none", Some(0), &|_| 0),
        ping_policy("fixed", Some(options.fixed_pings), &|_| options.fixed_pings),
        ping_policy("breakeven", first_be, &breakeven_pings),
        ping_policy("hazard", Some(hazard), &|_| hazard),
        ping_policy("optimal", Some(optimal), &|_| optimal),
    ];
    let one_hour: Usd = gaps
        .iter()
        .map(|g| {
            let w1 = g.rates.write_1h();
            let idle = if g.first || !g.returned {
                Usd::ZERO
            } else if g.minutes <= 60.0 {
                cost_of(g.prefix, g.rates.cache_read)
            } else {
                cost_of(g.prefix, w1)
            };
            cost_of(g.tail, w1) + idle
        })
        .sum();
    out.push(PolicyCost { policy: "ttl_1h".to_owned(), pings: Some(0), cost_usd: one_hour });
    let hybrid: Usd = gaps
        .iter()
        .map(|g| {
            let (w1, w5, rd) = (g.rates.write_1h(), g.rates.cache_write_5m, g.rates.cache_read);
            if g.first {
                let stable = g.stable.min(g.tail);
                return cost_of(stable, w1) + cost_of(g.tail - stable, w5);
            }
            let tail_part = g.prefix - g.stable.min(g.prefix);
            let stable = g.prefix - tail_part;
            let idle = if !g.returned {
                Usd::ZERO
            } else if g.minutes <= 5.0 {
                cost_of(g.prefix, rd)
            } else if g.minutes <= 60.0 {
                cost_of(stable, rd) + cost_of(tail_part, w5)
            } else {
                cost_of(stable, w1) + cost_of(tail_part, w5)
            };
            cost_of(g.tail, w5) + idle
        })
        .sum();
    out.push(PolicyCost { policy: "hybrid".to_owned(), pings: Some(0), cost_usd: hybrid });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake tree: `root` holds `a.jsonl`, `notes.txt`, the folder `ok` (with `b.jsonl`) and the folder
    /// `locked`, which cannot be read; `entry-error` yields one entry that fails.
    fn entries(dir: &Path) -> Entries {
        let p = |s: &str| PathBuf::from(s);
        match dir.to_str() {
            Some("root") => Ok(vec![
                Ok((p("root/a.jsonl"), Kind::File)),
                Ok((p("root/notes.txt"), Kind::File)),
                Ok((p("root/ok"), Kind::Dir)),
                Ok((p("root/locked"), Kind::Dir)),
                Ok((p("root/entry-error"), Kind::Dir)),
            ]),
            Some("root/ok") => Ok(vec![Ok((p("root/ok/b.jsonl"), Kind::File))]),
            Some("root/entry-error") => {
                Ok(vec![Err((p("root/entry-error/x"), std::io::Error::other("stale handle")))])
            }
            _ => Err(std::io::Error::new(std::io::ErrorKind::PermissionDenied, "denied")),
        }
    }

    fn kind_of(path: &Path) -> std::io::Result<Kind> {
        match path.to_str() {
            Some("root") => Ok(Kind::Dir),
            Some("single.jsonl") => Ok(Kind::File),
            _ => Err(std::io::Error::new(std::io::ErrorKind::NotFound, "missing")),
        }
    }

    fn check(roots: &[&str], files: &[&str], failed: &[&str]) {
        let roots: Vec<PathBuf> = roots.iter().map(PathBuf::from).collect();
        let (got_files, got_failed) = list_with(&roots, &kind_of, &entries);
        let got_failed: Vec<PathBuf> = got_failed.into_iter().map(|(p, _)| p).collect();
        assert_eq!(got_files, files.iter().map(PathBuf::from).collect::<Vec<_>>(), "{roots:?}");
        assert_eq!(got_failed, failed.iter().map(PathBuf::from).collect::<Vec<_>>(), "{roots:?}");
    }

    #[test]
    fn unreadable_folders_are_skipped_not_fatal() {
        check(&["root"], &["root/a.jsonl", "root/ok/b.jsonl"], &["root/locked", "root/entry-error/x"]);
    }
    #[test]
    fn missing_roots_are_skipped() {
        check(&["cfg/projects", "single.jsonl", "root/ok"], &["single.jsonl"], &["cfg/projects", "root/ok"]);
        check(&["single.jsonl", "single.jsonl"], &["single.jsonl"], &[]);
    }
}
