//! Reading one log file: lines found with memchr, usage lines parsed, consecutive lines of one streamed
//! response merged.

use std::{
    collections::HashMap,
    hash::{DefaultHasher, Hash, Hasher},
    io::Read,
    path::{Component, Path, PathBuf},
};

use memchr::memmem;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::MALFORMED_KEPT;
use crate::{
    pricing::Usage,
    scan::{looks_like_object, parse_line_fast},
};

/// Read size for streaming a log file.
const CHUNK: usize = 1 << 22;

/// One request as read from a file (several lines of a streamed response merged).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Record {
    pub(crate) key: Option<u128>,
    /// A hash of `message.id` alone: a subagent's replay of its parent's message keeps it.
    pub(crate) message: Option<u64>,
    /// Microseconds since the Unix epoch.
    pub(crate) ts: Option<i64>,
    pub(crate) lineage: u32,
    pub(crate) session: u32,
    pub(crate) model: u32,
    /// The project folder (the path component after `projects`).
    pub(crate) project: u32,
    pub(crate) sidechain: bool,
    pub(crate) usage: Usage,
    pub(crate) file: u32,
    pub(crate) line: u64,
    pub(crate) last_line: u64,
    pub(crate) merged: u64,
    pub(crate) user_lines_before: u64,
}

#[derive(Default, Clone, Serialize, Deserialize)]
pub(crate) struct FileScan {
    pub(crate) records: Vec<Record>,
    pub(crate) strings: Vec<String>,
    #[serde(skip)]
    lookup: HashMap<String, u32>,
    pub(crate) malformed: Vec<(u64, String)>,
    pub(crate) malformed_count: u64,
    pub(crate) lines: u64,
    pub(crate) bytes: u64,
    pub(crate) error: Option<String>,
    /// Index of the file's project name in `strings`.
    pub(super) project: u32,
    /// A line showed the file is a log this crate reads (a user line, a `sessionId`, a summary, a
    /// Codex rollout's object line).
    pub(super) known: bool,
    /// JSON object lines without usage seen before the file showed it is a transcript.
    foreign_lines: u64,
}

impl FileScan {
    /// The scan of a file that could not be read.
    pub(super) fn failed(error: String) -> Self {
        Self { error: Some(error), ..Self::default() }
    }

    /// Rebuilds the string index after deserialization.
    pub(super) fn reindex(&mut self) {
        self.lookup = self.strings.iter().enumerate().map(|(i, s)| (s.clone(), i as u32)).collect();
    }

    /// Appends the scan of the lines that follow this one's in the same file.
    pub(super) fn append(&mut self, other: FileScan) {
        let offset = self.lines;
        let map: Vec<u32> = other.strings.iter().map(|s| self.intern(s)).collect();
        let at = |i: u32| map.get(i as usize).copied().unwrap_or(i);
        for mut r in other.records {
            (r.lineage, r.session, r.model, r.project) =
                (at(r.lineage), at(r.session), at(r.model), at(r.project));
            r.line += offset;
            r.last_line += offset;
            self.records.push(r);
        }
        for (line, reason) in other.malformed {
            if self.malformed.len() < MALFORMED_KEPT {
                self.malformed.push((line + offset, reason));
            }
        }
        self.malformed_count += other.malformed_count;
        self.lines += other.lines;
        self.bytes += other.bytes;
        self.known |= other.known;
        self.foreign_lines += other.foreign_lines;
        self.error = self.error.take().or(other.error);
    }

    /// JSON lines, but none this crate reads: another tool's log format (Codex CLI, Gemini CLI, ...).
    pub(crate) fn unrecognized(&self) -> bool {
        self.records.is_empty() && !self.known && self.foreign_lines > 0
    }
}

impl FileScan {
    pub(super) fn intern(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.lookup.get(s) {
            return i;
        }
        let i = self.strings.len() as u32;
        self.strings.push(s.to_owned());
        self.lookup.insert(s.to_owned(), i);
        i
    }
}

