//! The usage reports ccusage users know: `daily`, `weekly`, `monthly`, `session` and `blocks`, as text
//! tables or as one JSON document (`rows` and `totals`, money as exact decimal strings).

use std::path::PathBuf;

use agentry_cache_econ::{
    PriceTable, default_log_dirs, format_usd, list_logs,
    report::{Block, BlockOptions, Day, Period, ReportOptions, Requests, TokenLimit, Totals, Zone},
};
use agentry_types::Timestamp;
use anyhow::{Context, Result, bail};
use clap::Args;
use serde_json::{Map, Value, json};

use crate::{config::Config, print_json};

/// Options every report takes.
#[derive(Args)]
pub(crate) struct UsageArgs {
    /// Files or folders of logs (default: CLAUDE_CONFIG_DIR's or ~/.claude's projects, Codex CLI's
    /// sessions under CODEX_HOME or ~/.codex, Gemini CLI's chats under GEMINI_DATA_DIR or ~/.gemini/tmp).
    paths: Vec<PathBuf>,
    /// Print one JSON document: `rows` and `totals`.
    #[arg(long, short = 'j')]
    json: bool,
    /// Each row's tokens and cost per model too.
    #[arg(long, short = 'b')]
    breakdown: bool,
    /// First day kept, YYYY-MM-DD or YYYYMMDD (inclusive, in --timezone).
    #[arg(long, short = 's', value_name = "DATE")]
    since: Option<String>,
    /// Last day kept, YYYY-MM-DD or YYYYMMDD (inclusive, in --timezone).
    #[arg(long, short = 'u', value_name = "DATE")]
    until: Option<String>,
    /// The IANA time zone days are counted in, such as UTC or Europe/Paris (default: the local zone).
    #[arg(long, short = 'z', value_name = "ZONE")]
    timezone: Option<String>,
    /// Keep only this project: its folder under projects/, such as -home-ada-src-shop, or its alias in the
    /// config file.
    #[arg(long, short = 'p', value_name = "NAME", allow_hyphen_values = true)]
    project: Option<String>,
    /// One row per project and period (ccusage's --instances).
    #[arg(long, short = 'i', visible_alias = "instances")]
    by_project: bool,
    /// Accepted for ccusage users; this tool never uses the network, so it is always offline.
    #[arg(long, short = 'O')]
    offline: bool,
    /// No progress bar.
    #[arg(long, short = 'q')]
    quiet: bool,
}

/// `blocks`' options.
#[derive(Args)]
pub(crate) struct BlocksArgs {
    #[command(flatten)]
    common: UsageArgs,
    /// Check each block against a token budget: a number, or `max` for the largest finished block.
    #[arg(long, short = 't', value_name = "TOKENS|max")]
    token_limit: Option<String>,
    /// Only the active block.
    #[arg(long, short = 'a')]
    active: bool,
}

pub(crate) enum Kind {
    Period(Period),
}

struct Loaded {
    zone: Zone,
    since: Option<Day>,
    until: Option<Day>,
}

fn load<'p>(prices: &'p PriceTable, config: &Config, args: &UsageArgs) -> Result<(Requests<'p>, Loaded)> {
    let zone = match args.timezone.as_ref().or(config.timezone.as_ref()) {
        Some(name) => Zone::named(name)?,
        None => Zone::local(),
    };
    let day = |s: &Option<String>| s.as_deref().map(str::parse::<Day>).transpose();
    let (since, until) = (day(&args.since)?, day(&args.until)?);
    for p in &args.paths {
        std::fs::metadata(p).with_context(|| format!("cannot read {}", p.display()))?;
    }
    let roots = if args.paths.is_empty() { default_log_dirs() } else { args.paths.clone() };
    if roots.is_empty() {
        bail!("no log folders found: pass PATH or set CLAUDE_CONFIG_DIR");
    }
    let listing = list_logs(&roots);
    let total: u64 = listing.files.iter().filter_map(|f| std::fs::metadata(f).ok()).map(|m| m.len()).sum();
    let bar = (!args.quiet && !args.json && total > 64 << 20).then(|| indicatif::ProgressBar::new(total));
    let tick = |n: u64| {
        if let Some(b) = &bar {
            b.inc(n);
        }
    };
    let requests = Requests::load(&listing, prices, Some(&tick));
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    for s in requests.skipped_paths() {
        eprintln!("skipped {}: {}", s.path.display(), s.reason);
    }
    warn_unrecognized(requests.unrecognized_files());
    if requests.malformed_lines() > 0 {
        let first = requests
            .malformed()
            .first()
            .map(|m| format!(" (first: {}:{}: {})", m.file.display(), m.line, m.reason));
        eprintln!("{} malformed lines skipped{}", requests.malformed_lines(), first.unwrap_or_default());
    }
    Ok((requests, Loaded { zone, since, until }))
}

/// Says on stderr that some files are another tool's logs, whose usage is missing, rather than report less.
pub(crate) fn warn_unrecognized(files: &[std::path::PathBuf]) {
    if let Some(first) = files.first() {
        eprintln!(
            "warning: {} files hold JSON lines of a format this tool does not read (another tool's logs?); their usage is not counted. First: {}",
            files.len(),
            first.display()
        );
    }
}

