//! `agentry-cache-econ`: prompt-cache break-even rules, decisions under uncertainty, a request linter and an
//! analyzer of Claude Code usage logs. Every command takes `--json` and then prints one JSON document.

use std::{path::PathBuf, process::ExitCode};

use agentry_cache_econ::{
    PriceTable, Ttl, breakeven, compaction, format_minutes, format_usd, hazard_threshold, lint, parse_ratio,
    ping_cost, rent_breakeven_hours, report::Period, table,
};
use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use serde_json::json;

/// `println!` that stops quietly when stdout is closed (`| head`) instead of panicking.
macro_rules! say {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($t)*);
    }};
}

mod analyze;
mod config;
mod simulate;
mod statusline;
mod usage;

#[derive(Parser)]
#[command(
    name = "agentry-cache-econ",
    version,
    about = "Prompt-cache economics: break-even rules, decisions under uncertainty, a request linter and a usage-log analyzer"
)]
struct Cli {
    #[command(flatten)]
    prices: PriceArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct PriceArgs {
    /// A configuration file (default: ~/.config/agentry/cache-econ.toml if it exists): timezone,
    /// start_of_week, prices, litellm and [project_aliases].
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// A price override file in this crate's TOML format; its rows win over the built-in table.
    #[arg(long, global = true, value_name = "FILE")]
    prices: Option<PathBuf>,
    /// LiteLLM's model_prices_and_context_window.json, used under the built-in table and the overrides.
    #[arg(long, global = true, value_name = "FILE")]
    litellm: Option<PathBuf>,
}

/// What a keep-alive ping costs besides the prefix read.
#[derive(Args)]
struct PingArgs {
    /// Uncached tokens each ping appends (written to the cache at the lifetime's rate).
    #[arg(long, default_value_t = 0)]
    ping_tail_tokens: u64,
    /// Output tokens each ping generates (a ping with `max_tokens: 1` bills one).
    #[arg(long, default_value_t = 1)]
    ping_output_tokens: u64,
}

#[derive(Clone, Copy, ValueEnum)]
enum TtlArg {
    #[value(name = "5m")]
    FiveMinutes,
    #[value(name = "1h")]
    OneHour,
}

impl From<TtlArg> for Ttl {
    fn from(t: TtlArg) -> Self {
        match t {
            TtlArg::FiveMinutes => Ttl::FiveMinutes,
            TtlArg::OneHour => Ttl::OneHour,
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Keep-alive versus rewrite: the continuous break-even T* = TTL * w / rho and the achievable one.
    Breakeven {
        /// Model id as the provider spells it.
        #[arg(long, default_value = "claude-opus-4-7")]
        model: String,
        /// Cache lifetime.
        #[arg(long, value_enum, default_value = "5m")]
        ttl: TtlArg,
        /// Minutes between pings (at most the lifetime).
        #[arg(long, default_value_t = 5.0)]
        ping_interval: f64,
        /// Prefix size, to price a ping's own cost.
        #[arg(long, default_value_t = 100_000)]
        prefix_tokens: u64,
        #[command(flatten)]
        ping: PingArgs,
        /// Print one JSON document.
        #[arg(long)]
        json: bool,
    },
    /// Refresh versus rewrite cost for each prefix size and idle time (the article's table).
    Table {
        /// Model id.
        #[arg(long, default_value = "claude-opus-4-7")]
        model: String,
        /// Prefix sizes, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "50000,100000,500000")]
        prefix_tokens: Vec<u64>,
        /// Idle times in minutes, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "5,30,60,90")]
        idle_minutes: Vec<f64>,
        /// Cache lifetime.
        #[arg(long, value_enum, default_value = "5m")]
        ttl: TtlArg,
        /// Minutes between pings (default: the lifetime).
        #[arg(long)]
        ping_interval: Option<f64>,
        /// Fractional digits in the text table (rounded half up); JSON is always exact.
        #[arg(long, default_value_t = 3)]
        decimals: u32,
        /// Print one JSON document.
        #[arg(long)]
        json: bool,
    },
    /// Turns after which compacting N tokens into S = rN pays back.
    Compaction {
        /// `10:1`, `0.1` or `10` (all meaning ten tokens summarized into one).
        #[arg(long)]
        ratio: String,
        /// Model id.
        #[arg(long, default_value = "claude-opus-4-7")]
        model: String,
        /// The cache had expired when compacting (the compaction call writes instead of reads).
        #[arg(long)]
        cold: bool,
        /// Print one JSON document.
        #[arg(long)]
        json: bool,
    },
    /// Lint an Anthropic Messages request for cache mistakes, each with its cost.
    Lint {
        /// The request body (JSON).
        request: PathBuf,
        /// Price for this model instead of the request's.
        #[arg(long)]
        model: Option<String>,
        /// Print one JSON document.
        #[arg(long)]
        json: bool,
    },
    /// Analyze usage logs (default: Claude Code's transcript folders, honouring CLAUDE_CONFIG_DIR).
    Analyze(analyze::AnalyzeArgs),
    /// Decide under uncertainty on a set of idle gaps: Kaplan-Meier, hazard rule, optimal pings,
    /// ski-rental ratios, 1-hour versus 5-minute, and what-ifs.
    Simulate(simulate::SimulateArgs),
    /// Draw a chart, SVG or PNG by the file name: refresh vs rewrite, the compaction curve, or cost by cause.
    #[cfg(feature = "plot")]
    Plot {
        /// Which chart.
        #[arg(value_enum)]
        chart: Chart,
        /// Output file (`.svg` or `.png`).
        #[arg(long, short)]
        out: PathBuf,
        /// Model id.
        #[arg(long, default_value = "claude-opus-4-7")]
        model: String,
        /// Prefix size for the refresh chart.
        #[arg(long, default_value_t = 100_000)]
        prefix_tokens: u64,
        /// Minutes between pings for the refresh chart.
        #[arg(long, default_value_t = 5.0)]
        ping_interval: f64,
        /// Idle minutes shown by the refresh chart.
        #[arg(long, default_value_t = 120.0)]
        max_minutes: f64,
        /// Logs for the causes chart (default: Claude Code's transcript folders).
        paths: Vec<PathBuf>,
        /// A TrueType font for text (default: DejaVu Sans or Liberation Sans from the usual font folders).
        #[arg(long)]
        font: Option<PathBuf>,
        /// Print one JSON document.
        #[arg(long)]
        json: bool,
    },
    /// Totals per day (in --timezone, default the local zone): tokens, cost and models.
    Daily(usage::UsageArgs),
    /// Totals per week, each keyed by the date of its first day (see --start-of-week).
    Weekly {
        #[command(flatten)]
        args: usage::UsageArgs,
        /// The day weeks start on (default: sunday, or the config file's start_of_week).
        #[arg(long, value_name = "DAY")]
        start_of_week: Option<String>,
    },
    /// Totals per calendar month.
    Monthly(usage::UsageArgs),
    /// Totals per Claude Code session, most recently active last.
    Session(usage::UsageArgs),
    /// Claude's 5-hour billing windows: tokens, cost, burn rate and, for the active one, a projection.
    Blocks(usage::BlocksArgs),
    /// One line for Claude Code's status bar (reads its statusline JSON on stdin): today's and this
    /// session's cost, the 5-hour block, and when this session's prompt cache expires and what that costs.
    Statusline(statusline::StatuslineArgs),
    /// The price table in use.
    Prices {
        /// Only rows matching this model.
        #[arg(long)]
        model: Option<String>,
        /// Print one JSON document.
        #[arg(long)]
        json: bool,
    },
}

#[cfg(feature = "plot")]
#[derive(Clone, Copy, ValueEnum)]
enum Chart {
    Refresh,
    Compaction,
    Causes,
}

/// Finds a sans-serif TrueType font in the usual folders.
#[cfg(feature = "plot")]
fn find_font() -> Option<PathBuf> {
    let mut dirs = vec![PathBuf::from("/usr/share/fonts"), PathBuf::from("/usr/local/share/fonts")];
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(&home).join(".fonts"));
        dirs.push(PathBuf::from(&home).join(".local/share/fonts"));
    }
    fn walk(dir: &std::path::Path, depth: u32, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() && depth < 4 {
                walk(&p, depth + 1, out);
            } else if p.extension().is_some_and(|x| x == "ttf") {
                out.push(p);
            }
        }
    }
    let mut fonts = Vec::new();
    for d in &dirs {
        walk(d, 0, &mut fonts);
    }
    fonts.sort();
    let named = |n: &str| fonts.iter().find(|f| f.file_name().is_some_and(|x| x == n)).cloned();
    named("DejaVuSans.ttf").or_else(|| named("LiberationSans-Regular.ttf")).or_else(|| fonts.first().cloned())
}

