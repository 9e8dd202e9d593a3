//! `install`: merging our hook into a runtime's settings file, idempotently, keeping every other hook.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use crate::error::Error;
use crate::event::Runtime;
use crate::policy::Policy;
use crate::state::write_atomic;

/// Seconds a decision hook may take before the runtime gives up on it.
const DECISION_TIMEOUT_SECS: u64 = 30;
/// Seconds added to the quality gate's own timeout for the hook that runs it: the gate kills its command at
/// its timeout, then writes the state file and answers. A runtime that killed the hook first would never see
/// the failure, and a killed hook does not block.
const GATE_MARGIN_SECS: u64 = 30;

/// The settings file of a runtime, relative to the project root.
pub fn settings_file(runtime: Runtime) -> &'static str {
    match runtime {
        Runtime::Claude => ".claude/settings.json",
        Runtime::Codex => ".codex/hooks.json",
        Runtime::Cursor => ".cursor/hooks.json",
        Runtime::Devin => ".devin/hooks.v1.json",
        Runtime::Gemini => ".gemini/settings.json",
    }
}

/// The events we register for, with their matcher.
fn events(runtime: Runtime) -> &'static [(&'static str, &'static str)] {
    match runtime {
        Runtime::Claude => &[
            ("PreToolUse", "*"),
            ("PostToolUse", "Write|Edit|MultiEdit|NotebookEdit"),
            ("Stop", ""),
            ("SessionStart", ""),
            ("UserPromptSubmit", ""),
            ("SessionEnd", ""),
        ],
        Runtime::Codex => &[
            ("PreToolUse", "*"),
            ("PostToolUse", "apply_patch|Edit|Write"),
            ("Stop", ""),
            ("SessionStart", ""),
            ("UserPromptSubmit", ""),
        ],
        Runtime::Devin => &[
            ("PreToolUse", ".*"),
            ("PostToolUse", "edit|write"),
            ("Stop", ""),
            ("SessionStart", ""),
            ("SessionEnd", ""),
            ("UserPromptSubmit", ""),
        ],
        Runtime::Gemini => &[
            ("BeforeTool", ".*"),
            ("AfterTool", "write_file|replace"),
            ("AfterAgent", ""),
            ("SessionStart", ""),
            ("SessionEnd", ""),
            ("BeforeAgent", ""),
        ],
        Runtime::Cursor => &[
            ("preToolUse", ""),
            ("beforeShellExecution", ""),
            ("beforeReadFile", ""),
            ("beforeMCPExecution", ""),
            ("afterFileEdit", ""),
            ("beforeSubmitPrompt", ""),
            ("stop", ""),
            ("sessionStart", ""),
            ("sessionEnd", ""),
        ],
    }
}

/// What `install` did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InstallReport {
    /// The settings file.
    pub file: PathBuf,
    /// Events that got our hook now.
    pub added: Vec<String>,
    /// Events that already had it.
    pub present: Vec<String>,
}

/// Whether the event runs the quality gate (after an edit).
fn runs_gate(event: &str) -> bool {
    matches!(event, "PostToolUse" | "AfterTool" | "afterFileEdit")
}

