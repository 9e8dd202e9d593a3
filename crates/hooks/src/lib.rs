#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(clippy::print_stdout)]

mod error;
mod paths;
mod policy;
mod shell;
mod patch;
mod event;
mod engine;
mod state;
mod checkpoint;
mod install;
mod hook;

pub use crate::{
    checkpoint::{CHECKPOINT_DIR, Checkpoint, Entry, RollbackReport, RollbackTarget, create as create_checkpoint, list as list_checkpoints, rollback},
    engine::{Engine, Verdict},
    hook::{Handled, Options, handle},
    install::{InstallReport, install, settings_file},
    state::{AuditEntry, GATE_STATE_FILE, GateResult, audit_path, last_gate, read_audit, run_quality_gate},
    error::Error,
    event::{Decision, Event, EventKind, Outcome, Response, Runtime, Tool, detect, parse_event, render, render_parts},
    policy::{
        Audit, Checkpoints, DEFAULT_POLICY_TOML, DeployRule, POLICY_FILE, PathRules, Policy, PromptRoute, QualityGate,
        Session, ShellRules, StopGate, policy_path,
    },
};
