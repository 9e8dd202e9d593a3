//! Applying a policy to column profiles: a decision, a reason and a dlt contract mode per column.

use std::fmt;

use serde::Serialize;

use crate::columns::{
    inspect::{
        BARE_PHONE_FRACTION, BARE_PHONE_ID_DENSITY, Inspection, bare_phone, bare_phone_density, inspect,
    },
    judge::{JudgeRequest, ValueJudge, ask_judge},
    policy::{ColumnPolicy, UnrecognizedText},
    profile::{ColumnProfile, Dtype, TableProfile},
};

/// Whether a column may reach analytics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    /// The column is safe.
    Pass,
    /// The column carries personal information and is kept out.
    Reject,
}

impl Decision {
    /// `pass` or `reject`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Reject => "reject",
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The dlt schema-contract mode a decision maps to (dlt docs, "Schema and data contracts").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DltMode {
    /// The new column is added to the schema.
    Evolve,
    /// The column's values are dropped, the rows kept.
    DiscardValue,
    /// The load fails and nothing is loaded (strict mode).
    Freeze,
}

impl DltMode {
    /// dlt's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Evolve => "evolve",
            Self::DiscardValue => "discard_value",
            Self::Freeze => "freeze",
        }
    }
}

impl fmt::Display for DltMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The statistics a decision rests on (never the sampled values: they may be personal).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColumnStats {
    /// Inferred dtype.
    pub dtype: Dtype,
    /// Rows.
    pub rows: u64,
    /// Null or missing values.
    pub nulls: u64,
    /// `nulls / rows`.
    pub null_ratio: f64,
    /// Distinct non-null values.
    pub distinct: u64,
    /// Whether `distinct` is exact (else a HyperLogLog estimate).
    pub distinct_exact: bool,
    /// `distinct / non-null`.
    pub distinct_ratio: f64,
    /// Sampled values available to inspection.
    pub sampled: usize,
}

impl ColumnStats {
    fn of(p: &ColumnProfile) -> Self {
        Self {
            dtype: p.dtype,
            rows: p.rows,
            nulls: p.nulls,
            null_ratio: p.null_ratio(),
            distinct: p.distinct,
            distinct_exact: p.distinct_exact,
            distinct_ratio: p.distinct_ratio(),
            sampled: p.sample.len(),
        }
    }
}

/// The outcome for one column.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColumnDecision {
    /// Column name.
    pub name: String,
    /// Pass or reject.
    pub decision: Decision,
    /// Whether the values were inspected (the name and statistics did not decide).
    pub escalated: bool,
    /// Why, in words that cite the rule.
    pub reason: String,
    /// The dlt contract mode for the column.
    pub dlt_mode: DltMode,
    /// The value judge that decided, if one did.
    pub judge: Option<String>,
    /// The statistics the decision rests on.
    pub stats: ColumnStats,
}

/// The decisions for a table under one policy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColumnReport {
    /// `sha256:` hash of the policy text.
    pub policy_hash: String,
    /// Rows profiled.
    pub rows: u64,
    /// One decision per column, in column order.
    pub columns: Vec<ColumnDecision>,
}

impl ColumnReport {
    /// The columns that passed, in column order.
    pub fn safe_columns(&self) -> Vec<&str> {
        self.columns.iter().filter(|c| c.decision == Decision::Pass).map(|c| c.name.as_str()).collect()
    }
}

/// Applies a policy, and optionally a value judge, to column profiles.
#[derive(Debug)]
pub struct Classifier<'a> {
    policy: &'a ColumnPolicy,
    judge: Option<&'a dyn ValueJudge>,
    attempts: u32,
    strict: bool,
}

fn pct(x: f64) -> String {
    let p = x * 100.0;
    if p != 0.0 && p < 0.1 { format!("{p:.3}%") } else { format!("{p:.1}%") }
}

impl<'a> Classifier<'a> {
    /// A classifier with no judge, not strict.
    pub fn new(policy: &'a ColumnPolicy) -> Self {
        Self { policy, judge: None, attempts: 3, strict: false }
    }

    /// Lets a value judge decide text the inspectors cannot place, asking it up to `attempts` times for a
    /// valid answer before failing closed (reject).
    pub fn with_judge(mut self, judge: &'a dyn ValueJudge, attempts: u32) -> Self {
        self.judge = Some(judge);
        self.attempts = attempts.max(1);
        self
    }

