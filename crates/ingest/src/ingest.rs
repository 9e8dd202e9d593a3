//! The ingest pipeline: scan a source, chunk changed documents, embed only new chunk hashes, write the
//! registry rows of a new index version, validate it and swap the alias.

use std::{
    collections::{HashMap, HashSet},
    path::{Path, PathBuf},
};

use agentry_types::{DocumentId, Timestamp};
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::{
    chunk::{ChunkConfig, DocumentKind, chunk_document},
    db::{Tx, vals},
    embed::Embedder,
    error::Error,
    failpoint,
    registry::{self, HEADING_SEP, Registry, VISIBLE, now},
    search::{KnownItem, SearchMode, SearchOptions, Snapshot},
};

/// Whether documents missing from the source are deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SyncMode {
    /// The source is the whole corpus: documents not in it are marked deleted.
    #[default]
    Full,
    /// The source is a batch of additions and changes: nothing is deleted.
    Incremental,
}

/// A query set and the share of it the new version must answer before it may be promoted.
#[derive(Debug, Clone, PartialEq)]
pub struct Validation {
    /// Known-item queries.
    pub queries: Vec<KnownItem>,
    /// Minimum recall@k, between 0 and 1.
    pub recall_floor: f64,
    /// How many hits count.
    pub k: usize,
}

/// Settings of one ingest run.
#[derive(Debug, Clone, PartialEq)]
pub struct IngestOptions {
    /// Full or incremental sync.
    pub sync: SyncMode,
    /// How documents are chunked.
    pub chunking: ChunkConfig,
    /// Swap `current` to the new version at the end (otherwise it is only staged).
    pub promote: bool,
    /// How many complete versions to keep (at least 1; the alias targets are always kept).
    pub keep_versions: usize,
    /// Files larger than this are skipped and reported.
    pub max_file_bytes: u64,
    /// Optional recall gate before promotion.
    pub validation: Option<Validation>,
    /// The clock time the new version goes live. It is promoted as usual (unless `promote` is false), but
    /// until then queries that resolve `current` ([`Registry::snapshot_at`], [`Registry::snapshot`] with
    /// `None`) are served what they were served before. `None`: live at once.
    pub live_from: Option<Timestamp>,
}

impl Default for IngestOptions {
    fn default() -> Self {
        Self {
            sync: SyncMode::Full,
            chunking: ChunkConfig::default(),
            promote: true,
            keep_versions: 5,
            max_file_bytes: 8 * 1024 * 1024,
            validation: None,
            live_from: None,
        }
    }
}

/// One document handed to [`Registry::ingest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceDocument {
    /// Stable id: the path relative to the indexed folder.
    pub id: DocumentId,
    /// Where it came from (shown with hits).
    pub source: String,
    /// Its text.
    pub text: String,
}

/// A file the run did not ingest, and why. Its earlier version, if any, stays as it was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkippedFile {
    /// The path.
    pub path: String,
    /// Why it was skipped.
    pub reason: String,
}

/// What a source yields: a document, or a file or folder that had to be skipped (with its would-be id or id
/// prefix, so a full sync does not delete the earlier version of what is only temporarily unreadable).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceItem {
    /// A readable document.
    Document(SourceDocument),
    /// A skipped file.
    Skipped(Option<DocumentId>, SkippedFile),
    /// A folder that could not be listed: the documents whose id starts with `prefix` and `/` keep their
    /// earlier version.
    SkippedFolder {
        /// The folder's path relative to the indexed folder, `/`-separated.
        prefix: String,
        /// The folder and why it was skipped.
        skipped: SkippedFile,
    },
}

/// The outcome of an ingest run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IngestReport {
    /// Documents seen for the first time (or again after a deletion).
    pub docs_new: u64,
    /// Documents whose content changed.
    pub docs_changed: u64,
    /// Documents skipped because their content hash is unchanged.
    pub docs_unchanged: u64,
    /// Documents marked deleted.
    pub docs_deleted: u64,
    /// Chunk texts sent to the embedder.
    pub chunks_embedded: u64,
    /// Chunks of new or changed documents whose vector was already stored for this embedder.
    pub chunks_reused: u64,
    /// Chunks in the resulting version.
    pub chunks_total: u64,
    /// The version holding the result (an unchanged source reuses the newest version).
    pub index_version: u32,
    /// Whether `current` points at it after the run.
    pub promoted: bool,
    /// Recall@k of the validation query set, when one was given.
    pub recall: Option<f64>,
    /// Files not ingested, with the reason.
    pub skipped: Vec<SkippedFile>,
}

