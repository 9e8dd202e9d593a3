//! Runtime adapters: each runtime's payload read into one [`Event`], and a [`Decision`] written back in the
//! runtime's own response format. This file holds the normalized vocabulary (runtimes, event kinds, tool calls,
//! the event itself); `parse` and `tool` read payloads, `decision` and `render` are the answer side.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

mod decision;
mod parse;
mod render;
mod tool;

pub use self::{
    decision::{Decision, DecisionKind, Outcome},
    parse::{detect, parse_event},
    render::{Response, render, render_parts},
};

/// The agent runtimes whose hook formats are understood.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Runtime {
    /// Claude Code (the canonical format).
    Claude,
    /// OpenAI Codex CLI (Claude-compatible JSON; edits arrive as `apply_patch` text).
    Codex,
    /// Cursor agent hooks (`beforeShellExecution`, `workspace_roots`, `permission` answers).
    Cursor,
    /// Devin for Terminal (lowercase tool names, `DEVIN_PROJECT_DIR`).
    Devin,
    /// Gemini CLI (`BeforeTool`, `AfterTool`, `AfterAgent`).
    Gemini,
}

impl Runtime {
    /// Every runtime, in documentation order.
    pub const ALL: [Self; 5] = [Self::Claude, Self::Codex, Self::Cursor, Self::Devin, Self::Gemini];

    /// The lowercase name used on the command line.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Claude => "claude",
            Self::Codex => "codex",
            Self::Cursor => "cursor",
            Self::Devin => "devin",
            Self::Gemini => "gemini",
        }
    }

    /// The environment variable holding the project root, if the runtime sets one.
    const fn root_var(self) -> Option<&'static str> {
        match self {
            Self::Claude => Some("CLAUDE_PROJECT_DIR"),
            Self::Devin => Some("DEVIN_PROJECT_DIR"),
            Self::Gemini => Some("GEMINI_PROJECT_DIR"),
            Self::Cursor => Some("CURSOR_PROJECT_DIR"),
            Self::Codex => None,
        }
    }
}

impl fmt::Display for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Runtime {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Self::ALL
            .into_iter()
            .find(|r| {
                r.as_str().eq_ignore_ascii_case(s)
                    || (s.eq_ignore_ascii_case("claude-code") && *r == Self::Claude)
            })
            .ok_or_else(|| Error::UnknownRuntime { name: s.to_owned() })
    }
}

/// The lifecycle point an event belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// Session start or resume.
    SessionStart,
    /// A prompt was submitted.
    Prompt,
    /// A tool is about to run: the one point where a deny blocks an action.
    PreTool,
    /// A tool ran.
    PostTool,
    /// The agent wants to stop.
    Stop,
    /// The session ends.
    SessionEnd,
    /// Any other event: allowed and logged.
    Other,
}

/// What a tool call does, normalized across runtimes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tool {
    /// A shell command line.
    Shell(String),
    /// An argv executed without a shell.
    Argv(Vec<String>),
    /// Files written or edited.
    Write(Vec<String>),
    /// Files read.
    Read(Vec<String>),
    /// A search under `paths`, optionally limited to file-name `globs`.
    Search {
        /// Folders or files searched.
        paths: Vec<String>,
        /// File-name patterns the search reads.
        globs: Vec<String>,
    },
    /// An `apply_patch` envelope or a unified diff.
    Patch(String),
    /// Any other tool: the path-like string fields of its input.
    Other(Vec<String>),
}

/// One hook invocation, normalized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The runtime that sent it.
    pub runtime: Runtime,
    /// The lifecycle point.
    pub kind: EventKind,
    /// The event name as sent (`PreToolUse`, `beforeShellExecution`, `BeforeTool`, ...).
    pub name: String,
    /// The session or conversation id, when sent.
    pub session_id: Option<String>,
    /// The working directory of the action (payload `cwd`), when known.
    pub cwd: Option<String>,
    /// The project root: the runtime's variable, Cursor's workspace root, or the payload `cwd`.
    pub root: Option<String>,
    /// The root is only the payload `cwd` (no runtime variable or workspace root said otherwise), so the
    /// project may start higher up: [`crate::handle`] then looks for the nearest `.agentry/` or `.git`.
    pub root_is_cwd: bool,
    /// The tool name as sent.
    pub tool_name: Option<String>,
    /// The normalized tool call (pre/post tool events).
    pub tool: Option<Tool>,
    /// The prompt text (prompt events).
    pub prompt: Option<String>,
    /// The runtime says the agent is already continuing because of a stop hook.
    pub stop_hook_active: bool,
    /// Cursor's count of stop follow-ups so far.
    pub loop_count: Option<u64>,
}
