//! The stage every report shares: merge the files' scans, deduplicate requests across files, and price
//! each one at its own day's rate.

use std::{
    collections::{BTreeSet, HashMap},
    path::PathBuf,
};

use agentry_types::Usd;

use super::{
    MALFORMED_KEPT, MalformedLine,
    scan_file::{FileScan, Record},
};
use crate::pricing::{ModelPrice, PriceTable};

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

/// The UTC day of a timestamp, as the price table's dates are written.
pub(crate) fn day_of(ts: Option<i64>) -> String {
    match ts {
        Some(micros) => {
            let (y, m, d) = agentry_types::Timestamp::from_unix_micros(micros).date();
            format!("{y:04}-{m:02}-{d:02}")
        }
        None => "unknown".to_owned(),
    }
}

/// Every distinct request of a set of files, priced.
pub(crate) struct Collected<'p> {
    /// Session, lineage, model and project names; records refer to them by index.
    pub(crate) strings: Vec<String>,
    pub(crate) records: Vec<Record>,
    /// Each record's price row, `None` when its model is not in the table.
    pub(crate) priced: Vec<Option<&'p ModelPrice>>,
    /// Each record's cost (zero when unpriced).
    pub(crate) costs: Vec<Usd>,
    pub(crate) lines: u64,
    pub(crate) bytes: u64,
    pub(crate) malformed_count: u64,
    pub(crate) malformed: Vec<MalformedLine>,
    pub(crate) duplicate_lines: u64,
    /// Subagent replays of a parent's message, dropped (counted in `duplicate_lines` too).
    pub(crate) replays: u64,
    pub(crate) unpriced_models: BTreeSet<String>,
    /// Files of JSON lines in a format this crate does not read.
    pub(crate) unrecognized: Vec<PathBuf>,
}

pub(crate) fn collect<'p>(files: &[PathBuf], scans: Vec<FileScan>, prices: &'p PriceTable) -> Collected<'p> {
    let mut strings = Interner { names: Vec::new(), ids: HashMap::new() };
    let (mut lines, mut bytes, mut malformed_count) = (0u64, 0u64, 0u64);
    let mut malformed = Vec::new();
    let mut records: Vec<Record> = Vec::new();
    let mut duplicate_lines = 0u64;
    let mut index: HashMap<u128, usize> = HashMap::new();
    let mut unrecognized = Vec::new();
    for (file_idx, mut scan) in scans.into_iter().enumerate() {
        if scan.unrecognized() {
            unrecognized.push(files[file_idx].clone());
        }
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
            r.project = map[r.project as usize];
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
    // A subagent's transcript can replay its parent's message: the same `message.id` under a new
    // `requestId`, on a sidechain line. It was billed once, in the parent.
    let parents: std::collections::HashSet<u64> =
        records.iter().filter(|r| !r.sidechain).filter_map(|r| r.message).collect();
    let before = records.len();
    records.retain(|r| {
        let replay = r.sidechain && r.message.is_some_and(|m| parents.contains(&m));
        if replay {
            duplicate_lines += 1 + r.merged;
        }
        !replay
    });
    let replays = (before - records.len()) as u64;
    // Duplicates merged inside a file count as duplicate lines too.
    duplicate_lines += records.iter().map(|r| r.merged).sum::<u64>();

    let mut price_cache: HashMap<(u32, String), Option<&ModelPrice>> = HashMap::new();
    let mut priced: Vec<Option<&ModelPrice>> = Vec::with_capacity(records.len());
    let mut unpriced_models = BTreeSet::new();
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
    Collected {
        strings: strings.names,
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
    }
}
