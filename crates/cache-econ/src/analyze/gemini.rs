//! Gemini CLI chat files: `${GEMINI_DATA_DIR:-~/.gemini/tmp}/<project hash>/chats/session-*.json`, one JSON
//! document per session.
//!
//! Facts of the format (from ccusage's Gemini adapter): the document has a `sessionId` and `messages`; a
//! message of `type` `gemini` has an `id`, a `timestamp`, a `model` and `tokens` (`input`, `output`,
//! `cached`, `thoughts`, `tool`, `total`). `input` includes `cached` when `total` equals
//! `input + output + thoughts + tool`; otherwise it does not. Thoughts are billed as output, tool-use prompt
//! tokens as input.

use std::path::Path;

use agentry_types::Timestamp;
use serde::Deserialize;

use super::scan_file::{FileScan, Record, key_of, project_of};
use crate::pricing::Usage;

/// Whether a file is a Gemini CLI chat, by its place: a `.json` file in a folder named `chats`.
pub(crate) fn is_chat(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "json")
        && path.parent().and_then(Path::file_name).is_some_and(|d| d == "chats")
}

#[derive(Deserialize)]
struct Chat {
    #[serde(rename = "sessionId", default)]
    session_id: Option<String>,
    #[serde(default)]
    messages: Vec<Message>,
}

#[derive(Deserialize)]
struct Message {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    timestamp: Option<String>,
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    tokens: Option<Tokens>,
}

#[derive(Deserialize, Default, Clone, Copy)]
struct Tokens {
    #[serde(default)]
    input: u64,
    #[serde(default)]
    output: u64,
    #[serde(default)]
    cached: u64,
    #[serde(default)]
    thoughts: u64,
    #[serde(default)]
    tool: u64,
    #[serde(default)]
    total: Option<u64>,
}

impl Tokens {
    fn usage(self) -> Usage {
        let inclusive = self.input + self.output + self.thoughts + self.tool;
        let input = if self.cached > 0 && self.total == Some(inclusive) {
            self.input.saturating_sub(self.cached)
        } else {
            self.input
        };
        Usage {
            input_tokens: input + self.tool,
            output_tokens: self.output + self.thoughts,
            cache_read_tokens: self.cached,
            ..Usage::default()
        }
    }
}

/// Scans one chat file whole.
pub(crate) fn scan(path: &Path, file: u32) -> FileScan {
    let key = path.to_string_lossy();
    let mut out = FileScan::default();
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => return FileScan::failed(e.to_string()),
    };
    out.bytes = bytes.len() as u64;
    out.lines = bytes.iter().filter(|&&b| b == b'\n').count() as u64;
    // The project is the folder holding `chats`: Gemini CLI's hash of the project's path.
    let project = path.parent().and_then(Path::parent).and_then(Path::file_name);
    out.project = out.intern(&project.map_or_else(|| project_of(path), |p| p.to_string_lossy().into_owned()));
    let chat: Chat = match serde_json::from_slice(&bytes) {
        Ok(c) => c,
        Err(e) => {
            out.malformed_count += 1;
            out.malformed.push((e.line() as u64, format!("invalid Gemini CLI chat: {e}")));
            return out;
        }
    };
    out.known = true;
    let session = out.intern(chat.session_id.as_deref().unwrap_or(&key));
    for (i, m) in chat.messages.iter().enumerate() {
        let (Some("gemini"), Some(tokens)) = (m.kind.as_deref(), m.tokens) else { continue };
        let usage = tokens.usage();
        if usage.total_tokens() == 0 {
            continue;
        }
        let ts = match m.timestamp.as_deref().map(str::parse::<Timestamp>) {
            Some(Ok(t)) => Some(t.unix_micros()),
            Some(Err(_)) => {
                out.malformed_count += 1;
                out.malformed.push((0, format!("message {}: bad timestamp", i + 1)));
                continue;
            }
            None => None,
        };
        let model = out.intern(m.model.as_deref().unwrap_or("unknown"));
        let session_name = chat.session_id.as_deref().unwrap_or(&key);
        out.records.push(Record {
            key: m.id.as_deref().map(|id| key_of(id, session_name)),
            message: None,
            ts,
            lineage: session,
            session,
            model,
            project: out.project,
            sidechain: false,
            usage,
            file,
            line: i as u64 + 1,
            last_line: i as u64 + 1,
            merged: 0,
            user_lines_before: 0,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(t: Tokens, input: u64, read: u64, output: u64) {
        let u = t.usage();
        assert_eq!((u.input_tokens, u.cache_read_tokens, u.output_tokens), (input, read, output));
    }

    #[test]
    fn cached_tokens_leave_the_input_only_when_it_included_them() {
        let t =
            Tokens { input: 14000, output: 800, cached: 11000, thoughts: 200, tool: 0, total: Some(15000) };
        check(t, 3000, 11000, 1000);
        check(Tokens { total: Some(26000), ..t }, 14000, 11000, 1000);
        check(Tokens { tool: 40, total: None, ..t }, 14040, 11000, 1000);
    }

    #[test]
    fn chats_are_told_by_place() {
        assert!(is_chat(Path::new("home/.gemini/tmp/abc/chats/session-1.json")));
        assert!(!is_chat(Path::new("home/.gemini/tmp/abc/logs.json")));
        assert!(!is_chat(Path::new("projects/p/chats/s.jsonl")));
    }
}
