//! A small on-disk cache of file scans, for callers that read the same growing files again and again (the
//! statusline, on every update). A file whose identity is unchanged and that only grew is read from where
//! the previous run stopped: the cached requests of its earlier lines are kept, and only the new complete
//! lines are scanned. A trailing line without its newline yet is scanned for this run but not cached.

use std::{
    collections::HashMap,
    io::{Read, Seek, SeekFrom},
    path::{Path, PathBuf},
};

use serde::{Deserialize, Serialize};

use super::{
    codex,
    scan_file::{FileScan, Finders, scan_reader},
};

/// What the cache knows of one file.
#[derive(Clone, Serialize, Deserialize)]
struct Entry {
    /// The file's identity (device and inode on Unix), so a replaced file is read again from the start.
    id: (u64, u64),
    /// Bytes of complete lines scanned.
    len: u64,
    scan: FileScan,
}

/// Cached scans by file, as stored.
#[derive(Default, Serialize, Deserialize)]
pub(crate) struct ScanCache {
    version: u32,
    files: HashMap<PathBuf, Entry>,
}

/// Bumped whenever `Record` or `FileScan` change shape, so an old cache is ignored rather than misread.
const VERSION: u32 = 1;

#[cfg(unix)]
fn identity(meta: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}

#[cfg(not(unix))]
fn identity(meta: &std::fs::Metadata) -> (u64, u64) {
    // Without inodes, a file's creation time stands for its identity.
    let created = meta.created().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
    (0, created.map_or(0, |d| d.as_nanos() as u64))
}

impl ScanCache {
    /// The cache stored at `path`, or an empty one when it is missing, unreadable or of another version.
    pub(crate) fn read(path: &Path) -> Self {
        let Ok(bytes) = std::fs::read(path) else { return Self::default() };
        match serde_json::from_slice::<Self>(&bytes) {
            Ok(mut cache) if cache.version == VERSION => {
                for e in cache.files.values_mut() {
                    e.scan.reindex();
                }
                cache
            }
            _ => Self::default(),
        }
    }

    /// Stores the cache at `path`, through a temporary file renamed over it, so a reader never sees half.
    pub(crate) fn write(&self, path: &Path) -> std::io::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        let bytes = serde_json::to_vec(self).map_err(std::io::Error::other)?;
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(&tmp, path)
    }

    /// Scans `files` (file `i` gets index `i`), reusing and updating the cached scans; files not listed
    /// are dropped from the cache, which so holds only what the last run read.
    pub(crate) fn scan(&mut self, files: &[PathBuf]) -> Vec<FileScan> {
        let finders = Finders::new();
        let mut buf = Vec::new();
        let mut kept = HashMap::new();
        let scans = files
            .iter()
            .enumerate()
            .map(|(i, path)| {
                let (scan, entry) = scan_one(path, i as u32, self.files.remove(path), &finders, &mut buf);
                if let Some(e) = entry {
                    kept.insert(path.clone(), e);
                }
                scan
            })
            .collect();
        self.version = VERSION;
        self.files = kept;
        scans
    }
}

fn scan_one(
    path: &Path,
    file: u32,
    prior: Option<Entry>,
    finders: &Finders,
    buf: &mut Vec<u8>,
) -> (FileScan, Option<Entry>) {
    if super::gemini::is_chat(path) {
        // A chat is one JSON document, rewritten whole: read it whole.
        return (super::gemini::scan(path, file), None);
    }
    let key = path.to_string_lossy();
    let failed = |e: std::io::Error| (FileScan::failed(e.to_string()), None);
    let mut f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => return failed(e),
    };
    let meta = match f.metadata() {
        Ok(m) => m,
        Err(e) => return failed(e),
    };
    if codex::is_rollout(&key) {
        // A rollout's later lines depend on its earlier ones (the model, the running totals): read whole.
        return (scan_reader(f, meta.len(), file, &key, finders, buf), None);
    }
    let id = identity(&meta);
    let (base, start) = match prior {
        Some(e) if e.id == id && e.len <= meta.len() => (Some(e.scan), e.len),
        _ => (None, 0),
    };
    let mut tail = Vec::new();
    if let Err(e) = f.seek(SeekFrom::Start(start)).and_then(|_| f.read_to_end(&mut tail)) {
        return failed(e);
    }
    let cut = tail.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let new = scan_reader(&tail[..cut], cut as u64, file, &key, finders, buf);
    let mut complete = match base {
        Some(mut base) => {
            base.append(new);
            base
        }
        None => new,
    };
    for r in &mut complete.records {
        r.file = file;
    }
    let entry = Entry { id, len: start + cut as u64, scan: complete.clone() };
    if cut < tail.len() {
        complete.append(scan_reader(&tail[cut..], (tail.len() - cut) as u64, file, &key, finders, buf));
    }
    (complete, Some(entry))
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    fn line(n: u32) -> String {
        format!(
            r#"{{"type":"assistant","sessionId":"s","requestId":"r{n}","timestamp":"2026-11-20T10:{n:02}:00Z","message":{{"id":"m{n}","model":"claude-opus-4-7","usage":{{"input_tokens":{n},"output_tokens":1}}}}}}"#
        )
    }

    fn inputs(scans: &[FileScan]) -> Vec<u64> {
        scans.iter().flat_map(|s| s.records.iter().map(|r| r.usage.input_tokens)).collect()
    }

    #[test]
    fn a_growing_file_is_read_from_where_the_last_run_stopped() {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = dir.path().join("projects/p/s.jsonl");
        std::fs::create_dir_all(log.parent().expect("parent")).expect("folders");
        std::fs::write(&log, format!("{}\n{}\n{}", line(1), line(2), &line(3)[..20])).expect("writes");
        let store = dir.path().join("cache.json");
        let files = vec![log.clone()];

        let mut cache = ScanCache::read(&store);
        let scans = cache.scan(&files);
        assert_eq!(inputs(&scans), [1, 2]);
        assert_eq!(scans[0].malformed_count, 1, "the half-written line, this run only");
        cache.write(&store).expect("stores");

        // The half-written line is finished and another one added.
        let mut f = std::fs::OpenOptions::new().append(true).open(&log).expect("opens");
        write!(f, "{}\n{}\n", &line(3)[20..], line(4)).expect("appends");
        let mut cache = ScanCache::read(&store);
        assert_eq!(cache.files[&log].len, (line(1).len() + line(2).len() + 2) as u64);
        let scans = cache.scan(&files);
        assert_eq!(inputs(&scans), [1, 2, 3, 4]);
        assert_eq!((scans[0].malformed_count, scans[0].lines), (0, 4));
        assert_eq!(scans[0].records[3].line, 4);

        // A file written anew (another inode) is read from the start.
        cache.write(&store).expect("stores");
        std::fs::remove_file(&log).expect("removes");
        std::fs::write(&log, format!("{}\n", line(7))).expect("writes");
        let scans = ScanCache::read(&store).scan(&files);
        assert_eq!(inputs(&scans), [7]);
    }
}
