//! The audit log: one JSON line per decided column, with the statistics, the reason, the judge and the
//! policy hash, so a decision can be traced to the exact rules that made it.

use std::io::Write;

use serde::Serialize;

use crate::columns::classify::{ColumnDecision, ColumnReport, ColumnStats, Decision, DltMode};

/// One audit line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditRecord<'a> {
    /// When the decision was written (RFC 3339, UTC).
    pub at: String,
    /// The data the column came from (file names, comma-separated).
    pub source: &'a str,
    /// Column name.
    pub column: &'a str,
    /// The statistics the decision rests on.
    pub stats: &'a ColumnStats,
    /// Pass or reject.
    pub decision: Decision,
    /// Whether values were inspected.
    pub escalated: bool,
    /// Why.
    pub reason: &'a str,
    /// dlt contract mode.
    pub dlt_mode: DltMode,
    /// The value judge that decided, or `null`.
    pub judge: Option<&'a str>,
    /// `sha256:` of the policy text.
    pub policy_hash: &'a str,
}

impl<'a> AuditRecord<'a> {
    /// The record of one decision.
    pub fn new(source: &'a str, decision: &'a ColumnDecision, policy_hash: &'a str) -> Self {
        Self {
            at: agentry_types::Timestamp::now().to_string(),
            source,
            column: &decision.name,
            stats: &decision.stats,
            decision: decision.decision,
            escalated: decision.escalated,
            reason: &decision.reason,
            dlt_mode: decision.dlt_mode,
            judge: decision.judge.as_deref(),
            policy_hash,
        }
    }
}

/// Appends one JSON line per column of a report to `out`.
pub fn write_audit<W: Write>(out: &mut W, source: &str, report: &ColumnReport) -> std::io::Result<()> {
    for d in &report.columns {
        let rec = AuditRecord::new(source, d, &report.policy_hash);
        serde_json::to_writer(&mut *out, &rec)?;
        out.write_all(b"\n")?;
    }
    out.flush()
}