    /// Strict mode: rejected columns map to dlt `freeze` (fail the load) instead of `discard_value`.
    pub fn strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }

    /// Decides every column of a table.
    pub fn classify_table(&self, table: &TableProfile) -> ColumnReport {
        ColumnReport {
            policy_hash: self.policy.hash().to_owned(),
            rows: table.rows,
            columns: table.columns.iter().map(|c| self.classify(c)).collect(),
        }
    }

    /// Decides one column.
    pub fn classify(&self, col: &ColumnProfile) -> ColumnDecision {
        let (decision, escalated, reason, judge) = self.decide(col);
        let dlt_mode = match (decision, self.strict) {
            (Decision::Pass, _) => DltMode::Evolve,
            (Decision::Reject, false) => DltMode::DiscardValue,
            (Decision::Reject, true) => DltMode::Freeze,
        };
        ColumnDecision {
            name: col.name.clone(),
            decision,
            escalated,
            reason,
            dlt_mode,
            judge,
            stats: ColumnStats::of(col),
        }
    }

    fn decide(&self, col: &ColumnProfile) -> (Decision, bool, String, Option<String>) {
        let p = self.policy;
        if let Some(m) = p.match_name(&col.name) {
            let reason = format!("name matches personal-information fragment {m}: {}", m.description);
            return (Decision::Reject, false, reason, None);
        }
        if col.dtype == Dtype::Null {
            return (Decision::Pass, false, format!("no non-null values in {} rows", col.rows), None);
        }
        let rules = &p.inspection;
        if col.dtype == Dtype::Integer {
            let long = col
                .sample
                .iter()
                .filter(|v| v.bytes().filter(u8::is_ascii_digit).count() >= rules.long_integer_digits)
                .count();
            if long * 2 > col.sample.len() {
                let why = format!(
                    "{long} of {} sampled integers have {} or more digits, so values were inspected",
                    col.sample.len(),
                    rules.long_integer_digits
                );
                return self.inspect_values(col, &why, false);
            }
            // A phone number without separators parses as an integer (`4155550134`).
            let phones = col.sample.iter().filter(|v| bare_phone(v)).count();
            if phones * 2 > col.sample.len() {
                let why = format!(
                    "{phones} of {} sampled integers have the length and structure of phone numbers, so values were inspected",
                    col.sample.len(),
                );
                return self.inspect_values(col, &why, false);
            }
        }
        if p.pass_dtypes.contains(&col.dtype) {
            return (
                Decision::Pass,
                false,
                format!("dtype {} passes: {}", col.dtype, p.pass_description),
                None,
            );
        }
        let non_null = col.non_null();
        let ratio = col.distinct_ratio();
        if non_null < p.min_rows {
            let why = format!(
                "{} text with {non_null} non-null values, fewer than the {} a distinct ratio needs, so values were inspected",
                col.dtype, p.min_rows
            );
            return self.inspect_values(col, &why, true);
        }
        if ratio <= p.high_text_ratio {
            let reason = format!(
                "low-cardinality text: {} distinct of {non_null} values ({} <= {})",
                col.distinct,
                pct(ratio),
                pct(p.high_text_ratio)
            );
            return (Decision::Pass, false, reason, None);
        }
        let why = format!(
            "high-cardinality text: {} distinct of {non_null} values ({} > {}) with no personal name fragment, so values were inspected",
            col.distinct,
            pct(ratio),
            pct(p.high_text_ratio)
        );
        self.inspect_values(col, &why, true)
    }

    fn inspect_values(
        &self,
        col: &ColumnProfile,
        why: &str,
        text: bool,
    ) -> (Decision, bool, String, Option<String>) {
        let rules = &self.policy.inspection;
        let ins: Inspection = inspect(&col.sample);
        let n = ins.sampled.max(1);
        if let Some(&(kind, count)) = ins.personal.first()
            && count as f64 / n as f64 >= rules.reject_fraction
        {
            let reason = format!(
                "{why}: {count} of {} sampled values contain {kind} ({} >= {})",
                ins.sampled,
                pct(count as f64 / n as f64),
                pct(rules.reject_fraction)
            );
            return (Decision::Reject, true, reason, None);
        }
        if ins.bare_phones as f64 / n as f64 >= BARE_PHONE_FRACTION {
            let density = bare_phone_density(&col.sample, col.distinct).unwrap_or(0.0);
            let share = format!(
                "{} of {} sampled values are digit strings with the length and structure of phone numbers",
                ins.bare_phones, ins.sampled
            );
            if density < BARE_PHONE_ID_DENSITY {
                let reason = format!(
                    "{why}: {share} ({} >= {}), spread over their range ({} distinct values, density {density:.2e} < {BARE_PHONE_ID_DENSITY}): phone numbers",
                    pct(ins.bare_phones as f64 / n as f64),
                    pct(BARE_PHONE_FRACTION),
                    col.distinct,
                );
                return (Decision::Reject, true, reason, None);
            }
            if !text {
                let reason = format!(
                    "{why}: {share}, but {} distinct values fill their range densely (density {density:.2} >= {BARE_PHONE_ID_DENSITY}): a run of identifiers",
                    col.distinct,
                );
                return (Decision::Pass, true, reason, None);
            }
        }
        if let Some(&(kind, count)) = ins.shapes.first()
            && count as f64 / n as f64 >= rules.identifier_fraction
        {
            let reason = format!(
                "{why}: {count} of {} sampled values are {kind}, machine-generated identifiers",
                ins.sampled
            );
            return (Decision::Pass, true, reason, None);
        }
        if !text && ins.bare_phones > 0 {
            let reason = format!(
                "{why}: only {} of {} sampled values have phone structure ({} < {}), as random identifiers do, and none is a payment card",
                ins.bare_phones,
                ins.sampled,
                pct(ins.bare_phones as f64 / n as f64),
                pct(BARE_PHONE_FRACTION),
            );
            return (Decision::Pass, true, reason, None);
        }
        if !text {
            let reason = format!("{why}: no sampled value is a payment card or other personal number");
            return (Decision::Pass, true, reason, None);
        }
        if let Some(judge) = self.judge {
            let req = JudgeRequest::new(col, &self.policy.inspection_description, rules.judge_sample);
            let (decision, reason) = ask_judge(judge, &req, self.attempts);
            return (decision, true, format!("{why}: judge {}: {reason}", judge.name()), Some(judge.name()));
        }
        if ins.personal.is_empty()
            && ins.name_like == 0
            && ins.prose as f64 / n as f64 >= rules.description_fraction
        {
            let reason = format!(
                "{why}: {} of {} sampled values are prose, and none holds personal information or anything that could name a person: a non-personal description",
                ins.prose, ins.sampled
            );
            return (Decision::Pass, true, reason, None);
        }
        match rules.unrecognized_text {
            UnrecognizedText::Pass => {
                let reason = format!(
                    "{why}: no personal information in {} sampled values, treated as non-personal description",
                    ins.sampled
                );
                (Decision::Pass, true, reason, None)
            }
            UnrecognizedText::Reject => {
                let reason = format!(
                    "{why}: {} sampled values are neither identifiers nor recognised personal information, and the policy fails closed on such text",
                    ins.sampled
                );
                (Decision::Reject, true, reason, None)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(name: &str, dtype: Dtype, rows: u64, distinct: u64, sample: &[&str]) -> ColumnProfile {
        ColumnProfile {
            name: name.to_owned(),
            dtype,
            rows,
            nulls: 0,
            distinct,
            distinct_exact: true,
            sample: sample.iter().map(|s| (*s).to_owned()).collect(),
            sample_seed: 1,
        }
    }

    fn check(c: ColumnProfile, decision: Decision, escalated: bool) {
        let policy = ColumnPolicy::builtin();
        let d = Classifier::new(&policy).classify(&c);
        assert_eq!((d.decision, d.escalated), (decision, escalated), "{}: {}", c.name, d.reason);
    }

    #[test]
    fn numeric_passes() {
        check(col("amount", Dtype::Float, 500, 400, &["1.5"]), Decision::Pass, false);
    }
    #[test]
    fn name_beats_dtype() {
        check(col("dob", Dtype::Date, 500, 400, &["1990-01-01"]), Decision::Reject, false);
    }
    #[test]
    fn low_card_text_passes() {
        check(col("kyc_status", Dtype::Text, 500, 3, &["verified"]), Decision::Pass, false);
    }
    #[test]
    fn boundary_is_inclusive() {
        check(col("tier", Dtype::Text, 1000, 30, &["gold"]), Decision::Pass, false);
        // Above 3% the values are inspected, and a word the inspectors cannot place fails closed.
        check(col("tier", Dtype::Text, 1000, 31, &["gold"]), Decision::Reject, true);
    }
    #[test]
    fn card_integers_reject() {
        check(
            col("ref_no", Dtype::Integer, 500, 500, &["4111111111111111", "5500000000000004"]),
            Decision::Reject,
            true,
        );
    }
    #[test]
    fn big_integers_without_cards_pass() {
        check(
            col("bytes", Dtype::Integer, 500, 500, &["1234567890123", "1234567890124"]),
            Decision::Pass,
            true,
        );
    }
    #[test]
    fn all_null_passes() {
        check(col("later", Dtype::Null, 500, 0, &[]), Decision::Pass, false);
    }
    #[test]
    fn strict_freezes() {
        let policy = ColumnPolicy::builtin();
        let d = Classifier::new(&policy).strict(true).classify(&col("email", Dtype::Text, 10, 10, &[]));
        assert_eq!(d.dlt_mode, DltMode::Freeze);
        let d = Classifier::new(&policy).classify(&col("email", Dtype::Text, 10, 10, &[]));
        assert_eq!(d.dlt_mode, DltMode::DiscardValue);
    }
}
