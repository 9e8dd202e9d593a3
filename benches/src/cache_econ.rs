//! Claude Code transcripts for the `agentry-cache-econ` analyzer benchmark.
//!
//! The generator writes `projects/<project>/<session>.jsonl` and `<session>/subagents/agent-<id>.jsonl`
//! files shaped like Claude Code 2.x transcripts: user lines with tool results, one assistant line per
//! content block with the same `message.id` and `requestId`, streaming placeholders for `output_tokens` on
//! all but the last line, 1-hour cache writes on the main chain and 5-minute ones on subagents, idle gaps
//! that expire the cache, occasional prefix breaks and resumed sessions that copy earlier lines into a new
//! file. It also returns the ground truth the analyzer must find.

use std::{
    fmt::Write as _,
    io::{self, BufWriter, Write},
    path::Path,
};

use agentry_types::Timestamp;

use crate::Rng;

/// What the generated corpus contains, counted at generation time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Truth {
    /// Distinct requests (message id, request id).
    pub requests: u64,
    /// Lines written.
    pub lines: u64,
    /// Bytes written.
    pub bytes: u64,
    /// Files written.
    pub files: u64,
    /// Final token sums of distinct requests.
    pub input_tokens: u64,
    /// See `input_tokens`.
    pub output_tokens: u64,
    /// See `input_tokens`.
    pub cache_write_5m_tokens: u64,
    /// See `input_tokens`.
    pub cache_write_1h_tokens: u64,
    /// See `input_tokens`.
    pub cache_read_tokens: u64,
    /// Output tokens counted when each request keeps its first streamed line (what first-seen dedup finds).
    pub first_line_output_tokens: u64,
}

const WORDS: &[&str] = &[
    "fn",
    "let",
    "mut",
    "impl",
    "struct",
    "cargo",
    "test",
    "error",
    "warning",
    "the",
    "cache",
    "prefix",
    "token",
    "session",
    "file",
    "line",
    "return",
    "match",
    "Some",
    "None",
    "Ok",
    "Err",
    "self",
    "path",
    "src/lib.rs",
    "assert_eq!",
    "{",
    "}",
    "(",
    ")",
    "\\n",
    "\\\"quoted\\\"",
    "\\t",
    "é",
    "→",
    "0x1f",
    "42",
    "pub",
    "use",
    "mod",
];

fn uuid(rng: &mut Rng) -> String {
    let a = rng.next_u64();
    let b = rng.next_u64();
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        b >> 52,
        b & 0xffff_ffff_ffff
    )
}

fn id(rng: &mut Rng, prefix: &str) -> String {
    const ALPHA: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut s = String::from(prefix);
    for _ in 0..24 {
        s.push(ALPHA[rng.below(ALPHA.len() as u64) as usize] as char);
    }
    s
}

fn text(rng: &mut Rng, bytes: usize, out: &mut String) {
    let start = out.len();
    while out.len() - start < bytes {
        out.push_str(WORDS[rng.below(WORDS.len() as u64) as usize]);
        out.push(' ');
    }
}

struct Session<'a> {
    session_id: String,
    agent_id: Option<String>,
    cwd: &'a str,
    model: &'a str,
    one_hour: bool,
}

struct Writer<W: Write> {
    out: W,
    truth: Truth,
    line: String,
}

impl<W: Write> Writer<W> {
    fn emit(&mut self) -> io::Result<()> {
        self.line.push('\n');
        self.out.write_all(self.line.as_bytes())?;
        self.truth.lines += 1;
        self.truth.bytes += self.line.len() as u64;
        self.line.clear();
        Ok(())
    }
}