/// Adds `command` (typically `/path/to/agentry-hooks run --runtime R`) for every event we handle to the
/// runtime's settings file under `root`. Existing hooks stay as they are; running it twice changes nothing.
///
/// The hook that runs the quality gate gets a timeout above the gate's own (`quality_gate.timeout_secs` of
/// the project's policy, or the default), so the runtime never kills it before the gate answers; an entry of
/// ours with a shorter timeout is raised. A policy file that does not load is an error.
pub fn install(root: &Path, runtime: Runtime, command: &str) -> Result<InstallReport, Error> {
    let gate_secs = Policy::load(root)?.quality_gate.timeout_secs.saturating_add(GATE_MARGIN_SECS);
    let file = root.join(settings_file(runtime));
    let mut doc: Value = match std::fs::read(&file) {
        Ok(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => json!({}),
        Ok(bytes) => {
            serde_json::from_slice(&bytes).map_err(|e| Error::Json { path: file.clone(), source: e })?
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => json!({}),
        Err(e) => return Err(Error::io("reading", &file, e)),
    };
    let not_object = |what: &str| Error::Payload {
        runtime: runtime.as_str(),
        message: format!("{}: {what} is not a JSON object", file.display()),
    };
    let root_obj = doc.as_object_mut().ok_or_else(|| not_object("the document"))?;
    if runtime == Runtime::Cursor {
        root_obj.entry("version").or_insert(json!(1));
    }
    let hooks: &mut Map<String, Value> = if runtime == Runtime::Devin {
        root_obj
    } else {
        root_obj
            .entry("hooks")
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .ok_or_else(|| not_object("`hooks`"))?
    };
    let mut report = InstallReport { file: file.clone(), added: Vec::new(), present: Vec::new() };
    let mut raised = false;
    for (event, matcher) in events(runtime) {
        let secs = if runs_gate(event) { gate_secs } else { DECISION_TIMEOUT_SECS };
        // Gemini counts in milliseconds, the others in seconds.
        let timeout = if runtime == Runtime::Gemini { secs.saturating_mul(1000) } else { secs };
        let list = hooks.entry((*event).to_owned()).or_insert_with(|| json!([]));
        let arr = list.as_array_mut().ok_or_else(|| not_object(event))?;
        let ours = |v: &Value| -> bool {
            v.get("command").and_then(Value::as_str) == Some(command)
                || v.get("hooks").and_then(Value::as_array).is_some_and(|hs| {
                    hs.iter().any(|h| h.get("command").and_then(Value::as_str) == Some(command))
                })
        };
        if arr.iter().any(ours) {
            if runs_gate(event) {
                raised |= raise_timeouts(arr, command, timeout);
            }
            report.present.push((*event).to_owned());
            continue;
        }
        let entry = match runtime {
            Runtime::Cursor if *event == "stop" => {
                json!({"command": command, "timeout": 60, "loop_limit": 3})
            }
            Runtime::Cursor => json!({"command": command, "timeout": timeout}),
            Runtime::Gemini => {
                json!({"matcher": matcher, "hooks": [{"type": "command", "name": "agentry-hooks", "command": command, "timeout": timeout}]})
            }
            _ if matcher.is_empty() => {
                json!({"hooks": [{"type": "command", "command": command, "timeout": timeout}]})
            }
            _ => {
                json!({"matcher": matcher, "hooks": [{"type": "command", "command": command, "timeout": timeout}]})
            }
        };
        arr.push(entry);
        report.added.push((*event).to_owned());
    }
    if !report.added.is_empty() || raised {
        let mut text =
            serde_json::to_vec_pretty(&doc).map_err(|e| Error::Json { path: file.clone(), source: e })?;
        text.push(b'\n');
        write_atomic(&file, &text)?;
    }
    Ok(report)
}

/// Raises the timeout of our own handlers in an event's list to at least `timeout`; whether any changed.
fn raise_timeouts(list: &mut [Value], command: &str, timeout: u64) -> bool {
    let mut changed = false;
    let mut raise = |h: &mut Value| {
        if h.get("command").and_then(Value::as_str) != Some(command) {
            return;
        }
        if h.get("timeout").and_then(Value::as_u64).is_some_and(|t| t >= timeout) {
            return;
        }
        if let Some(o) = h.as_object_mut() {
            o.insert("timeout".to_owned(), json!(timeout));
            changed = true;
        }
    };
    for entry in list.iter_mut() {
        raise(entry);
        if let Some(hs) = entry.get_mut("hooks").and_then(Value::as_array_mut) {
            hs.iter_mut().for_each(&mut raise);
        }
    }
    changed
}
