//! Runtime adapters: each runtime's payload read into one [`Event`], and a [`Decision`] written back in the
//! runtime's own response format.

use std::fmt;
use std::str::FromStr;

use serde_json::{Map, Value, json};

use crate::error::Error;
use crate::vocab::RuleId;

/// The agent runtimes whose hook formats are understood.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Runtime {
    /// Claude Code (the canonical format).
    Claude,
    /// OpenAI Codex CLI (Claude-compatible JSON; edits arrive as `apply_patch` text).
    Codex,
    /// Cursor agent hooks (`beforeShellExecution`, `workspace_roots`, `permission` answers).
    Cursor,
    /// Devin for Terminal (lowercase tool names, `DEVIN_PROJECT_DIR`).
    Devin,
    /// Gemini CLI (`BeforeTool`, `AfterTool`, `AfterAgent`).
    Gemini,
}

impl Runtime {
    /// Every runtime, in documentation order.
    pub const ALL: [Self; 5] = [Self::Claude, Self::Codex, Self::Cursor, Self::Devin, Self::Gemini];

    /// The lowercase name used on the command line.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Claude => "claude",
            Self::Codex => "codex",
            Self::Cursor => "cursor",
            Self::Devin => "devin",
            Self::Gemini => "gemini",
        }
    }

    /// The environment variable holding the project root, if the runtime sets one.
    const fn root_var(self) -> Option<&'static str> {
        match self {
            Self::Claude => Some("CLAUDE_PROJECT_DIR"),
            Self::Devin => Some("DEVIN_PROJECT_DIR"),
            Self::Gemini => Some("GEMINI_PROJECT_DIR"),
            Self::Cursor => Some("CURSOR_PROJECT_DIR"),
            Self::Codex => None,
        }
    }
}

impl fmt::Display for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Runtime {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Self::ALL
            .into_iter()
            .find(|r| {
                r.as_str().eq_ignore_ascii_case(s)
                    || (s.eq_ignore_ascii_case("claude-code") && *r == Self::Claude)
            })
            .ok_or_else(|| Error::UnknownRuntime { name: s.to_owned() })
    }
}

/// The lifecycle point an event belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// Session start or resume.
    SessionStart,
    /// A prompt was submitted.
    Prompt,
    /// A tool is about to run: the one point where a deny blocks an action.
    PreTool,
    /// A tool ran.
    PostTool,
    /// The agent wants to stop.
    Stop,
    /// The session ends.
    SessionEnd,
    /// Any other event: allowed and logged.
    Other,
}

/// What a tool call does, normalized across runtimes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tool {
    /// A shell command line.
    Shell(String),
    /// An argv executed without a shell.
    Argv(Vec<String>),
    /// Files written or edited.
    Write(Vec<String>),
    /// Files read.
    Read(Vec<String>),
    /// A search under `paths`, optionally limited to file-name `globs`.
    Search {
        /// Folders or files searched.
        paths: Vec<String>,
        /// File-name patterns the search reads.
        globs: Vec<String>,
    },
    /// An `apply_patch` envelope or a unified diff.
    Patch(String),
    /// Any other tool: the path-like string fields of its input.
    Other(Vec<String>),
}

/// One hook invocation, normalized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The runtime that sent it.
    pub runtime: Runtime,
    /// The lifecycle point.
    pub kind: EventKind,
    /// The event name as sent (`PreToolUse`, `beforeShellExecution`, `BeforeTool`, ...).
    pub name: String,
    /// The session or conversation id, when sent.
    pub session_id: Option<String>,
    /// The working directory of the action (payload `cwd`), when known.
    pub cwd: Option<String>,
    /// The project root: the runtime's variable, Cursor's workspace root, or the payload `cwd`.
    pub root: Option<String>,
    /// The root is only the payload `cwd` (no runtime variable or workspace root said otherwise), so the
    /// project may start higher up: [`crate::handle`] then looks for the nearest `.agentry/` or `.git`.
    pub root_is_cwd: bool,
    /// The tool name as sent.
    pub tool_name: Option<String>,
    /// The normalized tool call (pre/post tool events).
    pub tool: Option<Tool>,
    /// The prompt text (prompt events).
    pub prompt: Option<String>,
    /// The runtime says the agent is already continuing because of a stop hook.
    pub stop_hook_active: bool,
    /// Cursor's count of stop follow-ups so far.
    pub loop_count: Option<u64>,
}