fn totals_json(t: &Totals, breakdown: bool) -> Map<String, Value> {
    let mut m = Map::new();
    let u = &t.usage;
    m.insert("requests".into(), json!(t.requests));
    m.insert("input_tokens".into(), json!(u.input_tokens));
    m.insert("output_tokens".into(), json!(u.output_tokens));
    m.insert("cache_creation_tokens".into(), json!(u.cache_write_tokens()));
    m.insert("cache_creation_5m_tokens".into(), json!(u.cache_write_5m_tokens));
    m.insert("cache_creation_1h_tokens".into(), json!(u.cache_write_1h_tokens));
    m.insert("cache_read_tokens".into(), json!(u.cache_read_tokens));
    m.insert("total_tokens".into(), json!(u.total_tokens()));
    m.insert("web_search_requests".into(), json!(u.web_search_requests));
    m.insert("cost_usd".into(), json!(t.cost_usd.to_string()));
    m.insert("models".into(), json!(t.models().collect::<Vec<_>>()));
    if breakdown {
        let rows: Vec<Value> = t
            .breakdown
            .iter()
            .map(|b| {
                let one = Totals {
                    requests: b.requests,
                    usage: b.usage,
                    cost_usd: b.cost_usd,
                    ..Totals::default()
                };
                let mut row = totals_json(&one, false);
                row.remove("models");
                row.insert("model".into(), json!(b.model));
                Value::Object(row)
            })
            .collect();
        m.insert("breakdown".into(), Value::Array(rows));
    }
    m
}

pub(crate) fn run(prices: &PriceTable, config: &Config, args: UsageArgs, kind: Kind) -> Result<()> {
    let Kind::Period(period) = kind;
    let (requests, l) = load(prices, config, &args)?;
    let options = ReportOptions {
        period,
        zone: l.zone.clone(),
        since: l.since,
        until: l.until,
        project: args.project.as_deref().map(|p| config.project_folder(p)),
        by_project: args.by_project,
    };
    let mut report = requests.report(&options);
    for row in &mut report.rows {
        if let Some(p) = &mut row.project {
            *p = config.project_name(p).to_owned();
        }
    }
    let key = match period {
        Period::Day => "date",
        Period::Week(_) => "week",
        Period::Month => "month",
        Period::Session => "session_id",
    };
    if args.json {
        let rows: Vec<Value> = report
            .rows
            .iter()
            .map(|r| {
                let mut m = totals_json(&r.totals, args.breakdown);
                m.insert(key.into(), json!(r.key));
                if let Some(p) = &r.project {
                    m.insert("project".into(), json!(p));
                }
                if period == Period::Session {
                    m.insert("last_activity".into(), json!(r.totals.last_request.map(|t| t.to_string())));
                }
                Value::Object(m)
            })
            .collect();
        return print_json(&json!({
            "timezone": l.zone.name(),
            "rows": rows,
            "totals": totals_json(&report.totals, false),
            "malformed_lines": requests.malformed_lines(),
            "unpriced_models": requests.unpriced_models(),
            "unrecognized_files": requests.unrecognized_files(),
        }));
    }
    let mut table = Table::new(&[
        key_title(period),
        "models",
        "input",
        "output",
        "cache write",
        "cache read",
        "total",
        "cost",
    ]);
    for r in &report.rows {
        let key = match &r.project {
            Some(p) if period != Period::Session || args.by_project => format!("{p}  {}", r.key),
            _ => r.key.clone(),
        };
        table.totals_row(key, &r.totals);
        if args.breakdown {
            for b in &r.totals.breakdown {
                let one = Totals {
                    requests: b.requests,
                    usage: b.usage,
                    cost_usd: b.cost_usd,
                    ..Totals::default()
                };
                table.totals_row(format!("  - {}", b.model), &one);
            }
        }
    }
    table.rule();
    table.totals_row("total".to_owned(), &report.totals);
    table.print();
    if period != Period::Session {
        say!("(days in {})", l.zone.name());
    }
    Ok(())
}

fn key_title(period: Period) -> &'static str {
    match period {
        Period::Day => "date",
        Period::Week(_) => "week",
        Period::Month => "month",
        Period::Session => "session",
    }
}

