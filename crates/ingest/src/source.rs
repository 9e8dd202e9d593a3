//! Reading a folder as a source: the files of a tree, sorted, each read lazily into a document or the reason it
//! is skipped.

use std::path::{Path, PathBuf};

use agentry_types::DocumentId;

use crate::{
    error::Error,
    ingest::{SkippedFile, SourceDocument, SourceItem},
};

/// Lists the files of `dir` recursively (hidden entries and symbolic links to folders excluded), sorted by
/// relative path, and reads each lazily. Only `dir` itself must be readable: a subfolder that cannot be listed
/// (completely or partly) becomes an entry that loads as [`SourceItem::SkippedFolder`], and the scan goes on.
pub fn scan_dir(dir: &Path, max_file_bytes: u64) -> Result<Vec<SourceItemLoader>, Error> {
    let rel_of = |path: &Path| -> String {
        let rel = path.strip_prefix(dir).unwrap_or(path);
        let parts: Vec<String> =
            rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
        parts.join("/")
    };
    let mut out = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|source| Error::Io { path: dir.to_path_buf(), source })?;
    let mut pending = vec![(dir.to_path_buf(), entries)];
    while let Some((d, entries)) = pending.pop() {
        let folder_error = |e: std::io::Error| SourceItemLoader {
            rel: rel_of(&d),
            path: d.clone(),
            max_file_bytes,
            folder_error: Some(e.to_string()),
        };
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    // The listing broke off: what was listed stays, the rest of the folder is kept as it was.
                    out.push(folder_error(e));
                    break;
                }
            };
            let path = entry.path();
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let ft = match entry.file_type() {
                Ok(ft) => ft,
                // Neither file nor folder is known: kept as if it were a folder (which covers a file).
                Err(e) => {
                    out.push(SourceItemLoader {
                        rel: rel_of(&path),
                        path,
                        max_file_bytes,
                        folder_error: Some(e.to_string()),
                    });
                    continue;
                }
            };
            if ft.is_dir() {
                match std::fs::read_dir(&path) {
                    Ok(entries) => pending.push((path, entries)),
                    Err(e) => out.push(SourceItemLoader {
                        rel: rel_of(&path),
                        path,
                        max_file_bytes,
                        folder_error: Some(e.to_string()),
                    }),
                }
            } else if ft.is_file() || (ft.is_symlink() && path.is_file()) {
                out.push(SourceItemLoader { rel: rel_of(&path), path, max_file_bytes, folder_error: None });
            }
        }
    }
    out.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok(out)
}

/// A file found by [`scan_dir`], read when [`SourceItemLoader::load`] is called, or a folder it could not
/// list.
#[derive(Debug, Clone)]
pub struct SourceItemLoader {
    rel: String,
    path: PathBuf,
    max_file_bytes: u64,
    /// Set for a folder that could not be listed: why.
    folder_error: Option<String>,
}

impl SourceItemLoader {
    /// Reads the file: a document, or the reason it is skipped (binary, not UTF-8, too large, unreadable); for
    /// a folder that could not be listed, [`SourceItem::SkippedFolder`].
    pub fn load(&self) -> SourceItem {
        let shown = self.path.display().to_string();
        if let Some(e) = &self.folder_error {
            return SourceItem::SkippedFolder {
                prefix: self.rel.clone(),
                skipped: SkippedFile { path: shown, reason: format!("cannot read folder: {e}") },
            };
        }
        let skip = |id: Option<DocumentId>, reason: String| {
            SourceItem::Skipped(id, SkippedFile { path: shown.clone(), reason })
        };
        let id = match DocumentId::new(self.rel.clone()) {
            Ok(id) => id,
            Err(e) => return skip(None, format!("unusable document id: {e}")),
        };
        match std::fs::metadata(&self.path) {
            Ok(m) if m.len() > self.max_file_bytes => {
                return skip(
                    Some(id),
                    format!("{} bytes, larger than the limit of {}", m.len(), self.max_file_bytes),
                );
            }
            Ok(_) => {}
            Err(e) => return skip(Some(id), format!("cannot read: {e}")),
        }
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(e) => return skip(Some(id), format!("cannot read: {e}")),
        };
        if bytes[..bytes.len().min(8192)].contains(&0) {
            return skip(Some(id), "binary (contains NUL bytes)".to_owned());
        }
        match String::from_utf8(bytes) {
            Ok(text) => SourceItem::Document(SourceDocument { id, source: shown, text }),
            Err(e) => skip(Some(id), format!("not valid UTF-8 at byte {}", e.utf8_error().valid_up_to())),
        }
    }
}
