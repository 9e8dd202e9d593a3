//! End to end: quality gate, stop gate, audit log, checkpoints and rollback, through the real binary.

use serde_json::{Value, json};

use crate::fixture::Fixture;

fn policy(fx: &Fixture, gate_command: &str) {
    let text = format!(
        "[quality_gate]\ncommand = \"{gate_command}\"\nglobs = [\"src/**/*.rs\"]\ntimeout_secs = 60\n\n[stop_gate]\nmax_blocks = 2\n\n[[prompt_routes]]\nkeywords = [\"deploy\"]\ncontext = \"Deploys need the release checklist.\"\n\n[session]\ncontext = \"Use cargo.\"\n"
    );
    std::fs::create_dir_all(fx.root.join(".agentry")).expect("mkdir");
    std::fs::write(fx.root.join(".agentry/hooks.toml"), text).expect("write policy");
}

fn post_edit(fx: &Fixture, file: &str) -> crate::fixture::Run {
    let root = fx.root.to_string_lossy();
    fx.hook("claude", &json!({"session_id": "s", "hook_event_name": "PostToolUse", "cwd": root, "tool_name": "Edit",
        "tool_input": {"file_path": format!("{root}/{file}"), "old_string": "a", "new_string": "b"}, "tool_response": {"success": true}}))
}

fn stop(fx: &Fixture, active: bool) -> crate::fixture::Run {
    fx.hook("claude", &json!({"session_id": "s", "hook_event_name": "Stop", "cwd": fx.root.to_string_lossy(), "stop_hook_active": active}))
}

fn gate_state(fx: &Fixture) -> Value {
    let text = std::fs::read_to_string(fx.root.join(".agentry/state/last_quality_gate.json"))
        .expect("gate state written");
    serde_json::from_str(&text).expect("gate state is JSON")
}

#[test]
fn quality_gate_then_stop_gate() {
    let fx = Fixture::new();
    policy(&fx, "test -f ok.flag || { echo tests failed >&2; exit 3; }");
    // A README edit does not match the globs: no gate run.
    let r = post_edit(&fx, "README.md");
    assert_eq!((r.code, r.stdout.as_str()), (0, ""));
    assert!(!fx.root.join(".agentry/state/last_quality_gate.json").exists());
    // A source edit runs the gate, which fails: the reason goes back to the model.
    let r = post_edit(&fx, "src/main.rs");
    assert_eq!(r.code, 0);
    let out: Value = serde_json::from_str(&r.stdout).expect("json");
    assert_eq!(out["decision"], "block");
    assert!(out["reason"].as_str().unwrap_or("").contains("tests failed"), "{out}");
    let state = gate_state(&fx);
    assert_eq!(
        (state["status"].as_str(), state["exit_code"].as_i64(), state["file"].as_str()),
        (Some("failed"), Some(3), Some("src/main.rs"))
    );
    assert!(state["stderr_tail"].as_str().unwrap_or("").contains("tests failed"));
    // Stop is blocked while the gate fails, at most max_blocks (2) times in a row.
    for active in [false, true] {
        let r = stop(&fx, active);
        let v: Value = serde_json::from_str(&r.stdout).expect("json");
        assert_eq!(v["decision"], "block", "stop_hook_active={active}");
    }
    let r = stop(&fx, true);
    assert_eq!((r.code, r.stdout.as_str()), (0, ""), "the loop limit lets the agent stop");
    // A fresh stop (not a continuation) without progress in between stays let through: the cap survives it.
    let r = stop(&fx, false);
    assert_eq!((r.code, r.stdout.as_str()), (0, ""), "no progress since the last blocks");
    // A tool event is progress: the next fresh stop is blocked again.
    let r = post_edit(&fx, "README.md");
    assert_eq!(r.code, 0);
    let r = stop(&fx, false);
    assert!(r.stdout.contains("block"), "{}", r.stdout);
    // Fix the tests: the gate passes and the stop gate opens.
    std::fs::write(fx.root.join("ok.flag"), "").expect("write");
    let r = post_edit(&fx, "src/main.rs");
    assert_eq!((r.code, r.stdout.as_str()), (0, ""));
    assert_eq!(gate_state(&fx)["status"], "passed");
    let r = stop(&fx, false);
    assert_eq!((r.code, r.stdout.as_str()), (0, ""));
}

