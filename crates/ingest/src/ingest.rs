//! The ingest pipeline: scan a source, chunk changed documents, embed only new chunk hashes, write the
//! registry rows of a new index version, validate it and swap the alias.

use std::{
    collections::{HashMap, HashSet},
    path::{Path, PathBuf},
};

use agentry_types::DocumentId;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::{
    chunk::{ChunkConfig, DocumentKind, chunk_document},
    embed::Embedder,
    error::Error,
    failpoint,
    registry::{self, HEADING_SEP, Registry, now},
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

/// What a source yields: a document, or a file that had to be skipped (with its would-be id, so a full
/// sync does not delete the earlier version of a file that is only temporarily unreadable).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceItem {
    /// A readable document.
    Document(SourceDocument),
    /// A skipped file.
    Skipped(Option<DocumentId>, SkippedFile),
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
/// relative path, and reads each lazily.
pub fn scan_dir(dir: &Path, max_file_bytes: u64) -> Result<Vec<SourceItemLoader>, Error> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).map_err(|source| Error::Io { path: d.clone(), source })?;
        for entry in entries {
            let entry = entry.map_err(|source| Error::Io { path: d.clone(), source })?;
            let path = entry.path();
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let ft = entry.file_type().map_err(|source| Error::Io { path: path.clone(), source })?;
            if ft.is_dir() {
                stack.push(path);
            } else if ft.is_file() || (ft.is_symlink() && path.is_file()) {
                let rel = path.strip_prefix(dir).unwrap_or(&path);
                let rel: Vec<String> =
                    rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
                out.push(SourceItemLoader { rel: rel.join("/"), path, max_file_bytes });
            }
        }
    }
    out.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok(out)
}

/// A file found by [`scan_dir`], read when [`SourceItemLoader::load`] is called.
#[derive(Debug, Clone)]
pub struct SourceItemLoader {
    rel: String,
    path: PathBuf,
    max_file_bytes: u64,
}