/// What the hook answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing to say: the action proceeds.
    Allow,
    /// Block the tool call (or the payload we could not read), with the reason for the model.
    Deny(String),
    /// Add context for the model.
    Context(String),
    /// Feed a reason back and keep the agent going (failed quality gate after an edit, blocked stop).
    Block(String),
}

/// The kind of an [`Outcome`], without its text; written lowercase in audit lines and `explain --json`.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DecisionKind {
    /// The call proceeds.
    Allow,
    /// The call is blocked.
    Deny,
    /// Context is added for the model.
    Context,
    /// A reason is fed back and the agent keeps going.
    Block,
}

impl DecisionKind {
    /// The kind as written (`deny`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Allow => "allow",
            Self::Deny => "deny",
            Self::Context => "context",
            Self::Block => "block",
        }
    }
}

impl std::fmt::Display for DecisionKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An outcome and the rule that produced it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// What to answer.
    pub outcome: Outcome,
    /// The rule behind it (`protected-path`, `read-secret`, ...); `None` for a plain allow.
    pub rule: Option<RuleId>,
}

impl Decision {
    /// A plain allow.
    pub const fn allow() -> Self {
        Self { outcome: Outcome::Allow, rule: None }
    }

    /// A deny by `rule`.
    pub fn deny(rule: RuleId, reason: impl Into<String>) -> Self {
        Self { outcome: Outcome::Deny(reason.into()), rule: Some(rule) }
    }

    /// `allow`, `deny`, `context` or `block`.
    pub const fn verdict(&self) -> &'static str {
        self.kind().as_str()
    }

    /// Which kind of outcome it is.
    pub const fn kind(&self) -> DecisionKind {
        match self.outcome {
            Outcome::Allow => DecisionKind::Allow,
            Outcome::Deny(_) => DecisionKind::Deny,
            Outcome::Context(_) => DecisionKind::Context,
            Outcome::Block(_) => DecisionKind::Block,
        }
    }
}

/// The process answer: what to print and how to exit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Standard output (JSON for most runtimes).
    pub stdout: String,
    /// Standard error (the reason, on a deny).
    pub stderr: String,
    /// Exit code: 0, or 2 to block.
    pub exit_code: i32,
}

const GEMINI_EVENTS: [&str; 9] = [
    "BeforeTool",
    "AfterTool",
    "BeforeAgent",
    "AfterAgent",
    "BeforeModel",
    "AfterModel",
    "BeforeToolSelection",
    "PreCompress",
    "Notification",
];

/// Guesses the runtime from the payload's shape.
pub fn detect(payload: &Value) -> Runtime {
    let event = payload.get("hook_event_name").and_then(Value::as_str).unwrap_or("");
    let tool = payload.get("tool_name").and_then(Value::as_str).unwrap_or("");
    if payload.get("workspace_roots").is_some()
        || payload.get("conversation_id").is_some()
        || event.starts_with(|c: char| c.is_ascii_lowercase())
    {
        return Runtime::Cursor;
    }
    if GEMINI_EVENTS.contains(&event)
        || matches!(tool, "run_shell_command" | "write_file" | "read_file" | "replace" | "read_many_files")
    {
        return Runtime::Gemini;
    }
    if matches!(tool, "exec" | "edit" | "write" | "read") {
        return Runtime::Devin;
    }
    if tool == "apply_patch" || payload.get("turn_id").is_some() {
        return Runtime::Codex;
    }
    Runtime::Claude
}

