//! Finding log files: Claude Code's default folders, and a walk that skips what it cannot read.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::Error;

/// The folders agents write usage logs to.
/// - Claude Code: each entry of `CLAUDE_CONFIG_DIR` (comma-separated) plus `projects`, or else
///   `~/.config/claude/projects` and `~/.claude/projects`, whichever exist.
/// - Codex CLI: `$CODEX_HOME/sessions` when `CODEX_HOME` is set, else `~/.codex/sessions` if it exists and
///   `CLAUDE_CONFIG_DIR` is not set (a run pointed at one Claude folder reads only that).
/// - Gemini CLI: each entry of `GEMINI_DATA_DIR` (comma-separated), else `~/.gemini/tmp` under the same
///   condition as Codex.
pub fn default_log_dirs() -> Vec<PathBuf> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let codex = match std::env::var_os("CODEX_HOME").filter(|v| !v.is_empty()) {
        Some(dir) => Some(PathBuf::from(dir).join("sessions")),
        None if std::env::var_os("CLAUDE_CONFIG_DIR").is_none() => {
            home.as_ref().map(|h| h.join(".codex/sessions")).filter(|p| p.is_dir())
        }
        None => None,
    };
    let mut dirs: Vec<PathBuf> = if let Some(dirs) = std::env::var_os("CLAUDE_CONFIG_DIR") {
        let dirs = dirs.to_string_lossy().into_owned();
        dirs.split(',')
            .filter(|d| !d.trim().is_empty())
            .map(|d| Path::new(d.trim()).join("projects"))
            .collect()
    } else if let Some(home) = &home {
        [home.join(".config/claude/projects"), home.join(".claude/projects")]
            .into_iter()
            .filter(|p| p.is_dir())
            .collect()
    } else {
        Vec::new()
    };
    dirs.extend(codex);
    // Gemini CLI: each entry of GEMINI_DATA_DIR (comma-separated), else ~/.gemini/tmp as for Codex.
    match std::env::var_os("GEMINI_DATA_DIR").filter(|v| !v.is_empty()) {
        Some(list) => dirs.extend(
            list.to_string_lossy().split(',').map(str::trim).filter(|d| !d.is_empty()).map(PathBuf::from),
        ),
        None if std::env::var_os("CLAUDE_CONFIG_DIR").is_none() => {
            dirs.extend(home.as_ref().map(|h| h.join(".gemini/tmp")).filter(|p| p.is_dir()))
        }
        None => {}
    }
    dirs
}

/// A folder or file that could not be listed, skipped and reported instead of aborting the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkippedPath {
    /// The folder or file.
    pub path: PathBuf,
    /// Why it could not be read.
    pub reason: String,
}

/// The log files under some files and folders, and what could not be listed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LogListing {
    /// Every `*.jsonl` file (and Gemini CLI chat, `chats/*.json`) found, sorted, each once.
    pub files: Vec<PathBuf>,
    /// Folders (and given paths) that could not be read, in the order met.
    pub skipped: Vec<SkippedPath>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Dir,
    File,
}

type Entries = std::io::Result<Vec<Result<(PathBuf, Kind), (PathBuf, std::io::Error)>>>;

/// A folder's entries from the file system (symbolic links are not followed).
fn fs_entries(dir: &Path) -> Entries {
    let entries = std::fs::read_dir(dir)?;
    Ok(entries
        .map(|entry| {
            let entry = entry.map_err(|e| (dir.to_owned(), e))?;
            let path = entry.path();
            match entry.file_type() {
                Ok(kind) => Ok((path, if kind.is_dir() { Kind::Dir } else { Kind::File })),
                Err(e) => Err((path, e)),
            }
        })
        .collect())
}

