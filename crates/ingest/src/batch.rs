//! Batched writes of an ingest run: the new and changed documents of a batch are chunked on all cores, the
//! vectors their chunks lack are embedded in parallel, and the vectors and registry rows of the whole batch
//! are written in one transaction (one commit, one sync), into rows only the version being built can see.

use std::{collections::HashSet, num::NonZero};

use crate::{
    chunk::{Chunk, DocumentKind, chunk_document},
    db::{Tx, Val, vals},
    embed::Embedder,
    error::Error,
    failpoint,
    ingest::{Build, IngestOptions, IngestReport, SourceDocument},
    registry::{self, HEADING_SEP, Registry, now},
};

/// Texts per call of [`Embedder::embed`].
const EMBED_BATCH: usize = 256;

/// Rows per multi-row statement: few round trips to PostgreSQL, far below either backend's parameter limit.
const ROWS_PER_STATEMENT: usize = 128;

/// `(?{first}, ?{first + 1}, ...)` for `width` parameters, then `, ` and the next row, `rows` times.
fn placeholders(rows: usize, width: usize, first: usize) -> String {
    let row = |r: usize| {
        let params: Vec<String> = (0..width).map(|c| format!("?{}", first + r * width + c)).collect();
        format!("({})", params.join(", "))
    };
    (0..rows).map(row).collect::<Vec<_>>().join(", ")
}

/// `INSERT INTO {into} VALUES (...), (...) {tail}` for `rows` (each `width` values), [`ROWS_PER_STATEMENT`]
/// rows a statement.
fn insert_many(
    tx: &mut Tx<'_>,
    context: &'static str,
    into: &str,
    tail: &str,
    width: usize,
    rows: &[Val],
) -> Result<(), Error> {
    for part in rows.chunks(ROWS_PER_STATEMENT * width) {
        let sql = format!("INSERT INTO {into} VALUES {}{tail}", placeholders(part.len() / width, width, 1));
        tx.exec(context, &sql, part)?;
    }
    Ok(())
}

/// Stores `vectors[i]` for `hashes[i]` and `embedder`, replacing a stored one.
fn insert_vectors(
    tx: &mut Tx<'_>,
    embedder: &dyn Embedder,
    hashes: &[&str],
    vectors: &[Vec<f32>],
) -> Result<(), Error> {
    let at = now();
    let mut rows = Vec::with_capacity(hashes.len() * 5);
    for (h, v) in hashes.iter().zip(vectors) {
        rows.extend([
            Val::from(*h),
            Val::from(embedder.id()),
            Val::from(embedder.dim() as i64),
            Val::from(registry::vector_to_blob(v)),
            Val::from(at),
        ]);
    }
    insert_many(
        tx,
        "storing vectors",
        "embeddings (hash, embedder, dim, vector, created_at)",
        " ON CONFLICT (hash, embedder) DO UPDATE SET
            dim = excluded.dim, vector = excluded.vector, created_at = excluded.created_at",
        5,
        &rows,
    )
}

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
        let mut asked = HashSet::new();
        let unique: Vec<(&'t str, &'t str)> = pending.into_iter().filter(|(h, _)| asked.insert(*h)).collect();
        let mut missing = Vec::new();
        let mut tx = Tx::read(self.db.as_mut())?;
        for part in unique.chunks(ROWS_PER_STATEMENT) {
            let mut params = vec![Val::from(embedder.id())];
            params.extend(part.iter().map(|(h, _)| Val::from(*h)));
            let sql = format!(
                "SELECT hash FROM embeddings WHERE embedder = ?1 AND hash IN {}",
                placeholders(1, part.len(), 2)
            );
            let stored: HashSet<String> = tx
                .query("looking up stored vectors", &sql, &params)?
                .iter()
                .map(|r| r.text(0))
                .collect::<Result<_, _>>()?;
            missing.extend(part.iter().filter(|(h, _)| !stored.contains(*h)));
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
        let hashes: Vec<&str> = missing.iter().map(|(h, _)| *h).collect();
        let mut tx = Tx::write(self.db.as_mut())?;
        insert_vectors(&mut tx, embedder, &hashes, &vectors)?;
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
        let hashes: Vec<&str> = missing.iter().map(|(h, _)| *h).collect();
        insert_vectors(&mut tx, embedder, &hashes, &vectors)?;
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
    let mut rows = Vec::with_capacity(chunks.len() * 7);
    for (c, h) in chunks.iter().zip(hexes) {
        rows.extend([
            Val::from(h),
            Val::from(id),
            Val::from(doc_version),
            Val::from(c.ordinal),
            Val::from(c.heading_path.join(&sep)),
            Val::from(&c.text),
            Val::from(v),
        ]);
    }
    insert_many(
        tx,
        "recording chunks",
        "chunks (hash, document, doc_version, ordinal, heading_path, text, valid_from)",
        "",
        7,
        &rows,
    )
}
