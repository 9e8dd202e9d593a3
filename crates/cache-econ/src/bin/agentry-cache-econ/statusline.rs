//! `statusline`: one line for Claude Code's status bar, from the JSON Claude Code writes on stdin.
//!
//! It reads the session's own transcript (and its subagents'), plus only the log files written to since
//! the start of today or of the last five hours, whichever is earlier: a file last written before then
//! holds no request of today or of the open 5-hour block, since Claude Code only appends.

use std::{
    io::Read,
    path::{Path, PathBuf},
    time::SystemTime,
};

use agentry_cache_econ::{
    LogListing, PriceTable, default_log_dirs, format_usd,
    report::{BlockOptions, CacheState, Period, ReportOptions, Requests, Zone},
};
use agentry_types::Timestamp;
use anyhow::{Context, Result};
use clap::Args;
use serde::Deserialize;

#[derive(Args)]
pub(crate) struct StatuslineArgs {
    /// Folders of Claude Code transcripts for today's and the block's totals (default: CLAUDE_CONFIG_DIR's
    /// or ~/.claude's projects).
    paths: Vec<PathBuf>,
    /// The IANA time zone "today" is counted in (default: the local zone).
    #[arg(long, short = 'z', value_name = "ZONE")]
    timezone: Option<String>,
    /// Where to keep the scans of earlier runs, so a grown file is read only from where the last run
    /// stopped (default: $XDG_CACHE_HOME or ~/.cache, then agentry/cache-econ-statusline.json).
    #[arg(long, value_name = "FILE")]
    cache: Option<PathBuf>,
    /// Read every file whole, without the cache.
    #[arg(long)]
    no_cache: bool,
    /// The time to report for, RFC 3339 (default: now); for tests and replays.
    #[arg(long, hide = true)]
    now: Option<String>,
}

/// What Claude Code writes on the statusline command's stdin (the fields used here).
#[derive(Deserialize)]
struct Input {
    session_id: Option<String>,
    transcript_path: Option<PathBuf>,
    #[serde(default)]
    model: Option<InputModel>,
}

#[derive(Deserialize)]
struct InputModel {
    id: Option<String>,
    display_name: Option<String>,
}

/// The session's transcript and its subagents' files.
fn session_files(transcript: &Path) -> Vec<PathBuf> {
    let mut files = vec![transcript.to_owned()];
    let folder = transcript.with_extension("").join("subagents");
    if let Ok(entries) = std::fs::read_dir(folder) {
        files.extend(
            entries.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "jsonl")),
        );
    }
    files
}

fn written_since(path: &Path, cutoff: SystemTime) -> bool {
    std::fs::metadata(path).and_then(|m| m.modified()).is_ok_and(|t| t >= cutoff)
}

/// The `*.jsonl` files under `dir` written to since `cutoff`. A session's folder (`<id>/subagents/...`)
/// is not entered when the session's own file `<id>.jsonl` beside it is older than `cutoff`: its
/// subagents ran while the session did, and the session's file is written after each of them. On a
/// folder of months of sessions this skips almost every folder, which is most of the listing's cost.
fn recent_logs(dir: &Path, cutoff: SystemTime, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut dirs = Vec::new();
    let mut old = std::collections::HashSet::new();
    for e in entries.flatten() {
        let Ok(kind) = e.file_type() else { continue };
        let path = e.path();
        if kind.is_dir() {
            dirs.push(path);
        } else if path.extension().is_some_and(|x| x == "jsonl") {
            if written_since(&path, cutoff) {
                out.push(path);
            } else if let Some(stem) = path.file_stem() {
                old.insert(stem.to_owned());
            }
        }
    }
    for d in dirs {
        if d.file_name().is_some_and(|n| old.contains(n)) {
            continue;
        }
        recent_logs(&d, cutoff, out);
    }
}

fn default_cache() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("agentry").join("cache-econ-statusline.json"))
}

fn usd(u: agentry_types::Usd) -> String {
    format!("${}", format_usd(u, 2))
}

