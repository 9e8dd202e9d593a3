//! Hook state on disk: the quality gate's last result, the stop gate's counter, the audit log.
//! Every whole-file write goes through a temporary file and a rename, so a reader never sees half a file.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use agentry_types::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::event::DecisionKind;
use crate::policy::QualityGate;
use crate::vocab::RuleId;

/// Where the quality gate's last result is written, relative to the project root.
pub const GATE_STATE_FILE: &str = ".agentry/state/last_quality_gate.json";
/// The stop gate's consecutive-block counter, relative to the project root.
const STOP_STATE_FILE: &str = ".agentry/state/stop_gate.json";
/// Bytes of each output stream kept in the gate result.
const TAIL_BYTES: usize = 4000;

/// The result of one quality-gate run, as stored in `last_quality_gate.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateResult {
    /// How the run ended.
    pub status: GateStatus,
    /// The command's exit code (`None` when it was killed or could not start).
    pub exit_code: Option<i32>,
    /// The edited file that triggered the run.
    pub file: String,
    /// The command that ran.
    pub command: String,
    /// Wall time in milliseconds.
    pub duration_ms: u64,
    /// The last bytes of standard output.
    pub stdout_tail: String,
    /// The last bytes of standard error.
    pub stderr_tail: String,
    /// When the run finished (RFC 3339).
    pub finished_at: String,
}

/// How a quality-gate run ended; written lowercase (`passed`, `failed`, `timeout`).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GateStatus {
    /// The command exited with 0.
    Passed,
    /// The command exited with another code, was killed by a signal, or could not start.
    Failed,
    /// The command ran longer than `quality_gate.timeout_secs` and its process group was killed.
    Timeout,
}

impl GateStatus {
    /// The status as written (`passed`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Passed => "passed",
            Self::Failed => "failed",
            Self::Timeout => "timeout",
        }
    }
}

impl std::fmt::Display for GateStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl GateResult {
    /// Whether the gate passed.
    pub fn passed(&self) -> bool {
        self.status == GateStatus::Passed
    }
}

/// Writes `bytes` to `path` atomically for readers: a temporary file in the same folder, then a rename.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::io("creating", dir, e))?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let mut f = std::fs::File::create(&tmp).map_err(|e| Error::io("creating", &tmp, e))?;
    f.write_all(bytes).map_err(|e| Error::io("writing", &tmp, e))?;
    // No fsync: the rename makes the write atomic for readers, which is what hooks need; an fsync per
    // checkpoint would cost milliseconds on every allowed edit.
    drop(f);
    if let Ok(old) = std::fs::metadata(path) {
        // Keep the permissions of the file being replaced.
        let _ = std::fs::set_permissions(&tmp, old.permissions());
    }
    std::fs::rename(&tmp, path).map_err(|e| Error::io("renaming into", path, e))
}

fn tail(bytes: &[u8]) -> String {
    let start = bytes.len().saturating_sub(TAIL_BYTES);
    String::from_utf8_lossy(&bytes[start..]).into_owned()
}

