#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(clippy::print_stdout)]

mod analyze;
mod decide;
mod error;
mod lint;
mod money;
#[cfg(feature = "plot")]
mod plot;
mod pricing;
pub mod report;
mod rules;
mod scan;
mod scenario;

#[cfg(feature = "plot")]
pub use crate::plot::{plot_causes, plot_compaction, plot_refresh_vs_rewrite, register_font};
pub use crate::{
    analyze::{
        AnalyzeOptions, Cause, CauseTotals, GapStats, GroupTotals, LogListing, MalformedLine, PolicyCost,
        Report, SkippedPath, analyze, analyze_bytes, analyze_listing, default_log_dirs, find_logs, list_logs,
    },
    decide::{
        Competitive, GapObservation, KaplanMeier, KeepAlivePlan, competitive, deterministic_ratio,
        hazard_rule_pings, hazard_threshold, one_hour_threshold, solve_keepalive,
    },
    error::Error,
    lint::{Finding, FindingKind, LOOKBACK_BLOCKS, LintReport, MAX_BREAKPOINTS, lint},
    money::{cost_of, expected_usd, format_usd, round_to},
    pricing::{ModelPrice, Multipliers, PriceTable, Rates, Tier, Ttl, TtlModel, Usage, UsageSemantics},
    rules::{
        Breakeven, Compaction, ModelChange, PingCost, PlanCost, TableRow, Uncertain, breakeven, compaction,
        format_minutes, model_change, parse_ratio, ping_cost, plan_cost, reads_to_cover, refresh_cost,
        rent_breakeven_hours, rewrite_cost, table, with_return_probability,
    },
    scan::{LineError, LogEntry, parse_line, parse_line_fast},
    scenario::{Scenario, Warmth},
};