/// Progress of a run, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Items processed so far.
    pub done: u64,
    /// Items in the source.
    pub total: u64,
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

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

/// The registry's view of one active document.
struct ActiveDoc {
    version: i64,
    content_hash: String,
}

/// State of a build in progress.
struct Build {
    version: u32,
    created: bool,
    /// The clock time (microseconds since the epoch) the version goes live, when staged by time.
    live_from: Option<i64>,
}

fn empty_report(version: u32) -> IngestReport {
    IngestReport {
        docs_new: 0,
        docs_changed: 0,
        docs_unchanged: 0,
        docs_deleted: 0,
        chunks_embedded: 0,
        chunks_reused: 0,
        chunks_total: 0,
        index_version: version,
        promoted: false,
        recall: None,
        skipped: Vec::new(),
    }
}

impl Registry {
    /// Ingests the files of `dir` (see [`scan_dir`]); `progress` is called after each file.
    pub fn ingest_dir(
        &mut self,
        dir: &Path,
        embedder: &dyn Embedder,
        options: &IngestOptions,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<IngestReport, Error> {
        let files = scan_dir(dir, options.max_file_bytes)?;
        let total = files.len() as u64;
        let mut done = 0;
        let items = files.iter().map(|f| {
            let item = f.load();
            done += 1;
            progress(Progress { done, total });
            item
        });
        self.ingest(items, embedder, options)
    }

    /// Ingests documents: unchanged ones (same content hash) are skipped, changed and new ones are chunked,
    /// chunk hashes without a stored vector for `embedder` are embedded, and the result becomes a new index
    /// version, validated and (unless told otherwise) promoted. Each document commits in its own
    /// transaction, into rows only the new version can see; a crash leaves the previous version intact and
    /// the next run undoes the partial one before starting.
    ///
    /// One writer at a time: the run holds the registry's writer lock, and while another ingest, delete or
    /// reconcile (in this process or another) holds it, fails at once with [`Error::WriterLocked`].
    pub fn ingest(
        &mut self,
        items: impl IntoIterator<Item = SourceItem>,
        embedder: &dyn Embedder,
        options: &IngestOptions,
    ) -> Result<IngestReport, Error> {
        self.with_writer_lock(|r| r.ingest_locked(&mut items.into_iter(), embedder, options))
    }

    fn ingest_locked(
        &mut self,
        items: &mut dyn Iterator<Item = SourceItem>,
        embedder: &dyn Embedder,
        options: &IngestOptions,
    ) -> Result<IngestReport, Error> {
        let _span = tracing::info_span!("ingest", embedder = embedder.id()).entered();
        self.undo_interrupted_builds()?;
        self.retain(options.keep_versions)?;
        let (base, mut build) = self.start_build(options)?;
        let active = self.active_documents()?;
        let mut report = empty_report(build.version);
        let mut seen: HashSet<String> = HashSet::new();
        let mut unlisted_folders: Vec<String> = Vec::new();
        for item in items {
            let doc = match item {
                SourceItem::Document(doc) => doc,
                SourceItem::SkippedFolder { prefix, skipped } => {
                    tracing::warn!(path = %skipped.path, reason = %skipped.reason, "folder skipped");
                    // An entry whose kind could not be read may be a file: its own id stays too.
                    seen.insert(prefix.clone());
                    // The indexed folder itself (empty prefix) covers every id.
                    unlisted_folders.push(if prefix.is_empty() { prefix } else { format!("{prefix}/") });
                    report.skipped.push(skipped);
                    continue;
                }
                SourceItem::Skipped(id, skipped) => {
                    tracing::warn!(path = %skipped.path, reason = %skipped.reason, "file skipped");
                    if let Some(id) = id {
                        seen.insert(id.as_str().to_owned());
                    }
                    report.skipped.push(skipped);
                    continue;
                }
            };
            if !seen.insert(doc.id.as_str().to_owned()) {
                report.skipped.push(SkippedFile {
                    path: doc.source.clone(),
                    reason: format!("duplicate document id {}", doc.id),
                });
                continue;
            }
            let hash = sha256_hex(doc.text.as_bytes());
            let previous = active.get(doc.id.as_str());
            if previous.is_some_and(|p| p.content_hash == hash) {
                report.docs_unchanged += 1;
                continue;
            }
            if previous.is_some() {
                report.docs_changed += 1;
            } else {
                report.docs_new += 1;
            }
            self.write_document(&mut build, &doc, &hash, previous, embedder, options, &mut report)?;
        }

        if options.sync == SyncMode::Full {
            // Documents under a folder that could not be listed may well still exist: they stay.
            let mut gone: Vec<&String> = active
                .keys()
                .filter(|id| {
                    !seen.contains(*id) && !unlisted_folders.iter().any(|p| id.starts_with(p.as_str()))
                })
                .collect();
            gone.sort();
            for id in gone {
                self.close_document(&mut build, id, embedder)?;
                report.docs_deleted += 1;
            }
        }
        self.finish(build, base, embedder, options, report)
    }

    /// Marks documents deleted in a new version (promoted unless `options.promote` is false); takes the
    /// writer lock like [`Registry::ingest`].
    pub fn delete(
        &mut self,
        ids: &[DocumentId],
        embedder: &dyn Embedder,
        options: &IngestOptions,
    ) -> Result<IngestReport, Error> {
        self.with_writer_lock(|r| r.delete_locked(ids, embedder, options))
    }

    fn delete_locked(
        &mut self,
        ids: &[DocumentId],
        embedder: &dyn Embedder,
        options: &IngestOptions,
    ) -> Result<IngestReport, Error> {
        self.undo_interrupted_builds()?;
        let active = self.active_documents()?;
        if let Some(missing) = ids.iter().find(|id| !active.contains_key(id.as_str())) {
            return Err(Error::UnknownDocument(missing.as_str().to_owned()));
        }
        let (base, mut build) = self.start_build(options)?;
        let mut report = empty_report(build.version);
        for id in ids {
            self.close_document(&mut build, id.as_str(), embedder)?;
            report.docs_deleted += 1;
        }
        self.finish(build, base, embedder, options, report)
    }

    /// The newest complete version (number and embedder) and the number the next version gets.
    fn start_build(&mut self, options: &IngestOptions) -> Result<(Option<(u32, String)>, Build), Error> {
        let mut tx = Tx::read(self.db.as_mut())?;
        let base = tx
            .row(
                "finding the newest version",
                "SELECT id, embedder FROM index_versions WHERE state IN ('ready', 'failed') ORDER BY id DESC LIMIT 1",
                &[],
            )?
            .map(|r| Ok::<_, Error>((r.u32(0)?, r.text(1)?)))
            .transpose()?;
        let next = tx
            .one("numbering the new version", "SELECT COALESCE(MAX(id), 0) + 1 FROM index_versions", &[])?
            .u32(0)?;
        tx.commit()?;
        let live_from = options.live_from.map(Timestamp::unix_micros);
        Ok((base, Build { version: next, created: false, live_from }))
    }

    fn active_documents(&mut self) -> Result<HashMap<String, ActiveDoc>, Error> {
        let mut tx = Tx::read(self.db.as_mut())?;
        let rows = tx.query(
            "reading active documents",
            "SELECT id, version, content_hash FROM documents WHERE valid_to IS NULL AND status = 'active'",
            &[],
        )?;
        tx.commit()?;
        rows.iter()
            .map(|r| Ok((r.text(0)?, ActiveDoc { version: r.int(1)?, content_hash: r.text(2)? })))
            .collect()
    }

    fn ensure_version_row(tx: &mut Tx<'_>, build: &mut Build, embedder: &dyn Embedder) -> Result<(), Error> {
        if build.created {
            return Ok(());
        }
        tx.exec(
            "creating the new version",
            "INSERT INTO index_versions (id, state, embedder, dim, created_at) VALUES (?1, 'building', ?2, ?3, ?4)",
            vals![build.version, embedder.id(), embedder.dim() as i64, now()],
        )?;
        // In the same transaction as the version row, so no version ever exists without its schedule.
        if let Some(at) = build.live_from {
            tx.exec(
                "scheduling the new version",
                "INSERT INTO version_schedule (version, live_from) VALUES (?1, ?2)",
                vals![build.version, at],
            )?;
        }
        build.created = true;
        Ok(())
    }

    /// Embeds and stores the vectors `hashes[i]` lacks for `embedder`; returns how many were embedded.
    fn embed_missing(&mut self, embedder: &dyn Embedder, pending: &[(&str, &str)]) -> Result<u64, Error> {
        let mut missing: Vec<(&str, &str)> = Vec::new();
        {
            let mut tx = Tx::read(self.db.as_mut())?;
            let mut asked = HashSet::new();
            for &(hash, text) in pending {
                if !asked.insert(hash) {
                    continue;
                }
                let stored = tx.row(
                    "looking up stored vectors",
                    "SELECT 1 FROM embeddings WHERE hash = ?1 AND embedder = ?2",
                    vals![hash, embedder.id()],
                )?;
                if stored.is_none() {
                    missing.push((hash, text));
                }
            }
            tx.commit()?;
        }
        for batch in missing.chunks(256) {
            let texts: Vec<&str> = batch.iter().map(|(_, t)| *t).collect();
            let vectors = registry::embed_checked(embedder, &texts)?;
            let mut tx = Tx::write(self.db.as_mut())?;
            for ((h, _), v) in batch.iter().zip(&vectors) {
                registry::insert_embedding(&mut tx, h, embedder, v)?;
            }
            tx.commit()?;
            failpoint::hit("vectors-stored");
        }
        Ok(missing.len() as u64)
    }

    #[allow(clippy::too_many_arguments)]
    fn write_document(
        &mut self,
        build: &mut Build,
        doc: &SourceDocument,
        hash: &str,
        previous: Option<&ActiveDoc>,
        embedder: &dyn Embedder,
        options: &IngestOptions,
        report: &mut IngestReport,
    ) -> Result<(), Error> {
        let _span = tracing::debug_span!("ingest.document", doc_id = doc.id.as_str()).entered();
        let chunks = chunk_document(DocumentKind::from_path(doc.id.as_str()), &doc.text, &options.chunking);
        let hexes: Vec<String> = chunks.iter().map(|c| c.id.to_string()).collect();

        // Embed first and store the vectors (content-addressed, so harmless if the run dies before the
        // registry rows below commit); then write the registry rows in one transaction.
        let pending: Vec<(&str, &str)> =
            hexes.iter().zip(&chunks).map(|(h, c)| (h.as_str(), c.text.as_str())).collect();
        let embedded = self.embed_missing(embedder, &pending)?;
        report.chunks_embedded += embedded;
        report.chunks_reused += chunks.len() as u64 - embedded;

        let mut tx = Tx::write(self.db.as_mut())?;
        Self::ensure_version_row(&mut tx, build, embedder)?;
        let v = build.version;
        let id = doc.id.as_str();
        if let Some(p) = previous {
            tx.exec(
                "superseding a document",
                "UPDATE documents SET valid_to = ?1, status = 'superseded' WHERE id = ?2 AND version = ?3",
                vals![v, id, p.version],
            )?;
            tx.exec(
                "closing a document's chunks",
                "UPDATE chunks SET valid_to = ?1 WHERE document = ?2 AND doc_version = ?3",
                vals![v, id, p.version],
            )?;
        }
        // A document deleted earlier and now back: its newest row number decides the next one.
        let max_version = tx
            .one(
                "numbering a document version",
                "SELECT COALESCE(MAX(version), 0) FROM documents WHERE id = ?1",
                vals![id],
            )?
            .int(0)?;
        let doc_version = previous.map_or(1, |p| p.version + 1).max(max_version + 1);
        tx.exec(
            "recording a document",
            "INSERT INTO documents (id, version, source, content_hash, status, indexed_at, valid_from)
             VALUES (?1, ?2, ?3, ?4, 'active', ?5, ?6)",
            vals![id, doc_version, &doc.source, hash, now(), v],
        )?;
        let sep = HEADING_SEP.to_string();
        for (c, h) in chunks.iter().zip(&hexes) {
            tx.exec(
                "recording chunks",
                "INSERT INTO chunks (hash, document, doc_version, ordinal, heading_path, text, valid_from)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                vals![h, id, doc_version, c.ordinal, c.heading_path.join(&sep), &c.text, v],
            )?;
        }
        failpoint::hit("document-before-commit");
        tx.commit()?;
        failpoint::hit("document-committed");
        Ok(())
    }

    fn close_document(&mut self, build: &mut Build, id: &str, embedder: &dyn Embedder) -> Result<(), Error> {
        let mut tx = Tx::write(self.db.as_mut())?;
        Self::ensure_version_row(&mut tx, build, embedder)?;
        let v = build.version;
        tx.exec(
            "deleting a document",
            "UPDATE documents SET valid_to = ?1, status = 'deleted' WHERE id = ?2 AND valid_to IS NULL",
            vals![v, id],
        )?;
        tx.exec(
            "closing a deleted document's chunks",
            "UPDATE chunks SET valid_to = ?1 WHERE document = ?2 AND valid_to IS NULL",
            vals![v, id],
        )?;
        failpoint::hit("delete-before-commit");
        tx.commit()?;
        failpoint::hit("delete-committed");
        Ok(())
    }

    fn finish(
        &mut self,
        mut build: Build,
        base: Option<(u32, String)>,
        embedder: &dyn Embedder,
        options: &IngestOptions,
        mut report: IngestReport,
    ) -> Result<IngestReport, Error> {
        let current = self.current_version()?;
        // A time-staged run over an unchanged source whose newest version is not current (staged or rolled
        // back) builds a version of its own, so the staged content goes live at the time asked for.
        if let Some((v, base_embedder)) = &base
            && !build.created
            && base_embedder == embedder.id()
            && (options.live_from.is_none() || current == Some(*v))
        {
            // Nothing changed: the newest version already is the result.
            let v = *v;
            report.index_version = v;
            report.chunks_total = self.chunk_count(v)?;
            let mut tx = Tx::write(self.db.as_mut())?;
            let current = registry::alias(&mut tx, registry::CURRENT_ALIAS)?.map(|(c, _)| c);
            let ready = registry::version_state(&mut tx, v)? == Some(crate::VersionState::Ready);
            if options.promote && ready && current != Some(v) {
                registry::swap_alias(&mut tx, v)?;
            }
            tx.commit()?;
            report.promoted = self.current_version()? == Some(v);
            return Ok(report);
        }
        if !build.created {
            let mut tx = Tx::write(self.db.as_mut())?;
            Self::ensure_version_row(&mut tx, &mut build, embedder)?;
            tx.commit()?;
        }
        let v = build.version;

        // Chunks of unchanged documents need vectors too when the embedder differs from the last version's.
        let rows = {
            let mut tx = Tx::read(self.db.as_mut())?;
            let rows = tx.query(
                "finding chunks without vectors",
                "SELECT DISTINCT c.hash, c.text FROM chunks c WHERE c.valid_to IS NULL AND NOT EXISTS
                    (SELECT 1 FROM embeddings e WHERE e.hash = c.hash AND e.embedder = ?1)",
                vals![embedder.id()],
            )?;
            tx.commit()?;
            rows.iter().map(|r| Ok((r.text(0)?, r.text(1)?))).collect::<Result<Vec<_>, Error>>()?
        };
        let pending: Vec<(&str, &str)> = rows.iter().map(|(h, t)| (h.as_str(), t.as_str())).collect();
        report.chunks_embedded += self.embed_missing(embedder, &pending)?;
        report.chunks_total = self.chunk_count(v)?;

        // Validate against the snapshot readers would get, before anyone can see it.
        let mut passed = true;
        if let Some(val) = &options.validation {
            let snapshot = {
                let mut tx = Tx::read(self.db.as_mut())?;
                let s = Snapshot::load(&mut tx, v)?;
                tx.commit()?;
                s
            };
            let recall = snapshot.recall_at(
                embedder,
                &val.queries,
                &SearchOptions { k: val.k, mode: SearchMode::Hybrid, doc_prefix: None },
            )?;
            report.recall = Some(recall);
            passed = recall >= val.recall_floor;
        }
        failpoint::hit("validated");

        let mut tx = Tx::write(self.db.as_mut())?;
        tx.exec(
            "marking the version complete",
            "UPDATE index_versions SET state = ?1, finished_at = ?2, recall = ?3 WHERE id = ?4",
            vals![if passed { "ready" } else { "failed" }, now(), report.recall, v],
        )?;
        if passed && options.promote {
            registry::swap_alias(&mut tx, v)?;
        }
        failpoint::hit("publish-before-commit");
        tx.commit()?;
        failpoint::hit("published");
        report.promoted = passed && options.promote;
        report.index_version = v;
        self.retain(options.keep_versions)?;
        Ok(report)
    }

    fn chunk_count(&mut self, v: u32) -> Result<u64, Error> {
        let mut tx = Tx::read(self.db.as_mut())?;
        let n = tx
            .one("counting chunks", &format!("SELECT COUNT(*) FROM chunks WHERE {VISIBLE}"), vals![v])?
            .count(0)?;
        tx.commit()?;
        Ok(n)
    }
}