fn minutes(seconds: i64) -> String {
    match seconds {
        s if s >= 3600 => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
        s if s >= 60 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

fn cache_part(c: &CacheState, now: Timestamp) -> String {
    let ttl = if c.ttl == agentry_cache_econ::Ttl::OneHour { "1h" } else { "5m" };
    let tokens = format!("{:.1}K", c.cached_tokens as f64 / 1000.0);
    let left = c.seconds_left(now);
    if left <= 0 {
        return format!(
            "cache {ttl} expired {} ago: next turn rewrites {tokens} for {}",
            minutes(-left),
            usd(c.cold_usd)
        );
    }
    let advice = if c.keep_warm_minutes > 0.0 {
        let within = minutes((c.keep_warm_minutes * 60.0) as i64);
        format!("; back within {within}? a ping every {ttl} (${}) beats a rewrite", format_usd(c.ping_usd, 3))
    } else {
        String::new()
    };
    format!(
        "cache {ttl} expires in {}: next turn ${} warm / {} cold ({tokens}){advice}",
        minutes(left),
        format_usd(c.warm_usd, 3),
        usd(c.cold_usd)
    )
}

pub(crate) fn run(prices: &PriceTable, config: &crate::config::Config, args: StatuslineArgs) -> Result<()> {
    let mut stdin = Vec::new();
    std::io::stdin().read_to_end(&mut stdin).context("reading the statusline JSON on stdin")?;
    let input: Input =
        serde_json::from_slice(&stdin).context("stdin is not Claude Code's statusline JSON")?;
    let now = match &args.now {
        Some(t) => t.parse::<Timestamp>().map_err(|e| anyhow::anyhow!("--now {t}: {e}"))?,
        None => Timestamp::now(),
    };
    let zone = match args.timezone.as_ref().or(config.timezone.as_ref()) {
        Some(name) => Zone::named(name)?,
        None => Zone::local(),
    };
    let today = zone.day_of(now);
    let cutoff_micros = zone.start_of(today).unix_micros().min(now.unix_micros() - 5 * 3_600_000_000);
    let cutoff = SystemTime::UNIX_EPOCH + std::time::Duration::from_micros(cutoff_micros.max(0) as u64);
    let roots = if args.paths.is_empty() { default_log_dirs() } else { args.paths.clone() };
    let mut files = Vec::new();
    for root in &roots {
        if root.is_file() {
            files.extend(written_since(root, cutoff).then(|| root.clone()));
        } else {
            recent_logs(root, cutoff, &mut files);
        }
    }
    let transcript = input.transcript_path.as_deref().filter(|p| p.is_file());
    if let Some(t) = transcript {
        files.extend(session_files(t));
    }
    files.sort();
    files.dedup();
    let listing = LogListing { files, skipped: Vec::new() };
    let cache = args.cache.clone().or_else(default_cache).filter(|_| !args.no_cache);
    let requests = match cache {
        Some(path) => {
            let (requests, stored) = Requests::load_cached(&listing, prices, &path);
            if let Err(e) = stored {
                eprintln!("statusline cache not written: {e}");
            }
            requests
        }
        None => Requests::load(&listing, prices, None),
    };

    let mut parts = Vec::new();
    let model = input.model.as_ref().and_then(|m| m.display_name.clone().or_else(|| m.id.clone()));
    if let Some(m) = model {
        parts.push(m);
    }
    let mut day = ReportOptions::new(Period::Day, zone.clone());
    (day.since, day.until) = (Some(today), Some(today));
    parts.push(format!("today {}", usd(requests.report(&day).totals.cost_usd)));
    let session = input.session_id.as_deref();
    if let Some(id) = session {
        let report = requests.report(&ReportOptions::new(Period::Session, zone.clone()));
        let cost = report.rows.iter().find(|r| r.key == id).map(|r| r.totals.cost_usd).unwrap_or_default();
        parts.push(format!("session {}", usd(cost)));
    }
    let options = BlockOptions { zone, since: None, until: None, project: None, token_limit: None };
    if let Some(b) = requests.blocks(&options, now).rows.into_iter().find(|b| b.active) {
        let left = (b.end.unix_micros() - now.unix_micros()) / 1_000_000;
        let rate = b.burn_rate.map(|r| format!(" {}/h", usd(r.cost_per_hour_usd))).unwrap_or_default();
        parts.push(format!("block {}{rate}, {} left", usd(b.totals.cost_usd), minutes(left)));
    }
    if let Some(c) = session.and_then(|id| requests.cache_state(Some(id))) {
        parts.push(cache_part(&c, now));
    }
    say!("{}", parts.join(" | "));
    Ok(())
}
