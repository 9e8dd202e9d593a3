//! Responses: a [`Decision`] written back in the runtime's own format, with the exit code that goes with it.

use serde_json::json;

use super::{Decision, Event, EventKind, Outcome, Runtime};

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
    use serde_json::Value;

    use super::*;
    use crate::vocab::RuleId;

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
