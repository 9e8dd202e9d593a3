//! The ingest pipeline: scan a source, chunk changed documents, embed only new chunk hashes, write the
//! registry rows of a new index version, validate it and swap the alias.

use std::{
    collections::{HashMap, HashSet},
    path::Path,
};

use agentry_types::{DocumentId, Timestamp};
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::{
    batch::PendingDoc,
    chunk::ChunkConfig,
    db::{Tx, vals},
    embed::Embedder,
    error::Error,
    failpoint,
    registry::{self, Registry, VISIBLE, now},
    search::{KnownItem, SearchMode, SearchOptions, Snapshot},
    source::scan_dir,
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
    /// The size of a write batch, in bytes of document text: new and changed documents are chunked, embedded
    /// and written in batches of about this size, each in one transaction (one commit and one sync); a
    /// document larger than this is a batch of its own. Smaller batches keep less in memory and commit more
    /// often; whatever the size, a crash leaves `current` on a complete version.
    pub batch_bytes: usize,
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
            batch_bytes: 4 * 1024 * 1024,
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

/// The registry's view of one active document.
pub(crate) struct ActiveDoc {
    version: i64,
    content_hash: String,
}

/// State of a build in progress.
pub(crate) struct Build {
    pub(crate) version: u32,
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
    /// version, validated and (unless told otherwise) promoted. Documents are written in batches of about
    /// [`IngestOptions::batch_bytes`], each batch chunked and embedded on all cores and committed in one
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
        let mut batch: Vec<PendingDoc> = Vec::new();
        let mut batch_bytes = 0;
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
            batch_bytes += doc.text.len();
            batch.push(PendingDoc { doc, content_hash: hash, previous: previous.map(|p| p.version) });
            if batch_bytes >= options.batch_bytes {
                self.write_batch(&mut build, &batch, embedder, options, &mut report)?;
                batch.clear();
                batch_bytes = 0;
            }
        }
        self.write_batch(&mut build, &batch, embedder, options, &mut report)?;

        if options.sync == SyncMode::Full {
            // Documents under a folder that could not be listed may well still exist: they stay.
            let mut gone: Vec<&String> = active
                .keys()
                .filter(|id| {
                    !seen.contains(*id) && !unlisted_folders.iter().any(|p| id.starts_with(p.as_str()))
                })
                .collect();
            gone.sort();
            let gone: Vec<&str> = gone.into_iter().map(String::as_str).collect();
            self.close_documents(&mut build, &gone, embedder)?;
            report.docs_deleted += gone.len() as u64;
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
        let ids: Vec<&str> = ids.iter().map(DocumentId::as_str).collect();
        self.close_documents(&mut build, &ids, embedder)?;
        report.docs_deleted += ids.len() as u64;
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

    pub(crate) fn ensure_version_row(
        tx: &mut Tx<'_>,
        build: &mut Build,
        embedder: &dyn Embedder,
    ) -> Result<(), Error> {
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
