//! OpenAI Codex CLI session logs: `${CODEX_HOME:-~/.codex}/sessions/YYYY/MM/DD/rollout-*.jsonl`.
//!
//! Facts of the format (from ccusage's Codex adapter notes and Codex's own rollouts): every line has a
//! top-level `timestamp`, a `type` and a `payload`. `session_meta` carries the session `id` and `cwd`;
//! `turn_context` the `model` of the turns that follow; an `event_msg` whose payload `type` is
//! `token_count` carries `info.last_token_usage` (this turn) and `info.total_token_usage` (the session so
//! far). `input_tokens` includes `cached_input_tokens`, and `output_tokens` includes
//! `reasoning_output_tokens`. The same totals can be reported twice (a token count repeated with a rate-limit
//! update); a repeat adds nothing.

use std::borrow::Cow;

use agentry_types::Timestamp;
use memchr::memmem;
use serde::Deserialize;

use super::{
    MALFORMED_KEPT,
    scan_file::{FileScan, Record},
};
use crate::{pricing::Usage, scan::looks_like_object};

/// Whether a file is a Codex rollout, by its name.
pub(super) fn is_rollout(path: &str) -> bool {
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    name.starts_with("rollout-") && name.ends_with(".jsonl")
}

/// What a rollout's earlier lines set for the later ones.
#[derive(Default)]
pub(super) struct State {
    model: Option<u32>,
    session: Option<u32>,
    total: Option<(u64, u64, u64)>,
}

#[derive(Deserialize)]
struct Line<'a> {
    #[serde(borrow, default)]
    timestamp: Option<Cow<'a, str>>,
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    payload: Option<Payload<'a>>,
}

#[derive(Deserialize)]
struct Payload<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    cwd: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    model: Option<Cow<'a, str>>,
    #[serde(default)]
    info: Option<Info>,
}

#[derive(Deserialize)]
struct Info {
    #[serde(default)]
    last_token_usage: Option<Tokens>,
    #[serde(default)]
    total_token_usage: Option<Tokens>,
}

#[derive(Deserialize, Clone, Copy)]
struct Tokens {
    #[serde(default)]
    input_tokens: u64,
    #[serde(default)]
    cached_input_tokens: u64,
    #[serde(default)]
    output_tokens: u64,
}

impl Tokens {
    fn key(self) -> (u64, u64, u64) {
        (self.input_tokens, self.cached_input_tokens, self.output_tokens)
    }
}

/// The lines worth parsing: everything else in a rollout (messages, tool calls) is only checked to be an
/// object.
fn wanted(line: &[u8]) -> bool {
    ["\"token_count\"", "\"turn_context\"", "\"session_meta\""]
        .iter()
        .any(|m| memmem::find(line, m.as_bytes()).is_some())
}

fn malformed(out: &mut FileScan, number: u64, reason: String) {
    out.malformed_count += 1;
    if out.malformed.len() < MALFORMED_KEPT {
        out.malformed.push((number, reason));
    }
}

pub(super) fn scan_line(
    line: &[u8],
    number: u64,
    file: u32,
    path_key: &str,
    out: &mut FileScan,
    st: &mut State,
) {
    if line.iter().all(u8::is_ascii_whitespace) {
        return;
    }
    if !looks_like_object(line) {
        return malformed(out, number, "not a JSON object".to_owned());
    }
    out.known = true;
    if !wanted(line) {
        return;
    }
    let parsed: Line<'_> = match serde_json::from_slice(line) {
        Ok(l) => l,
        Err(e) => return malformed(out, number, format!("invalid JSON: {e}")),
    };
    let Some(payload) = parsed.payload else { return };
    match (parsed.kind.as_deref(), payload.kind.as_deref()) {
        (Some("session_meta"), _) => {
            if let Some(id) = payload.id.as_deref() {
                st.session = Some(out.intern(id));
            }
            // Named as Claude Code names a project's folder, so one project's Claude and Codex use meet.
            if let Some(cwd) = payload.cwd.as_deref() {
                out.project = out.intern(&cwd.replace(['/', '\\', '.', ':'], "-"));
            }
        }
        (Some("turn_context"), _) => {
            if let Some(m) = payload.model.as_deref() {
                st.model = Some(out.intern(m));
            }
        }
        (Some("event_msg"), Some("token_count")) => {
            let Some(info) = payload.info else { return };
            if let Some(total) = info.total_token_usage {
                if st.total == Some(total.key()) {
                    return;
                }
                st.total = Some(total.key());
            }
            let Some(t) = info.last_token_usage else { return };
            let ts = match parsed.timestamp.as_deref().map(str::parse::<Timestamp>) {
                Some(Ok(t)) => Some(t.unix_micros()),
                Some(Err(_)) => return malformed(out, number, "bad timestamp".to_owned()),
                None => None,
            };
            let cached = t.cached_input_tokens.min(t.input_tokens);
            let usage = Usage {
                input_tokens: t.input_tokens - cached,
                output_tokens: t.output_tokens,
                cache_read_tokens: cached,
                ..Usage::default()
            };
            // Sessions from before Codex logged its model are priced as gpt-5, as ccusage does.
            let model = match st.model {
                Some(m) => m,
                None => out.intern("gpt-5"),
            };
            let session = match st.session {
                Some(s) => s,
                None => out.intern(path_key),
            };
            out.records.push(Record {
                key: None,
                message: None,
                ts,
                lineage: session,
                session,
                model,
                project: out.project,
                sidechain: false,
                usage,
                file,
                line: number,
                last_line: number,
                merged: 0,
                user_lines_before: 0,
            });
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rollouts_are_told_by_name() {
        assert!(is_rollout("home/.codex/sessions/2026/11/20/rollout-2026-11-20T10-00-00-abc.jsonl"));
        assert!(!is_rollout("projects/x/rollout.json"));
        assert!(!is_rollout("projects/-home-ada/0b1c.jsonl"));
    }
}