fn envelope(s: &Session<'_>, parent: &str, uuid: &str, out: &mut String) {
    let side = s.agent_id.is_some();
    let _ = write!(
        out,
        r#"{{"parentUuid":"{parent}","isSidechain":{side},"userType":"external","cwd":"{}","sessionId":"{}","version":"2.1.39","gitBranch":"main","#,
        s.cwd, s.session_id
    );
    if let Some(a) = &s.agent_id {
        let _ = write!(out, r#""agentId":"{a}","#);
    }
    let _ = write!(out, r#""uuid":"{uuid}","#);
}

/// Writes one transcript (`turns` requests) and returns the lines of its first `copy` assistant responses,
/// for a resumed session to repeat.
fn transcript<W: Write>(
    rng: &mut Rng,
    w: &mut Writer<W>,
    s: &Session<'_>,
    turns: u64,
    start: &mut i64,
    copy: usize,
) -> io::Result<Vec<String>> {
    let mut copied = Vec::new();
    let system = 12_000 + rng.below(14_000);
    let mut prefix = 0u64;
    let mut parent = uuid(rng);
    let mut t = *start;
    for turn in 0..turns {
        // The user's message or tool result.
        let u = uuid(rng);
        envelope(s, &parent, &u, &mut w.line);
        let _ = write!(
            w.line,
            r#""type":"user","timestamp":"{}","message":{{"role":"user","content":[{{"tool_use_id":"{}","type":"tool_result","content":""#,
            Timestamp::from_unix_millis(t / 1000),
            id(rng, "toolu_01")
        );
        let spread = if rng.below(10) == 0 { 30_000 } else { 6_000 };
        let size = 300 + rng.below(spread) as usize;
        text(rng, size, &mut w.line);
        w.line.push_str(r#""}]},"toolUseResult":{"stdout":"ok","stderr":"","interrupted":false}}"#);
        w.emit()?;
        parent = u;
        let tail = 200 + rng.below(3_000) + (size as u64) / 4;
        // The request's cache usage follows from the gap and what changed.
        let gap_kind = rng.below(100);
        let gap_us: i64 = match gap_kind {
            0..=84 => 2_000_000 + rng.below(60_000_000) as i64,
            85..=94 => 60_000_000 + rng.below(29 * 60_000_000) as i64,
            _ => 30 * 60_000_000 + rng.below(150 * 60_000_000) as i64,
        };
        t += gap_us;
        let ttl_us: i64 = if s.one_hour { 3_600_000_000 } else { 300_000_000 };
        let (read, write) = if turn == 0 || prefix + tail > 180_000 {
            (0, system + tail)
        } else if gap_us > ttl_us {
            (0, prefix + tail)
        } else if rng.below(50) == 0 {
            (system, prefix - system + tail)
        } else {
            (prefix, tail)
        };
        prefix = read + write;
        let input = 1 + rng.below(9);
        let output = 20 + rng.below(1_500);
        let blocks = 1 + rng.below(4);
        let msg = id(rng, "msg_01");
        let req = id(rng, "req_011C");
        let (w5, w1) = if s.one_hour { (0, write) } else { (write, 0) };
        let truth = &mut w.truth;
        truth.requests += 1;
        truth.input_tokens += input;
        truth.output_tokens += output;
        truth.cache_write_5m_tokens += w5;
        truth.cache_write_1h_tokens += w1;
        truth.cache_read_tokens += read;
        truth.first_line_output_tokens += if blocks == 1 { output } else { 1 + (output % 7) };
        for b in 0..blocks {
            let a = uuid(rng);
            envelope(s, &parent, &a, &mut w.line);
            let out_tokens = if b + 1 == blocks { output } else { 1 + (output % 7) };
            let _ = write!(
                w.line,
                r#""message":{{"model":"{}","id":"{msg}","type":"message","role":"assistant","content":["#,
                s.model
            );
            match (b + 1 == blocks, b % 2) {
                (false, 0) => {
                    w.line.push_str(r#"{"type":"thinking","thinking":""#);
                    let n = 200 + rng.below(1_500) as usize;
                    text(rng, n, &mut w.line);
                    w.line.push_str(r#"","signature":"REDACTED"}"#);
                }
                (false, _) => {
                    w.line.push_str(r#"{"type":"text","text":""#);
                    let n = 50 + rng.below(600) as usize;
                    text(rng, n, &mut w.line);
                    w.line.push_str(r#""}"#);
                }
                (true, _) => {
                    let _ = write!(
                        w.line,
                        r#"{{"type":"tool_use","id":"{}","name":"Bash","input":{{"command":""#,
                        id(rng, "toolu_01")
                    );
                    let n = 30 + rng.below(300) as usize;
                    text(rng, n, &mut w.line);
                    w.line.push_str(r#"","description":"run"}}"#);
                }
            }
            let _ = write!(
                w.line,
                r#"],"stop_reason":null,"stop_sequence":null,"usage":{{"input_tokens":{input},"cache_creation_input_tokens":{write},"cache_read_input_tokens":{read},"cache_creation":{{"ephemeral_5m_input_tokens":{w5},"ephemeral_1h_input_tokens":{w1}}},"output_tokens":{out_tokens},"service_tier":"standard"}}}},"requestId":"{req}","type":"assistant","timestamp":"{}"}}"#,
                Timestamp::from_unix_millis(t / 1000 + b as i64)
            );
            if (turn as usize) < copy {
                copied.push(w.line.clone());
            }
            w.emit()?;
            parent = a;
        }
        t += 5_000_000 + rng.below(40_000_000) as i64;
    }
    *start = t;
    Ok(copied)
}

/// Writes a corpus of at least `target_bytes` under `root/projects` and returns its ground truth.
pub fn write_corpus(root: &Path, seed: u64, target_bytes: u64) -> io::Result<Truth> {
    let mut rng = Rng::new(seed);
    let mut truth = Truth::default();
    let mut clock: i64 = 1_767_600_000_000_000; // 2026-01-05
    let models = ["claude-opus-4-6", "claude-sonnet-4-5-20250929", "claude-opus-4-6"];
    let mut pending_copy: Option<Vec<String>> = None;
    let mut n = 0u64;
    while truth.bytes < target_bytes {
        let project = format!("-home-USER-proj{}", n % 7);
        let dir = root.join("projects").join(&project);
        std::fs::create_dir_all(&dir)?;
        let session_id = uuid(&mut rng);
        let cwd = format!("/home/USER/proj{}", n % 7);
        let file = std::fs::File::create(dir.join(format!("{session_id}.jsonl")))?;
        let mut w = Writer { out: BufWriter::new(file), truth: Truth::default(), line: String::new() };
        // A resumed session starts with copies of an earlier session's first responses.
        if let Some(lines) = pending_copy.take() {
            for l in lines {
                w.line = l;
                w.emit()?;
            }
        }
        w.line.push_str(r#"{"type":"summary","summary":"Generated session","leafUuid":""#);
        w.line.push_str(&uuid(&mut rng));
        w.line.push_str(r#""}"#);
        w.emit()?;
        let s = Session {
            session_id: session_id.clone(),
            agent_id: None,
            cwd: &cwd,
            model: models[(n % 3) as usize],
            one_hour: true,
        };
        let turns = 20 + rng.below(200);
        let copy = if rng.below(20) == 0 { 3 } else { 0 };
        let mut start = clock;
        let copied = transcript(&mut rng, &mut w, &s, turns, &mut start, copy)?;
        if !copied.is_empty() {
            pending_copy = Some(copied);
        }
        w.out.flush()?;
        add(&mut truth, &w.truth);
        for _ in 0..rng.below(3) {
            let agent = format!("{:07x}", rng.next_u64() & 0xfff_ffff);
            let sub_dir = dir.join(&session_id).join("subagents");
            std::fs::create_dir_all(&sub_dir)?;
            let file = std::fs::File::create(sub_dir.join(format!("agent-a{agent}.jsonl")))?;
            let mut w = Writer { out: BufWriter::new(file), truth: Truth::default(), line: String::new() };
            let s = Session {
                session_id: session_id.clone(),
                agent_id: Some(format!("a{agent}")),
                cwd: &cwd,
                model: "claude-haiku-4-5-20251001",
                one_hour: false,
            };
            let mut sub_start = clock + 60_000_000;
            let turns = 5 + rng.below(30);
            transcript(&mut rng, &mut w, &s, turns, &mut sub_start, 0)?;
            w.out.flush()?;
            add(&mut truth, &w.truth);
        }
        clock = start + rng.below(3 * 3_600_000_000) as i64;
        n += 1;
    }
    Ok(truth)
}

fn add(total: &mut Truth, part: &Truth) {
    total.requests += part.requests;
    total.lines += part.lines;
    total.bytes += part.bytes;
    total.files += 1;
    total.input_tokens += part.input_tokens;
    total.output_tokens += part.output_tokens;
    total.cache_write_5m_tokens += part.cache_write_5m_tokens;
    total.cache_write_1h_tokens += part.cache_write_1h_tokens;
    total.cache_read_tokens += part.cache_read_tokens;
    total.first_line_output_tokens += part.first_line_output_tokens;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_sized() {
        let a = tempfile::tempdir().expect("temp dir");
        let b = tempfile::tempdir().expect("temp dir");
        let ta = write_corpus(a.path(), 3, 300_000).expect("writes");
        let tb = write_corpus(b.path(), 3, 300_000).expect("writes");
        assert_eq!(ta, tb);
        assert!(ta.bytes >= 300_000 && ta.requests > 0);
    }
}
