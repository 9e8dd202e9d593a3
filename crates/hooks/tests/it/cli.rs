//! The command line: init, check, install, explain.

use serde_json::Value;

use crate::fixture::Fixture;

#[test]
fn init_writes_the_default_policy_once() {
    let fx = Fixture::new();
    let root = fx.root.to_string_lossy().into_owned();
    std::fs::remove_file(fx.root.join(".agentry/hooks.toml")).expect("the fixture has a policy");
    let r = fx.run(&["init", "--root", &root], b"", false);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = std::fs::read_to_string(fx.root.join(".agentry/hooks.toml")).expect("written");
    assert_eq!(text, agentry_hooks::DEFAULT_POLICY_TOML);
    let r = fx.run(&["init", "--root", &root], b"", false);
    assert_ne!(r.code, 0, "init does not overwrite without --force");
    let r = fx.run(&["check", "--root", &root], b"", false);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn check_names_line_and_field() {
    let fx = Fixture::new();
    let file = fx.root.join("bad.toml");
    std::fs::write(&file, "version = 1\n\n[paths]\nprotected = [\"generated/**\"]\nread_protectd = []\n")
        .expect("write");
    let r = fx.run(&["check", &file.to_string_lossy()], b"", false);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains(":5:") && r.stderr.contains("read_protectd"), "{}", r.stderr);
    std::fs::write(&file, "[stop_gate]\nmax_blocks = 0\n").expect("write");
    let r = fx.run(&["check", "--json", &file.to_string_lossy()], b"", false);
    let v: Value = serde_json::from_str(&r.stdout).expect("json");
    assert_eq!(v["ok"], false);
    assert!(v["error"].as_str().unwrap_or("").contains(":2: field `stop_gate.max_blocks`"), "{v}");
}

#[test]
fn an_invalid_policy_denies_tool_calls() {
    let fx = Fixture::new();
    std::fs::create_dir_all(fx.root.join(".agentry")).expect("mkdir");
    std::fs::write(fx.root.join(".agentry/hooks.toml"), "[paths\n").expect("write");
    let r = fx.hook("claude", &serde_json::json!({"hook_event_name": "PreToolUse", "cwd": fx.root.to_string_lossy(), "tool_name": "Bash", "tool_input": {"command": "ls"}}));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("policy"), "{}", r.stderr);
}

#[test]
fn install_merges_idempotently() {
    let fx = Fixture::new();
    let root = fx.root.to_string_lossy().into_owned();
    let settings = fx.root.join(".claude/settings.json");
    std::fs::create_dir_all(settings.parent().expect("parent")).expect("mkdir");
    let existing = r#"{"model": "opus", "hooks": {"PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "other-hook"}]}]}}"#;
    std::fs::write(&settings, existing).expect("write");
    for runtime in ["claude", "codex", "cursor", "devin", "gemini"] {
        let r = fx.run(
            &["install", "--runtime", runtime, "--root", &root, "--command", "agentry-hooks run", "--json"],
            b"",
            false,
        );
        assert_eq!(r.code, 0, "{runtime}: {}", r.stderr);
        let first = std::fs::read_to_string(
            fx.root.join(agentry_hooks::settings_file(runtime.parse().expect("runtime"))),
        )
        .expect("settings");
        let r = fx.run(
            &["install", "--runtime", runtime, "--root", &root, "--command", "agentry-hooks run", "--json"],
            b"",
            false,
        );
        let v: Value = serde_json::from_str(&r.stdout).expect("json");
        assert_eq!(v["added"].as_array().map(Vec::len), Some(0), "{runtime}: second install adds nothing");
        let second = std::fs::read_to_string(
            fx.root.join(agentry_hooks::settings_file(runtime.parse().expect("runtime"))),
        )
        .expect("settings");
        assert_eq!(first, second, "{runtime}: second install changes nothing");
    }
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&settings).expect("read")).expect("json");
    assert_eq!(v["model"], "opus");
    let pre = v["hooks"]["PreToolUse"].as_array().expect("array");
    assert_eq!(pre.len(), 2, "the other hook is kept and ours added: {pre:?}");
    assert_eq!(pre[0]["hooks"][0]["command"], "other-hook");
    let cursor: Value =
        serde_json::from_str(&std::fs::read_to_string(fx.root.join(".cursor/hooks.json")).expect("read"))
            .expect("json");
    assert_eq!(cursor["version"], 1);
    assert_eq!(cursor["hooks"]["beforeShellExecution"][0]["command"], "agentry-hooks run");
    let devin: Value =
        serde_json::from_str(&std::fs::read_to_string(fx.root.join(".devin/hooks.v1.json")).expect("read"))
            .expect("json");
    assert!(
        devin.get("hooks").is_none() && devin["PreToolUse"].is_array(),
        "Devin has no hooks wrapper: {devin}"
    );
}

#[test]
fn explain_names_the_rule() {
    let fx = Fixture::new();
    let file = fx.root.join("p.json");
    let payload = serde_json::json!({"hook_event_name": "PreToolUse", "cwd": fx.root.to_string_lossy(), "tool_name": "Bash", "tool_input": {"command": "rm -rf ~"}});
    std::fs::write(&file, payload.to_string()).expect("write");
    let r = fx.run(&["explain", &file.to_string_lossy()], b"", false);
    assert!(r.stdout.starts_with("deny") && r.stdout.contains("destructive-delete"), "{}", r.stdout);
    assert!(!fx.root.join(".agentry/audit.jsonl").exists(), "explain has no side effects");
}

#[test]
fn help_on_every_command() {
    let fx = Fixture::new();
    for cmd in ["run", "init", "install", "check", "explain", "rollback", "log"] {
        let r = fx.run(&[cmd, "--help"], b"", false);
        assert_eq!(r.code, 0, "{cmd} --help");
        assert!(r.stdout.contains("Usage"), "{cmd}: {}", r.stdout);
    }
}
