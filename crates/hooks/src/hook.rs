//! One hook invocation from payload bytes to response: the whole `run` path.

use std::path::Path;

use serde_json::Value;

use crate::checkpoint;
use crate::engine::Engine;
use crate::event::{
    Decision, Event, EventKind, Outcome, Response, Runtime, Tool, parse_event, render, render_parts,
};
use crate::policy::Policy;
use crate::state::{self, AuditEntry};
use crate::vocab::RuleId;

/// Bytes of a session-context file injected at session start.
const MAX_CONTEXT_FILE: usize = 10_000;

/// How to handle a payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Options {
    /// The runtime; `None` detects it from the payload.
    pub runtime: Option<Runtime>,
    /// Decide only: no checkpoint, no quality-gate run, no state or audit writes (`explain`).
    pub dry_run: bool,
}

/// The result of [`handle`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handled {
    /// What to print and the exit code.
    pub response: Response,
    /// The decision.
    pub decision: Decision,
    /// The event, when the payload could be read.
    pub event: Option<Event>,
    /// The checkpoint taken before an allowed change.
    pub checkpoint: Option<String>,
}

fn fail_closed(runtime: Option<Runtime>, decision: Decision) -> Handled {
    let response =
        render_parts(runtime.unwrap_or(Runtime::Claude), EventKind::PreTool, "PreToolUse", &decision);
    Handled { response, decision, event: None, checkpoint: None }
}

/// Handles one hook payload. Never panics on any input; anything it cannot read is denied.
/// `env` looks up environment variables (`CLAUDE_PROJECT_DIR`, `HOME`, ...).
pub fn handle(input: &[u8], opts: Options, env: &dyn Fn(&str) -> Option<String>) -> Handled {
    let value: Value = match serde_json::from_slice(input) {
        Ok(v) => v,
        Err(e) => {
            return fail_closed(
                opts.runtime,
                Decision::deny(
                    RuleId::MalformedPayload,
                    format!("the hook payload is not valid JSON ({e}); denied"),
                ),
            );
        }
    };
    let event = match parse_event(opts.runtime, &value, env) {
        Ok(e) => e,
        Err(e) => {
            return fail_closed(
                opts.runtime.or(Some(crate::event::detect(&value))),
                Decision::deny(RuleId::MalformedPayload, format!("{e}; denied")),
            );
        }
    };
    let pre = event.kind == EventKind::PreTool;
    let finish = |event: Event, decision: Decision, checkpoint: Option<String>| {
        let response = render(&event, &decision);
        Handled { response, decision, event: Some(event), checkpoint }
    };
    let Some(mut root) = event.root.clone() else {
        let d = if pre {
            Decision::deny(
                RuleId::NoProjectRoot,
                "no project root: the payload has no cwd and the runtime set no project variable",
            )
        } else {
            Decision::allow()
        };
        return finish(event, d, None);
    };
    if event.root_is_cwd {
        root = project_root_above(&root);
    }
    let policy = match Policy::load(Path::new(&root)) {
        Ok(p) => p,
        Err(e) => {
            let d = if pre {
                Decision::deny(
                    RuleId::PolicyError,
                    format!("the hook policy is invalid, so nothing is allowed: {e}"),
                )
            } else {
                Decision::allow()
            };
            return finish(event, d, None);
        }
    };
    let home = env("HOME");
    let engine = match Engine::new(&policy, &root, home.as_deref()) {
        Ok(e) => e.with_tmpdir(env("TMPDIR").as_deref()),
        Err(e) => {
            let d = if pre {
                Decision::deny(RuleId::PathError, format!("{e}; denied"))
            } else {
                Decision::allow()
            };
            return finish(event, d, None);
        }
    };
    // State (checkpoints, audit, gate results) is only written into a project folder that exists: a root
    // given in another system's spelling (`C:\proj` on Linux) is judged, never created.
    let dry_run = opts.dry_run || !engine.root().is_dir();
    let mut checkpoint_id = None;
    let decision = match event.kind {
        EventKind::PreTool => match &event.tool {
            Some(tool) => {
                let verdict = engine.check_tool(tool, event.cwd.as_deref());
                if !dry_run
                    && verdict.decision.outcome == Outcome::Allow
                    && policy.checkpoints.enabled
                    && !verdict.touched.is_empty()
                {
                    let label = format!("{} {}", event.name, event.tool_name.as_deref().unwrap_or(""));
                    // A checkpoint that cannot be written does not block the edit; the audit line says so.
                    checkpoint_id =
                        checkpoint::create(engine.root(), &policy.checkpoints, &verdict.touched, &label)
                            .unwrap_or(None);
                }
                verdict.decision
            }
            None => Decision::deny(RuleId::MalformedPayload, "the tool call has no readable input; denied"),
        },
        EventKind::PostTool => {
            if !dry_run && event.name != "PostToolUseFailure" {
                // A tool that ran is progress: earlier blocked stops no longer count towards the stop cap.
                let _ = state::stop_gate_progress(engine.root());
            }
            post_tool(&engine, &event, dry_run)
        }
        EventKind::Stop if policy.stop_gate.enabled && !dry_run => {
            let continuing = event.stop_hook_active || event.loop_count.unwrap_or(0) > 0;
            let session = event.session_id.as_deref();
            match state::stop_gate(engine.root(), policy.stop_gate.max_blocks, continuing, session) {
                Ok(Some(reason)) => {
                    Decision { outcome: Outcome::Block(reason), rule: Some(RuleId::StopGate) }
                }
                _ => Decision::allow(),
            }
        }
        EventKind::SessionStart => session_context(engine.root(), &policy),
        EventKind::Prompt => prompt_routes(&policy, event.prompt.as_deref().unwrap_or("")),
        _ => Decision::allow(),
    };
    if policy.audit.enabled && !dry_run {
        let reason = match &decision.outcome {
            Outcome::Deny(r) | Outcome::Block(r) => Some(r.clone()),
            _ => None,
        };
        let entry = AuditEntry {
            ts: agentry_types::Timestamp::now().to_string(),
            runtime: event.runtime.as_str().to_owned(),
            event: event.name.clone(),
            session_id: event.session_id.clone(),
            tool: event.tool_name.clone(),
            decision: decision.kind(),
            rule: decision.rule,
            reason,
            checkpoint: checkpoint_id.clone(),
        };
        let _ = state::append_audit(&engine.root().join(&policy.audit.path), &entry);
    }
    finish(event, decision, checkpoint_id)
}