fn str_field(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// Reads a payload. `runtime` `None` means auto-detect; `env` looks up environment variables.
pub fn parse_event(
    runtime: Option<Runtime>,
    payload: &Value,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Event, Error> {
    let runtime = runtime.unwrap_or_else(|| detect(payload));
    let bad = |message: String| Error::Payload { runtime: runtime.as_str(), message };
    let obj = payload.as_object().ok_or_else(|| bad("the payload is not a JSON object".to_owned()))?;
    let name = obj
        .get("hook_event_name")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("missing string field `hook_event_name`".to_owned()))?
        .to_owned();
    let kind = match runtime {
        Runtime::Cursor => match name.as_str() {
            "beforeShellExecution"
            | "beforeMCPExecution"
            | "beforeReadFile"
            | "beforeTabFileRead"
            | "preToolUse" => EventKind::PreTool,
            "afterFileEdit"
            | "afterTabFileEdit"
            | "afterShellExecution"
            | "afterMCPExecution"
            | "postToolUse" => EventKind::PostTool,
            "beforeSubmitPrompt" => EventKind::Prompt,
            "stop" => EventKind::Stop,
            "sessionStart" => EventKind::SessionStart,
            "sessionEnd" => EventKind::SessionEnd,
            _ => EventKind::Other,
        },
        Runtime::Gemini => match name.as_str() {
            "BeforeTool" => EventKind::PreTool,
            "AfterTool" => EventKind::PostTool,
            "BeforeAgent" => EventKind::Prompt,
            "AfterAgent" => EventKind::Stop,
            "SessionStart" => EventKind::SessionStart,
            "SessionEnd" => EventKind::SessionEnd,
            _ => EventKind::Other,
        },
        _ => match name.as_str() {
            "PreToolUse" | "PermissionRequest" => EventKind::PreTool,
            "PostToolUse" | "PostToolUseFailure" => EventKind::PostTool,
            "UserPromptSubmit" => EventKind::Prompt,
            "Stop" | "SubagentStop" => EventKind::Stop,
            "SessionStart" => EventKind::SessionStart,
            "SessionEnd" => EventKind::SessionEnd,
            _ => EventKind::Other,
        },
    };
    let cwd = str_field(payload, "cwd");
    let workspace_root = obj.get("workspace_roots").and_then(Value::as_array).and_then(|roots| {
        let roots: Vec<&str> = roots.iter().filter_map(Value::as_str).collect();
        let file = str_field(payload, "file_path").or_else(|| cwd.clone());
        file.and_then(|f| roots.iter().find(|r| f.starts_with(*r)).map(|r| (*r).to_owned()))
            .or_else(|| roots.first().map(|r| (*r).to_owned()))
    });
    let declared = runtime.root_var().and_then(env).filter(|v| !v.is_empty()).or(workspace_root);
    let root_is_cwd = declared.is_none();
    let root = declared.or_else(|| cwd.clone());
    let session_id = str_field(payload, "session_id").or_else(|| str_field(payload, "conversation_id"));
    let mut event = Event {
        runtime,
        kind,
        name: name.clone(),
        session_id,
        cwd,
        root,
        root_is_cwd,
        tool_name: str_field(payload, "tool_name"),
        tool: None,
        prompt: str_field(payload, "prompt"),
        stop_hook_active: obj.get("stop_hook_active").and_then(Value::as_bool).unwrap_or(false),
        loop_count: obj.get("loop_count").and_then(Value::as_u64),
    };
    if !matches!(kind, EventKind::PreTool | EventKind::PostTool) {
        return Ok(event);
    }
    // Cursor's dedicated events carry their fields at the top level.
    let tool = match (runtime, name.as_str()) {
        (Runtime::Cursor, "beforeShellExecution" | "afterShellExecution") => {
            event.tool_name = Some("Shell".to_owned());
            Tool::Shell(
                str_field(payload, "command")
                    .ok_or_else(|| bad("missing string field `command`".to_owned()))?,
            )
        }
        (Runtime::Cursor, "beforeReadFile" | "beforeTabFileRead") => {
            event.tool_name = Some("Read".to_owned());
            Tool::Read(vec![
                str_field(payload, "file_path")
                    .ok_or_else(|| bad("missing string field `file_path`".to_owned()))?,
            ])
        }
        (Runtime::Cursor, "afterFileEdit" | "afterTabFileEdit") => {
            event.tool_name = Some("Edit".to_owned());
            Tool::Write(vec![
                str_field(payload, "file_path")
                    .ok_or_else(|| bad("missing string field `file_path`".to_owned()))?,
            ])
        }
        (Runtime::Cursor, "beforeMCPExecution" | "afterMCPExecution") => {
            let input = obj.get("tool_input").cloned().unwrap_or(Value::Null);
            let input = match input {
                Value::String(s) => serde_json::from_str(&s).unwrap_or(Value::String(s)),
                v => v,
            };
            Tool::Other(path_like_fields(&input))
        }
        _ => {
            let tool_name =
                event.tool_name.clone().ok_or_else(|| bad("missing string field `tool_name`".to_owned()))?;
            let input = obj.get("tool_input").ok_or_else(|| bad("missing field `tool_input`".to_owned()))?;
            let input =
                input.as_object().ok_or_else(|| bad("`tool_input` is not a JSON object".to_owned()))?;
            tool_from_input(&tool_name, input).map_err(bad)?
        }
    };
    event.tool = Some(tool);
    Ok(event)
}

fn path_field(input: &Map<String, Value>, tool: &str) -> Result<String, String> {
    for key in ["file_path", "notebook_path", "path", "absolute_path", "target_file", "filePath"] {
        if let Some(v) = input.get(key) {
            return v
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("`tool_input.{key}` of {tool} is not a string"));
        }
    }
    Err(format!("{tool} has no `tool_input.file_path`"))
}