pub(super) fn key_of(message_id: &str, request_id: &str) -> u128 {
    let mut a = DefaultHasher::new();
    (0u8, message_id, request_id).hash(&mut a);
    let mut b = DefaultHasher::new();
    (1u8, message_id, request_id).hash(&mut b);
    (u128::from(a.finish()) << 64) | u128::from(b.finish())
}

/// The hash of a message id alone, for [`Record::message`].
fn message_key(message_id: &str) -> u64 {
    let mut h = DefaultHasher::new();
    (2u8, message_id).hash(&mut h);
    h.finish()
}

pub(crate) struct Finders {
    usage: memmem::Finder<'static>,
    user: memmem::Finder<'static>,
    session: memmem::Finder<'static>,
    summary: memmem::Finder<'static>,
}

#[allow(clippy::too_many_arguments)]
fn scan_line(
    line: &[u8],
    number: u64,
    file: u32,
    f: &Finders,
    path_key: &str,
    out: &mut FileScan,
    users: &mut u64,
    scratch: &mut Vec<u8>,
) {
    if line.iter().all(u8::is_ascii_whitespace) {
        return;
    }
    if f.usage.find(line).is_none() {
        if !looks_like_object(line) {
            out.malformed_count += 1;
            if out.malformed.len() < MALFORMED_KEPT {
                out.malformed.push((number, "not a JSON object".to_owned()));
            }
        } else if f.user.find(line).is_some() {
            *users += 1;
            out.known = true;
        } else if !out.known {
            out.known = f.session.find(line).is_some() || f.summary.find(line).is_some();
            out.foreign_lines += u64::from(!out.known);
        }
        return;
    }
    let entry = match parse_line_fast(line, scratch) {
        Ok(Some(e)) => e,
        Ok(None) => {
            if f.user.find(line).is_some() {
                *users += 1;
            }
            return;
        }
        Err(e) => {
            out.malformed_count += 1;
            if out.malformed.len() < MALFORMED_KEPT {
                out.malformed.push((number, e.to_string()));
            }
            return;
        }
    };
    // Claude Code's `<synthetic>` lines (an interrupted or refused turn) carry no usage: not a request.
    if entry.model.as_deref() == Some("<synthetic>") && entry.usage.total_tokens() == 0 {
        return;
    }
    let key = match (&entry.message_id, &entry.request_id) {
        (Some(m), Some(r)) => Some(key_of(m, r)),
        _ => None,
    };
    let session = entry.session_id.as_deref().unwrap_or(path_key).to_owned();
    let lineage_name = if entry.sidechain {
        format!("{session}\u{0}{}", entry.agent_id.as_deref().unwrap_or(path_key))
    } else {
        session.clone()
    };
    let model = entry.model.as_deref().unwrap_or("unknown");
    // Fast mode has prices of its own, stored as the row `<model>-fast` (the name ccusage shows too).
    let model = if entry.fast { format!("{model}-fast") } else { model.to_owned() };
    let (lineage, session, model) = (out.intern(&lineage_name), out.intern(&session), out.intern(&model));
    // Consecutive lines of one streamed response: merge here already, the global pass finishes the job.
    if let Some(last) = out.records.last_mut()
        && key.is_some()
        && last.key == key
        && last.file == file
    {
        last.last_line = number;
        last.merged += 1;
        if entry.usage.total_tokens() > last.usage.total_tokens() {
            last.usage = entry.usage;
            last.model = model;
        }
        return;
    }
    out.records.push(Record {
        key,
        message: entry.message_id.as_deref().map(message_key),
        ts: entry.timestamp.map(|t| t.unix_micros()),
        lineage,
        session,
        model,
        project: out.project,
        sidechain: entry.sidechain,
        usage: entry.usage,
        file,
        line: number,
        last_line: number,
        merged: 0,
        user_lines_before: *users,
    });
}