/// Runs the gate command in `root` (through `sh -c`), killing it after the timeout, and stores the result.
pub fn run_quality_gate(root: &Path, gate: &QualityGate, file: &str) -> Result<GateResult, Error> {
    let started = Instant::now();
    let mut cmd = Command::new("sh");
    #[cfg(unix)]
    {
        // Its own process group, so a timeout kills the whole tree (a `sleep` child keeps the pipes open).
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    let spawned = cmd
        .arg("-c")
        .arg(&gate.command)
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let result = match spawned {
        Err(e) => GateResult {
            status: GateStatus::Failed,
            exit_code: None,
            file: file.to_owned(),
            command: gate.command.clone(),
            duration_ms: 0,
            stdout_tail: String::new(),
            stderr_tail: format!("cannot start `sh -c {}`: {e}", gate.command),
            finished_at: Timestamp::now().to_string(),
        },
        Ok(mut child) => {
            let mut out = child.stdout.take();
            let mut err = child.stderr.take();
            let out_reader = std::thread::spawn(move || {
                let mut buf = Vec::new();
                if let Some(o) = out.as_mut() {
                    let _ = o.read_to_end(&mut buf);
                }
                buf
            });
            let err_reader = std::thread::spawn(move || {
                let mut buf = Vec::new();
                if let Some(e) = err.as_mut() {
                    let _ = e.read_to_end(&mut buf);
                }
                buf
            });
            let deadline = Duration::from_secs(gate.timeout_secs);
            let mut timed_out = false;
            let status = loop {
                match child.try_wait() {
                    Ok(Some(s)) => break Some(s),
                    Ok(None) if started.elapsed() >= deadline => {
                        timed_out = true;
                        #[cfg(unix)]
                        {
                            let _ = Command::new("kill")
                                .arg("-KILL")
                                .arg("--")
                                .arg(format!("-{}", child.id()))
                                .status();
                        }
                        let _ = child.kill();
                        break child.wait().ok();
                    }
                    Ok(None) => std::thread::sleep(Duration::from_millis(5)),
                    Err(_) => break None,
                }
            };
            let stdout = out_reader.join().unwrap_or_default();
            let stderr = err_reader.join().unwrap_or_default();
            let code = status.and_then(|s| s.code());
            let status = if timed_out {
                GateStatus::Timeout
            } else if code == Some(0) {
                GateStatus::Passed
            } else {
                GateStatus::Failed
            };
            GateResult {
                status,
                exit_code: if timed_out { None } else { code },
                file: file.to_owned(),
                command: gate.command.clone(),
                duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                stdout_tail: tail(&stdout),
                stderr_tail: tail(&stderr),
                finished_at: Timestamp::now().to_string(),
            }
        }
    };
    let json = serde_json::to_vec_pretty(&result)
        .map_err(|e| Error::Json { path: root.join(GATE_STATE_FILE), source: e })?;
    write_atomic(&root.join(GATE_STATE_FILE), &json)?;
    Ok(result)
}

/// The last quality-gate result, if any.
pub fn last_gate(root: &Path) -> Result<Option<GateResult>, Error> {
    let path = root.join(GATE_STATE_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| Error::Json { path, source: e }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("reading", path, e)),
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct StopState {
    /// Blocks in a row within one continuation (`stop_hook_active`); a fresh stop starts at zero.
    blocks: u32,
    /// Blocked stops in the session since the last sign of progress (a passing gate, a successful tool
    /// event); a fresh stop does not reset it, so a runtime that never marks continuations is capped too.
    #[serde(default)]
    stale: u32,
    /// The session `stale` counts for; another session starts at zero.
    #[serde(default)]
    session: Option<String>,
}

fn read_stop_state(path: &Path) -> StopState {
    std::fs::read(path).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default()
}

fn write_stop_state(path: &Path, state: &StopState) -> Result<(), Error> {
    let json = serde_json::to_vec(state).map_err(|e| Error::Json { path: path.to_path_buf(), source: e })?;
    write_atomic(path, &json)
}

/// Records progress (a successful tool event): blocked stops before it no longer count towards the cap.
pub(crate) fn stop_gate_progress(root: &Path) -> Result<(), Error> {
    let path = root.join(STOP_STATE_FILE);
    if !path.exists() {
        return Ok(());
    }
    let mut state = read_stop_state(&path);
    if state.stale == 0 {
        return Ok(());
    }
    state.stale = 0;
    write_stop_state(&path, &state)
}

/// Decides a stop: `Some(reason)` to block. Blocks while the last gate failed, at most `max_blocks` times in a
/// row within a continuation (a stop the runtime did not mark as one, `stop_hook_active` false and no Cursor
/// `loop_count`, starts that count again), and at most `max_blocks` times in the session without progress in
/// between (a passing gate, a successful tool event). The second cap survives fresh stops, so the gate can
/// never hold the agent forever, even on a runtime that never marks continuations.
pub(crate) fn stop_gate(
    root: &Path,
    max_blocks: u32,
    continuing: bool,
    session: Option<&str>,
) -> Result<Option<String>, Error> {
    let path = root.join(STOP_STATE_FILE);
    let Some(gate) = last_gate(root)? else { return Ok(None) };
    if gate.passed() {
        if path.exists() {
            write_stop_state(&path, &StopState::default())?;
        }
        return Ok(None);
    }
    let mut state = read_stop_state(&path);
    if !continuing {
        state.blocks = 0;
    }
    if state.session.as_deref() != session {
        state.stale = 0;
        state.session = session.map(str::to_owned);
    }
    if state.blocks >= max_blocks || state.stale >= max_blocks {
        return Ok(None);
    }
    state.blocks += 1;
    state.stale += 1;
    write_stop_state(&path, &state)?;
    let mut reason = format!(
        "The quality gate `{}` {} after editing {} (exit code {}). Fix it before stopping (block {} of {max_blocks}).",
        gate.command,
        gate.status,
        gate.file,
        gate.exit_code.map_or_else(|| "none".to_owned(), |c| c.to_string()),
        state.blocks.max(state.stale)
    );
    let detail = if gate.stderr_tail.trim().is_empty() { &gate.stdout_tail } else { &gate.stderr_tail };
    if !detail.trim().is_empty() {
        let lines: Vec<&str> = detail.trim_end().lines().collect();
        let start = lines.len().saturating_sub(20);
        reason.push('\n');
        reason.push_str(&lines[start..].join("\n"));
    }
    Ok(Some(reason))
}

/// One audit-log line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// When (RFC 3339).
    pub ts: String,
    /// The runtime.
    pub runtime: String,
    /// The event name as sent.
    pub event: String,
    /// The session id, if sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// The tool name, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    /// `allow`, `deny`, `context` or `block`.
    pub decision: DecisionKind,
    /// The rule behind a deny or block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<RuleId>,
    /// The reason given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The checkpoint taken before the action, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<String>,
}

/// Appends one JSON line (a single `write`, so concurrent hooks do not interleave lines).
pub(crate) fn append_audit(path: &Path, entry: &AuditEntry) -> Result<(), Error> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("creating", dir, e))?;
    }
    let mut line =
        serde_json::to_vec(entry).map_err(|e| Error::Json { path: path.to_path_buf(), source: e })?;
    line.push(b'\n');
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| Error::io("opening", path, e))?;
    f.write_all(&line).map_err(|e| Error::io("appending to", path, e))
}

/// Reads the audit log (lines that do not parse are skipped).
pub fn read_audit(path: &Path) -> Result<Vec<AuditEntry>, Error> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(Error::io("reading", path, e)),
    }
}

/// The audit log path of a project.
pub fn audit_path(root: &Path, configured: &str) -> PathBuf {
    root.join(configured)
}