fn tool_from_input(tool_name: &str, input: &Map<String, Value>) -> Result<Tool, String> {
    let lower = tool_name.to_ascii_lowercase();
    let command = input.get("command").or_else(|| input.get("cmd"));
    let patch_text = input
        .get("input")
        .or_else(|| input.get("patch"))
        .or(command)
        .and_then(Value::as_str)
        .filter(|s| s.trim_start().starts_with("*** Begin Patch"));
    match lower.as_str() {
        "bash" | "powershell" | "exec" | "shell" | "run_shell_command" | "local_shell" | "shell_command"
        | "terminal" => match command {
            Some(Value::String(s)) => Ok(Tool::Shell(s.clone())),
            Some(Value::Array(items)) => {
                let argv: Option<Vec<String>> = items.iter().map(|v| v.as_str().map(str::to_owned)).collect();
                let argv =
                    argv.ok_or_else(|| format!("`tool_input.command` of {tool_name} has a non-string item"))?;
                if argv.is_empty() {
                    return Err(format!("`tool_input.command` of {tool_name} is empty"));
                }
                Ok(Tool::Argv(argv))
            }
            Some(_) => Err(format!("`tool_input.command` of {tool_name} is not a string")),
            None => Err(format!("{tool_name} has no `tool_input.command`")),
        },
        "apply_patch" => {
            let text = input
                .get("input")
                .or_else(|| input.get("patch"))
                .or(command)
                .and_then(Value::as_str)
                .ok_or_else(|| "apply_patch has no patch text in `tool_input.command`".to_owned())?;
            Ok(Tool::Patch(text.to_owned()))
        }
        _ if patch_text.is_some() => Ok(Tool::Patch(patch_text.unwrap_or_default().to_owned())),
        "write"
        | "edit"
        | "multiedit"
        | "notebookedit"
        | "write_file"
        | "replace"
        | "str_replace"
        | "strreplace"
        | "str_replace_based_edit_tool"
        | "create"
        | "edit_file"
        | "delete"
        | "delete_file"
        | "create_file" => Ok(Tool::Write(vec![path_field(input, tool_name)?])),
        "read" | "read_file" | "view" | "view_file" => Ok(Tool::Read(vec![path_field(input, tool_name)?])),
        "read_many_files" => {
            let paths = input
                .get("paths")
                .and_then(Value::as_array)
                .ok_or_else(|| "read_many_files has no `tool_input.paths`".to_owned())?;
            let paths: Option<Vec<String>> = paths.iter().map(|v| v.as_str().map(str::to_owned)).collect();
            Ok(Tool::Read(paths.ok_or_else(|| "`tool_input.paths` has a non-string item".to_owned())?))
        }
        "grep"
        | "glob"
        | "search_file_content"
        | "list_directory"
        | "ls"
        | "search"
        | "codebase_search"
        | "grep_search" => {
            let paths = ["path", "dir_path", "directory"]
                .iter()
                .filter_map(|k| input.get(*k).and_then(Value::as_str))
                .map(str::to_owned)
                .collect();
            let mut globs: Vec<String> = ["glob", "include", "file_pattern"]
                .iter()
                .filter_map(|k| input.get(*k).and_then(Value::as_str))
                .map(str::to_owned)
                .collect();
            if lower == "glob" {
                // The Glob tool lists names; it reads no content, so its pattern is not a read.
                globs.clear();
            }
            Ok(Tool::Search { paths, globs })
        }
        _ => Ok(Tool::Other(path_like_fields(&Value::Object(input.clone())))),
    }
}

