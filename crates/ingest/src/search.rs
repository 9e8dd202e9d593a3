//! Retrieval over one index version: exact cosine scan, BM25, and their fusion by reciprocal rank.

use std::collections::HashMap;

use agentry_types::{ChunkId, DocumentId, Timestamp};
use serde::Serialize;

use crate::{
    chunk::Chunk,
    db::{Tx, vals},
    embed::{Embedder, dot},
    error::Error,
    registry::{self, CURRENT_ALIAS, HEADING_SEP, Registry, VersionState, blob_to_vector},
};

/// How hits are ranked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SearchMode {
    /// Cosine similarity of embeddings, exact scan.
    Vector,
    /// BM25 over the chunk words.
    Lexical,
    /// Both lists fused by reciprocal rank (k = 60).
    #[default]
    Hybrid,
}

/// Options of a search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchOptions {
    /// How many hits to return.
    pub k: usize,
    /// Ranking.
    pub mode: SearchMode,
    /// Only documents whose id starts with this.
    pub doc_prefix: Option<String>,
}

impl Default for SearchOptions {
    fn default() -> Self {
        Self { k: 10, mode: SearchMode::Hybrid, doc_prefix: None }
    }
}

/// One retrieved chunk.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    /// The document.
    pub doc_id: DocumentId,
    /// The chunk's content id.
    pub chunk_id: ChunkId,
    /// Cosine similarity, BM25 score, or fused reciprocal-rank score, by mode.
    pub score: f32,
    /// Where the document came from.
    pub source: String,
    /// Enclosing headings, outermost first.
    pub heading_path: Vec<String>,
    /// The version that answered.
    pub index_version: u32,
    /// The chunk text.
    pub text: String,
}

/// A known-item query: `query` should retrieve a chunk of `doc_id` under `heading_path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownItem {
    /// The query text.
    pub query: String,
    /// The document that answers it.
    pub doc_id: String,
    /// The section that answers it (empty: any chunk of the document).
    pub heading_path: Vec<String>,
    /// A chunk with exactly this text does not count (the heading line the query was made from).
    pub exclude_text: Option<String>,
}

#[derive(Debug, Clone)]
struct Entry {
    doc_id: DocumentId,
    chunk_id: ChunkId,
    source: String,
    heading_path: Vec<String>,
    text: String,
}

/// One index version loaded for querying: chunk metadata, a row-major matrix of unit vectors, and a BM25
/// index. Loaded in a single read transaction, so it is one consistent version even while an ingest writes.
#[derive(Debug)]
pub struct Snapshot {
    version: u32,
    embedder: String,
    dim: usize,
    entries: Vec<Entry>,
    vectors: Vec<f32>,
    bm25: Bm25,
    #[cfg(feature = "hnsw")]
    hnsw: Option<crate::hnsw::Hnsw>,
}

impl Registry {
    /// Loads `version`, which must be ready, whatever its schedule; with `None`, the version live now under
    /// `current` ([`Registry::snapshot_at`] now).
    pub fn snapshot(&mut self, version: Option<u32>) -> Result<Snapshot, Error> {
        let Some(v) = version else { return self.snapshot_at(Timestamp::now()) };
        load_ready(Tx::read(self.db.as_mut())?, v)
    }

    /// Loads the version live at clock time `at`: the version `current` points at, unless it was staged by
    /// time ([`IngestOptions::live_from`](crate::IngestOptions::live_from)) and `at` is earlier; then the
    /// version `current` pointed at when it was promoted, resolved the same way. The alias, the schedule and
    /// the chunks are read in one read transaction, so a query sees the whole old or the whole new version,
    /// never half of an update. [`Error::NotLiveYet`] when nothing on the way is live at `at`.
    pub fn snapshot_at(&mut self, at: Timestamp) -> Result<Snapshot, Error> {
        let mut tx = Tx::read(self.db.as_mut())?;
        let current = registry::alias(&mut tx, CURRENT_ALIAS)?.ok_or(Error::NoCurrentVersion)?.0;
        let chain = registry::live_chain(&mut tx, current, at)?;
        let Some(v) = chain.live else {
            return Err(Error::NotLiveYet { current, live_from: chain.pending.unwrap_or(at), at });
        };
        load_ready(tx, v)
    }
}

/// Loads version `v`, which must be ready, and ends the read transaction.
fn load_ready(mut tx: Tx<'_>, v: u32) -> Result<Snapshot, Error> {
    let state = registry::version_state(&mut tx, v)?.ok_or(Error::NoSuchVersion(v))?;
    if state != VersionState::Ready {
        return Err(Error::VersionNotReady { version: v, state: state.as_str().to_owned() });
    }
    let snapshot = Snapshot::load(&mut tx, v)?;
    tx.commit()?;
    Ok(snapshot)
}

