use std::borrow::Cow;

use agentry_types::Timestamp;
use serde::Deserialize;

use crate::pricing::Usage;

/// One usage record read from a log line: a Claude Code transcript line, an Anthropic API response, or an
/// OpenAI-style response with a `usage` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry<'a> {
    /// `message.id` (or the response `id`).
    pub message_id: Option<Cow<'a, str>>,
    /// `requestId`.
    pub request_id: Option<Cow<'a, str>>,
    /// `sessionId`.
    pub session_id: Option<Cow<'a, str>>,
    /// `agentId` of a subagent transcript.
    pub agent_id: Option<Cow<'a, str>>,
    /// `isSidechain`.
    pub sidechain: bool,
    /// The model id.
    pub model: Option<Cow<'a, str>>,
    /// When the line was written (or `created` for OpenAI responses).
    pub timestamp: Option<Timestamp>,
    /// Token counts in disjoint buckets.
    pub usage: Usage,
    /// `usage.speed` was `"fast"` (Claude's fast mode, billed at its own price row `<model>-fast`).
    pub fast: bool,
}

/// Why a line could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LineError {
    /// Not a JSON object.
    #[error("not a JSON object")]
    NotAnObject,
    /// JSON that does not parse, or fields of the wrong type.
    #[error("invalid JSON: {0}")]
    Json(String),
    /// A timestamp that does not parse.
    #[error("bad timestamp `{0}`")]
    Timestamp(String),
}

#[derive(Deserialize)]
struct Line<'a> {
    #[serde(rename = "type", default, borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(rename = "sessionId", default, borrow)]
    session_id: Option<Cow<'a, str>>,
    #[serde(rename = "requestId", default, borrow)]
    request_id: Option<Cow<'a, str>>,
    #[serde(rename = "agentId", default, borrow)]
    agent_id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    timestamp: Option<Cow<'a, str>>,
    #[serde(rename = "isSidechain", default)]
    is_sidechain: Option<bool>,
    #[serde(default, borrow)]
    message: Option<Message<'a>>,
    #[serde(default, borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    model: Option<Cow<'a, str>>,
    #[serde(default)]
    usage: Option<RawUsage>,
    #[serde(default)]
    created: Option<i64>,
}

#[derive(Deserialize)]
struct Message<'a> {
    #[serde(default, borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    model: Option<Cow<'a, str>>,
    #[serde(default)]
    usage: Option<RawUsage>,
}

#[derive(Deserialize, Default)]
struct RawUsage {
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    cache_creation_input_tokens: Option<u64>,
    cache_read_input_tokens: Option<u64>,
    cache_creation: Option<CacheCreation>,
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
    prompt_tokens_details: Option<Cached>,
    input_tokens_details: Option<Cached>,
    prompt_cache_hit_tokens: Option<u64>,
    prompt_cache_miss_tokens: Option<u64>,
    speed: Option<String>,
    server_tool_use: Option<ServerToolUse>,
    inference_geo: Option<String>,
}

#[derive(Deserialize, Default)]
struct ServerToolUse {
    web_search_requests: Option<u64>,
}

#[derive(Deserialize, Default)]
struct CacheCreation {
    ephemeral_5m_input_tokens: Option<u64>,
    ephemeral_1h_input_tokens: Option<u64>,
}

#[derive(Deserialize, Default)]
struct Cached {
    cached_tokens: Option<u64>,
}

impl RawUsage {
    fn disjoint(&self) -> Usage {
        let out = self.output_tokens.or(self.completion_tokens).unwrap_or(0);
        if let (Some(hit), Some(miss)) = (self.prompt_cache_hit_tokens, self.prompt_cache_miss_tokens) {
            return Usage {
                input_tokens: miss,
                output_tokens: out,
                cache_read_tokens: hit,
                ..Usage::default()
            };
        }
        let subset = self.prompt_tokens_details.as_ref().or(self.input_tokens_details.as_ref());
        if let Some(prompt) = self.prompt_tokens.or(subset.and(self.input_tokens)) {
            let cached = subset.and_then(|c| c.cached_tokens).unwrap_or(0).min(prompt);
            return Usage {
                input_tokens: prompt - cached,
                output_tokens: out,
                cache_read_tokens: cached,
                ..Usage::default()
            };
        }
        let total_write = self.cache_creation_input_tokens.unwrap_or(0);
        let (w5, w1) = match &self.cache_creation {
            Some(c) => {
                let w1 = c.ephemeral_1h_input_tokens.unwrap_or(0);
                let w5 = c.ephemeral_5m_input_tokens.unwrap_or(0);
                // A breakdown that sums to less than the total leaves the rest at the 5-minute rate.
                (w5 + total_write.saturating_sub(w5 + w1), w1)
            }
            None => (total_write, 0),
        };
        Usage {
            input_tokens: self.input_tokens.unwrap_or(0),
            output_tokens: out,
            cache_write_5m_tokens: w5,
            cache_write_1h_tokens: w1,
            cache_read_tokens: self.cache_read_input_tokens.unwrap_or(0),
            web_search_requests: self
                .server_tool_use
                .as_ref()
                .and_then(|s| s.web_search_requests)
                .unwrap_or(0),
            us_inference: self.inference_geo.as_deref() == Some("us"),
        }
    }
}

