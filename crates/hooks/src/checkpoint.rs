//! Checkpoints: content-addressed snapshots of files before allowed edits and deletes, and rollback.
//!
//! Layout under `.agentry/checkpoints/`: `objects/<blake3 hex>` holds file contents once each, and
//! `manifests/<id>.json` lists, for one action, every affected path with the object it had (or none: the
//! file did not exist, so rollback removes it). Ids sort by time.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use agentry_types::{Digest, DigestFunction, Timestamp};
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::policy::Checkpoints;
use crate::state::write_atomic;

/// The checkpoint folder, relative to the project root.
pub const CHECKPOINT_DIR: &str = ".agentry/checkpoints";

/// One file in a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Path relative to the project root.
    pub path: String,
    /// The content's digest (`blake3/<hex>/<size>`), or `None` when the file did not exist.
    pub digest: Option<String>,
    /// Unix permission bits, when the file existed.
    #[serde(default)]
    pub mode: Option<u32>,
    /// The file existed but was too large to store; rollback leaves it alone.
    #[serde(default)]
    pub skipped: bool,
}

/// A checkpoint: what one allowed action was about to change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Sortable id (microseconds since the epoch, zero-padded).
    pub id: String,
    /// When it was taken.
    pub created: String,
    /// What the action was (tool and event).
    pub label: String,
    /// The files.
    pub entries: Vec<Entry>,
}

fn dir(root: &Path) -> PathBuf {
    root.join(CHECKPOINT_DIR)
}

/// Snapshots `paths` (absolute, inside `root`) before an action; returns the checkpoint id, or `None` when
/// there was nothing to record.
pub fn create(
    root: &Path,
    cfg: &Checkpoints,
    paths: &[PathBuf],
    label: &str,
) -> Result<Option<String>, Error> {
    let mut seen = HashSet::new();
    let mut entries = Vec::new();
    let mut wrote = false;
    let agentry = root.join(".agentry");
    for p in paths {
        if p.starts_with(&agentry) || !seen.insert(p.clone()) {
            continue;
        }
        let Ok(rel) = p.strip_prefix(root) else { continue };
        let rel = rel.to_string_lossy().replace('\\', "/");
        match std::fs::symlink_metadata(p) {
            Ok(m) if m.is_dir() => continue,
            Ok(m) if m.len() > cfg.max_file_bytes || !m.is_file() => {
                entries.push(Entry { path: rel, digest: None, mode: None, skipped: true });
            }
            Ok(m) => {
                let bytes = std::fs::read(p).map_err(|e| Error::io("reading", p, e))?;
                let digest =
                    Digest::new(DigestFunction::Blake3, *blake3::hash(&bytes).as_bytes(), bytes.len() as u64);
                let obj = dir(root).join("objects").join(digest.hash_hex());
                if !obj.exists() {
                    write_atomic(&obj, &bytes)?;
                    wrote = true;
                }
                entries.push(Entry {
                    path: rel,
                    digest: Some(digest.to_string()),
                    mode: Some(mode(&m)),
                    skipped: false,
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                entries.push(Entry { path: rel, digest: None, mode: None, skipped: false });
            }
            Err(e) => return Err(Error::io("inspecting", p, e)),
        }
    }
    if entries.is_empty() {
        return Ok(None);
    }
    let now = Timestamp::now();
    let manifests = dir(root).join("manifests");
    let mut micros = now.unix_micros();
    let id = loop {
        let id = format!("{micros:020}");
        if !manifests.join(format!("{id}.json")).exists() {
            break id;
        }
        micros += 1;
    };
    let cp = Checkpoint { id: id.clone(), created: now.to_string(), label: label.to_owned(), entries };
    let path = manifests.join(format!("{id}.json"));
    let json = serde_json::to_vec(&cp).map_err(|e| Error::Json { path: path.clone(), source: e })?;
    write_atomic(&path, &json)?;
    if wrote {
        prune(root, cfg.max_bytes)?;
    }
    Ok(Some(id))
}

#[cfg(unix)]
fn mode(m: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    m.permissions().mode()
}

#[cfg(not(unix))]
fn mode(m: &std::fs::Metadata) -> u32 {
    if m.permissions().readonly() { 0o444 } else { 0o644 }
}

/// Every checkpoint, oldest first.
pub fn list(root: &Path) -> Result<Vec<Checkpoint>, Error> {
    let manifests = dir(root).join("manifests");
    let rd = match std::fs::read_dir(&manifests) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("listing", manifests, e)),
    };
    let mut out = Vec::new();
    for entry in rd.flatten() {
        let p = entry.path();
        if p.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let bytes = std::fs::read(&p).map_err(|e| Error::io("reading", &p, e))?;
        out.push(
            serde_json::from_slice::<Checkpoint>(&bytes).map_err(|e| Error::Json { path: p, source: e })?,
        );
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

/// Drops the oldest checkpoints until the stored objects fit in `max_bytes`, then removes unreferenced objects.
fn prune(root: &Path, max_bytes: u64) -> Result<(), Error> {
    let objects = dir(root).join("objects");
    let total: u64 = std::fs::read_dir(&objects)
        .map(|rd| rd.flatten().filter_map(|e| e.metadata().ok()).map(|m| m.len()).sum())
        .unwrap_or(0);
    if total <= max_bytes {
        return Ok(());
    }
    let mut cps = list(root)?;
    let size_of = |cps: &[Checkpoint]| -> u64 {
        let live: HashSet<String> =
            cps.iter().flat_map(|c| c.entries.iter().filter_map(|e| e.digest.clone())).collect();
        live.iter().filter_map(|d| d.rsplit('/').next().and_then(|s| s.parse::<u64>().ok())).sum()
    };
    while size_of(&cps) > max_bytes && cps.len() > 1 {
        let old = cps.remove(0);
        let p = dir(root).join("manifests").join(format!("{}.json", old.id));
        std::fs::remove_file(&p).map_err(|e| Error::io("removing", &p, e))?;
    }
    let live: HashSet<String> = cps
        .iter()
        .flat_map(|c| c.entries.iter().filter_map(|e| e.digest.as_deref().and_then(hash_of)))
        .collect();
    if let Ok(rd) = std::fs::read_dir(&objects) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if !live.contains(&name) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    Ok(())
}

fn hash_of(digest: &str) -> Option<String> {
    digest.parse::<Digest>().ok().map(|d| d.hash_hex())
}

/// Which checkpoints a rollback undoes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RollbackTarget {
    /// The newest `n`.
    Last(usize),
    /// Every checkpoint from this id (included) to the newest.
    To(String),
}

/// What a rollback did.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct RollbackReport {
    /// The checkpoints undone, newest first.
    pub checkpoints: Vec<String>,
    /// Files written back.
    pub restored: Vec<String>,
    /// Files removed because they did not exist before.
    pub removed: Vec<String>,
    /// Files left alone (too large when the checkpoint was taken).
    pub skipped: Vec<String>,
}

