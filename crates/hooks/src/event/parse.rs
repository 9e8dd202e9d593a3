//! Payloads read into an [`Event`]: the runtime detected from the payload's shape, each runtime's event
//! names mapped to an [`EventKind`], the project root found, and the tool call normalized.

use serde_json::Value;

use crate::error::Error;

use super::tool::{path_like_fields, tool_from_input};
use super::{Event, EventKind, Runtime, Tool};

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

#[cfg(test)]
mod tests {
    use serde_json::json;

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
}
