//! `agentry-hooks`: the hook binary. `run` is the hot path (one process per tool call): it skips the
//! argument parser and does no work before reading the payload; every other command goes through clap.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use agentry_hooks::{
    DEFAULT_POLICY_TOML, Decision, EventKind, Options, POLICY_FILE, Policy, RollbackTarget, RuleId, Runtime,
    handle, render_parts,
};
use clap::{Parser, Subcommand};

/// Payloads larger than this are refused (denied) rather than read.
const MAX_PAYLOAD: u64 = 64 << 20;

#[derive(Parser, Debug)]
#[command(
    name = "agentry-hooks",
    version,
    about = "A fast, bypass-resistant policy engine for agent lifecycle hooks"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Handle one hook event: payload on stdin, the runtime's answer on stdout, exit 2 to block.
    Run {
        /// The runtime that sends the payload: auto, claude, codex, cursor, devin or gemini.
        #[arg(long, default_value = "auto")]
        runtime: String,
    },
    /// Write the built-in default policy to .agentry/hooks.toml.
    Init {
        /// The project root.
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Overwrite an existing policy file.
        #[arg(long)]
        force: bool,
    },
    /// Register the hook in a runtime's settings file (idempotent; other hooks are kept).
    Install {
        /// claude, codex, cursor, devin or gemini.
        #[arg(long)]
        runtime: String,
        /// The project root.
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// The command to register (default: this binary's absolute path with `run --runtime R`).
        #[arg(long)]
        command: Option<String>,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Validate a policy file (default: .agentry/hooks.toml under --root, or the built-in default).
    Check {
        /// The policy file.
        policy: Option<PathBuf>,
        /// The project root.
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show the decision for a payload file and the rule behind it, without side effects.
    Explain {
        /// The payload (JSON as the runtime sends it).
        payload: PathBuf,
        /// The runtime (default: detected from the payload).
        #[arg(long, default_value = "auto")]
        runtime: String,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Restore files from checkpoints (default: undo the newest one).
    Rollback {
        /// Undo the newest N checkpoints.
        #[arg(long, conflicts_with = "to")]
        last: Option<usize>,
        /// Undo every checkpoint from this id to the newest.
        #[arg(long)]
        to: Option<String>,
        /// List checkpoints instead of restoring.
        #[arg(long)]
        list: bool,
        /// The project root.
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print the audit log.
    Log {
        /// Only the newest N entries.
        #[arg(long)]
        last: Option<usize>,
        /// The project root.
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Print JSON lines as stored.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    std::panic::set_hook(Box::new(|info| {
        let _ = writeln!(std::io::stderr(), "agentry-hooks: internal error: {info}");
    }));
    let args: Vec<String> = std::env::args().collect();
    if let Some(runtime) = fast_run_args(&args) {
        return run(runtime);
    }
    let cli = Cli::parse();
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| dispatch(cli))) {
        Ok(Ok(code)) => code,
        Ok(Err(e)) => {
            let _ = writeln!(std::io::stderr(), "agentry-hooks: {e:#}");
            ExitCode::from(1)
        }
        Err(_) => ExitCode::from(1),
    }
}

/// `run` and `run --runtime R` without clap; anything else (help, typos) goes to clap.
fn fast_run_args(args: &[String]) -> Option<Option<Runtime>> {
    let rest: Vec<&str> = args.iter().skip(1).map(String::as_str).collect();
    let name = match rest.as_slice() {
        ["run"] => return Some(None),
        ["run", "--runtime", r] => *r,
        ["run", r] if r.starts_with("--runtime=") => &r["--runtime=".len()..],
        _ => return None,
    };
    if name == "auto" {
        return Some(None);
    }
    name.parse::<Runtime>().ok().map(Some)
}

fn run(runtime: Option<Runtime>) -> ExitCode {
    let mut input = Vec::with_capacity(4096);
    let read = std::io::stdin().lock().take(MAX_PAYLOAD + 1).read_to_end(&mut input);
    let read = read.map_err(|e| e.to_string());
    let handled = std::panic::catch_unwind(|| {
        if let Err(e) = read {
            let d = Decision::deny(
                RuleId::MalformedPayload,
                format!("cannot read the payload from stdin ({e}); denied"),
            );
            return render_parts(runtime.unwrap_or(Runtime::Claude), EventKind::PreTool, "PreToolUse", &d);
        }
        if input.len() as u64 > MAX_PAYLOAD {
            let d = Decision::deny(
                RuleId::MalformedPayload,
                format!("the payload exceeds {MAX_PAYLOAD} bytes; denied"),
            );
            return render_parts(runtime.unwrap_or(Runtime::Claude), EventKind::PreTool, "PreToolUse", &d);
        }
        handle(&input, Options { runtime, dry_run: false }, &|k| std::env::var(k).ok()).response
    });
    let response = handled.unwrap_or_else(|_| {
        let d =
            Decision::deny(RuleId::InternalError, "agentry-hooks hit an internal error; denied to stay safe");
        render_parts(runtime.unwrap_or(Runtime::Claude), EventKind::PreTool, "PreToolUse", &d)
    });
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(response.stdout.as_bytes());
    let _ = out.flush();
    if !response.stderr.is_empty() {
        let _ = std::io::stderr().write_all(response.stderr.as_bytes());
    }
    ExitCode::from(u8::try_from(response.exit_code).unwrap_or(2))
}

fn parse_runtime(name: &str) -> anyhow::Result<Option<Runtime>> {
    if name == "auto" {
        return Ok(None);
    }
    Ok(Some(name.parse::<Runtime>()?))
}

fn print(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    if !text.ends_with('\n') {
        let _ = out.write_all(b"\n");
    }
}

fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Cmd::Run { runtime } => match parse_runtime(&runtime) {
            Ok(rt) => Ok(run(rt)),
            Err(e) => {
                // Exit 1 would read as "hook error, proceed" to every runtime: a misconfigured hook denies.
                let _ = writeln!(std::io::stderr(), "agentry-hooks: {e:#}; denied");
                Ok(ExitCode::from(2))
            }
        },
        Cmd::Init { root, force } => {
            let path = root.join(POLICY_FILE);
            if path.exists() && !force {
                anyhow::bail!("{} exists; pass --force to overwrite it", path.display());
            }
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(&path, DEFAULT_POLICY_TOML)?;
            print(&format!("wrote {}", path.display()));
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Install { runtime, root, command, json } => {
            let rt = parse_runtime(&runtime)?
                .ok_or_else(|| anyhow::anyhow!("install needs a concrete --runtime"))?;
            let command = match command {
                Some(c) => c,
                None => {
                    let exe = std::env::current_exe()?;
                    let exe = exe.canonicalize().unwrap_or(exe);
                    format!("{} run --runtime {}", shell_quote(&exe.to_string_lossy()), rt.as_str())
                }
            };
            let report = agentry_hooks::install(&root, rt, &command)?;
            if json {
                print(&serde_json::to_string(&report)?);
            } else {
                print(&format!(
                    "{}: added {} event(s) [{}], already present {} [{}]",
                    report.file.display(),
                    report.added.len(),
                    report.added.join(", "),
                    report.present.len(),
                    report.present.join(", ")
                ));
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Check { policy, root, json } => {
            let path = agentry_hooks::policy_path(&root, policy.as_deref());
            let (source, p) = match std::fs::read_to_string(&path) {
                Ok(text) => (path.display().to_string(), Policy::from_toml(&text, &path)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && policy.is_none() => {
                    ("built-in default".to_owned(), Ok(Policy::default()))
                }
                Err(e) => anyhow::bail!("cannot read {}: {e}", path.display()),
            };
            match p {
                Ok(p) => {
                    if json {
                        print(&serde_json::json!({"ok": true, "source": source, "protected": p.paths.protected, "read_protected": p.paths.read_protected, "deploy_rules": p.shell.deploy.len(), "quality_gate": p.quality_gate.command}).to_string());
                    } else {
                        print(&format!(
                            "{source}: ok ({} protected, {} read-protected patterns, {} deploy rules, quality gate: {})",
                            p.paths.protected.len(),
                            p.paths.read_protected.len(),
                            p.shell.deploy.len(),
                            if p.quality_gate.command.is_empty() {
                                "off".to_owned()
                            } else {
                                format!("`{}`", p.quality_gate.command)
                            }
                        ));
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    if json {
                        print(
                            &serde_json::json!({"ok": false, "source": source, "error": e.to_string()})
                                .to_string(),
                        );
                    } else {
                        let _ = writeln!(std::io::stderr(), "{e}");
                    }
                    Ok(ExitCode::from(1))
                }
            }
        }
        Cmd::Explain { payload, runtime, json } => {
            let bytes = std::fs::read(&payload)?;
            let h = handle(&bytes, Options { runtime: parse_runtime(&runtime)?, dry_run: true }, &|k| {
                std::env::var(k).ok()
            });
            let reason = match &h.decision.outcome {
                agentry_hooks::Outcome::Deny(r)
                | agentry_hooks::Outcome::Block(r)
                | agentry_hooks::Outcome::Context(r) => Some(r.clone()),
                agentry_hooks::Outcome::Allow => None,
            };
            let runtime = h.event.as_ref().map(|e| e.runtime.as_str());
            let event = h.event.as_ref().map(|e| e.name.clone());
            if json {
                print(&serde_json::json!({"runtime": runtime, "event": event, "decision": h.decision.verdict(), "rule": h.decision.rule, "reason": reason, "exit_code": h.response.exit_code}).to_string());
            } else {
                print(&format!(
                    "{} ({} {}): rule {}\n{}",
                    h.decision.verdict(),
                    runtime.unwrap_or("?"),
                    event.as_deref().unwrap_or("?"),
                    h.decision.rule.map_or("-", RuleId::as_str),
                    reason.unwrap_or_default()
                ));
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Rollback { last, to, list, root, json } => {
            if list {
                let cps = agentry_hooks::list_checkpoints(&root)?;
                if json {
                    print(&serde_json::to_string(&cps.iter().map(|c| serde_json::json!({"id": c.id, "created": c.created, "label": c.label, "files": c.entries.len()})).collect::<Vec<_>>())?);
                } else {
                    for c in cps {
                        print(&format!("{}  {}  {}  {} file(s)", c.id, c.created, c.label, c.entries.len()));
                    }
                }
                return Ok(ExitCode::SUCCESS);
            }
            let target = match to {
                Some(id) => RollbackTarget::To(id),
                None => RollbackTarget::Last(last.unwrap_or(1)),
            };
            let report = agentry_hooks::rollback(&root, &target)?;
            if json {
                print(&serde_json::to_string(&report)?);
            } else {
                print(&format!(
                    "undid {} checkpoint(s): restored {}, removed {}, skipped {}",
                    report.checkpoints.len(),
                    report.restored.len(),
                    report.removed.len(),
                    report.skipped.len()
                ));
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Log { last, root, json } => {
            let policy = Policy::load(&root)?;
            let entries = agentry_hooks::read_audit(&agentry_hooks::audit_path(&root, &policy.audit.path))?;
            let start = last.map_or(0, |n| entries.len().saturating_sub(n));
            for e in &entries[start..] {
                if json {
                    print(&serde_json::to_string(e)?);
                } else {
                    print(&format!(
                        "{} {:<6} {:<18} {:<10} {:<7} {} {}",
                        e.ts,
                        e.runtime,
                        e.event,
                        e.tool.as_deref().unwrap_or("-"),
                        e.decision,
                        e.rule.map_or("-", RuleId::as_str),
                        e.reason.as_deref().unwrap_or("")
                    ));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn shell_quote(s: &str) -> String {
    if s.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+".contains(c)) {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}