impl Snapshot {
    /// Reads version `v` (whatever its state) inside the caller's transaction.
    pub(crate) fn load(tx: &mut Tx<'_>, v: u32) -> Result<Self, Error> {
        let (embedder, dim) = registry::version_embedder(tx, v)?.ok_or(Error::NoSuchVersion(v))?;
        let rows = tx.query(
            "loading a version",
            "SELECT c.document, c.hash, d.source, c.heading_path, c.text, e.vector, c.ordinal
             FROM chunks c
             JOIN documents d ON d.id = c.document AND d.version = c.doc_version
             LEFT JOIN embeddings e ON e.hash = c.hash AND e.embedder = ?2
             WHERE c.valid_from <= ?1 AND (c.valid_to IS NULL OR c.valid_to > ?1)",
            vals![v, &embedder],
        )?;
        // Sorted here rather than in SQL, so every backend gives the same order whatever its collation.
        let mut keyed: Vec<(String, i64, usize)> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| Ok((r.text(0)?, r.int(6)?, i)))
            .collect::<Result<_, Error>>()?;
        keyed.sort();
        let mut entries = Vec::with_capacity(rows.len());
        let mut vectors = Vec::with_capacity(rows.len() * dim);
        for (doc, _, i) in keyed {
            let r = &rows[i];
            let hash = r.text(1)?;
            let path = r.text(3)?;
            let blob = r.opt_blob(5)?.ok_or_else(|| Error::Corrupt {
                what: "index version",
                detail: format!("chunk {hash} of {doc} has no vector for {embedder} (run reconcile)"),
            })?;
            blob_to_vector(blob, dim, &mut vectors)?;
            entries.push(Entry {
                doc_id: DocumentId::new(doc.clone())
                    .map_err(|e| Error::Corrupt { what: "document id", detail: e.to_string() })?,
                chunk_id: hash
                    .parse()
                    .map_err(|_| Error::Corrupt { what: "chunk hash", detail: hash.clone() })?,
                source: r.text(2)?,
                heading_path: if path.is_empty() {
                    Vec::new()
                } else {
                    path.split(HEADING_SEP).map(str::to_owned).collect()
                },
                text: r.text(4)?,
            });
        }
        let bm25 = Bm25::build(entries.iter().map(|e| e.text.as_str()));
        Ok(Self {
            version: v,
            embedder,
            dim,
            entries,
            vectors,
            bm25,
            #[cfg(feature = "hnsw")]
            hnsw: None,
        })
    }

    /// Builds a snapshot in memory from chunked documents, without a registry (benchmarks, experiments).
    pub fn from_chunks(
        version: u32,
        embedder: &dyn Embedder,
        docs: &[(DocumentId, Vec<Chunk>)],
    ) -> Result<Self, Error> {
        let mut entries = Vec::new();
        let mut vectors = Vec::new();
        for (id, chunks) in docs {
            let texts: Vec<&str> = chunks.iter().map(|c| c.text.as_str()).collect();
            for v in registry::embed_checked(embedder, &texts)? {
                vectors.extend(v);
            }
            entries.extend(chunks.iter().map(|c| Entry {
                doc_id: id.clone(),
                chunk_id: c.id,
                source: id.as_str().to_owned(),
                heading_path: c.heading_path.clone(),
                text: c.text.clone(),
            }));
        }
        let bm25 = Bm25::build(entries.iter().map(|e| e.text.as_str()));
        Ok(Self {
            version,
            embedder: embedder.id().to_owned(),
            dim: embedder.dim(),
            entries,
            vectors,
            bm25,
            #[cfg(feature = "hnsw")]
            hnsw: None,
        })
    }

    /// The version number.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The embedder id the version was built with.
    pub fn embedder_id(&self) -> &str {
        &self.embedder
    }

    /// Number of chunks.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the version holds no chunk.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The `k` best chunks for `query`. The embedder must be the one the version was built with.
    pub fn search(
        &self,
        embedder: &dyn Embedder,
        query: &str,
        options: &SearchOptions,
    ) -> Result<Vec<Hit>, Error> {
        let span =
            tracing::info_span!("rag_request", "retrieval.index_version" = self.version, k = options.k);
        let _guard = span.enter();
        if embedder.id() != self.embedder {
            return Err(Error::EmbedderMismatch {
                version: self.version,
                built_with: self.embedder.clone(),
                asked: embedder.id().to_owned(),
            });
        }
        let allowed = |i: usize| {
            options.doc_prefix.as_deref().is_none_or(|p| self.entries[i].doc_id.as_str().starts_with(p))
        };
        let depth = options.k.max(50).saturating_mul(4);
        let vector = if options.mode == SearchMode::Lexical {
            Vec::new()
        } else {
            let q = {
                let _s = tracing::info_span!("embedding.query", embedder = embedder.id()).entered();
                registry::embed_checked(embedder, &[query])?.remove(0)
            };
            let _s = tracing::info_span!("retrieval.vector_search", chunks = self.entries.len()).entered();
            let want = if options.mode == SearchMode::Vector { options.k } else { depth };
            self.vector_candidates(&q, want, options.doc_prefix.is_some(), &allowed)?
        };
        let lexical = if options.mode == SearchMode::Vector {
            Vec::new()
        } else {
            let _s = tracing::info_span!("retrieval.lexical_search").entered();
            let scores = self.bm25.scores(query).into_iter().filter(|(i, _)| allowed(*i));
            top_k(scores, if options.mode == SearchMode::Lexical { options.k } else { depth })
        };
        let ranked = match options.mode {
            SearchMode::Vector => vector,
            SearchMode::Lexical => lexical,
            SearchMode::Hybrid => {
                let _s = tracing::info_span!("retrieval.rerank", method = "rrf").entered();
                let mut fused: HashMap<usize, f32> = HashMap::new();
                for list in [&vector, &lexical] {
                    for (rank, (i, _)) in list.iter().enumerate() {
                        *fused.entry(*i).or_default() += 1.0 / (60.0 + rank as f32 + 1.0);
                    }
                }
                top_k(fused.into_iter(), options.k)
            }
        };
        let hits: Vec<Hit> = ranked
            .into_iter()
            .map(|(i, score)| {
                let e = &self.entries[i];
                Hit {
                    doc_id: e.doc_id.clone(),
                    chunk_id: e.chunk_id,
                    score,
                    source: e.source.clone(),
                    heading_path: e.heading_path.clone(),
                    index_version: self.version,
                    text: e.text.clone(),
                }
            })
            .collect();
        for h in &hits {
            tracing::info!(
                doc_id = h.doc_id.as_str(),
                chunk_id = %h.chunk_id,
                score = h.score,
                source = h.source.as_str(),
                "chunk_retrieved"
            );
        }
        Ok(hits)
    }

    /// The `want` nearest chunks to `q`: through the HNSW graph when one is built and no filter applies,
    /// otherwise by an exact scan.
    fn vector_candidates(
        &self,
        q: &[f32],
        want: usize,
        filtered: bool,
        allowed: &dyn Fn(usize) -> bool,
    ) -> Result<Vec<(usize, f32)>, Error> {
        #[cfg(feature = "hnsw")]
        if let Some(index) = &self.hnsw
            && !filtered
        {
            return index.search(q, want);
        }
        let _ = filtered;
        let scores = (0..self.entries.len())
            .filter(|&i| allowed(i))
            .map(|i| (i, dot(q, &self.vectors[i * self.dim..(i + 1) * self.dim])));
        Ok(top_k(scores, want))
    }

    /// Builds an HNSW graph (usearch, cosine) over the version's vectors; from then on unfiltered vector
    /// search walks the graph instead of scanning every chunk (approximate: see the recall in the bench).
    #[cfg(feature = "hnsw")]
    pub fn build_hnsw(&mut self) -> Result<(), Error> {
        self.hnsw = Some(crate::hnsw::Hnsw::build(&self.vectors, self.dim)?);
        Ok(())
    }

    /// Known-item queries made from the version's markdown headings: each heading's title should retrieve a
    /// chunk of its own section other than the heading line itself. Sections without body text are left out.
    pub fn heading_queries(&self) -> Vec<KnownItem> {
        let mut out = Vec::new();
        for (i, e) in self.entries.iter().enumerate() {
            let Some(title) = e.heading_path.last() else { continue };
            let first_line = e.text.lines().next().unwrap_or("");
            let is_heading = crate::chunk::heading_title(first_line).is_some_and(|t| t == *title)
                || e.text
                    .lines()
                    .nth(1)
                    .is_some_and(|l| !l.is_empty() && l.trim().chars().all(|c| c == '=' || c == '-'));
            if !is_heading || title.is_empty() {
                continue;
            }
            let has_body = self
                .entries
                .iter()
                .skip(i + 1)
                .take_while(|b| b.doc_id == e.doc_id)
                .any(|b| b.heading_path == e.heading_path && b.text != e.text);
            let body_in_same_chunk = e.text.contains("\n\n");
            if !has_body && !body_in_same_chunk {
                continue;
            }
            out.push(KnownItem {
                query: title.clone(),
                doc_id: e.doc_id.as_str().to_owned(),
                heading_path: e.heading_path.clone(),
                exclude_text: (!body_in_same_chunk).then(|| e.text.clone()),
            });
        }
        out
    }

    /// Share of `queries` with at least one relevant chunk among the first `options.k` hits.
    pub fn recall_at(
        &self,
        embedder: &dyn Embedder,
        queries: &[KnownItem],
        options: &SearchOptions,
    ) -> Result<f64, Error> {
        if queries.is_empty() {
            return Ok(1.0);
        }
        let mut found = 0usize;
        for q in queries {
            let hits = self.search(embedder, &q.query, options)?;
            if hits.iter().any(|h| {
                h.doc_id.as_str() == q.doc_id
                    && (q.heading_path.is_empty() || h.heading_path == q.heading_path)
                    && q.exclude_text.as_deref() != Some(h.text.as_str())
            }) {
                found += 1;
            }
        }
        Ok(found as f64 / queries.len() as f64)
    }
}

