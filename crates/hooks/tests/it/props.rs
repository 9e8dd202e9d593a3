//! Property tests: no input makes the binary's decision path panic, and a malformed PreToolUse never allows.

use agentry_hooks::{Options, Outcome, handle};
use proptest::prelude::*;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn arbitrary_bytes_never_allow_a_tool(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let h = handle(&bytes, Options { runtime: None, dry_run: true }, &|_| None);
        // Arbitrary bytes are not a valid tool payload: the answer blocks or says nothing about a tool.
        if h.event.is_none() {
            prop_assert!(matches!(h.decision.outcome, Outcome::Deny(_)));
            prop_assert_eq!(h.response.exit_code, 2);
        }
    }

    #[test]
    fn arbitrary_commands_never_panic(cmd in prop_oneof!["[ -~\\n]{0,120}", "\\PC{0,60}", "[-a-z .'\"$(){}|;&<>*?é\\\\]{0,60}"]) {
        let payload = serde_json::json!({"hook_event_name": "PreToolUse", "cwd": "/nonexistent-agentry-root", "tool_name": "Bash", "tool_input": {"command": cmd}});
        let h = handle(payload.to_string().as_bytes(), Options { runtime: None, dry_run: true }, &|_| None);
        prop_assert!(h.response.exit_code == 0 || h.response.exit_code == 2);
    }

    #[test]
    fn rm_rf_root_is_denied_however_quoted(q in prop::sample::select(vec!["rm", "r''m", "\\rm", "\"rm\"", "r\"m\""]),
                                           f in prop::sample::select(vec!["-rf", "-fr", "-r -f", "--recursive --force", "-R"]),
                                           wrap in prop::sample::select(vec!["", "sudo ", "env A=1 ", "timeout 5 ", "nice -n 1 ", "nohup ", "command "])) {
        let cmd = format!("{wrap}{q} {f} /");
        let payload = serde_json::json!({"hook_event_name": "PreToolUse", "cwd": "/", "tool_name": "Bash", "tool_input": {"command": cmd}});
        let h = handle(payload.to_string().as_bytes(), Options { runtime: None, dry_run: true }, &|_| None);
        prop_assert!(matches!(h.decision.outcome, Outcome::Deny(_)), "{}", cmd);
    }
}