/// Parses one log line. `Ok(None)` for a valid line that carries no usage (user turns, summaries, hooks).
pub fn parse_line(line: &[u8]) -> Result<Option<LogEntry<'_>>, LineError> {
    let first = line.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        return Err(LineError::NotAnObject);
    }
    let parsed: Line<'_> = serde_json::from_slice(line).map_err(|e| LineError::Json(e.to_string()))?;
    entry(parsed)
}

/// Like [`parse_line`], but faster on long lines: the first `"content"` array (message text, thinking,
/// tool calls: nothing the analyzer reads) is cut out by a bracket scan that respects strings, and the
/// rest is parsed. `scratch` holds the shortened copy. Its content is checked for balanced brackets and
/// string quoting only, not as JSON.
pub fn parse_line_fast<'a>(
    line: &'a [u8],
    scratch: &'a mut Vec<u8>,
) -> Result<Option<LogEntry<'a>>, LineError> {
    const KEY: &[u8] = b"\"content\":[";
    let Some(pos) = memchr::memmem::find(line, KEY) else { return parse_line(line) };
    let open = pos + KEY.len() - 1;
    let Some(close) = matching_bracket(line, open) else { return parse_line(line) };
    scratch.clear();
    scratch.extend_from_slice(&line[..=open]);
    scratch.extend_from_slice(&line[close..]);
    parse_line(scratch)
}

/// The index of the `]` that closes the `[` at `open`, skipping strings with their escapes.
fn matching_bracket(s: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = open;
    loop {
        let j = i + memchr::memchr3(b'"', b'[', b']', &s[i..])?;
        match s[j] {
            b'[' => {
                depth += 1;
                i = j + 1;
            }
            b']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(j);
                }
                i = j + 1;
            }
            _ => {
                // Inside a string: find its closing quote, stepping over escapes.
                let mut k = j + 1;
                loop {
                    let m = k + memchr::memchr2(b'"', b'\\', &s[k..])?;
                    if s[m] == b'\\' {
                        k = m + 2;
                        if k > s.len() {
                            return None;
                        }
                    } else {
                        i = m + 1;
                        break;
                    }
                }
            }
        }
    }
}