pub(crate) fn run_blocks(prices: &PriceTable, config: &Config, args: BlocksArgs) -> Result<()> {
    if args.common.by_project {
        bail!(
            "blocks are Claude's billing windows across all projects: --by-project does not apply (--project NAME keeps one)"
        );
    }
    let token_limit = args.token_limit.as_deref().map(str::parse::<TokenLimit>).transpose()?;
    let (requests, l) = load(prices, config, &args.common)?;
    let options = BlockOptions {
        zone: l.zone.clone(),
        since: l.since,
        until: l.until,
        project: args.common.project.as_deref().map(|p| config.project_folder(p)),
        token_limit,
    };
    let mut report = requests.blocks(&options, Timestamp::now());
    if args.active {
        report.rows.retain(|b| b.active);
    }
    if args.common.json {
        let rows: Vec<Value> = report.rows.iter().map(|b| block_json(b, args.common.breakdown)).collect();
        return print_json(&json!({
            "rows": rows,
            "totals": totals_json(&report.totals, false),
            "malformed_lines": requests.malformed_lines(),
            "unpriced_models": requests.unpriced_models(),
            "unrecognized_files": requests.unrecognized_files(),
        }));
    }
    let mut table =
        Table::new(&["block start (UTC)", "status", "models", "tokens", "cost", "burn/hour", "limit"]);
    for b in &report.rows {
        let status = if b.active {
            match b.projection {
                Some(p) => format!(
                    "active, {} min left, projected {} tokens ${}",
                    p.remaining_minutes,
                    p.total_tokens,
                    format_usd(p.cost_usd, 2)
                ),
                None => "active".to_owned(),
            }
        } else {
            "done".to_owned()
        };
        table.row(vec![
            b.start.to_string(),
            status,
            models_cell(&b.totals),
            b.totals.total_tokens().to_string(),
            format!("${}", format_usd(b.totals.cost_usd, 2)),
            b.burn_rate
                .map_or_else(|| "-".to_owned(), |r| format!("${}", format_usd(r.cost_per_hour_usd, 2))),
            b.limit.map_or_else(|| "-".to_owned(), |c| format!("{:.0}% {}", c.percent_used, c.status.name())),
        ]);
    }
    table.rule();
    table.row(vec![
        "total".to_owned(),
        format!("{} blocks", report.rows.len()),
        String::new(),
        report.totals.total_tokens().to_string(),
        format!("${}", format_usd(report.totals.cost_usd, 2)),
        String::new(),
        String::new(),
    ]);
    table.print();
    Ok(())
}

fn block_json(b: &Block, breakdown: bool) -> Value {
    let mut m = totals_json(&b.totals, breakdown);
    m.insert("block_start".into(), json!(b.start.to_string()));
    m.insert("block_end".into(), json!(b.end.to_string()));
    m.insert("active".into(), json!(b.active));
    m.insert("last_request".into(), json!(b.totals.last_request.map(|t| t.to_string())));
    m.insert(
        "burn_rate".into(),
        b.burn_rate.map_or(Value::Null, |r| {
            json!({ "tokens_per_minute": r.tokens_per_minute, "cost_per_hour_usd": r.cost_per_hour_usd.to_string() })
        }),
    );
    m.insert(
        "projection".into(),
        b.projection.map_or(Value::Null, |p| {
            json!({ "remaining_minutes": p.remaining_minutes, "total_tokens": p.total_tokens, "cost_usd": p.cost_usd.to_string() })
        }),
    );
    if let Some(c) = b.limit {
        m.insert(
            "token_limit".into(),
            json!({ "limit": c.limit, "tokens": c.tokens, "percent_used": c.percent_used, "status": c.status.name() }),
        );
    }
    Value::Object(m)
}

/// Models as the table shows them: `opus-4-5` for `claude-opus-4-5-20251101`.
fn models_cell(t: &Totals) -> String {
    let short = |m: &str| {
        let m = m.strip_prefix("claude-").unwrap_or(m);
        match m.rsplit_once('-') {
            Some((head, date)) if date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit()) => {
                head.to_owned()
            }
            _ => m.to_owned(),
        }
    };
    t.models().map(short).collect::<Vec<_>>().join(", ")
}

/// A plain text table: the first column left-aligned, the others right-aligned.
struct Table {
    rows: Vec<Option<Vec<String>>>,
}

impl Table {
    fn new(titles: &[&str]) -> Self {
        Self { rows: vec![Some(titles.iter().map(|t| (*t).to_owned()).collect())] }
    }

    fn row(&mut self, cells: Vec<String>) {
        self.rows.push(Some(cells));
    }

    fn rule(&mut self) {
        self.rows.push(None);
    }

    fn totals_row(&mut self, key: String, t: &Totals) {
        let u = &t.usage;
        self.row(vec![
            key,
            models_cell(t),
            u.input_tokens.to_string(),
            u.output_tokens.to_string(),
            u.cache_write_tokens().to_string(),
            u.cache_read_tokens.to_string(),
            u.total_tokens().to_string(),
            format!("${}", format_usd(t.cost_usd, 2)),
        ]);
    }

    fn print(&self) {
        let cols = self.rows.iter().flatten().map(Vec::len).max().unwrap_or(0);
        let mut width = vec![0; cols];
        for r in self.rows.iter().flatten() {
            for (w, c) in width.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
        let total: usize = width.iter().sum::<usize>() + 2 * cols.saturating_sub(1);
        for r in &self.rows {
            let Some(r) = r else {
                say!("{}", "-".repeat(total));
                continue;
            };
            let cells: Vec<String> = r
                .iter()
                .zip(&width)
                .enumerate()
                .map(|(i, (c, w))| if i == 0 { format!("{c:<w$}") } else { format!("{c:>w$}") })
                .collect();
            say!("{}", cells.join("  ").trim_end());
        }
    }
}
