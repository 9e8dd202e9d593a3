//! Usage reports as ccusage users know them: totals per day, week, month, session and 5-hour block, with
//! models, an optional per-model breakdown, date and project filters, and grouping by project.

mod blocks;
mod cache;
mod time;

use std::{collections::BTreeMap, path::PathBuf};

use agentry_types::{Timestamp, Usd};

pub use self::{
    blocks::{Block, BlockOptions, BlocksReport, BurnRate, LimitCheck, LimitStatus, Projection, TokenLimit},
    cache::CacheState,
    time::{Day, Weekday, Zone},
};
use crate::{
    analyze::{Collected, LogListing, MalformedLine, ScanCache, SkippedPath, collect, scan_files},
    pricing::{PriceTable, Usage},
};

/// What a row of a report groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// A calendar day in the report's zone (`date`, `YYYY-MM-DD`).
    Day,
    /// A week starting on the given day (`week`, the date of its first day).
    Week(Weekday),
    /// A calendar month (`month`, `YYYY-MM`).
    Month,
    /// A Claude Code session (`session_id`).
    Session,
}

/// Options of [`Requests::report`].
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// What a row groups by.
    pub period: Period,
    /// The zone days are counted in.
    pub zone: Zone,
    /// First day kept (inclusive), in `zone`.
    pub since: Option<Day>,
    /// Last day kept (inclusive), in `zone`.
    pub until: Option<Day>,
    /// Keep only this project (the folder under `projects/`).
    pub project: Option<String>,
    /// One row per project and period instead of per period.
    pub by_project: bool,
}

impl ReportOptions {
    /// Rows by `period`, in `zone`, with no filter.
    pub fn new(period: Period, zone: Zone) -> Self {
        Self { period, zone, since: None, until: None, project: None, by_project: false }
    }

    fn keeps(&self, day: Option<Day>, project: &str) -> bool {
        if self.project.as_deref().is_some_and(|p| p != project) {
            return false;
        }
        match day {
            Some(d) => self.since.is_none_or(|s| d >= s) && self.until.is_none_or(|u| d <= u),
            None => self.since.is_none() && self.until.is_none(),
        }
    }
}

/// Tokens and cost of one model within a row.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ModelTotals {
    /// The model id as logged.
    pub model: String,
    /// Requests after deduplication.
    pub requests: u64,
    /// Token sums.
    pub usage: Usage,
    /// Cost, each request at its own day's price.
    pub cost_usd: Usd,
}

/// Tokens and cost of a group of requests, with its models.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Totals {
    /// Requests after deduplication.
    pub requests: u64,
    /// Token sums.
    pub usage: Usage,
    /// Cost, each request at its own day's price.
    pub cost_usd: Usd,
    /// Per model, sorted by model id; `models` are their ids.
    pub breakdown: Vec<ModelTotals>,
    /// First and last request (absent for requests without timestamps).
    pub first_request: Option<Timestamp>,
    /// See `first_request`.
    pub last_request: Option<Timestamp>,
}

impl Totals {
    /// The models used, sorted.
    pub fn models(&self) -> impl Iterator<Item = &str> {
        self.breakdown.iter().map(|m| m.model.as_str())
    }

    /// Input, output, cache writes and reads together.
    pub fn total_tokens(&self) -> u64 {
        self.usage.total_tokens()
    }
}

/// One row of a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageRow {
    /// `YYYY-MM-DD` for days and weeks, `YYYY-MM` for months, the session id for sessions.
    pub key: String,
    /// The project, when rows are grouped by project and always for sessions.
    pub project: Option<String>,
    /// The row's totals.
    pub totals: Totals,
}

/// A report: its rows in key order (by project first when grouped), and the totals of all of them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UsageReport {
    /// The rows.
    pub rows: Vec<UsageRow>,
    /// Every kept request together.
    pub totals: Totals,
}

