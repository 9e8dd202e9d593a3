#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(clippy::print_stdout)]

mod checkpoint;
mod engine;
mod error;
mod event;
mod hook;
mod install;
mod patch;
mod paths;
mod policy;
mod shell;
mod state;
mod vocab;

pub use crate::{
    checkpoint::{
        CHECKPOINT_DIR, Checkpoint, Entry, RollbackReport, RollbackTarget, create as create_checkpoint,
        list as list_checkpoints, rollback,
    },
    engine::{Engine, Verdict},
    error::Error,
    event::{
        Decision, DecisionKind, Event, EventKind, Outcome, Response, Runtime, Tool, detect, parse_event,
        render, render_parts,
    },
    hook::{Handled, Options, handle},
    install::{InstallReport, install, settings_file},
    policy::{
        Audit, Checkpoints, DEFAULT_POLICY_TOML, DeployRule, POLICY_FILE, PathRules, Policy, PromptRoute,
        QualityGate, Rule, Session, ShellRules, StopGate, policy_path,
    },
    state::{
        AuditEntry, GATE_STATE_FILE, GateResult, GateStatus, audit_path, last_gate, read_audit,
        run_quality_gate,
    },
    vocab::RuleId,
};