/// A runtime that never sends `stop_hook_active`: every stop looks fresh, and the cap must still hold.
#[test]
fn stop_gate_is_capped_without_stop_hook_active() {
    let fx = Fixture::new();
    policy(&fx, "echo tests failed >&2; exit 1");
    let r = post_edit(&fx, "src/main.rs");
    assert!(r.stdout.contains("tests failed"), "{}", r.stdout);
    let stop_without_flag = |session: &str| {
        fx.hook(
            "claude",
            &json!({"session_id": session, "hook_event_name": "Stop", "cwd": fx.root.to_string_lossy()}),
        )
    };
    let mut blocked = 0;
    for _ in 0..6 {
        let r = stop_without_flag("s");
        assert_eq!(r.code, 0, "{}", r.stderr);
        if r.stdout.contains("block") {
            blocked += 1;
        }
    }
    assert_eq!(blocked, 2, "max_blocks (2) blocks, then the agent may stop, however many fresh stops follow");
    // Another session starts its own count.
    assert!(stop_without_flag("t").stdout.contains("block"));
}

#[test]
fn quality_gate_timeout() {
    let fx = Fixture::new();
    std::fs::create_dir_all(fx.root.join(".agentry")).expect("mkdir");
    std::fs::write(
        fx.root.join(".agentry/hooks.toml"),
        "[quality_gate]\ncommand = \"sleep 30\"\nglobs = [\"**/*.rs\"]\ntimeout_secs = 1\n",
    )
    .expect("write");
    let r = post_edit(&fx, "src/main.rs");
    assert!(r.stdout.contains("timeout"), "{}", r.stdout);
    assert_eq!(gate_state(&fx)["status"], "timeout");
}

#[test]
fn context_routes_and_audit() {
    let fx = Fixture::new();
    policy(&fx, "true");
    let root = fx.root.to_string_lossy().into_owned();
    let r = fx.hook("claude", &json!({"hook_event_name": "SessionStart", "cwd": root, "source": "startup"}));
    assert!(r.stdout.contains("Use cargo."), "{}", r.stdout);
    let r = fx.hook(
        "claude",
        &json!({"hook_event_name": "UserPromptSubmit", "cwd": root, "prompt": "please deploy it"}),
    );
    assert!(r.stdout.contains("release checklist"), "{}", r.stdout);
    let r = fx.hook(
        "claude",
        &json!({"hook_event_name": "UserPromptSubmit", "cwd": root, "prompt": "redeployment notes"}),
    );
    assert_eq!(r.stdout, "");
    let r = fx.hook("claude", &json!({"hook_event_name": "PreToolUse", "cwd": root, "tool_name": "Bash", "tool_input": {"command": "cat .env"}}));
    assert_eq!(r.code, 2);
    let r = fx.hook("claude", &json!({"hook_event_name": "SessionEnd", "cwd": root, "reason": "other"}));
    assert_eq!(r.code, 0);
    let log = std::fs::read_to_string(fx.root.join(".agentry/audit.jsonl")).expect("audit log");
    let lines: Vec<Value> = log.lines().map(|l| serde_json::from_str(l).expect("json line")).collect();
    assert_eq!(lines.len(), 5);
    assert_eq!(
        (lines[3]["decision"].as_str(), lines[3]["rule"].as_str()),
        (Some("deny"), Some("read-secret"))
    );
    assert_eq!(lines[4]["event"], "SessionEnd");
    let r = fx.run(&["log", "--json", "--last", "1"], b"", false);
    assert!(r.stdout.contains("SessionEnd"), "{}", r.stdout);
}

