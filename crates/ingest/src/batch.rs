//! Batched writes of an ingest run: the new and changed documents of a batch are chunked on all cores, the
//! vectors their chunks lack are embedded in parallel, and the vectors and registry rows of the whole batch
//! are written in one transaction (one commit, one sync), into rows only the version being built can see.

use std::{collections::HashSet, num::NonZero};

use crate::{
    chunk::{Chunk, DocumentKind, chunk_document},
    db::{Tx, vals},
    embed::Embedder,
    error::Error,
    failpoint,
    ingest::{Build, IngestOptions, IngestReport, SourceDocument},
    registry::{self, HEADING_SEP, Registry, now},
};

/// Texts per call of [`Embedder::embed`].
const EMBED_BATCH: usize = 256;

/// A new or changed document waiting in the current batch.
pub(crate) struct PendingDoc {
    pub(crate) doc: SourceDocument,
    /// SHA-256 of its text, hex.
    pub(crate) content_hash: String,
    /// The document's row version that is active now, when it is a changed document.
    pub(crate) previous: Option<i64>,
}

/// The worker threads a batch may use: the cores the process may run on.
fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, NonZero::get)
}

/// Runs `f` over consecutive parts of `items` on up to [`threads`] scoped threads (none spawned when one part
/// suffices: fewer than `min_part` items per thread) and concatenates the results in order.
fn par_map<T: Sync, U: Send>(
    items: &[T],
    min_part: usize,
    f: impl Fn(&[T]) -> Result<Vec<U>, Error> + Sync,
) -> Result<Vec<U>, Error> {
    let parts = threads().min(items.len() / min_part.max(1)).max(1);
    if parts == 1 {
        return f(items);
    }
    let per_part = items.len().div_ceil(parts);
    std::thread::scope(|s| {
        let f = &f;
        let handles: Vec<_> = items.chunks(per_part).map(|part| s.spawn(move || f(part))).collect();
        let mut out = Vec::with_capacity(items.len());
        for h in handles {
            match h.join() {
                Ok(part) => out.extend(part?),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        Ok(out)
    })
}

/// Embeds `texts` in calls of at most [`EMBED_BATCH`] texts, spread over all cores unless the embedder says
/// it uses them itself; checks every vector's shape.
pub(crate) fn embed_all(embedder: &dyn Embedder, texts: &[&str]) -> Result<Vec<Vec<f32>>, Error> {
    let embed_part = |part: &[&str]| -> Result<Vec<Vec<f32>>, Error> {
        let mut out = Vec::with_capacity(part.len());
        for calls in part.chunks(EMBED_BATCH) {
            out.extend(registry::embed_checked(embedder, calls)?);
        }
        Ok(out)
    };
    if embedder.parallel_batches() { par_map(texts, EMBED_BATCH / 4, embed_part) } else { embed_part(texts) }
}

/// The chunks of `doc` and their ids as hex.
fn chunk_with_ids(doc: &SourceDocument, options: &IngestOptions) -> (Vec<Chunk>, Vec<String>) {
    let chunks = chunk_document(DocumentKind::from_path(doc.id.as_str()), &doc.text, &options.chunking);
    let hexes = chunks.iter().map(|c| c.id.to_string()).collect();
    (chunks, hexes)
}

impl Registry {
    /// The `(hash, text)` pairs of `pending` that have no stored vector for `embedder`, each hash once.
    fn missing_vectors<'t>(
        &mut self,
        embedder: &dyn Embedder,
        pending: impl IntoIterator<Item = (&'t str, &'t str)>,
    ) -> Result<Vec<(&'t str, &'t str)>, Error> {
        let mut missing = Vec::new();
        let mut tx = Tx::read(self.db.as_mut())?;
        let mut asked = HashSet::new();
        for (hash, text) in pending {
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
        Ok(missing)
    }

    /// Embeds and stores, in one transaction, the vectors `pending` lacks for `embedder`; returns how many
    /// were embedded. Vectors are content-addressed, so storing them changes no version.
    pub(crate) fn embed_missing(
        &mut self,
        embedder: &dyn Embedder,
        pending: &[(&str, &str)],
    ) -> Result<u64, Error> {
        let missing = self.missing_vectors(embedder, pending.iter().copied())?;
        if missing.is_empty() {
            return Ok(0);
        }
        let texts: Vec<&str> = missing.iter().map(|(_, t)| *t).collect();
        let vectors = embed_all(embedder, &texts)?;
        let mut tx = Tx::write(self.db.as_mut())?;
        for ((h, _), v) in missing.iter().zip(&vectors) {
            registry::insert_embedding(&mut tx, h, embedder, v)?;
        }
        tx.commit()?;
        failpoint::hit("vectors-stored");
        Ok(missing.len() as u64)
    }

    /// Writes a batch of new and changed documents of version `build`: chunks them on all cores, embeds the
    /// chunk texts that have no vector for `embedder` yet, then in one transaction stores those vectors,
    /// closes the documents' old rows (`valid_to` = the new version) and inserts the new ones. A crash before
    /// the commit leaves nothing of the batch; after it, only rows the unfinished version can see.
    pub(crate) fn write_batch(
        &mut self,
        build: &mut Build,
        batch: &[PendingDoc],
        embedder: &dyn Embedder,
        options: &IngestOptions,
        report: &mut IngestReport,
    ) -> Result<(), Error> {
        if batch.is_empty() {
            return Ok(());
        }
        let _span = tracing::debug_span!("ingest.batch", documents = batch.len()).entered();
        let chunked =
            par_map(batch, 1, |part| Ok(part.iter().map(|p| chunk_with_ids(&p.doc, options)).collect()))?;
        let total: usize = chunked.iter().map(|(c, _)| c.len()).sum();
        let missing = self.missing_vectors(
            embedder,
            chunked.iter().flat_map(|(chunks, hexes)| {
                hexes.iter().zip(chunks).map(|(h, c)| (h.as_str(), c.text.as_str()))
            }),
        )?;
        let texts: Vec<&str> = missing.iter().map(|(_, t)| *t).collect();
        let vectors = embed_all(embedder, &texts)?;
        report.chunks_embedded += missing.len() as u64;
        report.chunks_reused += (total - missing.len()) as u64;

        let mut tx = Tx::write(self.db.as_mut())?;
        Self::ensure_version_row(&mut tx, build, embedder)?;
        for ((h, _), v) in missing.iter().zip(&vectors) {
            registry::insert_embedding(&mut tx, h, embedder, v)?;
        }
        for (p, (chunks, hexes)) in batch.iter().zip(&chunked) {
            write_document_rows(&mut tx, build.version, p, chunks, hexes)?;
        }
        failpoint::hit("document-before-commit");
        tx.commit()?;
        failpoint::hit("document-committed");
        Ok(())
    }

    /// Marks the documents `ids` deleted in version `build`, in one transaction.
    pub(crate) fn close_documents(
        &mut self,
        build: &mut Build,
        ids: &[&str],
        embedder: &dyn Embedder,
    ) -> Result<(), Error> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut tx = Tx::write(self.db.as_mut())?;
        Self::ensure_version_row(&mut tx, build, embedder)?;
        let v = build.version;
        for id in ids {
            tx.exec(
                "deleting a document",
                "UPDATE documents SET valid_to = ?1, status = 'deleted' WHERE id = ?2 AND valid_to IS NULL",
                vals![v, *id],
            )?;
            tx.exec(
                "closing a deleted document's chunks",
                "UPDATE chunks SET valid_to = ?1 WHERE document = ?2 AND valid_to IS NULL",
                vals![v, *id],
            )?;
        }
        failpoint::hit("delete-before-commit");
        tx.commit()?;
        failpoint::hit("delete-committed");
        Ok(())
    }
}

/// Closes the active row of a changed document and inserts its new row and chunks, seen from version `v`.
fn write_document_rows(
    tx: &mut Tx<'_>,
    v: u32,
    p: &PendingDoc,
    chunks: &[Chunk],
    hexes: &[String],
) -> Result<(), Error> {
    let id = p.doc.id.as_str();
    if let Some(previous) = p.previous {
        tx.exec(
            "superseding a document",
            "UPDATE documents SET valid_to = ?1, status = 'superseded' WHERE id = ?2 AND version = ?3",
            vals![v, id, previous],
        )?;
        tx.exec(
            "closing a document's chunks",
            "UPDATE chunks SET valid_to = ?1 WHERE document = ?2 AND doc_version = ?3",
            vals![v, id, previous],
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
    let doc_version = p.previous.map_or(1, |pv| pv + 1).max(max_version + 1);
    tx.exec(
        "recording a document",
        "INSERT INTO documents (id, version, source, content_hash, status, indexed_at, valid_from)
         VALUES (?1, ?2, ?3, ?4, 'active', ?5, ?6)",
        vals![id, doc_version, &p.doc.source, &p.content_hash, now(), v],
    )?;
    let sep = HEADING_SEP.to_string();
    for (c, h) in chunks.iter().zip(hexes) {
        tx.exec(
            "recording chunks",
            "INSERT INTO chunks (hash, document, doc_version, ordinal, heading_path, text, valid_from)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            vals![h, id, doc_version, c.ordinal, c.heading_path.join(&sep), &c.text, v],
        )?;
    }
    Ok(())
}