/// The nearest folder at or above `cwd` that holds `.agentry/` or `.git` (what `git rev-parse
/// --show-toplevel` would find), or `cwd` itself when there is none: a payload `cwd` may be a subfolder.
fn project_root_above(cwd: &str) -> String {
    let start = Path::new(cwd);
    if !start.is_absolute() {
        return cwd.to_owned();
    }
    for dir in start.ancestors() {
        if dir.join(".agentry").is_dir() || dir.join(".git").exists() {
            return dir.to_string_lossy().into_owned();
        }
    }
    cwd.to_owned()
}

fn post_tool(engine: &Engine, event: &Event, dry_run: bool) -> Decision {
    let policy = engine.policy();
    if policy.quality_gate.command.trim().is_empty() || dry_run {
        return Decision::allow();
    }
    let raw: Vec<String> = match &event.tool {
        Some(Tool::Write(p)) | Some(Tool::Other(p)) => p.clone(),
        Some(Tool::Patch(text)) => {
            crate::patch::patch_paths(text).unwrap_or_default().into_iter().map(|(_, p)| p).collect()
        }
        _ => return Decision::allow(),
    };
    let Some(file) = raw.iter().find_map(|p| engine.gate_match(p, event.cwd.as_deref())) else {
        return Decision::allow();
    };
    match state::run_quality_gate(engine.root(), &policy.quality_gate, &file) {
        Ok(r) if r.passed() => Decision::allow(),
        Ok(r) => {
            let detail = if r.stderr_tail.trim().is_empty() { &r.stdout_tail } else { &r.stderr_tail };
            let lines: Vec<&str> = detail.trim_end().lines().collect();
            let tail = lines[lines.len().saturating_sub(20)..].join("\n");
            Decision {
                outcome: Outcome::Block(format!(
                    "The quality gate `{}` {} after editing {} (exit code {}):\n{tail}",
                    r.command,
                    r.status,
                    r.file,
                    r.exit_code.map_or_else(|| "none".to_owned(), |c| c.to_string())
                )),
                rule: Some(RuleId::QualityGate),
            }
        }
        Err(e) => Decision {
            outcome: Outcome::Block(format!("the quality gate could not record its result: {e}")),
            rule: Some(RuleId::QualityGate),
        },
    }
}

fn session_context(root: &Path, policy: &Policy) -> Decision {
    let mut parts = Vec::new();
    if !policy.session.context.trim().is_empty() {
        parts.push(policy.session.context.trim().to_owned());
    }
    for f in &policy.session.files {
        if let Ok(text) = std::fs::read_to_string(root.join(f)) {
            let cut: String = text.chars().take(MAX_CONTEXT_FILE).collect();
            parts.push(format!("{f}:\n{cut}"));
        }
    }
    if parts.is_empty() {
        Decision::allow()
    } else {
        Decision { outcome: Outcome::Context(parts.join("\n\n")), rule: Some(RuleId::SessionContext) }
    }
}

fn prompt_routes(policy: &Policy, prompt: &str) -> Decision {
    let words: Vec<String> =
        prompt.split(|c: char| !c.is_alphanumeric() && c != '-' && c != '_').map(str::to_lowercase).collect();
    let hits: Vec<&str> = policy
        .prompt_routes
        .iter()
        .filter(|r| r.keywords.iter().any(|k| words.iter().any(|w| *w == k.to_lowercase())))
        .map(|r| r.context.as_str())
        .collect();
    if hits.is_empty() {
        Decision::allow()
    } else {
        Decision { outcome: Outcome::Context(hits.join("\n\n")), rule: Some(RuleId::PromptRoute) }
    }
}