/// Scans one file. `buf` is reused from file to file on the same thread, so its pages are faulted in and
/// zeroed once, not per file; it grows to the file size (up to one chunk) or to the longest line.
pub(crate) fn scan_reader(
    mut reader: impl Read,
    size_hint: u64,
    file: u32,
    path_key: &str,
    f: &Finders,
    buf: &mut Vec<u8>,
) -> FileScan {
    let mut out = FileScan::default();
    out.project = out.intern(&project_of(Path::new(path_key)));
    let want = (size_hint as usize).saturating_add(1).clamp(4096, CHUNK);
    if buf.len() < want {
        buf.resize(want, 0);
    }
    let mut filled = 0usize;
    let mut number = 0u64;
    let mut users = 0u64;
    let mut scratch = Vec::new();
    let mut codex = super::codex::is_rollout(path_key).then(super::codex::State::default);
    let mut line_fn = |line: &[u8], number: u64, out: &mut FileScan| match &mut codex {
        Some(st) => super::codex::scan_line(line, number, file, path_key, out, st),
        None => scan_line(line, number, file, f, path_key, out, &mut users, &mut scratch),
    };
    loop {
        if filled == buf.len() {
            buf.resize(buf.len() * 2, 0);
        }
        let n = match reader.read(&mut buf[filled..]) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                out.error = Some(e.to_string());
                break;
            }
        };
        out.bytes += n as u64;
        let end = filled + n;
        let mut start = 0;
        for nl in memchr::memchr_iter(b'\n', &buf[filled..end]) {
            let stop = filled + nl;
            number += 1;
            line_fn(&buf[start..stop], number, &mut out);
            start = stop + 1;
        }
        if n == 0 {
            if start < end {
                number += 1;
                let rest = buf[start..end].to_vec();
                line_fn(&rest, number, &mut out);
            }
            break;
        }
        buf.copy_within(start..end, 0);
        filled = end - start;
    }
    out.lines = number;
    out
}

/// The project a transcript belongs to: the folder right under `projects`, as Claude Code names it
/// (`-home-ada-src-shop` for `/home/ada/src/shop`), or `unknown`.
pub(crate) fn project_of(path: &Path) -> String {
    let mut parts = path.components().skip_while(|c| *c != Component::Normal("projects".as_ref()));
    parts
        .nth(1)
        .filter(|_| path.components().count() > 2)
        .and_then(|c| c.as_os_str().to_str())
        .filter(|p| !p.trim().is_empty() && !p.ends_with(".jsonl"))
        .unwrap_or("unknown")
        .to_owned()
}

impl Finders {
    pub(crate) fn new() -> Self {
        Self {
            usage: memmem::Finder::new(b"\"usage\"").into_owned(),
            user: memmem::Finder::new(b"\"type\":\"user\"").into_owned(),
            session: memmem::Finder::new(b"\"sessionId\"").into_owned(),
            summary: memmem::Finder::new(b"\"type\":\"summary\"").into_owned(),
        }
    }
}

/// Scans the files in parallel; `progress` is called with each file's size once it is done.
pub(crate) fn scan_files(files: &[PathBuf], progress: Option<&(dyn Fn(u64) + Sync)>) -> Vec<FileScan> {
    let finders = Finders::new();
    files
        .par_iter()
        .enumerate()
        .map_init(Vec::new, |buf, (i, path)| {
            if super::gemini::is_chat(path) {
                let scan = super::gemini::scan(path, i as u32);
                if let Some(p) = progress {
                    p(scan.bytes);
                }
                return scan;
            }
            let key = path.to_string_lossy();
            let scan = match std::fs::File::open(path) {
                Ok(file) => {
                    let size = file.metadata().map_or(CHUNK as u64, |m| m.len());
                    scan_reader(file, size, i as u32, &key, &finders, buf)
                }
                Err(e) => FileScan { error: Some(e.to_string()), ..FileScan::default() },
            };
            if let Some(p) = progress {
                p(scan.bytes);
            }
            scan
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(path: &str, project: &str) {
        assert_eq!(project_of(Path::new(path)), project, "{path}");
    }

    #[test]
    fn project_is_the_folder_under_projects() {
        check("cfg/projects/-home-ada-src-shop/0b1c.jsonl", "-home-ada-src-shop");
        check("cfg/projects/-home-ada-src-shop/0b1c/subagents/agent-1.jsonl", "-home-ada-src-shop");
        check("cfg/projects/loose.jsonl", "unknown");
        check("log.jsonl", "unknown");
    }
}
