//! Schema-evolution column policy: decides which new columns of tabular data may reach analytics.
//!
//! Reading order: `policy` (the rules and name matching), `profile` (streaming statistics and samples),
//! `inspect` (deterministic value inspectors), `judge` (an optional value judge), `classify` (rules applied
//! to profiles), `sql` (a view over the safe columns), `audit` (the decision log).

mod audit;
mod classify;
mod inspect;
mod judge;
mod policy;
mod profile;
mod sql;

#[cfg(feature = "judge-anthropic")]
pub use self::judge::AnthropicJudge;
pub use self::{
    audit::{AuditRecord, write_audit},
    classify::{Classifier, ColumnDecision, ColumnReport, ColumnStats, Decision, DltMode},
    inspect::{Inspection, ValueKind, iban_valid, inspect, luhn_valid, personal_kinds, shape},
    judge::{JUDGE_SYSTEM_PROMPT, JudgeError, JudgeRequest, JudgeVerdict, ValueJudge, parse_verdict},
    policy::{
        BUILTIN_POLICY, ColumnPolicy, InspectionRules, NameMatch, PiiCategory, PolicyError, UnrecognizedText,
        name_tokens,
    },
    profile::{
        ColumnProfile, Dtype, HyperLogLog, ProfileError, ProfileOptions, Profiler, TableProfile,
        profile_paths,
    },
    sql::{SqlDialect, ViewError, create_view_sql, quote_ident},
};