/// Sums requests into [`Totals`], models kept apart.
#[derive(Default)]
struct Acc {
    project: Option<u32>,
    models: BTreeMap<u32, ModelTotals>,
    first: Option<i64>,
    last: Option<i64>,
}

impl Acc {
    fn add(&mut self, data: &Collected<'_>, i: usize) {
        let r = &data.records[i];
        let m = self.models.entry(r.model).or_insert_with(|| ModelTotals {
            model: data.strings[r.model as usize].clone(),
            ..ModelTotals::default()
        });
        m.requests += 1;
        add_usage(&mut m.usage, &r.usage);
        m.cost_usd += data.costs[i];
        if let Some(t) = r.ts {
            self.first = Some(self.first.map_or(t, |f| f.min(t)));
            self.last = Some(self.last.map_or(t, |l| l.max(t)));
        }
    }

    fn finish(self) -> Totals {
        let mut totals = Totals {
            first_request: self.first.map(Timestamp::from_unix_micros),
            last_request: self.last.map(Timestamp::from_unix_micros),
            ..Totals::default()
        };
        let mut breakdown: Vec<ModelTotals> = self.models.into_values().collect();
        breakdown.sort_by(|a, b| a.model.cmp(&b.model));
        for m in &breakdown {
            totals.requests += m.requests;
            add_usage(&mut totals.usage, &m.usage);
            totals.cost_usd += m.cost_usd;
        }
        totals.breakdown = breakdown;
        totals
    }
}

fn add_usage(to: &mut Usage, u: &Usage) {
    to.input_tokens += u.input_tokens;
    to.output_tokens += u.output_tokens;
    to.cache_write_5m_tokens += u.cache_write_5m_tokens;
    to.cache_write_1h_tokens += u.cache_write_1h_tokens;
    to.cache_read_tokens += u.cache_read_tokens;
    to.web_search_requests += u.web_search_requests;
}

/// Every distinct request of a set of logs, read once and priced, ready for any report.
#[derive(Debug)]
pub struct Requests<'p> {
    data: Collected<'p>,
    files: u64,
    skipped: Vec<SkippedPath>,
}

impl std::fmt::Debug for Collected<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Collected").field("requests", &self.records.len()).finish_non_exhaustive()
    }
}

impl<'p> Requests<'p> {
    /// Reads the listed files in parallel, deduplicates requests across them and prices each one.
    /// `progress` is called with each file's size once it is done. Nothing in the input is fatal:
    /// unreadable files and malformed lines are counted (see [`Requests::malformed`]).
    pub fn load(
        listing: &LogListing,
        prices: &'p PriceTable,
        progress: Option<&(dyn Fn(u64) + Sync)>,
    ) -> Self {
        let scans = scan_files(&listing.files, progress);
        Self {
            data: collect(&listing.files, scans, prices),
            files: listing.files.len() as u64,
            skipped: listing.skipped.clone(),
        }
    }

    /// As [`Requests::load`], through a small cache of earlier scans stored at `cache` (JSON): a file that
    /// only grew since the last call is read from where that call stopped, and the cache then holds
    /// just these files. A cache that cannot be read is rebuilt; one that cannot be written is an error
    /// returned beside the requests, which are complete either way.
    pub fn load_cached(
        listing: &LogListing,
        prices: &'p PriceTable,
        cache: &std::path::Path,
    ) -> (Self, Result<(), crate::Error>) {
        let mut store = ScanCache::read(cache);
        let scans = store.scan(&listing.files);
        let written =
            store.write(cache).map_err(|source| crate::Error::Io { path: cache.to_owned(), source });
        let requests = Self {
            data: collect(&listing.files, scans, prices),
            files: listing.files.len() as u64,
            skipped: listing.skipped.clone(),
        };
        (requests, written)
    }

    /// As [`Requests::load`], from one log held in memory (`name` stands for its path).
    pub fn from_bytes(name: &str, log: &[u8], prices: &'p PriceTable) -> Self {
        let scan = crate::analyze::scan_bytes(name, log);
        Self { data: collect(&[PathBuf::from(name)], vec![scan], prices), files: 1, skipped: Vec::new() }
    }