/// String values under keys that name paths or files, one level deep (an unknown tool's likely targets).
fn path_like_fields(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(o) = v.as_object() {
        for (k, val) in o {
            let key = k.to_ascii_lowercase();
            let pathish =
                key.contains("path") || key.contains("file") || key == "target" || key == "destination";
            match val {
                Value::String(s) if pathish => out.push(s.clone()),
                Value::Array(items) if pathish => {
                    out.extend(items.iter().filter_map(Value::as_str).map(str::to_owned))
                }
                _ => {}
            }
        }
    }
    out
}

/// Writes `decision` for `event` in the runtime's format.
pub fn render(event: &Event, decision: &Decision) -> Response {
    render_parts(event.runtime, event.kind, &event.name, decision)
}

/// [`render`] from the parts, also used when the payload could not be read (then `kind` is `PreTool`).
pub fn render_parts(runtime: Runtime, kind: EventKind, name: &str, decision: &Decision) -> Response {
    let ok = |stdout: String| Response { stdout, stderr: String::new(), exit_code: 0 };
    match &decision.outcome {
        Outcome::Allow => match (runtime, kind) {
            (Runtime::Cursor, EventKind::PreTool) => ok(json!({"permission": "allow"}).to_string()),
            (Runtime::Cursor, EventKind::Prompt) => ok(json!({"continue": true}).to_string()),
            _ => ok(String::new()),
        },
        Outcome::Deny(reason) => {
            let stdout = match runtime {
                Runtime::Claude | Runtime::Codex if name == "PermissionRequest" => {
                    json!({"hookSpecificOutput": {
                    "hookEventName": "PermissionRequest", "decision": {"behavior": "deny", "message": reason}}})
                }
                Runtime::Claude | Runtime::Codex => json!({"hookSpecificOutput": {
                    "hookEventName": "PreToolUse", "permissionDecision": "deny", "permissionDecisionReason": reason}}),
                Runtime::Cursor if kind == EventKind::Prompt => {
                    json!({"continue": false, "user_message": reason})
                }
                Runtime::Cursor => {
                    json!({"permission": "deny", "user_message": reason, "agent_message": reason})
                }
                Runtime::Devin => json!({"decision": "block", "reason": reason}),
                Runtime::Gemini => json!({"decision": "deny", "reason": reason}),
            };
            Response {
                stdout: stdout.to_string(),
                stderr: format!("agentry-hooks: {reason}\n"),
                exit_code: 2,
            }
        }
        Outcome::Context(text) => match runtime {
            Runtime::Claude | Runtime::Codex | Runtime::Gemini => {
                ok(json!({"hookSpecificOutput": {"hookEventName": name, "additionalContext": text}})
                    .to_string())
            }
            Runtime::Cursor if kind == EventKind::Prompt => ok(json!({"continue": true}).to_string()),
            Runtime::Cursor => ok(json!({"additional_context": text}).to_string()),
            Runtime::Devin => ok(text.clone()),
        },
        Outcome::Block(reason) => match (runtime, kind) {
            (Runtime::Claude | Runtime::Codex, _) => {
                ok(json!({"decision": "block", "reason": reason}).to_string())
            }
            (Runtime::Gemini, EventKind::Stop) => {
                ok(json!({"decision": "deny", "reason": reason}).to_string())
            }
            (Runtime::Gemini, _) => {
                ok(json!({"hookSpecificOutput": {"hookEventName": name, "additionalContext": reason}})
                    .to_string())
            }
            (Runtime::Cursor, EventKind::Stop) => ok(json!({"followup_message": reason}).to_string()),
            (Runtime::Cursor, _) => ok(json!({}).to_string()),
            (Runtime::Devin, _) => Response {
                stdout: json!({"decision": "block", "reason": reason}).to_string(),
                stderr: format!("agentry-hooks: {reason}\n"),
                exit_code: 2,
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: Value) -> Result<Event, Error> {
        parse_event(None, &v, &|_| None)
    }

    #[test]
    fn detects_runtimes() {
        assert_eq!(detect(&json!({"hook_event_name": "beforeShellExecution"})), Runtime::Cursor);
        assert_eq!(detect(&json!({"hook_event_name": "BeforeTool"})), Runtime::Gemini);
        assert_eq!(detect(&json!({"hook_event_name": "PreToolUse", "tool_name": "exec"})), Runtime::Devin);
        assert_eq!(
            detect(&json!({"hook_event_name": "PreToolUse", "tool_name": "apply_patch"})),
            Runtime::Codex
        );
        assert_eq!(detect(&json!({"hook_event_name": "PreToolUse", "tool_name": "Bash"})), Runtime::Claude);
    }

    #[test]
    fn malformed_is_an_error() {
        assert!(parse(json!([])).is_err());
        assert!(parse(json!({"hook_event_name": "PreToolUse", "tool_name": "Bash"})).is_err());
        assert!(
            parse(
                json!({"hook_event_name": "PreToolUse", "tool_name": "Bash", "tool_input": {"command": 3}})
            )
            .is_err()
        );
        assert!(
            parse(json!({"hook_event_name": "PreToolUse", "tool_name": "Write", "tool_input": {}})).is_err()
        );
    }

    #[test]
    fn tools() {
        let e = parse(json!({"hook_event_name": "PreToolUse", "tool_name": "NotebookEdit", "cwd": "/p",
            "tool_input": {"notebook_path": "/p/a.ipynb"}}))
        .expect("valid");
        assert_eq!(e.tool, Some(Tool::Write(vec!["/p/a.ipynb".to_owned()])));
        assert_eq!(e.root.as_deref(), Some("/p"));
        let e = parse(
            json!({"hook_event_name": "beforeShellExecution", "command": "ls", "workspace_roots": ["/w"]}),
        )
        .expect("valid");
        assert_eq!((e.tool, e.root.as_deref()), (Some(Tool::Shell("ls".to_owned())), Some("/w")));
    }

    #[test]
    fn deny_formats() {
        for r in Runtime::ALL {
            let resp =
                render_parts(r, EventKind::PreTool, "PreToolUse", &Decision::deny(RuleId::CustomRule, "no"));
            assert_eq!(resp.exit_code, 2);
            assert!(resp.stderr.contains("no"));
            let v: Value = serde_json::from_str(&resp.stdout).expect("json");
            assert!(v.to_string().contains("deny") || v.to_string().contains("block"), "{r}: {v}");
        }
    }
}