#[test]
fn checkpoints_and_rollback_restore_exactly() {
    let fx = Fixture::new();
    let root = fx.root.to_string_lossy().into_owned();
    let pre_write = |file: &str| {
        fx.hook("claude", &json!({"hook_event_name": "PreToolUse", "cwd": root, "tool_name": "Write", "tool_input": {"file_path": format!("{root}/{file}"), "content": "new"}}))
    };
    // 1: edit an existing file (the runtime then writes it).
    assert_eq!(pre_write("src/main.rs").code, 0);
    std::fs::write(fx.root.join("src/main.rs"), "changed once\n").expect("write");
    // 2: create a new file.
    assert_eq!(pre_write("src/new.rs").code, 0);
    std::fs::write(fx.root.join("src/new.rs"), "brand new\n").expect("write");
    // 3: a shell delete of a folder.
    let r = fx.hook("claude", &json!({"hook_event_name": "PreToolUse", "cwd": root, "tool_name": "Bash", "tool_input": {"command": "rm -rf target"}}));
    assert_eq!(r.code, 0);
    std::fs::remove_dir_all(fx.root.join("target")).expect("rm");
    // 4: another edit of main.rs, which puts its original content back.
    assert_eq!(pre_write("src/main.rs").code, 0);
    std::fs::write(fx.root.join("src/main.rs"), "fn main() {}\n").expect("write");
    // 5: checkpointing that content again stores no new object.
    assert_eq!(pre_write("src/main.rs").code, 0);
    std::fs::write(fx.root.join("src/main.rs"), "changed twice\n").expect("write");
    let objects = std::fs::read_dir(fx.root.join(".agentry/checkpoints/objects")).expect("objects").count();
    assert_eq!(objects, 3, "fn main (stored twice), the target binary and `changed once`: each content once");

    let r = fx.run(&["rollback", "--list", "--json"], b"", false);
    let list: Vec<Value> = serde_json::from_str(&r.stdout).expect("json");
    assert_eq!(list.len(), 5);
    let digest = |i: usize| {
        let id = list[i]["id"].as_str().expect("id");
        let file = fx.root.join(format!(".agentry/checkpoints/manifests/{id}.json"));
        let m: Value = serde_json::from_str(&std::fs::read_to_string(file).expect("manifest")).expect("json");
        m["entries"][0]["digest"].as_str().map(str::to_owned)
    };
    assert!(digest(0).is_some(), "the first checkpoint stored main.rs");
    assert_eq!(digest(0), digest(4), "the same content has the same object");
    // Undo the last one: main.rs goes back to its original content, read from the shared object.
    let r = fx.run(&["rollback", "--last", "1"], b"", false);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(fx.root.join("src/main.rs")).expect("read"), "fn main() {}\n");
    // And the one before: `changed once`.
    let r = fx.run(&["rollback", "--last", "1"], b"", false);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(fx.root.join("src/main.rs")).expect("read"), "changed once\n");
    // Undo everything from the first: the original state, and the new file is gone.
    let first = list[0]["id"].as_str().expect("id").to_owned();
    let r = fx.run(&["rollback", "--to", &first, "--json"], b"", false);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(fx.root.join("src/main.rs")).expect("read"), "fn main() {}\n");
    assert!(!fx.root.join("src/new.rs").exists(), "a file that did not exist is removed");
    assert_eq!(std::fs::read_to_string(fx.root.join("target/debug/app")).expect("restored"), "bin\n");
    // Unknown ids are an error, not a silent no-op.
    let r = fx.run(&["rollback", "--to", "nope"], b"", false);
    assert_ne!(r.code, 0);
}

#[test]
fn denied_actions_take_no_checkpoint() {
    let fx = Fixture::new();
    let root = fx.root.to_string_lossy().into_owned();
    let r = fx.hook("claude", &json!({"hook_event_name": "PreToolUse", "cwd": root, "tool_name": "Write", "tool_input": {"file_path": format!("{root}/generated/x"), "content": ""}}));
    assert_eq!(r.code, 2);
    assert!(!fx.root.join(".agentry/checkpoints/manifests").exists());
}

#[test]
fn apply_patch_through_a_shell_is_checkpointed_and_rolled_back() {
    let fx = Fixture::new();
    let root = fx.root.to_string_lossy().into_owned();
    let command = "apply_patch <<'EOF'\n*** Begin Patch\n*** Update File: src/a.rs\n@@\n-// a\n+// b\n*** Delete File: src/env.rs\n*** End Patch\nEOF";
    let r = fx.hook("claude", &json!({"hook_event_name": "PreToolUse", "cwd": root, "tool_name": "Bash", "tool_input": {"command": command}}));
    assert_eq!(r.code, 0, "{}", r.stderr);
    // What the patch does, done by hand.
    std::fs::write(fx.root.join("src/a.rs"), "// b\n").expect("write");
    std::fs::remove_file(fx.root.join("src/env.rs")).expect("rm");
    let r = fx.run(&["rollback", "--last", "1"], b"", false);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(fx.root.join("src/a.rs")).expect("read"), "// a\n");
    assert_eq!(std::fs::read_to_string(fx.root.join("src/env.rs")).expect("read"), "pub fn env() {}\n");
}
