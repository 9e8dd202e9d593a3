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
    // A gate slower than the default 300 s: the hook that runs it must outlast it.
    let policy = fx.root.join(".agentry/hooks.toml");
    let mut text = std::fs::read_to_string(&policy).expect("policy");
    text.push_str("\n[quality_gate]\ncommand = \"true\"\ntimeout_secs = 1000\n");
    std::fs::write(&policy, text).expect("write");
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
    assert_eq!(
        cursor["hooks"]["preToolUse"][0]["command"], "agentry-hooks run",
        "Cursor's preToolUse: {cursor}"
    );
    assert!(cursor["hooks"]["afterFileEdit"][0]["timeout"].as_u64() > Some(1000), "{cursor}");
    assert!(v["hooks"]["PostToolUse"][0]["hooks"][0]["timeout"].as_u64() > Some(1000), "{v}");
    assert_eq!(v["hooks"]["PreToolUse"][1]["hooks"][0]["timeout"], 30);
    for (file, event) in [(".codex/hooks.json", "PostToolUse"), (".gemini/settings.json", "AfterTool")] {
        let doc: Value =
            serde_json::from_str(&std::fs::read_to_string(fx.root.join(file)).expect("read")).expect("json");
        let t = doc["hooks"][event][0]["hooks"][0]["timeout"].as_u64();
        let floor = if event == "AfterTool" { 1_000_000 } else { 1000 };
        assert!(t > Some(floor), "{file}: {event} timeout {t:?} does not outlast the gate");
    }
    let devin: Value =
        serde_json::from_str(&std::fs::read_to_string(fx.root.join(".devin/hooks.v1.json")).expect("read"))
            .expect("json");
    assert!(
        devin.get("hooks").is_none() && devin["PreToolUse"].is_array(),
        "Devin has no hooks wrapper: {devin}"
    );
    assert!(devin["PostToolUse"][0]["hooks"][0]["timeout"].as_u64() > Some(1000), "{devin}");
}

#[test]
fn install_outlasts_the_default_gate_and_raises_a_short_timeout() {
    let fx = Fixture::new();
    std::fs::remove_file(fx.root.join(".agentry/hooks.toml")).expect("remove policy");
    let root = fx.root.to_string_lossy().into_owned();
    let settings = fx.root.join(".claude/settings.json");
    std::fs::create_dir_all(settings.parent().expect("parent")).expect("mkdir");
    // An earlier install that gave the gate-running hook the old 30 s.
    let old = r#"{"hooks": {"PostToolUse": [{"matcher": "Write", "hooks": [{"type": "command", "command": "agentry-hooks run", "timeout": 30}]}]}}"#;
    std::fs::write(&settings, old).expect("write");
    let r = fx.run(
        &["install", "--runtime", "claude", "--root", &root, "--command", "agentry-hooks run", "--json"],
        b"",
        false,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&settings).expect("read")).expect("json");
    let post = v["hooks"]["PostToolUse"].as_array().expect("array");
    assert_eq!(post.len(), 1, "ours is not added twice: {post:?}");
    assert!(post[0]["hooks"][0]["timeout"].as_u64() > Some(300), "the default gate is 300 s: {v}");
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
fn run_with_an_unknown_runtime_denies() {
    let fx = Fixture::new();
    let payload = serde_json::json!({"hook_event_name": "PreToolUse", "cwd": fx.root.to_string_lossy(), "tool_name": "Bash", "tool_input": {"command": "ls"}});
    for args in [&["run", "--runtime", "bogus"][..], &["run", "--runtime=bogus"][..]] {
        let r = fx.run(args, payload.to_string().as_bytes(), false);
        assert_eq!(r.code, 2, "{args:?}: exit 1 or 0 would let the tool run: {}", r.stderr);
        assert!(r.stderr.contains("unknown runtime `bogus`") && r.stderr.contains("denied"), "{}", r.stderr);
    }
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
