//! Hook payloads for the `agentry-hooks` benchmarks: a small project on disk and representative Claude Code
//! PreToolUse payloads (about 1 KB each, like the ones a runtime sends), allowed and denied.

use std::path::Path;

use crate::Rng;

/// Writes the benchmark project under `root`: sources, a `.env`, a `generated/` folder.
pub fn write_project(root: &Path) -> std::io::Result<()> {
    for (p, text) in [
        ("src/main.rs", "fn main() {}\n"),
        ("src/lib.rs", "pub fn f() {}\n"),
        ("README.md", "# bench\n"),
        (".env", "SECRET=1\n"),
        ("config/.env.local", "SECRET=2\n"),
        ("generated/schema.ts", "export {}\n"),
    ] {
        let path = root.join(p);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, text)?;
    }
    Ok(())
}

/// `(name, payload JSON, expected exit code)` for each representative decision, seeded so that session ids
/// and padding are the same in every run.
pub fn decision_payloads(root: &str, seed: u64) -> Vec<(&'static str, String, i32)> {
    let mut rng = Rng::new(seed);
    let mut id = || format!("{:016x}{:016x}", rng.next_u64(), rng.next_u64());
    let envelope = |tool: &str, input: serde_like::Json, session: String| -> String {
        let description = "x".repeat(600);
        format!(
            "{{\"session_id\":\"{session}\",\"transcript_path\":\"/home/user/.claude/projects/bench/{session}.jsonl\",\
             \"cwd\":{root},\"permission_mode\":\"default\",\"hook_event_name\":\"PreToolUse\",\"tool_name\":\"{tool}\",\
             \"tool_input\":{input},\"tool_use_id\":\"toolu_{session}\",\"description\":\"{description}\"}}",
            root = serde_like::string(root),
            input = input.0,
        )
    };
    let shell = |cmd: &str| {
        serde_like::Json(format!("{{\"command\":{},\"timeout\":120000}}", serde_like::string(cmd)))
    };
    let file = |path: &str| {
        serde_like::Json(format!(
            "{{\"file_path\":{},\"old_string\":\"a\",\"new_string\":\"b\"}}",
            serde_like::string(path)
        ))
    };
    vec![
        ("bash-allow", envelope("Bash", shell("cargo test --workspace 2>&1 | tail -n 50"), id()), 0),
        (
            "bash-deny-wrapped-rm",
            envelope("Bash", shell("npm test && sudo env A=1 timeout 9 bash -c \"r''m -rf ~\""), id()),
            2,
        ),
        ("bash-deny-env-read", envelope("Bash", shell("grep -n KEY config/.env.local | head -n 3"), id()), 2),
        ("edit-allow", envelope("Edit", file(&format!("{root}/src/lib.rs")), id()), 0),
        ("edit-deny-generated", envelope("Edit", file(&format!("{root}/generated/schema.ts")), id()), 2),
        (
            "read-deny-env",
            envelope(
                "Read",
                serde_like::Json(format!(
                    "{{\"file_path\":{}}}",
                    serde_like::string(&format!("{root}/.env"))
                )),
                id(),
            ),
            2,
        ),
    ]
}

/// `(name, payload JSON)` of the Bash calls timed beside other hooks (dcg, cc-safety-net): one allowed, one
/// denied by all three, as a runtime sends them. Other hooks judge only Bash calls, so only these are compared.
pub fn peer_payloads(root: &str) -> Vec<(&'static str, String)> {
    let bash = |cmd: &str| {
        format!(
            "{{\"session_id\":\"bench\",\"transcript_path\":\"/dev/null\",\"cwd\":{root},\
             \"permission_mode\":\"default\",\"hook_event_name\":\"PreToolUse\",\"tool_name\":\"Bash\",\
             \"tool_input\":{{\"command\":{cmd}}}}}",
            root = serde_like::string(root),
            cmd = serde_like::string(cmd),
        )
    };
    vec![("git-status", bash("git status")), ("rm-rf-home", bash("rm -rf ~"))]
}

/// Just enough JSON writing for the payloads, so the corpus needs no serde.
mod serde_like {
    /// Preformatted JSON text.
    pub(super) struct Json(pub(super) String);

    /// A JSON string literal.
    pub(super) fn string(s: &str) -> String {
        let mut out = String::from("\"");
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }
}