fn load_prices(args: &PriceArgs, config: &config::Config) -> Result<PriceTable> {
    let mut table = PriceTable::builtin();
    if let Some(path) = args.litellm.as_ref().or(config.litellm.as_ref()) {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        table = PriceTable::from_litellm_json(&text, &path.display().to_string())?.with_overrides(table);
    }
    if let Some(path) = args.prices.as_ref().or(config.prices.as_ref()) {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        table = table.with_overrides(PriceTable::from_toml(&text, &path.display().to_string())?);
    }
    Ok(table)
}

fn print_json(v: &impl serde::Serialize) -> Result<()> {
    say!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

fn cents(u: agentry_types::Usd) -> String {
    format!("${}", format_usd(u, 2))
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    let config = config::Config::load(cli.prices.config.as_deref())?;
    let prices = load_prices(&cli.prices, &config)?;
    match cli.command {
        Command::Breakeven { model, ttl, ping_interval, prefix_tokens, ping, json } => {
            let m = prices.get(&model, None)?;
            let b = breakeven(m, ttl.into(), ping_interval)?;
            let p = ping_cost(
                m,
                ttl.into(),
                prefix_tokens,
                ping.ping_tail_tokens,
                ping.ping_output_tokens,
                ping_interval,
            )?;
            if json {
                return print_json(&json!({
                    "model": m.id,
                    "ttl_minutes": b.ttl_minutes,
                    "ping_interval_minutes": b.ping_interval_minutes,
                    "write_multiplier": b.write_multiplier,
                    "read_multiplier": b.read_multiplier,
                    "breakeven_minutes": b.breakeven_minutes,
                    "achievable_minutes": b.achievable_minutes,
                    "reads_per_write": b.reads_per_write,
                    "hazard_threshold": hazard_threshold(b.write_multiplier, b.read_multiplier),
                    "rent_breakeven_hours": rent_breakeven_hours(m),
                    "ping": { "prefix_tokens": prefix_tokens, "output_tokens": ping.ping_output_tokens, "tail_tokens": ping.ping_tail_tokens,
                              "ping_usd": p.ping_usd, "read_usd": p.read_usd, "achievable_minutes": p.achievable_minutes },
                }));
            }
            say!("{}: w = {}, rho = {}", m.id, b.write_multiplier, b.read_multiplier);
            say!("continuous break-even T* = TTL x w / rho = {} min", format_minutes(b.breakeven_minutes));
            say!(
                "achievable with a ping every {} min: {} min ({} reads cost less than one write)",
                format_minutes(ping_interval),
                format_minutes(b.achievable_minutes),
                b.reads_per_write
            );
            say!(
                "hazard threshold rho / (w - rho) = {:.1}%",
                100.0 * hazard_threshold(b.write_multiplier, b.read_multiplier)
            );
            if let Some(h) = rent_breakeven_hours(m) {
                say!("explicit cache with rent: keeping it beats rewriting for idle times under {h} h");
            }
            say!(
                "with each ping costing ${} ({} prefix tokens, {} output, {} tail): achievable {} min",
                format_usd(p.ping_usd, 6),
                prefix_tokens,
                ping.ping_output_tokens,
                ping.ping_tail_tokens,
                format_minutes(p.achievable_minutes)
            );
        }
        Command::Table { model, prefix_tokens, idle_minutes, ttl, ping_interval, decimals, json } => {
            let m = prices.get(&model, None)?;
            let ttl: Ttl = ttl.into();
            let rows = table(m, ttl, &prefix_tokens, &idle_minutes, ping_interval.unwrap_or(ttl.minutes()))?;
            if json {
                return print_json(&json!({ "model": m.id, "rows": rows }));
            }
            say!("{} ({}): refresh = W + R x ceil(T / tau), rewrite = 2W", m.id, m.source);
            say!("{:>10} {:>8} {:>12} {:>12}", "prefix", "idle", "refresh", "rewrite");
            for r in rows {
                say!(
                    "{:>10} {:>8} {:>12} {:>12}{}",
                    r.prefix_tokens,
                    format_minutes(r.idle_minutes),
                    format!("${}", format_usd(r.refresh_usd, decimals)),
                    format!("${}", format_usd(r.rewrite_usd, decimals)),
                    if r.refresh_wins { "  refresh" } else { "  rewrite" }
                );
            }
        }
        Command::Compaction { ratio, model, cold, json } => {
            let m = prices.get(&model, None)?;
            let c = compaction(m, Ttl::FiveMinutes, parse_ratio(&ratio)?, !cold)?;
            if json {
                return print_json(&json!({
                    "model": m.id, "ratio": c.ratio, "breakeven_turns": c.breakeven_turns,
                    "compaction_read_multiplier": c.compaction_read_multiplier, "output_multiplier": c.output_multiplier,
                    "write_multiplier": c.write_multiplier, "read_multiplier": c.read_multiplier,
                }));
            }
            say!(
                "{}: compacting to r = {} pays back after {:.2} turns  (N* = (rho_c + (o + w) r) / (rho (1 - r)))",
                m.id,
                c.ratio,
                c.breakeven_turns
            );
        }
        Command::Lint { request, model, json } => {
            let text = std::fs::read_to_string(&request)
                .with_context(|| format!("reading {}", request.display()))?;
            let report = lint(&text, &request.display().to_string(), &prices, model.as_deref())?;
            if json {
                return print_json(&report);
            }
            say!(
                "{}: {} blocks, {} breakpoints, about {} cached tokens ({})",
                request.display(),
                report.blocks,
                report.breakpoints,
                report.cached_prefix_tokens,
                report.model
            );
            if report.findings.is_empty() {
                say!("no findings");
            }
            for f in &report.findings {
                let cost = f
                    .cost_per_request_usd
                    .map_or_else(|| "rejected".to_owned(), |c| format!("${} per request", format_usd(c, 4)));
                say!("block {}: {:?}: {} [{}; {}]", f.block, f.kind, f.message, cost, f.cost_basis);
            }
        }
        Command::Analyze(args) => analyze::run(&prices, args)?,
        Command::Daily(args) => usage::run(&prices, &config, args, usage::Kind::Period(Period::Day))?,
        Command::Weekly { args, start_of_week } => {
            let start =
                start_of_week.or_else(|| config.start_of_week.clone()).unwrap_or_else(|| "sunday".into());
            usage::run(&prices, &config, args, usage::Kind::Period(Period::Week(start.parse()?)))?
        }
        Command::Monthly(args) => usage::run(&prices, &config, args, usage::Kind::Period(Period::Month))?,
        Command::Session(args) => usage::run(&prices, &config, args, usage::Kind::Period(Period::Session))?,
        Command::Blocks(args) => usage::run_blocks(&prices, &config, args)?,
        Command::Statusline(args) => statusline::run(&prices, &config, args)?,
        Command::Simulate(args) => simulate::run(&prices, args)?,
        #[cfg(feature = "plot")]
        Command::Plot { chart, out, model, prefix_tokens, ping_interval, max_minutes, paths, font, json } => {
            let font_path = font.or_else(find_font);
            let mut font_used = false;
            if let Some(f) = &font_path {
                let bytes = std::fs::read(f).with_context(|| format!("reading font {}", f.display()))?;
                agentry_cache_econ::register_font(bytes)?;
                font_used = true;
            }
            let m = prices.get(&model, None)?;
            match chart {
                Chart::Refresh => agentry_cache_econ::plot_refresh_vs_rewrite(
                    m,
                    Ttl::FiveMinutes,
                    prefix_tokens,
                    ping_interval,
                    max_minutes,
                    &out,
                )?,
                Chart::Compaction => agentry_cache_econ::plot_compaction(m, &out)?,
                Chart::Causes => {
                    use agentry_cache_econ::{AnalyzeOptions, analyze_listing, default_log_dirs, list_logs};
                    let roots = if paths.is_empty() { default_log_dirs() } else { paths };
                    let listing = list_logs(&roots);
                    let report = analyze_listing(&listing, &prices, &AnalyzeOptions::default(), None)?;
                    agentry_cache_econ::plot_causes(&report, &out)?;
                }
            }
            if json {
                return print_json(&json!({ "path": out, "font": font_used }));
            }
            say!("wrote {}{}", out.display(), if font_used { "" } else { " (no font found: no text)" });
        }
        Command::Prices { model, json } => {
            let rows: Vec<_> = match &model {
                Some(m) => prices.get(m, None).map(|r| vec![r.clone()])?,
                None => prices.rows().to_vec(),
            };
            if json {
                return print_json(&json!({ "models": rows }));
            }
            say!(
                "{:<44} {:>8} {:>8} {:>8} {:>8} {:>8} {:>6}  source",
                "model",
                "input",
                "write5m",
                "write1h",
                "read",
                "output",
                "min"
            );
            for r in rows {
                let p = |u: agentry_types::Usd| format_usd(u, 3);
                say!(
                    "{:<44} {:>8} {:>8} {:>8} {:>8} {:>8} {:>6}  {}{}",
                    r.id,
                    p(r.rates.input),
                    p(r.rates.cache_write_5m),
                    p(r.rates.write_1h()),
                    p(r.rates.cache_read),
                    p(r.rates.output),
                    r.min_cacheable_tokens,
                    r.effective_from.as_deref().map(|d| format!("from {d}: ")).unwrap_or_default(),
                    r.source
                );
            }
        }
    }
    Ok(())
}