    /// Distinct requests read.
    pub fn len(&self) -> usize {
        self.data.records.len()
    }

    /// Whether no request was read.
    pub fn is_empty(&self) -> bool {
        self.data.records.is_empty()
    }

    /// Files read.
    pub fn files(&self) -> u64 {
        self.files
    }

    /// Lines that could not be read, all counted.
    pub fn malformed_lines(&self) -> u64 {
        self.data.malformed_count
    }

    /// The first malformed lines, with file and line.
    pub fn malformed(&self) -> &[MalformedLine] {
        &self.data.malformed
    }

    /// Folders that could not be listed.
    pub fn skipped_paths(&self) -> &[SkippedPath] {
        &self.skipped
    }

    /// Files of JSON lines in a format this crate does not read (another tool's logs): their usage is
    /// missing from every report.
    pub fn unrecognized_files(&self) -> &[PathBuf] {
        &self.data.unrecognized
    }

    /// Models the price table lacks (their requests count in tokens, at $0).
    pub fn unpriced_models(&self) -> Vec<String> {
        self.data.unpriced_models.iter().cloned().collect()
    }

    fn day(&self, zone: &Zone, i: usize) -> Option<Day> {
        self.data.records[i].ts.map(|t| zone.day_of(Timestamp::from_unix_micros(t)))
    }

    fn project(&self, i: usize) -> &str {
        &self.data.strings[self.data.records[i].project as usize]
    }

    /// Totals per day, week, month or session, filtered and grouped as `options` say.
    /// Requests without a timestamp have no day: they count in session reports only.
    pub fn report(&self, options: &ReportOptions) -> UsageReport {
        let mut rows: BTreeMap<(String, String), Acc> = BTreeMap::new();
        let mut all = Acc::default();
        for i in 0..self.data.records.len() {
            let day = self.day(&options.zone, i);
            let project = self.project(i);
            if !options.keeps(day, project) {
                continue;
            }
            let key = match (options.period, day) {
                (Period::Session, _) => self.data.strings[self.data.records[i].session as usize].clone(),
                (_, None) => continue,
                (Period::Day, Some(d)) => d.to_string(),
                (Period::Week(start), Some(d)) => d.week_start(start).to_string(),
                (Period::Month, Some(d)) => d.month_key(),
            };
            let group = if options.by_project { project.to_owned() } else { String::new() };
            let acc = rows.entry((group, key)).or_default();
            acc.project.get_or_insert(self.data.records[i].project);
            acc.add(&self.data, i);
            all.add(&self.data, i);
        }
        let session = options.period == Period::Session;
        let mut out: Vec<UsageRow> = rows
            .into_iter()
            .map(|((_, key), acc)| UsageRow {
                key,
                project: (options.by_project || session)
                    .then(|| acc.project.map(|p| self.data.strings[p as usize].clone()))
                    .flatten(),
                totals: acc.finish(),
            })
            .collect();
        if session {
            // Sessions in the order they were last active (within each project when grouped).
            out.sort_by(|a, b| {
                let group = |r: &UsageRow| if options.by_project { r.project.clone() } else { None };
                group(a)
                    .cmp(&group(b))
                    .then(a.totals.last_request.cmp(&b.totals.last_request))
                    .then(a.key.cmp(&b.key))
            });
        }
        UsageReport { rows: out, totals: all.finish() }
    }

    /// The requests kept by a filter, in time order (those without a timestamp left out).
    fn timed(&self, project: Option<&str>) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.data.records.len())
            .filter(|&i| self.data.records[i].ts.is_some())
            .filter(|&i| project.is_none_or(|p| p == self.project(i)))
            .collect();
        order.sort_by_key(|&i| (self.data.records[i].ts, i));
        order
    }
}