/// Lists `paths` through `kind_of` (a given path) and `entries` (a folder), collecting what fails.
fn list_with(
    paths: &[PathBuf],
    kind_of: &dyn Fn(&Path) -> std::io::Result<Kind>,
    entries: &dyn Fn(&Path) -> Entries,
) -> (Vec<PathBuf>, Vec<(PathBuf, std::io::Error)>) {
    fn walk(
        dir: &Path,
        entries: &dyn Fn(&Path) -> Entries,
        out: &mut Vec<PathBuf>,
        failed: &mut Vec<(PathBuf, std::io::Error)>,
    ) {
        let list = match entries(dir) {
            Ok(list) => list,
            Err(e) => return failed.push((dir.to_owned(), e)),
        };
        for entry in list {
            match entry {
                Ok((path, Kind::Dir)) => walk(&path, entries, out, failed),
                Ok((path, Kind::File))
                    if path.extension().is_some_and(|e| e == "jsonl") || super::gemini::is_chat(&path) =>
                {
                    out.push(path)
                }
                Ok(_) => {}
                Err(failure) => failed.push(failure),
            }
        }
    }
    let (mut out, mut failed) = (Vec::new(), Vec::new());
    for p in paths {
        match kind_of(p) {
            Ok(Kind::Dir) => walk(p, entries, &mut out, &mut failed),
            Ok(Kind::File) => out.push(p.clone()),
            Err(e) => failed.push((p.clone(), e)),
        }
    }
    out.sort();
    out.dedup();
    (out, failed)
}

fn fs_kind(path: &Path) -> std::io::Result<Kind> {
    std::fs::metadata(path).map(|m| if m.is_dir() { Kind::Dir } else { Kind::File })
}

/// Every `*.jsonl` file (and Gemini CLI chat) under the given files and folders, sorted, each once; a folder (or given path)
/// that cannot be read is skipped and listed in [`LogListing::skipped`], like a malformed line, so one
/// unreadable subfolder or a `CLAUDE_CONFIG_DIR` entry without `projects/` does not stop the analysis.
pub fn list_logs(paths: &[PathBuf]) -> LogListing {
    let (files, failed) = list_with(paths, &fs_kind, &fs_entries);
    let skipped = failed.into_iter().map(|(path, e)| SkippedPath { path, reason: e.to_string() }).collect();
    LogListing { files, skipped }
}

/// As [`list_logs`], but strict: the first folder or path that cannot be read is an error naming it.
pub fn find_logs(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Error> {
    let (files, failed) = list_with(paths, &fs_kind, &fs_entries);
    match failed.into_iter().next() {
        Some((path, source)) => Err(Error::Io { path, source }),
        None => Ok(files),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake tree: `root` holds `a.jsonl`, `notes.txt`, the folder `ok` (with `b.jsonl`) and the folder
    /// `locked`, which cannot be read; `entry-error` yields one entry that fails.
    fn entries(dir: &Path) -> Entries {
        let p = |s: &str| PathBuf::from(s);
        match dir.to_str() {
            Some("root") => Ok(vec![
                Ok((p("root/a.jsonl"), Kind::File)),
                Ok((p("root/notes.txt"), Kind::File)),
                Ok((p("root/ok"), Kind::Dir)),
                Ok((p("root/locked"), Kind::Dir)),
                Ok((p("root/entry-error"), Kind::Dir)),
            ]),
            Some("root/ok") => Ok(vec![Ok((p("root/ok/b.jsonl"), Kind::File))]),
            Some("root/entry-error") => {
                Ok(vec![Err((p("root/entry-error/x"), std::io::Error::other("stale handle")))])
            }
            _ => Err(std::io::Error::new(std::io::ErrorKind::PermissionDenied, "denied")),
        }
    }

    fn kind_of(path: &Path) -> std::io::Result<Kind> {
        match path.to_str() {
            Some("root") => Ok(Kind::Dir),
            Some("single.jsonl") => Ok(Kind::File),
            _ => Err(std::io::Error::new(std::io::ErrorKind::NotFound, "missing")),
        }
    }

    fn check(roots: &[&str], files: &[&str], failed: &[&str]) {
        let roots: Vec<PathBuf> = roots.iter().map(PathBuf::from).collect();
        let (got_files, got_failed) = list_with(&roots, &kind_of, &entries);
        let got_failed: Vec<PathBuf> = got_failed.into_iter().map(|(p, _)| p).collect();
        assert_eq!(got_files, files.iter().map(PathBuf::from).collect::<Vec<_>>(), "{roots:?}");
        assert_eq!(got_failed, failed.iter().map(PathBuf::from).collect::<Vec<_>>(), "{roots:?}");
    }

    #[test]
    fn unreadable_folders_are_skipped_not_fatal() {
        check(&["root"], &["root/a.jsonl", "root/ok/b.jsonl"], &["root/locked", "root/entry-error/x"]);
    }
    #[test]
    fn missing_roots_are_skipped() {
        check(&["cfg/projects", "single.jsonl", "root/ok"], &["single.jsonl"], &["cfg/projects", "root/ok"]);
        check(&["single.jsonl", "single.jsonl"], &["single.jsonl"], &[]);
    }
}
