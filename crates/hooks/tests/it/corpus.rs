//! The table-driven payload corpus (tests/data/corpus.toml), every case through the real binary.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::fixture::Fixture;

#[derive(Debug, Deserialize)]
struct Corpus {
    case: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    kind: String,
    runtime: String,
    value: String,
    expect: String,
    rule: Option<String>,
}

const RUNTIMES: [&str; 5] = ["claude", "codex", "cursor", "devin", "gemini"];

/// The payload of a case in a runtime's own format.
fn payload(fx: &Fixture, runtime: &str, kind: &str, value: &str) -> Option<Vec<u8>> {
    let root = fx.root.to_string_lossy().into_owned();
    let v = fx.subst(value);
    let p: Value = match (kind, runtime) {
        ("raw", _) => return Some(v.into_bytes()),
        ("shell", "claude" | "codex") => {
            json!({"session_id": "s1", "hook_event_name": "PreToolUse", "cwd": root, "tool_name": "Bash", "tool_input": {"command": v}})
        }
        ("shell", "cursor") => {
            json!({"conversation_id": "c1", "hook_event_name": "beforeShellExecution", "command": v, "cwd": root, "workspace_roots": [root]})
        }
        ("shell", "devin") => {
            json!({"session_id": "s1", "hook_event_name": "PreToolUse", "tool_name": "exec", "tool_input": {"command": v, "shell_id": "main"}})
        }
        ("shell", "gemini") => {
            json!({"session_id": "s1", "hook_event_name": "BeforeTool", "cwd": root, "tool_name": "run_shell_command", "tool_input": {"command": v}})
        }
        ("write", "claude") => {
            json!({"hook_event_name": "PreToolUse", "cwd": root, "tool_name": "Write", "tool_input": {"file_path": v, "content": "x"}})
        }
        ("write", "codex") => {
            json!({"hook_event_name": "PreToolUse", "cwd": root, "tool_name": "apply_patch", "tool_input": {"command": format!("*** Begin Patch\n*** Update File: {v}\n@@\n-a\n+b\n*** End Patch\n")}})
        }
        ("write", "cursor") => {
            json!({"hook_event_name": "preToolUse", "workspace_roots": [root], "tool_name": "Write", "tool_input": {"file_path": v}})
        }
        ("write", "devin") => {
            json!({"hook_event_name": "PreToolUse", "tool_name": "edit", "tool_input": {"file_path": v, "old_string": "a", "new_string": "b"}})
        }
        ("write", "gemini") => {
            json!({"hook_event_name": "BeforeTool", "cwd": root, "tool_name": "write_file", "tool_input": {"file_path": v, "content": "x"}})
        }
        ("read", "claude") => {
            json!({"hook_event_name": "PreToolUse", "cwd": root, "tool_name": "Read", "tool_input": {"file_path": v}})
        }
        ("read", "codex") => {
            json!({"hook_event_name": "PreToolUse", "cwd": root, "tool_name": "Bash", "tool_input": {"command": format!("cat '{v}'")}})
        }
        ("read", "cursor") => {
            json!({"hook_event_name": "beforeReadFile", "workspace_roots": [root], "file_path": v, "content": ""})
        }
        ("read", "devin") => {
            json!({"hook_event_name": "PreToolUse", "tool_name": "read", "tool_input": {"file_path": v}})
        }
        ("read", "gemini") => {
            json!({"hook_event_name": "BeforeTool", "cwd": root, "tool_name": "read_file", "tool_input": {"absolute_path": v}})
        }
        ("patch", "codex") => {
            json!({"hook_event_name": "PreToolUse", "cwd": root, "tool_name": "apply_patch", "tool_input": {"command": v}})
        }
        _ => return None,
    };
    Some(p.to_string().into_bytes())
}

/// Whether the response carries the runtime's own deny (JSON on stdout, exit 2, reason on stderr).
fn is_runtime_deny(runtime: &str, stdout: &str) -> bool {
    let Ok(v) = serde_json::from_str::<Value>(stdout) else { return false };
    match runtime {
        "claude" | "codex" => v["hookSpecificOutput"]["permissionDecision"] == "deny",
        "cursor" => v["permission"] == "deny",
        "devin" => v["decision"] == "block",
        "gemini" => v["decision"] == "deny",
        _ => false,
    }
}

#[test]
fn corpus() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/corpus.toml"))
        .expect("corpus file");
    let corpus: Corpus = toml::from_str(&text).expect("corpus parses");
    let fx = Fixture::new();
    let mut failures = Vec::new();
    let mut ran = 0;
    for case in &corpus.case {
        let runtimes: Vec<&str> =
            if case.runtime == "all" { RUNTIMES.to_vec() } else { vec![case.runtime.as_str()] };
        for rt in runtimes {
            let Some(bytes) = payload(&fx, rt, &case.kind, &case.value) else {
                failures.push(format!("{}: no {rt} payload for kind {}", case.name, case.kind));
                continue;
            };
            ran += 1;
            let r = fx.run(&["run", "--runtime", rt], &bytes, rt == "devin");
            let got = match r.code {
                0 => "allow",
                2 => "deny",
                _ => "error",
            };
            if got != case.expect {
                failures.push(format!(
                    "[{rt}] {}: expected {}, got {got} (exit {}): {}",
                    case.name,
                    case.expect,
                    r.code,
                    r.stderr.trim()
                ));
                continue;
            }
            if got == "deny" {
                if !is_runtime_deny(rt, &r.stdout) {
                    failures.push(format!(
                        "[{rt}] {}: deny without the runtime's JSON deny: {}",
                        case.name, r.stdout
                    ));
                }
                if r.stderr.trim().is_empty() {
                    failures.push(format!("[{rt}] {}: deny without a reason on stderr", case.name));
                }
                if let Some(rule) = &case.rule {
                    let explain = explain_rule(&fx, rt, &bytes);
                    if explain.as_deref() != Some(rule.as_str()) {
                        failures.push(format!(
                            "[{rt}] {}: expected rule {rule}, explain says {explain:?}",
                            case.name
                        ));
                    }
                }
            }
        }
    }
    assert!(ran >= 150, "the corpus must hold at least 150 payload cases, has {ran}");
    // The Windows-style cases name `C:\proj`: judged, but nothing may be created for that root.
    assert!(!std::path::Path::new("/c:/proj").exists(), "state was written for a root that does not exist");
    assert!(failures.is_empty(), "{} of {ran} corpus cases failed:\n{}", failures.len(), failures.join("\n"));
}

/// The rule `explain --json` names for a payload.
fn explain_rule(fx: &Fixture, runtime: &str, payload: &[u8]) -> Option<String> {
    let file = fx.root.join(".agentry").join("explain-payload.json");
    std::fs::create_dir_all(file.parent()?).ok()?;
    std::fs::write(&file, payload).ok()?;
    let r = fx.run(
        &["explain", "--json", "--runtime", runtime, &file.to_string_lossy()],
        b"",
        runtime == "devin",
    );
    let v: Value = serde_json::from_str(&r.stdout).ok()?;
    v["rule"].as_str().map(str::to_owned)
}