/// Restores the files of the selected checkpoints exactly as they were, newest checkpoint first so the
/// oldest state wins, and removes the undone checkpoints.
pub fn rollback(root: &Path, target: &RollbackTarget) -> Result<RollbackReport, Error> {
    let cps = list(root)?;
    let start = match target {
        RollbackTarget::Last(n) => cps.len().saturating_sub(*n),
        RollbackTarget::To(id) => {
            cps.iter().position(|c| &c.id == id).ok_or_else(|| Error::UnknownCheckpoint { id: id.clone() })?
        }
    };
    let mut report = RollbackReport::default();
    for cp in cps[start..].iter().rev() {
        for e in &cp.entries {
            let p = root.join(&e.path);
            if e.skipped {
                report.skipped.push(e.path.clone());
                continue;
            }
            match &e.digest {
                Some(d) => {
                    let hash = hash_of(d).ok_or_else(|| Error::Payload {
                        runtime: "checkpoint",
                        message: format!("bad digest `{d}` in {}", cp.id),
                    })?;
                    let obj = dir(root).join("objects").join(hash);
                    let bytes = std::fs::read(&obj).map_err(|e| Error::io("reading", &obj, e))?;
                    if std::fs::symlink_metadata(&p).is_ok_and(|m| m.is_dir()) {
                        std::fs::remove_dir_all(&p).map_err(|e| Error::io("removing", &p, e))?;
                    }
                    write_atomic(&p, &bytes)?;
                    #[cfg(unix)]
                    if let Some(m) = e.mode {
                        use std::os::unix::fs::PermissionsExt;
                        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(m))
                            .map_err(|err| Error::io("setting permissions of", &p, err))?;
                    }
                    report.restored.push(e.path.clone());
                }
                None => match std::fs::symlink_metadata(&p) {
                    Ok(m) if m.is_dir() => {}
                    Ok(_) => {
                        std::fs::remove_file(&p).map_err(|err| Error::io("removing", &p, err))?;
                        report.removed.push(e.path.clone());
                    }
                    Err(_) => {}
                },
            }
        }
        let mp = dir(root).join("manifests").join(format!("{}.json", cp.id));
        std::fs::remove_file(&mp).map_err(|e| Error::io("removing", &mp, e))?;
        report.checkpoints.push(cp.id.clone());
    }
    report.restored.sort();
    report.restored.dedup();
    report.removed.sort();
    report.removed.dedup();
    Ok(report)
}