fn entry(parsed: Line<'_>) -> Result<Option<LogEntry<'_>>, LineError> {
    let (message_id, model, usage) = match parsed.message {
        Some(Message { id, model, usage: Some(u) }) => (id, model, u),
        _ => match parsed.usage {
            Some(u) => (parsed.id, parsed.model, u),
            None => return Ok(None),
        },
    };
    if parsed.kind.as_deref().is_some_and(|k| k != "assistant" && k != "message" && k != "response") {
        return Ok(None);
    }
    let timestamp = match (&parsed.timestamp, parsed.created) {
        (Some(t), _) => Some(t.parse::<Timestamp>().map_err(|_| LineError::Timestamp(t.to_string()))?),
        (None, Some(secs)) => Some(Timestamp::from_unix_seconds(secs)),
        (None, None) => None,
    };
    Ok(Some(LogEntry {
        message_id,
        request_id: parsed.request_id,
        session_id: parsed.session_id,
        agent_id: parsed.agent_id,
        sidechain: parsed.is_sidechain.unwrap_or(false),
        model,
        timestamp,
        fast: usage.speed.as_deref() == Some("fast"),
        usage: usage.disjoint(),
    }))
}

/// Whether a line that [`parse_line`] would skip is at least framed as a JSON object. The analyzer checks
/// lines without a usage block this cheaply instead of parsing them whole.
pub(crate) fn looks_like_object(line: &[u8]) -> bool {
    let trimmed = line.trim_ascii();
    trimmed.first() == Some(&b'{') && trimmed.last() == Some(&b'}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(line: &str) -> Option<Usage> {
        parse_line(line.as_bytes()).expect("valid line").map(|e| e.usage)
    }

    fn u(input: u64, output: u64, w5: u64, w1: u64, read: u64) -> Option<Usage> {
        Some(Usage {
            input_tokens: input,
            output_tokens: output,
            cache_write_5m_tokens: w5,
            cache_write_1h_tokens: w1,
            cache_read_tokens: read,
            ..Usage::default()
        })
    }

    #[test]
    fn claude_code_assistant_line() {
        let line = r#"{"parentUuid":"a","isSidechain":false,"sessionId":"s1","message":{"id":"msg_01","model":"claude-opus-4-6","content":[{"type":"text","text":"hi \"usage\""}],"usage":{"input_tokens":3,"cache_creation_input_tokens":15005,"cache_read_input_tokens":11442,"cache_creation":{"ephemeral_5m_input_tokens":15005,"ephemeral_1h_input_tokens":0},"output_tokens":9}},"requestId":"req_1","type":"assistant","timestamp":"2026-02-12T10:00:00.000Z"}"#;
        let e = parse_line(line.as_bytes()).expect("valid").expect("usage");
        assert_eq!(e.message_id.as_deref(), Some("msg_01"));
        assert_eq!(e.request_id.as_deref(), Some("req_1"));
        assert_eq!(e.usage, u(3, 9, 15005, 0, 11442).expect("some"));
    }
    #[test]
    fn old_logs_price_writes_at_5m() {
        assert_eq!(
            usage(
                r#"{"type":"assistant","message":{"usage":{"input_tokens":1,"cache_creation_input_tokens":100,"output_tokens":2}}}"#
            ),
            u(1, 2, 100, 0, 0)
        );
    }
    #[test]
    fn partial_breakdown_remainder_is_5m() {
        assert_eq!(
            usage(
                r#"{"message":{"usage":{"cache_creation_input_tokens":100,"cache_creation":{"ephemeral_1h_input_tokens":60}}}}"#
            ),
            u(0, 0, 40, 60, 0)
        );
    }
    #[test]
    fn openai_subset() {
        assert_eq!(
            usage(
                r#"{"id":"chatcmpl-1","model":"gpt-4o","created":1700000000,"usage":{"prompt_tokens":2000,"completion_tokens":10,"prompt_tokens_details":{"cached_tokens":1536}}}"#
            ),
            u(464, 10, 0, 0, 1536)
        );
        assert_eq!(
            usage(
                r#"{"id":"resp_1","model":"gpt-5","usage":{"input_tokens":2000,"output_tokens":10,"input_tokens_details":{"cached_tokens":1024}}}"#
            ),
            u(976, 10, 0, 0, 1024)
        );
    }
    #[test]
    fn deepseek_hit_miss() {
        assert_eq!(
            usage(
                r#"{"model":"deepseek-chat","usage":{"prompt_cache_hit_tokens":64,"prompt_cache_miss_tokens":10,"completion_tokens":3}}"#
            ),
            u(10, 3, 0, 0, 64)
        );
    }
    #[test]
    fn user_lines_carry_no_usage() {
        assert_eq!(usage(r#"{"type":"user","message":{"role":"user","content":"hi"}}"#), None);
        assert_eq!(
            usage(
                r#"{"type":"user","toolUseResult":{"usage":{"input_tokens":5}},"message":{"role":"user","content":"x","usage":{"input_tokens":5}}}"#
            ),
            None
        );
    }
    #[test]
    fn fast_path_agrees() {
        let lines = [
            r#"{"message":{"id":"m","content":[{"type":"text","text":"a ] [ \\" \\\\"},[[]]],"usage":{"input_tokens":4}},"requestId":"r"}"#,
            r#"{"message":{"content":"plain","usage":{"output_tokens":2}}}"#,
            r#"{"message":{"content":[{"text":"unterminated"#,
            r#"{"message":{"content":[],"usage":{"input_tokens":1}}}"#,
        ];
        for line in lines {
            let mut scratch = Vec::new();
            let slow = parse_line(line.as_bytes()).map(|e| e.map(|e| e.usage)).map_err(|_| ());
            let fast =
                parse_line_fast(line.as_bytes(), &mut scratch).map(|e| e.map(|e| e.usage)).map_err(|_| ());
            assert_eq!(slow, fast, "{line}");
        }
    }
    #[test]
    fn malformed() {
        assert_eq!(parse_line(b"not json"), Err(LineError::NotAnObject));
        assert!(matches!(parse_line(b"{\"message\":"), Err(LineError::Json(_))));
        assert!(matches!(
            parse_line(br#"{"timestamp":"yesterday","message":{"usage":{}}}"#),
            Err(LineError::Timestamp(_))
        ));
        assert!(matches!(
            parse_line(br#"{"message":{"usage":{"input_tokens":-1}}}"#),
            Err(LineError::Json(_))
        ));
    }
}