impl SourceItemLoader {
    /// Reads the file: a document, or the reason it is skipped (binary, not UTF-8, too large, unreadable).
    pub fn load(&self) -> SourceItem {
        let shown = self.path.display().to_string();
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
    pub fn ingest(
        &mut self,
        items: impl IntoIterator<Item = SourceItem>,
        embedder: &dyn Embedder,
        options: &IngestOptions,
    ) -> Result<IngestReport, Error> {
        let _span = tracing::info_span!("ingest", embedder = embedder.id()).entered();
        self.undo_interrupted_builds()?;
        self.retain(options.keep_versions)?;

        let base: Option<(u32, String)> = self
            .conn
            .query_row(
                "SELECT id, embedder FROM index_versions WHERE state IN ('ready', 'failed') ORDER BY id DESC LIMIT 1",
                [],
                |r| Ok((r.get::<_, u32>(0)?, r.get::<_, String>(1)?)),
            )
            .optional()
            .map_err(Error::db("finding the newest version"))?;
        let next: u32 = self
            .conn
            .query_row("SELECT COALESCE(MAX(id), 0) + 1 FROM index_versions", [], |r| r.get(0))
            .map_err(Error::db("numbering the new version"))?;
        let mut build = Build { version: next, created: false };
        let active = self.active_documents()?;

        let mut report = IngestReport {
            docs_new: 0,
            docs_changed: 0,
            docs_unchanged: 0,
            docs_deleted: 0,
            chunks_embedded: 0,
            chunks_reused: 0,
            chunks_total: 0,
            index_version: next,
            promoted: false,
            recall: None,
            skipped: Vec::new(),
        };
        let mut seen: HashSet<String> = HashSet::new();
        for item in items {
            let doc = match item {
                SourceItem::Document(doc) => doc,
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
            let mut gone: Vec<&String> = active.keys().filter(|id| !seen.contains(*id)).collect();
            gone.sort();
            for id in gone {
                self.close_document(&mut build, id, embedder)?;
                report.docs_deleted += 1;
            }
        }
        self.finish(build, base, embedder, options, report)
    }

    /// Marks documents deleted in a new version (promoted unless `options.promote` is false).
    pub fn delete(
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
        let base: Option<(u32, String)> = self
            .conn
            .query_row(
                "SELECT id, embedder FROM index_versions WHERE state IN ('ready', 'failed') ORDER BY id DESC LIMIT 1",
                [],
                |r| Ok((r.get::<_, u32>(0)?, r.get::<_, String>(1)?)),
            )
            .optional()
            .map_err(Error::db("finding the newest version"))?;
        let next: u32 = self
            .conn
            .query_row("SELECT COALESCE(MAX(id), 0) + 1 FROM index_versions", [], |r| r.get(0))
            .map_err(Error::db("numbering the new version"))?;
        let mut build = Build { version: next, created: false };
        let mut report = IngestReport {
            docs_new: 0,
            docs_changed: 0,
            docs_unchanged: 0,
            docs_deleted: 0,
            chunks_embedded: 0,
            chunks_reused: 0,
            chunks_total: 0,
            index_version: next,
            promoted: false,
            recall: None,
            skipped: Vec::new(),
        };
        for id in ids {
            self.close_document(&mut build, id.as_str(), embedder)?;
            report.docs_deleted += 1;
        }
        self.finish(build, base, embedder, options, report)
    }

    fn active_documents(&self) -> Result<HashMap<String, ActiveDoc>, Error> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, version, content_hash FROM documents WHERE valid_to IS NULL AND status = 'active'")
            .map_err(Error::db("reading active documents"))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, ActiveDoc { version: r.get(1)?, content_hash: r.get(2)? }))
            })
            .map_err(Error::db("reading active documents"))?;
        rows.collect::<Result<_, _>>().map_err(Error::db("reading active documents"))
    }

    fn ensure_version_row(
        tx: &rusqlite::Transaction<'_>,
        build: &mut Build,
        embedder: &dyn Embedder,
    ) -> Result<(), Error> {
        if build.created {
            return Ok(());
        }
        tx.execute(
            "INSERT INTO index_versions (id, state, embedder, dim, created_at) VALUES (?1, 'building', ?2, ?3, ?4)",
            params![build.version, embedder.id(), embedder.dim() as i64, now()],
        )
        .map_err(Error::db("creating the new version"))?;
        build.created = true;
        Ok(())
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
        let mut missing: Vec<usize> = Vec::new();
        {
            let mut stmt = self
                .conn
                .prepare_cached("SELECT 1 FROM embeddings WHERE hash = ?1 AND embedder = ?2")
                .map_err(Error::db("looking up stored vectors"))?;
            let mut asked = HashSet::new();
            for (i, h) in hexes.iter().enumerate() {
                if !asked.insert(h.as_str()) {
                    continue;
                }
                let exists =
                    stmt.exists(params![h, embedder.id()]).map_err(Error::db("looking up stored vectors"))?;
                if !exists {
                    missing.push(i);
                }
            }
        }
        report.chunks_embedded += missing.len() as u64;
        report.chunks_reused += (chunks.len() - missing.len()) as u64;
        if !missing.is_empty() {
            let texts: Vec<&str> = missing.iter().map(|&i| chunks[i].text.as_str()).collect();
            let vectors = registry::embed_checked(embedder, &texts)?;
            let tx = self.conn.transaction().map_err(Error::db("starting to store vectors"))?;
            for (&i, v) in missing.iter().zip(&vectors) {
                registry::insert_embedding(&tx, &hexes[i], embedder, v)?;
            }
            tx.commit().map_err(Error::db("committing vectors"))?;
            failpoint::hit("vectors-stored");
        }

        let tx = self.conn.transaction().map_err(Error::db("starting a document write"))?;
        Self::ensure_version_row(&tx, build, embedder)?;
        let v = build.version;
        let doc_version = previous.map_or(1, |p| p.version + 1);
        if let Some(p) = previous {
            tx.execute(
                "UPDATE documents SET valid_to = ?1, status = 'superseded' WHERE id = ?2 AND version = ?3",
                params![v, doc.id.as_str(), p.version],
            )
            .map_err(Error::db("superseding a document"))?;
            tx.execute(
                "UPDATE chunks SET valid_to = ?1 WHERE document = ?2 AND doc_version = ?3",
                params![v, doc.id.as_str(), p.version],
            )
            .map_err(Error::db("closing a document's chunks"))?;
        }
        // A document deleted earlier and now back: its newest row number decides the next one.
        let max_version: i64 = tx
            .query_row(
                "SELECT COALESCE(MAX(version), 0) FROM documents WHERE id = ?1",
                [doc.id.as_str()],
                |r| r.get(0),
            )
            .map_err(Error::db("numbering a document version"))?;
        let doc_version = doc_version.max(max_version + 1);
        tx.execute(
            "INSERT INTO documents (id, version, source, content_hash, status, indexed_at, valid_from)
             VALUES (?1, ?2, ?3, ?4, 'active', ?5, ?6)",
            params![doc.id.as_str(), doc_version, doc.source, hash, now(), v],
        )
        .map_err(Error::db("recording a document"))?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO chunks (hash, document, doc_version, ordinal, heading_path, text, valid_from)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .map_err(Error::db("recording chunks"))?;
            let sep = HEADING_SEP.to_string();
            for (c, h) in chunks.iter().zip(&hexes) {
                stmt.execute(params![
                    h,
                    doc.id.as_str(),
                    doc_version,
                    c.ordinal,
                    c.heading_path.join(&sep),
                    c.text,
                    v
                ])
                .map_err(Error::db("recording chunks"))?;
            }
        }
        failpoint::hit("document-before-commit");
        tx.commit().map_err(Error::db("committing a document"))?;
        failpoint::hit("document-committed");
        Ok(())
    }

    fn close_document(&mut self, build: &mut Build, id: &str, embedder: &dyn Embedder) -> Result<(), Error> {
        let tx = self.conn.transaction().map_err(Error::db("starting a deletion"))?;
        Self::ensure_version_row(&tx, build, embedder)?;
        let v = build.version;
        tx.execute(
            "UPDATE documents SET valid_to = ?1, status = 'deleted' WHERE id = ?2 AND valid_to IS NULL",
            params![v, id],
        )
        .map_err(Error::db("deleting a document"))?;
        tx.execute(
            "UPDATE chunks SET valid_to = ?1 WHERE document = ?2 AND valid_to IS NULL",
            params![v, id],
        )
        .map_err(Error::db("closing a deleted document's chunks"))?;
        failpoint::hit("delete-before-commit");
        tx.commit().map_err(Error::db("committing a deletion"))?;
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
        let same_embedder = base.as_ref().is_some_and(|(_, e)| e == embedder.id());
        if !build.created && same_embedder {
            // Nothing changed: the newest version already is the result.
            let (v, _) = base.expect("same_embedder implies a base version");
            report.index_version = v;
            report.chunks_total = self.chunk_count(v)?;
            if options.promote
                && self.current_version()? != Some(v)
                && registry::version_state(&self.conn, v)? == Some(crate::VersionState::Ready)
            {
                self.promote(v)?;
            }
            report.promoted = self.current_version()? == Some(v);
            return Ok(report);
        }
        if !build.created {
            let tx = self.conn.transaction().map_err(Error::db("starting a version"))?;
            Self::ensure_version_row(&tx, &mut build, embedder)?;
            tx.commit().map_err(Error::db("committing a version"))?;
        }
        let v = build.version;

        // Chunks of unchanged documents need vectors too when the embedder differs from the last version's.
        let missing: Vec<(String, String)> = {
            let mut stmt = self
                .conn
                .prepare(
                    "SELECT DISTINCT c.hash, c.text FROM chunks c WHERE c.valid_to IS NULL AND NOT EXISTS
                        (SELECT 1 FROM embeddings e WHERE e.hash = c.hash AND e.embedder = ?1)",
                )
                .map_err(Error::db("finding chunks without vectors"))?;
            let rows = stmt
                .query_map([embedder.id()], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(Error::db("finding chunks without vectors"))?;
            rows.collect::<Result<_, _>>().map_err(Error::db("finding chunks without vectors"))?
        };
        for batch in missing.chunks(256) {
            let texts: Vec<&str> = batch.iter().map(|(_, t)| t.as_str()).collect();
            let vectors = registry::embed_checked(embedder, &texts)?;
            let tx = self.conn.transaction().map_err(Error::db("starting to store vectors"))?;
            for ((h, _), vec) in batch.iter().zip(&vectors) {
                registry::insert_embedding(&tx, h, embedder, vec)?;
            }
            tx.commit().map_err(Error::db("committing vectors"))?;
            report.chunks_embedded += batch.len() as u64;
            failpoint::hit("vectors-stored");
        }
        report.chunks_total = self.chunk_count(v)?;

        // Validate against the snapshot readers would get, before anyone can see it.
        let mut passed = true;
        if let Some(val) = &options.validation {
            let snapshot = Snapshot::load(&self.conn, v)?;
            let recall = snapshot.recall_at(
                embedder,
                &val.queries,
                &SearchOptions { k: val.k, mode: SearchMode::Hybrid, doc_prefix: None },
            )?;
            report.recall = Some(recall);
            passed = recall >= val.recall_floor;
        }
        failpoint::hit("validated");

        let tx = self.conn.transaction().map_err(Error::db("starting to publish a version"))?;
        tx.execute(
            "UPDATE index_versions SET state = ?1, finished_at = ?2, recall = ?3 WHERE id = ?4",
            params![if passed { "ready" } else { "failed" }, now(), report.recall, v],
        )
        .map_err(Error::db("marking the version complete"))?;
        if passed && options.promote {
            registry::swap_alias(&tx, v)?;
        }
        failpoint::hit("publish-before-commit");
        tx.commit().map_err(Error::db("publishing the version"))?;
        failpoint::hit("published");
        report.promoted = passed && options.promote;
        report.index_version = v;
        self.retain(options.keep_versions)?;
        Ok(report)
    }

    fn chunk_count(&self, v: u32) -> Result<u64, Error> {
        self.conn
            .query_row(
                "SELECT COUNT(*) FROM chunks WHERE valid_from <= ?1 AND (valid_to IS NULL OR valid_to > ?1)",
                [v],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| u64::try_from(n).unwrap_or(0))
            .map_err(Error::db("counting chunks"))
    }
}