/// The `k` highest scores, best first; ties broken by position for determinism.
fn top_k(scores: impl Iterator<Item = (usize, f32)>, k: usize) -> Vec<(usize, f32)> {
    let mut all: Vec<(usize, f32)> = scores.collect();
    let cmp = |a: &(usize, f32), b: &(usize, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
    if all.len() > k && k > 0 {
        all.select_nth_unstable_by(k - 1, cmp);
        all.truncate(k);
    }
    all.sort_by(cmp);
    all.truncate(k);
    all
}

/// Lowercased alphanumeric words.
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase)
}

/// A small in-memory BM25 index (k1 = 1.2, b = 0.75).
#[derive(Debug, Clone, Default)]
struct Bm25 {
    postings: HashMap<String, Vec<(u32, u32)>>,
    doc_len: Vec<u32>,
    avg_len: f32,
}

impl Bm25 {
    fn build<'a>(texts: impl Iterator<Item = &'a str>) -> Self {
        let mut index = Self::default();
        let mut counts: HashMap<String, u32> = HashMap::new();
        for (i, text) in texts.enumerate() {
            counts.clear();
            let mut len = 0u32;
            for w in words(text) {
                *counts.entry(w).or_default() += 1;
                len += 1;
            }
            for (w, tf) in counts.drain() {
                index.postings.entry(w).or_default().push((i as u32, tf));
            }
            index.doc_len.push(len);
        }
        let total: u64 = index.doc_len.iter().map(|&l| u64::from(l)).sum();
        index.avg_len =
            if index.doc_len.is_empty() { 1.0 } else { (total as f32 / index.doc_len.len() as f32).max(1.0) };
        index
    }

    fn scores(&self, query: &str) -> Vec<(usize, f32)> {
        let n = self.doc_len.len() as f32;
        // Dense accumulators: a hash map per posting is the bottleneck on frequent terms.
        let mut acc = vec![0f32; self.doc_len.len()];
        let mut touched: Vec<u32> = Vec::new();
        let mut terms: Vec<String> = words(query).collect();
        terms.sort();
        terms.dedup();
        for t in terms {
            let Some(list) = self.postings.get(&t) else { continue };
            let df = list.len() as f32;
            let idf = ((n - df + 0.5) / (df + 0.5) + 1.0).ln();
            for &(doc, tf) in list {
                let tf = tf as f32;
                let len = self.doc_len[doc as usize] as f32;
                let s = idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * len / self.avg_len));
                let slot = &mut acc[doc as usize];
                if *slot == 0.0 {
                    touched.push(doc);
                }
                *slot += s;
            }
        }
        touched.into_iter().map(|d| (d as usize, acc[d as usize])).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_k_orders_and_breaks_ties_by_position() {
        let got = top_k([(3, 0.5), (1, 0.9), (2, 0.5), (0, 0.1)].into_iter(), 3);
        assert_eq!(got, vec![(1, 0.9), (2, 0.5), (3, 0.5)]);
    }

    #[test]
    fn bm25_prefers_rarer_matching_term() {
        let idx = Bm25::build(["the cat sat", "the dog sat", "the the the"].into_iter());
        let mut s = idx.scores("cat the");
        s.sort_by(|a, b| b.1.total_cmp(&a.1));
        assert_eq!(s[0].0, 0);
    }
}
