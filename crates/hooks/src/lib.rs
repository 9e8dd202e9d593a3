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

pub use crate::{
    engine::{Engine, Verdict},
    error::Error,
    event::{Decision, Event, EventKind, Outcome, Response, Runtime, Tool, detect, parse_event, render, render_parts},
    policy::{
        Audit, Checkpoints, DEFAULT_POLICY_TOML, DeployRule, POLICY_FILE, PathRules, Policy, PromptRoute, QualityGate,
        Session, ShellRules, StopGate, policy_path,
    },
};
